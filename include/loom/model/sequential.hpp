#pragma once
// Sequential<T>: a stack of layers with the Keras workflow: add, summary, compile, fit, evaluate,
// predict, save, load. Shapes are checked as layers are added, so a model that builds is a model
// that runs. Training works on shuffled minibatches gathered into buffers that are reused across
// batches; evaluation and prediction run on zero-copy views of the caller's data.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "loom/core/atomic_file.hpp"
#include "loom/core/error.hpp"
#include "loom/core/parallel.hpp"
#include "loom/core/random.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/preprocess.hpp"
#include "loom/layers/layer.hpp"
#include "loom/layers/softmax.hpp"
#include "loom/losses/cross_entropy.hpp"
#include "loom/losses/loss.hpp"
#include "loom/model/checkpoint.hpp"
#include "loom/model/fit_options.hpp"
#include "loom/model/layer_registry.hpp"
#include "loom/model/model_file.hpp"
#include "loom/model/progress_bar.hpp"
#include "loom/optim/optimizer.hpp"

namespace loom {

// Held-out data passed to fit explicitly (Keras' validation_data).
template <class T>
struct ValidationData {
    TensorView<const T> x;
    TensorView<const T> y;  // one-hot (or other) targets shaped like the model output
};

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
        layer->set_input_gradient_needed(!layers_.empty());
        layers_.push_back(std::move(layer));
        names_.push_back(unique_name(layers_.back()->type()));
        collect_parameters();
        drop_replicas();
        return *this;
    }

    const Shape& input_shape() const { return input_shape_; }
    // Per-sample shape of the model's output (the input shape while there are no layers).
    const Shape& output_shape() const { return layers_.empty() ? input_shape_ : layers_.back()->output_shape(); }
    std::size_t size() const { return layers_.size(); }
    Layer<T>& layer(std::size_t i) { return *layers_.at(i); }
    const std::string& layer_name(std::size_t i) const { return names_.at(i); }
    std::span<const Parameter<T>> parameters() const { return params_; }

    std::size_t param_count() const {
        std::size_t n = 0;
        for (const auto& p : params_) n += p.value->size();
        return n;
    }

    void summary(std::ostream& out) const {
        const std::string rule(65, '_'), thick(65, '=');
        out << "Model: \"sequential\"\n" << rule << '\n';
        out << std::left << ' ' << std::setw(28) << "Layer (type)" << std::setw(26) << "Output Shape" << "Param #\n"
            << thick << '\n';
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            std::string shape = layers_[i]->output_shape().with_batch(0).to_string();
            shape.replace(1, 1, "None");
            out << ' ' << std::setw(28) << (names_[i] + " (" + layers_[i]->type() + ")") << std::setw(26) << shape
                << with_commas(layers_[i]->param_count()) << '\n';
            out << (i + 1 < layers_.size() ? "\n" : "");
        }
        out << thick << '\n'
            << "Total params: " << with_commas(param_count()) << '\n'
            << "Trainable params: " << with_commas(param_count()) << '\n'
            << "Non-trainable params: 0\n"
            << rule << '\n';
    }

    // compile(CrossEntropy{}, Adam(1e-3)): the loss and optimizer are copied into the model.
    void compile(const Loss& loss, const Optimizer& optimizer) {
        require<ArgumentError>(!layers_.empty(), "compile: the model has no layers");
        loss_ = loss.clone();
        optimizer_ = optimizer.clone();
        optimizer_->reset();
        drop_replicas();
        fused_softmax_ = dynamic_cast<const CrossEntropy*>(loss_.get()) != nullptr &&
                         dynamic_cast<const Softmax<T>*>(layers_.back().get()) != nullptr;
    }
    bool compiled() const { return loss_ != nullptr; }
    Optimizer& optimizer() {
        require(optimizer_ != nullptr, "the model is not compiled");
        return *optimizer_;
    }

    // Runs the layers on a batch (N, input_shape...). The result is valid until the next call.
    TensorView<const T> forward(TensorView<const T> x, bool training = false) {
        const std::lock_guard lock(*mutex_);
        check_batch(x, input_shape_, "input");
        TensorView<const T> h = x;
        for (auto& layer : layers_) h = layer->forward(h, training);
        return h;
    }

    // Back-propagates d(loss)/d(output of layer `from - 1`) through layers [0, from).
    void backward(TensorView<const T> grad, std::size_t from) {
        for (std::size_t i = from; i-- > 0;) grad = layers_[i]->backward(grad);
    }

    // One optimisation step on a batch; returns the summed loss and the number of correct argmaxes.
    std::pair<double, std::size_t> train_on_batch(TensorView<const T> x, TensorView<const T> y) {
        const std::lock_guard lock(*mutex_);
        require(compiled(), "train_on_batch: compile the model first");
        const auto p = forward(x, true);
        check_batch(y, output_shape(), "targets");
        const double loss = loss_and_backward(p, y, T(1) / static_cast<T>(x.dim(0)));
        return {loss, count_correct(p, y)};
    }

    // The full-batch fitting criterion of R's nnet: the loss summed over all samples plus
    // decay * (sum of squares of every parameter, biases included). Its gradient is left in the
    // parameters' grad tensors. The data goes through the ordinary layers in chunks of `chunk`
    // samples, and the sums are accumulated in double so 60,000 float terms lose nothing.
    // With several threads the chunks run side by side on copies of the model (one per thread,
    // serial kernels, no fork and join per layer), and their sums are added in chunk order, so the
    // result is bitwise the same for every thread count.
    double full_batch_objective(TensorView<const T> x, TensorView<const T> y, double decay = 0,
                                std::size_t chunk = 512) {
        const std::lock_guard lock(*mutex_);
        require(compiled(), "full_batch_objective: compile the model first (the loss is needed)");
        check_dataset(x, y);
        require<ArgumentError>(chunk >= 1, "full_batch_objective: chunk size must be at least 1");
        require<ArgumentError>(decay >= 0, "full_batch_objective: expected decay >= 0, got ", decay);
        const std::size_t n = x.dim(0), chunks = (n + chunk - 1) / chunk;
        const std::size_t lanes = prepare_lanes(static_cast<std::size_t>(threads_for(static_cast<double>(chunks), 1.0)));
        grad_sums_.resize(params_.size());
        for (std::size_t k = 0; k < params_.size(); ++k) grad_sums_[k].assign(params_[k].value->size(), 0.0);
        std::vector<double> chunk_loss(lanes);
        const std::size_t values = param_count();
        double total = 0;
        for (std::size_t first = 0; first < chunks; first += lanes) {
            const std::size_t active = std::min(lanes, chunks - first);
            parallel_for(active, 1, [&](std::size_t begin, std::size_t end) {
                for (std::size_t l = begin; l < end; ++l) {
                    const std::size_t b = (first + l) * chunk, e = std::min(n, b + chunk);
                    chunk_loss[l] = lane(l).chunk_objective(x.rows(b, e), y.rows(b, e));
                }
            });
            for (std::size_t l = 0; l < active; ++l) total += chunk_loss[l];
            // Each thread adds its share of every parameter's gradient, lane (= chunk) order within it.
            parallel_for(values, 4096, [&](std::size_t begin, std::size_t end) {
                std::size_t offset = 0;
                for (std::size_t k = 0; k < params_.size(); ++k) {
                    const std::size_t size = grad_sums_[k].size();
                    const std::size_t from = std::clamp(begin, offset, offset + size) - offset;
                    const std::size_t to = std::clamp(end, offset, offset + size) - offset;
                    for (std::size_t l = 0; l < active; ++l) {
                        const T* g = lane(l).params_[k].grad->data();
                        for (std::size_t i = from; i < to; ++i) grad_sums_[k][i] += static_cast<double>(g[i]);
                    }
                    offset += size;
                }
            });
        }
        for (std::size_t k = 0; k < params_.size(); ++k) {
            const T* w = params_[k].value->data();
            T* g = params_[k].grad->data();
            for (std::size_t i = 0; i < grad_sums_[k].size(); ++i) {
                const double wi = static_cast<double>(w[i]);
                total += decay * wi * wi;
                g[i] = static_cast<T>(grad_sums_[k][i] + 2 * decay * wi);
            }
        }
        return total;
    }

    // An independent copy of the model: the same layers, weights, loss and optimizer (with its state
    // reset), like Keras' clone_model followed by set_weights. The layers are rebuilt from their
    // configurations, so custom layers must be registered (LayerRegistry::add), as for load.
    Sequential clone() const {
        const std::lock_guard lock(*mutex_);
        Sequential copy = load_from_memory(model_file::encode(input_shape_, layers_), "clone");
        if (compiled()) copy.compile(*loss_, *optimizer_);
        return copy;
    }

    History fit(const Tensor<T>& x, const std::vector<int>& labels, const FitOptions& options = {}) {
        return fit(x, targets_from(labels, x.dim(0)), options);
    }

    History fit(TensorView<const T> x, TensorView<const T> y, const FitOptions& options = {}) {
        check_dataset(x, y);
        require<ArgumentError>(options.validation_split >= 0 && options.validation_split < 1,
                               "fit: expected validation_split in [0, 1), got ", options.validation_split);
        const std::size_t n = x.dim(0);
        const auto held_out = static_cast<std::size_t>(std::floor(static_cast<double>(n) * options.validation_split));
        if (held_out == 0) return fit_impl(x, y, nullptr, options);
        const ValidationData<T> validation{x.rows(n - held_out, n), y.rows(n - held_out, n)};
        return fit_impl(x.rows(0, n - held_out), y.rows(0, n - held_out), &validation, options);
    }

    History fit(TensorView<const T> x, TensorView<const T> y, const ValidationData<T>& validation,
                const FitOptions& options = {}) {
        check_dataset(x, y);
        check_dataset(validation.x, validation.y);
        require<ArgumentError>(validation.x.dim(0) >= 1, "fit: the validation data has no samples");
        return fit_impl(x, y, &validation, options);
    }

    Evaluation evaluate(const Tensor<T>& x, const std::vector<int>& labels, std::size_t batch_size = 256) {
        return evaluate(x, targets_from(labels, x.dim(0)), batch_size);
    }

    Evaluation evaluate(TensorView<const T> x, TensorView<const T> y, std::size_t batch_size = 256) {
        const std::lock_guard lock(*mutex_);
        require(compiled(), "evaluate: compile the model first (the loss is needed)");
        check_dataset(x, y);
        require<ArgumentError>(batch_size >= 1, "evaluate: batch size must be at least 1");
        require<ArgumentError>(x.dim(0) >= 1, "evaluate: no samples (the loss and accuracy of an empty set are undefined)");
        double loss = 0;
        std::size_t correct = 0;
        for (std::size_t b = 0; b < x.dim(0); b += batch_size) {
            const std::size_t e = std::min(x.dim(0), b + batch_size);
            const auto p = forward(x.rows(b, e), false);
            loss += loss_->value(p, y.rows(b, e));
            correct += count_correct(p, y.rows(b, e));
        }
        const auto n = static_cast<double>(x.dim(0));
        return {loss / n, static_cast<double>(correct) / n};
    }

    // Model outputs (probabilities after a Softmax) for every sample: (N, output_shape...).
    Tensor<T> predict(TensorView<const T> x, std::size_t batch_size = 256) {
        const std::lock_guard lock(*mutex_);
        check_batch(x, input_shape_, "input");
        require<ArgumentError>(batch_size >= 1, "predict: batch size must be at least 1");
        Tensor<T> out(output_shape().with_batch(x.dim(0)));
        for (std::size_t b = 0; b < x.dim(0); b += batch_size) {
            const std::size_t e = std::min(x.dim(0), b + batch_size);
            const auto p = forward(x.rows(b, e), false);
            std::copy(p.begin(), p.end(), out.data() + b * (out.size() / std::max<std::size_t>(x.dim(0), 1)));
        }
        return out;
    }

    // Class with the highest output for every sample.
    std::vector<int> predict_classes(TensorView<const T> x, std::size_t batch_size = 256) {
        return argmax_rows(predict(x, batch_size));
    }

    // Writes architecture and weights (see model_file.hpp) atomically: a crash mid-save keeps the old file.
    void save(const std::filesystem::path& path) const {
        const auto bytes = model_file::encode(input_shape_, layers_);
        write_file_atomically(path, bytes.data(), bytes.size());
    }

    static Sequential load(const std::filesystem::path& path) {
        return load_from_memory(model_file::read_file(path), path.string());
    }

    // The same from the bytes of a model file; `what` names them in error messages.
    static Sequential load_from_memory(const std::vector<unsigned char>& bytes, const std::string& what = "model") {
        const auto contents = model_file::decode<T>(bytes, what);
        Sequential net(contents.input_shape);
        for (std::size_t l = 0; l < contents.layers.size(); ++l) {
            const auto& record = contents.layers[l];
            std::size_t stored = 0;
            for (const auto& parameter : record.parameters) stored += parameter.second.size();
            const auto cannot_rebuild = [&](const Error& e) {
                return IoError(detail::concat(what, ": layer ", l, " (", record.type, ") cannot be rebuilt: ", e.what()));
            };
            std::unique_ptr<Layer<T>> layer;
            try {
                layer = LayerRegistry<T>::instance().create(record.type, record.config);
            } catch (const Error& e) {
                throw cannot_rebuild(e);
            }
            // Settings that ask for more weights than the file holds fail here, before build allocates them.
            const std::size_t needed = layer->param_count_for(net.output_shape());
            require<IoError>(needed <= stored, what, ": layer ", l, " (", record.type, ") needs ", needed,
                             " parameter values on input ", net.output_shape(), " but the file holds ", stored,
                             " for it");
            try {
                net.add(std::move(layer));
            } catch (const Error& e) {
                throw cannot_rebuild(e);
            }
        }
        net.assign_weights(contents, what);
        return net;
    }

private:
    // The summed loss of outputs p (from the last forward call) against targets y; back-propagates
    // scale times its gradient, leaving the parameter gradients in the grad tensors.
    double loss_and_backward(TensorView<const T> p, TensorView<const T> y, T scale) {
        const double loss = loss_->value(p, y);
        grad_.resize(p.shape());
        if (fused_softmax_) {
            static_cast<const CrossEntropy&>(*loss_).softmax_gradient(p, y, grad_.view(), scale);
            backward(grad_, layers_.size() - 1);
        } else {
            loss_->gradient(p, y, grad_.view(), scale);
            backward(grad_, layers_.size());
        }
        return loss;
    }

    // The summed loss of one chunk of samples; the gradient of that sum is left in the grad tensors.
    double chunk_objective(TensorView<const T> x, TensorView<const T> y) {
        return loss_and_backward(forward(x, true), y, T(1));
    }

    // Forgets the copies full_batch_objective runs chunks on: the layers or the loss have changed.
    void drop_replicas() {
        replicas_.clear();
        uncopyable_ = false;
    }

    // The models that evaluate chunks side by side: this one and up to wanted - 1 copies, kept between
    // calls (their buffers are reused; add and compile drop them) and given this model's current
    // weights. Returns how many there are: a model with a custom layer that is not registered cannot
    // be copied, and then runs its chunks one after another.
    std::size_t prepare_lanes(std::size_t wanted) {
        try {
            while (!uncopyable_ && replicas_.size() + 1 < wanted) replicas_.push_back(std::make_unique<Sequential>(clone()));
        } catch (const IoError&) {
            replicas_.clear();
            uncopyable_ = true;  // until the next add or compile
        }
        const std::size_t lanes = std::min(wanted, replicas_.size() + 1);
        for (std::size_t r = 0; r + 1 < lanes; ++r)
            for (std::size_t k = 0; k < params_.size(); ++k) *replicas_[r]->params_[k].value = *params_[k].value;
        return lanes;
    }
    Sequential& lane(std::size_t l) { return l == 0 ? *this : *replicas_[l - 1]; }

    History fit_impl(TensorView<const T> x, TensorView<const T> y, const ValidationData<T>* validation,
                     const FitOptions& o) {
        const std::lock_guard lock(*mutex_);
        require(compiled(), "fit: compile the model first");
        require<ArgumentError>(o.batch_size >= 1, "fit: batch size must be at least 1");
        require<ArgumentError>(o.epochs >= 1, "fit: expected at least 1 epoch");
        const std::size_t n = x.dim(0);
        require<ArgumentError>(n >= 1, "fit: no training samples");
        const std::size_t batch = std::min(o.batch_size, n), steps = (n + batch - 1) / batch;

        require<ArgumentError>(o.checkpoint_every == 0 || !o.checkpoint_path.empty(),
                               "fit: checkpoint_every is set but checkpoint_path is empty");
        Rng shuffler(o.seed);
        order_.resize(n);
        History history;
        std::size_t first_epoch = 1;
        if (o.resume && !o.checkpoint_path.empty() && std::filesystem::exists(o.checkpoint_path))
            first_epoch = restore_checkpoint(o, n, shuffler, history) + 1;
        ProgressBar bar(*o.log, o.verbose && ProgressBar::is_terminal(*o.log));
        for (std::size_t epoch = first_epoch; epoch <= o.epochs; ++epoch) {
            std::iota(order_.begin(), order_.end(), std::size_t{0});
            if (o.shuffle) shuffler.shuffle(order_.begin(), order_.end());
            if (o.verbose) bar.start_epoch(epoch, o.epochs, steps);
            double loss_sum = 0;
            std::size_t correct = 0, seen = 0;
            for (std::size_t step = 0; step < steps; ++step) {
                const std::span<const std::size_t> idx(order_.data() + step * batch, std::min(batch, n - step * batch));
                x_batch_.resize(input_shape_.with_batch(idx.size()));
                y_batch_.resize(output_shape().with_batch(idx.size()));
                gather_rows<T>(x, idx, x_batch_);
                gather_rows<T>(y, idx, y_batch_);
                const auto [loss, hits] = train_on_batch(x_batch_, y_batch_);
                // Checked before the update, so the model keeps the last good weights.
                require<NumericError>(std::isfinite(loss), "fit: the loss became ", loss, " in epoch ", epoch,
                                      ", batch ", step + 1, " of ", steps,
                                      " (weights are kept from before this batch; try a lower learning rate)");
                optimizer_->step(params_);
                loss_sum += loss;
                correct += hits;
                seen += idx.size();
                if (o.verbose) bar.update(step + 1, loss_sum / double(seen), double(correct) / double(seen));
            }
            history.loss.push_back(loss_sum / double(n));
            history.accuracy.push_back(double(correct) / double(n));
            std::vector<std::pair<std::string, double>> metrics{{"loss", history.loss.back()},
                                                                {"accuracy", history.accuracy.back()}};
            if (validation) {
                // With the training batch size: a larger one would grow every layer's buffers.
                const auto v = evaluate(validation->x, validation->y, batch);
                history.val_loss.push_back(v.loss);
                history.val_accuracy.push_back(v.accuracy);
                metrics.insert(metrics.end(), {{"val_loss", v.loss}, {"val_accuracy", v.accuracy}});
            }
            history.seconds.push_back(bar.seconds());
            if (o.verbose) bar.end_epoch(metrics);
            if (o.checkpoint_every && (epoch % o.checkpoint_every == 0 || epoch == o.epochs))
                write_checkpoint(o, n, epoch, shuffler, history);
        }
        return history;
    }

    // Copies the weights of decoded model contents into this model, whose architecture must match.
    void assign_weights(const model_file::Contents<T>& contents, const std::string& what) {
        require<IoError>(contents.input_shape == input_shape_ && contents.layers.size() == layers_.size(), what,
                         ": holds a model with input ", contents.input_shape, " and ", contents.layers.size(),
                         " layers, this model has input ", input_shape_, " and ", layers_.size(), " layers");
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            const auto& record = contents.layers[l];
            auto params = layers_[l]->parameters();
            require<IoError>(record.type == layers_[l]->type() && params.size() == record.parameters.size(), what,
                             ": layer ", l, " is a ", record.type, " with ", record.parameters.size(),
                             " parameters, expected a ", layers_[l]->type(), " with ", params.size());
            for (std::size_t p = 0; p < params.size(); ++p) {
                const auto& [name, value] = record.parameters[p];
                require<IoError>(name == params[p].name && value.shape() == params[p].value->shape(), what,
                                 ": layer ", l, " parameter '", name, "' of shape ", value.shape(), " where '",
                                 params[p].name, "' of shape ", params[p].value->shape(), " was expected");
                *params[p].value = value;
            }
        }
    }

    void write_checkpoint(const FitOptions& o, std::size_t samples, std::size_t epochs_done, const Rng& shuffler,
                          const History& history) const {
        checkpoint::Contents c;
        c.samples = samples;
        c.batch_size = o.batch_size;
        c.seed = o.seed;
        c.epochs_done = epochs_done;
        c.shuffler = shuffler.state();
        c.history = history;
        c.model = model_file::encode(input_shape_, layers_);
        c.optimizer = optimizer_->name();
        ByteWriter optimizer_state;
        optimizer_->save_state(optimizer_state);
        c.optimizer_state = std::move(optimizer_state.bytes());
        for (const auto& layer : layers_) {
            ByteWriter state;
            layer->save_state(state);
            c.layer_states.push_back(std::move(state.bytes()));
        }
        const auto bytes = checkpoint::encode(c, sizeof(T));
        write_file_atomically(o.checkpoint_path, bytes.data(), bytes.size());
    }

    // Restores a checkpoint written for the same data size, batch size and seed; returns the number of
    // epochs it had completed.
    std::size_t restore_checkpoint(const FitOptions& o, std::size_t samples, Rng& shuffler, History& history) {
        const std::string what = o.checkpoint_path.string();
        const auto c = checkpoint::decode(model_file::read_file(o.checkpoint_path), sizeof(T), what);
        require<IoError>(c.samples == samples && c.batch_size == o.batch_size && c.seed == o.seed, what,
                         ": written for ", c.samples, " samples, batch size ", c.batch_size, " and seed ", c.seed,
                         ", but this fit has ", samples, " samples, batch size ", o.batch_size, " and seed ", o.seed);
        require<IoError>(c.optimizer == optimizer_->name(), what, ": written with optimizer ", c.optimizer,
                         ", but the model is compiled with ", optimizer_->name());
        require<IoError>(c.layer_states.size() == layers_.size(), what, ": layer states for ", c.layer_states.size(),
                         " layers, the model has ", layers_.size());
        assign_weights(model_file::decode<T>(c.model, what), what);
        optimizer_->reset();
        ByteReader optimizer_state(c.optimizer_state.data(), c.optimizer_state.size(), what);
        optimizer_->load_state(optimizer_state);
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            ByteReader state(c.layer_states[l].data(), c.layer_states[l].size(), what);
            layers_[l]->load_state(state);
        }
        shuffler.set_state(c.shuffler);
        history = c.history;
        return static_cast<std::size_t>(c.epochs_done);
    }

    // Counts samples whose largest output is at the position of their largest target.
    static std::size_t count_correct(TensorView<const T> p, TensorView<const T> y) {
        const std::size_t n = p.dim(0), c = n ? p.size() / n : 0;
        std::size_t correct = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const T* pr = p.data() + i * c;
            const T* yr = y.data() + i * c;
            correct += std::max_element(pr, pr + c) - pr == std::max_element(yr, yr + c) - yr;
        }
        return correct;
    }

    // One-hot targets for class labels, checked against the model's output width.
    Tensor<T> targets_from(const std::vector<int>& labels, std::size_t samples) const {
        require<ShapeError>(labels.size() == samples, "expected one label per sample: ", samples, " samples but ",
                            labels.size(), " labels");
        require<ShapeError>(output_shape().rank() == 1, "class labels need a model with flat outputs, this one outputs ",
                            output_shape());
        return one_hot<T>(labels, output_shape()[0]);
    }

    void check_batch(TensorView<const T> x, const Shape& per_sample, const char* what) const {
        if (!(x.shape() == per_sample.with_batch(x.rank() ? x.dim(0) : 0)))  // the message only on failure
            throw ShapeError(detail::concat("expected ", what, " of shape (N, ", per_sample.to_string().substr(1),
                                            " but got ", x.shape()));
    }

    void check_dataset(TensorView<const T> x, TensorView<const T> y) const {
        require<ArgumentError>(!layers_.empty(), "the model has no layers");
        check_batch(x, input_shape_, "input");
        check_batch(y, output_shape(), "targets");
        require<ShapeError>(x.dim(0) == y.dim(0), "expected as many targets as samples: ", x.dim(0), " samples but ",
                            y.dim(0), " targets");
    }

    void collect_parameters() {
        params_.clear();
        for (auto& layer : layers_)
            for (auto& p : layer->parameters()) params_.push_back(p);
        if (optimizer_) optimizer_->reset();
    }

    // Keras-style names: conv2d, conv2d_1, dense, dense_1, ...
    std::string unique_name(const std::string& type) {
        std::string base;
        for (char ch : type) base += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const std::size_t k = name_counts_[base]++;
        return k == 0 ? base : base + "_" + std::to_string(k);
    }

    static std::string with_commas(std::size_t n) {
        const std::string digits = std::to_string(n);
        std::string s;
        for (std::size_t i = 0; i < digits.size(); ++i) {
            if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
            s.push_back(digits[i]);
        }
        return s;
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
    Tensor<T> x_batch_, y_batch_, grad_;
    std::vector<std::size_t> order_;
    std::vector<std::vector<double>> grad_sums_;
    std::vector<std::unique_ptr<Sequential>> replicas_;  // full_batch_objective's extra lanes
    bool uncopyable_ = false;                            // clone() failed: a custom layer is not registered
    // Layers keep their activations in member buffers, so one model runs one batch at a time: calls
    // from several threads are serialised (recursive: fit calls evaluate). Held by pointer to keep
    // the model movable.
    std::unique_ptr<std::recursive_mutex> mutex_ = std::make_unique<std::recursive_mutex>();
};

}  // namespace loom
