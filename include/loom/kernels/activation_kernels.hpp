#pragma once
// Element-wise activation kernels. For float, exp is computed by range reduction and a polynomial
// written so that compilers vectorise the loops (std::exp and std::tanh do not vectorise without
// -ffast-math, and tanh alone would otherwise cost more than LeNet's convolutions). Relative error
// of exp_approx is about 2e-7, i.e. float rounding. double keeps the exact library functions, which
// the finite-difference gradient tests rely on.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "loom/kernels/cpu_features.hpp"

namespace loom::kernels {

namespace detail {

// e^x = 2^n * e^r with n = round(x / ln 2), |r| <= ln2 / 2, for x already clamped to [-87, 88]: sets
// t = x / ln 2 + shifter (whose low bits hold n) and p = e^r by its Taylor polynomial. V is float or a
// GCC/Clang vector of floats (the caller builds 2^n from t's bits in its own way).
inline constexpr float exp_shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits

template <class V>
[[gnu::always_inline]] inline void exp_reduce(const V& x, V& t, V& p) {
    t = x * 1.44269504088896341f + exp_shifter;
    const V n = t - exp_shifter;
    const V r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
    p = r * (1.0f / 5040) + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
}

}  // namespace detail

inline float exp_approx(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float t, p;
    detail::exp_reduce(x, t, p);
    const auto exponent = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(detail::exp_shifter));
    return p * std::bit_cast<float>(static_cast<std::uint32_t>(exponent + 127) << 23);
}

inline float tanh_approx(float x) {
    // tanh x = 1 - 2 / (e^{2x} + 1); absolute error ~1e-7, and exact saturation at +-1.
    return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f);
}

inline float sigmoid_approx(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

namespace detail {

// exp_approx on every lane of a GCC/Clang vector of floats: the same steps, with the clamp as lane
// selects. (Left to the vectoriser, the scalar function's clamp becomes branches, and GCC then keeps
// the loop scalar on AVX2 and SSE2.)
template <class V>
[[gnu::always_inline]] inline void exp_lanes(V& x) {
    using I = decltype(x < x);  // the integer vector of the same shape
    const V lo = V{} - 87.0f, hi = V{} + 88.0f, shifter = V{} + exp_shifter;
    x = x < lo ? lo : (x > hi ? hi : x);
    V t, p;
    exp_reduce(x, t, p);
    // Casts between vector types of one size reinterpret the bits (std::bit_cast would return a
    // vector by value from a function not compiled for its width).
    const I exponent = (I)t - (I)shifter;
    x = p * (V)((exponent + 127) << 23);
}

struct ExpOp {
    static float apply(float x) { return exp_approx(x); }
    template <class V>
    [[gnu::always_inline]] static void apply_lanes(V& x) {
        exp_lanes(x);
    }
};
struct TanhOp {
    static float apply(float x) { return tanh_approx(x); }
    template <class V>
    [[gnu::always_inline]] static void apply_lanes(V& x) {
        x = x + x;
        exp_lanes(x);
        x = 1.0f - 2.0f / (x + 1.0f);
    }
};
struct SigmoidOp {
    static float apply(float x) { return sigmoid_approx(x); }
    template <class V>
    [[gnu::always_inline]] static void apply_lanes(V& x) {
        x = -x;
        exp_lanes(x);
        x = 1.0f / (1.0f + x);
    }
};

// y = Op(x) a vector of Bytes at a time, the last n % lanes values one by one. Compiled three times:
// for the baseline ISA, AVX2 and AVX-512; the polynomial is where the time goes, and a binary built
// without -march=native would otherwise only ever use SSE2's four lanes.
template <class Op, std::size_t Bytes>
[[gnu::always_inline]] inline void map_lanes(const float* x, float* y, std::size_t n) {
    typedef float V __attribute__((vector_size(Bytes)));
    constexpr std::size_t lanes = Bytes / sizeof(float);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        V v;
        std::memcpy(&v, x + i, sizeof v);
        Op::apply_lanes(v);
        std::memcpy(y + i, &v, sizeof v);
    }
    for (; i < n; ++i) y[i] = Op::apply(x[i]);
}

template <class Op>
void map_generic(const float* x, float* y, std::size_t n) {
    map_lanes<Op, 16>(x, y, n);
}

#if LOOM_X86
template <class Op>
__attribute__((target("avx2,fma"))) void map_avx2(const float* x, float* y, std::size_t n) {
    map_lanes<Op, 32>(x, y, n);
}

template <class Op>
__attribute__((target("avx512f,avx2,fma"))) void map_avx512(const float* x, float* y, std::size_t n) {
    map_lanes<Op, 64>(x, y, n);
}
#endif

template <class Op>
void map(const float* x, float* y, std::size_t n) {
#if LOOM_X86
    switch (active_isa()) {
        case Isa::Avx512: return map_avx512<Op>(x, y, n);
        case Isa::Avx2: return map_avx2<Op>(x, y, n);
        case Isa::Generic: break;
    }
#endif
    map_generic<Op>(x, y, n);
}

}  // namespace detail

template <class T>
void exp(const T* x, T* y, std::size_t n) {
    if constexpr (std::is_same_v<T, float>) {
        detail::map<detail::ExpOp>(x, y, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
    }
}

template <class T>
void tanh(const T* x, T* y, std::size_t n) {
    if constexpr (std::is_same_v<T, float>) {
        detail::map<detail::TanhOp>(x, y, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
    }
}

template <class T>
void sigmoid(const T* x, T* y, std::size_t n) {
    if constexpr (std::is_same_v<T, float>) {
        detail::map<detail::SigmoidOp>(x, y, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
    }
}

template <class T>
void relu(const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

}  // namespace loom::kernels
