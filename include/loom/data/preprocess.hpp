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
#include "loom/kernels/isa_dispatch.hpp"

namespace loom {

namespace detail {

// The one place where bytes become T. to_float and the scaling gather_rows both call it, so a batch
// gathered from bytes holds exactly the values to_float gives for the same samples. Compiled for the
// CPU's widest vectors: baseline x86-64 has no single instruction that widens bytes to integers.
template <class T>
void scale_bytes(const std::uint8_t* in, std::size_t count, T scale, T* out) {
    kernels::run_for_isa(active_isa(), [&] {
#pragma omp simd
        for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<T>(in[i]) * scale;
    });
}

// gather_rows' checks: same rank, one destination row per index, the same per-sample shape.
// Returns the values per row.
inline std::size_t check_gather(const Shape& src, std::size_t indices, const Shape& dst) {
    require<ShapeError>(src.rank() >= 1 && dst.rank() == src.rank(), "gather_rows: source ", src,
                        " and destination ", dst, " differ in rank");
    require<ShapeError>(dst[0] == indices, "gather_rows: destination ", dst, " has ", dst[0], " rows for ", indices,
                        " indices");
    for (std::size_t axis = 1; axis < src.rank(); ++axis)
        require<ShapeError>(src[axis] == dst[axis], "gather_rows: source samples ", src, " and destination samples ",
                            dst, " differ in shape");
    return src[0] ? src.elements() / src[0] : 0;
}

inline void check_gather_index(std::size_t index, std::size_t position, std::size_t rows) {
    require<ArgumentError>(index < rows, "gather_rows: index ", index, " at position ", position, " is outside the ",
                           rows, " source rows");
}

}  // namespace detail

// Every byte multiplied by `scale` (1/255 maps pixels to [0, 1]); the shape is kept.
template <class T>
Tensor<T> to_float(TensorView<const std::uint8_t> bytes, T scale) {
    Tensor<T> out(bytes.shape());
    detail::scale_bytes(bytes.data(), out.size(), scale, out.data());
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
    const std::size_t row = detail::check_gather(src.shape(), idx.size(), dst.shape());
    for (std::size_t i = 0; i < idx.size(); ++i) {
        detail::check_gather_index(idx[i], i, src.dim(0));
        std::copy_n(src.data() + idx[i] * row, row, dst.data() + i * row);
    }
}

template <class T>
void gather_rows(TensorView<const std::type_identity_t<T>> src, std::span<const std::size_t> idx, Tensor<T>& dst) {
    gather_rows(src, idx, dst.view());
}

// The same from samples stored as bytes, each converted to byte * scale as it is copied: a data set
// stays in memory as bytes (a quarter of its size as floats) and only the batch becomes T. The
// values are to_float's, bit for bit.
template <class T>
void gather_rows(TensorView<const std::uint8_t> src, std::span<const std::size_t> idx, TensorView<T> dst,
                 std::type_identity_t<T> scale) {
    const std::size_t row = detail::check_gather(src.shape(), idx.size(), dst.shape());
    for (std::size_t i = 0; i < idx.size(); ++i) {
        detail::check_gather_index(idx[i], i, src.dim(0));
        detail::scale_bytes(src.data() + idx[i] * row, row, scale, dst.data() + i * row);
    }
}

template <class T>
void gather_rows(TensorView<const std::uint8_t> src, std::span<const std::size_t> idx, Tensor<T>& dst,
                 std::type_identity_t<T> scale) {
    gather_rows(src, idx, dst.view(), scale);
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
