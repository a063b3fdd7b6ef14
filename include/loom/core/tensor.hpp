#pragma once
// Tensor<T>: owning, contiguous, row-major, 64-byte aligned storage with a Shape.
// TensorView<T>: a non-owning window (pointer + shape) onto such storage; views are what layers
// pass between each other, so reshapes (Flatten) and batch slices cost nothing.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "loom/core/aligned_allocator.hpp"
#include "loom/core/error.hpp"
#include "loom/core/shape.hpp"

namespace loom {

namespace detail {

// Row-major offset of a multi-index; the index count must equal the rank (checked by callers).
template <std::integral... I>
std::size_t row_major_offset(const Shape& shape, I... index) {
    std::size_t offset = 0, axis = 0;
    ((offset = offset * shape[axis++] + static_cast<std::size_t>(index)), ...);
    return offset;
}

template <std::integral... I>
void check_index(const Shape& shape, I... index) {
    require<ShapeError>(sizeof...(I) == shape.rank(), "index of rank ", sizeof...(I), " used on a tensor of shape ",
                        shape);
    std::size_t axis = 0;
    auto check_one = [&](auto i) {
        const bool ok = i >= 0 && static_cast<std::size_t>(i) < shape[axis];
        require<ShapeError>(ok, "index ", i, " out of range on axis ", axis, " of shape ", shape);
        ++axis;
    };
    (check_one(index), ...);
}

}  // namespace detail

template <class T>
class TensorView {
public:
    using value_type = std::remove_const_t<T>;

    TensorView() = default;
    TensorView(T* data, const Shape& shape) : data_(data), shape_(shape), size_(shape.elements()) {}
    // A view of mutable data converts to a view of const data.
    template <class U>
        requires std::is_same_v<const U, T> && (!std::is_same_v<U, T>)
    TensorView(const TensorView<U>& other) : TensorView(other.data(), other.shape()) {}

    T* data() const { return data_; }
    const Shape& shape() const { return shape_; }
    std::size_t size() const { return size_; }
    std::size_t rank() const { return shape_.rank(); }
    std::size_t dim(std::size_t axis) const { return shape_[axis]; }
    bool empty() const { return size_ == 0; }

    T& operator[](std::size_t i) const { return data_[i]; }
    template <std::integral... I>
    T& operator()(I... index) const {
        return data_[detail::row_major_offset(shape_, index...)];
    }
    // Bounds-checked element access; throws ShapeError.
    template <std::integral... I>
    T& at(I... index) const {
        detail::check_index(shape_, index...);
        return data_[detail::row_major_offset(shape_, index...)];
    }

    T* begin() const { return data_; }
    T* end() const { return data_ + size_; }

    // Same data, another shape with the same element count.
    TensorView reshaped(const Shape& shape) const {
        require<ShapeError>(shape.elements() == size_, "cannot reshape ", shape_, " (", size_, " elements) to ",
                            shape, " (", shape.elements(), " elements)");
        return TensorView(data_, shape);
    }

    // Rows [begin, end) along the leading axis, e.g. a minibatch of samples.
    TensorView rows(std::size_t begin, std::size_t end) const {
        require<ShapeError>(shape_.rank() >= 1 && begin <= end && end <= shape_[0], "rows [", begin, ", ", end,
                            ") out of range for shape ", shape_);
        Shape s = shape_;
        s[0] = end - begin;
        const std::size_t row = shape_[0] ? size_ / shape_[0] : 0;
        return TensorView(data_ + begin * row, s);
    }

private:
    T* data_ = nullptr;
    Shape shape_;
    std::size_t size_ = 0;
};

template <class T>
class Tensor {
public:
    using value_type = T;

    Tensor() = default;
    // Zero-filled tensor of the given shape.
    explicit Tensor(const Shape& shape) : shape_(shape), storage_(shape.elements(), T{}) {}
    Tensor(const Shape& shape, T fill) : shape_(shape), storage_(shape.elements(), fill) {}
    // Tensor with the given shape and values (row-major); the count must match.
    Tensor(const Shape& shape, std::initializer_list<T> values) : Tensor(shape) {
        require<ShapeError>(values.size() == size(), "tensor of shape ", shape, " needs ", size(),
                            " values, got ", values.size());
        std::copy(values.begin(), values.end(), storage_.begin());
    }
    // A copy of a view's contents.
    explicit Tensor(TensorView<const T> view) : shape_(view.shape()), storage_(view.begin(), view.end()) {}

    const Shape& shape() const { return shape_; }
    std::size_t size() const { return storage_.size(); }
    std::size_t rank() const { return shape_.rank(); }
    std::size_t dim(std::size_t axis) const { return shape_[axis]; }
    bool empty() const { return storage_.empty(); }
    T* data() { return storage_.data(); }
    const T* data() const { return storage_.data(); }

    T& operator[](std::size_t i) { return storage_[i]; }
    const T& operator[](std::size_t i) const { return storage_[i]; }
    template <std::integral... I>
    T& operator()(I... index) {
        return storage_[detail::row_major_offset(shape_, index...)];
    }
    template <std::integral... I>
    const T& operator()(I... index) const {
        return storage_[detail::row_major_offset(shape_, index...)];
    }
    template <std::integral... I>
    T& at(I... index) {
        detail::check_index(shape_, index...);
        return (*this)(index...);
    }
    template <std::integral... I>
    const T& at(I... index) const {
        detail::check_index(shape_, index...);
        return (*this)(index...);
    }

    T* begin() { return data(); }
    T* end() { return data() + size(); }
    const T* begin() const { return data(); }
    const T* end() const { return data() + size(); }

    // Changes the shape in place, keeping the data; the element count must not change.
    Tensor& reshape(const Shape& shape) {
        require<ShapeError>(shape.elements() == size(), "cannot reshape ", shape_, " (", size(), " elements) to ",
                            shape, " (", shape.elements(), " elements)");
        shape_ = shape;
        return *this;
    }

    // Gives the tensor a new shape; keeps the allocation when it is large enough, so workspaces can be
    // resized every batch without touching the heap. Contents are unspecified afterwards.
    void resize(const Shape& shape) {
        storage_.resize(shape.elements());
        shape_ = shape;
    }

    void fill(T value) { std::fill(storage_.begin(), storage_.end(), value); }

    TensorView<T> view() { return {data(), shape_}; }
    TensorView<const T> view() const { return {data(), shape_}; }
    operator TensorView<const T>() const { return view(); }  // NOLINT: tensors are usable wherever views are
    TensorView<T> rows(std::size_t begin, std::size_t end) { return view().rows(begin, end); }
    TensorView<const T> rows(std::size_t begin, std::size_t end) const { return view().rows(begin, end); }

    friend bool operator==(const Tensor& a, const Tensor& b) {
        return a.shape_ == b.shape_ && std::equal(a.begin(), a.end(), b.begin());
    }

private:
    Shape shape_;
    std::vector<T, AlignedAllocator<T>> storage_;
};

}  // namespace loom
