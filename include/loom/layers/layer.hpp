#pragma once
// Layer<T>: the interface every layer implements. A layer works on a whole minibatch (N, ...) at once:
// forward maps the input batch to its own output buffer, backward maps the gradient of the loss with
// respect to that output to the gradient with respect to the input, storing parameter gradients
// (overwritten, not accumulated) on the way. Buffers live in the layer and are reused across batches.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "loom/core/bytes.hpp"
#include "loom/core/random.hpp"
#include "loom/core/shape.hpp"
#include "loom/core/tensor.hpp"
#include "loom/layers/layer_config.hpp"

namespace loom {

// A trainable tensor and the gradient backward() leaves for it.
template <class T>
struct Parameter {
    std::string name;
    Tensor<T>* value;
    Tensor<T>* grad;
};

template <class T>
class Layer {
public:
    virtual ~Layer() = default;

    // The registered type name ("Conv2D"), stored in model files.
    virtual std::string type() const = 0;

    // Called once, when the layer joins a model: checks the per-sample input shape (throwing
    // ShapeError with what was expected), creates and initialises parameters, and returns the
    // per-sample output shape.
    Shape build(const Shape& input_shape, Rng& rng) {
        input_shape_ = input_shape;
        output_shape_ = do_build(input_shape, rng);
        return output_shape_;
    }

    // x: (N, input_shape...). The returned view stays valid until the next forward call.
    virtual TensorView<const T> forward(TensorView<const T> x, bool training) = 0;

    // grad_out: (N, output_shape...), for the batch of the last forward call. Returns the gradient
    // with respect to that batch's input (an empty view when input gradients are switched off).
    virtual TensorView<const T> backward(TensorView<const T> grad_out) = 0;

    virtual std::vector<Parameter<T>> parameters() { return {}; }

    // How many parameter values build() would create on `input_shape` (saturating at SIZE_MAX), without
    // allocating them: lets load() refuse settings that ask for more weights than a file holds. 0 means
    // none or unknown; layers with parameters override it.
    virtual std::size_t param_count_for(const Shape& /*input_shape*/) const { return 0; }
    virtual LayerConfig config() const { return {}; }

    // State that is neither a setting nor a parameter but changes during training (Dropout's random
    // generator). Checkpoints store it so that a resumed run continues bit for bit.
    virtual void save_state(ByteWriter&) const {}
    virtual void load_state(ByteReader&) {}

    // The first layer of a model needs no input gradient; skipping it saves a whole GEMM + col2im.
    void set_input_gradient_needed(bool needed) { input_gradient_needed_ = needed; }
    bool input_gradient_needed() const { return input_gradient_needed_; }

    const Shape& input_shape() const { return input_shape_; }
    const Shape& output_shape() const { return output_shape_; }

    std::size_t param_count() {
        std::size_t n = 0;
        for (const auto& p : parameters()) n += p.value->size();
        return n;
    }

protected:
    virtual Shape do_build(const Shape& input_shape, Rng& rng) = 0;

    // Checks that a batch has this layer's per-sample shape behind its batch axis.
    void check_input(TensorView<const T> x) const {
        bool ok = x.rank() == input_shape_.rank() + 1;
        for (std::size_t i = 0; ok && i < input_shape_.rank(); ++i) ok = x.dim(i + 1) == input_shape_[i];
        // Messages are built only on failure: these checks run on every batch.
        if (!ok)
            throw ShapeError(detail::concat(type(), ": expected a batch of shape (N, ", input_shape_.to_string().substr(1),
                                            " but got ", x.shape()));
    }
    // a * b * ..., or SIZE_MAX when the product does not fit (for param_count_for).
    static std::size_t saturating_product(std::initializer_list<std::size_t> factors) {
        std::size_t n = 1;
        for (std::size_t f : factors)
            if (__builtin_mul_overflow(n, f, &n)) return SIZE_MAX;
        return n;
    }
    static std::size_t saturating_sum(std::size_t a, std::size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

    void check_grad(TensorView<const T> g, std::size_t batch) const {
        if (!(g.shape() == output_shape_.with_batch(batch)))
            throw ShapeError(detail::concat(type(), ": backward expected a gradient of shape ",
                                            output_shape_.with_batch(batch), " but got ", g.shape()));
    }

private:
    Shape input_shape_, output_shape_;
    bool input_gradient_needed_ = true;
};

}  // namespace loom
