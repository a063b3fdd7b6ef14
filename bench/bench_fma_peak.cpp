// The machine's FMA peak, the ceiling every GFLOP/s figure in docs/performance.md is a fraction of:
// a loop of independent register-only FMAs (no loads), per ISA, on 1 thread and on every thread.
// Twelve accumulators hide a 4-cycle FMA latency on two pipes (the usual x86 worst case); each FMA
// counts 2 flops per lane.
//   ./build/bench/bench_fma_peak
#include <benchmark/benchmark.h>

#include <string>

#include "loom/core/threads.hpp"
#include "loom/kernels/cpu_features.hpp"

#if LOOM_X86
#include <immintrin.h>
#endif

namespace {

constexpr long iterations = 1L << 22;  // of 12 FMAs each per thread

#if LOOM_X86
// The same loop twice, as intrinsics cannot be passed through a template to a function of another target.
// Twelve named accumulators (an array would live in memory), each step a dependent FMA; the empty asm
// keeps the compiler from folding the chains.
#define LOOM_FMA_LOOP(V, SET1, FMADD)                                                                       \
    const V m = SET1(0.999f), c = SET1(1e-8f);                                                              \
    V a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;       \
    for (long i = 0; i < iterations; ++i) {                                                                 \
        a0 = FMADD(a0, m, c), a1 = FMADD(a1, m, c), a2 = FMADD(a2, m, c), a3 = FMADD(a3, m, c);             \
        a4 = FMADD(a4, m, c), a5 = FMADD(a5, m, c), a6 = FMADD(a6, m, c), a7 = FMADD(a7, m, c);             \
        a8 = FMADD(a8, m, c), a9 = FMADD(a9, m, c), a10 = FMADD(a10, m, c), a11 = FMADD(a11, m, c);         \
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5));                 \
        __asm__ volatile("" : "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11));               \
    }                                                                                                       \
    const V sum = FMADD(FMADD(FMADD(a0, a1, a2), FMADD(a3, a4, a5), FMADD(a6, a7, a8)), a9, FMADD(a10, a11, c)); \
    float out[sizeof(V) / sizeof(float)];                                                                   \
    __builtin_memcpy(out, &sum, sizeof(V));                                                                 \
    return out[0];

__attribute__((target("avx512f"))) double fma_avx512() { LOOM_FMA_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps) }
__attribute__((target("avx2,fma"))) double fma_avx2() { LOOM_FMA_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps) }
#undef LOOM_FMA_LOOP
#endif

void fma_peak(benchmark::State& state, loom::Isa isa, int threads) {
    const double lanes = isa == loom::Isa::Avx512 ? 16 : 8;
    double sink = 0;
    for (auto _ : state) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        {
#if LOOM_X86
            sink += isa == loom::Isa::Avx512 ? fma_avx512() : fma_avx2();
#endif
        }
    }
    benchmark::DoNotOptimize(sink);
    const double flops = 2.0 * lanes * 12.0 * static_cast<double>(iterations) * threads;
    state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()) * 1e-9,
                                                   benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    for (loom::Isa isa : {loom::Isa::Avx2, loom::Isa::Avx512}) {
        if (!loom::isa_supported(isa)) continue;
        for (int threads : {1, loom::num_threads()}) {
            const std::string name = std::string("fma_peak/") + loom::isa_name(isa) + "/threads:" + std::to_string(threads);
            benchmark::RegisterBenchmark(name.c_str(), fma_peak, isa, threads)->UseRealTime()->Unit(benchmark::kMillisecond);
        }
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
