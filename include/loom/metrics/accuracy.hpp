#pragma once
// Accuracy: the fraction of predictions that equal the true class.
#include <cstddef>
#include <span>

#include "loom/core/error.hpp"

namespace loom {

inline double accuracy(std::span<const int> truth, std::span<const int> predicted) {
    require<ArgumentError>(truth.size() == predicted.size(), "accuracy: ", truth.size(), " true labels but ",
                           predicted.size(), " predictions");
    require<ArgumentError>(!truth.empty(), "accuracy: no samples");
    std::size_t correct = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) correct += truth[i] == predicted[i];
    return static_cast<double>(correct) / static_cast<double>(truth.size());
}

}  // namespace loom
