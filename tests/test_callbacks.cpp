// The training loop's callbacks do what they promise: EarlyStopping stops and restores the best
// weights, ModelCheckpoint keeps the best model, ReduceLROnPlateau lowers the rate, CSVLogger and
// LambdaCallback see every epoch, and a resumed run with callbacks matches an uninterrupted one.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fit_helpers.hpp"
#include "loom/loom.hpp"
#include "temp_dir.hpp"

namespace {

using loom_test::weights;

// Three noisy classes of 4-feature samples: learnable, but a fast learning rate overfits them.
struct Data {
    loom::Tensor<float> x{loom::Shape{90, 4}};
    std::vector<int> y = std::vector<int>(90);
    Data() {
        loom::Rng rng(11);
        for (std::size_t i = 0; i < 90; ++i) {
            y[i] = static_cast<int>(i % 3);
            for (std::size_t k = 0; k < 4; ++k)
                x[i * 4 + k] = static_cast<float>(rng.uniform(-1.0, 1.0)) + (k == i % 3 ? 0.8f : 0.0f);
        }
    }
};

loom::Sequential<float> model(double rate = 0.05, bool dropout = true) {
    loom::Sequential<float> net({4}, 7);
    net.add<loom::Dense>(16).add<loom::Tanh>();
    if (dropout) net.add<loom::Dropout>(0.2);
    net.add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(rate));
    return net;
}

loom::FitOptions options(std::size_t epochs) { return loom_test::quiet(epochs, 8, 3, 0.3); }

// Records what the loop reports, and can stop the run at a given epoch.
class Recorder : public loom::Callback {
public:
    std::vector<std::string> events;
    std::vector<loom::EpochLogs> epochs;
    std::vector<std::vector<double>> weights_at_end;
    std::size_t batches = 0, stop_at = 0;

    void on_train_begin(loom::TrainingControl&) override { events.push_back("train_begin"); }
    void on_train_end(loom::TrainingControl&) override { events.push_back("train_end"); }
    void on_epoch_begin(loom::TrainingControl&, std::size_t epoch) override {
        events.push_back("epoch_begin " + std::to_string(epoch));
    }
    void on_batch_end(loom::TrainingControl&, const loom::BatchLogs&) override { ++batches; }
    void on_epoch_end(loom::TrainingControl& control, const loom::EpochLogs& logs) override {
        events.push_back("epoch_end " + std::to_string(logs.epoch));
        epochs.push_back(logs);
        weights_at_end.push_back(control.get_weights());
        if (logs.epoch == stop_at) control.stop_training();
    }
};

}  // namespace

TEST_CASE("train_on_batch applies the optimizer step; compute_gradients leaves the weights alone") {
    const Data data;
    auto net = model(0.05, false);
    const auto y = loom::one_hot<float>(data.y, 3);
    const auto before = weights(net);
    const auto r = net.compute_gradients(data.x.view().rows(0, 8), y.view().rows(0, 8));
    CHECK(weights(net) == before);
    CHECK(r.samples == 8);
    double grad_norm = 0;
    for (const auto& p : net.parameters())
        for (float g : *p.grad) grad_norm += double(g) * g;
    CHECK(grad_norm > 0);

    const auto step = net.train_on_batch(data.x.view().rows(0, 8), y.view().rows(0, 8));
    CHECK(weights(net) != before);
    CHECK(step.loss() == doctest::Approx(r.loss()));
    // Many steps on one batch fit it: its loss falls.
    for (int i = 0; i < 50; ++i) net.train_on_batch(data.x.view().rows(0, 8), y.view().rows(0, 8));
    CHECK(net.compute_gradients(data.x.view().rows(0, 8), y.view().rows(0, 8)).loss() < 0.5 * r.loss());
}

TEST_CASE("callbacks: hooks in order, logs match the history, a callback can stop the run") {
    const Data data;
    auto net = model();
    Recorder recorder;
    recorder.stop_at = 3;
    const auto history = net.fit(data.x, data.y, options(10), {recorder});
    REQUIRE(history.epochs() == 3);
    CHECK(recorder.events.front() == "train_begin");
    CHECK(recorder.events[1] == "epoch_begin 1");
    CHECK(recorder.events[2] == "epoch_end 1");
    CHECK(recorder.events.back() == "train_end");
    CHECK(recorder.events.size() == 2 + 2 * 3);
    CHECK(recorder.batches == 3 * 8);  // 63 training samples in batches of 8
    for (std::size_t e = 0; e < 3; ++e) {
        CHECK(recorder.epochs[e].loss == history.loss[e]);
        CHECK(*recorder.epochs[e].val_accuracy == history.val_accuracy[e]);
        CHECK(recorder.epochs[e].learning_rate == doctest::Approx(0.05));
        CHECK(history.learning_rate[e] == doctest::Approx(0.05));
    }
    // The monitored names resolve; a validation metric without validation data is a clear error.
    CHECK(recorder.epochs[0].get("val_loss") == history.val_loss[0]);
    loom::EpochLogs no_validation;
    CHECK_THROWS_WITH_AS(no_validation.get("val_loss"), doctest::Contains("validation"), loom::ArgumentError);
    CHECK_THROWS_AS(loom::EarlyStopping("val_los"), loom::ArgumentError);
    CHECK_THROWS_AS(loom::EarlyStopping("precision"), loom::ArgumentError);
}

TEST_CASE("EarlyStopping stops after `patience` epochs without improvement and restores the best weights") {
    const Data data;
    auto net = model(0.2);  // a fast rate: the validation loss soon stops improving
    loom::EarlyStopping stopper("val_loss", 2, 0.0, true);
    Recorder recorder;
    const auto history = net.fit(data.x, data.y, options(60), {recorder, stopper});
    REQUIRE(stopper.stopped_epoch() > 0);
    CHECK(history.epochs() == stopper.stopped_epoch());
    CHECK(stopper.stopped_epoch() == stopper.best_epoch() + 2);
    // The best epoch is the one with the lowest validation loss, and its weights are back.
    const auto best = std::min_element(history.val_loss.begin(), history.val_loss.end()) - history.val_loss.begin();
    CHECK(static_cast<std::size_t>(best) + 1 == stopper.best_epoch());
    CHECK(stopper.best() == history.val_loss[static_cast<std::size_t>(best)]);
    CHECK(weights(net) == recorder.weights_at_end[static_cast<std::size_t>(best)]);
    CHECK(weights(net) != recorder.weights_at_end.back());

    // Without restore_best_weights the model keeps its last weights.
    auto last = model(0.2);
    Recorder recorder2;
    last.fit(data.x, data.y, options(60), {recorder2, loom::EarlyStopping("val_loss", 2)});
    CHECK(weights(last) == recorder2.weights_at_end.back());
}

TEST_CASE("ModelCheckpoint with save_best_only keeps the best model in its file") {
    const Data data;
    const loom_test::TempDir dir;
    auto net = model(0.2);
    loom::ModelCheckpoint best(dir / "best.loom", "val_accuracy", true);
    Recorder recorder;
    const auto history = net.fit(data.x, data.y, options(12), {recorder, best});
    const auto top = std::max_element(history.val_accuracy.begin(), history.val_accuracy.end()) - history.val_accuracy.begin();
    CHECK(best.saved_epoch() == static_cast<std::size_t>(top) + 1);  // the first epoch reaching the maximum
    auto saved = loom::Sequential<float>::load(dir / "best.loom");
    CHECK(weights(saved) == recorder.weights_at_end[static_cast<std::size_t>(top)]);

    // Without save_best_only the file follows the last epoch.
    loom::ModelCheckpoint every(dir / "last.loom");
    net.fit(data.x, data.y, options(2), {every});
    CHECK(every.saved_epoch() == 2);
    CHECK(weights(loom::Sequential<float>::load(dir / "last.loom")) == weights(net));
}

TEST_CASE("ReduceLROnPlateau lowers the learning rate when the metric stalls, not below min_lr") {
    const Data data;
    auto net = model(0.2);
    loom::ReduceLROnPlateau reduce("val_loss", 0.5, 1, 0.03, 0.0);
    const auto history = net.fit(data.x, data.y, options(40), {reduce});
    REQUIRE(reduce.reductions() >= 1);
    CHECK(history.learning_rate.front() == doctest::Approx(0.2));
    CHECK(history.learning_rate.back() < 0.2);
    CHECK(history.learning_rate.back() >= 0.03);
    for (std::size_t e = 1; e < history.epochs(); ++e) {
        CHECK(history.learning_rate[e] <= history.learning_rate[e - 1]);
        // Each drop is one reduction: by the factor, or to the floor.
        if (history.learning_rate[e] < history.learning_rate[e - 1])
            CHECK(history.learning_rate[e] ==
                  doctest::Approx(std::max(0.5 * history.learning_rate[e - 1], 0.03)));
    }
    CHECK_THROWS_AS(loom::ReduceLROnPlateau("val_loss", 1.5), loom::ArgumentError);
}

TEST_CASE("CSVLogger writes every epoch; LambdaCallback calls its functions") {
    const Data data;
    const loom_test::TempDir dir;
    auto net = model();
    std::size_t epochs_seen = 0, batches_seen = 0, begins = 0;
    loom::LambdaCallback lambda({.on_train_begin = [&] { ++begins; },
                                 .on_epoch_end = [&](const loom::EpochLogs&) { ++epochs_seen; },
                                 .on_batch_end = [&](const loom::BatchLogs&) { ++batches_seen; }});
    const auto history = net.fit(data.x, data.y, options(3), {loom::CSVLogger(dir / "log.csv"), lambda});
    CHECK(begins == 1);
    CHECK(epochs_seen == 3);
    CHECK(batches_seen == 3 * 8);
    std::ifstream in(dir / "log.csv");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,seconds,learning_rate");
    CHECK(lines[3].rfind("3,", 0) == 0);
    CHECK(lines[3].find(std::to_string(history.loss[2]).substr(0, 6)) != std::string::npos);
}

TEST_CASE("a resumed run with callbacks matches an uninterrupted one, callback state included") {
    const Data data;
    const loom_test::TempDir dir;
    const auto callbacks_of = [](loom::EarlyStopping& stopper, loom::ReduceLROnPlateau& reduce) {
        return std::vector<loom::CallbackRef>{stopper, reduce};
    };
    loom::EarlyStopping straight_stop("val_loss", 4, 0.0, true);
    loom::ReduceLROnPlateau straight_reduce("val_loss", 0.5, 1, 0.01, 0.0);
    auto straight = model(0.2);
    const auto full = straight.fit(data.x, data.y, options(30), callbacks_of(straight_stop, straight_reduce));
    REQUIRE(straight_reduce.reductions() >= 1);

    // The same run, interrupted after 5 epochs (a checkpoint every epoch) and resumed by new objects.
    auto o = options(5);
    o.checkpoint_path = dir / "run.ckpt";
    o.checkpoint_every = 1;
    {
        loom::EarlyStopping stop("val_loss", 4, 0.0, true);
        loom::ReduceLROnPlateau reduce("val_loss", 0.5, 1, 0.01, 0.0);
        auto first = model(0.2);
        first.fit(data.x, data.y, o, callbacks_of(stop, reduce));
    }
    loom::EarlyStopping stop("val_loss", 4, 0.0, true);
    loom::ReduceLROnPlateau reduce("val_loss", 0.5, 1, 0.01, 0.0);
    auto resumed = model(0.2);
    o.epochs = 30;
    o.resume = true;
    const auto rest = resumed.fit(data.x, data.y, o, callbacks_of(stop, reduce));
    CHECK(rest.loss == full.loss);
    CHECK(rest.val_loss == full.val_loss);
    CHECK(rest.learning_rate == full.learning_rate);
    CHECK(stop.stopped_epoch() == straight_stop.stopped_epoch());
    CHECK(stop.best_epoch() == straight_stop.best_epoch());
    CHECK(reduce.reductions() == straight_reduce.reductions());
    CHECK(weights(resumed) == weights(straight));

    // A checkpoint resumed with other callbacks is refused.
    auto other = model(0.2);
    CHECK_THROWS_WITH_AS(other.fit(data.x, data.y, o, {stop}), doctest::Contains("callbacks"), loom::IoError);
}

TEST_CASE("fit's progress bar is a callback: verbose adds one, an explicit one replaces it") {
    const Data data;
    std::ostringstream log;
    auto net = model();
    auto o = options(2);
    o.verbose = true;
    o.log = &log;
    net.fit(data.x, data.y, o);
    CHECK(log.str().find("Epoch 1/2") != std::string::npos);
    CHECK(log.str().find("val_accuracy") != std::string::npos);
    std::ostringstream mine;
    net.fit(data.x, data.y, o, {loom::ProgressBar(mine, false)});
    CHECK(mine.str().find("Epoch 2/2") != std::string::npos);
    CHECK(log.str().find("Epoch 1/2", 10) == std::string::npos);  // nothing more on the default log
}
