#pragma once
// AVX-512 packing routines for the GEMM driver (gemm_pack.hpp calls them when the active ISA is AVX-512).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/x86/avx512/vector.hpp"

#if LOOM_X86
#include <immintrin.h>

namespace loom::detail {

// The transposing case of packing (A stored row-major but wanted by columns, or B^T) is a gather with a
// large stride, one scalar load and store per element. For shapes with little reuse per packed element
// (LeNet's conv weight gradients: m, n <= 50, k = 196 * batch) that gather costs more than the
// arithmetic, so on AVX-512 it is done as register transposes of 16 x 16 floats / 8 x 8 doubles.

// The all-ones masked forms are the same instructions as the plain ones, but GCC 12 warns about the
// plain ones' internal _mm512_undefined_*() operand (-Wmaybe-uninitialized, a known false positive).
#define LOOM_ALL16 static_cast<__mmask16>(0xFFFF)
#define LOOM_ALL8 static_cast<__mmask8>(0xFF)

// In-register transpose: on return r[c] holds what was column c of the 16 rows r[0..16).
__attribute__((target("avx512f"), always_inline)) inline void transpose_16x16(__m512 r[16]) {
    __m512 a[16];
#pragma GCC unroll 16
    for (int i = 0; i < 8; ++i) {
        a[2 * i] = _mm512_maskz_unpacklo_ps(LOOM_ALL16, r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm512_maskz_unpackhi_ps(LOOM_ALL16, r[2 * i], r[2 * i + 1]);
    }
    // b[4g + c], 128-bit lane l: rows 4g..4g+3 of column 4l + c.
    __m512 b[16];
#pragma GCC unroll 16
    for (int g = 0; g < 4; ++g) {
        const __m512d lo0 = _mm512_castps_pd(a[4 * g]), hi0 = _mm512_castps_pd(a[4 * g + 1]);
        const __m512d lo1 = _mm512_castps_pd(a[4 * g + 2]), hi1 = _mm512_castps_pd(a[4 * g + 3]);
        b[4 * g] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(LOOM_ALL8, lo0, lo1));
        b[4 * g + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(LOOM_ALL8, lo0, lo1));
        b[4 * g + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(LOOM_ALL8, hi0, hi1));
        b[4 * g + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(LOOM_ALL8, hi0, hi1));
    }
    // A 4 x 4 transpose of 128-bit lanes per column residue c.
#pragma GCC unroll 16
    for (int c = 0; c < 4; ++c) {
        const __m512 u0 = _mm512_maskz_shuffle_f32x4(LOOM_ALL16, b[c], b[4 + c], 0x88), u1 = _mm512_maskz_shuffle_f32x4(LOOM_ALL16, b[c], b[4 + c], 0xDD);
        const __m512 u2 = _mm512_maskz_shuffle_f32x4(LOOM_ALL16, b[8 + c], b[12 + c], 0x88);
        const __m512 u3 = _mm512_maskz_shuffle_f32x4(LOOM_ALL16, b[8 + c], b[12 + c], 0xDD);
        r[c] = _mm512_maskz_shuffle_f32x4(LOOM_ALL16, u0, u2, 0x88);
        r[4 + c] = _mm512_maskz_shuffle_f32x4(LOOM_ALL16, u1, u3, 0x88);
        r[8 + c] = _mm512_maskz_shuffle_f32x4(LOOM_ALL16, u0, u2, 0xDD);
        r[12 + c] = _mm512_maskz_shuffle_f32x4(LOOM_ALL16, u1, u3, 0xDD);
    }
}

__attribute__((target("avx512f"), always_inline)) inline void transpose_8x8(__m512d r[8]) {
    __m512d a[8];  // a[2k + c], lane l: rows 2k, 2k+1 of column 2l + c
#pragma GCC unroll 16
    for (int i = 0; i < 4; ++i) {
        a[2 * i] = _mm512_maskz_unpacklo_pd(LOOM_ALL8, r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm512_maskz_unpackhi_pd(LOOM_ALL8, r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 16
    for (int c = 0; c < 2; ++c) {
        const __m512d u0 = _mm512_maskz_shuffle_f64x2(LOOM_ALL8, a[c], a[2 + c], 0x88), u1 = _mm512_maskz_shuffle_f64x2(LOOM_ALL8, a[c], a[2 + c], 0xDD);
        const __m512d u2 = _mm512_maskz_shuffle_f64x2(LOOM_ALL8, a[4 + c], a[6 + c], 0x88);
        const __m512d u3 = _mm512_maskz_shuffle_f64x2(LOOM_ALL8, a[4 + c], a[6 + c], 0xDD);
        r[c] = _mm512_maskz_shuffle_f64x2(LOOM_ALL8, u0, u2, 0x88);
        r[2 + c] = _mm512_maskz_shuffle_f64x2(LOOM_ALL8, u1, u3, 0x88);
        r[4 + c] = _mm512_maskz_shuffle_f64x2(LOOM_ALL8, u0, u2, 0xDD);
        r[6 + c] = _mm512_maskz_shuffle_f64x2(LOOM_ALL8, u1, u3, 0xDD);
    }
}

#undef LOOM_ALL16
#undef LOOM_ALL8

// dst[p * S + r] = src[r * ld + p] for r < rows, p < kc, and 0 for rows <= r < S (rows <= S).
template <std::size_t S>
__attribute__((target("avx512f"))) void pack_transposed_avx512(const float* src, std::size_t ld, std::size_t rows,
                                                               std::size_t kc, float* dst) {
    for (std::size_t g0 = 0; g0 < S; g0 += 16) {
        const std::size_t width = std::min<std::size_t>(16, S - g0);
        const std::size_t valid = rows > g0 ? std::min(width, rows - g0) : 0;
        const auto store_mask = static_cast<__mmask16>((1u << width) - 1);
        for (std::size_t p0 = 0; p0 < kc; p0 += 16) {
            const std::size_t steps = std::min<std::size_t>(16, kc - p0);
            const auto load_mask = static_cast<__mmask16>((1u << steps) - 1);
            __m512 r[16];
        #pragma GCC unroll 16
            for (std::size_t i = 0; i < 16; ++i)
                r[i] = i < valid ? _mm512_maskz_loadu_ps(load_mask, src + (g0 + i) * ld + p0) : _mm512_setzero_ps();
            transpose_16x16(r);
                    if (steps == 16) {
#pragma GCC unroll 16
                for (std::size_t c = 0; c < 16; ++c) _mm512_mask_storeu_ps(dst + (p0 + c) * S + g0, store_mask, r[c]);
            } else {  // k tail: indexing r by a run-time count would keep r out of registers
                __m512 tail[16];
#pragma GCC unroll 16
                for (std::size_t c = 0; c < 16; ++c) tail[c] = r[c];
                for (std::size_t c = 0; c < steps; ++c) _mm512_mask_storeu_ps(dst + (p0 + c) * S + g0, store_mask, tail[c]);
            }
        }
    }
}

template <std::size_t S>
__attribute__((target("avx512f"))) void pack_transposed_avx512(const double* src, std::size_t ld, std::size_t rows,
                                                               std::size_t kc, double* dst) {
    for (std::size_t g0 = 0; g0 < S; g0 += 8) {
        const std::size_t width = std::min<std::size_t>(8, S - g0);
        const std::size_t valid = rows > g0 ? std::min(width, rows - g0) : 0;
        const auto store_mask = static_cast<__mmask8>((1u << width) - 1);
        for (std::size_t p0 = 0; p0 < kc; p0 += 8) {
            const std::size_t steps = std::min<std::size_t>(8, kc - p0);
            const auto load_mask = static_cast<__mmask8>((1u << steps) - 1);
            __m512d r[8];
        #pragma GCC unroll 16
            for (std::size_t i = 0; i < 8; ++i)
                r[i] = i < valid ? _mm512_maskz_loadu_pd(load_mask, src + (g0 + i) * ld + p0) : _mm512_setzero_pd();
            transpose_8x8(r);
                    if (steps == 8) {
#pragma GCC unroll 16
                for (std::size_t c = 0; c < 8; ++c) _mm512_mask_storeu_pd(dst + (p0 + c) * S + g0, store_mask, r[c]);
            } else {  // k tail: indexing r by a run-time count would keep r out of registers
                __m512d tail[8];
#pragma GCC unroll 16
                for (std::size_t c = 0; c < 8; ++c) tail[c] = r[c];
                for (std::size_t c = 0; c < steps; ++c) _mm512_mask_storeu_pd(dst + (p0 + c) * S + g0, store_mask, tail[c]);
            }
        }
    }
}
// dst[p * S + i] = src[p * ld + i] for i < count, 0 for count <= i < S: the non-transposing case, one
// masked load and store per vector. (Baseline-compiled code would copy 16 bytes at a time, and
// std::copy_n ends in a memmove call per short run.)
template <std::size_t S>
__attribute__((target("avx512f"))) void pack_copy_avx512(const float* src, std::size_t ld, std::size_t count,
                                                         std::size_t kc, float* dst) {
    constexpr std::size_t groups = (S + 15) / 16;
    __mmask16 load_mask[groups], store_mask[groups];
    for (std::size_t g = 0; g < groups; ++g) {
        const std::size_t begin = g * 16;
        const std::size_t width = std::min<std::size_t>(16, S - begin);
        const std::size_t valid = count > begin ? std::min(width, count - begin) : 0;
        load_mask[g] = static_cast<__mmask16>((1u << valid) - 1);
        store_mask[g] = static_cast<__mmask16>((1u << width) - 1);
    }
    for (std::size_t p = 0; p < kc; ++p)
#pragma GCC unroll 4
        for (std::size_t g = 0; g < groups; ++g)
            _mm512_mask_storeu_ps(dst + p * S + g * 16, store_mask[g],
                                  _mm512_maskz_loadu_ps(load_mask[g], src + p * ld + g * 16));
}

template <std::size_t S>
__attribute__((target("avx512f"))) void pack_copy_avx512(const double* src, std::size_t ld, std::size_t count,
                                                         std::size_t kc, double* dst) {
    constexpr std::size_t groups = (S + 7) / 8;
    __mmask8 load_mask[groups], store_mask[groups];
    for (std::size_t g = 0; g < groups; ++g) {
        const std::size_t begin = g * 8;
        const std::size_t width = std::min<std::size_t>(8, S - begin);
        const std::size_t valid = count > begin ? std::min(width, count - begin) : 0;
        load_mask[g] = static_cast<__mmask8>((1u << valid) - 1);
        store_mask[g] = static_cast<__mmask8>((1u << width) - 1);
    }
    for (std::size_t p = 0; p < kc; ++p)
#pragma GCC unroll 4
        for (std::size_t g = 0; g < groups; ++g)
            _mm512_mask_storeu_pd(dst + p * S + g * 8, store_mask[g],
                                  _mm512_maskz_loadu_pd(load_mask[g], src + p * ld + g * 8));
}

// c[i * ldc + j] = beta * c[i * ldc + j] + s[j * lds + i] for i < rows, j < cols (beta == 0: c is not
// read): the last pass of a product computed as C^T, 16 x 16 blocks through registers. Edge blocks
// (a classifier's C has 10 columns) are the same instructions under masks, which cost nothing extra
// here, and touch nothing outside C or S.
__attribute__((target("avx512f"))) inline void add_transposed_avx512(std::size_t rows, std::size_t cols, const float* s,
                                                                     std::size_t lds, float beta, float* c,
                                                                     std::size_t ldc) {
    using P = Avx512Vec<float>;
    const __m512 vbeta = _mm512_set1_ps(beta);
    for (std::size_t i0 = 0; i0 < rows; i0 += 16) {
        const std::size_t height = std::min<std::size_t>(16, rows - i0);
        const P::Mask row_mask = P::first(height);
        for (std::size_t j0 = 0; j0 < cols; j0 += 16) {
            const std::size_t width = std::min<std::size_t>(16, cols - j0);
            const P::Mask col_mask = P::first(width);
            __m512 r[16];
#pragma GCC unroll 16
            for (std::size_t k = 0; k < 16; ++k)
                r[k] = k < width ? _mm512_maskz_loadu_ps(row_mask, s + (j0 + k) * lds + i0) : _mm512_setzero_ps();
            transpose_16x16(r);  // r[k]: row i0 + k of C, columns j0..j0+16
#pragma GCC unroll 16
            for (std::size_t k = 0; k < 16; ++k) {
                if (k >= height) break;
                float* to = c + (i0 + k) * ldc + j0;
                const __m512 sum =
                    beta == 0.0f ? r[k] : _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(col_mask, to), r[k]);
                _mm512_mask_storeu_ps(to, col_mask, sum);
            }
        }
    }
}

// dst[r * dst_ld + i] = src[r * ld + i] as floats, for r < rows, i < cols: bytes (image pixels) on
// their way into packed panels, 16 at a time.
__attribute__((target("avx512f"))) inline void bytes_to_floats_avx512(const std::uint8_t* src, std::size_t ld,
                                                                      std::size_t rows, std::size_t cols, float* dst,
                                                                      std::size_t dst_ld) {
    for (std::size_t r = 0; r < rows; ++r) {
        const std::uint8_t* from = src + r * ld;
        float* to = dst + r * dst_ld;
        std::size_t i = 0;
        for (; i + 16 <= cols; i += 16) {
            const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + i));  // exactly 16 bytes
            // The all-ones masked forms: see LOOM_ALL16 above.
            const auto all = static_cast<__mmask16>(0xFFFF);
            _mm512_storeu_ps(to + i, _mm512_maskz_cvtepi32_ps(all, _mm512_maskz_cvtepu8_epi32(all, bytes)));
        }
        for (; i < cols; ++i) to[i] = static_cast<float>(from[i]);
    }
}

}  // namespace loom::detail

#endif
