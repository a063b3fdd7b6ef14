#pragma once
// loom::gemm: C = alpha * op(A) * op(B) + beta * C, row-major, like cblas_?gemm with CblasRowMajor.
// op(A) is m x k, op(B) is k x n, C is m x n. Every layer reaches its arithmetic through this entry point.
//
// PLACEHOLDER: a plain cache-blocked loop; the packed, multi-threaded, SIMD version replaces the body
// (see issue "Fast CPU hot path") without changing this signature.
#include <algorithm>
#include <cstddef>

#include "loom/core/error.hpp"
#include "loom/kernels/transpose.hpp"

namespace loom {

template <class T>
void gemm(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
    require<ArgumentError>(ldc >= n, "gemm: ldc ", ldc, " is smaller than n ", n);
    require<ArgumentError>(lda >= (ta == Transpose::No ? k : m), "gemm: lda ", lda, " too small");
    require<ArgumentError>(ldb >= (tb == Transpose::No ? n : k), "gemm: ldb ", ldb, " too small");
    for (std::size_t i = 0; i < m; ++i) {
        T* crow = c + i * ldc;
        if (beta == T(0))
            std::fill(crow, crow + n, T(0));
        else if (beta != T(1))
            for (std::size_t j = 0; j < n; ++j) crow[j] *= beta;
        for (std::size_t p = 0; p < k; ++p) {
            const T aip = alpha * (ta == Transpose::No ? a[i * lda + p] : a[p * lda + i]);
            if (tb == Transpose::No) {
                const T* brow = b + p * ldb;
                for (std::size_t j = 0; j < n; ++j) crow[j] += aip * brow[j];
            } else {
                for (std::size_t j = 0; j < n; ++j) crow[j] += aip * b[j * ldb + p];
            }
        }
    }
}

}  // namespace loom
