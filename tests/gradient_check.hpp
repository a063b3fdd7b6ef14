#pragma once
// Finite-difference gradient checking in double. The scalar being differentiated is
// L = sum(r * layer(x)) for a fixed random r, so backward(r) must return dL/dx and leave dL/dparams.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "loom/loom.hpp"

namespace loom_test {

using loom::Tensor;

inline void fill_random(Tensor<double>& t, loom::Rng& rng, double lo = -1, double hi = 1) {
    for (auto& v : t) v = rng.uniform(lo, hi);
}

// Central difference of f with respect to element i of t, restored afterwards.
inline double numeric_derivative(Tensor<double>& t, std::size_t i, const std::function<double()>& f, double h = 1e-6) {
    const double saved = t[i];
    t[i] = saved + h;
    const double up = f();
    t[i] = saved - h;
    const double down = f();
    t[i] = saved;
    return (up - down) / (2 * h);
}

inline void check_close(double analytic, double numeric, const char* what, std::size_t index) {
    const double scale = std::max({1.0, std::abs(analytic), std::abs(numeric)});
    INFO(what, " element ", index, ": analytic ", analytic, " numeric ", numeric);
    CHECK(std::abs(analytic - numeric) / scale < 1e-6);
}

// Checks dL/dx and dL/dparams of `layer`, built for per-sample shape `input`, on a batch of `batch`.
// `before_forward` runs before every forward (Dropout uses it to replay the same mask).
inline void check_layer_gradients(loom::Layer<double>& layer, const loom::Shape& input, std::size_t batch,
                                  std::uint64_t seed = 7, const std::function<void()>& before_forward = [] {}) {
    loom::Rng rng(seed);
    layer.build(input, rng);
    Tensor<double> x(input.with_batch(batch));
    fill_random(x, rng);
    Tensor<double> r(layer.output_shape().with_batch(batch));
    fill_random(r, rng);

    auto objective = [&] {
        before_forward();
        const auto y = layer.forward(x, true);
        double sum = 0;
        for (std::size_t i = 0; i < y.size(); ++i) sum += r[i] * y[i];
        return sum;
    };
    objective();
    const Tensor<double> dx(layer.backward(r));
    std::vector<Tensor<double>> param_grads;
    for (const auto& p : layer.parameters()) param_grads.emplace_back(*p.grad);

    REQUIRE(dx.shape() == x.shape());
    for (std::size_t i = 0; i < x.size(); ++i) check_close(dx[i], numeric_derivative(x, i, objective), "input", i);
    auto params = layer.parameters();
    for (std::size_t k = 0; k < params.size(); ++k)
        for (std::size_t i = 0; i < params[k].value->size(); ++i)
            check_close(param_grads[k][i], numeric_derivative(*params[k].value, i, objective), params[k].name.c_str(), i);
}

}  // namespace loom_test
