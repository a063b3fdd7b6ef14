#pragma once
// Portable micro-kernel: the fallback for CPUs without AVX2 and non-x86 targets, and the reference the
// SIMD kernels are tested against through the same driver. Plain C++ that compilers auto-vectorise with
// whatever baseline SIMD the target has (SSE2 on x86-64, NEON on AArch64).
//
// It keeps the contract written in x86/microkernel.hpp.
#include <cstddef>
#include <cstdint>

#include "loom/kernels/gemm_blocking.hpp"

namespace loom::detail {

template <class T>
struct GemmKernelGeneric {
    static constexpr std::size_t mr = gemm_blocks<T, Isa::Generic>().mr;
    static constexpr std::size_t nr = gemm_blocks<T, Isa::Generic>().nr;
    // Edge tiles are never given two B panels at once (x86/microkernel.hpp's run_edge_pair).
    static constexpr std::size_t pair_below = 0;

    static void run(std::size_t kc, const T* a, std::size_t a_step, const T* b, std::size_t b_step, T* c,
                    std::size_t ldc, T alpha, T beta) {
        run_edge(mr, nr, kc, a, a_step, b, b_step, c, ldc, alpha, beta);
    }

    // The top-left rows x cols of a tile (rows <= mr, cols <= nr); the rest of C is not touched.
    static void run_edge(std::size_t rows, std::size_t cols, std::size_t kc, const T* a, std::size_t a_step,
                         const T* b, std::size_t b_step, T* c, std::size_t ldc, T alpha, T beta) {
        const std::uint32_t all[2] = {0, static_cast<std::uint32_t>(kc)};
        run_steps(all, 1, rows, cols, a, a_step, b, b_step, c, ldc, alpha, beta);
    }

    // A full tile over the k steps of `run_count` runs (gemm_zero_steps.hpp) only.
    static void run_runs(const std::uint32_t* runs, std::size_t run_count, const T* a, std::size_t a_step,
                         const T* b, std::size_t b_step, T* c, std::size_t ldc, T alpha, T beta) {
        run_steps(runs, run_count, mr, nr, a, a_step, b, b_step, c, ldc, alpha, beta);
    }

private:
    static void run_steps(const std::uint32_t* runs, std::size_t run_count, std::size_t rows, std::size_t cols,
                          const T* a, std::size_t a_step, const T* b, std::size_t b_step, T* c, std::size_t ldc,
                          T alpha, T beta) {
        T acc[mr][nr] = {};
        for (std::size_t r = 0; r < run_count; ++r)
            for (std::size_t p = runs[2 * r]; p < runs[2 * r + 1]; ++p) {
                const T* ap = a + p * a_step;
                const T* bp = b + p * b_step;
                for (std::size_t i = 0; i < rows; ++i)
                    for (std::size_t j = 0; j < nr; ++j) acc[i][j] += ap[i] * bp[j];
            }
        for (std::size_t i = 0; i < rows; ++i) {
            T* ci = c + i * ldc;
            if (beta == T(0))
                for (std::size_t j = 0; j < cols; ++j) ci[j] = alpha * acc[i][j];
            else
                for (std::size_t j = 0; j < cols; ++j) ci[j] = alpha * acc[i][j] + beta * ci[j];
        }
    }
};

}  // namespace loom::detail
