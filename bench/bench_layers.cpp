// LeNet's layers and whole training steps: Conv2D forward/backward (im2col + loom::gemm) against a
// direct convolution and, when CMake finds Eigen, against the same convolutions written with Eigen's
// Tensor module (image patches + contraction, as TensorFlow builds its CPU convolution); MaxPool2D,
// Dense, one full training step (Adam) and the inference of the 10,000 test images. Counters: GFLOP/s
// for the convolutions, images/s, and for the training step the time one epoch of 60,000 images would take.
//   ./build/bench/bench_layers                      (all; threads from OMP_NUM_THREADS)
//   ./build/bench/bench_layers --benchmark_filter=train_step
//   ./build/bench/bench_layers --benchmark_filter='^(eigen_)?conv_(forward|backward)/'   (loom and Eigen side by side)
// bench/pytorch_conv.py times PyTorch's conv2d on the same convolutions.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "loom/loom.hpp"

#ifdef LOOM_HAVE_EIGEN
// The Tensor module runs on its own thread pool rather than OpenMP; this enables ThreadPoolDevice.
#define EIGEN_USE_THREADS
#include <unsupported/Eigen/CXX11/Tensor>
#endif

namespace {

loom::Tensor<float> random_tensor(const loom::Shape& shape, std::uint64_t seed) {
    loom::Tensor<float> t(shape);
    loom::Rng rng(seed);
    for (auto& v : t) v = static_cast<float>(rng.uniform(-1, 1));
    return t;
}

struct ConvCase {
    std::size_t h, c, filters;
};
// LeNet's two convolutions: 5x5 windows, same padding.
constexpr ConvCase conv_cases[] = {{28, 1, 20}, {14, 20, 50}};

double conv_flops(const ConvCase& k, std::size_t batch) {
    return 2.0 * double(batch * k.h * k.h) * double(25 * k.c) * double(k.filters);
}

// LeNet's convolution k (5x5, same padding), built for its input.
std::unique_ptr<loom::Conv2D<float>> built_conv(const ConvCase& k) {
    auto conv = std::make_unique<loom::Conv2D<float>>(k.filters, 5, loom::Padding::Same);
    loom::Rng rng(1);
    conv->build({k.h, k.h, k.c}, rng);
    return conv;
}

void conv_forward(benchmark::State& state) {
    const auto& k = conv_cases[state.range(0)];
    const auto batch = static_cast<std::size_t>(state.range(1));
    const auto conv = built_conv(k);
    const auto x = random_tensor({batch, k.h, k.h, k.c}, 2);
    for (auto _ : state) benchmark::DoNotOptimize(conv->forward(x, true).data());
    state.counters["GFLOP/s"] = benchmark::Counter(conv_flops(k, batch) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void conv_backward(benchmark::State& state) {
    const auto& k = conv_cases[state.range(0)];
    const auto batch = static_cast<std::size_t>(state.range(1));
    const auto conv = built_conv(k);
    conv->set_input_gradient_needed(state.range(0) != 0);  // as in LeNet: the first layer needs no dX
    const auto x = random_tensor({batch, k.h, k.h, k.c}, 2);
    const auto g = random_tensor({batch, k.h, k.h, k.filters}, 3);
    conv->forward(x, true);
    for (auto _ : state) benchmark::DoNotOptimize(conv->backward(g).data());
    const double gemms = state.range(0) != 0 ? 2.0 : 1.0;  // dW, and dX unless first layer
    state.counters["GFLOP/s"] = benchmark::Counter(gemms * conv_flops(k, batch) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

// The textbook six nested loops, for scale.
void direct_conv_forward(benchmark::State& state) {
    const auto& k = conv_cases[state.range(0)];
    const auto batch = static_cast<std::size_t>(state.range(1));
    const auto x = random_tensor({batch, k.h, k.h, k.c}, 2);
    const auto w = random_tensor({5, 5, k.c, k.filters}, 4);
    loom::Tensor<float> y({batch, k.h, k.h, k.filters});
    for (auto _ : state) {
        for (std::size_t n = 0; n < batch; ++n)
            for (std::size_t oy = 0; oy < k.h; ++oy)
                for (std::size_t ox = 0; ox < k.h; ++ox)
                    for (std::size_t f = 0; f < k.filters; ++f) {
                        float sum = 0;
                        for (std::size_t ky = 0; ky < 5; ++ky)
                            for (std::size_t kx = 0; kx < 5; ++kx) {
                                const long iy = long(oy + ky) - 2, ix = long(ox + kx) - 2;
                                if (iy < 0 || ix < 0 || iy >= long(k.h) || ix >= long(k.h)) continue;
                                for (std::size_t c = 0; c < k.c; ++c)
                                    sum += x(n, std::size_t(iy), std::size_t(ix), c) * w(ky, kx, c, f);
                            }
                        y(n, oy, ox, f) = sum;
                    }
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(conv_flops(k, batch) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

#ifdef LOOM_HAVE_EIGEN
// The same convolutions in Eigen's Tensor module, NHWC float, row-major: the image patches of the input
// (extract_image_patches) contracted with the kernel, the way TensorFlow builds its CPU convolution
// (TensorFlow adds its own contraction mapper for the patches; this uses Eigen's API as shipped).
// Backward is built from the same two primitives: the weight gradient contracts the input's patches
// with the output gradient over all positions, and the input gradient is the convolution of the output
// gradient, padded, with the kernel flipped in space and its channel axes swapped.
namespace eigen_conv {

using Index = Eigen::Index;
template <int R>
using Map = Eigen::TensorMap<Eigen::Tensor<float, R, Eigen::RowMajor>>;
template <int R>
using ConstMap = Eigen::TensorMap<Eigen::Tensor<const float, R, Eigen::RowMajor>>;
using Dims2 = Eigen::array<Index, 2>;
// Contract dimension a of the left operand with dimension b of the right one.
Eigen::array<Eigen::IndexPair<Index>, 1> contract_dims(Index a, Index b) { return {Eigen::IndexPair<Index>(a, b)}; }

Index idx(std::size_t v) { return static_cast<Index>(v); }

// Eigen's own pool, as many threads as loom's kernels use, so that both sides run on the same cores.
struct Device {
    explicit Device(int threads) : pool(threads), device(&pool, threads) {}
    Eigen::ThreadPool pool;
    Eigen::ThreadPoolDevice device;
};

// A 5x5, stride-1, "same" convolution of NHWC images: LeNet's two.
struct Geometry {
    Index n, h, w, c, f;
    static constexpr Index k = 5, pad = 2;
    Index positions() const { return n * h * w; }
};

// The k x k windows of the NHWC images x, padded by `pad` on every side, as a (positions, k * k * channels)
// matrix whose columns run (ky, kx, channel): loom's im2col, and the row layout of a (k, k, c, f) kernel.
// Eigen's patch op reads the last three dimensions of a row-major tensor as (cols, rows, depth), so
// NHWC's height is its "cols" and the width its "rows"; with square windows and equal padding on every
// side, the arguments below are the same either way.
template <class Images>
auto patch_matrix(const Images& x, Index pad, Index positions) {
    const Index channels = x.dimension(3), k = Geometry::k;
    return x.extract_image_patches(k, k, 1, 1, 1, 1, 1, 1, pad, pad, pad, pad, 0.0f)
        .reshape(Dims2{positions, k * k * channels});
}

// y = patches(x) . w + b
void forward(const Device& d, const Geometry& g, const float* x, const float* w, const float* b, float* y) {
    const ConstMap<4> images(x, g.n, g.h, g.w, g.c);
    const ConstMap<2> kernel(w, Geometry::k * Geometry::k * g.c, g.f);
    const ConstMap<2> bias(b, 1, g.f);
    Map<2> out(y, g.positions(), g.f);
    out.device(d.device) = patch_matrix(images, Geometry::pad, g.positions()).contract(kernel, contract_dims(1, 0));
    out.device(d.device) += bias.broadcast(Dims2{g.positions(), 1});
}

// What loom's Conv2D::backward computes: db, dW, and dX when dx is not null. flipped holds the kernel
// rearranged for dX, (k, k, f, c).
void backward(const Device& d, const Geometry& g, const float* x, const float* w, const float* gy, float* db,
              float* dw, float* dx, Eigen::Tensor<float, 4, Eigen::RowMajor>& flipped) {
    const ConstMap<4> images(x, g.n, g.h, g.w, g.c);
    const ConstMap<2> grad(gy, g.positions(), g.f);
    const Index k = Geometry::k;
    Map<1>(db, g.f).device(d.device) = grad.sum(Eigen::array<Index, 1>{0});
    // dW = patches^T . g, computed as (g^T . patches)^T: with the patch expression as the right operand
    // Eigen 3.4's contraction took half the time (conv2 at batch 128, one thread: about 95 against
    // 190 ms), and transposing the small result back (k * k * c * f values) costs next to nothing. The
    // forward and dX products were fastest as written, and faster than extracting the patches into a
    // buffer first (125 MB for dX of conv2 at batch 128) and contracting that.
    Map<2>(dw, k * k * g.c, g.f).device(d.device) =
        grad.contract(patch_matrix(images, Geometry::pad, g.positions()), contract_dims(0, 0))
            .shuffle(Eigen::array<int, 2>{1, 0});
    if (dx == nullptr) return;
    const ConstMap<4> kernel(w, k, k, g.c, g.f);
    flipped.device(d.device) =
        kernel.reverse(Eigen::array<bool, 4>{true, true, false, false}).shuffle(Eigen::array<int, 4>{0, 1, 3, 2});
    const ConstMap<4> grad_images(gy, g.n, g.h, g.w, g.f);
    const ConstMap<2> flipped_matrix(flipped.data(), k * k * g.f, g.c);
    // A "same" window of size k pads by k - 1 - pad before the output: for k = 5, pad 2, the same 2.
    Map<2>(dx, g.positions(), g.c).device(d.device) =
        patch_matrix(grad_images, k - 1 - Geometry::pad, g.positions()).contract(flipped_matrix, contract_dims(1, 0));
}

Geometry geometry(const ConvCase& k, std::size_t batch) { return {idx(batch), idx(k.h), idx(k.h), idx(k.c), idx(k.filters)}; }

// Largest difference over the largest magnitude of the reference: element-wise relative errors mean
// little for sums that cancel to near zero.
double relative_difference(const float* a, const float* b, std::size_t count) {
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < count; ++i) {
        diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::abs(double(b[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

// Runs loom's Conv2D and the Eigen version of convolution k on the same data, forward and backward
// (with dX), and returns the largest relative difference over y, dW, db and dX.
double check_against_loom(const ConvCase& k, std::size_t batch, const Device& d) {
    const auto conv = built_conv(k);
    const auto bias = random_tensor({k.filters}, 5);  // built biases are zero: give the bias path some work
    std::copy(bias.begin(), bias.end(), conv->bias().begin());
    const auto x = random_tensor({batch, k.h, k.h, k.c}, 2);
    const auto gy = random_tensor({batch, k.h, k.h, k.filters}, 3);
    const loom::Tensor<float> y_loom(conv->forward(x, true));
    const loom::Tensor<float> dx_loom(conv->backward(gy));
    const auto params = conv->parameters();
    const loom::Tensor<float>* dw_loom = params[0].grad;
    const loom::Tensor<float>* db_loom = params[1].grad;

    const auto g = geometry(k, batch);
    loom::Tensor<float> y(y_loom.shape()), dw(dw_loom->shape()), db(db_loom->shape()), dx(dx_loom.shape());
    Eigen::Tensor<float, 4, Eigen::RowMajor> flipped(Geometry::k, Geometry::k, g.f, g.c);
    forward(d, g, x.data(), conv->weights().data(), conv->bias().data(), y.data());
    backward(d, g, x.data(), conv->weights().data(), gy.data(), db.data(), dw.data(), dx.data(), flipped);
    return std::max({relative_difference(y.data(), y_loom.data(), y.size()),
                     relative_difference(dw.data(), dw_loom->data(), dw.size()),
                     relative_difference(db.data(), db_loom->data(), db.size()),
                     relative_difference(dx.data(), dx_loom.data(), dx.size())});
}

}  // namespace eigen_conv

void eigen_conv_forward(benchmark::State& state) {
    const auto& k = conv_cases[state.range(0)];
    const auto batch = static_cast<std::size_t>(state.range(1));
    const auto conv = built_conv(k);
    const auto x = random_tensor({batch, k.h, k.h, k.c}, 2);
    loom::Tensor<float> y({batch, k.h, k.h, k.filters});
    const eigen_conv::Device d(loom::num_threads());
    const auto g = eigen_conv::geometry(k, batch);
    for (auto _ : state) {
        eigen_conv::forward(d, g, x.data(), conv->weights().data(), conv->bias().data(), y.data());
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(conv_flops(k, batch) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void eigen_conv_backward(benchmark::State& state) {
    const auto& k = conv_cases[state.range(0)];
    const auto batch = static_cast<std::size_t>(state.range(1));
    const bool need_dx = state.range(0) != 0;  // as conv_backward: the first layer needs no dX
    const auto conv = built_conv(k);
    const auto x = random_tensor({batch, k.h, k.h, k.c}, 2);
    const auto gy = random_tensor({batch, k.h, k.h, k.filters}, 3);
    loom::Tensor<float> dw({5, 5, k.c, k.filters}), db({k.filters}), dx({batch, k.h, k.h, k.c});
    const eigen_conv::Device d(loom::num_threads());
    const auto g = eigen_conv::geometry(k, batch);
    Eigen::Tensor<float, 4, Eigen::RowMajor> flipped(5, 5, g.f, g.c);
    for (auto _ : state) {
        eigen_conv::backward(d, g, x.data(), conv->weights().data(), gy.data(), db.data(), dw.data(),
                             need_dx ? dx.data() : nullptr, flipped);
        benchmark::DoNotOptimize(dw.data());
    }
    const double gemms = need_dx ? 2.0 : 1.0;
    state.counters["GFLOP/s"] = benchmark::Counter(gemms * conv_flops(k, batch) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
#endif

void maxpool(benchmark::State& state) {
    const auto& k = conv_cases[state.range(0)];
    const auto batch = static_cast<std::size_t>(state.range(1));
    loom::MaxPool2D<float> pool(2);
    loom::Rng rng(1);
    pool.build({k.h, k.h, k.filters}, rng);
    const auto x = random_tensor({batch, k.h, k.h, k.filters}, 2);
    const auto g = random_tensor({batch, k.h / 2, k.h / 2, k.filters}, 3);
    for (auto _ : state) {
        pool.forward(x, true);
        benchmark::DoNotOptimize(pool.backward(g).data());
    }
    state.counters["images/s"] = benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
}

void dense(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    loom::Dense<float> layer(500);
    loom::Rng rng(1);
    layer.build({3136}, rng);
    const auto x = random_tensor({batch, 3136}, 2);
    const auto g = random_tensor({batch, 500}, 3);
    for (auto _ : state) {
        layer.forward(x, true);
        benchmark::DoNotOptimize(layer.backward(g).data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(3 * 2.0 * double(batch) * 3136 * 500 * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void lenet_train_step(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto net = loom::lenet<float>();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-3));
    const auto x = random_tensor({batch, 28, 28, 1}, 2);
    loom::Tensor<float> y({batch, 10});
    for (std::size_t i = 0; i < batch; ++i) y(i, i % 10) = 1.0f;
    for (auto _ : state) {
        net.train_on_batch(x, y);
    }
    state.counters["images/s"] = benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
    // 60,000 images at this rate: the time of one training epoch.
    state.counters["epoch_s"] = benchmark::Counter(double(state.iterations()) * double(batch) / 60000.0,
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void lenet_inference_10k(benchmark::State& state) {
    auto net = loom::lenet<float>();
    const auto x = random_tensor({10000, 28, 28, 1}, 2);
    for (auto _ : state) benchmark::DoNotOptimize(net.predict(x, 500).data());
    state.counters["images/s"] = benchmark::Counter(10000.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}

// Each loom convolution row is registered next to its Eigen peer, conv_forward/conv:0/batch:64 then
// eigen_conv_forward/conv:0/batch:64, so that the two sit side by side in the output.
bool register_conv_benchmarks() {
    struct Kind {
        std::string name;
        void (*loom)(benchmark::State&);
        void (*eigen)(benchmark::State&);
    };
#ifdef LOOM_HAVE_EIGEN
    const Kind kinds[] = {{"conv_forward", conv_forward, eigen_conv_forward},
                          {"conv_backward", conv_backward, eigen_conv_backward}};
#else
    const Kind kinds[] = {{"conv_forward", conv_forward, nullptr}, {"conv_backward", conv_backward, nullptr}};
#endif
    for (const auto& kind : kinds)
        for (std::int64_t conv : {0, 1})
            for (std::int64_t batch : {64, 128}) {
                const auto add = [&](const std::string& name, void (*fn)(benchmark::State&)) {
                    benchmark::RegisterBenchmark(name.c_str(), fn)->Args({conv, batch})->ArgNames({"conv", "batch"})
                        ->Unit(benchmark::kMillisecond)->UseRealTime();
                };
                add(kind.name, kind.loom);
                if (kind.eigen != nullptr) add("eigen_" + kind.name, kind.eigen);
            }
    return true;
}

// Static registration, like BENCHMARK's, and before the BENCHMARK lines below: the order of the output.
[[maybe_unused]] const bool conv_benchmarks_registered = register_conv_benchmarks();

}  // namespace

BENCHMARK(direct_conv_forward)->ArgsProduct({{0, 1}, {64}})->ArgNames({"conv", "batch"})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(maxpool)->ArgsProduct({{0, 1}, {64, 128}})->ArgNames({"pool", "batch"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(dense)->Arg(64)->Arg(128)->ArgNames({"batch"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(lenet_train_step)->Arg(64)->Arg(128)->ArgNames({"batch"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(lenet_inference_10k)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("loom_threads", std::to_string(loom::num_threads()));
#ifdef LOOM_HAVE_EIGEN
    // The Eigen rows are only worth comparing if they compute what loom's do: check both convolutions,
    // forward and backward, once (the batch only repeats the same code), and refuse to run otherwise.
    {
        const eigen_conv::Device d(loom::num_threads());
        double worst = 0;
        for (const auto& k : conv_cases) worst = std::max(worst, eigen_conv::check_against_loom(k, 8, d));
        // float sums of up to 6,272 terms (dW over 8 images of 28x28) in different orders: about 1e-6
        // relative; 1e-4 leaves a wide margin and still catches a wrong index.
        if (!(worst < 1e-4)) {
            std::fprintf(stderr, "Eigen convolutions differ from loom's Conv2D: max relative difference %g\n", worst);
            return 1;
        }
        char text[64];
        std::snprintf(text, sizeof text, "ok, max relative difference %.1e", worst);
        benchmark::AddCustomContext("eigen_vs_loom_check", text);
        benchmark::AddCustomContext("eigen_threads", std::to_string(d.device.numThreads()));
    }
#endif
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
