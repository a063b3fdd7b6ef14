#pragma once
// LambdaCallback: a callback made of std::functions, for a quick hook without a class (Keras'
// LambdaCallback). Any function may be left empty:
//     loom::LambdaCallback({.on_epoch_end = [](const loom::EpochLogs& logs) { ... }})
#include <functional>

#include "loom/model/callback.hpp"

namespace loom {

// The default initialisers let designated initialisers name only some hooks without warnings.
struct LambdaHooks {
    std::function<void()> on_train_begin = {}, on_train_end = {};
    std::function<void(std::size_t epoch)> on_epoch_begin = {};
    std::function<void(const EpochLogs&)> on_epoch_end = {};
    std::function<void(const BatchLogs&)> on_batch_end = {};
};

class LambdaCallback : public Callback {
public:
    explicit LambdaCallback(LambdaHooks hooks) : hooks_(std::move(hooks)) {}
    // The common case: LambdaCallback([](const EpochLogs& logs) { ... }).
    explicit LambdaCallback(std::function<void(const EpochLogs&)> on_epoch_end) { hooks_.on_epoch_end = std::move(on_epoch_end); }

    void on_train_begin(TrainingControl&) override { call(hooks_.on_train_begin); }
    void on_train_end(TrainingControl&) override { call(hooks_.on_train_end); }
    void on_epoch_begin(TrainingControl&, std::size_t epoch) override { call(hooks_.on_epoch_begin, epoch); }
    void on_epoch_end(TrainingControl&, const EpochLogs& logs) override { call(hooks_.on_epoch_end, logs); }
    void on_batch_end(TrainingControl&, const BatchLogs& logs) override { call(hooks_.on_batch_end, logs); }
    std::string name() const override { return "LambdaCallback"; }

private:
    template <class F, class... Args>
    static void call(const F& f, Args&&... args) {
        if (f) f(std::forward<Args>(args)...);
    }

    LambdaHooks hooks_;
};

}  // namespace loom
