#pragma once
// Samples<T>: the inputs a model is fitted on, evaluated on or asked to predict, N samples along the
// leading axis. They are stored either as values of type T, or as bytes with a scale (Fashion-MNIST's
// pixels 0..255 with 1/255) that become T only when a batch is gathered or a chunk is evaluated:
//
//     net.fit(images, labels);                                          // Tensor<float> (N, 28, 28, 1)
//     net.fit(loom::Samples<float>(pixels, 1.0f / 255.0f), labels);    // Tensor<std::uint8_t>, same shape
//
// Bytes take a quarter of the memory of floats (LeNet's 60,000 training images: 47 MB instead of
// 188 MB), and give the same numbers: each value is byte * scale, computed as to_float computes it.
// A Samples is a view, like TensorView: it does not own the data, which must outlive it.
#include <cstddef>
#include <cstdint>
#include <span>

#include "loom/core/shape.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/preprocess.hpp"

namespace loom {

template <class T>
class Samples {
public:
    Samples() = default;
    // Values of type T, used as they are. Implicit, so that tensors and views of T pass where
    // Samples are expected, as they always have.
    Samples(TensorView<const T> values) : values_(values) {}  // NOLINT(google-explicit-constructor)
    Samples(TensorView<T> values) : values_(values) {}        // NOLINT(google-explicit-constructor)
    Samples(const Tensor<T>& values) : values_(values.view()) {}  // NOLINT(google-explicit-constructor)
    // Bytes that stand for byte * scale. Never implicit from bytes alone: the scale must be said.
    Samples(TensorView<const std::uint8_t> bytes, T scale) : bytes_(bytes), scale_(scale), holds_bytes_(true) {}

    const Shape& shape() const { return holds_bytes_ ? bytes_.shape() : values_.shape(); }
    std::size_t rank() const { return shape().rank(); }
    std::size_t dim(std::size_t axis) const { return shape()[axis]; }
    bool holds_bytes() const { return holds_bytes_; }
    // What is stored: the values (empty when holds_bytes()), or the bytes and their scale.
    TensorView<const T> values() const { return values_; }
    TensorView<const std::uint8_t> bytes() const { return bytes_; }
    T scale() const { return scale_; }

    // Samples [begin, end), stored as these are (validation_split and data-parallel shards take rows).
    Samples rows(std::size_t begin, std::size_t end) const {
        Samples part = *this;
        if (holds_bytes_) part.bytes_ = bytes_.rows(begin, end);
        else part.values_ = values_.rows(begin, end);
        return part;
    }

    // Samples idx[0], idx[1], ... as T into the rows of `dst` (a minibatch): gather_rows, converting
    // bytes on the way. Never allocates.
    void gather(std::span<const std::size_t> idx, TensorView<T> dst) const {
        if (holds_bytes_) gather_rows<T>(bytes_, idx, dst, scale_);
        else gather_rows<T>(values_, idx, dst);
    }

    // Samples [begin, end) as T: a view of the stored values themselves (no copy), or the bytes
    // converted into `buffer`, which is resized and keeps its allocation for the next chunk. Valid
    // until `buffer` changes.
    TensorView<const T> chunk(std::size_t begin, std::size_t end, Tensor<T>& buffer) const {
        if (!holds_bytes_) return values_.rows(begin, end);
        const auto part = bytes_.rows(begin, end);
        buffer.resize(part.shape());
        detail::scale_bytes(part.data(), part.size(), scale_, buffer.data());
        return buffer.view();
    }

private:
    TensorView<const T> values_;
    TensorView<const std::uint8_t> bytes_;
    T scale_ = T(1);
    bool holds_bytes_ = false;
};

}  // namespace loom
