#pragma once
// Spatial padding and the output-size arithmetic shared by Conv2D and MaxPool2D (Keras' rules).
#include <cstddef>

#include "loom/core/error.hpp"

namespace loom {

enum class Padding { Valid, Same };

struct Window1D {
    std::size_t out;  // output extent
    std::size_t pad;  // padding before the first element (Same puts the odd one after, like Keras)
};

// Output extent and leading padding of a window of size k moved with `stride` over n elements.
inline Window1D window_1d(std::size_t n, std::size_t k, std::size_t stride, Padding padding, const char* layer) {
    if (padding == Padding::Same) {
        const std::size_t out = (n + stride - 1) / stride;
        const std::size_t needed = (out - 1) * stride + k;
        const std::size_t total = needed > n ? needed - n : 0;
        return {out, total / 2};
    }
    require<ShapeError>(n >= k, layer, ": window of size ", k, " does not fit an input extent of ", n,
                        " with valid padding");
    return {(n - k) / stride + 1, 0};
}

}  // namespace loom
