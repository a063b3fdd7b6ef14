#pragma once
// Cohen's kappa straight from label vectors, for when the confusion matrix itself is not needed.
#include <cstddef>
#include <span>

#include "loom/metrics/confusion_matrix.hpp"

namespace loom {

inline double cohens_kappa(std::span<const int> truth, std::span<const int> predicted, std::size_t classes) {
    require<ArgumentError>(!truth.empty(), "cohens_kappa: no samples");
    return ConfusionMatrix(truth, predicted, classes).kappa();
}

}  // namespace loom
