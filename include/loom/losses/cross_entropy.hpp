#pragma once
// Categorical cross-entropy: -sum_c y_c log p_c per sample, for probabilities p (a Softmax output)
// and one-hot (or soft) targets y. Probabilities are clamped away from 0 so a confident mistake
// gives a large finite loss, not infinity. After a Softmax the combined gradient is simply
// (p - y): Sequential uses softmax_gradient() then and skips Softmax::backward.
#include <algorithm>
#include <cmath>

#include "loom/core/key_function.hpp"
#include "loom/losses/loss.hpp"

namespace loom {

class CrossEntropy : public LossImpl<CrossEntropy> {
public:
#if LOOM_KEY_FUNCTION_OUT_OF_LINE
    std::string name() const override;  // the key function: core/key_function.hpp
#else
    std::string name() const override { return "CrossEntropy"; }
#endif

    template <class T>
    static constexpr T floor_probability() {
        return std::is_same_v<T, float> ? T(1e-7) : T(1e-15);
    }

    template <class T>
    double sum(TensorView<const T> p, TensorView<const T> y) const {
        double total = 0;
        for (std::size_t i = 0; i < p.size(); ++i)
            if (y[i] != T(0)) total -= static_cast<double>(y[i]) * std::log(static_cast<double>(std::max(p[i], floor_probability<T>())));
        return total;
    }

    template <class T>
    void grad(TensorView<const T> p, TensorView<const T> y, TensorView<T> g, T scale) const {
        for (std::size_t i = 0; i < p.size(); ++i) g[i] = -scale * y[i] / std::max(p[i], floor_probability<T>());
    }

    // Gradient with respect to the logits z of p = softmax(z).
    template <class T>
    void softmax_gradient(TensorView<const T> p, TensorView<const T> y, TensorView<T> g, T scale) const {
        check_shapes(name(), p.shape(), y.shape());
        for (std::size_t i = 0; i < p.size(); ++i) g[i] = scale * (p[i] - y[i]);
    }
};

#ifdef LOOM_INSTANTIATE_TEMPLATES
std::string CrossEntropy::name() const { return "CrossEntropy"; }
#endif

}  // namespace loom
