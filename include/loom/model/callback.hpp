#pragma once
// Callbacks: code that fit calls at fixed points of training, as in Keras. A callback sees the
// per-epoch logs and acts on the model through TrainingControl (stop, change the learning rate, copy
// or restore weights, save). fit(x, y, options, {EarlyStopping(...), ModelCheckpoint(...), mine})
// takes built-in and user callbacks in one braced list: a temporary is owned by the list, a named
// callback is used in place (so it can be inspected after fit).
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "loom/core/bytes.hpp"
#include "loom/core/error.hpp"
#include "loom/model/fit_options.hpp"

namespace loom {

// The metrics of one finished epoch (1-based). Validation values are there when fit has validation data.
struct EpochLogs {
    std::size_t epoch = 0;
    double loss = 0, accuracy = 0;
    std::optional<double> val_loss, val_accuracy;
    double learning_rate = 0;
    double seconds = 0;

    static bool known(std::string_view name) {
        for (const char* metric : {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"})
            if (name == metric) return true;
        return false;
    }

    // A metric by its Keras name: loss, accuracy, val_loss, val_accuracy, learning_rate, seconds.
    std::optional<double> find(std::string_view name) const {
        if (name == "loss") return loss;
        if (name == "accuracy") return accuracy;
        if (name == "val_loss") return val_loss;
        if (name == "val_accuracy") return val_accuracy;
        if (name == "learning_rate") return learning_rate;
        if (name == "seconds") return seconds;
        return std::nullopt;
    }
    double get(std::string_view name) const {
        const auto value = find(name);
        require<ArgumentError>(value.has_value(), "no metric '", name, "' in the epoch logs",
                               name.starts_with("val_") ? " (validation metrics need validation data or validation_split)"
                                                        : " (known: loss, accuracy, val_loss, val_accuracy, learning_rate, seconds)");
        return *value;
    }
};

// Running means over the batches of the current epoch so far.
struct BatchLogs {
    std::size_t epoch = 0, batch = 0, batches = 0;  // batch is 1-based, of `batches`
    double loss = 0, accuracy = 0;
};

// What a callback may do to the model being trained. Weights travel as doubles, which hold float
// and double models exactly.
class TrainingControl {
public:
    virtual ~TrainingControl() = default;
    virtual void stop_training() = 0;  // fit ends after the current epoch
    virtual bool stop_requested() const = 0;
    virtual double learning_rate() const = 0;
    virtual void set_learning_rate(double rate) = 0;
    virtual std::vector<double> get_weights() const = 0;
    virtual void set_weights(std::span<const double> weights) = 0;
    virtual void save_model(const std::filesystem::path& path) const = 0;  // atomically, as Sequential::save
    virtual const History& history() const = 0;                            // the epochs finished so far
    virtual std::size_t epochs() const = 0;                                // as planned in FitOptions
    virtual std::size_t steps_per_epoch() const = 0;
    // The process that prints and writes files: always true, except on the other ranks of an MPI fit.
    virtual bool is_primary() const = 0;
};

class Callback {
public:
    virtual ~Callback() = default;
    virtual void on_train_begin(TrainingControl&) {}
    virtual void on_train_end(TrainingControl&) {}
    virtual void on_epoch_begin(TrainingControl&, std::size_t /*epoch*/) {}
    virtual void on_epoch_end(TrainingControl&, const EpochLogs&) {}
    virtual void on_batch_end(TrainingControl&, const BatchLogs&) {}
    // What the callback has learnt so far (a best value, a wait count), stored in fit's checkpoints so
    // that a resumed run behaves exactly like an uninterrupted one: on resume, load_state follows
    // on_train_begin. The name checks that a checkpoint is resumed with the same callbacks.
    virtual std::string name() const { return "Callback"; }
    virtual void save_state(ByteWriter&) const {}
    virtual void load_state(ByteReader&) {}
};

// One entry of fit's callback list: owns a temporary, refers to a named callback.
class CallbackRef {
public:
    template <class C>
        requires std::derived_from<std::remove_cvref_t<C>, Callback>
    CallbackRef(C&& callback) {  // NOLINT: implicit, for braced lists
        if constexpr (std::is_lvalue_reference_v<C>)
            callback_ = std::shared_ptr<Callback>(std::shared_ptr<Callback>{}, &callback);  // not owned
        else
            callback_ = std::make_shared<std::remove_cvref_t<C>>(std::move(callback));
    }
    CallbackRef(std::shared_ptr<Callback> callback) : callback_(std::move(callback)) {
        require<ArgumentError>(callback_ != nullptr, "fit: a null callback");
    }
    Callback& operator*() const { return *callback_; }
    Callback* operator->() const { return callback_.get(); }

private:
    std::shared_ptr<Callback> callback_;
};

}  // namespace loom
