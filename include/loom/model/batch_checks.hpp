#pragma once
// The checks and small computations Sequential applies to every batch it is given: shapes against the
// model's, class labels as one-hot targets, and the count of correct predictions.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/shape.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/preprocess.hpp"
#include "loom/data/samples.hpp"

namespace loom {

// x must be (N, per_sample...); the message is built only on failure, as this runs on every batch.
inline void check_batch_shape(const Shape& x, const Shape& per_sample, const char* what) {
    if (!(x == per_sample.with_batch(x.rank() ? x[0] : 0)))
        throw ShapeError(detail::concat("expected ", what, " of shape (N, ", per_sample.to_string().substr(1), " but got ",
                                        x));
}

template <class T>
void check_batch(TensorView<const T> x, const Shape& per_sample, const char* what) {
    check_batch_shape(x.shape(), per_sample, what);
}

// Inputs (as T or as scaled bytes) and targets of one data set.
template <class T>
void check_dataset(const Samples<T>& x, TensorView<const T> y, const Shape& input, const Shape& output, bool no_layers) {
    require<ArgumentError>(!no_layers, "the model has no layers");
    check_batch_shape(x.shape(), input, "input");
    check_batch<T>(y, output, "targets");
    require<ShapeError>(x.dim(0) == y.dim(0), "expected as many targets as samples: ", x.dim(0), " samples but ", y.dim(0),
                        " targets");
}

// One-hot targets for class labels, checked against the model's output shape.
template <class T>
Tensor<T> class_targets(const std::vector<int>& labels, std::size_t samples, const Shape& output) {
    require<ShapeError>(labels.size() == samples, "expected one label per sample: ", samples, " samples but ",
                        labels.size(), " labels");
    require<ShapeError>(output.rank() == 1, "class labels need a model with flat outputs, this one outputs ", output);
    return one_hot<T>(labels, output[0]);
}

// Counts samples whose largest output is at the position of their largest target.
template <class T>
std::size_t count_correct(TensorView<const T> p, TensorView<const T> y) {
    const std::size_t n = p.dim(0), c = n ? p.size() / n : 0;
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T* pr = p.data() + i * c;
        const T* yr = y.data() + i * c;
        correct += std::max_element(pr, pr + c) - pr == std::max_element(yr, yr + c) - yr;
    }
    return correct;
}

}  // namespace loom
