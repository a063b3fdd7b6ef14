#pragma once
// AVX-512F micro-kernels. Compiled with function-level target attributes instead of -mavx512f so the
// rest of the program stays baseline x86-64; gemm.hpp only calls them after active_isa() said yes.
//
// Shape: MR rows x NV zmm vectors per row. 32 zmm registers hold MR*NV accumulators, NV values of B
// and one broadcast of A. Float uses 14 x 32 (28 accumulators): every B vector loaded feeds 14 FMAs, so
// the loop is bounded by FMA throughput, not by loads, and the 28 independent chains cover the FMA
// latency of both pipes. Double uses the same register layout, 14 x 16.
//
// Edge tiles get their own instantiations instead of computing padding: ROWS < MR rows and/or NVU < NV
// vectors of columns, with masked loads/stores for a partial last vector. LeNet and the MLP are full of
// such edges (M = 20 or 50, N = 25 or 50), where padding would waste up to 40% of the FMAs.
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "loom/kernels/gemm_microkernel_generic.hpp"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define LOOM_HAVE_AVX512_KERNELS 1
#include <immintrin.h>

namespace loom::detail {

#define LOOM_TARGET_AVX512 __attribute__((target("avx512f"), always_inline)) inline

template <class T>
struct Avx512Vec;

template <>
struct Avx512Vec<float> {
    using V = __m512;
    using Mask = __mmask16;
    static constexpr std::size_t lanes = 16;
    LOOM_TARGET_AVX512 static V zero() { return _mm512_setzero_ps(); }
    LOOM_TARGET_AVX512 static V load(const float* p) { return _mm512_load_ps(p); }
    LOOM_TARGET_AVX512 static V loadu(const float* p) { return _mm512_loadu_ps(p); }
    LOOM_TARGET_AVX512 static void storeu(float* p, V v) { _mm512_storeu_ps(p, v); }
    LOOM_TARGET_AVX512 static V set1(float x) { return _mm512_set1_ps(x); }
    LOOM_TARGET_AVX512 static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    LOOM_TARGET_AVX512 static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
    static Mask first(std::size_t n) { return static_cast<Mask>((1u << n) - 1); }
    LOOM_TARGET_AVX512 static V loadu(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
    LOOM_TARGET_AVX512 static void storeu(Mask m, float* p, V v) { _mm512_mask_storeu_ps(p, m, v); }
};

template <>
struct Avx512Vec<double> {
    using V = __m512d;
    using Mask = __mmask8;
    static constexpr std::size_t lanes = 8;
    LOOM_TARGET_AVX512 static V zero() { return _mm512_setzero_pd(); }
    LOOM_TARGET_AVX512 static V load(const double* p) { return _mm512_load_pd(p); }
    LOOM_TARGET_AVX512 static V loadu(const double* p) { return _mm512_loadu_pd(p); }
    LOOM_TARGET_AVX512 static void storeu(double* p, V v) { _mm512_storeu_pd(p, v); }
    LOOM_TARGET_AVX512 static V set1(double x) { return _mm512_set1_pd(x); }
    LOOM_TARGET_AVX512 static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
    LOOM_TARGET_AVX512 static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
    static Mask first(std::size_t n) { return static_cast<Mask>((1u << n) - 1); }
    LOOM_TARGET_AVX512 static V loadu(Mask m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
    LOOM_TARGET_AVX512 static void storeu(Mask m, double* p, V v) { _mm512_mask_storeu_pd(p, m, v); }
};

// C[ROWS x cols] = alpha * A_panel * B_panel + beta * C, for panels packed with MR rows / NV vectors
// per k step. Only NVU (<= NV) vectors of B are multiplied; cols (<= NVU * lanes) limits the stores.
template <class T, std::size_t MR, std::size_t NV, std::size_t ROWS, std::size_t NVU>
__attribute__((target("avx512f"))) void gemm_ukernel_avx512(std::size_t kc, const T* a, const T* b, T* c,
                                                            std::size_t ldc, T alpha, T beta, std::size_t cols) {
    using Vec = Avx512Vec<T>;
    using V = typename Vec::V;
    constexpr std::size_t L = Vec::lanes;
    constexpr std::size_t NR = NV * L;
    V acc[ROWS][NVU];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NVU; ++j) acc[i][j] = Vec::zero();
    // Touch the C tile now so its lines arrive while the k loop runs, not when the stores need them.
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + cols - 1), _MM_HINT_T0);
    }
    // Half-way through, touch the tile below too: it is usually the driver's next call, and for small
    // k (LeNet's dX GEMMs have k = 50) the loop is too short to hide a C miss behind (+5% measured).
    // Integer arithmetic because the address may lie past the end of C, where a prefetch is harmless
    // but a pointer would not be.
    // (Not for tiny k: LeNet's conv1 forward, k = 25, measured slower with it.)
    const std::size_t half = kc >= 32 ? kc / 2 : kc;
#pragma GCC unroll 2
    for (std::size_t p = 0; p < kc; ++p) {
        if (ROWS == MR && p == half) {  // an edge tile is the last of its column
#pragma GCC unroll 16
            for (std::size_t i = 0; i < MR; ++i) {
                const std::uintptr_t row = reinterpret_cast<std::uintptr_t>(c) + (MR + i) * ldc * sizeof(T);
                _mm_prefetch(reinterpret_cast<const char*>(row), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(row + (cols - 1) * sizeof(T)), _MM_HINT_T0);
            }
        }
        V bv[NVU];
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NVU; ++j) bv[j] = Vec::load(b + j * L);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < ROWS; ++i) {
            const V ai = Vec::set1(a[i]);
#pragma GCC unroll 4
            for (std::size_t j = 0; j < NVU; ++j) acc[i][j] = Vec::fmadd(ai, bv[j], acc[i][j]);
        }
        a += MR;
        b += NR;
    }
    const V va = Vec::set1(alpha);
    if (cols == NVU * L) {
        if (beta == T(0)) {
#pragma GCC unroll 16
            for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
                for (std::size_t j = 0; j < NVU; ++j) Vec::storeu(c + i * ldc + j * L, Vec::mul(va, acc[i][j]));
        } else {
            const V vb = Vec::set1(beta);
#pragma GCC unroll 16
            for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
                for (std::size_t j = 0; j < NVU; ++j) {
                    T* cij = c + i * ldc + j * L;
                    Vec::storeu(cij, Vec::fmadd(va, acc[i][j], Vec::mul(vb, Vec::loadu(cij))));
                }
        }
        return;
    }
    // Right edge of C: lanes past `cols` are neither read nor written.
    typename Vec::Mask mask[NVU];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < NVU; ++j) {
        const std::size_t begin = j * L;
        mask[j] = Vec::first(cols <= begin ? 0 : (cols - begin >= L ? L : cols - begin));
    }
    const V vb = Vec::set1(beta);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NVU; ++j) {
            T* cij = c + i * ldc + j * L;
            const V prior = beta == T(0) ? Vec::zero() : Vec::mul(vb, Vec::loadu(mask[j], cij));
            Vec::storeu(mask[j], cij, Vec::fmadd(va, acc[i][j], prior));
        }
}

#undef LOOM_TARGET_AVX512

template <class T>
struct GemmKernelAvx512 {
    static constexpr std::size_t mr = 14;
    static constexpr std::size_t nv = 2;
    static constexpr std::size_t nr = nv * Avx512Vec<T>::lanes;

    // A full MR x NR tile.
    static void run(std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc, T alpha, T beta) {
        gemm_ukernel_avx512<T, mr, nv, mr, nv>(kc, a, b, c, ldc, alpha, beta, nr);
    }
    // The top-left rows x cols of a tile (rows <= mr, cols <= nr).
    static void run_edge(std::size_t rows, std::size_t cols, std::size_t kc, const T* a, const T* b, T* c,
                         std::size_t ldc, T alpha, T beta) {
        static constexpr auto table = make_table(std::make_index_sequence<mr * nv>{});
        const std::size_t vectors = (cols + Avx512Vec<T>::lanes - 1) / Avx512Vec<T>::lanes;
        table[(rows - 1) * nv + (vectors - 1)](kc, a, b, c, ldc, alpha, beta, cols);
    }

private:
    using Fn = void (*)(std::size_t, const T*, const T*, T*, std::size_t, T, T, std::size_t);
    // Entry (rows - 1) * nv + (vectors - 1).
    template <std::size_t... E>
    static constexpr std::array<Fn, sizeof...(E)> make_table(std::index_sequence<E...>) {
        return {&gemm_ukernel_avx512<T, mr, nv, E / nv + 1, E % nv + 1>...};
    }
};

}  // namespace loom::detail

#endif
