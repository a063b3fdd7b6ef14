#pragma once
// Dense: y = x W + b for a batch x of shape (N, in); W is (in, out). Forward and both backward
// products are single GEMM calls on the whole batch, with transposes instead of copies.
#include <cstdint>

#include "loom/core/error.hpp"
#include "loom/kernels/column_sums.hpp"
#include "loom/kernels/gemm.hpp"
#include "loom/layers/initializer.hpp"
#include "loom/layers/layer.hpp"

namespace loom {

template <class T>
class Dense : public Layer<T> {
public:
    explicit Dense(std::size_t units, Initializer kernel_init = Initializer::glorot_uniform(),
                   Initializer bias_init = Initializer::zeros())
        : units_(units), kernel_init_(kernel_init), bias_init_(bias_init) {
        require<ArgumentError>(units >= 1, "Dense: expected at least 1 unit, got ", units);
    }

    std::string type() const override { return "Dense"; }

    std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Dense>(*this); }
    std::size_t units() const { return units_; }
    Tensor<T>& weights() { return w_; }
    Tensor<T>& bias() { return b_; }

    TensorView<const T> forward(TensorView<const T> x, bool) override {
        this->check_input(x);
        x_ = x;
        x_bytes_ = {};
        return affine(x.dim(0), T(1), x.data());
    }

    // forward for an input given as bytes that stand for byte * scale (a model's first layer on image
    // pixels, Samples<T>): the bytes go into the GEMMs as they are, with the scale applied to each
    // product (so the result equals forward's on the values to rounding), and never exist as T.
    // Sequential uses it for byte samples when this is its first layer past any Flatten.
    TensorView<const T> forward_bytes(TensorView<const std::uint8_t> x, T scale) {
        require<ShapeError>(x.rank() == 2 && x.dim(1) == in_, "Dense: expected byte inputs of shape (N, ", in_,
                            "), got ", x.shape());
        x_ = {};
        x_bytes_ = x;
        x_scale_ = scale;
        return affine(x.dim(0), scale, x.data());
    }

    TensorView<const T> backward(TensorView<const T> g) override {
        const bool bytes = x_bytes_.data() != nullptr;
        const std::size_t n = bytes ? x_bytes_.dim(0) : x_.dim(0);
        this->check_grad(g, n);
        // dW = x^T g, db = column sums of g, dx = g W^T
        if (bytes) kernel_gradient(n, x_scale_, x_bytes_.data(), g.data());
        else kernel_gradient(n, T(1), x_.data(), g.data());
        kernels::column_sums(g.data(), n, units_, db_.data());
        if (!this->input_gradient_needed()) return {};
        dx_.resize(bytes ? Shape{n, in_} : x_.shape());
        gemm<T>(Transpose::No, Transpose::Yes, n, in_, units_, T(1), g.data(), units_, w_.data(), units_, T(0),
                dx_.data(), in_);
        return dx_.view();
    }

    std::vector<Parameter<T>> parameters() override { return {{"kernel", &w_, &dw_}, {"bias", &b_, &db_}}; }

    LayerConfig config() const override {
        LayerConfig c;
        c.set("units", static_cast<std::int64_t>(units_));
        kernel_init_.save(c, "kernel");
        bias_init_.save(c, "bias");
        return c;
    }
    static std::unique_ptr<Layer<T>> from_config(const LayerConfig& c) {
        return std::make_unique<Dense>(c.size("units"), Initializer::load(c, "kernel"), Initializer::load(c, "bias"));
    }

    std::size_t param_count_for(const Shape& input) const override {
        if (input.rank() != 1) return 0;  // build() reports the shape
        return this->saturating_sum(this->saturating_product({input[0], units_}), units_);
    }

protected:
    Shape do_build(const Shape& input, Rng& rng) override {
        require<ShapeError>(input.rank() == 1, "Dense expects a flat input of shape (features,), got ", input,
                            "; add a Flatten layer before it");
        in_ = input[0];
        w_.resize({in_, units_});
        dw_.resize({in_, units_});
        b_.resize({units_});
        db_.resize({units_});
        kernel_init_.fill(w_, in_, units_, rng);
        bias_init_.fill(b_, in_, units_, rng);
        return Shape{units_};
    }

private:
    // y = scale * x W + b for n rows of x (T or bytes).
    template <class X>
    TensorView<const T> affine(std::size_t n, T scale, const X* x) {
        y_.resize({n, units_});
        // Broadcast the bias into y, then accumulate x W on top of it (beta = 1).
        for (std::size_t i = 0; i < n; ++i) std::copy(b_.begin(), b_.end(), y_.data() + i * units_);
        gemm<T>(Transpose::No, Transpose::No, n, units_, in_, scale, x, in_, w_.data(), units_, T(1), y_.data(), units_);
        return y_.view();
    }

    // dW = scale * x^T g for the n rows of x (T or bytes) that forward saw.
    template <class X>
    void kernel_gradient(std::size_t n, T scale, const X* x, const T* g) {
        gemm<T>(Transpose::Yes, Transpose::No, in_, units_, n, scale, x, in_, g, units_, T(0), dw_.data(), units_);
    }

    std::size_t units_, in_ = 0;
    Initializer kernel_init_, bias_init_;
    Tensor<T> w_, b_, dw_, db_, y_, dx_;
    TensorView<const T> x_;
    TensorView<const std::uint8_t> x_bytes_;  // instead of x_, after forward_bytes
    T x_scale_ = T(1);
};

}  // namespace loom
