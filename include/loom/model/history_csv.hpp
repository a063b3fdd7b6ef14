#pragma once
// A training History as CSV (epoch, loss, accuracy, val_loss, val_accuracy, seconds, learning_rate),
// written atomically.
#include <filesystem>
#include <sstream>

#include "loom/core/atomic_file.hpp"
#include "loom/model/fit_options.hpp"

namespace loom {

inline std::string history_csv(const History& h) {
    std::ostringstream out;
    out.precision(8);
    out << "epoch,loss,accuracy,val_loss,val_accuracy,seconds,learning_rate\n";
    for (std::size_t e = 0; e < h.epochs(); ++e) {
        out << e + 1 << ',' << h.loss[e] << ',' << h.accuracy[e] << ',';
        if (h.has_validation()) out << h.val_loss[e] << ',' << h.val_accuracy[e];
        else out << ',';
        out << ',' << (e < h.seconds.size() ? h.seconds[e] : 0.0) << ',';
        if (e < h.learning_rate.size()) out << h.learning_rate[e];
        out << '\n';
    }
    return out.str();
}

inline void write_history_csv(const std::filesystem::path& path, const History& h) {
    const std::string text = history_csv(h);
    write_file_atomically(path, text.data(), text.size());
}

}  // namespace loom
