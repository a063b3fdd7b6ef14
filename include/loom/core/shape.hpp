#pragma once
// Shape: the extents of a tensor. A small fixed-capacity value type, so that building views and
// passing shapes around never touches the heap (the training loop must not allocate).
#include <algorithm>
#include <array>
#include <concepts>
#include <initializer_list>
#include <cstddef>
#include <ostream>
#include <span>
#include <string>

#include "loom/core/error.hpp"

namespace loom {

class Shape {
public:
    static constexpr std::size_t max_rank = 6;

    constexpr Shape() = default;

    // One extent of a braced shape. Converting through this type (rather than taking integers
    // directly) lets Shape{n, 28, 28, 1} accept any integer type without narrowing errors, while a
    // bare integer never converts to a Shape, which would make Tensor({5}) ambiguous.
    struct Extent {
        template <std::integral I>
        Extent(I d) : value(checked(d)) {}  // NOLINT(google-explicit-constructor)
        std::size_t value;
    };

    Shape(std::initializer_list<Extent> dims) {  // NOLINT(google-explicit-constructor): braced shapes are the API
        require<ShapeError>(dims.size() <= max_rank, "shape rank ", dims.size(), " exceeds the maximum ", max_rank);
        for (const Extent& d : dims) push_back(d.value);
    }

    explicit Shape(std::span<const std::size_t> dims) {
        require<ShapeError>(dims.size() <= max_rank, "shape rank ", dims.size(), " exceeds the maximum ",
                            max_rank);
        for (std::size_t d : dims) push_back(d);
    }

    std::size_t rank() const { return rank_; }
    std::size_t operator[](std::size_t axis) const { return dims_[axis]; }
    std::size_t& operator[](std::size_t axis) { return dims_[axis]; }

    // Checked access with a message; negative axes count from the back like Python.
    std::size_t at(int axis) const {
        const int r = static_cast<int>(rank_);
        const int a = axis < 0 ? axis + r : axis;
        require<ShapeError>(a >= 0 && a < r, "axis ", axis, " out of range for shape ", to_string());
        return dims_[static_cast<std::size_t>(a)];
    }

    // Number of elements (1 for rank 0, a scalar). A count beyond 64 bits is a ShapeError, never a
    // wrapped-around size that would under-allocate.
    std::size_t elements() const {
        std::size_t n = 1;
        bool overflow = false;
        for (std::size_t i = 0; i < rank_; ++i) overflow |= __builtin_mul_overflow(n, dims_[i], &n);
        if (overflow) throw ShapeError(detail::concat("shape ", to_string(), " has more elements than fit in 64 bits"));
        return n;
    }

    const std::size_t* begin() const { return dims_.data(); }
    const std::size_t* end() const { return dims_.data() + rank_; }

    void push_back(std::size_t d) {
        require<ShapeError>(rank_ < max_rank, "shape rank exceeds the maximum ", max_rank);
        dims_[rank_++] = d;
    }

    // The shape with a leading batch axis of n prepended: per-sample (28,28,1) -> (n,28,28,1).
    Shape with_batch(std::size_t n) const {
        Shape s;
        s.push_back(n);
        for (std::size_t d : *this) s.push_back(d);
        return s;
    }

    // The shape without its leading axis: (n,28,28,1) -> (28,28,1).
    Shape without_batch() const {
        require<ShapeError>(rank_ >= 1, "cannot drop the batch axis of a scalar shape");
        return Shape(std::span<const std::size_t>(dims_.data() + 1, rank_ - 1));
    }

    friend bool operator==(const Shape& a, const Shape& b) {
        return a.rank_ == b.rank_ && std::equal(a.begin(), a.end(), b.begin());
    }

    std::string to_string() const {
        std::string s = "(";
        for (std::size_t i = 0; i < rank_; ++i) {
            if (i) s += ", ";
            s += std::to_string(dims_[i]);
        }
        if (rank_ == 1) s += ",";
        return s + ")";
    }

    friend std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << s.to_string(); }

private:
    template <std::integral I>
    static std::size_t checked(I d) {
        if constexpr (std::is_signed_v<I>) {
            require<ShapeError>(d >= 0, "shape extents must be non-negative, got ", d);
        }
        return static_cast<std::size_t>(d);
    }

    std::array<std::size_t, max_rank> dims_{};
    std::size_t rank_ = 0;
};

}  // namespace loom
