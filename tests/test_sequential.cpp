#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "expect_error.hpp"
#include "loom/loom.hpp"
#include "scoped_threads.hpp"
#include "temp_dir.hpp"

namespace {

loom::Sequential<float> lenet() {
    loom::Sequential<float> net({28, 28, 1});
    net.add<loom::Conv2D>(20, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
        .add<loom::Conv2D>(50, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
        .add<loom::Flatten>().add<loom::Dense>(500).add<loom::Tanh>()
        .add<loom::Dense>(10).add<loom::Softmax>();
    return net;
}

}  // namespace

TEST_CASE("LeNet summary shows the notebook's parameter counts") {
    auto net = lenet();
    CHECK(net.param_count() == 1256080);
    std::ostringstream out;
    net.summary(out);
    const std::string s = out.str();
    CHECK(s.find("Total params: 1,256,080") != std::string::npos);
    CHECK(s.find("conv2d (Conv2D)") != std::string::npos);
    CHECK(s.find("conv2d_1 (Conv2D)") != std::string::npos);
    CHECK(s.find("(None, 28, 28, 20)") != std::string::npos);
    CHECK(s.find("(None, 7, 7, 50)") != std::string::npos);
    for (const char* count : {"520", "25,050", "1,225,500", "5,010"}) CHECK(s.find(count) != std::string::npos);
    // The library's own builder is the same network.
    auto built = loom::lenet<float>();
    std::ostringstream again;
    built.summary(again);
    CHECK(again.str() == s);
}

TEST_CASE("add rejects layers whose shapes do not chain, naming the layer and both shapes") {
    loom::Sequential<float> net({28, 28, 1});
    loom_test::expect_error<loom::ShapeError>([&] { net.add<loom::Dense>(10); }, {"Dense", "(28, 28, 1)", "Flatten"});
    loom::Sequential<float> flat({10});
    CHECK_THROWS_AS(flat.add<loom::Conv2D>(4, 3), loom::ShapeError);
    loom::Sequential<float> small({3, 3, 1});
    CHECK_THROWS_AS(small.add<loom::Conv2D>(4, 5), loom::ShapeError);  // 5x5 window, 3x3 image, valid padding
}

TEST_CASE("the public snippet runs end to end") {
    const int n = 64;
    loom::Tensor<float> x({n, 28, 28, 1});
    std::vector<int> y(n);
    loom::Rng rng(1);
    for (int i = 0; i < n; ++i) {
        y[static_cast<std::size_t>(i)] = i % 10;
        for (int p = 0; p < 28; ++p) x(i, p, (i % 10) * 2, 0) = 1.0f;  // class = position of a bright column
    }
    auto net = lenet();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-3));
    loom::FitOptions o;
    o.epochs = 1;
    o.batch_size = 16;
    o.seed = 42;
    o.verbose = false;
    o.validation_split = 0.25;
    loom::History h = net.fit(x, y, o);
    CHECK(h.epochs() == 1);
    CHECK(h.has_validation());
    loom::Tensor<float> prob = net.predict(x);
    CHECK(prob.shape() == loom::Shape{n, 10});
    for (int i = 0; i < n; ++i) {
        float sum = 0;
        for (int c = 0; c < 10; ++c) sum += prob(i, c);
        CHECK(sum == doctest::Approx(1.0f).epsilon(1e-5));
    }
    loom::Evaluation e = net.evaluate(x, y);
    CHECK(std::isfinite(e.loss));
    std::size_t correct = 0;
    const auto classes = net.predict_classes(x);
    for (int i = 0; i < n; ++i) correct += classes[static_cast<std::size_t>(i)] == y[static_cast<std::size_t>(i)];
    CHECK(e.accuracy == doctest::Approx(double(correct) / n));
    const loom_test::TempDir scratch;
    const auto path = scratch / "snippet.loom";
    net.save(path.string());
    auto again = loom::Sequential<float>::load(path.string());
    CHECK(again.predict(x) == prob);
    std::filesystem::remove(path);
}

TEST_CASE("clone copies layers, weights and loss, and shares nothing") {
    loom::Sequential<float> net({4, 4, 1}, 3);
    net.add<loom::Conv2D>(2, 3, loom::Padding::Same).add<loom::Tanh>().add<loom::Flatten>().add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-2));
    loom::Tensor<float> x({5, 4, 4, 1});
    loom::Rng rng(8);
    for (auto& v : x) v = static_cast<float>(rng.uniform(-1.0, 1.0));
    auto copy = net.clone();
    REQUIRE(copy.compiled());
    CHECK(copy.size() == net.size());
    CHECK(copy.layer_name(3) == net.layer_name(3));
    const auto before = net.predict(x);
    CHECK(copy.predict(x) == before);
    // Training the copy leaves the original as it was.
    copy.fit(x, std::vector<int>{0, 1, 2, 0, 1}, [] {
        loom::FitOptions o;
        o.verbose = false;
        return o;
    }());
    CHECK(net.predict(x) == before);
    CHECK_FALSE(copy.predict(x) == before);
}

