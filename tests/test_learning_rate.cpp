// Learning-rate schedules: their values, their validation, and that Adam and SGD follow them update
// by update (checkpoint resumption with a schedule is in test_checkpoint.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "expect_error.hpp"
#include "loom/loom.hpp"

namespace {

// One scalar parameter whose gradient is always 1, so that plain SGD moves it by exactly -lr per update.
struct Scalar {
    loom::Tensor<double> value{loom::Shape{1}, {0.0}};
    loom::Tensor<double> grad{loom::Shape{1}, {1.0}};
    std::vector<loom::Parameter<double>> params{{"w", &value, &grad}};
};

}  // namespace

using loom_test::expect_error;

TEST_CASE("CosineDecay follows Keras' formula and stays at its floor after decay_steps") {
    const loom::CosineDecay cosine(0.1, 100, 0.2);
    CHECK(cosine(0) == doctest::Approx(0.1));
    CHECK(cosine(50) == doctest::Approx(0.1 * (0.8 * 0.5 + 0.2)));
    const double at_37 = 0.1 * (0.8 * 0.5 * (1 + std::cos(std::numbers::pi * 0.37)) + 0.2);
    CHECK(cosine(37) == doctest::Approx(at_37).epsilon(1e-14));
    CHECK(cosine(100) == doctest::Approx(0.02));
    CHECK(cosine(1'000'003) == doctest::Approx(0.02));
    CHECK(loom::CosineDecay(1e-3, 1)(1) == 0.0);
    for (std::uint64_t s = 1; s <= 100; ++s) CHECK(cosine(s) <= cosine(s - 1));
}

TEST_CASE("ExponentialDecay, smooth and in steps") {
    const loom::ExponentialDecay smooth(0.5, 10, 0.1);
    CHECK(smooth(0) == 0.5);
    CHECK(smooth(5) == doctest::Approx(0.5 * std::sqrt(0.1)));
    CHECK(smooth(20) == doctest::Approx(0.005));
    const loom::ExponentialDecay stairs(0.5, 10, 0.1, true);
    CHECK(stairs(9) == 0.5);
    CHECK(stairs(10) == doctest::Approx(0.05));
    CHECK(stairs(29) == doctest::Approx(0.005));
}

TEST_CASE("learning rates and schedules reject bad values with a message") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    expect_error<loom::ArgumentError>([] { (void)loom::Adam(0.0); }, {"learning rate > 0", "got 0"});
    CHECK_THROWS_AS(loom::SGD(-0.1), loom::ArgumentError);
    CHECK_THROWS_AS(loom::SGD{nan}, loom::ArgumentError);
    expect_error<loom::ArgumentError>([] { (void)loom::CosineDecay(1e-3, 0); },
                                      {"CosineDecay", "decay_steps >= 1", "got 0"});
    CHECK_THROWS_AS(loom::CosineDecay(1e-3, 10, 1.5), loom::ArgumentError);
    CHECK_THROWS_AS(loom::CosineDecay(0, 10), loom::ArgumentError);
    CHECK_THROWS_AS(loom::ExponentialDecay(1e-3, 10, 0), loom::ArgumentError);
    CHECK_THROWS_AS(loom::ExponentialDecay(1e-3, 10, 1.5), loom::ArgumentError);

    // A schedule that goes wrong is caught at the update that would use it, before any weight moves.
    Scalar s;
    loom::SGD sgd([](std::uint64_t step) { return step < 2 ? 0.5 : -1.0; });
    sgd.step(s.params);
    sgd.step(s.params);
    expect_error<loom::ArgumentError>([&] { sgd.step(s.params); },
                                      {"learning-rate schedule", "rate >= 0", "step 2", "got -1"});
    CHECK(s.value[0] == -1.0);
}

TEST_CASE("SGD takes each update's rate from the schedule") {
    Scalar s;
    const loom::CosineDecay cosine(0.3, 4);
    loom::SGD sgd(cosine);
    double expected = 0;
    for (std::uint64_t step = 0; step < 6; ++step) {
        CHECK(sgd.learning_rate() == cosine(step));
        sgd.step(s.params);
        expected -= cosine(step);
        CHECK(s.value[0] == doctest::Approx(expected).epsilon(1e-15));
    }
    CHECK(sgd.steps() == 6);
    sgd.reset();
    CHECK(sgd.learning_rate() == 0.3);
}

TEST_CASE("Adam with a schedule equals Adam whose constant rate is changed before each update") {
    const loom::ExponentialDecay decay(0.01, 3, 0.5);
    Scalar scheduled, stepped;
    loom::Adam a(decay), b(decay(0));
    for (std::uint64_t step = 0; step < 7; ++step) {
        scheduled.grad[0] = stepped.grad[0] = std::sin(double(step) + 1.0);
        b.set_learning_rate(decay(step));
        a.step(scheduled.params);
        b.step(stepped.params);
        CHECK(scheduled.value[0] == stepped.value[0]);
    }
    CHECK(scheduled.value[0] != 0.0);
}

TEST_CASE("SGD state written without its update count (older checkpoints) loads with count 0") {
    Scalar s;
    loom::SGD sgd(0.1, 0.9);
    sgd.step(s.params);
    sgd.step(s.params);
    loom::ByteWriter out;
    sgd.save_state(out);
    std::vector<unsigned char> bytes = out.bytes();

    loom::SGD restored(0.1, 0.9);
    loom::ByteReader full(bytes.data(), bytes.size(), "state");
    restored.load_state(full);
    CHECK(restored.steps() == 2);

    bytes.resize(bytes.size() - sizeof(std::uint64_t));
    loom::ByteReader older(bytes.data(), bytes.size(), "state");
    restored.load_state(older);
    CHECK(restored.steps() == 0);
}
