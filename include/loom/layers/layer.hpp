#pragma once
// Layer<T>: the contract every layer fulfils, built-in or custom. A layer works on a whole minibatch
// (N, ...) at once and keeps its buffers between batches. What a layer must provide:
//
//   type()            its registered name ("Conv2D"), stored in model files.
//   do_build(in, rng) called once when the layer joins a model: check the per-sample input shape
//                     (ShapeError saying what was expected), create and initialise the parameters,
//                     return the per-sample output shape.
//   forward(x, training)  x: (N, input_shape...) -> its own output buffer, valid until the next call.
//   backward(g)       g = dLoss/dOutput for the last forward batch -> dLoss/dInput (an empty view when
//                     input_gradient_needed() is false), storing the parameter gradients (overwritten,
//                     never accumulated) on the way.
//   clone()           an independent copy with the same settings, weights and state: models are copied
//                     layer by layer, never through bytes, so unregistered custom layers copy too.
// and, where it has them:
//   parameters()      (name, value, gradient) of each trainable tensor, in a fixed order.
//   param_count_for(in)  how many parameter values do_build would create, without allocating them.
//   config()          the settings that rebuild it (with a static from_config and a registration,
//                     see layer_registry.hpp, it can be saved and loaded).
//   save_state/load_state  what changes in training but is neither a setting nor a parameter
//                     (Dropout's generator), for checkpoints that resume bit for bit.
// tests/test_layer_contract.cpp checks all of this for every registered layer.
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

    virtual std::string type() const = 0;
    virtual std::unique_ptr<Layer> clone() const = 0;

    Shape build(const Shape& input_shape, Rng& rng) {
        input_shape_ = input_shape;
        output_shape_ = do_build(input_shape, rng);
        return output_shape_;
    }

    virtual TensorView<const T> forward(TensorView<const T> x, bool training) = 0;
    virtual TensorView<const T> backward(TensorView<const T> grad_out) = 0;

    virtual std::vector<Parameter<T>> parameters() { return {}; }

    // Saturating at SIZE_MAX; 0 means none or unknown. Lets load() refuse settings that ask for more
    // weights than a file holds before anything is allocated.
    virtual std::size_t param_count_for(const Shape& /*input_shape*/) const { return 0; }
    virtual LayerConfig config() const { return {}; }

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
