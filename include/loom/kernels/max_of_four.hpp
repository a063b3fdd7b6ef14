#pragma once
// The maximum of a 2x2 pooling window, per channel: out[k] = max(a[k], b[k], c[k], d[k]), compared in
// that order (a window's pixels row by row, as MaxPool2D scans them), so that wherever a 2x2 pool is
// taken (MaxPool2D, or fused into a convolution's output) ties and signed zeros come out the same.
#include <cstddef>

namespace loom::kernels {

template <class T>
[[gnu::always_inline]] inline void max_of_four(const T* a, const T* b, const T* c, const T* d, T* out,
                                               std::size_t count) {
#pragma omp simd
    for (std::size_t k = 0; k < count; ++k) {
        T best = a[k];
        best = b[k] > best ? b[k] : best;
        best = c[k] > best ? c[k] : best;
        out[k] = d[k] > best ? d[k] : best;
    }
}

}  // namespace loom::kernels
