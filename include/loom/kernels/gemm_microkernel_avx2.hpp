#pragma once
// AVX2+FMA micro-kernels, for x86-64 CPUs without AVX-512 (and to compare against it). Function-level
// target attributes keep the rest of the program baseline x86-64; gemm.hpp calls them only after
// active_isa() said the CPU has AVX2 and FMA.
//
// Shape: 6 rows x 2 ymm vectors (6 x 16 float, 6 x 8 double): 12 accumulators + 2 B vectors + 1
// broadcast = 15 of the 16 ymm registers. Each B load feeds 6 FMAs, each broadcast 2, which keeps the
// loop FMA-bound, and 12 independent chains cover the FMA latency of two pipes.
#include <cstddef>
#include <utility>

#include "loom/kernels/gemm_microkernel_generic.hpp"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define LOOM_HAVE_AVX2_KERNELS 1
#include <immintrin.h>

namespace loom::detail {

#define LOOM_TARGET_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

template <class T>
struct Avx2Vec;

template <>
struct Avx2Vec<float> {
    using V = __m256;
    static constexpr std::size_t lanes = 8;
    LOOM_TARGET_AVX2 static V zero() { return _mm256_setzero_ps(); }
    LOOM_TARGET_AVX2 static V load(const float* p) { return _mm256_load_ps(p); }
    LOOM_TARGET_AVX2 static V loadu(const float* p) { return _mm256_loadu_ps(p); }
    LOOM_TARGET_AVX2 static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
    LOOM_TARGET_AVX2 static V set1(float x) { return _mm256_set1_ps(x); }
    LOOM_TARGET_AVX2 static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    LOOM_TARGET_AVX2 static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};

template <>
struct Avx2Vec<double> {
    using V = __m256d;
    static constexpr std::size_t lanes = 4;
    LOOM_TARGET_AVX2 static V zero() { return _mm256_setzero_pd(); }
    LOOM_TARGET_AVX2 static V load(const double* p) { return _mm256_load_pd(p); }
    LOOM_TARGET_AVX2 static V loadu(const double* p) { return _mm256_loadu_pd(p); }
    LOOM_TARGET_AVX2 static void storeu(double* p, V v) { _mm256_storeu_pd(p, v); }
    LOOM_TARGET_AVX2 static V set1(double x) { return _mm256_set1_pd(x); }
    LOOM_TARGET_AVX2 static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    LOOM_TARGET_AVX2 static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
};

// Computes the first ROWS rows of an MR-row tile (ROWS < MR for the bottom edge of C: no FMAs are spent
// on padding rows, which matters for LeNet's M = 20 and 50).
template <class T, std::size_t MR, std::size_t ROWS, std::size_t NV>
__attribute__((target("avx2,fma"))) void gemm_ukernel_avx2(std::size_t kc, const T* a, const T* b, T* c,
                                                            std::size_t ldc, T alpha, T beta) {
    using Vec = Avx2Vec<T>;
    using V = typename Vec::V;
    constexpr std::size_t L = Vec::lanes;
    constexpr std::size_t NR = NV * L;
    V acc[ROWS][NV];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NV; ++j) acc[i][j] = Vec::zero();
    // Touch the C tile now so its lines arrive while the k loop runs, not when the stores need them.
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 2
    for (std::size_t p = 0; p < kc; ++p) {
        V bv[NV];
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NV; ++j) bv[j] = Vec::load(b + j * L);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < ROWS; ++i) {
            const V ai = Vec::set1(a[i]);
#pragma GCC unroll 4
            for (std::size_t j = 0; j < NV; ++j) acc[i][j] = Vec::fmadd(ai, bv[j], acc[i][j]);
        }
        a += MR;
        b += NR;
    }
    const V va = Vec::set1(alpha);
    if (beta == T(0)) {
#pragma GCC unroll 16
        for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
            for (std::size_t j = 0; j < NV; ++j) Vec::storeu(c + i * ldc + j * L, Vec::mul(va, acc[i][j]));
    } else {
        const V vb = Vec::set1(beta);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
            for (std::size_t j = 0; j < NV; ++j) {
                T* cij = c + i * ldc + j * L;
                Vec::storeu(cij, Vec::fmadd(va, acc[i][j], Vec::mul(vb, Vec::loadu(cij))));
            }
    }
}

#undef LOOM_TARGET_AVX2

template <class T>
struct GemmKernelAvx2 {
    static constexpr std::size_t mr = 6;
    static constexpr std::size_t nv = 2;
    static constexpr std::size_t nr = nv * Avx2Vec<T>::lanes;
    static void run(std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc, T alpha, T beta) {
        gemm_ukernel_avx2<T, mr, mr, nv>(kc, a, b, c, ldc, alpha, beta);
    }
    // The first `rows` (< mr) rows of a tile.
    static void run_rows(std::size_t rows, std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc,
                         T alpha, T beta) {
        dispatch_rows(rows, kc, a, b, c, ldc, alpha, beta, std::make_index_sequence<mr>{});
    }

private:
    template <std::size_t... R>
    static void dispatch_rows(std::size_t rows, std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc,
                              T alpha, T beta, std::index_sequence<R...>) {
        using Fn = void (*)(std::size_t, const T*, const T*, T*, std::size_t, T, T);
        static constexpr Fn table[] = {&gemm_ukernel_avx2<T, mr, R + 1, nv>...};
        table[rows - 1](kc, a, b, c, ldc, alpha, beta);
    }
};

}  // namespace loom::detail

#endif
