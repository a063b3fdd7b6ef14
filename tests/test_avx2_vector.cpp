// The AVX2 vector traits' partial loads and stores (kernels/x86/avx2/vector.hpp), which every AVX2
// edge tile and packing routine goes through: for each lane count, exactly those lanes are read and
// written, and the memory around them is untouched.
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "loom/loom.hpp"

#if LOOM_X86
#include "loom/kernels/x86/avx2/vector.hpp"

namespace {

template <class T>
__attribute__((target("avx2,fma"))) void copy_first(std::size_t n, const T* from, T* to) {
    using P = loom::detail::Avx2Vec<T>;
    const typename P::Mask mask = P::first(n);
    P::storeu(mask, to, P::loadu(mask, from));
}

template <class T>
void check_partial_copies() {
    using P = loom::detail::Avx2Vec<T>;
    constexpr std::size_t lanes = P::lanes, guard = 8;
    for (std::size_t n = 0; n <= lanes; ++n) {
        CAPTURE(n);
        std::vector<T> from(lanes), to(guard + lanes + guard, T(-7));
        for (std::size_t i = 0; i < lanes; ++i) from[i] = T(i + 1);
        copy_first(n, from.data(), to.data() + guard);
        for (std::size_t i = 0; i < to.size(); ++i) {
            const bool inside = i >= guard && i < guard + n;
            CHECK(to[i] == (inside ? T(i - guard + 1) : T(-7)));
        }
    }
}

}  // namespace

TEST_CASE("AVX2 partial loads and stores touch exactly their first n lanes (float, double)") {
    if (!loom::isa_supported(loom::Isa::Avx2)) return;
    check_partial_copies<float>();
    check_partial_copies<double>();
}
#endif
