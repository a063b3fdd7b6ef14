#pragma once
// Direct convolution, without im2col, for stride-1 layers with few input channels (LeNet's first has
// one). With c input channels an im2col row holds kh * kw * c values: for c = 1 the GEMM has k = 25 and
// only `filters` columns, too thin to run near the FMA peak, and im2col writes 25 values for every
// pixel it reads, forward and again in backward.
//
// Here the vectors run along an output row instead, `strip` pixels at a time, with the row's input
// (zero-padded, one channel at a time) as a contiguous buffer: a tap (ky, kx, c) is one FMA of the
// input shifted by kx with the tap's weight broadcast, into accumulators of `block` filters that stay
// in registers for all the taps. A strip is two vectors of the ISA the loops are compiled for
// (isa_dispatch.hpp; GCC/Clang vector types): 32 pixels with AVX-512, 16 with AVX2, so 4 filters take
// 8 accumulator registers on every ISA. NHWC images, (kh, kw, c, filters) kernels, any padding.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "loom/core/parallel.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/im2col.hpp"
#include "loom/kernels/isa_dispatch.hpp"

namespace loom::kernels::direct {

inline constexpr std::size_t strip = 32;  // output pixels per row buffer block: the widest strip
inline constexpr std::size_t block = 4;   // filters per register block

// Where these loops apply, and where the forward pass beats im2col + GEMM (LeNet's first layer, 1.6 ms
// against 3.1 at batch 128 on 2 threads; the weight gradient does not, 4.7 against 4.1:
// docs/performance.md).
inline bool applies(const ConvGeometry& g) { return g.stride_h == 1 && g.stride_w == 1; }
inline bool pays(const ConvGeometry& g, std::size_t filters) { return applies(g) && g.c <= 4 && filters >= 4; }

namespace detail {

// A vector of Bytes bytes of T, and an unaligned load of one.
template <class T, std::size_t Bytes>
struct VectorOf {
    typedef T type __attribute__((vector_size(Bytes)));
};

// (Through a reference: returning a vector wider than the baseline's registers draws -Wpsabi.)
template <class V, class T>
[[gnu::always_inline]] inline void load(V& v, const T* p) {
    std::memcpy(&v, p, sizeof v);
}

// The input rows of one output row, as `c` zero-padded channel rows: rows[(ky * c + ch) * width + i]
// holds input pixel i - pad_left of row oy + ky - pad_top (zero outside the image), for i < width.
template <class T>
void gather_rows(const T* image, const ConvGeometry& g, std::size_t oy, std::size_t width, T* rows) {
    for (std::size_t ky = 0; ky < g.kh; ++ky) {
        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy + ky) - static_cast<std::ptrdiff_t>(g.pad_top);
        for (std::size_t ch = 0; ch < g.c; ++ch) {
            T* row = rows + (ky * g.c + ch) * width;
            std::fill(row, row + width, T(0));
            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) continue;
            const T* src = image + static_cast<std::size_t>(iy) * g.w * g.c + ch;
            for (std::size_t ix = 0; ix < g.w; ++ix) row[ix + g.pad_left] = src[ix * g.c];
        }
    }
}

// A grow-only buffer per thread and purpose, so that training steps after the first allocate nothing.
template <class T, int purpose>
std::vector<T>& scratch(std::size_t size) {
    thread_local std::vector<T> buffer;
    if (buffer.size() < size) buffer.resize(size);
    return buffer;
}

// Padded width of a row buffer: every strip of the output row plus the kernel's reach.
inline std::size_t row_width(const ConvGeometry& g) { return (g.ow + strip - 1) / strip * strip + g.kw; }

}  // namespace detail

// y (samples x oh x ow x f) = conv(x, w) + bias, for a stride-1 geometry.
template <class T>
void forward(const T* x, std::size_t samples, const ConvGeometry& g, const T* w, std::size_t f, const T* bias, T* y) {
    const std::size_t width = detail::row_width(g), taps = g.kh * g.kw * g.c;
    const std::size_t f_padded = (f + block - 1) / block * block;
    // The weights with the filters padded to whole blocks (zeros), tap-major as in w.
    std::vector<T>& weights = detail::scratch<T, 0>(taps * f_padded);
    std::vector<T>& b = detail::scratch<T, 1>(f_padded);
    std::fill(weights.begin(), weights.end(), T(0));
    std::fill(b.begin(), b.end(), T(0));
    for (std::size_t t = 0; t < taps; ++t) std::copy_n(w + t * f, f, weights.data() + t * f_padded);
    std::copy_n(bias, f, b.data());
    const Isa isa = active_isa();
    parallel_for(samples * g.oh, 16, [&](std::size_t begin, std::size_t end) {
        std::vector<T>& rows = detail::scratch<T, 2>(g.kh * g.c * width);
        run_for_isa(isa, [&](auto bytes) {
            using V = typename detail::VectorOf<T, decltype(bytes)::value>::type;
            constexpr std::size_t lanes = sizeof(V) / sizeof(T), pixels = 2 * lanes;
            for (std::size_t r = begin; r < end; ++r) {  // output row oy of sample n
                const std::size_t n = r / g.oh, oy = r % g.oh;
                detail::gather_rows(x + n * g.input_size(), g, oy, width, rows.data());
                T* out = y + r * g.ow * f;
                for (std::size_t x0 = 0; x0 < g.ow; x0 += pixels) {
                    const std::size_t valid = std::min(pixels, g.ow - x0);
                    for (std::size_t f0 = 0; f0 < f_padded; f0 += block) {
                        V acc[block][2] = {};
                        for (std::size_t ky = 0; ky < g.kh; ++ky)
                            for (std::size_t kx = 0; kx < g.kw; ++kx)
                                for (std::size_t ch = 0; ch < g.c; ++ch) {
                                    const T* in = rows.data() + (ky * g.c + ch) * width + x0 + kx;
                                    V in0, in1;
                                    detail::load(in0, in);
                                    detail::load(in1, in + lanes);
                                    const T* tap = weights.data() + ((ky * g.kw + kx) * g.c + ch) * f_padded + f0;
#pragma GCC unroll 4
                                    for (std::size_t j = 0; j < block; ++j) {
                                        acc[j][0] += tap[j] * in0;
                                        acc[j][1] += tap[j] * in1;
                                    }
                                }
                        // NHWC wants each pixel's filters together: a small transpose on the way out.
                        const std::size_t filters = std::min(block, f - std::min(f, f0));
                        T values[block][pixels];
                        std::memcpy(values, acc, sizeof values);
                        for (std::size_t i = 0; i < valid; ++i)
                            for (std::size_t j = 0; j < filters; ++j) out[(x0 + i) * f + f0 + j] = values[j][i] + b[f0 + j];
                    }
                }
            }
        });
    });
}

// dw (kh x kw x c x f) = the sum over the batch of input x output gradient dy, for a stride-1
// geometry. The batch is summed in a fixed number of slices, added in order, so the result does not
// depend on the thread count.
template <class T>
void weight_gradient(const T* x, std::size_t samples, const ConvGeometry& g, const T* dy, std::size_t f, T* dw) {
    const std::size_t width = detail::row_width(g), taps = g.kh * g.kw * g.c;
    const std::size_t f_padded = (f + block - 1) / block * block;
    const std::size_t strips = (g.ow + strip - 1) / strip;
    const std::size_t slices = std::min<std::size_t>(samples, 16);
    std::vector<T>& partial = detail::scratch<T, 3>(slices * taps * f_padded);
    std::fill(partial.begin(), partial.begin() + static_cast<std::ptrdiff_t>(slices * taps * f_padded), T(0));
    const Isa isa = active_isa();
    parallel_for(slices, 1, [&](std::size_t begin, std::size_t end) {
        std::vector<T>& rows = detail::scratch<T, 4>(g.oh * g.kh * g.c * width);            // a sample's padded input rows
        std::vector<T>& grads = detail::scratch<T, 5>(g.oh * strips * f_padded * strip);  // its output gradient, filter-major
        run_for_isa(isa, [&](auto bytes) {
            using V = typename detail::VectorOf<T, decltype(bytes)::value>::type;
            constexpr std::size_t lanes = sizeof(V) / sizeof(T), pixels = 2 * lanes;
            for (std::size_t s = begin; s < end; ++s) {
                T* sum = partial.data() + s * taps * f_padded;
                for (std::size_t n = samples * s / slices; n < samples * (s + 1) / slices; ++n) {
                    for (std::size_t oy = 0; oy < g.oh; ++oy) {
                        detail::gather_rows(x + n * g.input_size(), g, oy, width,
                                            rows.data() + oy * g.kh * g.c * width);
                        // grads[((oy * strips + q) * f_padded + k) * strip + i] = dy of pixel q * strip + i, filter k.
                        const T* d = dy + (n * g.oh + oy) * g.ow * f;
                        T* gt = grads.data() + oy * strips * f_padded * strip;
                        std::fill(gt, gt + strips * f_padded * strip, T(0));
                        for (std::size_t ox = 0; ox < g.ow; ++ox)
                            for (std::size_t k = 0; k < f; ++k)
                                gt[((ox / strip) * f_padded + k) * strip + ox % strip] = d[ox * f + k];
                    }
                    for (std::size_t t = 0; t < taps; ++t) {
                        const std::size_t ky = t / (g.kw * g.c), kx = t / g.c % g.kw, ch = t % g.c;
                        for (std::size_t f0 = 0; f0 < f_padded; f0 += block) {
                            V acc[block][2] = {};
                            for (std::size_t oy = 0; oy < g.oh; ++oy)
                                for (std::size_t p = 0; p < strips * strip; p += pixels) {
                                    const T* in = rows.data() + ((oy * g.kh + ky) * g.c + ch) * width + p + kx;
                                    V in0, in1;
                                    detail::load(in0, in);
                                    detail::load(in1, in + lanes);
                                    const T* gq = grads.data() + ((oy * strips + p / strip) * f_padded + f0) * strip + p % strip;
#pragma GCC unroll 4
                                    for (std::size_t j = 0; j < block; ++j) {
                                        V g0, g1;
                                        detail::load(g0, gq + j * strip);
                                        detail::load(g1, gq + j * strip + lanes);
                                        acc[j][0] += in0 * g0;
                                        acc[j][1] += in1 * g1;
                                    }
                                }
                            T values[block][pixels];
                            std::memcpy(values, acc, sizeof values);
                            for (std::size_t j = 0; j < block; ++j) {
                                T total = 0;
                                for (std::size_t i = 0; i < pixels; ++i) total += values[j][i];
                                sum[t * f_padded + f0 + j] += total;
                            }
                        }
                    }
                }
            }
        });
    });
    for (std::size_t t = 0; t < taps; ++t)
        for (std::size_t k = 0; k < f; ++k) {
            T total = 0;
            for (std::size_t s = 0; s < slices; ++s) total += partial[(s * taps + t) * f_padded + k];
            dw[t * f + k] = total;
        }
}

}  // namespace loom::kernels::direct
