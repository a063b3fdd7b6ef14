// sgemm throughput of loom::gemm against Eigen and OpenBLAS (cblas_sgemm), on squares and on the shapes
// LeNet-5 and the MLP issue during training, with 1 and 2 threads. Reports GFLOP/s.
//
// Run (OpenBLAS reads OPENBLAS_CORETYPE when the library is loaded, before main, so it has to come from
// the environment):
//   OPENBLAS_CORETYPE=SkylakeX ./build/bench/bench_gemm
//   OPENBLAS_CORETYPE=SkylakeX ./build/bench/bench_gemm --benchmark_filter='^loom/' --benchmark_min_time=0.3
// Names are <library>/<shape>/threads:<n>. Run one library per process when comparing closely: each
// library's idle worker threads spin for a while after a call and steal cycles from the next one.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "loom/core/random.hpp"
#include "loom/core/threads.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm.hpp"

#ifdef LOOM_HAVE_EIGEN
#include <Eigen/Core>
#endif
#ifdef LOOM_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

using loom::Transpose;

struct GemmShape {
    std::string name;
    Transpose ta, tb;
    std::size_t m, n, k;
    double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
};

std::vector<GemmShape> shapes() {
    std::vector<GemmShape> list;
    for (std::size_t s : {256, 512, 1024, 2048})
        list.push_back({"square_" + std::to_string(s), Transpose::No, Transpose::No, s, s, s});
    // LeNet-5 as im2col GEMMs: forward, weight gradient (dW) and input gradient (dX) of each layer.
    for (std::size_t b : {64, 128}) {
        const std::string sb = "_b" + std::to_string(b);
        list.push_back({"conv1_fwd" + sb, Transpose::No, Transpose::No, 20, 784 * b, 25});
        list.push_back({"conv1_dW" + sb, Transpose::No, Transpose::Yes, 20, 25, 784 * b});
        list.push_back({"conv1_dX" + sb, Transpose::Yes, Transpose::No, 25, 784 * b, 20});
        list.push_back({"conv2_fwd" + sb, Transpose::No, Transpose::No, 50, 196 * b, 500});
        list.push_back({"conv2_dW" + sb, Transpose::No, Transpose::Yes, 50, 500, 196 * b});
        list.push_back({"conv2_dX" + sb, Transpose::Yes, Transpose::No, 500, 196 * b, 50});
        list.push_back({"dense1_fwd" + sb, Transpose::No, Transpose::No, b, 500, 3136});
        list.push_back({"dense1_dW" + sb, Transpose::Yes, Transpose::No, 3136, 500, b});
        list.push_back({"dense1_dX" + sb, Transpose::No, Transpose::Yes, b, 3136, 500});
    }
    // As the layers issue them at batch 128: conv2 forward is col * W (rows x filters), and the
    // 500 -> 10 classifier's forward and dW. Narrow n: loom computes these as C^T.
    list.push_back({"conv2_fwd_colW_b128", Transpose::No, Transpose::No, 196 * 128, 50, 500});
    list.push_back({"dense2_fwd_b128", Transpose::No, Transpose::No, 128, 10, 500});
    list.push_back({"dense2_dW_b128", Transpose::Yes, Transpose::No, 500, 10, 128});
    // The MLP on the whole training set: (60000 x 784) x (784 x 50), its dW and dX.
    list.push_back({"mlp_fwd", Transpose::No, Transpose::No, 60000, 50, 784});
    list.push_back({"mlp_dW", Transpose::Yes, Transpose::No, 784, 50, 60000});
    list.push_back({"mlp_dX", Transpose::No, Transpose::Yes, 60000, 784, 50});
    return list;
}

// Operands for one shape, stored as the transposes say (lda = columns of A as stored, etc.).
struct Operands {
    explicit Operands(const GemmShape& s)
        : shape(s),
          lda(s.ta == Transpose::No ? s.k : s.m),
          ldb(s.tb == Transpose::No ? s.n : s.k),
          a(s.m * s.k),
          b(s.k * s.n),
          c(s.m * s.n) {
        loom::Rng rng(s.m + 31 * s.n + 977 * s.k);
        for (auto& x : a) x = static_cast<float>(rng.uniform(-1, 1));
        for (auto& x : b) x = static_cast<float>(rng.uniform(-1, 1));
    }
    GemmShape shape;
    std::size_t lda, ldb;
    std::vector<float> a, b, c;
};

void run_loom(Operands& o) {
    const auto& s = o.shape;
    loom::gemm<float>(s.ta, s.tb, s.m, s.n, s.k, 1.f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.f, o.c.data(), s.n);
}

#ifdef LOOM_HAVE_OPENBLAS
void run_openblas(Operands& o) {
    const auto& s = o.shape;
    const auto t = [](Transpose x) { return x == Transpose::No ? CblasNoTrans : CblasTrans; };
    cblas_sgemm(CblasRowMajor, t(s.ta), t(s.tb), static_cast<int>(s.m), static_cast<int>(s.n), static_cast<int>(s.k),
                1.f, o.a.data(), static_cast<int>(o.lda), o.b.data(), static_cast<int>(o.ldb), 0.f, o.c.data(),
                static_cast<int>(s.n));
}
#endif

#ifdef LOOM_HAVE_EIGEN
void run_eigen(Operands& o) {
    using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const auto& s = o.shape;
    const auto rows = [](std::size_t x) { return static_cast<Eigen::Index>(x); };
    const Eigen::Map<const Mat> a(o.a.data(), rows(s.ta == Transpose::No ? s.m : s.k), rows(o.lda));
    const Eigen::Map<const Mat> b(o.b.data(), rows(s.tb == Transpose::No ? s.k : s.n), rows(o.ldb));
    Eigen::Map<Mat> c(o.c.data(), rows(s.m), rows(s.n));
    if (s.ta == Transpose::No && s.tb == Transpose::No)
        c.noalias() = a * b;
    else if (s.ta == Transpose::No)
        c.noalias() = a * b.transpose();
    else if (s.tb == Transpose::No)
        c.noalias() = a.transpose() * b;
    else
        c.noalias() = a.transpose() * b.transpose();
}
#endif

enum class Library { Loom, Eigen, OpenBlas };

void set_threads(Library lib, int threads) {
    switch (lib) {
        case Library::Loom: loom::set_num_threads(threads); break;
#ifdef LOOM_HAVE_EIGEN
        case Library::Eigen: Eigen::setNbThreads(threads); break;
#endif
#ifdef LOOM_HAVE_OPENBLAS
        case Library::OpenBlas: openblas_set_num_threads(threads); break;
#endif
        default: break;
    }
}

void bench(benchmark::State& state, Library lib, GemmShape shape, int threads) {
    Operands o(shape);
    set_threads(lib, threads);
    void (*run)(Operands&) = run_loom;
#ifdef LOOM_HAVE_EIGEN
    if (lib == Library::Eigen) run = run_eigen;
#endif
#ifdef LOOM_HAVE_OPENBLAS
    if (lib == Library::OpenBlas) run = run_openblas;
#endif
    run(o);  // warm-up: packing buffers, thread pools, page faults on C
    for (auto _ : state) {
        run(o);
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP/s"] = benchmark::Counter(shape.flops() * static_cast<double>(state.iterations()) * 1e-9,
                                                   benchmark::Counter::kIsRate);
}

#ifdef LOOM_HAVE_OPENBLAS
// loom and OpenBLAS must agree before their speeds are worth comparing.
bool cross_check() {
    bool ok = true;
    for (const auto& full : shapes()) {
        GemmShape s = full;  // shrink the long dimension of the big shapes: the check is about layouts
        s.m = std::min<std::size_t>(s.m, 1024);
        s.n = std::min<std::size_t>(s.n, 4096);
        s.k = std::min<std::size_t>(s.k, 4096);
        Operands mine(s), theirs(s);
        run_loom(mine);
        run_openblas(theirs);
        double worst = 0;
        for (std::size_t i = 0; i < mine.c.size(); ++i)
            worst = std::max(worst, std::abs(static_cast<double>(mine.c[i]) - theirs.c[i]) /
                                        (1.0 + std::abs(static_cast<double>(theirs.c[i]))));
        // Inputs in [-1, 1]: |error| ~ sqrt(k) * eps * |typical term|; 1e-4 is far above that.
        if (!(worst < 1e-4)) {
            std::fprintf(stderr, "cross-check FAILED for %s: max relative difference %g\n", s.name.c_str(), worst);
            ok = false;
        }
    }
    return ok;
}
#endif

}  // namespace

int main(int argc, char** argv) {
    std::printf("loom ISA: %s\n", loom::isa_name(loom::active_isa()));
#ifdef LOOM_HAVE_OPENBLAS
    const char* coretype = std::getenv("OPENBLAS_CORETYPE");
    std::printf("OpenBLAS core: %s (OPENBLAS_CORETYPE=%s)\n", openblas_get_corename(), coretype ? coretype : "unset");
    if (!cross_check()) return 1;
    std::printf("cross-check loom vs OpenBLAS: ok\n");
#endif
    std::fflush(stdout);

    for (const auto& shape : shapes()) {
        for (int threads : {1, 2}) {
            const std::string suffix = "/" + shape.name + "/threads:" + std::to_string(threads);
            benchmark::RegisterBenchmark(("loom" + suffix).c_str(), bench, Library::Loom, shape, threads)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
#ifdef LOOM_HAVE_OPENBLAS
            benchmark::RegisterBenchmark(("openblas" + suffix).c_str(), bench, Library::OpenBlas, shape, threads)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
#endif
#ifdef LOOM_HAVE_EIGEN
            benchmark::RegisterBenchmark(("eigen" + suffix).c_str(), bench, Library::Eigen, shape, threads)
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
#endif
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
