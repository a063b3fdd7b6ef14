#pragma once
// Portable micro-kernel: the fallback for CPUs without AVX2 and non-x86 targets, and the reference the
// SIMD kernels are tested against through the same driver. Plain C++ that compilers auto-vectorise with
// whatever baseline SIMD the target has (SSE2 on x86-64, NEON on AArch64).
//
// Every micro-kernel has the same contract, which the driver (gemm.hpp) relies on:
//   C[0..MR) x [0..NR) (row stride ldc) = alpha * sum_p A[p][i] * B[p][j] + beta * C,
// where A is a packed micro-panel (kc steps of MR values) and B one of kc steps of NR values, both
// 64-byte aligned. beta == 0 overwrites C without reading it, so NaN/garbage in C does not propagate.
#include <cstddef>

namespace loom::detail {

template <class T>
struct GemmKernelGeneric {
    // 4 x 16 (float) keeps 64 accumulators: 16 SSE registers' worth, what x86-64 has without AVX.
    static constexpr std::size_t mr = 4;
    static constexpr std::size_t nr = sizeof(T) == 4 ? 16 : 8;

    static void run(std::size_t kc, const T* a, const T* b, T* c, std::size_t ldc, T alpha, T beta) {
        run_edge(mr, nr, kc, a, b, c, ldc, alpha, beta);
    }

    // The top-left rows x cols of a tile (rows <= mr, cols <= nr); the rest of C is not touched.
    static void run_edge(std::size_t rows, std::size_t cols, std::size_t kc, const T* a, const T* b, T* c,
                         std::size_t ldc, T alpha, T beta) {
        T acc[mr][nr] = {};
        for (std::size_t p = 0; p < kc; ++p) {
            const T* ap = a + p * mr;
            const T* bp = b + p * nr;
            for (std::size_t i = 0; i < mr; ++i)
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
