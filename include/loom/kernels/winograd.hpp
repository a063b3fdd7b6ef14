#pragma once
// Winograd's minimal filtering F(m x m, 5 x 5) for stride-1 5x5 convolutions on NHWC images (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016), for m = 2 and m = 4. Each m x m
// block of outputs comes from an n x n block of input (n = m + 4) as
//
//   Y = A^T [ (G w G^T) (.) (B^T d B) ] A        (. = elementwise, summed over input channels)
//
// so a block costs n^2 multiplications per channel pair instead of 25 m^2: F(2x2) 36 instead of 100
// (2.78x fewer), F(4x4) 64 instead of 400 (6.25x fewer, at the price of larger transforms, partial
// blocks on images whose side is not a multiple of 4, and a larger rounding error). Summed over
// channels, the elementwise products of a batch become n^2 independent GEMMs, one per point of the
// transform domain: (blocks x in_channels) . (in_channels x out_channels), done by loom::gemm.
//
// The matrices come from Cook-Toom interpolation at the points 0, +-1, +-2 (and +-1/2 for F(4x4)) and
// infinity: A^T holds powers of the points, G their Lagrange weights, and B^T is what makes the
// identity exact (tests/test_winograd.cpp measures the float error against direct sums). They are
// compile-time constants, so the transforms below skip every zero and fold every one.
//
// The input gradient of a stride-1 convolution is itself one (of the output gradient, with the kernel
// turned by 180 degrees and its channel axes swapped), so Conv2D uses this for both.
#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "loom/core/parallel.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm.hpp"
#include "loom/kernels/im2col.hpp"
#include "loom/kernels/isa_dispatch.hpp"
#include "loom/kernels/max_of_four.hpp"
#include "loom/kernels/scratch_buffer.hpp"

namespace loom::kernels::winograd {

inline constexpr std::size_t kernel_side = 5;  // r

// Whether a convolution of this geometry can use Winograd's F(m x m, 5x5).
inline bool applies(const ConvGeometry& g) {
    return g.kh == kernel_side && g.kw == kernel_side && g.stride_h == 1 && g.stride_w == 1;
}

// Outputs per block side: F(2x2, 5x5) or F(4x4, 5x5).
enum class Tile { F2 = 2, F4 = 4 };

// Points of the transform domain (n x n) for a tile.
constexpr std::size_t points(Tile tile) { return tile == Tile::F4 ? 64 : 36; }

// The tile Conv2D uses for outputs of this extent. F(4x4) multiplies 64 / 16 = 4 times per output and
// channel pair, F(2x2) 9 times, but a side that is not a multiple of 4 wastes a partial block: LeNet's
// 14 x 14 outputs take 16 blocks of 4 x 4 (256 outputs computed for 196, still 42% fewer products than
// 49 blocks of 2 x 2) and measured faster in every pass (docs/performance.md).
inline Tile tile_for(const ConvGeometry& g) {
    const auto blocks = [](std::size_t side, std::size_t m) { return (side + m - 1) / m; };
    const double f2 = 36.0 * static_cast<double>(blocks(g.oh, 2) * blocks(g.ow, 2));
    const double f4 = 64.0 * static_cast<double>(blocks(g.oh, 4) * blocks(g.ow, 4));
    return f4 < 0.8 * f2 ? Tile::F4 : Tile::F2;
}

namespace detail {

template <std::size_t R, std::size_t C>
using Matrix = std::array<std::array<double, C>, R>;

template <std::size_t R, std::size_t C>
constexpr Matrix<C, R> transposed(const Matrix<R, C>& m) {
    Matrix<C, R> t{};
    for (std::size_t i = 0; i < R; ++i)
        for (std::size_t j = 0; j < C; ++j) t[j][i] = m[i][j];
    return t;
}

// F(m x m, 5x5): block = m outputs per side, side = n = m + 4 inputs per side.
template <Tile tile>
struct Transform;

// Points 0, 1, -1, 2, -2, infinity.
template <>
struct Transform<Tile::F2> {
    static constexpr std::size_t block = 2, side = 6, points = side * side;
    static constexpr Matrix<block, side> AT = {{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 1}}};
    static constexpr Matrix<side, kernel_side> G = {{{1.0 / 4, 0, 0, 0, 0},
                                                     {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
                                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
                                                     {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
                                                     {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
                                                     {0, 0, 0, 0, 1}}};
    static constexpr Matrix<side, side> BT = {{{4, 0, -5, 0, 1, 0},
                                               {0, -4, -4, 1, 1, 0},
                                               {0, 4, -4, -1, 1, 0},
                                               {0, -2, -1, 2, 1, 0},
                                               {0, 2, -1, -2, 1, 0},
                                               {0, 4, 0, -5, 0, 1}}};
    static constexpr Matrix<side, block> A = transposed(AT);
};

// Points 0, 1, -1, 2, -2, 1/2, -1/2, infinity.
template <>
struct Transform<Tile::F4> {
    static constexpr std::size_t block = 4, side = 8, points = side * side;
    static constexpr Matrix<block, side> AT = {{{1, 1, 1, 1, 1, 1, 1, 0},
                                                {0, 1, -1, 2, -2, 0.5, -0.5, 0},
                                                {0, 1, 1, 4, 4, 0.25, 0.25, 0},
                                                {0, 1, -1, 8, -8, 0.125, -0.125, 1}}};
    static constexpr Matrix<side, kernel_side> G = {{{-1, 0, 0, 0, 0},
                                                     {-2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9},
                                                     {-2.0 / 9, 2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9},
                                                     {1.0 / 90, 1.0 / 45, 2.0 / 45, 4.0 / 45, 8.0 / 45},
                                                     {1.0 / 90, -1.0 / 45, 2.0 / 45, -4.0 / 45, 8.0 / 45},
                                                     {32.0 / 45, 16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45},
                                                     {32.0 / 45, -16.0 / 45, 8.0 / 45, -4.0 / 45, 2.0 / 45},
                                                     {0, 0, 0, 0, 1}}};
    static constexpr Matrix<side, side> BT = {{{-1, 0, 5.25, 0, -5.25, 0, 1, 0},
                                               {0, 1, 1, -4.25, -4.25, 1, 1, 0},
                                               {0, -1, 1, 4.25, -4.25, -1, 1, 0},
                                               {0, 0.5, 0.25, -2.5, -1.25, 2, 1, 0},
                                               {0, -0.5, 0.25, 2.5, -1.25, -2, 1, 0},
                                               {0, 2, 4, -2.5, -5, 0.5, 1, 0},
                                               {0, -2, 4, 2.5, -5, -0.5, 1, 0},
                                               {0, -1, 0, 5.25, 0, -5.25, 0, 1}}};
    static constexpr Matrix<side, block> A = transposed(AT);
};

// Row i of M times the values d: the terms with a zero coefficient are not there at all, and the
// first term starts the sum (0 + x is not x for x = -0, so the compiler could not drop it).
template <const auto& M, std::size_t I, class T, std::size_t C, std::size_t... J>
[[gnu::always_inline]] inline T row_times(const T (&d)[C], std::index_sequence<J...>) {
    constexpr std::size_t first = [] {
        std::size_t j = 0;
        while (M[I][j] == 0) ++j;
        return j;
    }();
    T sum = static_cast<T>(M[I][first]) * d[first];
    ((J > first && M[I][J] != 0 ? void(sum += static_cast<T>(M[I][J]) * d[J]) : void()), ...);
    return sum;
}

template <const auto& M, class T, std::size_t C, std::size_t... I>
[[gnu::always_inline]] inline void rows_times(const T (&d)[C], T* const* out, std::size_t k, std::index_sequence<I...>) {
    ((out[I][k] = row_times<M, I>(d, std::make_index_sequence<C>{})), ...);
}

// out_i[k] = sum_j M[i][j] in_j[k] for the rows i of M, over n values: one transform along one axis,
// vectorised along k (channels, or pixels x channels).
template <const auto& M, class T>
[[gnu::always_inline]] inline void transform_1d(const T* const* in, T* const* out, std::size_t n) {
    constexpr std::size_t R = M.size(), C = M[0].size();
    const T* src[C];
    T* dst[R];
    for (std::size_t j = 0; j < C; ++j) src[j] = in[j];
    for (std::size_t i = 0; i < R; ++i) dst[i] = out[i];
#pragma omp simd
    for (std::size_t k = 0; k < n; ++k) {
        T d[C];
        for (std::size_t j = 0; j < C; ++j) d[j] = src[j][k];
        rows_times<M>(d, dst, k, std::make_index_sequence<R>{});
    }
}

}  // namespace detail

namespace detail {

// u[p][i][o] = (G w_io G^T)[p] for the points p, as row-major (in x out) matrices (see transform_kernel).
template <Tile tile, class T>
void transform_kernel(const T* w, std::size_t w_in, std::size_t w_out, bool adjoint, T* u) {
    using F = Transform<tile>;
    constexpr std::size_t n = F::side, r = kernel_side;
    const std::size_t in = adjoint ? w_out : w_in, out = adjoint ? w_in : w_out;
    parallel_for(in, 16, [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i)
            for (std::size_t o = 0; o < out; ++o) {
                T g[r][r];
                for (std::size_t a = 0; a < r; ++a)
                    for (std::size_t b = 0; b < r; ++b)
                        g[a][b] = adjoint ? w[(((r - 1 - a) * r + (r - 1 - b)) * w_in + o) * w_out + i]
                                          : w[((a * r + b) * w_in + i) * w_out + o];
                T gw[n][r] = {};  // G g
                for (std::size_t x = 0; x < n; ++x)
                    for (std::size_t b = 0; b < r; ++b)
                        for (std::size_t a = 0; a < r; ++a) gw[x][b] += static_cast<T>(F::G[x][a]) * g[a][b];
                for (std::size_t x = 0; x < n; ++x)
                    for (std::size_t y = 0; y < n; ++y) {
                        T sum = 0;
                        for (std::size_t b = 0; b < r; ++b) sum += gw[x][b] * static_cast<T>(F::G[y][b]);
                        u[((x * n + y) * in + i) * out + o] = sum;
                    }
            }
    });
}

// Where block `t` (numbered sample by sample, row by row) lies.
struct BlockPosition {
    std::size_t sample, row, col;  // row, col: of its top-left output
};

inline BlockPosition block_position(std::size_t t, std::size_t block, std::size_t block_rows, std::size_t block_cols) {
    const std::size_t per_sample = block_rows * block_cols, in_sample = t % per_sample;
    return {t / per_sample, in_sample / block_cols * block, in_sample % block_cols * block};
}

// The blocks of a convolution: block_rows x block_cols per sample.
template <Tile tile>
struct Blocks {
    std::size_t rows, cols, count;
    Blocks(const ConvGeometry& g, std::size_t samples)
        : rows((g.oh + Transform<tile>::block - 1) / Transform<tile>::block),
          cols((g.ow + Transform<tile>::block - 1) / Transform<tile>::block),
          count(samples * rows * cols) {}
    BlockPosition position(std::size_t t) const { return block_position(t, Transform<tile>::block, rows, cols); }
};

// The scratch transform_input needs: one row strip's column transforms and a row of zeros.
template <Tile tile>
std::size_t input_work(const ConvGeometry& g, std::size_t block_cols) {
    using F = Transform<tile>;
    return (F::side * ((block_cols - 1) * F::block + F::side) + g.w) * g.c;
}

// v[p][t][c] = (B^T d_t B)[p] for the blocks [first, first + count): d_t is block t's n x n x c input
// window (zero outside the image), v holds n^2 row-major (count x c) matrices. `work` holds
// input_work(g, blocks.cols) values.
//
// The blocks of one block row share their n input rows, and neighbours overlap by four columns, so
// the transform along the columns (B^T d) is done once per strip, for every pixel column the strip's
// blocks span: one loop over pixels x channels, which are contiguous in NHWC. The transform along
// the rows is then done per block, from the strip.
template <Tile tile, class T>
[[gnu::always_inline]] inline void transform_input(const T* x, const ConvGeometry& g, const Blocks<tile>& blocks,
                                                   std::size_t first, std::size_t count, T* work, T* v) {
    using F = Transform<tile>;
    constexpr std::size_t n = F::side, m = F::block;
    const std::size_t c = g.c;
    T* const strip = work;  // strip[a][j]: (B^T d)[a] of the strip's pixel column j, c values each
    T* const zeros = work + n * ((blocks.cols - 1) * m + n) * c;
    std::fill(zeros, zeros + g.w * c, T(0));
    for (std::size_t t = 0; t < count;) {
        const BlockPosition at = blocks.position(first + t);
        const std::size_t blocks_here = std::min(count - t, blocks.cols - at.col / m);
        const std::size_t span = (blocks_here - 1) * m + n;  // pixel columns, from at.col on
        // Image columns [lo, hi) lie inside the image; the strip's other columns are zero.
        const std::ptrdiff_t x0 = static_cast<std::ptrdiff_t>(at.col) - static_cast<std::ptrdiff_t>(g.pad_left);
        const std::ptrdiff_t width = static_cast<std::ptrdiff_t>(g.w);
        const std::size_t lo = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(x0, 0, width));
        const std::size_t hi =
            static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(x0 + static_cast<std::ptrdiff_t>(span), 0, width));
        const std::size_t inside = hi > lo ? hi - lo : 0;
        const std::size_t inside_first = inside ? static_cast<std::size_t>(static_cast<std::ptrdiff_t>(lo) - x0) : span;
        for (std::size_t a = 0; a < n; ++a) {
            T* row = strip + a * span * c;
            std::fill(row, row + inside_first * c, T(0));
            std::fill(row + (inside_first + inside) * c, row + span * c, T(0));
        }
        if (inside > 0) {
            const T* image = x + at.sample * g.input_size();
            const T* in[n];
            T* out[n];
            for (std::size_t a = 0; a < n; ++a) {
                const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(at.row + a) - static_cast<std::ptrdiff_t>(g.pad_top);
                in[a] = iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h) ? zeros
                                                                         : image + (static_cast<std::size_t>(iy) * g.w + lo) * c;
                out[a] = strip + (a * span + inside_first) * c;
            }
            transform_1d<F::BT>(in, out, inside * c);
        }
        // Along each block's rows: (B^T d) B, straight into the GEMM operands.
        for (std::size_t k = 0; k < blocks_here; ++k, ++t)
            for (std::size_t a = 0; a < n; ++a) {
                const T* in[n];
                T* out[n];
                for (std::size_t b = 0; b < n; ++b) {
                    in[b] = strip + (a * span + k * m + b) * c;
                    out[b] = v + ((a * n + b) * count + t) * c;
                }
                transform_1d<F::BT>(in, out, c);
            }
    }
}

// y_t = A^T m_t A (+ bias) for the blocks [first, first + count), written where they lie in the output
// (blocks past the output's edge write only their valid part). m holds n^2 row-major (count x f)
// matrices; `work` holds (n + m) * m * f values. Pooled, y is instead (oh / 2) x (ow / 2) x f per sample
// and gets the maxima of the 2x2 windows at stride 2 (a block's side is even, so every window lies in
// one block), compared in MaxPool2D's order.
template <Tile tile, bool Pooled = false, class T>
[[gnu::always_inline]] inline void transform_output(const T* m, const ConvGeometry& g, std::size_t f, const T* bias,
                                                    const Blocks<tile>& blocks, std::size_t first, std::size_t count,
                                                    T* work, T* y) {
    using F = Transform<tile>;
    constexpr std::size_t n = F::side, mb = F::block;
    T* const rows = work;                // m A: n x mb rows of f
    T* const result = work + n * mb * f;  // A^T m A: mb x mb rows of f
    for (std::size_t t = 0; t < count; ++t) {
        const BlockPosition at = blocks.position(first + t);
        for (std::size_t a = 0; a < n; ++a) {
            const T* in[n];
            T* out[mb];
            for (std::size_t b = 0; b < n; ++b) in[b] = m + ((a * n + b) * count + t) * f;
            for (std::size_t j = 0; j < mb; ++j) out[j] = rows + (a * mb + j) * f;
            transform_1d<F::AT>(in, out, f);
        }
        for (std::size_t j = 0; j < mb; ++j) {
            const T* in[n];
            T* out[mb];
            for (std::size_t a = 0; a < n; ++a) in[a] = rows + (a * mb + j) * f;
            for (std::size_t i = 0; i < mb; ++i) out[i] = result + (i * mb + j) * f;  // result[i][j]
            transform_1d<F::AT>(in, out, f);
        }
        if (bias)
            for (std::size_t i = 0; i < mb * mb; ++i) {
                T* out = result + i * f;
#pragma omp simd
                for (std::size_t o = 0; o < f; ++o) out[o] += bias[o];
            }
        if constexpr (Pooled) {
            static_assert(mb % 2 == 0, "pooling needs whole 2x2 windows in a block");
            const std::size_t ph = g.oh / 2, pw = g.ow / 2;
            T* image = y + at.sample * ph * pw * f;
            for (std::size_t i = 0; i < mb && (at.row + i) / 2 < ph; i += 2)
                for (std::size_t j = 0; j < mb && (at.col + j) / 2 < pw; j += 2) {
                    const T* a = result + (i * mb + j) * f;
                    max_of_four(a, a + f, a + mb * f, a + mb * f + f,
                                image + ((at.row + i) / 2 * pw + (at.col + j) / 2) * f, f);
                }
            continue;
        }
        T* image = y + at.sample * g.output_positions() * f;
        for (std::size_t i = 0; i < mb && at.row + i < g.oh; ++i)
            for (std::size_t j = 0; j < mb && at.col + j < g.ow; ++j)
                std::copy_n(result + (i * mb + j) * f, f, image + ((at.row + i) * g.ow + at.col + j) * f);
    }
}

// z[p][t][f] = (A dy_t A^T)[p] for the blocks [first, first + count): dy_t is block t's m x m x f
// output gradient (zero past the output's edge), z holds n^2 row-major (count x f) matrices. `work`
// holds (m * n + 1) * f values: m rows of A's transform of n x f each, and a row of zeros.
template <Tile tile, class T>
[[gnu::always_inline]] inline void transform_gradient(const T* dy, const ConvGeometry& g, std::size_t f,
                                                      const Blocks<tile>& blocks, std::size_t first, std::size_t count,
                                                      T* work, T* z) {
    using F = Transform<tile>;
    constexpr std::size_t n = F::side, mb = F::block;
    T* const rows = work;  // dy A^T: mb x n rows of f
    T* const zeros = work + mb * n * f;
    std::fill(zeros, zeros + f, T(0));
    for (std::size_t t = 0; t < count; ++t) {
        const BlockPosition at = blocks.position(first + t);
        const T* image = dy + at.sample * g.output_positions() * f;
        for (std::size_t i = 0; i < mb; ++i) {
            const T* in[mb];
            T* out[n];
            for (std::size_t j = 0; j < mb; ++j)
                in[j] = at.row + i < g.oh && at.col + j < g.ow ? image + ((at.row + i) * g.ow + at.col + j) * f : zeros;
            for (std::size_t b = 0; b < n; ++b) out[b] = rows + (i * n + b) * f;
            transform_1d<F::A>(in, out, f);
        }
        for (std::size_t b = 0; b < n; ++b) {
            const T* in[mb];
            T* out[n];
            for (std::size_t i = 0; i < mb; ++i) in[i] = rows + (i * n + b) * f;
            for (std::size_t a = 0; a < n; ++a) out[a] = z + ((a * n + b) * count + t) * f;
            transform_1d<F::A>(in, out, f);
        }
    }
}

// The per-thread scratch buffers (scratch_buffer.hpp): a strip's or a block's partial transforms, a
// group's transformed input and its products (or transformed output gradient), and the weight
// gradient's per-slice sums and half-transformed total.
enum class Buffer { Window, Input, Product, Sums, Half };

// Blocks per GEMM: a multiple of every micro-kernel's MR (14, 6, 4) so only the last group of a
// convolution has a partial row tile, and few enough that a group's transformed input and output
// (points x blocks x (in + out) values) stay in L2 between the transforms and the GEMMs.
inline std::size_t blocks_per_group(std::size_t points, std::size_t in, std::size_t out) {
    constexpr std::size_t unit = 84, budget = std::size_t{1} << 18;  // elements: 1 MiB of float
    return unit * std::max<std::size_t>(1, budget / (points * (in + out) * unit));
}

template <Tile tile, bool Pooled, class T>
void convolve(const T* x, std::size_t samples, const ConvGeometry& g, const T* u, std::size_t f, const T* bias, T* y) {
    using F = Transform<tile>;
    constexpr std::size_t points = F::points;
    const Blocks<tile> blocks(g, samples);
    const std::size_t group = blocks_per_group(points, g.c, f);
    const std::size_t groups = (blocks.count + group - 1) / group;
    const Isa isa = active_isa();
    parallel_for(groups, 1, [&](std::size_t begin, std::size_t end) {
        T* const work = loom::detail::scratch<T, Buffer::Window>(
            std::max(input_work<tile>(g, blocks.cols), (F::side + F::block) * F::block * f));
        T* const v = loom::detail::scratch<T, Buffer::Input>(points * group * g.c);
        T* const m = loom::detail::scratch<T, Buffer::Product>(points * group * f);
        for (std::size_t q = begin; q < end; ++q) {
            const std::size_t first = q * group, count = std::min(group, blocks.count - first);
            // The transforms are loops over channels, vectorised as wide as the ISA allows.
            run_for_isa(isa, [&] { transform_input(x, g, blocks, first, count, work, v); });
            for (std::size_t p = 0; p < points; ++p)
                gemm<T>(Transpose::No, Transpose::No, count, f, g.c, T(1), v + p * count * g.c, g.c, u + p * g.c * f, f,
                        T(0), m + p * count * f, f);
            run_for_isa(isa, [&] { transform_output<tile, Pooled>(m, g, f, bias, blocks, first, count, work, y); });
        }
    });
}

template <Tile tile, class T>
void weight_gradient(const T* x, std::size_t samples, const ConvGeometry& g, const T* dy, std::size_t f, T* dw) {
    using F = Transform<tile>;
    constexpr std::size_t points = F::points, n = F::side, r = kernel_side;
    const Blocks<tile> blocks(g, samples);
    const std::size_t group = blocks_per_group(points, g.c, f);
    const std::size_t groups = (blocks.count + group - 1) / group, slices = std::min<std::size_t>(groups, 8);
    const std::size_t matrices = points * g.c * f;  // one slice's sums: n^2 (c x f) matrices
    T* const sums = loom::detail::scratch<T, Buffer::Sums>(slices * matrices);
    const Isa isa = active_isa();
    parallel_for(slices, 1, [&](std::size_t begin, std::size_t end) {
        T* const work = loom::detail::scratch<T, Buffer::Window>(
            std::max(input_work<tile>(g, blocks.cols), (F::block * n + 1) * f));
        T* const v = loom::detail::scratch<T, Buffer::Input>(points * group * g.c);
        T* const z = loom::detail::scratch<T, Buffer::Product>(points * group * f);
        for (std::size_t slice = begin; slice < end; ++slice) {
            T* sum = sums + slice * matrices;
            for (std::size_t q = groups * slice / slices; q < groups * (slice + 1) / slices; ++q) {
                const std::size_t first = q * group, count = std::min(group, blocks.count - first);
                run_for_isa(isa, [&] {
                    transform_input(x, g, blocks, first, count, work, v);
                    transform_gradient(dy, g, f, blocks, first, count, work, z);
                });
                const T beta = q == groups * slice / slices ? T(0) : T(1);
                for (std::size_t p = 0; p < points; ++p)
                    gemm<T>(Transpose::Yes, Transpose::No, g.c, f, count, T(1), v + p * count * g.c, g.c,
                            z + p * count * f, f, beta, sum + p * g.c * f, f);
            }
        }
    });
    // The slices' total, then G^T (.) G per (in, out) pair: first along the transform's columns, then its rows.
    const std::size_t pairs = g.c * f;
    for (std::size_t slice = 1; slice < slices; ++slice)
        for (std::size_t i = 0; i < matrices; ++i) sums[i] += sums[slice * matrices + i];
    // out = sum over the n points q of G[q][j] * rows[q * stride] (rows of `pairs` values).
    const auto contract = [pairs](const T* rows, std::size_t stride, std::size_t j, T* out) {
        std::fill(out, out + pairs, T(0));
        for (std::size_t q = 0; q < n; ++q) {
            const T weight = static_cast<T>(F::G[q][j]);
            if (weight == T(0)) continue;
            const T* in = rows + q * stride * pairs;
#pragma omp simd
            for (std::size_t i = 0; i < pairs; ++i) out[i] += weight * in[i];
        }
    };
    T* const half = loom::detail::scratch<T, Buffer::Half>(n * r * pairs);  // half[x][b] = (M G)[x][b]
    for (std::size_t x = 0; x < n; ++x)
        for (std::size_t b = 0; b < r; ++b) contract(sums + x * n * pairs, 1, b, half + (x * r + b) * pairs);
    for (std::size_t a = 0; a < r; ++a)
        for (std::size_t b = 0; b < r; ++b) contract(half + b * pairs, r, a, dw + (a * r + b) * pairs);
}

}  // namespace detail

// The kernel in the transform domain: u[p][i][o] = (G w_io G^T)[p] for the points(tile) points p, as
// row-major (in_channels x out_channels) matrices. w is (5, 5, in, out), Conv2D's layout. With
// `adjoint`, w is read as the kernel of the input gradient: turned by 180 degrees, in and out swapped
// (so `in` is w's out_channels).
template <class T>
void transform_kernel(Tile tile, const T* w, std::size_t w_in, std::size_t w_out, bool adjoint, T* u) {
    if (tile == Tile::F4) detail::transform_kernel<Tile::F4>(w, w_in, w_out, adjoint, u);
    else detail::transform_kernel<Tile::F2>(w, w_in, w_out, adjoint, u);
}

// y = conv(x, w) (+ bias) for `samples` images of geometry g (5x5, stride 1), with u the kernel from
// transform_kernel for the same tile (in = g.c, out = f). Overwrites y (samples x oh x ow x f).
// Threads take whole groups of blocks, so each output is computed by one thread in the same order
// whatever the thread count.
template <class T>
void convolve(Tile tile, const T* x, std::size_t samples, const ConvGeometry& g, const T* u, std::size_t f,
              const T* bias, T* y) {
    if (tile == Tile::F4) detail::convolve<Tile::F4, false>(x, samples, g, u, f, bias, y);
    else detail::convolve<Tile::F2, false>(x, samples, g, u, f, bias, y);
}

// y (samples x oh / 2 x ow / 2 x f) = the maxima of the 2x2 windows at stride 2 of convolve's output,
// taken as each block is transformed back instead of from the whole output in memory: inference
// through a convolution and a 2x2 pool (Conv2D::forward_pooled). The maxima are MaxPool2D's, bit for bit.
template <class T>
void convolve_pooled(Tile tile, const T* x, std::size_t samples, const ConvGeometry& g, const T* u, std::size_t f,
                     const T* bias, T* y) {
    if (tile == Tile::F4) detail::convolve<Tile::F4, true>(x, samples, g, u, f, bias, y);
    else detail::convolve<Tile::F2, true>(x, samples, g, u, f, bias, y);
}

// dw (5 x 5 x c x f) = the gradient of the loss with respect to convolve's kernel, given dy, the
// gradient with respect to its output: the adjoint of y = A^T [ (G w G^T) (.) (B^T d B) ] A in w,
//
//   dw = G^T [ sum over blocks of (B^T d B) (.) (A dy A^T) ] G,
//
// again one GEMM per point per group of blocks, (in x blocks) . (blocks x out), summed over the
// groups. The groups are summed in a fixed number of slices, added in order, so the result does not
// depend on the thread count.
template <class T>
void weight_gradient(Tile tile, const T* x, std::size_t samples, const ConvGeometry& g, const T* dy, std::size_t f,
                     T* dw) {
    if (tile == Tile::F4) detail::weight_gradient<Tile::F4>(x, samples, g, dy, f, dw);
    else detail::weight_gradient<Tile::F2>(x, samples, g, dy, f, dw);
}

}  // namespace loom::kernels::winograd
