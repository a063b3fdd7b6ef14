#pragma once
// Pairs of layers that Sequential runs as one pass over memory: an element-wise activation (Tanh,
// Sigmoid, ReLU) followed by MaxPool2D, as in LeNet. Apart, the activation writes a tensor that the
// pool reads back, and backward writes the pool's input gradient for the activation to read back.
//  - Inference: pooling commutes with a non-decreasing activation, so the pool runs on the
//    activation's input and the activation on the pooled quarter (MaxPool2D::forward_then).
//  - Training backward: the pool routes its gradient to the window maxima times the activation's
//    derivative there, which is the activation's backward too (MaxPool2D::backward_through).
// Training's forward pass stays apart: the activation's output is what both backward passes need.
#include "loom/layers/activation.hpp"
#include "loom/layers/layer.hpp"
#include "loom/layers/maxpool2d.hpp"

namespace loom::detail {

// Calls visit(activation) with `layer` as its Activation<T, Fn> type if it is one of loom's
// element-wise activations; returns whether it was.
template <class T, class Visit>
bool visit_activation(Layer<T>& layer, Visit&& visit) {
    if (auto* a = dynamic_cast<Activation<T, activation::TanhFn>*>(&layer)) return visit(*a), true;
    if (auto* a = dynamic_cast<Activation<T, activation::SigmoidFn>*>(&layer)) return visit(*a), true;
    if (auto* a = dynamic_cast<Activation<T, activation::ReluFn>*>(&layer)) return visit(*a), true;
    return false;
}

// Inference through `act` then `pool` in one pass; false (nothing run) unless they are such a pair.
template <class T>
bool fused_forward(Layer<T>& act, Layer<T>& pool, TensorView<const T> x, TensorView<const T>& out) {
    auto* max_pool = dynamic_cast<MaxPool2D<T>*>(&pool);
    if (!max_pool) return false;
    return visit_activation(act, [&](auto& a) {
        using Fn = typename std::remove_reference_t<decltype(a)>::Function;
        out = max_pool->forward_then(x, [](const T* in, T* y, std::size_t n) { Fn::apply(in, y, n); });
    });
}

// Backward through `pool` then `act` (the layer before it) in one pass; false unless they are such
// a pair and the activation needs its input gradient.
template <class T>
bool fused_backward(Layer<T>& pool, Layer<T>& act, TensorView<const T> g, TensorView<const T>& out) {
    auto* max_pool = dynamic_cast<MaxPool2D<T>*>(&pool);
    if (!max_pool || !act.input_gradient_needed()) return false;
    return visit_activation(act, [&](auto& a) {
        using Fn = typename std::remove_reference_t<decltype(a)>::Function;
        out = max_pool->backward_through(g, [](T y) { return Fn::derivative(y); });
    });
}

}  // namespace loom::detail
