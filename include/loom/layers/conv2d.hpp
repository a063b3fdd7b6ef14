#pragma once
// Conv2D on NHWC batches. The kernel is stored as (kh, kw, in_channels, filters), Keras' layout.
// Three algorithms compute it (ConvAlgorithm):
//  - im2col + GEMM, for any shape. The kernel read as a (kh*kw*in_channels) x filters matrix
//    multiplies the im2col rows directly; samples are processed in chunks so that the im2col buffer
//    stays within a fixed budget.
//  - Winograd F(2x2, 5x5) (kernels/winograd.hpp) for 5x5 stride-1 kernels: 2.78x fewer
//    multiplications, for the forward pass and both gradients.
//  - direct loops (kernels/direct_conv.hpp) for stride-1 layers with few input channels: the forward
//    pass and the weight gradient (the input gradient goes by im2col + GEMM).
#include <algorithm>
#include <cstdint>

#include "loom/kernels/column_sums.hpp"
#include "loom/kernels/direct_conv.hpp"
#include "loom/kernels/gemm.hpp"
#include "loom/kernels/im2col.hpp"
#include "loom/kernels/winograd.hpp"
#include "loom/layers/initializer.hpp"
#include "loom/layers/layer.hpp"
#include "loom/layers/padding.hpp"

namespace loom {

// How Conv2D computes its forward pass and gradients. Auto picks from the shapes alone (so results
// stay deterministic), by what measured fastest (docs/performance.md, "What changed the numbers"):
//  - Direct for stride 1, at most 4 input channels and at least 4 filters (LeNet's first layer);
//  - else Winograd for a 5x5 stride-1 kernel between at least 8 input channels and 8 filters (with
//    fewer its GEMMs are too thin);
//  - else Im2col.
// Winograd or Direct asked for on a shape they do not apply to is an ArgumentError when the layer runs.
enum class ConvAlgorithm { Auto, Im2col, Winograd, Direct };

template <class T>
class Conv2D : public Layer<T> {
public:
    // Largest im2col buffer, in elements (4 MiB of floats): the batch is convolved in chunks whose
    // im2col stays in cache between being written and being read by the GEMM, and backward redoes
    // im2col per chunk. Keeping a whole batch's im2col for backward instead (12.5 M values for LeNet's
    // second convolution at batch 128) sends it through memory three times (im2col, dW, and the
    // column gradient that col2im reads back): measured, a LeNet training step took 103 ms with that
    // and 79 ms with this on one thread, 55 and 44-48 ms on two.
    static constexpr std::size_t default_col_budget = std::size_t{1} << 20;

    Conv2D(std::size_t filters, std::size_t kernel_size, Padding padding = Padding::Valid, std::size_t stride = 1,
           Initializer kernel_init = Initializer::glorot_uniform(), Initializer bias_init = Initializer::zeros())
        : Conv2D(filters, kernel_size, kernel_size, padding, stride, stride, kernel_init, bias_init) {}

    Conv2D(std::size_t filters, std::size_t kernel_h, std::size_t kernel_w, Padding padding, std::size_t stride_h,
           std::size_t stride_w, Initializer kernel_init = Initializer::glorot_uniform(),
           Initializer bias_init = Initializer::zeros())
        : filters_(filters), kh_(kernel_h), kw_(kernel_w), sh_(stride_h), sw_(stride_w), padding_(padding),
          kernel_init_(kernel_init), bias_init_(bias_init) {
        require<ArgumentError>(filters >= 1, "Conv2D: expected at least 1 filter, got ", filters);
        require<ArgumentError>(kernel_h >= 1 && kernel_w >= 1, "Conv2D: expected a kernel of at least 1x1, got ",
                               kernel_h, "x", kernel_w);
        require<ArgumentError>(stride_h >= 1 && stride_w >= 1, "Conv2D: expected strides >= 1, got ", stride_h, "x",
                               stride_w);
    }

    std::string type() const override { return "Conv2D"; }

    std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Conv2D>(*this); }
    Tensor<T>& weights() { return w_; }
    Tensor<T>& bias() { return b_; }
    const kernels::ConvGeometry& geometry() const { return g_; }
    // Caps the im2col buffer (in elements; at least one sample's worth is always used).
    void set_col_budget(std::size_t elements) { col_budget_ = elements; }
    std::size_t col_budget() const { return col_budget_; }
    // Picks the algorithm (Auto by default). Not part of the model file: it changes rounding, not results.
    void set_algorithm(ConvAlgorithm algorithm) { algorithm_ = algorithm; }
    ConvAlgorithm algorithm() const { return algorithm_; }
    // The algorithm of the forward pass once built: Auto resolved (Winograd or Direct asked for on a
    // shape they do not apply to resolve to Im2col, and forward throws).
    ConvAlgorithm forward_algorithm() const {
        switch (algorithm_) {
            case ConvAlgorithm::Im2col: return ConvAlgorithm::Im2col;
            case ConvAlgorithm::Direct:
                return kernels::direct::applies(g_) ? ConvAlgorithm::Direct : ConvAlgorithm::Im2col;
            case ConvAlgorithm::Winograd:
                return kernels::winograd::applies(g_) ? ConvAlgorithm::Winograd : ConvAlgorithm::Im2col;
            default:
                if (kernels::direct::pays(g_, filters_)) return ConvAlgorithm::Direct;
                if (kernels::winograd::applies(g_) && g_.c >= 8 && filters_ >= 8) return ConvAlgorithm::Winograd;
                return ConvAlgorithm::Im2col;
        }
    }
    bool uses_winograd() const { return forward_algorithm() == ConvAlgorithm::Winograd; }

    TensorView<const T> forward(TensorView<const T> x, bool) override {
        this->check_input(x);
        x_ = x;
        pooled_forward_ = false;
        const std::size_t n = x.dim(0), rows_per_sample = g_.output_positions(), patch = g_.patch();
        y_.resize({n, g_.oh, g_.ow, filters_});
        col_is_forwards_ = false;
        switch (checked_forward_algorithm()) {
            case ConvAlgorithm::Direct:
                kernels::direct::forward(x.data(), n, g_, w_.data(), filters_, b_.data(), y_.data());
                break;
            case ConvAlgorithm::Winograd: {
                const auto tile = kernels::winograd::tile_for(g_);
                kernels::winograd::convolve(tile, x.data(), n, g_, transformed_kernel(tile), filters_, b_.data(),
                                            y_.data());
                break;
            }
            default:
                for (std::size_t r = 0; r < n * rows_per_sample; ++r)
                    std::copy(b_.begin(), b_.end(), y_.data() + r * filters_);
                for_each_chunk(n, [&](std::size_t first, std::size_t count) {
                    kernels::im2col(x.data() + first * g_.input_size(), count, g_, col_.data());
                    gemm<T>(Transpose::No, Transpose::No, count * rows_per_sample, filters_, patch, T(1), col_.data(),
                            patch, w_.data(), filters_, T(1), y_.data() + first * rows_per_sample * filters_,
                            filters_);
                });
                col_is_forwards_ = chunk_samples(n) >= n;
        }
        return y_.view();
    }

    // Inference through this layer, a non-decreasing element-wise activation (apply(in, out, count))
    // and a 2x2 max pool at stride 2, in one pass, for Sequential (model/layer_fusion.hpp): the
    // convolution's whole output never goes to memory. False, and nothing run, unless the forward pass
    // is Direct or Winograd. The result, (n, oh / 2, ow / 2, filters), is bitwise that of the pool and
    // activation after forward (MaxPool2D::forward_then); there is no backward after it.
    template <class Apply>
    bool forward_pooled(TensorView<const T> x, Apply&& apply, TensorView<const T>& out) {
        this->check_input(x);
        const ConvAlgorithm algorithm = checked_forward_algorithm();
        if (algorithm != ConvAlgorithm::Direct && algorithm != ConvAlgorithm::Winograd) return false;
        pooled_forward_ = true;
        const std::size_t n = x.dim(0);
        y_.resize({n, g_.oh / 2, g_.ow / 2, filters_});
        if (algorithm == ConvAlgorithm::Direct) {
            kernels::direct::forward_pooled(x.data(), n, g_, w_.data(), filters_, b_.data(), apply, y_.data());
        } else {
            const auto tile = kernels::winograd::tile_for(g_);
            maxima_.resize(y_.shape());
            kernels::winograd::convolve_pooled(tile, x.data(), n, g_, transformed_kernel(tile), filters_, b_.data(),
                                               maxima_.data());
            // Image by image, as MaxPool2D::forward_then applies it.
            const std::size_t image = y_.size() / std::max<std::size_t>(n, 1);
            parallel_for(n, 1, [&](std::size_t begin, std::size_t end) {
                for (std::size_t s = begin; s < end; ++s)
                    apply(maxima_.data() + s * image, y_.data() + s * image, image);
            });
        }
        out = y_.view();
        return true;
    }

    TensorView<const T> backward(TensorView<const T> g) override {
        require(!pooled_forward_, "Conv2D::backward: the last forward pass was forward_pooled, which keeps no "
                                  "output to back-propagate; run forward first");
        const std::size_t n = x_.dim(0), rows_per_sample = g_.output_positions(), patch = g_.patch();
        this->check_grad(g, n);
        kernels::column_sums(g.data(), n * rows_per_sample, filters_, db_.data());
        const bool need_dx = this->input_gradient_needed();
        // The gradients go the forward pass's way, except that Direct leaves the input gradient to
        // im2col + GEMM (Direct is for few input channels: a thin GEMM there is cheap).
        const ConvAlgorithm algorithm = checked_forward_algorithm();
        const bool dw_direct = algorithm == ConvAlgorithm::Direct, dw_winograd = algorithm == ConvAlgorithm::Winograd;
        const bool dw_gemm = !dw_direct && !dw_winograd;
        const bool dx_winograd = need_dx && dw_winograd;
        const bool dx_gemm = need_dx && !dx_winograd;
        if (dw_direct) kernels::direct::weight_gradient(x_.data(), n, g_, g.data(), filters_, dw_.data());
        if (dw_winograd)
            kernels::winograd::weight_gradient(kernels::winograd::tile_for(g_), x_.data(), n, g_, g.data(), filters_,
                                               dw_.data());
        if (dx_gemm) {  // col2im adds into it
            dx_.resize(x_.shape());
            parallel_for(n, 8, [&](std::size_t s0, std::size_t s1) {
                std::fill(dx_.data() + s0 * g_.input_size(), dx_.data() + s1 * g_.input_size(), T(0));
            });
        }
        if (dw_gemm || dx_gemm) {
            // When forward's im2col of the whole batch fitted in one chunk, col_ still holds it.
            const bool col_is_current = col_is_forwards_;
            for_each_chunk(n, [&](std::size_t first, std::size_t count) {
                const std::size_t rows = count * rows_per_sample;
                const T* g_chunk = g.data() + first * rows_per_sample * filters_;
                if (dw_gemm) {
                    if (!col_is_current) kernels::im2col(x_.data() + first * g_.input_size(), count, g_, col_.data());
                    gemm<T>(Transpose::Yes, Transpose::No, patch, filters_, rows, T(1), col_.data(), patch, g_chunk,
                            filters_, first == 0 ? T(0) : T(1), dw_.data(), filters_);
                }
                if (!dx_gemm) return;
                // col_ is free again once dW has used it: reuse it for the column gradient.
                gemm<T>(Transpose::No, Transpose::Yes, rows, patch, filters_, T(1), g_chunk, filters_, w_.data(),
                        filters_, T(0), col_.data(), patch);
                kernels::col2im(col_.data(), count, g_, dx_.data() + first * g_.input_size());
                col_is_forwards_ = false;
            });
        }
        if (dx_winograd) {
            // The input gradient is a stride-1 convolution of g with the kernel turned and transposed,
            // padded so that it gives back the input's extent.
            const kernels::ConvGeometry adjoint{g_.oh, g_.ow, filters_, g_.kh, g_.kw, 1, 1,
                                                g_.kh - 1 - g_.pad_top, g_.kw - 1 - g_.pad_left, g_.h, g_.w};
            dx_.resize(x_.shape());
            const auto tile = kernels::winograd::tile_for(adjoint);
            kernels::winograd::convolve(tile, g.data(), n, adjoint, transformed_kernel(tile, true), g_.c,
                                        static_cast<const T*>(nullptr), dx_.data());
        }
        return need_dx ? dx_.view() : TensorView<const T>{};
    }

    std::vector<Parameter<T>> parameters() override { return {{"kernel", &w_, &dw_}, {"bias", &b_, &db_}}; }

    LayerConfig config() const override {
        LayerConfig c;
        c.set("filters", static_cast<std::int64_t>(filters_))
            .set("kernel_h", static_cast<std::int64_t>(kh_))
            .set("kernel_w", static_cast<std::int64_t>(kw_))
            .set("stride_h", static_cast<std::int64_t>(sh_))
            .set("stride_w", static_cast<std::int64_t>(sw_))
            .set("padding", std::string(padding_ == Padding::Same ? "same" : "valid"));
        kernel_init_.save(c, "kernel");
        bias_init_.save(c, "bias");
        return c;
    }
    static std::unique_ptr<Layer<T>> from_config(const LayerConfig& c) {
        const Padding padding = c.choice("padding", {"same", "valid"}) == "same" ? Padding::Same : Padding::Valid;
        return std::make_unique<Conv2D>(c.size("filters"), c.size("kernel_h"), c.size("kernel_w"), padding,
                                        c.size("stride_h"), c.size("stride_w"), Initializer::load(c, "kernel"),
                                        Initializer::load(c, "bias"));
    }

    std::size_t param_count_for(const Shape& input) const override {
        if (input.rank() != 3) return 0;  // build() reports the shape
        return this->saturating_sum(this->saturating_product({kh_, kw_, input[2], filters_}), filters_);
    }

protected:
    Shape do_build(const Shape& input, Rng& rng) override {
        require<ShapeError>(input.rank() == 3, "Conv2D expects images of shape (height, width, channels), got ",
                            input);
        const auto rows = window_1d(input[0], kh_, sh_, padding_, "Conv2D");
        const auto cols = window_1d(input[1], kw_, sw_, padding_, "Conv2D");
        g_ = {input[0], input[1], input[2], kh_, kw_, sh_, sw_, rows.pad, cols.pad, rows.out, cols.out};
        w_.resize({kh_, kw_, g_.c, filters_});
        dw_.resize(w_.shape());
        b_.resize({filters_});
        db_.resize({filters_});
        kernel_init_.fill(w_, g_.patch(), kh_ * kw_ * filters_, rng);
        bias_init_.fill(b_, g_.patch(), kh_ * kw_ * filters_, rng);
        return Shape{g_.oh, g_.ow, filters_};
    }

private:
    ConvAlgorithm checked_forward_algorithm() const {
        require<ArgumentError>(algorithm_ != ConvAlgorithm::Winograd || kernels::winograd::applies(g_),
                               "Conv2D: Winograd needs a 5x5 kernel with stride 1, this layer has ", g_.kh, "x",
                               g_.kw, " with stride ", g_.stride_h, "x", g_.stride_w);
        require<ArgumentError>(algorithm_ != ConvAlgorithm::Direct || kernels::direct::applies(g_),
                               "Conv2D: Direct needs stride 1, this layer has stride ", g_.stride_h, "x", g_.stride_w);
        return forward_algorithm();
    }

    // The kernel in Winograd's transform domain (u_), for the forward pass or, `adjoint`, for the input
    // gradient (turned by 180 degrees, in and out channels swapped).
    const T* transformed_kernel(kernels::winograd::Tile tile, bool adjoint = false) {
        u_.resize({kernels::winograd::points(tile), adjoint ? filters_ : g_.c, adjoint ? g_.c : filters_});
        kernels::winograd::transform_kernel(tile, w_.data(), g_.c, filters_, adjoint, u_.data());
        return u_.data();
    }

    std::size_t chunk_samples(std::size_t n) const {
        const std::size_t per_sample = g_.output_positions() * g_.patch();
        return std::clamp<std::size_t>(col_budget_ / std::max<std::size_t>(per_sample, 1), 1, std::max<std::size_t>(n, 1));
    }

    template <class Fn>
    void for_each_chunk(std::size_t n, Fn&& fn) {
        const std::size_t chunk = chunk_samples(n);
        col_.resize({chunk * g_.output_positions(), g_.patch()});
        for (std::size_t first = 0; first < n; first += chunk) fn(first, std::min(chunk, n - first));
    }

    std::size_t filters_, kh_, kw_, sh_, sw_;
    Padding padding_;
    Initializer kernel_init_, bias_init_;
    kernels::ConvGeometry g_{};
    std::size_t col_budget_ = default_col_budget;
    ConvAlgorithm algorithm_ = ConvAlgorithm::Auto;
    bool col_is_forwards_ = false;  // col_ holds the im2col of the batch forward saw
    bool pooled_forward_ = false;   // the last forward pass was forward_pooled
    Tensor<T> w_, b_, dw_, db_, y_, dx_, col_;
    Tensor<T> u_;       // the kernel in Winograd's transform domain
    Tensor<T> maxima_;  // forward_pooled's maxima before the activation (Winograd)
    TensorView<const T> x_;
};

}  // namespace loom
