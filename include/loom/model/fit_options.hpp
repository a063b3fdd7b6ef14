#pragma once
// The settings of Sequential::fit and what fit and evaluate return.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace loom {

struct FitOptions {
    std::size_t epochs = 1;
    std::size_t batch_size = 32;
    std::uint64_t seed = 0;            // drives the shuffling of each epoch
    bool shuffle = true;
    double validation_split = 0.0;     // the last fraction of the data is held out, as in Keras
    bool verbose = true;               // progress bar on a terminal, one line per epoch otherwise
    std::ostream* log = &std::cout;    // where progress goes

    // Checkpoints: every `checkpoint_every` epochs (and after the last), fit writes weights, optimizer
    // state, generator states and history to `checkpoint_path`, atomically. With `resume`, fit first
    // continues from that file when it exists; the result is bit-identical to an uninterrupted run
    // with the same seed and thread count.
    std::filesystem::path checkpoint_path;
    std::size_t checkpoint_every = 0;
    bool resume = false;
};

struct Evaluation {
    double loss = 0;
    double accuracy = 0;
};

// Per-epoch metrics of a fit; validation columns stay empty without validation data.
struct History {
    std::vector<double> loss, accuracy, val_loss, val_accuracy, seconds;

    std::size_t epochs() const { return loss.size(); }
    bool has_validation() const { return !val_loss.empty(); }
};

}  // namespace loom
