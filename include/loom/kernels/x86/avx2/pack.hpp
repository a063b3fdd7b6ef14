#pragma once
// AVX2 packing routines for the GEMM driver (gemm_pack.hpp calls them when the active ISA is AVX2).
// As on AVX-512 (x86/avx512/pack.hpp), the transposing case is done as in-register transposes, here of
// 8 x 8 floats / 4 x 4 doubles, instead of one scalar gather per element; partial vectors go through the
// traits' partial loads and stores (vector.hpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/x86/avx2/vector.hpp"

#if LOOM_X86
#include <immintrin.h>

namespace loom::detail {

#define LOOM_TARGET_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

// In-register transpose: on return r[c] holds what was column c of the 8 rows r[0..8).
LOOM_TARGET_AVX2 void transpose_in_registers(__m256 r[8]) {
    __m256 t[8], u[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);      // rows 2i, 2i+1: columns 0, 1 | 4, 5
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);  // columns 2, 3 | 6, 7
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {  // rows 0-3, then rows 4-7
        u[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);          // column 0 | 4
        u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);      // column 1 | 5
        u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);  // column 2 | 6
        u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);  // column 3 | 7
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

LOOM_TARGET_AVX2 void transpose_in_registers(__m256d r[4]) {
    const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

// The low 8 bytes of `bytes` (pixel values 0..255) as 8 floats.
LOOM_TARGET_AVX2 __m256 eight_bytes_as_floats(__m128i bytes) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)); }

#undef LOOM_TARGET_AVX2

// dst[p * S + r] = src[r * ld + p] for r < rows, p < kc, and 0 for rows <= r < S (rows <= S).
template <std::size_t S, class T>
__attribute__((target("avx2,fma"))) void pack_transposed_avx2(const T* src, std::size_t ld, std::size_t rows,
                                                              std::size_t kc, T* dst) {
    using P = Avx2Vec<T>;
    constexpr std::size_t L = P::lanes;
    for (std::size_t g0 = 0; g0 < S; g0 += L) {
        const std::size_t width = std::min(L, S - g0);
        const std::size_t valid = rows > g0 ? std::min(width, rows - g0) : 0;
        const typename P::Mask store_mask = P::first(width);
        for (std::size_t p0 = 0; p0 < kc; p0 += L) {
            const std::size_t steps = std::min(L, kc - p0);
            const typename P::Mask load_mask = P::first(steps);
            typename P::V r[L];
#pragma GCC unroll 8
            for (std::size_t i = 0; i < L; ++i)
                r[i] = i < valid ? (steps == L ? P::loadu(src + (g0 + i) * ld + p0)
                                               : P::loadu(load_mask, src + (g0 + i) * ld + p0))
                                 : P::zero();
            transpose_in_registers(r);
            if (steps == L && width == L) {
#pragma GCC unroll 8
                for (std::size_t c = 0; c < L; ++c) P::storeu(dst + (p0 + c) * S + g0, r[c]);
            } else if (steps == L) {
#pragma GCC unroll 8
                for (std::size_t c = 0; c < L; ++c) P::storeu(store_mask, dst + (p0 + c) * S + g0, r[c]);
            } else {  // k tail: indexing r by a run-time count would keep r out of registers
                typename P::V tail[L];
#pragma GCC unroll 8
                for (std::size_t c = 0; c < L; ++c) tail[c] = r[c];
                for (std::size_t c = 0; c < steps; ++c) P::storeu(store_mask, dst + (p0 + c) * S + g0, tail[c]);
            }
        }
    }
}

// The same transpose from bytes to floats (dst[p * S + r] = src[r * ld + p] as a float), converted in
// registers: 8 bytes of each of 8 rows become 8 vectors, transposed in place and stored. Converting into
// a tile first and transposing the tile stores and reloads every value once more, and on R nnet's
// forward pass (X^T, 16-sample panels) that round trip was most of the pack.
template <std::size_t S>
__attribute__((target("avx2,fma"))) void pack_transposed_bytes_avx2(const std::uint8_t* src, std::size_t ld,
                                                                    std::size_t rows, std::size_t kc, float* dst) {
    static_assert(S % 8 == 0, "whole 8-row groups");
    for (std::size_t g0 = 0; g0 < S; g0 += 8) {
        const std::size_t valid = rows > g0 ? std::min<std::size_t>(8, rows - g0) : 0;
        for (std::size_t p0 = 0; p0 < kc; p0 += 8) {
            const std::size_t steps = std::min<std::size_t>(8, kc - p0);
            __m256 r[8];
#pragma GCC unroll 8
            for (std::size_t i = 0; i < 8; ++i) {
                if (i >= valid) {
                    r[i] = _mm256_setzero_ps();
                    continue;
                }
                const std::uint8_t* from = src + (g0 + i) * ld + p0;
                std::uint64_t eight = 0;  // never read past the row's last step
                if (steps == 8) std::memcpy(&eight, from, 8);
                else std::memcpy(&eight, from, steps);
                r[i] = eight_bytes_as_floats(_mm_cvtsi64_si128(static_cast<long long>(eight)));
            }
            transpose_in_registers(r);  // r[c]: step p0 + c of rows g0 .. g0 + 8
            if (steps == 8) {
#pragma GCC unroll 8
                for (std::size_t c = 0; c < 8; ++c) _mm256_storeu_ps(dst + (p0 + c) * S + g0, r[c]);
            } else {  // k tail: indexing r by a run-time count would keep r out of registers
                __m256 tail[8];
#pragma GCC unroll 8
                for (std::size_t c = 0; c < 8; ++c) tail[c] = r[c];
                for (std::size_t c = 0; c < steps; ++c) _mm256_storeu_ps(dst + (p0 + c) * S + g0, tail[c]);
            }
        }
    }
}

// dst[p * S + i] = src[p * ld + i] for i < count, 0 for count <= i < S: the non-transposing case, one
// masked load and store per vector.
template <std::size_t S, class T>
__attribute__((target("avx2,fma"))) void pack_copy_avx2(const T* src, std::size_t ld, std::size_t count,
                                                        std::size_t kc, T* dst) {
    using P = Avx2Vec<T>;
    constexpr std::size_t L = P::lanes;
    constexpr std::size_t groups = (S + L - 1) / L;
    typename P::Mask load_mask[groups], store_mask[groups];
    for (std::size_t g = 0; g < groups; ++g) {
        const std::size_t begin = g * L;
        const std::size_t width = std::min(L, S - begin);
        load_mask[g] = P::first(count > begin ? std::min(width, count - begin) : 0);
        store_mask[g] = P::first(width);
    }
    if (count == S && S % L == 0) {  // whole vectors: no partial loads or stores
        for (std::size_t p = 0; p < kc; ++p)
#pragma GCC unroll 4
            for (std::size_t g = 0; g < groups; ++g) P::storeu(dst + p * S + g * L, P::loadu(src + p * ld + g * L));
        return;
    }
    for (std::size_t p = 0; p < kc; ++p)
#pragma GCC unroll 4
        for (std::size_t g = 0; g < groups; ++g)
            P::storeu(store_mask[g], dst + p * S + g * L, P::loadu(load_mask[g], src + p * ld + g * L));
}

// c[i * ldc + j] = beta * c[i * ldc + j] + s[j * lds + i] for i < rows, j < cols (beta == 0: c is not
// read): the last pass of a product computed as C^T, 8 x 8 blocks through registers. Edge blocks (a
// classifier's C has 10 columns) use partial loads and stores, which touch nothing outside C or S.
__attribute__((target("avx2,fma"))) inline void add_transposed_avx2(std::size_t rows, std::size_t cols, const float* s,
                                                                    std::size_t lds, float beta, float* c,
                                                                    std::size_t ldc) {
    using P = Avx2Vec<float>;
    const __m256 vbeta = _mm256_set1_ps(beta);
    for (std::size_t i0 = 0; i0 < rows; i0 += 8) {
        const std::size_t height = std::min<std::size_t>(8, rows - i0);
        const P::Mask row_mask = P::first(height);
        for (std::size_t j0 = 0; j0 < cols; j0 += 8) {
            const std::size_t width = std::min<std::size_t>(8, cols - j0);
            const bool whole = height == 8 && width == 8;
            const P::Mask col_mask = P::first(width);
            __m256 r[8];
#pragma GCC unroll 8
            for (std::size_t k = 0; k < 8; ++k) {
                const float* from = s + (j0 + k) * lds + i0;
                r[k] = whole ? P::loadu(from) : k < width ? P::loadu(row_mask, from) : _mm256_setzero_ps();
            }
            transpose_in_registers(r);  // r[k]: row i0 + k of C, columns j0..j0+8
#pragma GCC unroll 8
            for (std::size_t k = 0; k < 8; ++k) {
                if (k >= height) break;
                float* to = c + (i0 + k) * ldc + j0;
                if (whole) {
                    P::storeu(to, beta == 0.0f ? r[k] : _mm256_fmadd_ps(vbeta, P::loadu(to), r[k]));
                } else {
                    const __m256 prior = beta == 0.0f ? _mm256_setzero_ps() : P::loadu(col_mask, to);
                    P::storeu(col_mask, to, _mm256_fmadd_ps(vbeta, prior, r[k]));
                }
            }
        }
    }
}

// dst[r * dst_ld + i] = src[r * ld + i] as floats, for r < rows, i < cols: bytes (image pixels) on
// their way into packed panels, 8 at a time.
__attribute__((target("avx2,fma"))) inline void bytes_to_floats_avx2(const std::uint8_t* src, std::size_t ld,
                                                                     std::size_t rows, std::size_t cols, float* dst,
                                                                     std::size_t dst_ld) {
    for (std::size_t r = 0; r < rows; ++r) {
        const std::uint8_t* from = src + r * ld;
        float* to = dst + r * dst_ld;
        std::size_t i = 0;
        for (; i + 8 <= cols; i += 8) {
            const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(from + i));  // exactly 8 bytes
            _mm256_storeu_ps(to + i, eight_bytes_as_floats(bytes));
        }
        for (; i < cols; ++i) to[i] = static_cast<float>(from[i]);
    }
}

}  // namespace loom::detail

#endif
