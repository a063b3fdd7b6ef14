// Initializers: every scheme's range and spread for given fans, and the save/load round trip that
// model files rely on.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "loom/layers/initializer.hpp"

using loom::Initializer;

namespace {

struct Stats {
    double min, max, rms;
};

Stats fill_and_measure(const Initializer& init, std::size_t fan_in, std::size_t fan_out) {
    loom::Rng rng(7);
    loom::Tensor<double> w({20000});
    init.fill(w, fan_in, fan_out, rng);
    Stats s{w[0], w[0], 0};
    for (double v : w) {
        s.min = std::min(s.min, v);
        s.max = std::max(s.max, v);
        s.rms += v * v;
    }
    s.rms = std::sqrt(s.rms / static_cast<double>(w.size()));
    return s;
}

// A uniform(-r, r) sample of 20,000 values reaches close to both ends, and its RMS is r / sqrt(3).
void check_uniform(const Stats& s, double r) {
    CHECK(s.min >= -r);
    CHECK(s.max <= r);
    CHECK(s.min < -0.99 * r);
    CHECK(s.max > 0.99 * r);
    CHECK(s.rms == doctest::Approx(r / std::sqrt(3.0)).epsilon(0.02));
}

}  // namespace

TEST_CASE("initializers: ranges follow the fans") {
    check_uniform(fill_and_measure(Initializer::glorot_uniform(), 25, 500), std::sqrt(6.0 / 525));
    check_uniform(fill_and_measure(Initializer::he_uniform(), 3136, 500), std::sqrt(6.0 / 3136));
    check_uniform(fill_and_measure(Initializer::uniform(0.7), 784, 50), 0.7);
    // PyTorch's default for Linear and Conv2d: 1 / sqrt(fan_in), whatever the fan-out.
    check_uniform(fill_and_measure(Initializer::fan_in_uniform(), 500, 50), 1 / std::sqrt(500.0));
    check_uniform(fill_and_measure(Initializer::fan_in_uniform(), 500, 7), 1 / std::sqrt(500.0));
    CHECK(fill_and_measure(Initializer::he_normal(), 200, 10).rms == doctest::Approx(std::sqrt(2.0 / 200)).epsilon(0.03));
    const Stats zeros = fill_and_measure(Initializer::zeros(), 10, 10);
    CHECK(zeros.min == 0);
    CHECK(zeros.max == 0);
}

TEST_CASE("initializers: save and load round trip; bad settings throw") {
    for (const Initializer& init : {Initializer::zeros(), Initializer::glorot_uniform(), Initializer::he_normal(),
                                    Initializer::he_uniform(), Initializer::uniform(0.25), Initializer::fan_in_uniform()}) {
        loom::LayerConfig config;
        init.save(config, "kernel");
        const Initializer back = Initializer::load(config, "kernel");
        CHECK(back.kind == init.kind);
        CHECK(back.range == init.range);
    }
    loom::LayerConfig bad;
    Initializer::uniform(0.5).save(bad, "bias");
    bad.set("bias_init", std::int64_t{99});
    CHECK_THROWS_AS(Initializer::load(bad, "bias"), loom::ConfigError);
    CHECK_THROWS_AS(Initializer::uniform(0), loom::ArgumentError);
}
