#pragma once
// loom::gemm: C = alpha * op(A) * op(B) + beta * C, row-major, like cblas_?gemm with CblasRowMajor.
// op(A) is m x k, op(B) is k x n, C is m x n. Every layer reaches its arithmetic through this entry point.
//
// The BLIS algorithm: for each NC-column panel of C, for each KC slice of k, pack op(B)'s KC x NC block
// once (all threads together) and, per thread, pack MC x KC blocks of op(A); then sweep MR x NR tiles
// with the ISA's micro-kernel. Packing makes every operand layout look the same to the kernel and keeps
// the working sets in the cache level they are sized for (gemm_blocking.hpp).
//
// Threads split C into disjoint rectangles of whole tiles, and k is never split, so every element of C
// is summed by one thread in the same order whatever the thread count: results are bitwise
// reproducible for a given ISA.
#include <algorithm>
#include <cstddef>

#include "loom/core/error.hpp"
#include "loom/core/threads.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm_blocking.hpp"
#include "loom/kernels/gemm_microkernel_avx2.hpp"
#include "loom/kernels/gemm_microkernel_avx512.hpp"
#include "loom/kernels/gemm_microkernel_generic.hpp"
#include "loom/kernels/gemm_pack.hpp"
#include "loom/kernels/transpose.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace loom {

namespace detail {

// Below this many flops per thread, waking a second thread (a fork and two barriers per KC slice,
// a few microseconds) costs more than it saves.
inline constexpr double gemm_min_flops_per_thread = 4.0e6;

// C = beta * C for the degenerate cases (k == 0 or alpha == 0), with beta == 0 overwriting.
template <class T>
void gemm_scale_c(std::size_t m, std::size_t n, T beta, T* c, std::size_t ldc) {
    for (std::size_t i = 0; i < m; ++i) {
        T* row = c + i * ldc;
        if (beta == T(0))
            std::fill(row, row + n, T(0));
        else if (beta != T(1))
            for (std::size_t j = 0; j < n; ++j) row[j] *= beta;
    }
}

// How the threads tile C: tm row groups x tn column groups. Chooses the grid whose busiest thread has
// the fewest micro-tiles; ties go to more row groups, because column groups each pack the same A.
inline void gemm_thread_grid(int threads, std::size_t row_tiles, std::size_t col_tiles, int& tm, int& tn) {
    tm = threads;
    tn = 1;
    std::size_t best = static_cast<std::size_t>(-1);
    for (int r = threads; r >= 1; --r) {
        if (threads % r != 0) continue;
        const auto rr = static_cast<std::size_t>(r);
        const auto cc = static_cast<std::size_t>(threads / r);
        const std::size_t load = ((row_tiles + rr - 1) / rr) * ((col_tiles + cc - 1) / cc);
        if (load < best) {
            best = load;
            tm = r;
            tn = threads / r;
        }
    }
}

template <class T, Isa isa, class Kernel, GemmBlocks blocks>
void gemm_packed(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                 std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    constexpr std::size_t MR = Kernel::mr, NR = Kernel::nr;
    constexpr std::size_t MC = blocks.mc, KC = blocks.kc, NC = blocks.nc;
    static_assert(MC % MR == 0 && NC % NR == 0, "block sizes must be whole micro-tiles");

    const int threads = threads_for(2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k),
                                    gemm_min_flops_per_thread);
    const std::size_t row_tiles = (m + MR - 1) / MR;
    const std::size_t col_tiles = (std::min(n, NC) + NR - 1) / NR;
    int tm = 1, tn = 1;
    gemm_thread_grid(threads, row_tiles, col_tiles, tm, tn);

    // The shared B block is owned by the calling thread; each worker has its own A block.
    T* const b_pack = pack_buffer_b<T>().reserve(std::min(KC, k) * round_up(std::min(n, NC), NR));

#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
        const int team = omp_get_num_threads();
#else
        const int tid = 0;
        const int team = 1;
#endif
        // The runtime may grant fewer threads than asked; fall back to one row group per thread.
        const int rows_groups = team == threads ? tm : team;
        const int cols_groups = team == threads ? tn : 1;
        const auto row_group = static_cast<std::size_t>(tid / cols_groups);
        const auto col_group = static_cast<std::size_t>(tid % cols_groups);

        // This thread's rows of C: a contiguous run of whole MR tiles.
        const std::size_t tile_begin = row_tiles * row_group / static_cast<std::size_t>(rows_groups);
        const std::size_t tile_end = row_tiles * (row_group + 1) / static_cast<std::size_t>(rows_groups);
        const std::size_t m_begin = tile_begin * MR;
        const std::size_t m_end = std::min(m, tile_end * MR);

        T* const a_pack = pack_buffer_a<T>().reserve(MC * std::min(KC, k));
        alignas(64) T edge[MR * NR];

        for (std::size_t jc = 0; jc < n; jc += NC) {
            const std::size_t nc = std::min(NC, n - jc);
            const std::size_t panels = (nc + NR - 1) / NR;
            const std::size_t q_begin = panels * col_group / static_cast<std::size_t>(cols_groups);
            const std::size_t q_end = panels * (col_group + 1) / static_cast<std::size_t>(cols_groups);

            for (std::size_t pc = 0; pc < k; pc += KC) {
                const std::size_t kc = std::min(KC, k - pc);
                // Later KC slices accumulate onto what the first one wrote.
                const T beta_now = pc == 0 ? beta : T(1);

                const auto t = static_cast<std::size_t>(tid);
                const auto nt = static_cast<std::size_t>(team);
                pack_b<NR, isa>(tb, b, ldb, pc, kc, jc, nc, panels * t / nt, panels * (t + 1) / nt, b_pack);
#pragma omp barrier

                for (std::size_t ic = m_begin; ic < m_end; ic += MC) {
                    const std::size_t mc = std::min(MC, m_end - ic);
                    pack_a<MR, isa>(ta, a, lda, ic, mc, pc, kc, a_pack);
                    for (std::size_t q = q_begin; q < q_end; ++q) {
                        const std::size_t jr = q * NR;
                        const std::size_t cols = std::min(NR, nc - jr);
                        const T* bp = b_pack + jr * kc;
                        for (std::size_t ir = 0; ir < mc; ir += MR) {
                            const std::size_t rows = std::min(MR, mc - ir);
                            const T* ap = a_pack + ir * kc;
                            T* ct = c + (ic + ir) * ldc + jc + jr;
                            if (cols == NR) {
                                if (rows == MR)
                                    Kernel::run(kc, ap, bp, ct, ldc, alpha, beta_now);
                                else
                                    Kernel::run_rows(rows, kc, ap, bp, ct, ldc, alpha, beta_now);
                                continue;
                            }
                            // Right edge: the kernel writes whole NR-wide rows, so compute into a
                            // scratch tile and merge only the columns that exist.
                            Kernel::run_rows(rows, kc, ap, bp, edge, NR, T(1), T(0));
                            for (std::size_t i = 0; i < rows; ++i) {
                                T* crow = ct + i * ldc;
                                const T* erow = edge + i * NR;
                                if (beta_now == T(0))
                                    for (std::size_t j = 0; j < cols; ++j) crow[j] = alpha * erow[j];
                                else
                                    for (std::size_t j = 0; j < cols; ++j)
                                        crow[j] = alpha * erow[j] + beta_now * crow[j];
                            }
                        }
                    }
                }
                // The next slice repacks B: everyone must be done reading this one.
#pragma omp barrier
            }
        }
    }
}

template <class T, Isa isa, class Kernel>
void gemm_dispatch(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                   std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    gemm_packed<T, isa, Kernel, gemm_blocks<T, isa>()>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace detail

template <class T>
void gemm(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    require<ArgumentError>(ldc >= n, "gemm: ldc ", ldc, " is smaller than n ", n);
    require<ArgumentError>(lda >= (ta == Transpose::No ? k : m), "gemm: lda ", lda, " too small");
    require<ArgumentError>(ldb >= (tb == Transpose::No ? n : k), "gemm: ldb ", ldb, " too small");
    if (m == 0 || n == 0) return;
    // As in BLAS, alpha == 0 does not read A or B.
    if (k == 0 || alpha == T(0)) {
        detail::gemm_scale_c(m, n, beta, c, ldc);
        return;
    }
    switch (active_isa()) {
#ifdef LOOM_HAVE_AVX512_KERNELS
        case Isa::Avx512:
            detail::gemm_dispatch<T, Isa::Avx512, detail::GemmKernelAvx512<T>>(ta, tb, m, n, k, alpha, a, lda, b,
                                                                               ldb, beta, c, ldc);
            break;
#endif
#ifdef LOOM_HAVE_AVX2_KERNELS
        case Isa::Avx2:
            detail::gemm_dispatch<T, Isa::Avx2, detail::GemmKernelAvx2<T>>(ta, tb, m, n, k, alpha, a, lda, b, ldb,
                                                                           beta, c, ldc);
            break;
#endif
        default:
            detail::gemm_dispatch<T, Isa::Generic, detail::GemmKernelGeneric<T>>(ta, tb, m, n, k, alpha, a, lda,
                                                                                 b, ldb, beta, c, ldc);
            break;
    }
}

}  // namespace loom
