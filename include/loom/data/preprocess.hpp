#pragma once
// Turning raw dataset bytes into what a network consumes (scaled floats, one-hot targets), turning
// network outputs back into class indices, and assembling shuffled minibatches.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"

namespace loom {

// Every byte multiplied by `scale` (1/255 maps pixels to [0, 1]); the shape is kept.
template <class T>
Tensor<T> to_float(TensorView<const std::uint8_t> bytes, T scale) {
    Tensor<T> out(bytes.shape());
    const std::uint8_t* in = bytes.data();
    T* dst = out.data();
    for (std::size_t i = 0; i < out.size(); ++i) dst[i] = static_cast<T>(in[i]) * scale;
    return out;
}

// Class labels stored as bytes (an IDX labels file, shape (N,)) as ints.
inline std::vector<int> labels_from(TensorView<const std::uint8_t> bytes) {
    require<ShapeError>(bytes.rank() == 1, "labels_from: expected labels of shape (N,), got ", bytes.shape());
    return std::vector<int>(bytes.begin(), bytes.end());
}

// Labels as rows of a (N, classes) matrix with a 1 in the label's column: the target layout of
// softmax cross-entropy.
template <class T>
Tensor<T> one_hot(std::span<const int> labels, std::size_t classes) {
    require<ArgumentError>(classes >= 1, "one_hot: expected at least one class, got 0");
    Tensor<T> out(Shape{labels.size(), classes});
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const int label = labels[i];
        require<ArgumentError>(label >= 0 && static_cast<std::size_t>(label) < classes, "one_hot: label ", label,
                               " at index ", i, " is outside [0, ", classes, ")");
        out(i, static_cast<std::size_t>(label)) = T{1};
    }
    return out;
}

// Index of the largest entry of each row of a (N, C) matrix, written to `out` (size N) without
// allocating. Ties go to the first column; a NaN never counts as the largest.
template <class T>
void argmax_rows(TensorView<T> scores, std::span<int> out) {
    require<ShapeError>(scores.rank() == 2 && scores.dim(1) >= 1, "argmax_rows: expected a (N, C) matrix with C >= 1, got ",
                        scores.shape());
    require<ShapeError>(out.size() == scores.dim(0), "argmax_rows: output holds ", out.size(), " entries for ",
                        scores.dim(0), " rows");
    const std::size_t columns = scores.dim(1);
    for (std::size_t r = 0; r < scores.dim(0); ++r) {
        const auto* row = scores.data() + r * columns;
        std::size_t best = 0;
        for (std::size_t c = 1; c < columns; ++c)
            if (row[c] > row[best] || (row[best] != row[best] && row[c] == row[c])) best = c;
        out[r] = static_cast<int>(best);
    }
}

template <class T>
std::vector<int> argmax_rows(TensorView<T> scores) {
    std::vector<int> out(scores.rank() >= 1 ? scores.dim(0) : 0);
    argmax_rows(scores, std::span<int>(out));
    return out;
}

template <class T>
std::vector<int> argmax_rows(const Tensor<T>& scores) {
    return argmax_rows(scores.view());
}

// Copies samples src[idx[0]], src[idx[1]], ... into the leading rows of `dst`, e.g. a shuffled
// minibatch into a reused batch buffer. Never allocates. dst must have idx.size() rows and the
// same per-sample shape as src.
template <class T>
void gather_rows(TensorView<const std::type_identity_t<T>> src, std::span<const std::size_t> idx, TensorView<T> dst) {
    require<ShapeError>(src.rank() >= 1 && dst.rank() == src.rank(), "gather_rows: source ", src.shape(),
                        " and destination ", dst.shape(), " differ in rank");
    require<ShapeError>(dst.dim(0) == idx.size(), "gather_rows: destination ", dst.shape(), " has ", dst.dim(0),
                        " rows for ", idx.size(), " indices");
    for (std::size_t axis = 1; axis < src.rank(); ++axis)
        require<ShapeError>(src.dim(axis) == dst.dim(axis), "gather_rows: source samples ", src.shape(),
                            " and destination samples ", dst.shape(), " differ in shape");
    const std::size_t row = src.dim(0) ? src.size() / src.dim(0) : 0;
    for (std::size_t i = 0; i < idx.size(); ++i) {
        require<ArgumentError>(idx[i] < src.dim(0), "gather_rows: index ", idx[i], " at position ", i,
                               " is outside the ", src.dim(0), " source rows");
        std::copy_n(src.data() + idx[i] * row, row, dst.data() + i * row);
    }
}

template <class T>
void gather_rows(TensorView<const std::type_identity_t<T>> src, std::span<const std::size_t> idx, Tensor<T>& dst) {
    gather_rows(src, idx, dst.view());
}

// The labels of the same samples: out[i] = labels[idx[i]]. Never allocates.
inline void gather_labels(std::span<const int> labels, std::span<const std::size_t> idx, std::span<int> out) {
    require<ShapeError>(out.size() == idx.size(), "gather_labels: output holds ", out.size(), " entries for ",
                        idx.size(), " indices");
    for (std::size_t i = 0; i < idx.size(); ++i) {
        require<ArgumentError>(idx[i] < labels.size(), "gather_labels: index ", idx[i], " at position ", i,
                               " is outside the ", labels.size(), " labels");
        out[i] = labels[idx[i]];
    }
}

}  // namespace loom
