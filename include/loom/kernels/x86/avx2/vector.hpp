#pragma once
// AVX2+FMA vector traits for the x86 micro-kernel (x86/microkernel.hpp): one ymm register of float or
// double, with partial loads and stores for the right edge of C and for packing. Each function is
// compiled for AVX2 and FMA alone (a target attribute), so the rest of the program stays baseline x86-64.
//
// A partial load is a vmaskmov; a partial store is not: the vmaskmov store is slow on AMD (on Zen 4 the
// transposed packing of A, whose 6-row panels end every vector with one, was 12% of a LeNet training
// step against 3% after), so the first n lanes are stored as 16-, 8- and 4-byte pieces, which touch
// nothing past them either.
#include <cstddef>

#include "loom/kernels/cpu_features.hpp"

#if LOOM_X86
#include <immintrin.h>

namespace loom::detail {

#define LOOM_TARGET_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

// The first `count` lanes of a vector: the vmaskmov mask for loads, the count for stores.
struct Avx2Mask {
    __m256i bits;
    std::size_t count;
};

// Stores the low `bytes` bytes of v (a multiple of 4, at most 32) at p.
LOOM_TARGET_AVX2 void store_low_bytes(void* p, __m256 v, std::size_t bytes) {
    auto* to = static_cast<char*>(p);
    if (bytes == 32) {
        _mm256_storeu_ps(reinterpret_cast<float*>(to), v);
        return;
    }
    __m128 part = _mm256_castps256_ps128(v);
    if (bytes >= 16) {
        _mm_storeu_ps(reinterpret_cast<float*>(to), part);
        to += 16;
        bytes -= 16;
        part = _mm256_extractf128_ps(v, 1);
    }
    if (bytes >= 8) {
        _mm_storel_pi(reinterpret_cast<__m64*>(to), part);
        to += 8;
        bytes -= 8;
        part = _mm_movehl_ps(part, part);
    }
    if (bytes >= 4) _mm_store_ss(reinterpret_cast<float*>(to), part);
}

template <class T>
struct Avx2Vec;

template <>
struct Avx2Vec<float> {
    using Scalar = float;
    using V = __m256;
    using Mask = Avx2Mask;
    static constexpr std::size_t lanes = 8;
    LOOM_TARGET_AVX2 static V zero() { return _mm256_setzero_ps(); }
    LOOM_TARGET_AVX2 static V load(const float* p) { return _mm256_load_ps(p); }
    LOOM_TARGET_AVX2 static V loadu(const float* p) { return _mm256_loadu_ps(p); }
    LOOM_TARGET_AVX2 static void storeu(float* p, V v) { _mm256_storeu_ps(p, v); }
    LOOM_TARGET_AVX2 static V set1(float x) { return _mm256_set1_ps(x); }
    LOOM_TARGET_AVX2 static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    LOOM_TARGET_AVX2 static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    LOOM_TARGET_AVX2 static Mask first(std::size_t n) {
        return {_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
                n};
    }
    LOOM_TARGET_AVX2 static V loadu(Mask m, const float* p) { return _mm256_maskload_ps(p, m.bits); }
    LOOM_TARGET_AVX2 static void storeu(Mask m, float* p, V v) { store_low_bytes(p, v, m.count * sizeof(float)); }
};

template <>
struct Avx2Vec<double> {
    using Scalar = double;
    using V = __m256d;
    using Mask = Avx2Mask;
    static constexpr std::size_t lanes = 4;
    LOOM_TARGET_AVX2 static V zero() { return _mm256_setzero_pd(); }
    LOOM_TARGET_AVX2 static V load(const double* p) { return _mm256_load_pd(p); }
    LOOM_TARGET_AVX2 static V loadu(const double* p) { return _mm256_loadu_pd(p); }
    LOOM_TARGET_AVX2 static void storeu(double* p, V v) { _mm256_storeu_pd(p, v); }
    LOOM_TARGET_AVX2 static V set1(double x) { return _mm256_set1_pd(x); }
    LOOM_TARGET_AVX2 static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    LOOM_TARGET_AVX2 static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
    LOOM_TARGET_AVX2 static Mask first(std::size_t n) {
        return {_mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(n)), _mm256_setr_epi64x(0, 1, 2, 3)), n};
    }
    LOOM_TARGET_AVX2 static V loadu(Mask m, const double* p) { return _mm256_maskload_pd(p, m.bits); }
    LOOM_TARGET_AVX2 static void storeu(Mask m, double* p, V v) {
        store_low_bytes(p, _mm256_castpd_ps(v), m.count * sizeof(double));
    }
};

#undef LOOM_TARGET_AVX2

}  // namespace loom::detail

#endif
