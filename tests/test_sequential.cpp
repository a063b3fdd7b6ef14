#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "loom/loom.hpp"
#include "scoped_threads.hpp"

namespace {

loom::Sequential<float> lenet() {
    loom::Sequential<float> net({28, 28, 1});
    net.add<loom::Conv2D>(20, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
        .add<loom::Conv2D>(50, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
        .add<loom::Flatten>().add<loom::Dense>(500).add<loom::Tanh>()
        .add<loom::Dense>(10).add<loom::Softmax>();
    return net;
}

// A custom layer that is not registered: models holding it cannot be rebuilt from their configuration.
template <class T>
class Doubler : public loom::Layer<T> {
public:
    std::string type() const override { return "Doubler"; }
    loom::TensorView<const T> forward(loom::TensorView<const T> x, bool) override {
        y_.resize(x.shape());
        for (std::size_t i = 0; i < x.size(); ++i) y_[i] = 2 * x[i];
        return y_.view();
    }
    loom::TensorView<const T> backward(loom::TensorView<const T> g) override {
        dx_.resize(g.shape());
        for (std::size_t i = 0; i < g.size(); ++i) dx_[i] = 2 * g[i];
        return dx_.view();
    }

protected:
    loom::Shape do_build(const loom::Shape& input, loom::Rng&) override { return input; }

private:
    loom::Tensor<T> y_, dx_;
};

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
    try {
        net.add<loom::Dense>(10);
        FAIL("expected ShapeError");
    } catch (const loom::ShapeError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("Dense") != std::string::npos);
        CHECK(msg.find("(28, 28, 1)") != std::string::npos);
        CHECK(msg.find("Flatten") != std::string::npos);
    }
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
    CHECK(e.accuracy >= 0.0);
    const auto path = std::filesystem::temp_directory_path() / "loom_test_snippet.loom";
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

TEST_CASE("full-batch objective: bitwise the same on 1 and 2 threads, summed chunk by chunk") {
    loom::Sequential<float> net({6, 6, 1}, 5);
    net.add<loom::Flatten>().add<loom::Dense>(5, loom::Initializer::uniform(0.7), loom::Initializer::uniform(0.7));
    net.add<loom::Sigmoid>().add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    loom::Tensor<float> x({101, 6, 6, 1});
    std::vector<int> labels(101);
    loom::Rng rng(9);
    for (auto& v : x) v = static_cast<float>(rng.uniform(0.0, 1.0));
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i % 3);
    const auto y = loom::one_hot<float>(labels, 3);
    const double decay = 0.25;
    const std::size_t chunk = 8;  // 13 chunks: the last round on 2 threads has one
    const auto run = [&](int threads) {
        const loom_test::ScopedThreads scoped(threads);
        std::pair<double, std::vector<float>> r{net.full_batch_objective(x.view(), y.view(), decay, chunk), {}};
        for (const auto& p : net.parameters()) r.second.insert(r.second.end(), p.grad->begin(), p.grad->end());
        return r;
    };
    const auto one = run(1), two = run(2);
    CHECK(one.first == two.first);
    CHECK(one.second == two.second);

    // The same sums formed chunk by chunk from the per-chunk objective (decay 0, one chunk each).
    double expected = 0;
    std::vector<double> expected_grad(one.second.size(), 0.0);
    for (std::size_t b = 0; b < 101; b += chunk) {
        const std::size_t e = std::min<std::size_t>(101, b + chunk);
        expected += net.full_batch_objective(x.view().rows(b, e), y.view().rows(b, e), 0, chunk);
        std::size_t at = 0;
        for (const auto& p : net.parameters())
            for (float g : *p.grad) expected_grad[at++] += g;
    }
    std::size_t at = 0;
    for (const auto& p : net.parameters())
        for (float w : *p.value) {
            expected += decay * double(w) * double(w);
            expected_grad[at] += 2 * decay * double(w);
            CHECK(one.second[at] == doctest::Approx(expected_grad[at]).epsilon(1e-6));
            ++at;
        }
    CHECK(one.first == doctest::Approx(expected).epsilon(1e-12));

    // Recompiling with another loss must reach the copies that evaluate chunks on other threads.
    net.compile(loom::MSE{}, loom::SGD(0.1));
    const auto mse_one = run(1), mse_two = run(2);
    CHECK(mse_one.first != doctest::Approx(one.first));
    CHECK(mse_one.first == mse_two.first);
    CHECK(mse_one.second == mse_two.second);
}

TEST_CASE("full-batch objective of a model with an unregistered layer runs its chunks on one thread") {
    loom::Sequential<double> net({5}, 2);
    net.add<loom::Dense>(4).add(std::make_unique<Doubler<double>>());
    net.add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    CHECK_THROWS_WITH_AS(net.clone(), doctest::Contains("unknown layer type 'Doubler'"), loom::IoError);
    loom::Tensor<double> x({30, 5});
    loom::Rng rng(3);
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    std::vector<int> labels(30);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i % 3);
    const auto y = loom::one_hot<double>(labels, 3);
    double one = 0, two = 0;
    {
        const loom_test::ScopedThreads scoped(1);
        one = net.full_batch_objective(x.view(), y.view(), 0.1, 4);
    }
    {
        const loom_test::ScopedThreads scoped(2);
        two = net.full_batch_objective(x.view(), y.view(), 0.1, 4);
    }
    CHECK(one == two);
    CHECK(std::isfinite(one));
}
