#pragma once
// Run-time instruction-set selection. loom is compiled for the baseline x86-64 (or any other CPU) and
// picks its SIMD kernels when it runs, so one binary uses AVX-512 where present and still runs elsewhere.
//
// Precedence: a programmatic override (set_isa / ScopedIsa, used by tests to exercise every kernel)
// beats the LOOM_ISA environment variable, which beats the best ISA the CPU reports.
#include <atomic>
#include <cstdlib>
#include <string>
#include <string_view>

#include "loom/core/error.hpp"

// x86-64 with GCC/Clang: where target attributes, <immintrin.h> and __builtin_cpu_supports exist. The
// one test for "may use x86 kernels" in loom.
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define LOOM_X86 1
#else
#define LOOM_X86 0
#endif

namespace loom {

// Ordered from least to most capable: a CPU supporting one ISA supports every one before it.
enum class Isa { Generic, Avx2, Avx512 };

inline const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Avx512: return "avx512";
        case Isa::Avx2: return "avx2";
        default: return "generic";
    }
}

// The best ISA loom has kernels for on this CPU. __builtin_cpu_supports also checks that the OS saves
// the wide registers (XCR0), so "avx512f" here means the kernels can actually run.
inline Isa detected_isa() {
#if LOOM_X86
    static const Isa isa = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) return Isa::Avx512;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
        return Isa::Generic;
    }();
    return isa;
#else
    return Isa::Generic;
#endif
}

inline bool isa_supported(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(detected_isa()); }

// "generic" | "avx2" | "avx512" -> Isa; throws Error for an unknown name or an ISA this CPU lacks
// (silently falling back would make a benchmark or a test measure something other than asked).
inline Isa parse_isa(std::string_view name) {
    Isa isa;
    if (name == "generic")
        isa = Isa::Generic;
    else if (name == "avx2")
        isa = Isa::Avx2;
    else if (name == "avx512")
        isa = Isa::Avx512;
    else
        throw Error(detail::concat("unknown ISA '", name, "' (expected generic, avx2 or avx512)"));
    require<Error>(isa_supported(isa), "ISA '", name, "' requested but this CPU supports at most ",
                   isa_name(detected_isa()));
    return isa;
}

// The ISA LOOM_ISA asks for, or the detected one when it is unset or empty. Reads the environment on
// every call; active_isa() caches the answer.
inline Isa isa_from_env() {
    const char* value = std::getenv("LOOM_ISA");
    if (value == nullptr || *value == '\0') return detected_isa();
    return parse_isa(value);
}

namespace detail {
inline std::atomic<int>& isa_override() {
    static std::atomic<int> setting{-1};  // -1: no override
    return setting;
}
}  // namespace detail

// Forces every later kernel call in the process onto `isa` (throws Error if the CPU lacks it).
inline void set_isa(Isa isa) {
    require<Error>(isa_supported(isa), "set_isa: this CPU does not support ", isa_name(isa));
    detail::isa_override() = static_cast<int>(isa);
}

// Drops the set_isa override: back to LOOM_ISA or detection.
inline void reset_isa() { detail::isa_override() = -1; }

// The ISA kernels dispatch on now.
inline Isa active_isa() {
    const int forced = detail::isa_override().load(std::memory_order_relaxed);
    if (forced >= 0) return static_cast<Isa>(forced);
    // Read once: getenv is not free and is unsafe against concurrent setenv. A throwing initialiser is
    // retried on the next call, so a bad LOOM_ISA keeps failing loudly instead of being forgotten.
    static const Isa from_env = isa_from_env();
    return from_env;
}

// set_isa for a scope; restores the previous override (or none) on exit.
class ScopedIsa {
public:
    explicit ScopedIsa(Isa isa) : previous_(detail::isa_override().load()) { set_isa(isa); }
    ~ScopedIsa() { detail::isa_override() = previous_; }
    ScopedIsa(const ScopedIsa&) = delete;
    ScopedIsa& operator=(const ScopedIsa&) = delete;

private:
    int previous_;
};

}  // namespace loom
