#pragma once
// AVX2+FMA micro-kernels, for x86-64 CPUs without AVX-512 (and to compare against it). Function-level
// target attributes keep the rest of the program baseline x86-64; gemm.hpp calls them only after
// active_isa() said the CPU has AVX2 and FMA.
//
// Shape: 6 rows x 2 ymm vectors (6 x 16 float, 6 x 8 double): 12 accumulators + 2 B vectors + 1
// broadcast = 15 of the 16 ymm registers. Each B load feeds 6 FMAs, each broadcast 2, which keeps the
// loop FMA-bound, and 12 independent chains cover the FMA latency of two pipes. Edge tiles use
// ROWS < MR / NVU < NV instantiations and vmaskmov for a partial last vector, as in the AVX-512 file.
#include <array>
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
    using Mask = __m256i;
    static constexpr std::size_t lanes = 8;
    LOOM_TARGET_AVX2 static V zero() { return _mm256_setzero_ps(); }
    LOOM_TARGET_AVX2 static V load(const float* p) { return _mm256_load_ps(p); }
    LOOM_TARGET_AVX2 static V loadu(const float* p) { return _mm256_loadu_ps(p); }
    LOOM_TARGET_AVX2 static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
    LOOM_TARGET_AVX2 static V set1(float x) { return _mm256_set1_ps(x); }
    LOOM_TARGET_AVX2 static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    LOOM_TARGET_AVX2 static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    LOOM_TARGET_AVX2 static Mask first(std::size_t n) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    LOOM_TARGET_AVX2 static V loadu(Mask m, const float* p) { return _mm256_maskload_ps(p, m); }
    LOOM_TARGET_AVX2 static void storeu(Mask m, float* p, V v) { _mm256_maskstore_ps(p, m, v); }
};

template <>
struct Avx2Vec<double> {
    using V = __m256d;
    using Mask = __m256i;
    static constexpr std::size_t lanes = 4;
    LOOM_TARGET_AVX2 static V zero() { return _mm256_setzero_pd(); }
    LOOM_TARGET_AVX2 static V load(const double* p) { return _mm256_load_pd(p); }
    LOOM_TARGET_AVX2 static V loadu(const double* p) { return _mm256_loadu_pd(p); }
    LOOM_TARGET_AVX2 static void storeu(double* p, V v) { _mm256_storeu_pd(p, v); }
    LOOM_TARGET_AVX2 static V set1(double x) { return _mm256_set1_pd(x); }
    LOOM_TARGET_AVX2 static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    LOOM_TARGET_AVX2 static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
    LOOM_TARGET_AVX2 static Mask first(std::size_t n) {
        return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(n)), _mm256_setr_epi64x(0, 1, 2, 3));
    }
    LOOM_TARGET_AVX2 static V loadu(Mask m, const double* p) { return _mm256_maskload_pd(p, m); }
    LOOM_TARGET_AVX2 static void storeu(Mask m, double* p, V v) { _mm256_maskstore_pd(p, m, v); }
};

// C[ROWS x cols] = alpha * A_panel * B_panel + beta * C, for panels packed with MR rows / NV vectors
// per k step. Only NVU (<= NV) vectors of B are multiplied; cols (<= NVU * lanes) limits the stores.
template <class T, std::size_t MR, std::size_t NV, std::size_t ROWS, std::size_t NVU>
__attribute__((target("avx2,fma"))) void gemm_ukernel_avx2(std::size_t kc, const T* a, const T* b, T* c,
                                                            std::size_t ldc, T alpha, T beta, std::size_t cols) {
    using Vec = Avx2Vec<T>;
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
#pragma GCC unroll 2
    for (std::size_t p = 0; p < kc; ++p) {
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

#undef LOOM_TARGET_AVX2

template <class T>
struct GemmKernelAvx2 {
    static constexpr std::size_t mr = 6;
    static constexpr std::size_t nv = 2;
    static constexpr std::size_t nr = nv * Avx2Vec<T>::lanes;

    // A full MR x NR tile.
    static void run(std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc, T alpha, T beta) {
        gemm_ukernel_avx2<T, mr, nv, mr, nv>(kc, a, b, c, ldc, alpha, beta, nr);
    }
    // The top-left rows x cols of a tile (rows <= mr, cols <= nr).
    static void run_edge(std::size_t rows, std::size_t cols, std::size_t kc, const T* a, const T* b, T* c,
                         std::size_t ldc, T alpha, T beta) {
        static constexpr auto table = make_table(std::make_index_sequence<mr * nv>{});
        const std::size_t vectors = (cols + Avx2Vec<T>::lanes - 1) / Avx2Vec<T>::lanes;
        table[(rows - 1) * nv + (vectors - 1)](kc, a, b, c, ldc, alpha, beta, cols);
    }

private:
    using Fn = void (*)(std::size_t, const T*, const T*, T*, std::size_t, T, T, std::size_t);
    // Entry (rows - 1) * nv + (vectors - 1).
    template <std::size_t... E>
    static constexpr std::array<Fn, sizeof...(E)> make_table(std::index_sequence<E...>) {
        return {&gemm_ukernel_avx2<T, mr, nv, E / nv + 1, E % nv + 1>...};
    }
};

}  // namespace loom::detail

#endif
