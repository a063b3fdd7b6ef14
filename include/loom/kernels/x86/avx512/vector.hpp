#pragma once
// AVX-512 vector traits for the x86 micro-kernel (x86/microkernel.hpp): one zmm register of float or
// double, with masked loads and stores for partial vectors at the right edge of C. Each function is
// compiled for AVX-512 alone (a target attribute), so the rest of the program stays baseline x86-64.
#include <cstddef>

#include "loom/kernels/cpu_features.hpp"

#if LOOM_X86
#include <immintrin.h>

namespace loom::detail {

#define LOOM_TARGET_AVX512 __attribute__((target("avx512f"), always_inline)) inline

template <class T>
struct Avx512Vec;

template <>
struct Avx512Vec<float> {
    using Scalar = float;
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
    using Scalar = double;
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

#undef LOOM_TARGET_AVX512

}  // namespace loom::detail

#endif
