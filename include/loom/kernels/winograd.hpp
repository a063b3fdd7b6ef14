#pragma once
// Winograd's minimal filtering F(2x2, 5x5) for stride-1 5x5 convolutions on NHWC images (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each 2x2 block of outputs comes
// from a 6x6 block of input as
//
//   Y = A^T [ (G w G^T) (.) (B^T d B) ] A        (. = elementwise, summed over input channels)
//
// so a block costs 36 multiplications per channel pair instead of 100: 2.78x fewer than direct
// convolution. Summed over channels, the elementwise products of a batch become 36 independent GEMMs,
// one per point of the 6x6 transform domain: (tiles x in_channels) . (in_channels x out_channels),
// done by loom::gemm. The interpolation points are 0, +-1, +-2 and infinity (those of the common
// F(4, 3)), so B^T and A^T have small integer entries and G multiples of 1/24; the float error stays
// within a small multiple of the direct convolution's (tests/test_winograd.cpp measures it).
//
// The input gradient of a stride-1 convolution is itself one (of the output gradient, with the kernel
// turned by 180 degrees and its channel axes swapped), so Conv2D uses this for both.
#include <algorithm>
#include <cstddef>

#include "loom/core/parallel.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm.hpp"
#include "loom/kernels/im2col.hpp"
#include "loom/kernels/isa_dispatch.hpp"
#include "loom/kernels/scratch_buffer.hpp"

namespace loom::kernels::winograd {

inline constexpr std::size_t kernel_side = 5;  // r
inline constexpr std::size_t block = 2;        // m: outputs per block side
inline constexpr std::size_t tile = 6;         // m + r - 1: inputs per block side
inline constexpr std::size_t points = tile * tile;

// Whether a convolution of this geometry can use F(2x2, 5x5).
inline bool applies(const ConvGeometry& g) {
    return g.kh == kernel_side && g.kw == kernel_side && g.stride_h == 1 && g.stride_w == 1;
}

namespace detail {
// G (6 x 5), rows for the points 0, 1, -1, 2, -2, infinity.
template <class T>
inline constexpr T G[tile][kernel_side] = {{T(1) / 4, 0, 0, 0, 0},
                                          {-T(1) / 6, -T(1) / 6, -T(1) / 6, -T(1) / 6, -T(1) / 6},
                                          {-T(1) / 6, T(1) / 6, -T(1) / 6, T(1) / 6, -T(1) / 6},
                                          {T(1) / 24, T(1) / 12, T(1) / 6, T(1) / 3, T(2) / 3},
                                          {T(1) / 24, -T(1) / 12, T(1) / 6, -T(1) / 3, T(2) / 3},
                                          {0, 0, 0, 0, 1}};
}  // namespace detail

// The kernel in the transform domain: u[p][i][o] = (G w_io G^T)[p] for the 36 points p, as 36 row-major
// (in_channels x out_channels) matrices. w is (5, 5, in, out), Conv2D's layout. With `adjoint`, w is
// read as the kernel of the input gradient: turned by 180 degrees, in and out swapped (so `in` is
// w's out_channels).
template <class T>
void transform_kernel(const T* w, std::size_t w_in, std::size_t w_out, bool adjoint, T* u) {
    const auto& G = detail::G<T>;
    const std::size_t in = adjoint ? w_out : w_in, out = adjoint ? w_in : w_out;
    parallel_for(in, 16, [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i)
            for (std::size_t o = 0; o < out; ++o) {
                T g[kernel_side][kernel_side];
                for (std::size_t a = 0; a < kernel_side; ++a)
                    for (std::size_t b = 0; b < kernel_side; ++b)
                        g[a][b] = adjoint ? w[(((kernel_side - 1 - a) * kernel_side + (kernel_side - 1 - b)) * w_in + o) * w_out + i]
                                          : w[((a * kernel_side + b) * w_in + i) * w_out + o];
                T gw[tile][kernel_side] = {};  // G g
                for (std::size_t x = 0; x < tile; ++x)
                    for (std::size_t b = 0; b < kernel_side; ++b)
                        for (std::size_t a = 0; a < kernel_side; ++a) gw[x][b] += G[x][a] * g[a][b];
                for (std::size_t x = 0; x < tile; ++x)
                    for (std::size_t y = 0; y < tile; ++y) {
                        T sum = 0;
                        for (std::size_t b = 0; b < kernel_side; ++b) sum += gw[x][b] * G[y][b];
                        u[((x * tile + y) * in + i) * out + o] = sum;
                    }
            }
    });
}

namespace detail {

// o_k = (B^T d)_k for six rows d_0..d_5 of n values each (the input transform along one axis),
// written out so that B^T's zeros cost nothing, and vectorised along the rows.
template <class T>
[[gnu::always_inline]] inline void input_1d(const T* const (&d)[tile], T* const (&o)[tile], std::size_t n) {
#pragma omp simd
    for (std::size_t k = 0; k < n; ++k) {
        const T d0 = d[0][k], d1 = d[1][k], d2 = d[2][k], d3 = d[3][k], d4 = d[4][k], d5 = d[5][k];
        o[0][k] = T(4) * d0 - T(5) * d2 + d4;
        o[1][k] = -T(4) * (d1 + d2) + d3 + d4;
        o[2][k] = T(4) * (d1 - d2) - d3 + d4;
        o[3][k] = T(2) * (d3 - d1) - d2 + d4;
        o[4][k] = T(2) * (d1 - d3) - d2 + d4;
        o[5][k] = T(4) * d1 - T(5) * d3 + d5;
    }
}

// o_k = (A^T m)_k for six rows m_0..m_5 of n values (the output transform along one axis).
template <class T>
[[gnu::always_inline]] inline void output_1d(const T* const (&m)[tile], T* const (&o)[block], std::size_t n) {
#pragma omp simd
    for (std::size_t k = 0; k < n; ++k) {
        const T m1 = m[1][k], m2 = m[2][k], m3 = m[3][k], m4 = m[4][k];
        o[0][k] = m[0][k] + m1 + m2 + m3 + m4;
        o[1][k] = m1 - m2 + T(2) * (m3 - m4) + m[5][k];
    }
}

// o_k = (A y)_k for two rows y_0, y_1 of n values (the adjoint of the output transform along one
// axis: A is 6 x 2, the transpose of output_1d's A^T).
template <class T>
[[gnu::always_inline]] inline void gradient_1d(const T* const (&y)[block], T* const (&o)[tile], std::size_t n) {
#pragma omp simd
    for (std::size_t k = 0; k < n; ++k) {
        const T y0 = y[0][k], y1 = y[1][k];
        o[0][k] = y0;
        o[1][k] = y0 + y1;
        o[2][k] = y0 - y1;
        o[3][k] = y0 + T(2) * y1;
        o[4][k] = y0 - T(2) * y1;
        o[5][k] = y1;
    }
}

// Where block `t` (numbered sample by sample, row by row) lies.
struct BlockPosition {
    std::size_t sample, row, col;  // row, col: of its top-left output
};

inline BlockPosition block_position(std::size_t t, std::size_t block_rows, std::size_t block_cols) {
    const std::size_t per_sample = block_rows * block_cols, in_sample = t % per_sample;
    return {t / per_sample, in_sample / block_cols * block, in_sample % block_cols * block};
}

// The scratch transform_input needs: one row strip's column transforms and a row of zeros.
inline std::size_t input_work(const ConvGeometry& g, std::size_t block_cols) {
    return (tile * ((block_cols - 1) * block + tile) + g.w) * g.c;
}

// v[p][t][c] = (B^T d_t B)[p] for the blocks [first, first + count): d_t is block t's 6 x 6 x c input
// window (zero outside the image), v holds 36 row-major (count x c) matrices. `work` holds
// input_work(g, block_cols) values.
//
// The blocks of one block row share their six input rows, and neighbours overlap by four columns, so
// the transform along the columns (B^T d) is done once per strip, for every pixel column the strip's
// blocks span: one loop over pixels x channels, which are contiguous in NHWC. The transform along
// the rows is then done per block, from the strip.
template <class T>
[[gnu::always_inline]] inline void transform_input(const T* x, const ConvGeometry& g, std::size_t block_rows,
                                                   std::size_t block_cols, std::size_t first, std::size_t count,
                                                   T* work, T* v) {
    const std::size_t c = g.c;
    T* const strip = work;  // strip[a][j]: (B^T d)[a] of the strip's pixel column j, c values each
    T* const zeros = work + tile * ((block_cols - 1) * block + tile) * c;
    std::fill(zeros, zeros + g.w * c, T(0));
    for (std::size_t t = 0; t < count;) {
        const BlockPosition at = block_position(first + t, block_rows, block_cols);
        const std::size_t blocks_here = std::min(count - t, block_cols - at.col / block);
        const std::size_t span = (blocks_here - 1) * block + tile;  // pixel columns, from at.col on
        // Image columns [lo, hi) lie inside the image; the strip's other columns are zero.
        const std::ptrdiff_t x0 = static_cast<std::ptrdiff_t>(at.col) - static_cast<std::ptrdiff_t>(g.pad_left);
        const std::ptrdiff_t width = static_cast<std::ptrdiff_t>(g.w);
        const std::size_t lo = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(x0, 0, width));
        const std::size_t hi = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(x0 + static_cast<std::ptrdiff_t>(span), 0, width));
        const std::size_t inside_first = hi > lo ? static_cast<std::size_t>(static_cast<std::ptrdiff_t>(lo) - x0) : span;
        const std::size_t inside = hi > lo ? hi - lo : 0;
        for (std::size_t a = 0; a < tile; ++a) {
            T* row = strip + a * span * c;
            std::fill(row, row + inside_first * c, T(0));
            std::fill(row + (inside_first + inside) * c, row + span * c, T(0));
        }
        if (inside > 0) {
            const T* image = x + at.sample * g.input_size();
            const T* in[tile];
            for (std::size_t a = 0; a < tile; ++a) {
                const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(at.row + a) - static_cast<std::ptrdiff_t>(g.pad_top);
                in[a] = iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h) ? zeros
                                                                         : image + (static_cast<std::size_t>(iy) * g.w + lo) * c;
            }
            T* const out[tile] = {strip + inside_first * c,
                                  strip + (span + inside_first) * c,
                                  strip + (2 * span + inside_first) * c,
                                  strip + (3 * span + inside_first) * c,
                                  strip + (4 * span + inside_first) * c,
                                  strip + (5 * span + inside_first) * c};
            input_1d(in, out, inside * c);
        }
        // Along each block's rows: (B^T d) B, straight into the 36 GEMM operands.
        for (std::size_t k = 0; k < blocks_here; ++k, ++t)
            for (std::size_t a = 0; a < tile; ++a) {
                const T* row = strip + (a * span + k * block) * c;
                const T* const in[tile] = {row, row + c, row + 2 * c, row + 3 * c, row + 4 * c, row + 5 * c};
                T* const out[tile] = {v + ((a * tile + 0) * count + t) * c, v + ((a * tile + 1) * count + t) * c,
                                      v + ((a * tile + 2) * count + t) * c, v + ((a * tile + 3) * count + t) * c,
                                      v + ((a * tile + 4) * count + t) * c, v + ((a * tile + 5) * count + t) * c};
                input_1d(in, out, c);
            }
    }
}

// y_t = A^T m_t A (+ bias) for the blocks [first, first + count), written where they lie in the output
// (blocks past the output's edge write only their valid part). m holds 36 row-major (count x f)
// matrices; `work` holds 16 x f.
template <class T>
[[gnu::always_inline]] inline void transform_output(const T* m, const ConvGeometry& g, std::size_t f, const T* bias,
                                                    std::size_t block_rows, std::size_t block_cols, std::size_t first,
                                                    std::size_t count, T* work, T* y) {
    T* const rows = work;                     // m A: 6 x 2 rows of f
    T* const result = work + tile * block * f;  // A^T m A: 2 x 2 rows of f
    for (std::size_t t = 0; t < count; ++t) {
        const BlockPosition at = block_position(first + t, block_rows, block_cols);
        for (std::size_t a = 0; a < tile; ++a) {
            const T* const in[tile] = {m + ((a * tile + 0) * count + t) * f, m + ((a * tile + 1) * count + t) * f,
                                       m + ((a * tile + 2) * count + t) * f, m + ((a * tile + 3) * count + t) * f,
                                       m + ((a * tile + 4) * count + t) * f, m + ((a * tile + 5) * count + t) * f};
            T* const out[block] = {rows + (a * block) * f, rows + (a * block + 1) * f};
            output_1d(in, out, f);
        }
        for (std::size_t j = 0; j < block; ++j) {
            const T* const in[tile] = {rows + j * f, rows + (block + j) * f, rows + (2 * block + j) * f,
                                       rows + (3 * block + j) * f, rows + (4 * block + j) * f, rows + (5 * block + j) * f};
            T* const out[block] = {result + j * f, result + (block + j) * f};  // result[i][j]
            output_1d(in, out, f);
        }
        T* image = y + at.sample * g.output_positions() * f;
        for (std::size_t i = 0; i < block && at.row + i < g.oh; ++i)
            for (std::size_t j = 0; j < block && at.col + j < g.ow; ++j) {
                const T* src = result + (i * block + j) * f;
                T* dst = image + ((at.row + i) * g.ow + at.col + j) * f;
                if (bias) {
#pragma omp simd
                    for (std::size_t o = 0; o < f; ++o) dst[o] = src[o] + bias[o];
                } else {
                    std::copy_n(src, f, dst);
                }
            }
    }
}

// z[p][t][f] = (A dy_t A^T)[p] for the blocks [first, first + count): dy_t is block t's 2 x 2 x f
// output gradient (zero past the output's edge), z holds 36 row-major (count x f) matrices. `work`
// holds 13 x f: two rows of A^T's transform of 6 x f each, and a row of zeros.
template <class T>
[[gnu::always_inline]] inline void transform_gradient(const T* dy, const ConvGeometry& g, std::size_t f,
                                                      std::size_t block_rows, std::size_t block_cols,
                                                      std::size_t first, std::size_t count, T* work, T* z) {
    T* const rows = work;                        // dy A^T: 2 x 6 rows of f
    T* const zeros = work + block * tile * f;
    std::fill(zeros, zeros + f, T(0));
    for (std::size_t t = 0; t < count; ++t) {
        const BlockPosition at = block_position(first + t, block_rows, block_cols);
        const T* image = dy + at.sample * g.output_positions() * f;
        for (std::size_t i = 0; i < block; ++i) {
            const T* pixel[block];
            for (std::size_t j = 0; j < block; ++j)
                pixel[j] = at.row + i < g.oh && at.col + j < g.ow ? image + ((at.row + i) * g.ow + at.col + j) * f : zeros;
            const T* const in[block] = {pixel[0], pixel[1]};
            T* const out[tile] = {rows + (i * tile) * f,     rows + (i * tile + 1) * f, rows + (i * tile + 2) * f,
                                  rows + (i * tile + 3) * f, rows + (i * tile + 4) * f, rows + (i * tile + 5) * f};
            gradient_1d(in, out, f);
        }
        for (std::size_t b = 0; b < tile; ++b) {
            const T* const in[block] = {rows + b * f, rows + (tile + b) * f};
            T* const out[tile] = {z + ((0 * tile + b) * count + t) * f, z + ((1 * tile + b) * count + t) * f,
                                  z + ((2 * tile + b) * count + t) * f, z + ((3 * tile + b) * count + t) * f,
                                  z + ((4 * tile + b) * count + t) * f, z + ((5 * tile + b) * count + t) * f};
            gradient_1d(in, out, f);
        }
    }
}

// The per-thread scratch buffers (scratch_buffer.hpp): a block's window and its partial transforms,
// a group's transformed input and its products (or transformed output gradient), and the weight
// gradient's per-slice sums and half-transformed total.
enum class Buffer { Window, Input, Product, Sums, Half };

}  // namespace detail

// Blocks per GEMM: a multiple of every micro-kernel's MR (14, 6, 4) so only the last group of a
// convolution has a partial row tile, and few enough that a group's transformed input and output
// (36 x blocks x (in + out) values) stay in L2 between the transforms and the GEMMs.
inline std::size_t blocks_per_group(std::size_t in, std::size_t out) {
    constexpr std::size_t unit = 84, budget = std::size_t{1} << 18;  // elements: 1 MiB of float
    return unit * std::max<std::size_t>(1, budget / (points * (in + out) * unit));
}

// y = conv(x, w) (+ bias) for `samples` images of geometry g (5x5, stride 1), with u the kernel from
// transform_kernel (in = g.c, out = f). Overwrites y (samples x oh x ow x f). Threads take whole groups
// of blocks, so each output is computed by one thread in the same order whatever the thread count.
template <class T>
void convolve(const T* x, std::size_t samples, const ConvGeometry& g, const T* u, std::size_t f, const T* bias, T* y) {
    const std::size_t block_rows = (g.oh + block - 1) / block, block_cols = (g.ow + block - 1) / block;
    const std::size_t blocks = samples * block_rows * block_cols;
    const std::size_t group = blocks_per_group(g.c, f);
    const std::size_t groups = (blocks + group - 1) / group;
    const Isa isa = active_isa();
    parallel_for(groups, 1, [&](std::size_t begin, std::size_t end) {
        T* const window = loom::detail::scratch<T, detail::Buffer::Window>(
            std::max(detail::input_work(g, block_cols), tile * block * f + block * block * f));
        T* const v = loom::detail::scratch<T, detail::Buffer::Input>(points * group * g.c);
        T* const m = loom::detail::scratch<T, detail::Buffer::Product>(points * group * f);
        for (std::size_t q = begin; q < end; ++q) {
            const std::size_t first = q * group, count = std::min(group, blocks - first);
            // The transforms are loops over channels, vectorised as wide as the ISA allows.
            run_for_isa(isa, [&] {
                detail::transform_input(x, g, block_rows, block_cols, first, count, window, v);
            });
            for (std::size_t p = 0; p < points; ++p)
                gemm<T>(Transpose::No, Transpose::No, count, f, g.c, T(1), v + p * count * g.c, g.c, u + p * g.c * f, f,
                        T(0), m + p * count * f, f);
            run_for_isa(isa, [&] {
                detail::transform_output(m, g, f, bias, block_rows, block_cols, first, count, window, y);
            });
        }
    });
}

// dw (5 x 5 x c x f) = the gradient of the loss with respect to convolve's kernel, given dy, the
// gradient with respect to its output: the adjoint of y = A^T [ (G w G^T) (.) (B^T d B) ] A in w,
//
//   dw = G^T [ sum over blocks of (B^T d B) (.) (A dy A^T) ] G,
//
// again 36 GEMMs per group of blocks, (in x blocks) . (blocks x out), summed over the groups. The
// groups are summed in a fixed number of slices, added in order, so the result does not depend on the
// thread count.
template <class T>
void weight_gradient(const T* x, std::size_t samples, const ConvGeometry& g, const T* dy, std::size_t f, T* dw) {
    const std::size_t block_rows = (g.oh + block - 1) / block, block_cols = (g.ow + block - 1) / block;
    const std::size_t blocks = samples * block_rows * block_cols;
    const std::size_t group = blocks_per_group(g.c, f);
    const std::size_t groups = (blocks + group - 1) / group, slices = std::min<std::size_t>(groups, 8);
    const std::size_t matrices = points * g.c * f;  // one slice's sums: 36 (c x f) matrices
    T* const sums = loom::detail::scratch<T, detail::Buffer::Sums>(slices * matrices);
    const Isa isa = active_isa();
    parallel_for(slices, 1, [&](std::size_t begin, std::size_t end) {
        T* const window = loom::detail::scratch<T, detail::Buffer::Window>(
            std::max(detail::input_work(g, block_cols), (block * tile + 1) * f));
        T* const v = loom::detail::scratch<T, detail::Buffer::Input>(points * group * g.c);
        T* const m = loom::detail::scratch<T, detail::Buffer::Product>(points * group * f);
        for (std::size_t slice = begin; slice < end; ++slice) {
            T* sum = sums + slice * matrices;
            for (std::size_t q = groups * slice / slices; q < groups * (slice + 1) / slices; ++q) {
                const std::size_t first = q * group, count = std::min(group, blocks - first);
                run_for_isa(isa, [&] {
                    detail::transform_input(x, g, block_rows, block_cols, first, count, window, v);
                    detail::transform_gradient(dy, g, f, block_rows, block_cols, first, count, window, m);
                });
                const T beta = q == groups * slice / slices ? T(0) : T(1);
                for (std::size_t p = 0; p < points; ++p)
                    gemm<T>(Transpose::Yes, Transpose::No, g.c, f, count, T(1), v + p * count * g.c, g.c,
                            m + p * count * f, f, beta, sum + p * g.c * f, f);
            }
        }
    });
    // The slices' total, then G^T (.) G per (in, out) pair: first along the transform's columns, then its rows.
    const std::size_t pairs = g.c * f;
    for (std::size_t slice = 1; slice < slices; ++slice)
        for (std::size_t i = 0; i < matrices; ++i) sums[i] += sums[slice * matrices + i];
    // out = sum over the 6 points q of G[q][j] * rows[q * stride] (rows of `pairs` values).
    const auto contract = [pairs](const T* rows, std::size_t stride, std::size_t j, T* out) {
        std::fill(out, out + pairs, T(0));
        for (std::size_t q = 0; q < tile; ++q) {
            const T weight = detail::G<T>[q][j];
            if (weight == T(0)) continue;
            const T* in = rows + q * stride * pairs;
#pragma omp simd
            for (std::size_t i = 0; i < pairs; ++i) out[i] += weight * in[i];
        }
    };
    T* const half = loom::detail::scratch<T, detail::Buffer::Half>(tile * kernel_side * pairs);  // half[x][b] = (M G)[x][b]
    for (std::size_t x = 0; x < tile; ++x)
        for (std::size_t b = 0; b < kernel_side; ++b) contract(sums + x * tile * pairs, 1, b, half + (x * kernel_side + b) * pairs);
    for (std::size_t a = 0; a < kernel_side; ++a)
        for (std::size_t b = 0; b < kernel_side; ++b)
            contract(half + b * pairs, kernel_side, a, dw + (a * kernel_side + b) * pairs);
}

}  // namespace loom::kernels::winograd
