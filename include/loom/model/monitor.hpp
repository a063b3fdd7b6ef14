#pragma once
// Monitor: the "has the watched metric improved?" bookkeeping that EarlyStopping, ModelCheckpoint and
// ReduceLROnPlateau share. Metrics named like an accuracy improve upwards, all others (losses)
// downwards, as Keras' mode "auto" decides.
#include <cmath>
#include <limits>
#include <string>

#include "loom/core/bytes.hpp"
#include "loom/core/error.hpp"
#include "loom/model/callback.hpp"

namespace loom {

class Monitor {
public:
    Monitor(std::string metric, double min_delta) : metric_(std::move(metric)), min_delta_(std::abs(min_delta)) {
        require<ArgumentError>(EpochLogs::known(metric_),
                               "unknown metric to monitor '", metric_,
                               "' (known: loss, accuracy, val_loss, val_accuracy, learning_rate, seconds)");
        require<ArgumentError>(std::isfinite(min_delta), "min_delta must be finite, got ", min_delta);
        higher_is_better_ = metric_.find("accuracy") != std::string::npos;
        reset();
    }

    const std::string& metric() const { return metric_; }
    double best() const { return best_; }
    void reset() { best_ = higher_is_better_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity(); }

    // Reads the metric from the logs; true (and remembered as the best) when it beats the best by more
    // than min_delta.
    bool improved(const EpochLogs& logs) {
        const double value = logs.get(metric_);
        const bool better = higher_is_better_ ? value - min_delta_ > best_ : value + min_delta_ < best_;
        if (better) best_ = value;
        return better;
    }

    void save_state(ByteWriter& out) const { out.put(best_); }
    void load_state(ByteReader& in) { best_ = in.get<double>(); }

private:
    std::string metric_;
    double min_delta_;
    bool higher_is_better_ = false;
    double best_ = 0;
};

}  // namespace loom
