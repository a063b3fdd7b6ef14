#pragma once
// The settings of Sequential::fit and what fit, train_on_batch and evaluate return.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "loom/core/tensor.hpp"
#include "loom/data/samples.hpp"

namespace loom {

struct FitOptions {
    std::size_t epochs = 1;
    std::size_t batch_size = 32;
    std::uint64_t seed = 0;            // drives the shuffling of each epoch
    bool shuffle = true;
    double validation_split = 0.0;     // the last fraction of the data is held out, as in Keras
    bool verbose = true;               // progress bar on a terminal, one line per epoch otherwise
    std::ostream* log = &std::cout;    // where progress goes

    // Checkpoints: every `checkpoint_every` epochs (and after the last, or when a callback stops the
    // run), fit writes weights, optimizer state, generator states, history and the callbacks' own
    // state to `checkpoint_path`, atomically. With `resume`, fit first continues from that file when
    // it exists; the result is bit-identical to an uninterrupted run with the same seed, thread count
    // and callbacks.
    std::filesystem::path checkpoint_path;
    std::size_t checkpoint_every = 0;
    bool resume = false;
};

// Held-out data passed to fit explicitly (Keras' validation_data).
template <class T>
struct ValidationData {
    Samples<T> x;           // a tensor or view of T, or scaled bytes (samples.hpp)
    TensorView<const T> y;  // one-hot (or other) targets shaped like the model output
};

// Whether a batch's gradient is that of its mean loss (minibatch training) or of its summed loss
// (full-batch criteria, and data-parallel shards that are added up before the mean is taken).
enum class Reduction { Mean, Sum };

// What one batch (or a whole evaluation) gave: sums, so that batches and processes add up exactly.
struct BatchResult {
    double loss_sum = 0;
    std::size_t correct = 0;  // samples whose largest output is at their target's largest value
    std::size_t samples = 0;

    double loss() const { return samples ? loss_sum / static_cast<double>(samples) : 0.0; }
    double accuracy() const { return samples ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0; }
};

struct Evaluation {
    double loss = 0;
    double accuracy = 0;
};

// Per-epoch metrics of a fit; validation columns stay empty without validation data.
struct History {
    std::vector<double> loss, accuracy, val_loss, val_accuracy, seconds;
    std::vector<double> learning_rate;  // the optimizer's rate at the end of each epoch

    std::size_t epochs() const { return loss.size(); }
    bool has_validation() const { return !val_loss.empty(); }
};

}  // namespace loom
