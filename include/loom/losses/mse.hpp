#pragma once
// Mean squared error: per sample, the mean over outputs of (p - y)^2 (Keras' definition).
#include "loom/core/key_function.hpp"
#include "loom/losses/loss.hpp"

namespace loom {

class MSE : public LossImpl<MSE> {
public:
#if LOOM_KEY_FUNCTION_OUT_OF_LINE
    std::string name() const override;  // the key function: core/key_function.hpp
#else
    std::string name() const override { return "MSE"; }
#endif

    template <class T>
    double sum(TensorView<const T> p, TensorView<const T> y) const {
        double total = 0;
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double d = static_cast<double>(p[i]) - static_cast<double>(y[i]);
            total += d * d;
        }
        return total / static_cast<double>(outputs_per_sample(p));
    }

    template <class T>
    void grad(TensorView<const T> p, TensorView<const T> y, TensorView<T> g, T scale) const {
        const T factor = T(2) * scale / static_cast<T>(outputs_per_sample(p));
        for (std::size_t i = 0; i < p.size(); ++i) g[i] = factor * (p[i] - y[i]);
    }

private:
    template <class T>
    static std::size_t outputs_per_sample(TensorView<const T> p) {
        return p.rank() == 0 || p.dim(0) == 0 ? 1 : p.size() / p.dim(0);
    }
};

#ifdef LOOM_INSTANTIATE_TEMPLATES
std::string MSE::name() const { return "MSE"; }
#endif

}  // namespace loom
