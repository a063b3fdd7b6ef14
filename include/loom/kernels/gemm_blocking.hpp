#pragma once
// The GEMM blocking, per ISA and type, in one place (BLIS naming): a KC x NC panel of B and, inside it,
// MC x KC blocks of A are packed (per thread), and the micro-kernel walks MR x NR tiles of them.
//
// MR x NR is the register tile of the ISA's micro-kernel (x86/microkernel.hpp):
//  - AVX-512: 14 rows x 2 zmm vectors (14 x 32 float, 14 x 16 double): 28 accumulators + 2 B vectors
//    + 1 broadcast of the 32 zmm registers; each B load feeds 14 FMAs.
//  - AVX2: 6 rows x 2 ymm vectors (6 x 16 float, 6 x 8 double): 12 accumulators + 2 B vectors + 1
//    broadcast = 15 of the 16 ymm registers; 12 independent chains cover the FMA latency of two pipes.
//  - Generic: 4 x 16 float / 4 x 8 double, 64 accumulators, what SSE2's 16 registers hold.
//
// Sized for the machine loom is tuned on (AMD EPYC Zen 4: 32 KiB L1d and 1 MiB L2 per core, 32 MiB
// shared L3), and sane on other x86-64 parts (Zen 3: 512 KiB L2):
//  - KC: every C tile is loaded and stored once per KC slice, so a larger KC amortises that traffic
//    over more FMAs. The textbook bound keeps the KC x NR micro-panel of B in L1 (KC * NR * sizeof(T)
//    <= 32 KiB), but the kernel needs only one 64-byte line of B every 6 (AVX2) or 14 (AVX-512) FMAs,
//    which L2 delivers easily: KC = 512 for float (a 32 KiB micro-panel on AVX2, 64 KiB on AVX-512)
//    measured 1-8% faster than 256 (AVX2) and 384 (AVX-512) on 1024^3, 2048^3, LeNet's dense layer
//    (k = 500 in one slice instead of two) and nnet's whole-set forward product, none slower beyond
//    noise (interleaved in one process, 2 threads, 2026-12-03).
//  - MC: the packed A block (MC x KC) stays in L2 while every B micro-panel of the NC panel passes
//    through it; under half of L2 so B's streaming lines and C do not evict it (384 KiB on AVX2, which
//    Zen 3's L2 holds too, 448 KiB on AVX-512).
//  - NC: the packed B panel (KC x NC) lives in L3. Each thread packs its own (gemm_driver.hpp), so two
//    of them must fit in the shared L3 together with A blocks and C: 4 MiB each for float.
// MC is a multiple of MR and NC of NR so only the matrix edges produce partial tiles.
#include <cstddef>

#include "loom/kernels/cpu_features.hpp"

namespace loom::detail {

struct GemmBlocks {
    std::size_t mr, nr, mc, kc, nc;
};

template <class T, Isa isa>
constexpr GemmBlocks gemm_blocks() {
    if constexpr (isa == Isa::Avx512) {
        // MR 14, NR 32 (float) / 16 (double): A block 14*16*512*4 = 448 KiB (float), 14*12*384*8 (double).
        if constexpr (sizeof(T) == 4) return {14, 32, 14 * 16, 512, 32 * 64};
        else return {14, 16, 14 * 12, 384, 16 * 128};
    } else if constexpr (isa == Isa::Avx2) {
        // MR 6, NR 16 / 8: A block 6*32*512*4 = 384 KiB (float), 6*24*256*8 = 288 KiB (double).
        if constexpr (sizeof(T) == 4) return {6, 16, 6 * 32, 512, 16 * 128};
        else return {6, 8, 6 * 24, 256, 8 * 256};
    } else {
        // MR 4, NR 16 / 8.
        if constexpr (sizeof(T) == 4) return {4, 16, 4 * 64, 256, 16 * 256};
        else return {4, 8, 4 * 32, 256, 8 * 256};
    }
}

// Rounds n up to a multiple of `step`.
constexpr std::size_t round_up(std::size_t n, std::size_t step) { return (n + step - 1) / step * step; }

}  // namespace loom::detail
