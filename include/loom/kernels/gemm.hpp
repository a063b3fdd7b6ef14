#pragma once
// loom::gemm: C = alpha * op(A) * op(B) + beta * C, row-major, like cblas_?gemm with CblasRowMajor.
// op(A) is m x k, op(B) is k x n, C is m x n, T is float or double. Every layer reaches its arithmetic
// through this entry point. Throws ArgumentError for a leading dimension smaller than its row.
//
// A may also be bytes (0..255, e.g. image pixels), taken as their values: A's scale goes into alpha.
// They become T as they are packed, so the product never needs A as T in memory (Dense's forward and
// weight gradient on byte images: a full-batch fit reads its data at a byte per value).
#include <cstddef>
#include <cstdint>

#include "loom/kernels/transpose.hpp"

namespace loom {

template <class T>
void gemm(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc);

template <class T>
void gemm(Transpose ta, Transpose tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const std::uint8_t* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc);

}  // namespace loom

// The definition and the ISA kernels, unless this unit uses the instantiations of another one
// (LOOM_EXTERN_TEMPLATES, loom/instantiate.hpp): then it never parses <immintrin.h> or the kernels.
#if !defined(LOOM_EXTERN_TEMPLATES) || defined(LOOM_INSTANTIATE_TEMPLATES)
#include "loom/kernels/gemm_driver.hpp"
#endif
