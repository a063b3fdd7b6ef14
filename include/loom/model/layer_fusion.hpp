#pragma once
// Pairs of layers that Sequential runs as one pass over memory: an element-wise activation (Tanh,
// Sigmoid, ReLU) followed by MaxPool2D, as in LeNet. Apart, the activation writes a tensor that the
// pool reads back, and backward writes the pool's input gradient for the activation to read back.
//  - Forward (training and inference): pooling commutes with a non-decreasing activation, so the pool
//    runs on the activation's input and the activation on the pooled quarter (MaxPool2D::forward_then).
//  - Backward: the pool routes its gradient, times the activation's derivative at the pooled output,
//    to the window maxima (MaxPool2D::backward_through). A window whose maximum ties with another
//    input only after the activation (a saturated tanh) sends its gradient to the larger input, not to
//    the first in the window; the derivative there is the same.
// And at inference, a Conv2D before such a pair when the pool is 2x2 at stride 2 and the convolution
// is Direct or Winograd (both of LeNet's): Conv2D::forward_pooled pools the output while it is in L1
// (two rows at a time, or a Winograd block as it is transformed back), so the convolution's whole
// output never goes to memory (LeNet inference on Zen 5: docs/performance.md). Training keeps the
// convolution's output for the pool's backward.
#include "loom/layers/activation.hpp"
#include "loom/layers/conv2d.hpp"
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

// Forward through `act` then `pool` in one pass; false (nothing run) unless they are such a pair.
template <class T>
bool fused_forward(Layer<T>& act, Layer<T>& pool, TensorView<const T> x, TensorView<const T>& out) {
    auto* max_pool = dynamic_cast<MaxPool2D<T>*>(&pool);
    if (!max_pool) return false;
    return visit_activation(act, [&](auto& a) {
        using Fn = typename std::remove_reference_t<decltype(a)>::Function;
        out = max_pool->forward_then(x, [](const T* in, T* y, std::size_t n) { Fn::apply(in, y, n); });
    });
}

// Inference through `conv`, `act` and `pool` in one pass; false (nothing run) unless they are such a
// triple (a Direct or Winograd Conv2D, an element-wise activation, a 2x2 pool at stride 2 inside the
// image).
template <class T>
bool fused_inference(Layer<T>& conv, Layer<T>& act, Layer<T>& pool, TensorView<const T> x, TensorView<const T>& out) {
    auto* convolution = dynamic_cast<Conv2D<T>*>(&conv);
    auto* max_pool = dynamic_cast<MaxPool2D<T>*>(&pool);
    if (!convolution || !max_pool || !max_pool->pools_2x2_inside()) return false;
    bool ran = false;
    visit_activation(act, [&](auto& a) {
        using Fn = typename std::remove_reference_t<decltype(a)>::Function;
        ran = convolution->forward_pooled(x, [](const T* in, T* y, std::size_t n) { Fn::apply(in, y, n); }, out);
    });
    return ran;
}

// Backward through `pool` then `act` (the layer before it), after fused_forward ran them.
template <class T>
TensorView<const T> fused_backward(Layer<T>& pool, Layer<T>& act, TensorView<const T> g) {
    TensorView<const T> out;
    visit_activation(act, [&](auto& a) {
        using Fn = typename std::remove_reference_t<decltype(a)>::Function;
        out = static_cast<MaxPool2D<T>&>(pool).backward_through(g, [](T y) { return Fn::derivative(y); });
    });
    return out;
}

}  // namespace loom::detail
