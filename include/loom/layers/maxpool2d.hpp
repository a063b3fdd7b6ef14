#pragma once
// MaxPool2D on NHWC batches. Forward remembers where each maximum came from, so backward is a
// scatter of the output gradient to those positions and never re-scans the windows.
#include <cstdint>
#include <limits>

#include "loom/core/parallel.hpp"
#include "loom/layers/layer.hpp"
#include "loom/layers/padding.hpp"

namespace loom {

template <class T>
class MaxPool2D : public Layer<T> {
public:
    // stride 0 means "same as the pool size", Keras' default.
    explicit MaxPool2D(std::size_t pool_size, std::size_t stride = 0, Padding padding = Padding::Valid)
        : pool_(pool_size), stride_(stride ? stride : pool_size), padding_(padding) {
        require<ArgumentError>(pool_size >= 1, "MaxPool2D: expected a pool size >= 1, got ", pool_size);
    }

    std::string type() const override { return "MaxPool2D"; }

    TensorView<const T> forward(TensorView<const T> x, bool) override {
        this->check_input(x);
        const std::size_t n = x.dim(0), c = in_c_, out_per_sample = oh_ * ow_ * c;
        y_.resize({n, oh_, ow_, c});
        argmax_.resize(n * out_per_sample);
        parallel_for(n, 1, [&](std::size_t begin, std::size_t end) {
            for (std::size_t s = begin; s < end; ++s) {
                const T* image = x.data() + s * in_h_ * in_w_ * c;
                T* out = y_.data() + s * out_per_sample;
                std::uint32_t* arg = argmax_.data() + s * out_per_sample;
                for (std::size_t oy = 0; oy < oh_; ++oy)
                    for (std::size_t ox = 0; ox < ow_; ++ox) {
                        T* best = out + (oy * ow_ + ox) * c;
                        std::uint32_t* where = arg + (oy * ow_ + ox) * c;
                        std::fill(best, best + c, -std::numeric_limits<T>::infinity());
                        std::fill(where, where + c, 0u);
                        for (std::size_t ky = 0; ky < pool_; ++ky) {
                            const auto iy = static_cast<std::ptrdiff_t>(oy * stride_ + ky) - static_cast<std::ptrdiff_t>(pad_top_);
                            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in_h_)) continue;
                            for (std::size_t kx = 0; kx < pool_; ++kx) {
                                const auto ix = static_cast<std::ptrdiff_t>(ox * stride_ + kx) - static_cast<std::ptrdiff_t>(pad_left_);
                                if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(in_w_)) continue;
                                const auto offset = static_cast<std::uint32_t>((static_cast<std::size_t>(iy) * in_w_ + static_cast<std::size_t>(ix)) * c);
                                for (std::size_t ch = 0; ch < c; ++ch)
                                    if (image[offset + ch] > best[ch]) {
                                        best[ch] = image[offset + ch];
                                        where[ch] = offset + static_cast<std::uint32_t>(ch);
                                    }
                            }
                        }
                    }
            }
        });
        return y_.view();
    }

    TensorView<const T> backward(TensorView<const T> g) override {
        const std::size_t n = y_.dim(0), out_per_sample = oh_ * ow_ * in_c_, in_per_sample = in_h_ * in_w_ * in_c_;
        this->check_grad(g, n);
        if (!this->input_gradient_needed()) return {};
        dx_.resize(this->input_shape().with_batch(n));
        dx_.fill(T(0));
        parallel_for(n, 1, [&](std::size_t begin, std::size_t end) {
            for (std::size_t s = begin; s < end; ++s) {
                T* image = dx_.data() + s * in_per_sample;
                for (std::size_t i = s * out_per_sample; i < (s + 1) * out_per_sample; ++i) image[argmax_[i]] += g[i];
            }
        });
        return dx_.view();
    }

    LayerConfig config() const override {
        return LayerConfig{}
            .set("pool", static_cast<std::int64_t>(pool_))
            .set("stride", static_cast<std::int64_t>(stride_))
            .set("padding", std::string(padding_ == Padding::Same ? "same" : "valid"));
    }
    static std::unique_ptr<Layer<T>> from_config(const LayerConfig& c) {
        return std::make_unique<MaxPool2D>(static_cast<std::size_t>(c.integer("pool")),
                                           static_cast<std::size_t>(c.integer("stride")),
                                           c.text("padding") == "same" ? Padding::Same : Padding::Valid);
    }

protected:
    Shape do_build(const Shape& input, Rng&) override {
        require<ShapeError>(input.rank() == 3, "MaxPool2D expects images of shape (height, width, channels), got ",
                            input);
        in_h_ = input[0];
        in_w_ = input[1];
        in_c_ = input[2];
        require<ShapeError>(input.elements() < (std::size_t{1} << 32), "MaxPool2D: input of ", input.elements(),
                            " values per sample is too large");
        const auto rows = window_1d(in_h_, pool_, stride_, padding_, "MaxPool2D");
        const auto cols = window_1d(in_w_, pool_, stride_, padding_, "MaxPool2D");
        oh_ = rows.out;
        ow_ = cols.out;
        pad_top_ = rows.pad;
        pad_left_ = cols.pad;
        return Shape{oh_, ow_, in_c_};
    }

private:
    std::size_t pool_, stride_;
    Padding padding_;
    std::size_t in_h_ = 0, in_w_ = 0, in_c_ = 0, oh_ = 0, ow_ = 0, pad_top_ = 0, pad_left_ = 0;
    Tensor<T> y_, dx_;
    std::vector<std::uint32_t> argmax_;
};

}  // namespace loom
