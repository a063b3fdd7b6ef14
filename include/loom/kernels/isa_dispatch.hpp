#pragma once
// Compiling plain loops once per ISA. run_for_isa(isa, body) runs body() inlined into a function
// compiled for `isa` (a target attribute plus flatten), so the compiler vectorises body's loops as
// wide as that ISA allows, while the rest of the program stays baseline x86-64. For kernels that are
// loops the compiler vectorises well (Winograd's transforms, the direct convolution); the GEMM has
// hand-written micro-kernels instead (x86/microkernel.hpp).
//
// A body that takes an argument is given the ISA's vector width in bytes (VectorBytes<64> for AVX-512,
// 32 for AVX2, 16 otherwise), for loops written with GCC/Clang vector types of that width.
//
// The caller must check that the CPU supports `isa` (active_isa() does). An OpenMP region inside body
// is outlined into a function of its own, compiled for the baseline: call run_for_isa inside the
// region, not around it.
#include <cstddef>
#include <type_traits>

#include "loom/kernels/cpu_features.hpp"

namespace loom::kernels {

template <std::size_t Bytes>
using VectorBytes = std::integral_constant<std::size_t, Bytes>;

namespace detail {
template <std::size_t Bytes, class Body>
[[gnu::always_inline]] inline void call_with_width(Body& body) {
    if constexpr (std::is_invocable_v<Body&, VectorBytes<Bytes>>)
        body(VectorBytes<Bytes>{});
    else
        body();
}
#if LOOM_X86
template <class Body>
__attribute__((target("avx512f"), flatten)) void run_avx512(Body& body) {
    call_with_width<64>(body);
}
template <class Body>
__attribute__((target("avx2,fma"), flatten)) void run_avx2(Body& body) {
    call_with_width<32>(body);
}
#endif
template <class Body>
[[gnu::flatten]] void run_generic(Body& body) {
    call_with_width<16>(body);
}
}  // namespace detail

template <class Body>
void run_for_isa(Isa isa, Body&& body) {
    switch (isa) {
#if LOOM_X86
        case Isa::Avx512: detail::run_avx512(body); return;
        case Isa::Avx2: detail::run_avx2(body); return;
#endif
        default: detail::run_generic(body); return;
    }
}

}  // namespace loom::kernels
