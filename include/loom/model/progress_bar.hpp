#pragma once
// ProgressBar: the Keras-like progress display, as a callback (fit adds one when options.verbose is
// set and the list has none). On a terminal the current epoch's line is redrawn in place ("\r"), at
// most every 0.1 s; elsewhere (a log file, CI) only the final line of each epoch is written, so logs
// stay readable. Only the primary process of a distributed fit prints.
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "loom/model/callback.hpp"

namespace loom {

class ProgressBar : public Callback {
public:
    using Clock = std::chrono::steady_clock;

    // Redraws in place when `out` is a terminal.
    explicit ProgressBar(std::ostream& out = std::cout) : ProgressBar(out, is_terminal(out)) {}
    ProgressBar(std::ostream& out, bool interactive) : out_(&out), interactive_(interactive) {}

    void on_epoch_begin(TrainingControl& control, std::size_t epoch) override {
        if (control.is_primary()) start_epoch(epoch, control.epochs(), control.steps_per_epoch());
    }
    void on_batch_end(TrainingControl& control, const BatchLogs& logs) override {
        if (control.is_primary()) update(logs.batch, logs.loss, logs.accuracy);
    }
    void on_epoch_end(TrainingControl& control, const EpochLogs& logs) override {
        if (!control.is_primary()) return;
        std::vector<std::pair<std::string, double>> metrics{{"loss", logs.loss}, {"accuracy", logs.accuracy}};
        if (logs.val_loss) metrics.emplace_back("val_loss", *logs.val_loss);
        if (logs.val_accuracy) metrics.emplace_back("val_accuracy", *logs.val_accuracy);
        end_epoch(metrics);
    }
    std::string name() const override { return "ProgressBar"; }

    // True when `out` is std::cout and standard output is a terminal.
    static bool is_terminal(const std::ostream& out) { return &out == &std::cout && ::isatty(STDOUT_FILENO); }

    void start_epoch(std::size_t epoch, std::size_t epochs, std::size_t steps) {
        steps_ = steps;
        start_ = last_draw_ = Clock::now();
        *out_ << "Epoch " << epoch << '/' << epochs << '\n';
        if (interactive_) draw(0, {});
    }

    // Called every step with the running loss and accuracy; redraws at most every 0.1 s and builds
    // nothing in between, so training steps stay free of allocations.
    void update(std::size_t step, double loss, double accuracy) {
        if (!interactive_) return;
        const auto now = Clock::now();
        if (step < steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        draw(step, {{"loss", loss}, {"accuracy", accuracy}});
    }

    // The final line of the epoch, with its time and every metric (validation included).
    void end_epoch(const std::vector<std::pair<std::string, double>>& metrics) {
        draw(steps_, metrics);
        *out_ << std::endl;
    }

    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    void draw(std::size_t step, const std::vector<std::pair<std::string, double>>& metrics) {
        constexpr std::size_t width = 30;
        const std::size_t filled = steps_ ? width * step / steps_ : width;
        std::ostringstream line;
        const int digits = static_cast<int>(std::to_string(steps_).size());
        line << std::setw(digits) << step << '/' << steps_ << " [";
        for (std::size_t i = 0; i < width; ++i) line << (i < filled ? '=' : (i == filled ? '>' : '.'));
        line << "] - " << std::fixed << std::setprecision(1) << seconds() << 's';
        if (step == steps_ && steps_) line << ' ' << std::setprecision(0) << 1000 * seconds() / double(steps_) << "ms/step";
        for (const auto& [name, value] : metrics) line << " - " << name << ": " << std::setprecision(4) << value;
        *out_ << (interactive_ ? "\r" : "") << line.str() << (interactive_ ? "\033[K" : "") << std::flush;
    }

    std::ostream* out_;
    bool interactive_;
    std::size_t steps_ = 0;
    Clock::time_point start_, last_draw_;
};

}  // namespace loom
