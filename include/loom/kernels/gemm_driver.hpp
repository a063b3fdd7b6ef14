#pragma once
// The definition of loom::gemm (declared in gemm.hpp): the BLIS algorithm. For each NC-column panel
// of C, for each KC slice of k, pack op(B)'s KC x NC block, then for each MC-row block pack op(A)'s
// MC x KC block, then sweep MR x NR tiles with the ISA's micro-kernel. Packing makes every operand
// layout look the same to the kernel and keeps the working sets in the cache level they are sized
// for (gemm_blocking.hpp). The pieces live apart, as in BLIS: blocking in gemm_blocking.hpp, packing
// in gemm_pack.hpp (and x86/<isa>/pack.hpp), micro-kernels in gemm_kernel_generic.hpp and
// x86/<isa>/gemm_kernel.hpp, the per-thread buffers in scratch_buffer.hpp.
//
// Threads split C into disjoint rectangles of whole tiles (gemm_packed), or take bands of its columns
// one KC slice at a time, each band's slices in order (gemm_column_bands); k is never split, so every
// element of C is summed in the same order (the same KC slices, one kernel call each) whatever the
// thread count: results are bitwise reproducible for a given ISA.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>

#include "loom/core/error.hpp"
#include "loom/core/parallel.hpp"
#include "loom/core/parallel_failure.hpp"
#include "loom/core/threads.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm.hpp"
#include "loom/kernels/gemm_blocking.hpp"
#include "loom/kernels/gemm_kernel_generic.hpp"
#include "loom/kernels/gemm_pack.hpp"
#include "loom/kernels/gemm_zero_steps.hpp"
#include "loom/kernels/scratch_buffer.hpp"
#include "loom/kernels/transpose.hpp"
#include "loom/kernels/x86/avx2/gemm_kernel.hpp"
#include "loom/kernels/x86/avx512/gemm_kernel.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif
#if LOOM_X86
#include <immintrin.h>
#endif

namespace loom {

namespace detail {

// Below this many flops per thread, waking a second thread (a fork and a join, a few microseconds)
// costs more than it saves. LeNet's classifier products (128 x 10 x 500, 1.3 MFLOP) pay on two
// threads: 18.8 -> 13.2 us forward (bench_gemm dense2_fwd_b128, AVX-512, 2026-12-02).
inline constexpr double gemm_min_flops_per_thread = 0.5e6;

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

// Packing one element costs roughly as much as this many multiply-adds in the micro-kernel (a load,
// a store and some shuffling against 16-32 FMA lanes per cycle).
inline constexpr double gemm_pack_cost = 16.0;

// How `threads` threads split C: tm row groups x tn column groups of whole micro-tiles. Each thread
// then runs the serial algorithm on its own rectangle with its own packed A and B, so threads never
// wait for each other until the end of the call (a barrier per KC slice costs a scheduler time slice
// whenever another process holds the other core, which on a shared 2-core machine is often). The
// price is that row groups each pack the B columns they need and column groups the A rows they need;
// the grid minimises the busiest thread's micro-kernel work plus that packing.
inline void gemm_thread_grid(int threads, std::size_t mr, std::size_t nr, std::size_t m, std::size_t n, int& tm,
                             int& tn) {
    const std::size_t row_tiles = (m + mr - 1) / mr, col_tiles = (n + nr - 1) / nr;
    tm = 1;
    tn = threads;
    double best = -1;
    for (int r = 1; r <= threads; ++r) {
        if (threads % r != 0) continue;
        const auto rr = static_cast<std::size_t>(r), cc = static_cast<std::size_t>(threads / r);
        const auto rows = static_cast<double>((row_tiles + rr - 1) / rr * mr);
        const auto cols = static_cast<double>((col_tiles + cc - 1) / cc * nr);
        const double cost = rows * cols + gemm_pack_cost * (rows + cols);  // per unit of k
        if (best < 0 || cost < best) {
            best = cost;
            tm = r;
            tn = threads / r;
        }
    }
}

// Packing pays for itself when an operand is re-read from its packed copy many times. In a small
// product it is not: LeNet's classifier weight gradient (500 x 10 x 128) packed 64,000 values to do
// 640,000 multiply-adds, and OpenBLAS (its small-matrix kernels) was 1.5x faster. When both operands fit
// in L2 together, the kernel reads an operand in place wherever it is already laid out the way a packed
// panel is, at the operand's own stride: op(A) stored transposed (a k step's rows are consecutive) and
// op(B) not (a k step's columns are).
inline constexpr std::size_t gemm_in_place_max_bytes = 256 * 1024;

template <class A, class B>
bool gemm_reads_in_place(std::size_t m, std::size_t n, std::size_t k) {
    return (m * k * sizeof(A) + k * n * sizeof(B)) <= gemm_in_place_max_bytes;
}

// p as the kernel's element type, for an operand that is read in place (never bytes: those are
// converted while packing).
template <class T, class S>
const T* in_place(const S* p) {
    if constexpr (std::is_same_v<S, T>) return p;
    else return nullptr;
}

// When a thread's rows fit one MC block, each packed B panel is used once, so B is packed a few
// panels at a time right before they are multiplied, while they are still in L1/L2, rather than the
// whole KC x NC panel first (out to L3 and back: LeNet's im2col conv2 forward, 50 x 25088 x 500, went
// 232 -> 282 GFLOP/s on AVX-512 and 167 -> 191 on AVX2, 2 threads). A group is enough columns (128
// float on AVX2) that a wide B stored by rows is still read several cache lines per row, and per page,
// at a time. With several row blocks the whole panel is packed first: every block reuses it (groups
// there cost 3% on 1024^3, AVX2).
inline constexpr std::size_t gemm_pack_b_group = 8;
static_assert(gemm_pack_b_group % 2 == 0, "a short edge tile's pair of B panels must lie in one packed group");

// The order of the two innermost loops. BLIS's (each B micro-panel down all of the block's row tiles,
// then the next) keeps the B micro-panel in L1, but writes C a tile column at a time: one cache line
// from each of MC rows, MC write streams, far more than the prefetchers and the first-level TLB
// follow. When k is small, C's lines are most of the traffic (k = 50: 50 multiply-adds per element
// stored), and sweeping each row tile across the whole B panel instead (MR write streams; the packed
// panel, at most 64 x NC, re-read from L2) pays. 2 threads, in one process, fastest / median GFLOP/s,
// 2026-12-04, Intel Xeon (Sapphire Rapids guest): AVX-512 conv2 dX (500 x 25088 x 50) 237 / 171 ->
// 311 / 303, the MLP's dX (60000 x 784 x 50) 173 / 170 -> 293 / 273, dense1 dW at batch 64 (3136 x 500
// x 64) 335 / 309 -> 363 / 344; AVX2 conv2 dX 166 / 161 -> 188 / 180, MLP dX 161 / 159 -> 179 / 177,
// dense1 dW b64 level. With k = 128 and more it lost on AVX2 (dense1 dW b128 -6%, 256^3 -8%). Rows of
// C closer than 1 KiB are one stream either way, and there the sweep measured a few percent slower
// on LeNet's Winograd products (2048 x 50 x 20).
inline constexpr std::size_t gemm_row_sweep_max_k = 64, gemm_row_sweep_min_row_bytes = 1024;

// Whether a thread's block of `rows` rows of C (row stride ldc) is computed row tile by row tile
// across the B panel (see above): only with several MC row blocks, where the whole panel is packed
// before it is used.
template <class T, Isa isa>
constexpr bool gemm_sweeps_rows(std::size_t rows, std::size_t k, std::size_t ldc) {
    return rows > gemm_blocks<T, isa>().mc && k <= gemm_row_sweep_max_k && ldc * sizeof(T) >= gemm_row_sweep_min_row_bytes;
}

// The serial BLIS loops on the rectangle rows [m0, m1) x columns [n0, n1) of C, with this thread's
// packing buffers. a_packed, if given, is op(A)'s rows [m0, m1) x [0, k) already packed (k <= KC):
// gemm_column_bands packs a slice once for all the bands a thread takes.
template <class T, Isa isa, class Kernel, class A, class B>
void gemm_rectangle(Transpose ta, Transpose tb, std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1,
                    std::size_t k, T alpha, const A* a, std::size_t lda, const B* b, std::size_t ldb, T beta, T* c,
                    std::size_t ldc, bool read_in_place, const T* a_packed = nullptr) {
    constexpr GemmBlocks blocks = gemm_blocks<T, isa>();
    constexpr std::size_t MR = blocks.mr, NR = blocks.nr;
    constexpr std::size_t MC = blocks.mc, KC = blocks.kc, NC = blocks.nc;
    static_assert(Kernel::mr == MR && Kernel::nr == NR, "the kernel's tile is the blocking's MR x NR");
    static_assert(MC % MR == 0 && NC % NR == 0, "block sizes must be whole micro-tiles");
    if (m0 >= m1 || n0 >= n1) return;

    const bool a_in_place = read_in_place && std::is_same_v<A, T> && ta == Transpose::Yes;
    const bool b_in_place = read_in_place && std::is_same_v<B, T> && tb == Transpose::No;
    const bool one_row_block = m1 - m0 <= MC;
    const bool sweep_rows = gemm_sweeps_rows<T, isa>(m1 - m0, k, ldc);
    const std::size_t kc_max = std::min(KC, k);
    T* const b_pack = scratch<T, GemmBuffer::PackedB>(kc_max * round_up(std::min(n1 - n0, NC), NR));
    T* const a_pack = a_in_place || a_packed
                          ? nullptr
                          : scratch<T, GemmBuffer::PackedA>(kc_max * round_up(std::min(m1 - m0, MC), MR));
    // B of bytes: the packed panels' runs of k steps that are not zero throughout (gemm_zero_steps.hpp),
    // for full tiles to skip the rest. Panel t of the packed group: runs at step_runs + t * (kc + 2).
    constexpr bool skips_zero_steps = std::is_same_v<B, std::uint8_t>;
    const std::size_t packed_panels = one_row_block ? gemm_pack_b_group : (std::min(n1 - n0, NC) + NR - 1) / NR;
    std::uint32_t* const step_runs =
        skips_zero_steps ? scratch<std::uint32_t, GemmBuffer::StepRuns>(packed_panels * (kc_max + 2)) : nullptr;
    std::uint32_t* const step_run_counts =
        skips_zero_steps ? scratch<std::uint32_t, GemmBuffer::StepRunCounts>(packed_panels) : nullptr;
    std::uint64_t* const step_mask =
        skips_zero_steps ? scratch<std::uint64_t, GemmBuffer::StepMask>(step_mask_words(kc_max)) : nullptr;
    // pack_b, and for bytes the runs of what it packed.
    const auto pack_b_panels = [&](std::size_t pc, std::size_t kc, std::size_t j0, std::size_t nc, std::size_t first,
                                   std::size_t last) {
        pack_b<NR, isa>(tb, b, ldb, pc, kc, j0, nc, first, last, b_pack);
        if constexpr (skips_zero_steps)
            nonzero_step_runs_of_panels<NR>(tb, b, ldb, pc, kc, j0, nc, last, step_runs, step_run_counts, step_mask);
    };

    for (std::size_t jc = n0; jc < n1; jc += NC) {
        const std::size_t nc = std::min(NC, n1 - jc);
        const std::size_t panels = (nc + NR - 1) / NR;
        const std::size_t full_panels = nc / NR;
        // Panels packed together, into the start of the buffer: a few when the one row block uses each
        // once; all of them, once, when several row blocks reuse them.
        const std::size_t group = one_row_block ? gemm_pack_b_group : panels;
        for (std::size_t pc = 0; pc < k; pc += KC) {
            const std::size_t kc = std::min(KC, k - pc);
            // Later KC slices accumulate onto what the first one wrote.
            const T beta_now = pc == 0 ? beta : T(1);

            for (std::size_t ic = m0; ic < m1; ic += MC) {
                const std::size_t mc = std::min(MC, m1 - ic);
                if (a_pack) pack_a<MR, isa>(ta, a, lda, ic, mc, pc, kc, a_pack);
                // A short last row tile (fewer than Kernel::pair_below rows) of an even panel takes the
                // next panel too (packed groups hold an even number of panels, so both are in the same
                // one), unless B is read in place and the next panel, partial, was packed; the odd
                // panel then skips its short tile.
                const std::size_t edge_rows = mc % MR;
                const auto pairs_with_next = [&](std::size_t panel) {
                    const std::size_t first = panel * NR;
                    if (edge_rows == 0 || edge_rows >= Kernel::pair_below || panel % 2 != 0 || first + NR >= nc)
                        return false;
                    return !b_in_place || nc - first - NR >= NR;
                };
                // The micro-tile at row ir and column jr of this block, B's packed group starting at
                // column group_start.
                const auto tile = [&](std::size_t ir, std::size_t jr, std::size_t group_start) {
                    const std::size_t rows = std::min(MR, mc - ir), cols = std::min(NR, nc - jr), q = jr / NR;
                    // Read in place, B needs only its partial last panel packed.
                    const bool b_here = b_in_place && cols == NR;
                    const T* bp = b_here ? in_place<T>(b) + pc * ldb + jc + jr : b_pack + (jr - group_start) * kc;
                    const std::size_t b_step = b_here ? ldb : NR;
                    const T* ap = a_in_place ? in_place<T>(a) + pc * lda + ic + ir
                                             : (a_packed ? a_packed + (ic - m0) * kc : a_pack) + ir * kc;
                    const std::size_t a_step = a_in_place ? lda : MR;
                    T* ct = c + (ic + ir) * ldc + jc + jr;
                    if (rows == MR && cols == NR) {
                        if constexpr (skips_zero_steps) {
                            const std::size_t t = q - group_start / NR;
                            const std::uint32_t* runs = step_runs + t * (kc + 2);
                            const std::size_t count = step_run_counts[t];
                            if (count != 1 || runs[0] != 0 || runs[1] != kc) {
                                Kernel::run_runs(runs, count, ap, a_step, bp, b_step, ct, ldc, alpha, beta_now);
                                return;
                            }
                        }
                        Kernel::run(kc, ap, a_step, bp, b_step, ct, ldc, alpha, beta_now);
                    } else if (rows < MR && q > 0 && pairs_with_next(q - 1)) {
                        return;  // the previous panel's pair covered it
                    } else if (rows < MR && pairs_with_next(q)) {
                        if constexpr (Kernel::pair_below > 0)
                            Kernel::run_edge_pair(rows, NR + std::min(NR, nc - jr - NR), kc, ap, a_step, bp, b_step,
                                                  b_here ? NR : NR * kc, ct, ldc, alpha, beta_now);
                    } else {
                        Kernel::run_edge(rows, cols, kc, ap, a_step, bp, b_step, ct, ldc, alpha, beta_now);
                    }
                };
                if (sweep_rows) {  // group == panels: the whole panel, packed once, before the first block
                    if (ic == m0) pack_b_panels(pc, kc, jc, nc, b_in_place ? full_panels : 0, panels);
                    for (std::size_t ir = 0; ir < mc; ir += MR)
                        for (std::size_t jr = 0; jr < nc; jr += NR) tile(ir, jr, 0);
                    continue;
                }
                for (std::size_t jr = 0; jr < nc; jr += NR) {
                    const std::size_t q = jr / NR, group_start = q / group * group * NR;
                    if (ic == m0 && jr == group_start)
                        pack_b_panels(pc, kc, jc + jr, nc - jr, b_in_place ? full_panels - q : 0,
                                      std::min(group, panels - q));
                    for (std::size_t ir = 0; ir < mc; ir += MR) tile(ir, jr, group_start);
                }
            }
        }
    }
}

// Whether a thread waiting for another's column band should spin on (briefly) or give its core away.
inline void gemm_wait_pause(unsigned& spins) {
    if (++spins < 64) {
#if LOOM_X86
        _mm_pause();
#endif
    } else {
        std::this_thread::yield();
    }
}

// Handing out a band costs a few hundred nanoseconds (a contended counter, the driver's set-up), so a
// band has at least this many multiply-adds in a KC slice (about 20 us of one core), and at least one
// packing group of columns.
inline constexpr std::size_t gemm_min_band_work = std::size_t{2} << 20;

// How many column bands per thread gemm_column_bands makes; below 2 it is not used. All of op(A)'s
// rows, a KC slice of them, must also pack into the room of one MC x KC block, since each thread packs
// them all (as each thread of the static split does when it splits the columns).
template <class T, Isa isa>
std::size_t gemm_column_bands_per_thread(int threads, std::size_t m, std::size_t n, std::size_t k) {
    constexpr GemmBlocks blocks = gemm_blocks<T, isa>();
    if (threads < 2 || round_up(m, blocks.mr) * std::min(blocks.kc, k) > blocks.mc * blocks.kc) return 0;
    const std::size_t by_packing = (n + blocks.nr - 1) / blocks.nr / gemm_pack_b_group;
    const std::size_t by_work = m * std::min(blocks.kc, k) * n / gemm_min_band_work;
    return std::min(by_packing, by_work) / static_cast<std::size_t>(threads);
}

template <class T, Isa isa>
bool gemm_by_column_bands(int threads, std::size_t m, std::size_t n, std::size_t k) {
    return gemm_column_bands_per_thread<T, isa>(threads, m, n, k) >= 2;
}

// A product on several threads, handed out a band of columns at a time. The static split of
// gemm_packed gives each thread the same number of tiles, but on a cloud guest the cores do not run
// at the same speed (the host runs other work beside them): with it the two threads of 1024^3 and of
// LeNet's dense products (AVX2) finished 5-10% apart on average, and one core was 16% slower for a
// whole run. Here units are (KC slice, column band) pairs taken in order from one counter, so a
// faster thread simply takes more of them. Each thread packs all of op(A)'s KC slice when its next
// unit is in a new slice (as each thread of a column split does), and B a packing group at a time.
// A band's slice s must follow its slice s - 1 (the kernel accumulates onto C), which another
// thread may still be running: progress[band] counts the slices it has done. Each C element is
// still summed by one kernel call per slice, in slice order, from the same packed values, so the
// results are bitwise those of one thread.
template <class T, Isa isa, class Kernel, class A, class B>
void gemm_column_bands(int threads, Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha,
                       const A* a, std::size_t lda, const B* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    constexpr GemmBlocks blocks = gemm_blocks<T, isa>();
    constexpr std::size_t MR = blocks.mr, NR = blocks.nr, KC = blocks.kc;
    // Bands split the column panels, in pairs (a short edge tile pairs an even panel with the next),
    // as evenly as the pairs allow; band u's columns are [band_begin(u), band_begin(u + 1)).
    const auto team = static_cast<std::size_t>(threads);
    const std::size_t share = gemm_column_bands_per_thread<T, isa>(threads, m, n, k), bands = share * team;
    const std::size_t pairs = ((n + NR - 1) / NR + 1) / 2, slices = (k + KC - 1) / KC;
    const auto band_begin = [&](std::size_t u) { return std::min(n, pairs * u / bands * 2 * NR); };
    const std::size_t widest = ((pairs + bands - 1) / bands) * 2 * NR;
    // Claim j of a slice is band (j % threads) * share + j / threads: while the threads keep pace each
    // sweeps its own contiguous half, the static split's, whose B rows the hardware prefetcher can
    // stream; a faster thread goes on into the other's.
    const std::size_t units = bands * slices;
    std::uint32_t* const progress = scratch<std::uint32_t, GemmBuffer::BandProgress>(bands);
    std::fill(progress, progress + bands, std::uint32_t{0});
    std::atomic<std::size_t> next_unit{0};
    std::atomic<bool> abandoned{false};  // a thread failed: nobody waits for its bands
    ParallelFailure failure;
#pragma omp parallel num_threads(threads)
    {
#ifdef _OPENMP
        const auto tid = static_cast<std::size_t>(omp_get_thread_num());
#else
        const std::size_t tid = 0;
#endif
        failure.run(tid, [&] {
            // Every buffer this thread needs, before it takes a unit that others may wait for: from here on
            // nothing throws (the catch below is there so that a thread never waits for one that left).
            T* const a_pack = scratch<T, GemmBuffer::PackedA>(std::min(KC, k) * round_up(m, MR));
            scratch<T, GemmBuffer::PackedB>(std::min(KC, k) * widest);
            try {
                std::size_t packed_slice = slices;  // none yet
                for (std::size_t u; (u = next_unit.fetch_add(1, std::memory_order_relaxed)) < units;) {
                    const std::size_t slice = u / bands, j = u % bands;
                    const std::size_t band = (j % team) * share + j / team;
                    const std::size_t pc = slice * KC, kc = std::min(KC, k - pc);
                    if (slice != packed_slice) {
                        pack_a<MR, isa>(ta, a, lda, 0, m, pc, kc, a_pack);
                        packed_slice = slice;
                    }
                    std::atomic_ref<std::uint32_t> done(progress[band]);
                    for (unsigned spins = 0; done.load(std::memory_order_acquire) != slice;) {
                        if (abandoned.load(std::memory_order_relaxed)) return;
                        gemm_wait_pause(spins);
                    }
                    const std::size_t n0 = band_begin(band), n1 = band_begin(band + 1);
                    gemm_rectangle<T, isa, Kernel>(ta, tb, 0, m, n0, n1, kc, alpha,
                                                   ta == Transpose::No ? a + pc : a + pc * lda, lda,
                                                   tb == Transpose::No ? b + pc * ldb : b + pc, ldb,
                                                   slice == 0 ? beta : T(1), c, ldc, false, a_pack);
                    done.store(static_cast<std::uint32_t>(slice + 1), std::memory_order_release);
                }
            } catch (...) {
                abandoned.store(true, std::memory_order_relaxed);
                throw;
            }
        });
    }
    failure.rethrow_if_failed();
}

template <class T, Isa isa, class Kernel, class A, class B>
void gemm_packed(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const A* a,
                 std::size_t lda, const B* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    constexpr std::size_t MR = Kernel::mr, NR = Kernel::nr;
    const int threads = threads_for(2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k),
                                    gemm_min_flops_per_thread);
    const bool read_in_place = gemm_reads_in_place<A, B>(m, n, k);
    if (threads <= 1) {
        gemm_rectangle<T, isa, Kernel>(ta, tb, 0, m, 0, n, k, alpha, a, lda, b, ldb, beta, c, ldc, read_in_place);
        return;
    }
    if (!read_in_place && gemm_by_column_bands<T, isa>(threads, m, n, k)) {
        gemm_column_bands<T, isa, Kernel>(threads, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    // The only exception possible here is bad_alloc from a worker's first packing buffer.
    ParallelFailure failure;
#pragma omp parallel num_threads(threads)
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
        const int team = omp_get_num_threads();  // the runtime may grant fewer than asked
#else
        const int tid = 0;
        const int team = 1;
#endif
        int tm = 1, tn = 1;
        gemm_thread_grid(team, MR, NR, m, n, tm, tn);
        const auto rg = static_cast<std::size_t>(tid / tn), cg = static_cast<std::size_t>(tid % tn);
        const auto utm = static_cast<std::size_t>(tm), utn = static_cast<std::size_t>(tn);
        // Whole micro-tiles per thread, so only the matrix edges produce partial tiles.
        const std::size_t row_tiles = (m + MR - 1) / MR, col_tiles = (n + NR - 1) / NR;
        const std::size_t m0 = std::min(m, row_tiles * rg / utm * MR);
        const std::size_t m1 = std::min(m, row_tiles * (rg + 1) / utm * MR);
        const std::size_t n0 = std::min(n, col_tiles * cg / utn * NR);
        const std::size_t n1 = std::min(n, col_tiles * (cg + 1) / utn * NR);
        failure.run(static_cast<std::size_t>(tid), [&] {
            gemm_rectangle<T, isa, Kernel>(ta, tb, m0, m1, n0, n1, k, alpha, a, lda, b, ldb, beta, c, ldc,
                                           read_in_place);
        });
    }
    failure.rethrow_if_failed();
}

// Whether to compute C^T = op(B)^T op(A)^T instead of C. The MR x NR tile grid pads a narrow n up
// to a multiple of NR, but as C^T's rows it is padded to a multiple of MR only: n = 50 fills 50 of 64
// columns with NR = 32 and 50 of 56 rows with MR = 14 (nnet's 784-50 layer, LeNet's 50-filter conv2);
// n = 10 (a classifier) fills 10 of 32 and 10 of 14. The product then goes through a scratch buffer
// and one transposing pass over C, which is noise against k multiply-adds per element unless k is
// small. Padded rows cost less than the count says (an edge tile runs only the rows it has), so the
// saving must be 10%: LeNet's classifier input gradient (128 x 2450 x 500, 0.91 of the tiles as C^T)
// measured 8-20% faster computed directly on AVX-512 (its forward product, at 0.90, the same either way).
template <class Kernel>
bool gemm_transposed_c_pays(std::size_t m, std::size_t n, std::size_t k) {
    if (k < 64) return false;
    const auto tiles = [](std::size_t rows, std::size_t cols) {
        return round_up(rows, Kernel::mr) * round_up(cols, Kernel::nr);
    };
    return 10 * tiles(n, m) < 9 * tiles(m, n);
}

// C = beta * C + S^T for S (n x m, row-major); beta == 0 overwrites C without reading it, as in BLAS.
// Blocked so that both S's rows and C's rows are walked a cache line at a time; on x86, float blocks
// go through register transposes (x86/<isa>/pack.hpp).
template <class T, Isa isa>
void gemm_add_transposed(std::size_t m, std::size_t n, const T* s, T beta, T* c, std::size_t ldc) {
    constexpr std::size_t block = 32;
    parallel_for((m + block - 1) / block, 4096 / block, [&](std::size_t first, std::size_t last) {
        const std::size_t i0 = first * block, rows = std::min(m, last * block) - i0;
#if LOOM_X86
        if constexpr (std::is_same_v<T, float> && isa == Isa::Avx512) {
            add_transposed_avx512(rows, n, s + i0, m, beta, c + i0 * ldc, ldc);
            return;
        }
        if constexpr (std::is_same_v<T, float> && isa == Isa::Avx2) {
            add_transposed_avx2(rows, n, s + i0, m, beta, c + i0 * ldc, ldc);
            return;
        }
#endif
        for (std::size_t b0 = i0; b0 < i0 + rows; b0 += block) {
            const std::size_t b1 = std::min(i0 + rows, b0 + block);
            for (std::size_t j0 = 0; j0 < n; j0 += block) {
                const std::size_t j1 = std::min(n, j0 + block);
                for (std::size_t i = b0; i < b1; ++i) {
                    T* row = c + i * ldc;
                    if (beta == T(0))
                        for (std::size_t j = j0; j < j1; ++j) row[j] = s[j * m + i];
                    else
                        for (std::size_t j = j0; j < j1; ++j) row[j] = beta * row[j] + s[j * m + i];
                }
            }
        }
    });
}

// The largest scratch (in elements) of the C^T path: 4 MiB of float.
inline constexpr std::size_t transposed_c_scratch_elements = std::size_t{1} << 20;

constexpr Transpose flip(Transpose t) { return t == Transpose::No ? Transpose::Yes : Transpose::No; }

template <class T, Isa isa, class Kernel, class A, class B>
void gemm_dispatch(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const A* a,
                   std::size_t lda, const B* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    if (gemm_transposed_c_pays<Kernel>(m, n, k)) {
        // In blocks of C's rows, so that the scratch stays a few MiB however tall C is (it is kept
        // for the next call). Every element still sums over k in the same KC slices.
        const std::size_t most = std::max(Kernel::nr, transposed_c_scratch_elements / n / Kernel::nr * Kernel::nr);
        const std::size_t blocks_needed = (m + most - 1) / most;
        const std::size_t rows = round_up((m + blocks_needed - 1) / blocks_needed, Kernel::nr);  // balanced
        T* s = scratch<T, GemmBuffer::TransposedC>(std::min(m, rows) * n);
        for (std::size_t m0 = 0; m0 < m; m0 += rows) {
            const std::size_t mb = std::min(rows, m - m0);
            const A* a_rows = ta == Transpose::No ? a + m0 * lda : a + m0;  // rows m0.. of op(A)
            gemm_packed<T, isa, Kernel>(flip(tb), flip(ta), n, mb, k, alpha, b, ldb, a_rows, lda, T(0), s, mb);
            gemm_add_transposed<T, isa>(mb, n, s, beta, c + m0 * ldc, ldc);
        }
        return;
    }
    gemm_packed<T, isa, Kernel>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace detail

namespace detail {

// loom::gemm's checks and ISA choice, for an A of T or of bytes.
template <class T, class A>
void gemm_entry(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const A* a,
                std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "loom::gemm is for float and double");
    require<ArgumentError>(ldc >= n, "gemm: ldc ", ldc, " is smaller than n ", n);
    require<ArgumentError>(lda >= (ta == Transpose::No ? k : m), "gemm: lda ", lda, " too small");
    require<ArgumentError>(ldb >= (tb == Transpose::No ? n : k), "gemm: ldb ", ldb, " too small");
    if (m == 0 || n == 0) return;
    // As in BLAS, alpha == 0 does not read A or B.
    if (k == 0 || alpha == T(0)) {
        gemm_scale_c(m, n, beta, c, ldc);
        return;
    }
    switch (active_isa()) {
#if LOOM_X86
        case Isa::Avx512:
            gemm_dispatch<T, Isa::Avx512, GemmKernelAvx512<T>>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            break;
        case Isa::Avx2:
            gemm_dispatch<T, Isa::Avx2, GemmKernelAvx2<T>>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            break;
#endif
        default:
            gemm_dispatch<T, Isa::Generic, GemmKernelGeneric<T>>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            break;
    }
}

}  // namespace detail

template <class T>
void gemm(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    detail::gemm_entry(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <class T>
void gemm(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const std::uint8_t* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    detail::gemm_entry(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace loom
