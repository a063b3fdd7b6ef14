#pragma once
// The AVX-512 GEMM micro-kernel: x86/microkernel.hpp compiled for AVX-512F, 14 x 32 float / 14 x 16
// double tiles (gemm_blocking.hpp). gemm_driver.hpp calls it only after active_isa() said the CPU has
// AVX-512.
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm_blocking.hpp"
#include "loom/kernels/x86/avx512/vector.hpp"

#if LOOM_X86
#define LOOM_SIMD_NAMESPACE avx512
#define LOOM_SIMD_TARGET __attribute__((target("avx512f")))
#include "loom/kernels/x86/microkernel.hpp"
#undef LOOM_SIMD_NAMESPACE
#undef LOOM_SIMD_TARGET

namespace loom::detail {

template <class T>
using GemmKernelAvx512 = avx512::GemmKernel<Avx512Vec<T>, gemm_blocks<T, Isa::Avx512>(), /*prefetch_next_tile=*/true>;

}  // namespace loom::detail
#endif
