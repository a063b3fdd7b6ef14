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
// 8 accumulator registers on every ISA. The weight gradient turns this around: its vectors run along
// the filters of one output pixel's dy, each tap's input value is broadcast, and a block of taps'
// accumulators stays in registers over all the pixels. NHWC images, (kh, kw, c, filters) kernels,
// any padding.
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

// Where these loops apply, and where they beat im2col + GEMM (LeNet's first layer at batch 128 on
// 2 threads: forward 1.6 ms against 3.1, weight gradient 1.0 against 3.2; docs/performance.md).
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

namespace detail {

// Taps per register block of the weight gradient: as many as the registers hold next to `fv`
// dy vectors (32 vector registers with AVX-512, 16 otherwise), at most 14 (25 taps: two blocks).
template <std::size_t VectorBytes, std::size_t FV>
inline constexpr std::size_t tap_block = std::min<std::size_t>(14, ((VectorBytes == 64 ? 32 : 16) - FV - 1) / FV);

// The partial weight gradient of one slice of samples: sum[t * f + k] = sum over the slice's pixels
// of the padded input under tap t times dy of filter k. The vectors run along the filters (FV
// vectors of V per pixel) and a block of taps broadcasts its input values into accumulators that stay
// in registers over every pixel of the slice. dy is read a whole vector at a time: lanes past the
// last filter hold the next pixel's values and are never stored (`dy_end` guards the buffer's end).
template <class V, std::size_t FV, class T>
[[gnu::always_inline]] inline void weight_gradient_slice(const T* padded, std::size_t count, const ConvGeometry& g, const std::size_t* offsets,
                           const T* dy, const T* dy_end, std::size_t f, T* sum) {
    constexpr std::size_t lanes = sizeof(V) / sizeof(T), width = FV * lanes, TB = tap_block<sizeof(V), FV>;
    const std::size_t taps = g.kh * g.kw * g.c, pw = g.ow + g.kw - 1, padded_size = (g.oh + g.kh - 1) * pw * g.c;
    for (std::size_t f0 = 0; f0 < f; f0 += width) {
        for (std::size_t t0 = 0; t0 < taps; t0 += TB) {
            std::size_t off[TB];
            for (std::size_t j = 0; j < TB; ++j) off[j] = t0 + j < taps ? offsets[t0 + j] : 0;  // spare taps: discarded
            V acc[TB][FV] = {};
            for (std::size_t n = 0; n < count; ++n) {
                const T* image = padded + n * padded_size;
                const T* d = dy + n * g.output_positions() * f + f0;
                for (std::size_t oy = 0; oy < g.oh; ++oy)
                    for (std::size_t ox = 0; ox < g.ow; ++ox, d += f) {
                        V gv[FV];
                        if (d + width <= dy_end) {
#pragma GCC unroll 4
                            for (std::size_t v = 0; v < FV; ++v) load(gv[v], d + v * lanes);
                        } else {  // the batch's last pixels: copy what is left, zeros after it
                            T rest[width] = {};
                            std::copy(d, dy_end, rest);
                            for (std::size_t v = 0; v < FV; ++v) load(gv[v], rest + v * lanes);
                        }
                        const T* in = image + (oy * pw + ox) * g.c;
#pragma GCC unroll 16
                        for (std::size_t j = 0; j < TB; ++j) {
                            const T value = in[off[j]];
#pragma GCC unroll 4
                            for (std::size_t v = 0; v < FV; ++v) acc[j][v] += value * gv[v];
                        }
                    }
            }
            T values[TB][width];
            std::memcpy(values, acc, sizeof values);
            for (std::size_t j = 0; j < TB && t0 + j < taps; ++j)
                for (std::size_t k = f0; k < std::min(f, f0 + width); ++k) sum[(t0 + j) * f + k] = values[j][k - f0];
        }
    }
}

}  // namespace detail

// dw (kh x kw x c x f) = the sum over the batch of input x output gradient dy, for a stride-1
// geometry. The batch is summed in a fixed number of slices, added in order, so the result does not
// depend on the thread count.
template <class T>
void weight_gradient(const T* x, std::size_t samples, const ConvGeometry& g, const T* dy, std::size_t f, T* dw) {
    const std::size_t taps = g.kh * g.kw * g.c, ph = g.oh + g.kh - 1, pw = g.ow + g.kw - 1;
    const std::size_t padded_size = ph * pw * g.c;
    const std::size_t slices = std::min<std::size_t>(samples, 16), per_slice = (samples + slices - 1) / slices;
    std::vector<T>& partial = detail::scratch<T, 3>(slices * taps * f);
    // Where tap (ky, kx, ch) reads in a padded image, relative to the output pixel's top-left input.
    std::vector<std::size_t>& offsets = detail::scratch<std::size_t, 6>(taps);
    for (std::size_t ky = 0; ky < g.kh; ++ky)
        for (std::size_t kx = 0; kx < g.kw; ++kx)
            for (std::size_t ch = 0; ch < g.c; ++ch) offsets[(ky * g.kw + kx) * g.c + ch] = (ky * pw + kx) * g.c + ch;
    const T* dy_end = dy + samples * g.output_positions() * f;
    const Isa isa = active_isa();
    parallel_for(slices, 1, [&](std::size_t begin, std::size_t end) {
        std::vector<T>& padded = detail::scratch<T, 4>(per_slice * padded_size);
        for (std::size_t s = begin; s < end; ++s) {
            const std::size_t first = samples * s / slices, count = samples * (s + 1) / slices - first;
            // The slice's images, zero-padded so that every tap of every output pixel is in bounds.
            std::fill(padded.begin(), padded.begin() + static_cast<std::ptrdiff_t>(count * padded_size), T(0));
            for (std::size_t n = 0; n < count; ++n)
                for (std::size_t iy = 0; iy < g.h; ++iy)
                    std::copy_n(x + (first + n) * g.input_size() + iy * g.w * g.c, g.w * g.c,
                                padded.data() + n * padded_size + ((iy + g.pad_top) * pw + g.pad_left) * g.c);
            T* sum = partial.data() + s * taps * f;
            const T* d = dy + first * g.output_positions() * f;
            run_for_isa(isa, [&](auto bytes) {
                using V = typename detail::VectorOf<T, decltype(bytes)::value>::type;
                constexpr std::size_t lanes = sizeof(V) / sizeof(T);
                switch (std::min<std::size_t>((f + lanes - 1) / lanes, 4)) {
                    case 1: detail::weight_gradient_slice<V, 1>(padded.data(), count, g, offsets.data(), d, dy_end, f, sum); break;
                    case 2: detail::weight_gradient_slice<V, 2>(padded.data(), count, g, offsets.data(), d, dy_end, f, sum); break;
                    case 3: detail::weight_gradient_slice<V, 3>(padded.data(), count, g, offsets.data(), d, dy_end, f, sum); break;
                    default: detail::weight_gradient_slice<V, 4>(padded.data(), count, g, offsets.data(), d, dy_end, f, sum);
                }
            });
        }
    });
    for (std::size_t i = 0; i < taps * f; ++i) {
        T total = 0;
        for (std::size_t s = 0; s < slices; ++s) total += partial[s * taps * f + i];
        dw[i] = total;
    }
}

}  // namespace loom::kernels::direct
