#pragma once
// im2col / col2im for NHWC images. im2col lays every receptive field out as one row of
// kh * kw * c values (ordered ky, kx, channel, matching a (kh, kw, c, filters) kernel), so that a
// convolution of a chunk of samples becomes one GEMM: rows(samples * oh * ow) x patch  .  patch x filters.
// In NHWC a receptive-field row is kw * c contiguous values, so most of the work is memcpy.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "loom/core/parallel.hpp"

namespace loom::kernels {

struct ConvGeometry {
    std::size_t h, w, c;           // input extent per sample
    std::size_t kh, kw;            // window
    std::size_t stride_h, stride_w;
    std::size_t pad_top, pad_left;
    std::size_t oh, ow;            // output extent per sample

    std::size_t patch() const { return kh * kw * c; }
    std::size_t input_size() const { return h * w * c; }
    std::size_t output_positions() const { return oh * ow; }
};

namespace detail {

// Copies n values. A memcpy call per kernel row costs more than the copy itself when a row is a few
// values (LeNet's first layer: 5 values of 1 channel), so runs of up to 16 values are copied with a
// memcpy of constant size, which compiles to a few moves. (A plain loop would not do: compilers turn
// it back into a memcpy call.)
template <class T, std::size_t... N>
[[gnu::always_inline]] inline bool copy_short_run(const T* src, std::size_t n, T* dst, std::index_sequence<N...>) {
    return ((n == N + 1 && (std::memcpy(dst, src, (N + 1) * sizeof(T)), true)) || ...);
}

template <class T>
[[gnu::always_inline]] inline void copy_run(const T* src, std::size_t n, T* dst) {
    if (!copy_short_run(src, n, dst, std::make_index_sequence<16>{})) std::memcpy(dst, src, n * sizeof(T));
}

}  // namespace detail

// Fills col (samples * oh * ow rows of g.patch() values) from x (samples images). Padding reads as 0.
template <class T>
void im2col(const T* x, std::size_t samples, const ConvGeometry& g, T* col) {
    const std::size_t patch = g.patch(), run = g.c;
    parallel_for(samples * g.oh, 64, [&](std::size_t begin, std::size_t end) {
        for (std::size_t r = begin; r < end; ++r) {
            const std::size_t n = r / g.oh, oy = r % g.oh;
            const T* image = x + n * g.input_size();
            for (std::size_t ox = 0; ox < g.ow; ++ox) {
                T* row = col + (r * g.ow + ox) * patch;
                for (std::size_t ky = 0; ky < g.kh; ++ky) {
                    T* dst = row + ky * g.kw * run;
                    const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * g.stride_h + ky) - static_cast<std::ptrdiff_t>(g.pad_top);
                    if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) {
                        std::fill(dst, dst + g.kw * run, T(0));
                        continue;
                    }
                    const std::ptrdiff_t ix0 = static_cast<std::ptrdiff_t>(ox * g.stride_w) - static_cast<std::ptrdiff_t>(g.pad_left);
                    const T* src = image + static_cast<std::size_t>(iy) * g.w * run;
                    if (ix0 >= 0 && ix0 + static_cast<std::ptrdiff_t>(g.kw) <= static_cast<std::ptrdiff_t>(g.w)) {
                        detail::copy_run(src + static_cast<std::size_t>(ix0) * run, g.kw * run, dst);
                        continue;
                    }
                    for (std::size_t kx = 0; kx < g.kw; ++kx) {
                        const std::ptrdiff_t ix = ix0 + static_cast<std::ptrdiff_t>(kx);
                        if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(g.w))
                            std::fill(dst + kx * run, dst + (kx + 1) * run, T(0));
                        else
                            detail::copy_run(src + static_cast<std::size_t>(ix) * run, run, dst + kx * run);
                    }
                }
            }
        }
    });
}

// The adjoint of im2col: adds every row of col back onto the image positions it was read from.
// dx (samples images) must be zeroed by the caller. Parallel over samples, whose images are disjoint.
template <class T>
void col2im(const T* col, std::size_t samples, const ConvGeometry& g, T* dx) {
    const std::size_t patch = g.patch(), run = g.c;
    parallel_for(samples, 1, [&](std::size_t begin, std::size_t end) {
        for (std::size_t n = begin; n < end; ++n) {
            T* image = dx + n * g.input_size();
            for (std::size_t oy = 0; oy < g.oh; ++oy)
                for (std::size_t ox = 0; ox < g.ow; ++ox) {
                    const T* row = col + ((n * g.oh + oy) * g.ow + ox) * patch;
                    for (std::size_t ky = 0; ky < g.kh; ++ky) {
                        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * g.stride_h + ky) - static_cast<std::ptrdiff_t>(g.pad_top);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) continue;
                        for (std::size_t kx = 0; kx < g.kw; ++kx) {
                            const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * g.stride_w + kx) - static_cast<std::ptrdiff_t>(g.pad_left);
                            if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(g.w)) continue;
                            T* dst = image + (static_cast<std::size_t>(iy) * g.w + static_cast<std::size_t>(ix)) * run;
                            const T* src = row + (ky * g.kw + kx) * run;
#pragma omp simd
                            for (std::size_t ch = 0; ch < run; ++ch) dst[ch] += src[ch];
                        }
                    }
                }
        }
    });
}

}  // namespace loom::kernels
