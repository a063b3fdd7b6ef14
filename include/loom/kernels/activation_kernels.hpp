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

namespace loom::kernels {

inline float exp_approx(float x) {
    // e^x = 2^n * e^r with n = round(x / ln 2), |r| <= ln2 / 2.
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits
    const float t = x * 1.44269504088896341f + shifter;
    const float n = t - shifter;
    const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const auto exponent = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(shifter));
    return p * std::bit_cast<float>(static_cast<std::uint32_t>(exponent + 127) << 23);
}

inline float tanh_approx(float x) {
    // tanh x = 1 - 2 / (e^{2x} + 1); absolute error ~1e-7, and exact saturation at +-1.
    return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f);
}

inline float sigmoid_approx(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

template <class T>
void tanh(const T* x, T* y, std::size_t n) {
    if constexpr (std::is_same_v<T, float>) {
        for (std::size_t i = 0; i < n; ++i) y[i] = tanh_approx(x[i]);
    } else {
        for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
    }
}

template <class T>
void sigmoid(const T* x, T* y, std::size_t n) {
    if constexpr (std::is_same_v<T, float>) {
        for (std::size_t i = 0; i < n; ++i) y[i] = sigmoid_approx(x[i]);
    } else {
        for (std::size_t i = 0; i < n; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
    }
}

template <class T>
void relu(const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

}  // namespace loom::kernels
