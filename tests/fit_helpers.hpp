#pragma once
// Small helpers the training tests share: silent FitOptions and a model's weights as one vector.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "loom/loom.hpp"

namespace loom_test {

inline loom::FitOptions quiet(std::size_t epochs, std::size_t batch, std::uint64_t seed = 1, double validation_split = 0) {
    loom::FitOptions o;
    o.epochs = epochs;
    o.batch_size = batch;
    o.seed = seed;
    o.verbose = false;
    o.validation_split = validation_split;
    return o;
}

// As doubles, which hold float and double weights exactly (and match TrainingControl::get_weights).
template <class T>
std::vector<double> weights(const loom::Sequential<T>& net) {
    std::vector<double> w;
    for (const auto& p : net.parameters()) w.insert(w.end(), p.value->begin(), p.value->end());
    return w;
}

}  // namespace loom_test
