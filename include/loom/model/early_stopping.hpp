#pragma once
// EarlyStopping: ends fit when the monitored metric has not improved for `patience` epochs, as in
// Keras (the first epoch never stops a run). With restore_best_weights, the model gets the weights of
// its best epoch back when it stops.
#include <cstdint>
#include <string>
#include <vector>

#include "loom/model/callback.hpp"
#include "loom/model/monitor.hpp"

namespace loom {

class EarlyStopping : public Callback {
public:
    explicit EarlyStopping(std::string monitor = "val_loss", std::size_t patience = 0, double min_delta = 0,
                           bool restore_best_weights = false)
        : monitor_(std::move(monitor), min_delta), patience_(patience), restore_best_weights_(restore_best_weights) {}

    std::size_t stopped_epoch() const { return stopped_epoch_; }  // 0 when it never stopped the run
    std::size_t best_epoch() const { return best_epoch_; }
    double best() const { return monitor_.best(); }

    void on_train_begin(TrainingControl&) override {
        monitor_.reset();
        wait_ = best_epoch_ = stopped_epoch_ = 0;
        best_weights_.clear();
    }

    void on_epoch_end(TrainingControl& control, const EpochLogs& logs) override {
        ++wait_;
        if (monitor_.improved(logs)) {
            wait_ = 0;
            best_epoch_ = logs.epoch;
            if (restore_best_weights_) best_weights_ = control.get_weights();
            return;
        }
        if (wait_ >= patience_ && logs.epoch > 1) {
            stopped_epoch_ = logs.epoch;
            control.stop_training();
            if (restore_best_weights_ && !best_weights_.empty()) control.set_weights(best_weights_);
        }
    }

    std::string name() const override { return "EarlyStopping"; }
    void save_state(ByteWriter& out) const override {
        monitor_.save_state(out);
        for (std::size_t v : {wait_, best_epoch_, stopped_epoch_}) out.put(static_cast<std::uint64_t>(v));
        out.put(static_cast<std::uint64_t>(best_weights_.size()));
        out.raw(best_weights_.data(), best_weights_.size() * sizeof(double));
    }
    void load_state(ByteReader& in) override {
        monitor_.load_state(in);
        for (std::size_t* v : {&wait_, &best_epoch_, &stopped_epoch_}) *v = static_cast<std::size_t>(in.get<std::uint64_t>());
        const auto count = in.get<std::uint64_t>();
        require<IoError>(count <= in.remaining() / sizeof(double), in.what(), ": EarlyStopping's best weights are truncated");
        best_weights_.resize(static_cast<std::size_t>(count));
        in.raw(best_weights_.data(), best_weights_.size() * sizeof(double));
    }

private:
    Monitor monitor_;
    std::size_t patience_;
    bool restore_best_weights_;
    std::size_t wait_ = 0, best_epoch_ = 0, stopped_epoch_ = 0;
    std::vector<double> best_weights_;
};

}  // namespace loom
