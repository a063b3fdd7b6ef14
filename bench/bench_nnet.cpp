// One evaluation of the nnet experiment's criterion and its gradient: the 784-50-10 MLP (sigmoid hidden
// units, softmax outputs) on 60,000 inputs, summed cross-entropy + decay * sum of squares. This is what
// every L-BFGS iteration of `examples/nnet` pays (about 316 of them per fit).
//   loom:  FullBatchObjective (chunks of 384 samples, as fit_full_batch uses, side by side on model copies)
//   Eigen: the same network written with Eigen expressions on the whole batch (its GEMMs, OpenMP)
// Counter: GFLOP/s over the two large products (forward x.W1 and gradient x^T.G1, 9.4 GFLOP), so the
// ratios are those of the whole evaluation.
//   ./build/bench/bench_nnet
#include <benchmark/benchmark.h>

#include <cmath>

#include "loom/loom.hpp"

#ifdef LOOM_HAVE_EIGEN
#include <Eigen/Dense>
#endif

namespace {

constexpr std::size_t samples = 60000, inputs = 784, hidden = 50, classes = 10;
constexpr double decay = 0.5;
constexpr double big_product_flops = 2 * 2.0 * double(samples) * double(inputs) * double(hidden);

struct Problem {
    loom::Tensor<float> x{loom::Shape{samples, 28, 28, 1}};
    loom::Tensor<float> y{loom::Shape{samples, classes}};
    loom::Sequential<float> net{loom::Shape{28, 28, 1}, 1};

    Problem() {
        // Half of the pixels zero, as in Fashion-MNIST (the dense kernels do not care, but it is honest).
        loom::Rng rng(2);
        for (auto& v : x) v = rng.uniform(0, 1) < 0.5 ? 0.0f : static_cast<float>(rng.uniform(0, 1));
        for (std::size_t i = 0; i < samples; ++i) y(i, i % classes) = 1.0f;
        const auto rang = loom::Initializer::uniform(0.7);
        net.add<loom::Flatten>().add<loom::Dense>(hidden, rang, rang).add<loom::Sigmoid>();
        net.add<loom::Dense>(classes, rang, rang).add<loom::Softmax>();
        net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    }
};

Problem& problem() {
    static Problem p;
    return p;
}

void set_counters(benchmark::State& state) {
    state.counters["GFLOP/s"] =
        benchmark::Counter(big_product_flops * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void loom_objective(benchmark::State& state) {
    loom::set_num_threads(static_cast<int>(state.range(0)));
    auto& p = problem();
    loom::FullBatchObjective<float> objective(p.net);
    std::vector<double> gradient(p.net.param_count());
    for (auto _ : state) benchmark::DoNotOptimize(objective(p.x.view(), p.y.view(), decay, gradient));
    set_counters(state);
}

#ifdef LOOM_HAVE_EIGEN
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic>;

// The same criterion and gradient, whole batch at once, in Eigen.
struct EigenMlp {
    Matrix w1, w2, dw1, dw2, h, p, g1;
    RowVector b1, b2, db1, db2;

    explicit EigenMlp(loom::Sequential<float>& net) {
        auto& d1 = static_cast<loom::Dense<float>&>(net.layer(1));
        auto& d2 = static_cast<loom::Dense<float>&>(net.layer(3));
        w1 = Eigen::Map<const Matrix>(d1.weights().data(), inputs, hidden);
        b1 = Eigen::Map<const RowVector>(d1.bias().data(), hidden);
        w2 = Eigen::Map<const Matrix>(d2.weights().data(), hidden, classes);
        b2 = Eigen::Map<const RowVector>(d2.bias().data(), classes);
    }

    double objective(const Eigen::Map<const Matrix>& x, const Eigen::Map<const Matrix>& y) {
        h.noalias() = x * w1;
        h.rowwise() += b1;
        h = (1.0f + (-h.array()).exp()).inverse().matrix();
        p.noalias() = h * w2;
        p.rowwise() += b2;
        p.colwise() -= p.rowwise().maxCoeff();
        p = p.array().exp().matrix();
        p.array().colwise() /= p.rowwise().sum().array();
        const double loss = -(y.array() * p.array().log()).cast<double>().sum();
        p -= y;  // the gradient at the softmax input
        dw2.noalias() = h.transpose() * p;
        db2 = p.colwise().sum();
        g1.noalias() = p * w2.transpose();
        g1.array() *= h.array() * (1.0f - h.array());
        dw1.noalias() = x.transpose() * g1;
        db1 = g1.colwise().sum();
        double penalty = 0;
        for (auto* w : {&w1, &w2}) penalty += w->cast<double>().squaredNorm();
        for (auto* b : {&b1, &b2}) penalty += b->cast<double>().squaredNorm();
        dw1 += float(2 * decay) * w1;
        dw2 += float(2 * decay) * w2;
        db1 += float(2 * decay) * b1;
        db2 += float(2 * decay) * b2;
        return loss + decay * penalty;
    }
};

void eigen_objective(benchmark::State& state) {
    Eigen::setNbThreads(static_cast<int>(state.range(0)));
    auto& p = problem();
    const Eigen::Map<const Matrix> x(p.x.data(), samples, inputs), y(p.y.data(), samples, classes);
    EigenMlp mlp(p.net);
    // Both must compute the same criterion, or the comparison means nothing.
    std::vector<double> gradient(p.net.param_count());
    const double expected = loom::FullBatchObjective<float>(p.net)(p.x.view(), p.y.view(), decay, gradient);
    const double got = mlp.objective(x, y);
    if (std::abs(got - expected) > 1e-4 * std::abs(expected)) {
        state.SkipWithError("the Eigen criterion differs from loom's");
        return;
    }
    for (auto _ : state) benchmark::DoNotOptimize(mlp.objective(x, y));
    set_counters(state);
}
#endif

}  // namespace

BENCHMARK(loom_objective)->Arg(1)->Arg(2)->ArgNames({"threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
#ifdef LOOM_HAVE_EIGEN
BENCHMARK(eigen_objective)->Arg(1)->Arg(2)->ArgNames({"threads"})->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

BENCHMARK_MAIN();
