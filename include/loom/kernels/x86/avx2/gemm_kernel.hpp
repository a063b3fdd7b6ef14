#pragma once
// The AVX2+FMA GEMM micro-kernel, for x86-64 CPUs without AVX-512 (and to compare against it):
// x86/microkernel.hpp compiled for AVX2 and FMA, 6 x 16 float / 6 x 8 double tiles (gemm_blocking.hpp).
// gemm_driver.hpp calls it only after active_isa() said the CPU has AVX2 and FMA.
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm_blocking.hpp"
#include "loom/kernels/x86/avx2/vector.hpp"

#if LOOM_X86
#define LOOM_SIMD_NAMESPACE avx2
#define LOOM_SIMD_TARGET __attribute__((target("avx2,fma")))
#include "loom/kernels/x86/microkernel.hpp"
#undef LOOM_SIMD_NAMESPACE
#undef LOOM_SIMD_TARGET

namespace loom::detail {

template <class T>
using GemmKernelAvx2 = avx2::GemmKernel<Avx2Vec<T>, gemm_blocks<T, Isa::Avx2>(), /*prefetch_next_tile=*/false>;

}  // namespace loom::detail
#endif
