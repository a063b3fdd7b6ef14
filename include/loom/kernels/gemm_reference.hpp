#pragma once
// The obvious triple loop: the definition loom::gemm must agree with, used by tests and benchmarks.
// Accumulates in double so it is a trustworthy reference for float too.
#include <cstddef>

#include "loom/kernels/transpose.hpp"

namespace loom {

template <class T>
void gemm_reference(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                    std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            double sum = 0;
            for (std::size_t p = 0; p < k; ++p) {
                const T aip = ta == Transpose::No ? a[i * lda + p] : a[p * lda + i];
                const T bpj = tb == Transpose::No ? b[p * ldb + j] : b[j * ldb + p];
                sum += static_cast<double>(aip) * static_cast<double>(bpj);
            }
            // beta == 0 overwrites C, so NaN in uninitialised C does not leak (as BLAS does)
            const double prior = beta == T(0) ? 0.0 : static_cast<double>(beta) * static_cast<double>(c[i * ldc + j]);
            c[i * ldc + j] = static_cast<T>(static_cast<double>(alpha) * sum + prior);
        }
    }
}

}  // namespace loom
