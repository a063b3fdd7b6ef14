#pragma once
// Softmax over the last axis. When it ends a model compiled with CrossEntropy, Sequential skips its
// backward and feeds (p - y) / N straight to the layer before (the fused, numerically stable form).
#include <algorithm>
#include <cmath>

#include "loom/core/parallel.hpp"
#include "loom/kernels/activation_kernels.hpp"
#include "loom/layers/layer.hpp"

namespace loom {

template <class T>
class Softmax : public Layer<T> {
public:
    std::string type() const override { return "Softmax"; }
    std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Softmax>(*this); }

    TensorView<const T> forward(TensorView<const T> x, bool) override {
        this->check_input(x);
        y_.resize(x.shape());
        const std::size_t classes = this->input_shape()[this->input_shape().rank() - 1];
        const std::size_t rows = x.size() / classes;
        parallel_for(rows, 256, [&](std::size_t b, std::size_t e) {
            for (std::size_t r = b; r < e; ++r) {
                const T* in = x.data() + r * classes;
                T* out = y_.data() + r * classes;
                const T peak = *std::max_element(in, in + classes);  // shift keeps exp() finite
                for (std::size_t j = 0; j < classes; ++j) out[j] = in[j] - peak;
            }
            // One call for the whole range: rows are often shorter than a vector.
            T* out = y_.data() + b * classes;
            kernels::exp(out, out, (e - b) * classes);
            for (std::size_t r = b; r < e; ++r, out += classes) {
                T sum = 0;
                for (std::size_t j = 0; j < classes; ++j) sum += out[j];
                for (std::size_t j = 0; j < classes; ++j) out[j] /= sum;
            }
        });
        return y_.view();
    }

    TensorView<const T> backward(TensorView<const T> g) override {
        this->check_grad(g, y_.dim(0));
        dx_.resize(y_.shape());
        const std::size_t classes = this->input_shape()[this->input_shape().rank() - 1];
        const std::size_t rows = y_.size() / classes;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* y = y_.data() + r * classes;
            const T* gr = g.data() + r * classes;
            T dot = 0;
            for (std::size_t j = 0; j < classes; ++j) dot += gr[j] * y[j];
            for (std::size_t j = 0; j < classes; ++j) dx_[r * classes + j] = y[j] * (gr[j] - dot);
        }
        return dx_.view();
    }

    static std::unique_ptr<Layer<T>> from_config(const LayerConfig&) { return std::make_unique<Softmax>(); }

protected:
    Shape do_build(const Shape& input, Rng&) override {
        require<ShapeError>(input.rank() >= 1 && input[input.rank() - 1] >= 1,
                            "Softmax expects at least one class on the last axis, got input shape ", input);
        return input;
    }

private:
    Tensor<T> y_, dx_;
};

}  // namespace loom
