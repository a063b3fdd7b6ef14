#pragma once
// Packing for the GEMM driver. The micro-kernel reads A as consecutive MR-value columns of one
// MR-row micro-panel and B as consecutive NR-value rows of one NR-column micro-panel: unit-stride,
// 64-byte aligned streams whatever the caller's transposes and leading dimensions were, so the kernel
// has one shape only. Edge panels are zero-padded to full MR / NR.
//
// The loops here are the portable version; an ISA with its own packing routines (x86/<isa>/pack.hpp)
// takes over through `if constexpr` on the ISA the driver was instantiated for.
//
// An operand may also be bytes (images, 0..255), which become T here, on their way into the panels:
// the caller never holds them as T, and packing reads a quarter of the memory.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/transpose.hpp"
#include "loom/kernels/x86/avx2/pack.hpp"
#include "loom/kernels/x86/avx512/pack.hpp"

namespace loom::detail {

// dst[p * S + i] = src[p * ld + i] for i < count, p < kc; zero for count <= i < S.
template <std::size_t S, Isa isa, class T>
void pack_copy(const T* src, std::size_t ld, std::size_t count, std::size_t kc, T* dst) {
#if LOOM_X86
    if constexpr (isa == Isa::Avx512) {
        pack_copy_avx512<S>(src, ld, count, kc, dst);
        return;
    }
    if constexpr (isa == Isa::Avx2) {
        pack_copy_avx2<S>(src, ld, count, kc, dst);
        return;
    }
#endif
    // Fixed-length inner loops rather than std::copy_n, which calls memmove for every short run.
    if (count == S) {
        for (std::size_t p = 0; p < kc; ++p)
            for (std::size_t i = 0; i < S; ++i) dst[p * S + i] = src[p * ld + i];
    } else {
        for (std::size_t p = 0; p < kc; ++p)
            for (std::size_t i = 0; i < S; ++i) dst[p * S + i] = i < count ? src[p * ld + i] : T(0);
    }
}

// dst[p * S + r] = src[r * ld + p] for r < rows, p < kc; zero for rows <= r < S.
template <std::size_t S, Isa isa, class T>
void pack_transposed(const T* src, std::size_t ld, std::size_t rows, std::size_t kc, T* dst) {
#if LOOM_X86
    if constexpr (isa == Isa::Avx512) {
        pack_transposed_avx512<S>(src, ld, rows, kc, dst);
        return;
    }
    if constexpr (isa == Isa::Avx2) {
        pack_transposed_avx2<S>(src, ld, rows, kc, dst);
        return;
    }
#endif
    for (std::size_t p = 0; p < kc; ++p) {
        for (std::size_t r = 0; r < rows; ++r) dst[p * S + r] = src[r * ld + p];
        for (std::size_t r = rows; r < S; ++r) dst[p * S + r] = T(0);
    }
}

// dst[r * dst_ld + i] = src[r * ld + i] as T, for r < rows, i < cols (bytes to T, vectorised where
// the ISA has a routine for it).
template <Isa isa, class T>
void bytes_to(const std::uint8_t* src, std::size_t ld, std::size_t rows, std::size_t cols, T* dst, std::size_t dst_ld) {
#if LOOM_X86
    if constexpr (std::is_same_v<T, float> && isa == Isa::Avx512) {
        bytes_to_floats_avx512(src, ld, rows, cols, dst, dst_ld);
        return;
    }
    if constexpr (std::is_same_v<T, float> && isa == Isa::Avx2) {
        bytes_to_floats_avx2(src, ld, rows, cols, dst, dst_ld);
        return;
    }
#endif
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t i = 0; i < cols; ++i) dst[r * dst_ld + i] = static_cast<T>(src[r * ld + i]);
}

// pack_copy from bytes: each k step's run of values is converted straight into its place.
template <std::size_t S, Isa isa, class T>
void pack_copy(const std::uint8_t* src, std::size_t ld, std::size_t count, std::size_t kc, T* dst) {
    bytes_to<isa>(src, ld, kc, count, dst, S);
    if (count < S)
        for (std::size_t p = 0; p < kc; ++p) std::fill(dst + p * S + count, dst + (p + 1) * S, T(0));
}

// pack_transposed from bytes: S rows x a block of k steps are converted into a small tile (in L1),
// which the T routine then transposes into place; AVX2 floats convert and transpose in registers.
template <std::size_t S, Isa isa, class T>
void pack_transposed(const std::uint8_t* src, std::size_t ld, std::size_t rows, std::size_t kc, T* dst) {
#if LOOM_X86
    if constexpr (std::is_same_v<T, float> && isa == Isa::Avx2 && S % 8 == 0) {
        pack_transposed_bytes_avx2<S>(src, ld, rows, kc, dst);
        return;
    }
#endif
    constexpr std::size_t steps = 64;
    alignas(64) T tile[S * steps];
    for (std::size_t p0 = 0; p0 < kc; p0 += steps) {
        const std::size_t width = std::min(steps, kc - p0);
        bytes_to<isa>(src + p0, ld, rows, width, tile, steps);
        pack_transposed<S, isa>(static_cast<const T*>(tile), steps, rows, width, dst + p0 * S);
    }
}

// Micro-panels [q0, q1) of S values per k step from a source whose k steps are its rows (value (p, j)
// at src[p * ld + j], j < count), panel q at dst + q * kc * S. A block of rows at a time across all
// the panels, so that a wide source is read along its rows, a few pages at a time, rather than one
// panel top to bottom, kc rows and as many pages apart (a TLB miss each: LeNet's conv2 on AVX2 spent
// more time packing B than multiplying that way, and its classifier's weights, the A of the transposed
// forward product, cost AVX-512 2-13% on that product).
template <std::size_t S, Isa isa, class Source, class T>
void pack_row_panels(const Source* src, std::size_t ld, std::size_t count, std::size_t kc, std::size_t q0,
                     std::size_t q1, T* dst) {
    constexpr std::size_t rows = 16;
    for (std::size_t p = 0; p < kc; p += rows) {
        const std::size_t height = std::min(rows, kc - p);
        for (std::size_t q = q0; q < q1; ++q)
            pack_copy<S, isa>(src + p * ld + q * S, ld, std::min(S, count - q * S), height, dst + q * S * kc + p * S);
    }
}

// Packs rows [i0, i0 + mc) x columns [p0, p0 + kc) of op(A) into ceil(mc / MR) micro-panels of
// kc x MR values each (value (i, p) of a panel at p * MR + i).
template <std::size_t MR, Isa isa, class Source, class T>
void pack_a(Transpose ta, const Source* a, std::size_t lda, std::size_t i0, std::size_t mc, std::size_t p0,
            std::size_t kc, T* dst) {
    if (ta == Transpose::Yes) {
        // op(A)(i, p) = a[p * lda + i]: each k step is a contiguous run of MR values.
        pack_row_panels<MR, isa>(a + p0 * lda + i0, lda, mc, kc, 0, (mc + MR - 1) / MR, dst);
        return;
    }
    for (std::size_t ir = 0; ir < mc; ir += MR) {
        // op(A)(i, p) = a[i * lda + p]: a transpose of the rows' leading kc values.
        pack_transposed<MR, isa>(a + (i0 + ir) * lda + p0, lda, std::min(MR, mc - ir), kc, dst + ir * kc);
    }
}

// Packs micro-panels [panel_begin, panel_end) of rows [p0, p0 + kc) x columns [j0, j0 + nc) of op(B);
// panel q covers columns j0 + q * NR ... and is stored as kc x NR values at dst + q * kc * NR.
template <std::size_t NR, Isa isa, class Source, class T>
void pack_b(Transpose tb, const Source* b, std::size_t ldb, std::size_t p0, std::size_t kc, std::size_t j0,
            std::size_t nc, std::size_t panel_begin, std::size_t panel_end, T* dst) {
    if (tb == Transpose::No) {
        // op(B)(p, j) = b[p * ldb + j]: each k step is a contiguous run of NR values.
        pack_row_panels<NR, isa>(b + p0 * ldb + j0, ldb, nc, kc, panel_begin, panel_end, dst);
        return;
    }
    for (std::size_t q = panel_begin; q < panel_end; ++q) {
        const std::size_t jr = q * NR;
        // op(B)(p, j) = b[j * ldb + p]: a transpose of the columns' source rows.
        pack_transposed<NR, isa>(b + (j0 + jr) * ldb + p0, ldb, std::min(NR, nc - jr), kc, dst + jr * kc);
    }
}

}  // namespace loom::detail
