#pragma once
// Direct convolution, without im2col, for stride-1 layers with few input channels (LeNet's first has
// one). With c input channels an im2col row holds kh * kw * c values: for c = 1 the GEMM has k = 25 and
// only `filters` columns, too thin to run near the FMA peak, and im2col writes 25 values for every
// pixel it reads, forward and again in backward.
//
// Here each image is zero-padded once (so every tap of every output pixel is in bounds) and the
// vectors run along the filters: a tap's weights for a block of filters are a few vectors, each
// output pixel's input value under the tap is broadcast, and the accumulators of a block of pixels
// stay in registers over all the taps. The weight gradient turns the roles around: the vectors run
// along the filters of one pixel's dy, each tap's input value is broadcast, and a block of taps'
// accumulators stays in registers over all the pixels. The loops are written with GCC/Clang vector
// types of the width of the ISA they are compiled for (isa_dispatch.hpp). NHWC images,
// (kh, kw, c, filters) kernels, any padding.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "loom/core/parallel.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/im2col.hpp"
#include "loom/kernels/isa_dispatch.hpp"
#include "loom/kernels/max_of_four.hpp"
#include "loom/kernels/scratch_buffer.hpp"

namespace loom::kernels::direct {

// Where these loops apply, and where they beat im2col + GEMM (LeNet's first layer at batch 128 on
// 2 threads: forward 0.8 ms against 3.1, weight gradient 1.0 against 3.2; docs/performance.md).
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

// The per-thread scratch buffers of these loops (scratch_buffer.hpp).
enum class Buffer { Weights, Offsets, Padded, Partial, Rows };

// Vector registers of the ISA whose vectors are VectorBytes wide: the register blocks are sized for them.
template <std::size_t VectorBytes>
inline constexpr std::size_t vector_registers = VectorBytes == 64 ? 32 : 16;

// Zero columns after each padded row beyond the kernel's reach: a block of output pixels that runs
// past the row's end still reads inside the buffer (those outputs are not stored).
inline constexpr std::size_t row_slack = 16;

// Row length (in pixels) of an image padded for a stride-1 geometry.
inline std::size_t padded_width(const ConvGeometry& g) { return g.ow + g.kw - 1 + row_slack; }
inline std::size_t padded_size(const ConvGeometry& g) { return (g.oh + g.kh - 1) * padded_width(g) * g.c; }

// count images from x, zero-padded to padded_size(g) values each.
template <class T>
void pad_images(const T* x, std::size_t count, const ConvGeometry& g, T* padded) {
    const std::size_t pw = padded_width(g), size = padded_size(g);
    std::fill(padded, padded + count * size, T(0));
    for (std::size_t n = 0; n < count; ++n)
        for (std::size_t iy = 0; iy < g.h; ++iy)
            std::copy_n(x + n * g.input_size() + iy * g.w * g.c, g.w * g.c,
                        padded + n * size + ((iy + g.pad_top) * pw + g.pad_left) * g.c);
}

// Where tap (ky, kx, ch) reads in a padded image, relative to an output pixel's top-left input.
inline void tap_offsets(const ConvGeometry& g, std::size_t* offsets) {
    const std::size_t pw = padded_width(g);
    for (std::size_t ky = 0; ky < g.kh; ++ky)
        for (std::size_t kx = 0; kx < g.kw; ++kx)
            for (std::size_t ch = 0; ch < g.c; ++ch) offsets[(ky * g.kw + kx) * g.c + ch] = (ky * pw + kx) * g.c + ch;
}

// Output pixels per register block of the forward pass: as many as the registers hold next to the
// FV weight vectors and a broadcast (AVX-512 with 20 filters: 14 pixels x 2 vectors), with two
// registers left free on 16-register ISAs: filling all 16 made GCC reload the weights for every FMA,
// and LeNet's first layer (20 filters, 3 AVX2 vectors) ran at 3 pixels a block in 0.54 ms against
// 0.75 at 4 (batch 128, 2 threads, Zen 5).
template <std::size_t VectorBytes>
inline constexpr std::size_t spare_registers = vector_registers<VectorBytes> == 16 ? 2 : 0;
template <std::size_t VectorBytes, std::size_t FV>
inline constexpr std::size_t pixel_block =
    std::min<std::size_t>(row_slack, (vector_registers<VectorBytes> - spare_registers<VectorBytes> - FV - 1) / FV);

// Output rows [oy0, oy1) of one padded image for the filters [f0, f0 + FV lanes) (fewer at the last
// block): y ((oy1 - oy0) x ow x f, from row oy0) = bias + the sum over taps of the input under the tap
// times the tap's weights. `weights` holds the block's weights tap by tap, FV vectors each (zeros past
// the last filter), `bias` FV vectors.
template <class V, std::size_t FV, class T>
[[gnu::always_inline]] inline void forward_rows(const T* padded, const ConvGeometry& g, const std::size_t* offsets,
                                                const T* weights, const T* bias, std::size_t f, std::size_t f0,
                                                std::size_t oy0, std::size_t oy1, T* y) {
    constexpr std::size_t lanes = sizeof(V) / sizeof(T), width = FV * lanes, PB = pixel_block<sizeof(V), FV>;
    const std::size_t taps = g.kh * g.kw * g.c, pw = padded_width(g), filters = std::min(width, f - f0);
    const std::size_t y_size = (oy1 - oy0) * g.ow * f;
    V b[FV];
    for (std::size_t v = 0; v < FV; ++v) load(b[v], bias + v * lanes);
    for (std::size_t oy = oy0; oy < oy1; ++oy)
        for (std::size_t ox0 = 0; ox0 < g.ow; ox0 += PB) {
            V acc[PB][FV];
#pragma GCC unroll 16
            for (std::size_t p = 0; p < PB; ++p)
                for (std::size_t v = 0; v < FV; ++v) acc[p][v] = b[v];
            const T* in = padded + (oy * pw + ox0) * g.c;
            for (std::size_t t = 0; t < taps; ++t) {
                V w[FV];
#pragma GCC unroll 4
                for (std::size_t v = 0; v < FV; ++v) load(w[v], weights + t * width + v * lanes);
                const T* tap = in + offsets[t];
#pragma GCC unroll 16
                for (std::size_t p = 0; p < PB; ++p) {
                    const T value = tap[p * g.c];
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < FV; ++v) acc[p][v] += value * w[v];
                }
            }
            for (std::size_t p = 0; p < PB && ox0 + p < g.ow; ++p) {
                T* out = y + ((oy - oy0) * g.ow + ox0 + p) * f + f0;
                // Whole vectors also where the lanes past the last filter land on the next pixels,
                // stored after this one: with one block of filters, and inside these rows (the next
                // image may belong to another thread).
                const std::size_t at = ((oy - oy0) * g.ow + ox0 + p) * f;
                if (filters == width || (filters == f && at + width <= y_size)) {
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < FV; ++v) std::memcpy(out + v * lanes, &acc[p][v], sizeof(V));
                } else {
                    T values[width];
                    std::memcpy(values, acc[p], sizeof values);
                    std::copy_n(values, filters, out);
                }
            }
        }
}

// The forward pass's weights, laid out per block of filters as forward_rows reads them, and the
// register blocking that goes with them: fv vectors of `lanes` per block of `width` filters.
template <class T>
struct ForwardWeights {
    const std::size_t* offsets;
    std::size_t fv, width, blocks, block_size;
    const T* weights;  // per block: the weights tap by tap, then the biases, zeros past the last filter

    ForwardWeights(const ConvGeometry& g, const T* w, std::size_t f, const T* bias, Isa isa) {
        const std::size_t taps = g.kh * g.kw * g.c;
        std::size_t* tap = loom::detail::scratch<std::size_t, Buffer::Offsets>(taps);
        tap_offsets(g, tap);
        offsets = tap;
        std::size_t lanes = 0;
        run_for_isa(isa, [&](auto bytes) { lanes = decltype(bytes)::value / sizeof(T); });
        fv = std::min<std::size_t>((f + lanes - 1) / lanes, 4);
        width = fv * lanes;
        blocks = (f + width - 1) / width;
        block_size = (taps + 1) * width;
        T* const packed = loom::detail::scratch<T, Buffer::Weights>(blocks * block_size);
        std::fill(packed, packed + blocks * block_size, T(0));
        for (std::size_t fb = 0; fb < blocks; ++fb) {
            const std::size_t f0 = fb * width, filters = std::min(width, f - f0);
            T* block = packed + fb * block_size;
            for (std::size_t t = 0; t < taps; ++t) std::copy_n(w + t * f + f0, filters, block + t * width);
            std::copy_n(bias + f0, filters, block + taps * width);
        }
        weights = packed;
    }

    // Output rows [oy0, oy1) of one padded image, every filter, into y (from row oy0); inside a
    // function compiled for the ISA whose vectors V are.
    template <class V>
    [[gnu::always_inline]] void rows(const T* padded, const ConvGeometry& g, std::size_t f, std::size_t oy0,
                                     std::size_t oy1, T* y) const {
        const std::size_t taps = g.kh * g.kw * g.c;
        for (std::size_t fb = 0; fb < blocks; ++fb) {
            const T* block = weights + fb * block_size;
            const T* b = block + taps * width;
            const std::size_t f0 = fb * width;
            switch (fv) {
                case 1: forward_rows<V, 1>(padded, g, offsets, block, b, f, f0, oy0, oy1, y); break;
                case 2: forward_rows<V, 2>(padded, g, offsets, block, b, f, f0, oy0, oy1, y); break;
                case 3: forward_rows<V, 3>(padded, g, offsets, block, b, f, f0, oy0, oy1, y); break;
                default: forward_rows<V, 4>(padded, g, offsets, block, b, f, f0, oy0, oy1, y);
            }
        }
    }
};

}  // namespace detail

// y (samples x oh x ow x f) = conv(x, w) + bias, for a stride-1 geometry.
template <class T>
void forward(const T* x, std::size_t samples, const ConvGeometry& g, const T* w, std::size_t f, const T* bias, T* y) {
    const Isa isa = active_isa();
    const detail::ForwardWeights<T> weights(g, w, f, bias, isa);
    parallel_for(samples, 1, [&](std::size_t begin, std::size_t end) {
        T* const padded = loom::detail::scratch<T, detail::Buffer::Padded>(detail::padded_size(g));
        for (std::size_t n = begin; n < end; ++n) {
            detail::pad_images(x + n * g.input_size(), 1, g, padded);
            T* out = y + n * g.output_positions() * f;
            run_for_isa(isa, [&](auto bytes) {
                using V = typename detail::VectorOf<T, decltype(bytes)::value>::type;
                weights.template rows<V>(padded, g, f, 0, g.oh, out);
            });
        }
    });
}

// y (samples x oh/2 x ow/2 x f) = apply(the maxima of 2x2 windows at stride 2 of conv(x, w) + bias),
// for a stride-1 geometry: inference through a convolution, a non-decreasing element-wise activation
// and LeNet's pool in one pass (model/layer_fusion.hpp). Two output rows at a time go to a per-thread
// buffer that stays in L1 and are pooled there, instead of the whole output going out to memory and
// back; apply(maxima, out, count) then runs on the image's maxima. The maxima are those MaxPool2D
// takes (the same comparisons in the same order) and apply sees them image by image as
// MaxPool2D::forward_then does, so the result is bitwise that of the layers one by one.
template <class T, class Apply>
void forward_pooled(const T* x, std::size_t samples, const ConvGeometry& g, const T* w, std::size_t f, const T* bias,
                    Apply&& apply, T* y) {
    const Isa isa = active_isa();
    const detail::ForwardWeights<T> weights(g, w, f, bias, isa);
    const std::size_t ph = g.oh / 2, pw = g.ow / 2, row = g.ow * f, pooled_row = pw * f;
    parallel_for(samples, 1, [&](std::size_t begin, std::size_t end) {
        T* const padded = loom::detail::scratch<T, detail::Buffer::Padded>(detail::padded_size(g));
        T* const rows = loom::detail::scratch<T, detail::Buffer::Rows>(2 * row + ph * pooled_row);
        T* const image_maxima = rows + 2 * row;
        for (std::size_t n = begin; n < end; ++n) {
            detail::pad_images(x + n * g.input_size(), 1, g, padded);
            run_for_isa(isa, [&](auto bytes) {
                using V = typename detail::VectorOf<T, decltype(bytes)::value>::type;
                for (std::size_t py = 0; py < ph; ++py) {
                    T* const maxima = image_maxima + py * pooled_row;
                    weights.template rows<V>(padded, g, f, 2 * py, 2 * py + 2, rows);
                    for (std::size_t px = 0; px < pw; ++px) {
                        const T* a = rows + 2 * px * f;
                        max_of_four(a, a + f, a + row, a + row + f, maxima + px * f, f);
                    }
                }
            });
            apply(image_maxima, y + n * ph * pooled_row, ph * pooled_row);
        }
    });
}

namespace detail {

// Taps per register block of the weight gradient: as many as the registers hold next to `fv`
// dy vectors (32 vector registers with AVX-512, 16 otherwise), at most 14 (25 taps: two blocks).
template <std::size_t VectorBytes, std::size_t FV>
inline constexpr std::size_t tap_block = std::min<std::size_t>(14, (vector_registers<VectorBytes> - FV - 1) / FV);

// The partial weight gradient of one slice of samples: sum[t * f + k] = sum over the slice's pixels
// of the padded input under tap t times dy of filter k. The vectors run along the filters (FV
// vectors of V per pixel) and a block of taps broadcasts its input values into accumulators that stay
// in registers over every pixel of the slice. dy is read a whole vector at a time: lanes past the
// last filter hold the next pixel's values and are never stored (`dy_end` guards the buffer's end).
template <class V, std::size_t FV, class T>
[[gnu::always_inline]] inline void weight_gradient_slice(const T* padded, std::size_t count, const ConvGeometry& g, const std::size_t* offsets,
                           const T* dy, const T* dy_end, std::size_t f, T* sum) {
    constexpr std::size_t lanes = sizeof(V) / sizeof(T), width = FV * lanes, TB = tap_block<sizeof(V), FV>;
    const std::size_t taps = g.kh * g.kw * g.c, pw = padded_width(g), size = padded_size(g);
    for (std::size_t f0 = 0; f0 < f; f0 += width) {
        for (std::size_t t0 = 0; t0 < taps; t0 += TB) {
            std::size_t off[TB];
            for (std::size_t j = 0; j < TB; ++j) off[j] = t0 + j < taps ? offsets[t0 + j] : 0;  // spare taps: discarded
            V acc[TB][FV] = {};
            for (std::size_t n = 0; n < count; ++n) {
                const T* image = padded + n * size;
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
    const std::size_t taps = g.kh * g.kw * g.c, padded_size = detail::padded_size(g);
    const std::size_t slices = std::min<std::size_t>(samples, 16), per_slice = (samples + slices - 1) / slices;
    T* const partial = loom::detail::scratch<T, detail::Buffer::Partial>(slices * taps * f);
    std::size_t* offsets = loom::detail::scratch<std::size_t, detail::Buffer::Offsets>(taps);
    detail::tap_offsets(g, offsets);
    const T* dy_end = dy + samples * g.output_positions() * f;
    const Isa isa = active_isa();
    parallel_for(slices, 1, [&](std::size_t begin, std::size_t end) {
        T* const padded = loom::detail::scratch<T, detail::Buffer::Padded>(per_slice * padded_size);
        for (std::size_t s = begin; s < end; ++s) {
            const std::size_t first = samples * s / slices, count = samples * (s + 1) / slices - first;
            detail::pad_images(x + first * g.input_size(), count, g, padded);
            T* sum = partial + s * taps * f;
            const T* d = dy + first * g.output_positions() * f;
            run_for_isa(isa, [&](auto bytes) {
                using V = typename detail::VectorOf<T, decltype(bytes)::value>::type;
                constexpr std::size_t lanes = sizeof(V) / sizeof(T);
                switch (std::min<std::size_t>((f + lanes - 1) / lanes, 4)) {
                    case 1: detail::weight_gradient_slice<V, 1>(padded, count, g, offsets, d, dy_end, f, sum); break;
                    case 2: detail::weight_gradient_slice<V, 2>(padded, count, g, offsets, d, dy_end, f, sum); break;
                    case 3: detail::weight_gradient_slice<V, 3>(padded, count, g, offsets, d, dy_end, f, sum); break;
                    default: detail::weight_gradient_slice<V, 4>(padded, count, g, offsets, d, dy_end, f, sum);
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
