#pragma once
// ModelCheckpoint: saves the model (a .loom file, atomically) after every epoch, or with
// save_best_only only when the monitored metric improves, so that the file always holds the best model.
#include <filesystem>
#include <string>

#include "loom/model/callback.hpp"
#include "loom/model/monitor.hpp"

namespace loom {

class ModelCheckpoint : public Callback {
public:
    explicit ModelCheckpoint(std::filesystem::path path, std::string monitor = "val_loss", bool save_best_only = false)
        : path_(std::move(path)), monitor_(std::move(monitor), 0), save_best_only_(save_best_only) {
        require<ArgumentError>(!path_.empty(), "ModelCheckpoint: empty path");
    }

    std::size_t saved_epoch() const { return saved_epoch_; }  // the last epoch written, 0 before any
    double best() const { return monitor_.best(); }

    void on_train_begin(TrainingControl&) override {
        monitor_.reset();
        saved_epoch_ = 0;
    }

    void on_epoch_end(TrainingControl& control, const EpochLogs& logs) override {
        // Every process keeps the same bookkeeping; only one writes.
        const bool improved = monitor_.improved(logs);
        if (save_best_only_ && !improved) return;
        saved_epoch_ = logs.epoch;
        if (control.is_primary()) control.save_model(path_);
    }

    std::string name() const override { return "ModelCheckpoint"; }
    void save_state(ByteWriter& out) const override {
        monitor_.save_state(out);
        out.put(static_cast<std::uint64_t>(saved_epoch_));
    }
    void load_state(ByteReader& in) override {
        monitor_.load_state(in);
        saved_epoch_ = static_cast<std::size_t>(in.get<std::uint64_t>());
    }

private:
    std::filesystem::path path_;
    Monitor monitor_;
    bool save_best_only_;
    std::size_t saved_epoch_ = 0;
};

}  // namespace loom
