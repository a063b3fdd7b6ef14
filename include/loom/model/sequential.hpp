#pragma once
// Sequential<T>: a stack of layers with the Keras workflow: add, summary, compile, fit, evaluate,
// predict, save, load. Shapes are checked as layers are added, so a model that builds is a model
// that runs. The training loop itself (epochs, shuffling, callbacks, checkpoints) lives in
// training_loop.hpp; this class provides the steps it is made of.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "loom/core/atomic_file.hpp"
#include "loom/core/error.hpp"
#include "loom/core/random.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/preprocess.hpp"
#include "loom/data/samples.hpp"
#include "loom/layers/dense.hpp"
#include "loom/layers/flatten.hpp"
#include "loom/layers/layer.hpp"
#include "loom/layers/softmax.hpp"
#include "loom/losses/cross_entropy.hpp"
#include "loom/losses/loss.hpp"
#include "loom/model/batch_checks.hpp"
#include "loom/model/fit_options.hpp"
#include "loom/model/layer_fusion.hpp"
#include "loom/model/model_file.hpp"
#include "loom/model/model_summary.hpp"
#include "loom/model/training_loop.hpp"
#include "loom/optim/optimizer.hpp"

namespace loom {

template <class T>
class Sequential {
public:
    // input_shape is per sample, e.g. {28, 28, 1}; seed drives weight initialisation.
    explicit Sequential(const Shape& input_shape, std::uint64_t seed = 42) : input_shape_(input_shape), init_rng_(seed) {
        require<ShapeError>(input_shape.rank() >= 1 && input_shape.elements() >= 1,
                            "Sequential: expected a non-empty per-sample input shape, got ", input_shape);
    }

    Sequential(Sequential&&) noexcept = default;
    Sequential& operator=(Sequential&&) noexcept = default;

    // net.add<Conv2D>(20, 5, Padding::Same): constructs Layer<T> in place.
    template <template <class> class L, class... Args>
    Sequential& add(Args&&... args) {
        return add(std::make_unique<L<T>>(std::forward<Args>(args)...));
    }

    Sequential& add(std::unique_ptr<Layer<T>> layer) {
        require<ArgumentError>(layer != nullptr, "Sequential::add: null layer");
        try {
            layer->build(output_shape(), init_rng_);
        } catch (const ShapeError& e) {
            throw ShapeError(detail::concat("cannot add layer ", layers_.size(), " (", layer->type(),
                                            ") after output shape ", output_shape(), ": ", e.what()));
        }
        push(std::move(layer));
        return *this;
    }

    const Shape& input_shape() const { return input_shape_; }
    // Per-sample shape of the model's output (the input shape while there are no layers).
    const Shape& output_shape() const { return layers_.empty() ? input_shape_ : layers_.back()->output_shape(); }
    std::size_t size() const { return layers_.size(); }
    Layer<T>& layer(std::size_t i) { return *layers_.at(i); }
    const Layer<T>& layer(std::size_t i) const { return *layers_.at(i); }
    const std::string& layer_name(std::size_t i) const { return names_.at(i); }
    std::span<const Parameter<T>> parameters() const { return params_; }

    std::size_t param_count() const {
        std::size_t n = 0;
        for (const auto& p : params_) n += p.value->size();
        return n;
    }

    void summary(std::ostream& out) const { print_summary(out, layers_, names_, param_count()); }

    // compile(CrossEntropy{}, Adam(1e-3)): the loss and optimizer are copied into the model.
    void compile(const Loss& loss, const Optimizer& optimizer) {
        require<ArgumentError>(!layers_.empty(), "compile: the model has no layers");
        loss_ = loss.clone();
        optimizer_ = optimizer.clone();
        optimizer_->reset();
        fused_softmax_ = dynamic_cast<const CrossEntropy*>(loss_.get()) != nullptr &&
                         dynamic_cast<const Softmax<T>*>(layers_.back().get()) != nullptr;
    }
    bool compiled() const { return loss_ != nullptr; }
    Optimizer& optimizer() {
        require(optimizer_ != nullptr, "the model is not compiled");
        return *optimizer_;
    }
    const Loss& loss() const {
        require(loss_ != nullptr, "the model is not compiled");
        return *loss_;
    }

    // Runs the layers on a batch (N, input_shape...). The result is valid until the next call.
    TensorView<const T> forward(TensorView<const T> x, bool training = false) {
        const std::lock_guard lock(*mutex_);
        check_batch<T>(x, input_shape_, "input");
        fused_.assign(layers_.size(), false);
        return run_layers(x, 0, training);
    }

    // forward on samples as they are stored. Bytes go into the first layer as they are when it is a
    // Dense (past any Flatten: Dense::forward_bytes), so they never exist as T; otherwise they become
    // T in `buffer` first (Samples::chunk), which must then live as long as the result.
    TensorView<const T> forward(const Samples<T>& x, Tensor<T>& buffer, bool training = false) {
        const std::lock_guard lock(*mutex_);
        if (!x.holds_bytes()) return forward(x.values(), training);
        const std::size_t dense = first_dense_past_flatten();
        if (dense == layers_.size()) return forward(x.chunk(0, x.dim(0), buffer), training);
        check_batch_shape(x.shape(), input_shape_, "input");
        const std::size_t n = x.dim(0);
        fused_.assign(layers_.size(), false);
        // The Flatten layers before it are reshapes, and nothing below a first Dense is back-propagated.
        const auto h = static_cast<Dense<T>&>(*layers_[dense]).forward_bytes(
            x.bytes().reshaped({n, n ? x.bytes().size() / n : 0}), x.scale());
        return run_layers(h, dense + 1, training);
    }

    // Back-propagates d(loss)/d(output of layer `from - 1`) through layers [0, from), after forward.
    void backward(TensorView<const T> grad, std::size_t from) {
        require<ArgumentError>(from <= layers_.size(), "backward: from ", from, " past the model's ", layers_.size(),
                               " layers");
        require<ArgumentError>(!ran_pooled_conv_,
                               "backward: the last forward pass was an inference pass (training = false) that ran a "
                               "Conv2D, its activation and pool as one; run forward with training = true first");
        require<ArgumentError>(from == 0 || !fused_[from - 1],
                               "backward: layer ", from - 1, " (", layers_[from - 1]->type(),
                               ") ran fused with the pool after it; back-propagate from above the pool");
        for (std::size_t i = from; i-- > 0;) {
            if (i > 0 && fused_[i - 1]) {
                grad = detail::fused_backward(*layers_[i], *layers_[i - 1], grad);
                --i;  // a pool and the activation before it in one pass (layer_fusion.hpp)
            } else {
                grad = layers_[i]->backward(grad);
            }
            if (!layers_[i]->input_gradient_needed()) break;  // nothing below it has parameters
        }
    }

    // Forward and backward on a batch without changing any weight: the gradient of the batch's mean
    // (or, with Reduction::Sum, summed) loss is left in every parameter's grad tensor, for users who
    // write their own update, and for the full-batch and data-parallel fits.
    BatchResult compute_gradients(TensorView<const T> x, TensorView<const T> y, Reduction reduction = Reduction::Mean) {
        const std::lock_guard lock(*mutex_);
        require(compiled(), "compute_gradients: compile the model first");
        return gradients_from(forward(x, true), y, reduction);
    }

    // compute_gradients on samples as they are stored, through forward(x, buffer, true).
    BatchResult compute_gradients(const Samples<T>& x, Tensor<T>& buffer, TensorView<const T> y,
                                  Reduction reduction = Reduction::Mean) {
        const std::lock_guard lock(*mutex_);
        require(compiled(), "compute_gradients: compile the model first");
        return gradients_from(forward(x, buffer, true), y, reduction);
    }

    // One optimisation step on a batch (Keras' train_on_batch): gradients of the mean loss, then the
    // optimizer's update. A non-finite loss throws NumericError before any weight changes.
    BatchResult train_on_batch(TensorView<const T> x, TensorView<const T> y) {
        const std::lock_guard lock(*mutex_);
        const BatchResult r = compute_gradients(x, y);
        require<NumericError>(std::isfinite(r.loss_sum), "train_on_batch: the loss became ", r.loss_sum,
                              " (weights are kept from before this batch; try a lower learning rate)");
        optimizer_->step(params_);
        return r;
    }

    // An independent copy: the same layers, weights, loss and optimizer (with its state reset), like
    // Keras' clone_model followed by set_weights. Custom layers need no registration for this.
    Sequential clone() const {
        const std::lock_guard lock(*mutex_);
        Sequential copy(input_shape_);
        for (const auto& layer : layers_) copy.push(layer->clone());
        if (compiled()) copy.compile(*loss_, *optimizer_);
        return copy;
    }

    // Training: see training_loop.hpp for the loop, FitOptions and the callbacks. `step` computes each
    // batch's update (loom::mpi::fit passes its data-parallel step); null: in this process.
    // x, here and in evaluate and predict, is a Tensor or view of T, or scaled bytes (Samples<T>,
    // data/samples.hpp), which become T a batch at a time.
    History fit(const Samples<T>& x, const std::vector<int>& labels, const FitOptions& options = {},
                const std::vector<CallbackRef>& callbacks = {}, TrainStep<T>* step = nullptr) {
        return fit(x, class_targets<T>(labels, x.dim(0), output_shape()).view(), options, callbacks, step);
    }
    History fit(const Samples<T>& x, TensorView<const T> y, const FitOptions& options = {},
                const std::vector<CallbackRef>& callbacks = {}, TrainStep<T>* step = nullptr) {
        check_dataset<T>(x, y, input_shape_, output_shape(), layers_.empty());
        return fit_with_split(*this, x, y, options, callbacks, step);
    }
    History fit(const Samples<T>& x, TensorView<const T> y, const ValidationData<T>& validation,
                const FitOptions& options = {}, const std::vector<CallbackRef>& callbacks = {},
                TrainStep<T>* step = nullptr) {
        check_dataset<T>(x, y, input_shape_, output_shape(), layers_.empty());
        check_dataset<T>(validation.x, validation.y, input_shape_, output_shape(), layers_.empty());
        require<ArgumentError>(validation.x.dim(0) >= 1, "fit: the validation data has no samples");
        LocalTrainStep<T> local;
        return run_training(*this, x, y, &validation, options, callbacks, step ? *step : local);
    }

    Evaluation evaluate(const Samples<T>& x, const std::vector<int>& labels, std::size_t batch_size = 256) {
        return evaluate(x, class_targets<T>(labels, x.dim(0), output_shape()).view(), batch_size);
    }

    Evaluation evaluate(const Samples<T>& x, TensorView<const T> y, std::size_t batch_size = 256) {
        const BatchResult sums = evaluate_sums(x, y, batch_size);
        require<ArgumentError>(sums.samples >= 1, "evaluate: no samples (the loss and accuracy of an empty set are undefined)");
        return {sums.loss(), sums.accuracy()};
    }

    // The summed loss and correct count over (x, y), which data-parallel evaluation adds up over ranks.
    BatchResult evaluate_sums(const Samples<T>& x, TensorView<const T> y, std::size_t batch_size = 256) {
        const std::lock_guard lock(*mutex_);
        require(compiled(), "evaluate: compile the model first (the loss is needed)");
        check_dataset<T>(x, y, input_shape_, output_shape(), layers_.empty());
        require<ArgumentError>(batch_size >= 1, "evaluate: batch size must be at least 1");
        BatchResult sums{0, 0, x.dim(0)};
        Tensor<T> converted;  // a chunk of byte samples as T (values of T are read in place)
        for (std::size_t b = 0; b < x.dim(0); b += batch_size) {
            const std::size_t e = std::min(x.dim(0), b + batch_size);
            const auto p = forward(x.chunk(b, e, converted), false);
            sums.loss_sum += loss_->value(p, y.rows(b, e));
            sums.correct += count_correct<T>(p, y.rows(b, e));
        }
        return sums;
    }

    // Model outputs (probabilities after a Softmax) for every sample: (N, output_shape...).
    Tensor<T> predict(const Samples<T>& x, std::size_t batch_size = 256) {
        const std::lock_guard lock(*mutex_);
        check_batch_shape(x.shape(), input_shape_, "input");
        require<ArgumentError>(batch_size >= 1, "predict: batch size must be at least 1");
        Tensor<T> out(output_shape().with_batch(x.dim(0)));
        const std::size_t per_sample = output_shape().elements();
        Tensor<T> converted;  // a chunk of byte samples as T (values of T are read in place)
        for (std::size_t b = 0; b < x.dim(0); b += batch_size) {
            const auto p = forward(x.chunk(b, std::min(x.dim(0), b + batch_size), converted), false);
            std::copy(p.begin(), p.end(), out.data() + b * per_sample);
        }
        return out;
    }

    // Class with the highest output for every sample.
    std::vector<int> predict_classes(const Samples<T>& x, std::size_t batch_size = 256) {
        return argmax_rows(predict(x, batch_size));
    }

    // Architecture and weights as the bytes of a model file (model_file.hpp).
    std::vector<unsigned char> to_bytes() const { return model_file::encode(input_shape_, layers_); }

    // Writes to_bytes() atomically: a crash mid-save keeps the old file.
    void save(const std::filesystem::path& path) const {
        const auto bytes = to_bytes();
        write_file_atomically(path, bytes.data(), bytes.size());
    }

    // Replaces the weights by those of a model file's bytes with this very architecture.
    void load_weights(const std::vector<unsigned char>& bytes, const std::string& what = "model") {
        model_file::assign_weights(model_file::decode<T>(bytes, what), input_shape_, layers_, what);
    }

    static Sequential load(const std::filesystem::path& path) {
        return load_from_memory(model_file::read_file(path), path.string());
    }

    // The same from the bytes of a model file; `what` names them in error messages.
    static Sequential load_from_memory(const std::vector<unsigned char>& bytes, const std::string& what = "model") {
        const auto contents = model_file::decode<T>(bytes, what);
        Sequential net(contents.input_shape);
        model_file::rebuild(net, contents, what);
        model_file::assign_weights(contents, net.input_shape_, net.layers_, what);
        return net;
    }

private:
    // Layers [first, size) on h, fusing an activation and a pool (layer_fusion.hpp).
    TensorView<const T> run_layers(TensorView<const T> h, std::size_t first, bool training) {
        ran_pooled_conv_ = false;
        for (std::size_t i = first; i < layers_.size(); ++i) {
            if (!training && i + 2 < layers_.size() &&
                detail::fused_inference(*layers_[i], *layers_[i + 1], *layers_[i + 2], h, h)) {
                ran_pooled_conv_ = true;
                i += 2;
                continue;
            }
            if (i + 1 < layers_.size() && detail::fused_forward(*layers_[i], *layers_[i + 1], h, h)) {
                fused_[i] = true;
                ++i;
                continue;
            }
            h = layers_[i]->forward(h, training);
        }
        return h;
    }

    // The loss of the forward pass's output p against y, and the gradients from backward.
    BatchResult gradients_from(TensorView<const T> p, TensorView<const T> y, Reduction reduction) {
        check_batch<T>(y, output_shape(), "targets");
        const std::size_t n = p.dim(0);
        const T scale = reduction == Reduction::Mean ? T(1) / static_cast<T>(n) : T(1);
        const double loss = loss_->value(p, y);
        grad_.resize(p.shape());
        if (fused_softmax_) {  // softmax and cross-entropy together: p - y, exact and cheap
            static_cast<const CrossEntropy&>(*loss_).softmax_gradient(p, y, grad_.view(), scale);
            backward(grad_, layers_.size() - 1);
        } else {
            loss_->gradient(p, y, grad_.view(), scale);
            backward(grad_, layers_.size());
        }
        return {loss, count_correct<T>(p, y), n};
    }

    // The index of the first layer that is not a Flatten if it is a Dense, else size().
    std::size_t first_dense_past_flatten() const {
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            if (dynamic_cast<const Flatten<T>*>(layers_[i].get())) continue;
            return dynamic_cast<const Dense<T>*>(layers_[i].get()) ? i : layers_.size();
        }
        return layers_.size();
    }

    // Appends a built layer. A layer needs its input gradient only if a layer before it has parameters:
    // the first does not, nor a Dense after a Flatten (skipping it saves a GEMM, and col2im for a
    // convolution), and backward stops there.
    void push(std::unique_ptr<Layer<T>> layer) {
        bool trainable_before = false;
        for (const auto& l : layers_) trainable_before = trainable_before || !l->parameters().empty();
        layer->set_input_gradient_needed(trainable_before);
        names_.push_back(unique_layer_name(layer->type(), name_counts_));
        layers_.push_back(std::move(layer));
        fused_.assign(layers_.size(), false);
        params_.clear();
        for (auto& l : layers_)
            for (auto& p : l->parameters()) params_.push_back(p);
        if (optimizer_) optimizer_->reset();
    }

    Shape input_shape_;
    Rng init_rng_;
    std::vector<std::unique_ptr<Layer<T>>> layers_;
    std::vector<std::string> names_;
    std::map<std::string, std::size_t> name_counts_;
    std::vector<Parameter<T>> params_;
    std::unique_ptr<Loss> loss_;
    std::unique_ptr<Optimizer> optimizer_;
    bool fused_softmax_ = false;
    std::vector<bool> fused_;  // fused_[i]: the last forward ran layers i and i + 1 as one pass
    bool ran_pooled_conv_ = false;  // the last forward ran a Conv2D, activation and pool as one (inference)
    Tensor<T> grad_;
    // Layers keep their activations in member buffers, so one model runs one batch at a time: calls
    // from several threads are serialised (recursive: train_on_batch calls forward). Held by pointer
    // to keep the model movable.
    std::unique_ptr<std::recursive_mutex> mutex_ = std::make_unique<std::recursive_mutex>();
};

}  // namespace loom
