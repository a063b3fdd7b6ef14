#pragma once
// ReduceLROnPlateau: multiplies the learning rate by `factor` (down to min_lr) when the monitored
// metric has not improved for `patience` epochs, then waits `cooldown` epochs before counting again,
// as in Keras. The reduced rate is a constant: it replaces a schedule from then on.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "loom/model/callback.hpp"
#include "loom/model/monitor.hpp"

namespace loom {

class ReduceLROnPlateau : public Callback {
public:
    explicit ReduceLROnPlateau(std::string monitor = "val_loss", double factor = 0.1, std::size_t patience = 10,
                               double min_lr = 0, double min_delta = 1e-4, std::size_t cooldown = 0)
        : monitor_(std::move(monitor), min_delta), factor_(factor), patience_(patience), min_lr_(min_lr), cooldown_(cooldown) {
        require<ArgumentError>(factor > 0 && factor < 1, "ReduceLROnPlateau: expected 0 < factor < 1, got ", factor);
        require<ArgumentError>(min_lr >= 0 && std::isfinite(min_lr), "ReduceLROnPlateau: expected min_lr >= 0, got ", min_lr);
    }

    std::size_t reductions() const { return reductions_; }

    void on_train_begin(TrainingControl&) override {
        monitor_.reset();
        wait_ = cooldown_left_ = reductions_ = 0;
        rate_ = -1;
    }

    // A resumed run gets the reduced rate back before its first update.
    void on_epoch_begin(TrainingControl& control, std::size_t) override {
        if (rate_ >= 0 && control.learning_rate() != rate_) control.set_learning_rate(rate_);
    }

    void on_epoch_end(TrainingControl& control, const EpochLogs& logs) override {
        if (cooldown_left_ > 0) {
            --cooldown_left_;
            wait_ = 0;
        }
        if (monitor_.improved(logs)) {
            wait_ = 0;
        } else if (cooldown_left_ == 0 && ++wait_ >= patience_) {
            const double old_rate = control.learning_rate();
            if (old_rate > min_lr_) {
                rate_ = std::max(old_rate * factor_, min_lr_);
                control.set_learning_rate(rate_);
                ++reductions_;
                cooldown_left_ = cooldown_;
            }
            wait_ = 0;
        }
    }

    std::string name() const override { return "ReduceLROnPlateau"; }
    void save_state(ByteWriter& out) const override {
        monitor_.save_state(out);
        for (std::size_t v : {wait_, cooldown_left_, reductions_}) out.put(static_cast<std::uint64_t>(v));
        out.put(rate_);
    }
    void load_state(ByteReader& in) override {
        monitor_.load_state(in);
        for (std::size_t* v : {&wait_, &cooldown_left_, &reductions_}) *v = static_cast<std::size_t>(in.get<std::uint64_t>());
        rate_ = in.get<double>();
    }

private:
    Monitor monitor_;
    double factor_;
    std::size_t patience_;
    double min_lr_;
    std::size_t cooldown_;
    std::size_t wait_ = 0, cooldown_left_ = 0, reductions_ = 0;
    double rate_ = -1;  // the rate set by the last reduction; negative before any
};

}  // namespace loom
