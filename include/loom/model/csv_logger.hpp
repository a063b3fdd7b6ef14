#pragma once
// CSVLogger: after every epoch, writes the whole history so far as CSV (history_csv.hpp), atomically.
// Rewriting the file keeps it consistent with the run whatever happens: a resumed run rewrites the
// same rows an uninterrupted one would have.
#include <filesystem>

#include "loom/model/callback.hpp"
#include "loom/model/history_csv.hpp"

namespace loom {

class CSVLogger : public Callback {
public:
    explicit CSVLogger(std::filesystem::path path) : path_(std::move(path)) {
        require<ArgumentError>(!path_.empty(), "CSVLogger: empty path");
    }

    void on_epoch_end(TrainingControl& control, const EpochLogs&) override {
        if (control.is_primary()) write_history_csv(path_, control.history());
    }
    std::string name() const override { return "CSVLogger"; }

private:
    std::filesystem::path path_;
};

}  // namespace loom
