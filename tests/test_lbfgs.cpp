// L-BFGS reaches known minima, its accepted steps satisfy the strong Wolfe conditions, and it stops
// for the documented reasons.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "loom/core/random.hpp"
#include "loom/optim/lbfgs.hpp"

namespace {

double rosenbrock(std::span<const double> x, std::span<double> g) {
    const double a = 1 - x[0], b = x[1] - x[0] * x[0];
    g[0] = -2 * a - 400 * x[0] * b;
    g[1] = 200 * b;
    return a * a + 100 * b * b;
}

// Binary logistic regression on a fixed random data set with a small ridge penalty, so the optimum
// is unique: the summed negative log-likelihood plus lambda * |w|^2.
struct Logistic {
    std::size_t n = 400, features = 5;
    double lambda = 0.1;
    std::vector<double> x, y;

    Logistic() {
        loom::Rng rng(11);
        const double truth[5] = {1.5, -2.0, 0.5, 0.0, 1.0};
        for (std::size_t i = 0; i < n; ++i) {
            double z = 0.3;
            for (std::size_t j = 0; j < features; ++j) {
                x.push_back(rng.normal());
                z += truth[j] * x.back();
            }
            y.push_back(rng.uniform() < 1 / (1 + std::exp(-z)) ? 1.0 : 0.0);
        }
    }

    // w[0] is the intercept.
    double operator()(std::span<const double> w, std::span<double> g) const {
        double f = 0;
        for (auto& v : g) v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            double z = w[0];
            for (std::size_t j = 0; j < features; ++j) z += w[j + 1] * x[i * features + j];
            const double p = 1 / (1 + std::exp(-z));
            f += std::log1p(std::exp(-std::abs(z))) + std::max(z, 0.0) - y[i] * z;
            g[0] += p - y[i];
            for (std::size_t j = 0; j < features; ++j) g[j + 1] += (p - y[i]) * x[i * features + j];
        }
        for (std::size_t j = 0; j < w.size(); ++j) {
            f += lambda * w[j] * w[j];
            g[j] += 2 * lambda * w[j];
        }
        return f;
    }
};

loom::LbfgsOptions tight() {
    loom::LbfgsOptions o;
    o.max_iterations = 500;
    o.abstol = -std::numeric_limits<double>::infinity();
    o.reltol = 0;
    o.gradient_tolerance = 1e-10;
    return o;
}

}  // namespace

TEST_CASE("L-BFGS finds the Rosenbrock minimum from (-1.2, 1)") {
    std::vector<double> x{-1.2, 1.0};
    const auto r = loom::LBFGS(tight()).minimize(rosenbrock, x);
    INFO("stop: ", loom::to_string(r.stop), ", iterations ", r.iterations);
    CHECK(r.converged());
    CHECK(std::abs(x[0] - 1) < 1e-6);
    CHECK(std::abs(x[1] - 1) < 1e-6);
    CHECK(r.f < 1e-12);
    CHECK(r.iterations < 100);
    CHECK(r.trace.size() == r.iterations + 1);
    CHECK(r.evaluations >= r.iterations + 1);
}

TEST_CASE("L-BFGS solves a ridge logistic regression: the gradient vanishes and gradient descent agrees") {
    const Logistic problem;
    std::vector<double> w(6, 0.0);
    auto o = tight();
    o.gradient_tolerance = 1e-7;  // f is about 200: its rounding error hides a smaller gradient
    const auto r = loom::LBFGS(o).minimize(std::cref(problem), w);
    INFO("stop: ", loom::to_string(r.stop), ", iterations ", r.iterations);
    CHECK(r.stop == loom::LbfgsStop::Gradient);
    std::vector<double> g(6);
    const double f = problem(w, g);
    CHECK(f == doctest::Approx(r.f).epsilon(1e-12));
    for (double v : g) CHECK(std::abs(v) <= 1e-7);

    // Plain gradient descent with a safe fixed step (the Hessian's largest eigenvalue is below
    // n * max|x|^2 / 4, far below 1 / 0.002) creeps to the same point.
    std::vector<double> v(6, 0.0), gv(6);
    for (int it = 0; it < 20000; ++it) {
        problem(v, gv);
        for (std::size_t j = 0; j < 6; ++j) v[j] -= 0.002 * gv[j];
    }
    for (std::size_t j = 0; j < 6; ++j) CHECK(v[j] == doctest::Approx(w[j]).epsilon(1e-6));
}

TEST_CASE("every accepted L-BFGS step satisfies the strong Wolfe conditions") {
    // Record each evaluation; the accepted point of an iteration is the last one evaluated with the
    // value the callback reports, its predecessor the previous accepted point.
    struct Eval {
        std::vector<double> x, g;
        double f;
    };
    std::vector<Eval> evals;
    auto f = [&](std::span<const double> x, std::span<double> g) {
        const double v = rosenbrock(x, g);
        evals.push_back({{x.begin(), x.end()}, {g.begin(), g.end()}, v});
        return v;
    };
    std::vector<Eval> accepted;
    std::vector<double> x{-1.2, 1.0};
    const loom::LbfgsOptions o = tight();
    std::size_t wolfe_checks = 0;
    loom::LBFGS(o).minimize(f, x, [&](std::size_t, double value) {
        if (accepted.empty()) accepted.push_back(evals.front());
        for (auto it = evals.rbegin(); it != evals.rend(); ++it)
            if (it->f == value) {
                accepted.push_back(*it);
                break;
            }
        const Eval& a = accepted[accepted.size() - 2];
        const Eval& b = accepted.back();
        // With s = x_new - x_old = step * d: f_new <= f_old + c1 g_old's and |g_new's| <= c2 |g_old's|.
        double gs0 = 0, gs1 = 0;
        for (std::size_t i = 0; i < 2; ++i) {
            const double s = b.x[i] - a.x[i];
            gs0 += a.g[i] * s;
            gs1 += b.g[i] * s;
        }
        if (b.f < 1e-20) return;  // rounding level: the conditions are no longer meaningful
        ++wolfe_checks;
        CHECK(gs0 < 0);
        CHECK(b.f <= a.f + o.c1 * gs0);
        CHECK(std::abs(gs1) <= o.c2 * std::abs(gs0) + 1e-14);
    });
    CHECK(wolfe_checks > 10);
}

TEST_CASE("L-BFGS stops after max_iterations and on relative and absolute tolerance") {
    loom::LbfgsOptions o = tight();
    o.max_iterations = 5;
    std::vector<double> x{-1.2, 1.0};
    std::size_t calls = 0;
    auto r = loom::LBFGS(o).minimize(rosenbrock, x, [&](std::size_t, double) { ++calls; });
    CHECK(r.stop == loom::LbfgsStop::MaxIterations);
    CHECK(r.iterations == 5);
    CHECK(calls == 5);
    CHECK(!r.converged());

    o = loom::LbfgsOptions{};
    o.max_iterations = 1000;
    o.abstol = 1e-3;
    x = {-1.2, 1.0};
    r = loom::LBFGS(o).minimize(rosenbrock, x);
    CHECK(r.stop == loom::LbfgsStop::AbsoluteTolerance);
    CHECK(r.f < 1e-3);

    o.abstol = -std::numeric_limits<double>::infinity();
    o.reltol = 1e-3;
    x = {-1.2, 1.0};
    r = loom::LBFGS(o).minimize(rosenbrock, x);
    CHECK(r.stop == loom::LbfgsStop::RelativeTolerance);
    const double before = r.trace[r.trace.size() - 2], after = r.trace.back();
    CHECK(std::abs(before - after) <= 1e-3 * (std::abs(after) + 1e-3));
}

TEST_CASE("L-BFGS backs off from non-finite trial points and rejects a non-finite start") {
    // f = x^2 - log(1 - x) is +inf (NaN from log) for x >= 1; a long first step lands there.
    auto barrier = [](std::span<const double> x, std::span<double> g) {
        g[0] = 2 * x[0] + 1 / (1 - x[0]);
        return x[0] * x[0] - std::log(1 - x[0]);
    };
    std::vector<double> x{-30.0};
    const auto r = loom::LBFGS(tight()).minimize(barrier, x);
    CHECK(r.converged());
    const double minimum = (1 - std::sqrt(3.0)) / 2;  // root of 2x(1 - x) + 1 = 0 below 1
    CHECK(x[0] == doctest::Approx(minimum).epsilon(1e-8));

    std::vector<double> y{2.0};
    CHECK_THROWS_AS(loom::LBFGS().minimize(barrier, y), loom::NumericError);
    std::vector<double> z{std::nan("")};
    CHECK_THROWS_AS(loom::LBFGS().minimize(rosenbrock, z), loom::NumericError);
    std::vector<double> empty;
    CHECK_THROWS_AS(loom::LBFGS().minimize(rosenbrock, empty), loom::ArgumentError);
    loom::LbfgsOptions bad;
    bad.c2 = 1e-5;
    CHECK_THROWS_AS(loom::LBFGS{bad}, loom::ArgumentError);
}
