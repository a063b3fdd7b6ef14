#pragma once
// Cache block sizes for the GEMM driver (BLIS naming): a KC x NC panel of B is packed once and shared
// by all threads, an MC x KC block of A is packed per thread, and the micro-kernel walks MR x NR tiles.
//
// Sized for the machine loom is tuned on (AMD EPYC Zen 4: 32 KiB L1d and 1 MiB L2 per core, 32 MiB
// shared L3), and sane on other x86-64 parts:
//  - KC: one KC x NR micro-panel of B is reused by every MR-row tile of the A block, so it should stay
//    in L1 next to the A micro-panel streaming past it: KC * NR * sizeof(T) <= 32 KiB. A larger KC also
//    amortises the C tile load/store over more FMAs, so take the largest that fits.
//  - MC: the packed A block (MC x KC) stays in L2 while every B micro-panel of the NC panel passes
//    through it; use about half of L2 so B's streaming lines and C do not evict it.
//  - NC: the packed B panel (KC x NC) lives in L3 (shared by both cores, which read the same panel).
//    A few MiB is plenty; larger only grows the workspace.
// MC is a multiple of MR and NC of NR so only the matrix edges produce partial tiles.
#include <cstddef>

#include "loom/kernels/cpu_features.hpp"

namespace loom::detail {

struct GemmBlocks {
    std::size_t mc, kc, nc;
};

template <class T, Isa isa>
constexpr GemmBlocks gemm_blocks() {
    if constexpr (isa == Isa::Avx512) {
        // MR 14, NR 32 (float) / 16 (double): KC * NR * sizeof(T) = 32 KiB; A block 14*24*256*4 = 336 KiB.
        if constexpr (sizeof(T) == 4) return {14 * 24, 256, 32 * 128};
        else return {14 * 12, 256, 16 * 128};
    } else if constexpr (isa == Isa::Avx2) {
        // MR 6, NR 16 / 8: B micro-panel 16 KiB at KC 256; A block 6*48*256*4 = 288 KiB.
        if constexpr (sizeof(T) == 4) return {6 * 48, 256, 16 * 256};
        else return {6 * 24, 256, 8 * 256};
    } else {
        // MR 4, NR 16 / 8.
        if constexpr (sizeof(T) == 4) return {4 * 64, 256, 16 * 256};
        else return {4 * 32, 256, 8 * 256};
    }
}

}  // namespace loom::detail
