#pragma once
// MaxPool2D on NHWC batches: the maximum of each window, per channel.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "loom/core/parallel.hpp"
#include "loom/kernels/max_of_four.hpp"
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

    std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<MaxPool2D>(*this); }

    TensorView<const T> forward(TensorView<const T> x, bool) override {
        return pool(x, [](std::size_t) {});
    }

    // forward, then f on the pooled values: apply(maxima, out, count). For an element-wise,
    // non-decreasing f, max(f(a), f(b)) = f(max(a, b)), so Sequential runs an activation followed by
    // this layer as this, in training too, with f on a quarter of the values (model/layer_fusion.hpp).
    // The maxima stay for backward_through's routing and f's output for its derivative.
    template <class Apply>
    TensorView<const T> forward_then(TensorView<const T> x, Apply&& apply) {
        this->check_input(x);
        activated_.resize(Shape{x.dim(0), oh_, ow_, in_c_});
        // f runs image by image right after the image is pooled, while its maxima are still in L1.
        const std::size_t image = oh_ * ow_ * in_c_;
        pool(x, [&](std::size_t s) { apply(y_.data() + s * image, activated_.data() + s * image, image); });
        activated_valid_ = true;
        return activated_.view();
    }

    // Whether this pool takes the maxima of 2x2 windows at stride 2 that lie inside the image, as
    // Conv2D::forward_pooled does.
    bool pools_2x2_inside() const { return pool_ == 2 && stride_ == 2 && windows_inside(); }

    TensorView<const T> backward(TensorView<const T> g) override {
        return route(g, [](const T* gradient, const T*, T* pending, std::size_t channels) {
            std::copy_n(gradient, channels, pending);
        });
    }

    // backward of forward_then(x, f): the gradient of f's output, times derivative(f's output), to
    // each window's maximum of x. That is f's backward and this layer's in one pass over memory.
    template <class Derivative>
    TensorView<const T> backward_through(TensorView<const T> g, Derivative&& derivative) {
        require(activated_valid_, "MaxPool2D::backward_through: the last forward pass was not forward_then");
        return route(g, [&](const T* gradient, const T* activated, T* pending, std::size_t channels) {
#pragma omp simd
            for (std::size_t ch = 0; ch < channels; ++ch) pending[ch] = gradient[ch] * derivative(activated[ch]);
        });
    }

    LayerConfig config() const override {
        return LayerConfig{}
            .set("pool", static_cast<std::int64_t>(pool_))
            .set("stride", static_cast<std::int64_t>(stride_))
            .set("padding", std::string(padding_ == Padding::Same ? "same" : "valid"));
    }
    static std::unique_ptr<Layer<T>> from_config(const LayerConfig& c) {
        return std::make_unique<MaxPool2D>(c.size("pool"), c.size("stride"),
                                           c.choice("padding", {"same", "valid"}) == "same" ? Padding::Same
                                                                                        : Padding::Valid);
    }

protected:
    Shape do_build(const Shape& input, Rng&) override {
        require<ShapeError>(input.rank() == 3, "MaxPool2D expects images of shape (height, width, channels), got ",
                            input);
        in_h_ = input[0];
        in_w_ = input[1];
        in_c_ = input[2];
        const auto rows = window_1d(in_h_, pool_, stride_, padding_, "MaxPool2D");
        const auto cols = window_1d(in_w_, pool_, stride_, padding_, "MaxPool2D");
        oh_ = rows.out;
        ow_ = cols.out;
        pad_top_ = rows.pad;
        pad_left_ = cols.pad;
        return Shape{oh_, ow_, in_c_};
    }

private:
    // The gradient of each output, as start(g, activated, pending, channels) sets it per block of
    // channels, goes to the first input of its window equal to the maximum, found by comparing with
    // the stored input rather than remembered in forward: forward stays a pure, vectorised max and no
    // index array is written.
    template <class Start>
    TensorView<const T> route(TensorView<const T> g, Start&& start) {
        const std::size_t n = y_.dim(0);
        this->check_grad(g, n);
        if (!this->input_gradient_needed()) return {};
        dx_.resize(this->input_shape().with_batch(n));
        // When the windows tile the image exactly (LeNet's 2x2 pools), every input is written once and
        // needs no clearing first.
        const bool tiles = stride_ == pool_ && pad_top_ == 0 && pad_left_ == 0 && oh_ * pool_ == in_h_ && ow_ * pool_ == in_w_;
        const T* activated = activated_valid_ ? activated_.data() : nullptr;
        parallel_for(n, 1, [&](std::size_t begin, std::size_t end) {
            // Windows of a sample touch only its image: each thread clears the images it fills.
            const std::size_t image = dx_.size() / std::max<std::size_t>(n, 1);
            if (!tiles) std::fill(dx_.data() + begin * image, dx_.data() + end * image, T(0));
            constexpr std::size_t block = 64;  // channels per pass: a stack buffer, no allocation
            T pending[block];                  // gradient not yet routed, per channel
            for (std::size_t s = begin; s < end; ++s)
                for (std::size_t oy = 0; oy < oh_; ++oy)
                    for (std::size_t ox = 0; ox < ow_; ++ox)
                        for (std::size_t c0 = 0; c0 < in_c_; c0 += block) {
                            const std::size_t channels = std::min(block, in_c_ - c0);
                            const std::size_t out = ((s * oh_ + oy) * ow_ + ox) * in_c_ + c0;
                            const T* best = y_.data() + out;
                            start(g.data() + out, activated ? activated + out : nullptr, pending, channels);
                            T* left = pending;
                            for_each_window_pixel(x_.data(), s, oy, ox, [&, best, left, channels](const T* pixel_base) {
                                const T* pixel = pixel_base + c0;
                                T* target = dx_.data() + (pixel - x_.data());
#pragma omp simd
                                for (std::size_t ch = 0; ch < channels; ++ch) {
                                    // A 0/1 factor rather than a select, which GCC does not vectorise here.
                                    const T take = static_cast<T>(pixel[ch] == best[ch]) * left[ch];
                                    target[ch] = tiles ? take : target[ch] + take;
                                    left[ch] -= take;
                                }
                            });
                        }
        });
        return dx_.view();
    }

    // Pools x into y_, calling after(s) once sample s's maxima are written.
    template <class After>
    TensorView<const T> pool(TensorView<const T> x, After&& after) {
        this->check_input(x);
        x_ = x;
        activated_valid_ = false;  // forward_then sets it again
        const std::size_t n = x.dim(0);
        y_.resize({n, oh_, ow_, in_c_});
        const bool two_by_two = pool_ == 2 && windows_inside();
        parallel_for(n, 1, [&](std::size_t begin, std::size_t end) {
            for (std::size_t s = begin; s < end; ++s) {
                if (two_by_two) pool_image_2x2(x.data(), s);
                else pool_image(x.data(), s);
                after(s);
            }
        });
        return y_.view();
    }

    // Whether every window lies inside the image (no padding, none past the edge), as for LeNet's 2x2
    // pools: then a 2x2 window needs no bounds checks and its maximum starts from its first pixel.
    bool windows_inside() const {
        return pad_top_ == 0 && pad_left_ == 0 && (oh_ - 1) * stride_ + pool_ <= in_h_ &&
               (ow_ - 1) * stride_ + pool_ <= in_w_;
    }

    // The general case: windows may reach into padding, which never wins (-infinity).
    void pool_image(const T* x, std::size_t s) {
        for (std::size_t oy = 0; oy < oh_; ++oy)
            for (std::size_t ox = 0; ox < ow_; ++ox) {
                T* best = y_.data() + ((s * oh_ + oy) * ow_ + ox) * in_c_;
                std::fill(best, best + in_c_, -std::numeric_limits<T>::infinity());
                for_each_window_pixel(x, s, oy, ox, [best, channels = in_c_](const T* pixel) {
#pragma omp simd
                    for (std::size_t ch = 0; ch < channels; ++ch) best[ch] = pixel[ch] > best[ch] ? pixel[ch] : best[ch];
                });
            }
    }

    // 2x2 windows inside the image, each maximum in one pass over its four pixels, compared in the
    // general case's order (row by row), so the same maxima come out, signed zeros included.
    void pool_image_2x2(const T* x, std::size_t s) {
        const std::size_t row = in_w_ * in_c_, channels = in_c_;
        const T* image = x + s * in_h_ * row;
        T* best = y_.data() + s * oh_ * ow_ * channels;
        for (std::size_t oy = 0; oy < oh_; ++oy)
            for (std::size_t ox = 0; ox < ow_; ++ox, best += channels) {
                const T* a = image + oy * stride_ * row + ox * stride_ * channels;
                kernels::max_of_four(a, a + channels, a + row, a + row + channels, best, channels);
            }
    }

    // Calls visit(pointer to the channels of pixel (iy, ix)) for every in-bounds pixel of the window
    // of output (oy, ox) of sample s, row by row.
    template <class Visit>
    void for_each_window_pixel(const T* x, std::size_t s, std::size_t oy, std::size_t ox, Visit&& visit) const {
        const T* image = x + s * in_h_ * in_w_ * in_c_;
        for (std::size_t ky = 0; ky < pool_; ++ky) {
            const auto iy = static_cast<std::ptrdiff_t>(oy * stride_ + ky) - static_cast<std::ptrdiff_t>(pad_top_);
            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in_h_)) continue;
            for (std::size_t kx = 0; kx < pool_; ++kx) {
                const auto ix = static_cast<std::ptrdiff_t>(ox * stride_ + kx) - static_cast<std::ptrdiff_t>(pad_left_);
                if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(in_w_)) continue;
                visit(image + (static_cast<std::size_t>(iy) * in_w_ + static_cast<std::size_t>(ix)) * in_c_);
            }
        }
    }

    std::size_t pool_, stride_;
    Padding padding_;
    std::size_t in_h_ = 0, in_w_ = 0, in_c_ = 0, oh_ = 0, ow_ = 0, pad_top_ = 0, pad_left_ = 0;
    Tensor<T> y_, dx_;
    Tensor<T> activated_;  // forward_then's f(maxima), for backward_through
    bool activated_valid_ = false;
    TensorView<const T> x_;
};

}  // namespace loom
