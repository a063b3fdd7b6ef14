#pragma once
// The training loop behind Sequential::fit: epochs of shuffled minibatches, validation, callbacks and
// exact checkpoint/resume. One step of it is
//
//   indices of the batch --TrainStep::train--> gather rows -> forward -> loss -> backward -> optimizer
//
// The inputs are Samples<T> (data/samples.hpp): values of T, or bytes that become T as the rows of a
// batch are gathered, so a data set of bytes is never held as T in full.
//
// TrainStep is the seam for other ways of computing a step: LocalTrainStep runs it in this process;
// the MPI fit (loom/distributed) splits each global batch over processes and adds their gradients up
// before the update, with this same loop around it.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/core/atomic_file.hpp"
#include "loom/core/bytes.hpp"
#include "loom/core/error.hpp"
#include "loom/core/random.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/preprocess.hpp"
#include "loom/data/samples.hpp"
#include "loom/model/callback.hpp"
#include "loom/model/checkpoint.hpp"
#include "loom/model/fit_options.hpp"
#include "loom/model/model_file.hpp"
#include "loom/model/progress_bar.hpp"

namespace loom {

template <class T>
class Sequential;

// How one batch of training indices becomes one update, and how validation data is scored.
template <class T>
class TrainStep {
public:
    virtual ~TrainStep() = default;
    // Trains on the samples `batch` of (x, y); returns the sums over the whole batch.
    virtual BatchResult train(Sequential<T>& net, const Samples<T>& x, TensorView<const T> y,
                              std::span<const std::size_t> batch) = 0;
    virtual BatchResult evaluate(Sequential<T>& net, const Samples<T>& x, TensorView<const T> y,
                                 std::size_t batch_size) = 0;
    // The process that prints and writes files.
    virtual bool is_primary() const { return true; }
};

// The step in this process: the batch is gathered (bytes converted to T) into buffers reused across
// batches.
template <class T>
class LocalTrainStep : public TrainStep<T> {
public:
    BatchResult train(Sequential<T>& net, const Samples<T>& x, TensorView<const T> y,
                      std::span<const std::size_t> batch) override {
        x_.resize(net.input_shape().with_batch(batch.size()));
        y_.resize(net.output_shape().with_batch(batch.size()));
        x.gather(batch, x_.view());
        gather_rows<T>(y, batch, y_);
        return net.train_on_batch(x_, y_);
    }
    BatchResult evaluate(Sequential<T>& net, const Samples<T>& x, TensorView<const T> y, std::size_t batch_size) override {
        return net.evaluate_sums(x, y, batch_size);
    }

private:
    Tensor<T> x_, y_;
};

namespace detail {

// TrainingControl for a Sequential model being fitted.
template <class T>
class ModelControl final : public TrainingControl {
public:
    ModelControl(Sequential<T>& net, const History& history, std::size_t epochs, std::size_t steps, bool primary)
        : net_(net), history_(history), epochs_(epochs), steps_(steps), primary_(primary) {}

    void stop_training() override { stop_ = true; }
    bool stop_requested() const override { return stop_; }
    double learning_rate() const override { return net_.optimizer().learning_rate(); }
    void set_learning_rate(double rate) override { net_.optimizer().set_learning_rate(rate); }
    std::vector<double> get_weights() const override {
        std::vector<double> w;
        w.reserve(net_.param_count());
        for (const auto& p : net_.parameters()) w.insert(w.end(), p.value->begin(), p.value->end());
        return w;
    }
    void set_weights(std::span<const double> w) override {
        require<ArgumentError>(w.size() == net_.param_count(), "set_weights: ", w.size(), " values for a model with ",
                               net_.param_count(), " parameters");
        std::size_t at = 0;
        for (const auto& p : net_.parameters())
            for (auto& v : *p.value) v = static_cast<T>(w[at++]);
    }
    void save_model(const std::filesystem::path& path) const override { net_.save(path); }
    const History& history() const override { return history_; }
    std::size_t epochs() const override { return epochs_; }
    std::size_t steps_per_epoch() const override { return steps_; }
    bool is_primary() const override { return primary_; }

private:
    Sequential<T>& net_;
    const History& history_;
    std::size_t epochs_, steps_;
    bool primary_;
    bool stop_ = false;
};

template <class T>
void write_checkpoint(Sequential<T>& net, const FitOptions& o, std::size_t samples, std::size_t epochs_done,
                      bool stopped, const Rng& shuffler, const History& history, const std::vector<CallbackRef>& callbacks) {
    checkpoint::Contents c;
    c.samples = samples;
    c.batch_size = o.batch_size;
    c.seed = o.seed;
    c.epochs_done = epochs_done;
    c.stopped = stopped;
    c.shuffler = shuffler.state();
    c.history = history;
    c.model = net.to_bytes();
    c.optimizer = net.optimizer().name();
    ByteWriter optimizer_state;
    net.optimizer().save_state(optimizer_state);
    c.optimizer_state = std::move(optimizer_state.bytes());
    for (std::size_t l = 0; l < net.size(); ++l) {
        ByteWriter state;
        net.layer(l).save_state(state);
        c.layer_states.push_back(std::move(state.bytes()));
    }
    for (const auto& callback : callbacks) {
        ByteWriter state;
        callback->save_state(state);
        c.callback_states.emplace_back(callback->name(), std::move(state.bytes()));
    }
    const auto bytes = checkpoint::encode(c, sizeof(T));
    write_file_atomically(o.checkpoint_path, bytes.data(), bytes.size());
}

// Restores a checkpoint written for the same data size, batch size, seed and callbacks.
template <class T>
checkpoint::Contents restore_checkpoint(Sequential<T>& net, const FitOptions& o, std::size_t samples, Rng& shuffler,
                                        const std::vector<CallbackRef>& callbacks) {
    const std::string what = o.checkpoint_path.string();
    auto c = checkpoint::decode(model_file::read_file(o.checkpoint_path), sizeof(T), what);
    require<IoError>(c.samples == samples && c.batch_size == o.batch_size && c.seed == o.seed, what, ": written for ",
                     c.samples, " samples, batch size ", c.batch_size, " and seed ", c.seed, ", but this fit has ", samples,
                     " samples, batch size ", o.batch_size, " and seed ", o.seed);
    require<IoError>(c.optimizer == net.optimizer().name(), what, ": written with optimizer ", c.optimizer,
                     ", but the model is compiled with ", net.optimizer().name());
    require<IoError>(c.layer_states.size() == net.size(), what, ": layer states for ", c.layer_states.size(),
                     " layers, the model has ", net.size());
    std::string expected, found;
    for (const auto& callback : callbacks) expected.append(" ").append(callback->name());
    for (const auto& entry : c.callback_states) found.append(" ").append(entry.first);
    require<IoError>(expected == found, what, ": written with callbacks [", found, " ], this fit has [", expected, " ]");
    net.load_weights(c.model, what);
    net.optimizer().reset();
    ByteReader optimizer_state(c.optimizer_state.data(), c.optimizer_state.size(), what);
    net.optimizer().load_state(optimizer_state);
    for (std::size_t l = 0; l < net.size(); ++l) {
        ByteReader state(c.layer_states[l].data(), c.layer_states[l].size(), what);
        net.layer(l).load_state(state);
    }
    for (std::size_t k = 0; k < callbacks.size(); ++k) {
        const auto& blob = c.callback_states[k].second;
        ByteReader state(blob.data(), blob.size(), what);
        callbacks[k]->load_state(state);
    }
    shuffler.set_state(c.shuffler);
    return c;
}

inline bool has_progress_bar(const std::vector<CallbackRef>& callbacks) {
    for (const auto& callback : callbacks)
        if (dynamic_cast<const ProgressBar*>(&*callback)) return true;
    return false;
}

}  // namespace detail

// Trains `net` on (x, y) as FitOptions says, calling `callbacks` in order, with `step` doing the work
// of each batch. Sequential::fit is this with LocalTrainStep.
template <class T>
History run_training(Sequential<T>& net, const Samples<std::type_identity_t<T>>& x,
                     TensorView<const std::type_identity_t<T>> y, const ValidationData<std::type_identity_t<T>>* validation,
                     const FitOptions& o, std::vector<CallbackRef> callbacks, TrainStep<T>& step) {
    require(net.compiled(), "fit: compile the model first");
    require<ArgumentError>(o.batch_size >= 1, "fit: batch size must be at least 1");
    require<ArgumentError>(o.epochs >= 1, "fit: expected at least 1 epoch");
    require<ArgumentError>(o.checkpoint_every == 0 || !o.checkpoint_path.empty(),
                           "fit: checkpoint_every is set but checkpoint_path is empty");
    const std::size_t n = x.dim(0);
    require<ArgumentError>(n >= 1, "fit: no training samples");
    const std::size_t batch = std::min(o.batch_size, n), steps = (n + batch - 1) / batch;
    if (o.verbose && !detail::has_progress_bar(callbacks))
        callbacks.insert(callbacks.begin(), std::shared_ptr<Callback>(std::make_shared<ProgressBar>(*o.log)));

    History history;
    detail::ModelControl<T> control(net, history, o.epochs, steps, step.is_primary());
    Rng shuffler(o.seed);
    std::vector<std::size_t> order(n);
    for (auto& callback : callbacks) callback->on_train_begin(control);
    std::size_t first_epoch = 1;
    if (o.resume && !o.checkpoint_path.empty() && std::filesystem::exists(o.checkpoint_path)) {
        const auto c = detail::restore_checkpoint(net, o, n, shuffler, callbacks);
        history = c.history;
        first_epoch = static_cast<std::size_t>(c.epochs_done) + 1;
        if (c.stopped) control.stop_training();
    }

    for (std::size_t epoch = first_epoch; epoch <= o.epochs && !control.stop_requested(); ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        std::iota(order.begin(), order.end(), std::size_t{0});
        if (o.shuffle) shuffler.shuffle(order.begin(), order.end());
        for (auto& callback : callbacks) callback->on_epoch_begin(control, epoch);
        BatchResult sums;
        for (std::size_t s = 0; s < steps; ++s) {
            const std::span<const std::size_t> idx(order.data() + s * batch, std::min(batch, n - s * batch));
            BatchResult r;
            try {
                r = step.train(net, x, y, idx);
            } catch (const NumericError& e) {
                throw NumericError(detail::concat("fit: in epoch ", epoch, ", batch ", s + 1, " of ", steps, ": ", e.what()));
            }
            sums.loss_sum += r.loss_sum;
            sums.correct += r.correct;
            sums.samples += r.samples;
            const BatchLogs logs{epoch, s + 1, steps, sums.loss(), sums.accuracy()};
            for (auto& callback : callbacks) callback->on_batch_end(control, logs);
        }

        EpochLogs logs;
        logs.epoch = epoch;
        logs.loss = sums.loss_sum / double(n);
        logs.accuracy = double(sums.correct) / double(n);
        logs.learning_rate = net.optimizer().learning_rate();
        if (validation) {
            // With the training batch size: a larger one would grow every layer's buffers.
            const BatchResult v = step.evaluate(net, validation->x, validation->y, batch);
            logs.val_loss = v.loss();
            logs.val_accuracy = v.accuracy();
        }
        logs.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        history.loss.push_back(logs.loss);
        history.accuracy.push_back(logs.accuracy);
        if (validation) {
            history.val_loss.push_back(*logs.val_loss);
            history.val_accuracy.push_back(*logs.val_accuracy);
        }
        history.seconds.push_back(logs.seconds);
        history.learning_rate.push_back(logs.learning_rate);
        for (auto& callback : callbacks) callback->on_epoch_end(control, logs);

        const bool last = epoch == o.epochs || control.stop_requested();
        if (o.checkpoint_every && step.is_primary() && (epoch % o.checkpoint_every == 0 || last))
            detail::write_checkpoint(net, o, n, epoch, control.stop_requested(), shuffler, history, callbacks);
    }
    for (auto& callback : callbacks) callback->on_train_end(control);
    return history;
}

// fit with FitOptions::validation_split: the last fraction of the samples is held out, as in Keras.
// `step` computes each batch's update (loom::mpi::fit passes its data-parallel step); null: locally.
template <class T>
History fit_with_split(Sequential<T>& net, const Samples<std::type_identity_t<T>>& x,
                       TensorView<const std::type_identity_t<T>> y, const FitOptions& o,
                       const std::vector<CallbackRef>& callbacks, TrainStep<T>* step = nullptr) {
    require<ArgumentError>(o.validation_split >= 0 && o.validation_split < 1,
                           "fit: expected validation_split in [0, 1), got ", o.validation_split);
    const std::size_t n = x.dim(0);
    const auto held_out = static_cast<std::size_t>(std::floor(static_cast<double>(n) * o.validation_split));
    LocalTrainStep<T> local;
    TrainStep<T>& s = step ? *step : local;
    if (held_out == 0) return run_training(net, x, y, nullptr, o, callbacks, s);
    const ValidationData<T> validation{x.rows(n - held_out, n), y.rows(n - held_out, n)};
    return run_training(net, x.rows(0, n - held_out), y.rows(0, n - held_out), &validation, o, callbacks, s);
}

}  // namespace loom
