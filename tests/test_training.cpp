// Training converges on small synthetic problems, and is reproducible for a seed and thread count.
#include <doctest/doctest.h>

#include "fit_helpers.hpp"
#include "loom/loom.hpp"

namespace {

using loom_test::quiet;

// Three Gaussian blobs in 2-D.
void blobs(loom::Tensor<float>& x, std::vector<int>& y, std::size_t n, std::uint64_t seed) {
    loom::Rng rng(seed);
    x = loom::Tensor<float>({n, 2});
    y.assign(n, 0);
    const float centres[3][2] = {{-2, -2}, {2, -1}, {0, 2}};
    for (std::size_t i = 0; i < n; ++i) {
        const int c = static_cast<int>(i % 3);
        y[i] = c;
        x(i, 0) = centres[c][0] + 0.5f * static_cast<float>(rng.normal());
        x(i, 1) = centres[c][1] + 0.5f * static_cast<float>(rng.normal());
    }
}

// Images of 8x8 with a bright horizontal or vertical bar at a random position: class 0 or 1.
void bars(loom::Tensor<float>& x, std::vector<int>& y, std::size_t n, std::uint64_t seed) {
    loom::Rng rng(seed);
    x = loom::Tensor<float>({n, 8, 8, 1});
    y.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const auto at = static_cast<std::size_t>(rng.below(8));
        y[i] = static_cast<int>(i % 2);
        for (std::size_t k = 0; k < 8; ++k) {
            if (y[i] == 0) x(i, at, k, 0) = 1.0f; else x(i, k, at, 0) = 1.0f;
        }
        for (auto& v : std::span(x.data() + i * 64, 64)) v += 0.1f * static_cast<float>(rng.uniform());
    }
}

}  // namespace

TEST_CASE("an MLP learns XOR") {
    loom::Tensor<float> x({4, 2}, {0, 0, 0, 1, 1, 0, 1, 1});
    std::vector<int> y{0, 1, 1, 0};
    loom::Sequential<float> net({2}, 3);
    net.add<loom::Dense>(8).add<loom::Tanh>().add<loom::Dense>(2).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(0.05));
    net.fit(x, y, quiet(300, 4));
    CHECK(net.evaluate(x, y).accuracy == 1.0);
    CHECK(net.predict_classes(x) == y);
}

TEST_CASE("SGD with momentum separates blobs; loss falls every few epochs") {
    loom::Tensor<float> x;
    std::vector<int> y;
    blobs(x, y, 300, 8);
    loom::Sequential<float> net({2}, 5);
    net.add<loom::Dense>(16).add<loom::ReLU>().add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.05, 0.9));
    auto options = quiet(20, 16);
    options.validation_split = 0.2;
    const auto h = net.fit(x, y, options);
    CHECK(h.loss.back() < h.loss.front() * 0.5);
    CHECK(h.val_accuracy.back() > 0.95);
}

TEST_CASE("a tiny CNN tells horizontal from vertical bars") {
    loom::Tensor<float> x;
    std::vector<int> y;
    bars(x, y, 256, 4);
    loom::Sequential<float> net({8, 8, 1}, 9);
    net.add<loom::Conv2D>(4, 3, loom::Padding::Same).add<loom::ReLU>().add<loom::MaxPool2D>(2)
        .add<loom::Flatten>().add<loom::Dropout>(0.1).add<loom::Dense>(2).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(0.01));
    net.fit(x, y, quiet(15, 32));
    loom::Tensor<float> test_x;
    std::vector<int> test_y;
    bars(test_x, test_y, 100, 99);
    CHECK(net.evaluate(test_x, test_y).accuracy > 0.95);
}

TEST_CASE("MSE regression fits a line") {
    loom::Tensor<double> x({50, 1}), y({50, 1});
    for (std::size_t i = 0; i < 50; ++i) {
        x[i] = double(i) / 50;
        y[i] = 3 * x[i] - 1;
    }
    loom::Sequential<double> net({1});
    net.add<loom::Dense>(1);
    net.compile(loom::MSE{}, loom::SGD(0.1, 0.9, true));
    net.fit(x, y, quiet(200, 10));
    CHECK(net.evaluate(x, y).loss < 1e-4);
}

TEST_CASE("same seed and thread count give identical weights") {
    loom::Tensor<float> x;
    std::vector<int> y;
    bars(x, y, 96, 2);
    auto train = [&] {
        loom::Sequential<float> net({8, 8, 1}, 21);
        net.add<loom::Conv2D>(3, 3).add<loom::Tanh>().add<loom::Flatten>().add<loom::Dropout>(0.2)
            .add<loom::Dense>(2).add<loom::Softmax>();
        net.compile(loom::CrossEntropy{}, loom::Adam(0.01));
        net.fit(x, y, quiet(2, 16, 77));
        std::vector<float> weights;
        for (const auto& p : net.parameters()) weights.insert(weights.end(), p.value->begin(), p.value->end());
        return weights;
    };
    const auto a = train(), b = train();
    CHECK(a == b);
}

TEST_CASE("fit validates its input") {
    loom::Sequential<float> net({4});
    net.add<loom::Dense>(3).add<loom::Softmax>();
    loom::Tensor<float> x({10, 4});
    std::vector<int> y(10, 1);
    CHECK_THROWS_AS(net.fit(x, y, quiet(1, 4)), loom::Error);  // not compiled
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    CHECK_THROWS_AS(net.fit(x, std::vector<int>(9, 1), quiet(1, 4)), loom::ShapeError);
    std::vector<int> bad(10, 1);
    bad[7] = 3;
    CHECK_THROWS_WITH_AS(net.fit(x, bad, quiet(1, 4)), doctest::Contains("index 7"), loom::ArgumentError);
    CHECK_THROWS_AS(net.fit(x, y, quiet(1, 0)), loom::ArgumentError);
    CHECK_THROWS_AS(net.fit(loom::Tensor<float>({10, 5}), y, quiet(1, 4)), loom::ShapeError);
    loom::Tensor<float> nan_x({10, 4}, std::numeric_limits<float>::quiet_NaN());
    CHECK_THROWS_WITH_AS(net.fit(nan_x, y, quiet(1, 4)), doctest::Contains("epoch 1, batch 1"), loom::NumericError);
}
