#pragma once
// Activation<T, Fn>: the shared machinery of element-wise activations. Fn supplies the forward kernel
// and the derivative expressed through the output y (tanh' = 1 - y^2, sigmoid' = y (1 - y),
// relu' = [y > 0]), so backward needs only the stored output, never the input.
#include <string>

#include "loom/core/parallel.hpp"
#include "loom/kernels/activation_kernels.hpp"
#include "loom/layers/layer.hpp"

namespace loom {

template <class T, class Fn>
class Activation : public Layer<T> {
public:
    using Function = Fn;

    std::string type() const override { return Fn::name; }
    std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Activation>(*this); }

    TensorView<const T> forward(TensorView<const T> x, bool) override {
        this->check_input(x);
        y_.resize(x.shape());
        parallel_for(x.size(), 1 << 15, [&](std::size_t b, std::size_t e) { Fn::apply(x.data() + b, y_.data() + b, e - b); });
        return y_.view();
    }

    TensorView<const T> backward(TensorView<const T> g) override {
        this->check_grad(g, y_.dim(0));
        dx_.resize(y_.shape());
        const T* y = y_.data();
        T* dx = dx_.data();
        parallel_for(g.size(), 1 << 15, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) dx[i] = g[i] * Fn::derivative(y[i]);
        });
        return dx_.view();
    }

    static std::unique_ptr<Layer<T>> from_config(const LayerConfig&) { return std::make_unique<Activation>(); }

protected:
    Shape do_build(const Shape& input, Rng&) override { return input; }

private:
    Tensor<T> y_, dx_;
};

namespace activation {
struct TanhFn {
    static constexpr const char* name = "Tanh";
    template <class T>
    static void apply(const T* x, T* y, std::size_t n) { kernels::tanh(x, y, n); }
    template <class T>
    static T derivative(T y) { return T(1) - y * y; }
};
struct SigmoidFn {
    static constexpr const char* name = "Sigmoid";
    template <class T>
    static void apply(const T* x, T* y, std::size_t n) { kernels::sigmoid(x, y, n); }
    template <class T>
    static T derivative(T y) { return y * (T(1) - y); }
};
struct ReluFn {
    static constexpr const char* name = "ReLU";
    template <class T>
    static void apply(const T* x, T* y, std::size_t n) { kernels::relu(x, y, n); }
    template <class T>
    static T derivative(T y) { return y > T(0) ? T(1) : T(0); }
};
}  // namespace activation

template <class T>
using Tanh = Activation<T, activation::TanhFn>;
template <class T>
using Sigmoid = Activation<T, activation::SigmoidFn>;
template <class T>
using ReLU = Activation<T, activation::ReluFn>;

}  // namespace loom
