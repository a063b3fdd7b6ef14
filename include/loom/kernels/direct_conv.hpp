#pragma once
// Direct convolution, without im2col, for layers with few input channels (LeNet's first has one).
// With c input channels an im2col row holds kh * kw * c values: for c = 1 the GEMM has k = 25 and
// only `filters` columns, too thin to run near the FMA peak, and im2col writes 25 values for every
// pixel it reads. Here each output pixel is the vector of its filters, accumulated tap by tap with
// the input value broadcast; the loops over filters are vectorised as wide as the ISA allows
// (isa_dispatch.hpp). Any stride and padding; NHWC images, (kh, kw, c, filters) kernels.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "loom/core/parallel.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/im2col.hpp"
#include "loom/kernels/isa_dispatch.hpp"

namespace loom::kernels::direct {

// Where the direct loops beat im2col + GEMM. Measured on LeNet's first layer (1 channel, 20 filters,
// batch 128, docs/performance.md) they do not yet: 4.9 + 5.3 ms forward and weight gradient against
// im2col's 3.1 + 3.7 ms on 2 threads. So Auto does not pick them; Conv2D's Direct asks for them.
inline bool pays(const ConvGeometry&, std::size_t) { return false; }

namespace detail {

// The outputs ox in [first, last) whose tap kx lands inside the image row.
struct Span {
    std::size_t first, last;
};

inline Span valid_outputs(const ConvGeometry& g, std::size_t kx) {
    // ix = ox * stride + kx - pad_left must lie in [0, w).
    const std::size_t lead = g.pad_left > kx ? g.pad_left - kx : 0;  // ox * stride >= lead
    const std::size_t first = (lead + g.stride_w - 1) / g.stride_w;
    const std::size_t limit = g.w + g.pad_left;  // ox * stride + kx < limit
    const std::size_t last = limit > kx ? std::min(g.ow, (limit - kx - 1) / g.stride_w + 1) : 0;
    return {first, std::max(first, last)};
}

}  // namespace detail

// y (samples x oh x ow x f) = conv(x, w) + bias.
template <class T>
void forward(const T* x, std::size_t samples, const ConvGeometry& g, const T* w, std::size_t f, const T* bias, T* y) {
    const Isa isa = active_isa();
    parallel_for(samples * g.oh, 16, [&](std::size_t begin, std::size_t end) {
        run_for_isa(isa, [&] {
            for (std::size_t r = begin; r < end; ++r) {  // output row oy of sample n
                const std::size_t n = r / g.oh, oy = r % g.oh;
                const T* image = x + n * g.input_size();
                T* out = y + r * g.ow * f;
                for (std::size_t ox = 0; ox < g.ow; ++ox) std::copy_n(bias, f, out + ox * f);
                for (std::size_t ky = 0; ky < g.kh; ++ky) {
                    const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * g.stride_h + ky) - static_cast<std::ptrdiff_t>(g.pad_top);
                    if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) continue;
                    const T* in_row = image + static_cast<std::size_t>(iy) * g.w * g.c;
                    for (std::size_t kx = 0; kx < g.kw; ++kx) {
                        const detail::Span span = detail::valid_outputs(g, kx);
                        for (std::size_t c = 0; c < g.c; ++c) {
                            const T* tap = w + ((ky * g.kw + kx) * g.c + c) * f;
                            for (std::size_t ox = span.first; ox < span.last; ++ox) {
                                const T v = in_row[(ox * g.stride_w + kx - g.pad_left) * g.c + c];
                                T* o = out + ox * f;
#pragma omp simd
                                for (std::size_t k = 0; k < f; ++k) o[k] += v * tap[k];
                            }
                        }
                    }
                }
            }
        });
    });
}

// dw (kh x kw x c x f) = the sum over the batch of input patch x output gradient dy. The batch is
// summed in a fixed number of slices, added in order, so the result does not depend on the threads.
template <class T>
void weight_gradient(const T* x, std::size_t samples, const ConvGeometry& g, const T* dy, std::size_t f, T* dw) {
    const std::size_t size = g.kh * g.kw * g.c * f;
    if (samples == 0) {
        std::fill(dw, dw + size, T(0));
        return;
    }
    const std::size_t slices = std::min<std::size_t>(samples, 16);
    std::vector<T> partial(slices * size, T(0));
    const Isa isa = active_isa();
    parallel_for(slices, 1, [&](std::size_t begin, std::size_t end) {
        run_for_isa(isa, [&] {
            for (std::size_t s = begin; s < end; ++s) {
                T* sum = partial.data() + s * size;
                for (std::size_t n = samples * s / slices; n < samples * (s + 1) / slices; ++n) {
                    const T* image = x + n * g.input_size();
                    for (std::size_t oy = 0; oy < g.oh; ++oy) {
                        const T* grad_row = dy + (n * g.oh + oy) * g.ow * f;
                        for (std::size_t ky = 0; ky < g.kh; ++ky) {
                            const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * g.stride_h + ky) - static_cast<std::ptrdiff_t>(g.pad_top);
                            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) continue;
                            const T* in_row = image + static_cast<std::size_t>(iy) * g.w * g.c;
                            for (std::size_t kx = 0; kx < g.kw; ++kx) {
                                const detail::Span span = detail::valid_outputs(g, kx);
                                for (std::size_t c = 0; c < g.c; ++c) {
                                    T* acc = sum + ((ky * g.kw + kx) * g.c + c) * f;
                                    for (std::size_t ox = span.first; ox < span.last; ++ox) {
                                        const T v = in_row[(ox * g.stride_w + kx - g.pad_left) * g.c + c];
                                        const T* d = grad_row + ox * f;
#pragma omp simd
                                        for (std::size_t k = 0; k < f; ++k) acc[k] += v * d[k];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        });
    });
    std::copy_n(partial.data(), size, dw);
    for (std::size_t s = 1; s < slices; ++s)
        for (std::size_t i = 0; i < size; ++i) dw[i] += partial[s * size + i];
}

}  // namespace loom::kernels::direct
