#pragma once
// Flatten: (N, d1, d2, ...) -> (N, d1*d2*...). A reshape of the view, so it copies nothing.
#include "loom/layers/layer.hpp"

namespace loom {

template <class T>
class Flatten : public Layer<T> {
public:
    std::string type() const override { return "Flatten"; }
    std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Flatten>(*this); }

    TensorView<const T> forward(TensorView<const T> x, bool) override {
        this->check_input(x);
        batch_ = x.dim(0);
        return x.reshaped({batch_, this->output_shape()[0]});
    }
    TensorView<const T> backward(TensorView<const T> g) override {
        this->check_grad(g, batch_);
        return g.reshaped(this->input_shape().with_batch(batch_));
    }
    static std::unique_ptr<Layer<T>> from_config(const LayerConfig&) { return std::make_unique<Flatten>(); }

protected:
    Shape do_build(const Shape& input, Rng&) override { return Shape{input.elements()}; }

private:
    std::size_t batch_ = 0;
};

}  // namespace loom
