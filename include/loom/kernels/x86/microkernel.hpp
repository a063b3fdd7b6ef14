// The x86 GEMM micro-kernel, written once over vector traits (x86/<isa>/vector.hpp) and compiled once
// per ISA. A function's instruction set comes from its target attribute, which cannot depend on a
// template parameter, so this file has no include guard: x86/<isa>/gemm_kernel.hpp includes it with
//   LOOM_SIMD_NAMESPACE  the namespace for that ISA's copy (loom::detail::<namespace>)
//   LOOM_SIMD_TARGET     the target attribute that enables the ISA
// (the technique of Highway's per-target re-inclusion).
//
// The contract every micro-kernel keeps (gemm_driver.hpp relies on it):
//   C[0..rows) x [0..cols) (row stride ldc) = alpha * sum_p A[p][i] * B[p][j] + beta * C,
// where A's k step p holds the tile's row values at a + p * a_step and B's its column values at
// b + p * b_step: a packed micro-panel (a_step = MR, b_step = NR, zero-padded) or, for small products,
// the caller's own rows (gemm_driver.hpp). A tile two B micro-panels wide (GemmKernel::run_edge_pair)
// finds the second panel's values b_panel elements after the first's. Only the tile's `rows` values
// of A are read, but B a whole
// vector at a time, so a B narrower than its vectors must be packed (zero-padded). beta == 0 overwrites
// C without reading it, so NaN/garbage in C does not propagate.
// GemmKernel::run_runs is a full tile whose sum runs over the given k steps only (gemm_zero_steps.hpp).
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "loom/kernels/gemm_blocking.hpp"

#if !defined(LOOM_SIMD_NAMESPACE) || !defined(LOOM_SIMD_TARGET)
#error "include x86/<isa>/gemm_kernel.hpp, not x86/microkernel.hpp"
#endif

namespace loom::detail::LOOM_SIMD_NAMESPACE {

// One k step: acc[i][j] += a[i] * (vector j of B's step), vectors NVP.. from the next panel.
template <class Vec, std::size_t ROWS, std::size_t NVU, std::size_t NVP>
LOOM_SIMD_TARGET __attribute__((always_inline)) inline void multiply_step(typename Vec::V (&acc)[ROWS][NVU],
                                                                         const typename Vec::Scalar* a,
                                                                         const typename Vec::Scalar* b,
                                                                         std::size_t b_panel) {
    using V = typename Vec::V;
    constexpr std::size_t L = Vec::lanes;
    V bv[NVU];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < NVU; ++j) bv[j] = Vec::loadu(b + (j / NVP) * b_panel + (j % NVP) * L);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i) {
        const V ai = Vec::set1(a[i]);
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NVU; ++j) acc[i][j] = Vec::fmadd(ai, bv[j], acc[i][j]);
    }
}

// C = alpha * acc + beta * C for the tile's ROWS x cols (beta == 0: C is not read).
template <class Vec, std::size_t ROWS, std::size_t NVU>
LOOM_SIMD_TARGET __attribute__((always_inline)) inline void store_tile(const typename Vec::V (&acc)[ROWS][NVU],
                                                                      typename Vec::Scalar* c, std::size_t ldc,
                                                                      typename Vec::Scalar alpha,
                                                                      typename Vec::Scalar beta, std::size_t cols) {
    using T = typename Vec::Scalar;
    using V = typename Vec::V;
    constexpr std::size_t L = Vec::lanes;
    const V va = Vec::set1(alpha);
    if (cols == NVU * L) {
        if (beta == T(0)) {
#pragma GCC unroll 16
            for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
                for (std::size_t j = 0; j < NVU; ++j) Vec::storeu(c + i * ldc + j * L, Vec::mul(va, acc[i][j]));
        } else {
            const V vb = Vec::set1(beta);
#pragma GCC unroll 16
            for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
                for (std::size_t j = 0; j < NVU; ++j) {
                    T* cij = c + i * ldc + j * L;
                    Vec::storeu(cij, Vec::fmadd(va, acc[i][j], Vec::mul(vb, Vec::loadu(cij))));
                }
        }
        return;
    }
    // Right edge of C: lanes past `cols` are neither read nor written.
    typename Vec::Mask mask[NVU];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < NVU; ++j) {
        const std::size_t begin = j * L;
        mask[j] = Vec::first(cols <= begin ? 0 : (cols - begin >= L ? L : cols - begin));
    }
    const V vb = Vec::set1(beta);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NVU; ++j) {
            T* cij = c + i * ldc + j * L;
            const V prior = beta == T(0) ? Vec::zero() : Vec::mul(vb, Vec::loadu(mask[j], cij));
            Vec::storeu(mask[j], cij, Vec::fmadd(va, acc[i][j], prior));
        }
}

// C[ROWS x cols] = alpha * A_panel * B_panel + beta * C. Only NVU vectors of B are multiplied; cols
// (<= NVU * lanes) limits the stores. MR is the full tile's height (the next tile starts MR rows down).
// A B panel holds NVP vectors; vectors NVP.. (a tile two panels wide) come from the next panel, at
// b + b_panel.
template <class Vec, std::size_t MR, std::size_t ROWS, std::size_t NVU, std::size_t NVP, bool prefetch_next_tile>
LOOM_SIMD_TARGET void ukernel(std::size_t kc, const typename Vec::Scalar* a, std::size_t a_step,
                              const typename Vec::Scalar* b, std::size_t b_step, typename Vec::Scalar* c,
                              std::size_t ldc, typename Vec::Scalar alpha, typename Vec::Scalar beta,
                              std::size_t cols, std::size_t b_panel) {
    using T = typename Vec::Scalar;
    using V = typename Vec::V;
    V acc[ROWS][NVU];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NVU; ++j) acc[i][j] = Vec::zero();
    // Touch the C tile now so its lines arrive while the k loop runs, not when the stores need them.
#pragma GCC unroll 16
    for (std::size_t i = 0; i < ROWS; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + cols - 1), _MM_HINT_T0);
    }
    // Half-way through, touch the tile below too: it is usually the driver's next call, and for small
    // k (LeNet's dX GEMMs have k = 50) the loop is too short to hide a C miss behind (+5% measured on
    // AVX-512). Integer arithmetic because the address may lie past the end of C, where a prefetch is
    // harmless but a pointer would not be. Not for tiny k: LeNet's conv1 forward (k = 25) measured
    // slower with it.
    const std::size_t half = kc >= 32 ? kc / 2 : kc;
#pragma GCC unroll 2
    for (std::size_t p = 0; p < kc; ++p) {
        if (prefetch_next_tile && ROWS == MR && p == half) {  // an edge tile is the last of its column
#pragma GCC unroll 16
            for (std::size_t i = 0; i < MR; ++i) {
                const std::uintptr_t row = reinterpret_cast<std::uintptr_t>(c) + (MR + i) * ldc * sizeof(T);
                _mm_prefetch(reinterpret_cast<const char*>(row), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(row + (cols - 1) * sizeof(T)), _MM_HINT_T0);
            }
        }
        multiply_step<Vec, ROWS, NVU, NVP>(acc, a, b, b_panel);
        a += a_step;
        b += b_step;
    }
    store_tile<Vec, ROWS, NVU>(acc, c, ldc, alpha, beta, cols);
}

// The full MR x NR tile over the k steps of `run_count` runs only (run r: steps [runs[2r], runs[2r + 1]),
// gemm_zero_steps.hpp): the steps left out are zero throughout B's panel.
template <class Vec, std::size_t MR, std::size_t NV, bool prefetch_next_tile>
LOOM_SIMD_TARGET void ukernel_runs(const std::uint32_t* runs, std::size_t run_count, const typename Vec::Scalar* a,
                                   std::size_t a_step, const typename Vec::Scalar* b, std::size_t b_step,
                                   typename Vec::Scalar* c, std::size_t ldc, typename Vec::Scalar alpha,
                                   typename Vec::Scalar beta) {
    using T = typename Vec::Scalar;
    using V = typename Vec::V;
    constexpr std::size_t L = Vec::lanes;
    V acc[MR][NV];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (std::size_t j = 0; j < NV; ++j) acc[i][j] = Vec::zero();
#pragma GCC unroll 16
    for (std::size_t i = 0; i < MR; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NV * L - 1), _MM_HINT_T0);
        if (prefetch_next_tile) {  // as ukernel does half-way through (the runs have no middle to wait for)
            const std::uintptr_t row = reinterpret_cast<std::uintptr_t>(c) + (MR + i) * ldc * sizeof(T);
            _mm_prefetch(reinterpret_cast<const char*>(row), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(row + (NV * L - 1) * sizeof(T)), _MM_HINT_T0);
        }
    }
    for (std::size_t r = 0; r < run_count; ++r) {
        const std::size_t begin = runs[2 * r], end = runs[2 * r + 1];
        const T* ap = a + begin * a_step;
        const T* bp = b + begin * b_step;
#pragma GCC unroll 2
        for (std::size_t p = begin; p < end; ++p) {
            multiply_step<Vec, MR, NV, NV>(acc, ap, bp, 0);
            ap += a_step;
            bp += b_step;
        }
    }
    store_tile<Vec, MR, NV>(acc, c, ldc, alpha, beta, NV * L);
}

// The micro-kernel of one ISA and type: the MR x NR tile of `blocks`, and edge tiles.
//
// An edge tile with fewer than MR rows is done as one call per power of two in its row count (13 rows
// = 8 + 4 + 1), each with exactly the rows it needs, and a tile narrower than one vector multiplies
// one vector of B only. That needs log2(MR) + 1 row variants per B width (10 kernels for AVX-512)
// instead of one per row count (28): every variant is a fully unrolled copy of the kernel, and
// compiling them was a fifth of the compile time of a program that trains a model.
template <class Vec, GemmBlocks blocks, bool prefetch_next_tile>
struct GemmKernel {
    using T = typename Vec::Scalar;
    static constexpr std::size_t mr = blocks.mr;
    static constexpr std::size_t nr = blocks.nr;
    static constexpr std::size_t nv = nr / Vec::lanes;
    static_assert(nv * Vec::lanes == nr, "NR must be whole vectors");

    // A full MR x NR tile.
    static void run(std::size_t kc, const T* a, std::size_t a_step, const T* b, std::size_t b_step, T* c,
                    std::size_t ldc, T alpha, T beta) {
        ukernel<Vec, mr, mr, nv, nv, prefetch_next_tile>(kc, a, a_step, b, b_step, c, ldc, alpha, beta, nr, 0);
    }

    // A full tile over the k steps of `run_count` runs (gemm_zero_steps.hpp) only.
    static void run_runs(const std::uint32_t* runs, std::size_t run_count, const T* a, std::size_t a_step,
                         const T* b, std::size_t b_step, T* c, std::size_t ldc, T alpha, T beta) {
        ukernel_runs<Vec, mr, nv, prefetch_next_tile>(runs, run_count, a, a_step, b, b_step, c, ldc, alpha, beta);
    }

    // A tile of fewer rows than this keeps fewer accumulator chains than the FMA pipes need to stay
    // busy (two pipes x four cycles of latency: 8 chains, one per row and B vector), so the driver
    // gives it two B panels at once (run_edge_pair): LeNet's conv2 and nnet's hidden layer (50 rows,
    // 8 x 6 + 2 on AVX2) spent 7% of their time on the 2-row tile's 4% of the work.
    static constexpr std::size_t pair_below = (8 + nv - 1) / nv;

    // The top-left rows x cols of a tile (rows <= mr, cols <= nr).
    static void run_edge(std::size_t rows, std::size_t cols, std::size_t kc, const T* a, std::size_t a_step,
                         const T* b, std::size_t b_step, T* c, std::size_t ldc, T alpha, T beta) {
        static constexpr auto table = make_table(std::make_index_sequence<(pieces + 1) * nv>{});
        const std::size_t vectors = (cols + Vec::lanes - 1) / Vec::lanes;
        if (rows == mr) {
            table[pieces * nv + vectors - 1](kc, a, a_step, b, b_step, c, ldc, alpha, beta, cols, 0);
            return;
        }
        run_pieces(table, pieces, vectors - 1, rows, cols, kc, a, a_step, b, b_step, 0, c, ldc, alpha, beta);
    }

    // The top-left rows x cols of a tile two B panels wide (rows < pair_below, nr < cols <= 2 nr): the
    // first panel at b, the second at b + b_panel, read with the same b_step.
    static void run_edge_pair(std::size_t rows, std::size_t cols, std::size_t kc, const T* a, std::size_t a_step,
                              const T* b, std::size_t b_step, std::size_t b_panel, T* c, std::size_t ldc, T alpha,
                              T beta) {
        static constexpr auto table = make_pair_table(std::make_index_sequence<pair_pieces * nv>{});
        const std::size_t vectors = (cols + Vec::lanes - 1) / Vec::lanes;  // nv + 1 .. 2 nv
        run_pieces(table, pair_pieces, vectors - nv - 1, rows, cols, kc, a, a_step, b, b_step, b_panel, c, ldc, alpha,
                   beta);
    }

private:
    // Row counts 1, 2, 4, ... below mr, then mr itself.
    static constexpr std::size_t pieces = std::bit_width(mr - 1);
    static constexpr std::size_t piece_rows(std::size_t p) { return p < pieces ? std::size_t{1} << p : mr; }

    // Row counts 1, 2, ... below pair_below, for tiles two panels wide.
    static constexpr std::size_t pair_pieces = std::bit_width(pair_below - 1);

    using Fn = void (*)(std::size_t, const T*, std::size_t, const T*, std::size_t, T*, std::size_t, T, T,
                        std::size_t, std::size_t);

    // One call per power of two 2^p (p < count) in `rows`, largest first, each on the tile's next rows:
    // table entry p * nv + column.
    template <std::size_t N>
    static void run_pieces(const std::array<Fn, N>& table, std::size_t count, std::size_t column, std::size_t rows,
                           std::size_t cols, std::size_t kc, const T* a, std::size_t a_step, const T* b,
                           std::size_t b_step, std::size_t b_panel, T* c, std::size_t ldc, T alpha, T beta) {
        for (std::size_t p = count; p-- > 0;) {
            const std::size_t piece = std::size_t{1} << p;
            if ((rows & piece) == 0) continue;
            table[p * nv + column](kc, a, a_step, b, b_step, c, ldc, alpha, beta, cols, b_panel);
            a += piece;  // the next rows of the tile (A's rows are consecutive within a k step)
            c += piece * ldc;
        }
    }
    // Entry p * nv + (vectors - 1).
    template <std::size_t... E>
    static constexpr std::array<Fn, sizeof...(E)> make_table(std::index_sequence<E...>) {
        return {&ukernel<Vec, mr, piece_rows(E / nv), E % nv + 1, nv, prefetch_next_tile>...};
    }
    // Entry p * nv + (vectors - nv - 1): 2^p rows, nv + 1 .. 2 nv vectors.
    template <std::size_t... E>
    static constexpr std::array<Fn, sizeof...(E)> make_pair_table(std::index_sequence<E...>) {
        return {&ukernel<Vec, mr, std::size_t{1} << (E / nv), nv + E % nv + 1, nv, prefetch_next_tile>...};
    }
};

}  // namespace loom::detail::LOOM_SIMD_NAMESPACE
