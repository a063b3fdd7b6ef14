// LeNet's layers and whole training steps: Conv2D forward/backward (im2col + loom::gemm) against a
// direct convolution, MaxPool2D, Dense, one full training step (Adam) and the inference of the
// 10,000 test images. Counters: GFLOP/s for the convolutions, images/s, and for the training step the
// time one epoch of 60,000 images would take.
//   ./build/bench/bench_layers                      (all; threads from OMP_NUM_THREADS)
//   ./build/bench/bench_layers --benchmark_filter=train_step
#include <benchmark/benchmark.h>

#include <memory>

#include "loom/loom.hpp"

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

}  // namespace

BENCHMARK(conv_forward)->ArgsProduct({{0, 1}, {64, 128}})->ArgNames({"conv", "batch"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(conv_backward)->ArgsProduct({{0, 1}, {64, 128}})->ArgNames({"conv", "batch"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(direct_conv_forward)->ArgsProduct({{0, 1}, {64}})->ArgNames({"conv", "batch"})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(maxpool)->ArgsProduct({{0, 1}, {64, 128}})->ArgNames({"pool", "batch"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(dense)->Arg(64)->Arg(128)->ArgNames({"batch"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(lenet_train_step)->Arg(64)->Arg(128)->ArgNames({"batch"})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(lenet_inference_10k)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
