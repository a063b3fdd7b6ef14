// FullBatchObjective: nnet's criterion over a whole data set, summed chunk by chunk on model copies.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "loom/loom.hpp"
#include "scoped_threads.hpp"

namespace {

// A custom layer that is not registered: it cannot be saved, but trains and copies like any other.
template <class T>
class Doubler : public loom::Layer<T> {
public:
    std::string type() const override { return "Doubler"; }
    std::unique_ptr<loom::Layer<T>> clone() const override { return std::make_unique<Doubler>(*this); }
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

// The criterion and its gradient at the model's weights.
template <class T>
std::pair<double, std::vector<double>> criterion(loom::Sequential<T>& net, const loom::Tensor<T>& x, const loom::Tensor<T>& y,
                                                 double decay, std::size_t chunk) {
    loom::FullBatchObjective<T> objective(net, chunk);
    std::vector<double> g(net.param_count());
    const double f = objective(x, y, decay, g);
    return {f, g};
}

}  // namespace

TEST_CASE("full-batch objective: bitwise the same on 1, 2 and 3 threads, summed chunk by chunk") {
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
    const std::size_t chunk = 8;  // 13 chunks, a group each
    const auto run = [&](int threads, std::size_t chunk_size) {
        const loom_test::ScopedThreads scoped(threads);
        return criterion(net, x, y, decay, chunk_size);
    };
    const auto one = run(1, chunk), two = run(2, chunk);
    CHECK(one.first == two.first);
    CHECK(one.second == two.second);
    // 51 chunks in 32 groups of one or two: groups taken by whichever thread is free, same bits.
    CHECK(loom::detail::full_batch_groups(51, net.param_count()) == 32);
    const auto small_one = run(1, 2), small_two = run(2, 2), small_three = run(3, 2);
    CHECK(small_one.first == small_two.first);
    CHECK(small_one.second == small_two.second);
    CHECK(small_one.first == small_three.first);
    CHECK(small_one.second == small_three.second);
    CHECK(small_one.first == doctest::Approx(one.first).epsilon(1e-9));

    // The same sums formed chunk by chunk from the model's own gradients of each chunk's summed loss.
    double expected = 0;
    std::vector<double> expected_grad(one.second.size(), 0.0);
    for (std::size_t b = 0; b < 101; b += chunk) {
        const std::size_t e = std::min<std::size_t>(101, b + chunk);
        expected += net.compute_gradients(x.view().rows(b, e), y.view().rows(b, e), loom::Reduction::Sum).loss_sum;
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

    // Another loss gives another criterion, on every thread count alike.
    net.compile(loom::MSE{}, loom::SGD(0.1));
    const auto mse_one = run(1, chunk), mse_two = run(2, chunk);
    CHECK(mse_one.first != doctest::Approx(one.first));
    CHECK(mse_one.first == mse_two.first);
    CHECK(mse_one.second == mse_two.second);
}

TEST_CASE("full-batch objective of a model with an unregistered layer runs side by side on clones") {
    loom::Sequential<double> net({5}, 2);
    net.add<loom::Dense>(4).add(std::make_unique<Doubler<double>>());
    net.add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    loom::Tensor<double> x({30, 5});
    loom::Rng rng(3);
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    std::vector<int> labels(30);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i % 3);
    const auto y = loom::one_hot<double>(labels, 3);
    std::pair<double, std::vector<double>> one, two;
    {
        const loom_test::ScopedThreads scoped(1);
        one = criterion(net, x, y, 0.1, 4);
    }
    {
        const loom_test::ScopedThreads scoped(2);
        two = criterion(net, x, y, 0.1, 4);
    }
    CHECK(one.first == two.first);
    CHECK(one.second == two.second);
    // Doubling the hidden layer's output shows in the loss: it differs from the same model without it.
    loom::Sequential<double> plain({5}, 2);
    plain.add<loom::Dense>(4).add<loom::Dense>(3).add<loom::Softmax>();
    plain.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    CHECK(criterion(plain, x, y, 0.1, 4).first != doctest::Approx(one.first));
}

TEST_CASE("full-batch objective: bad arguments") {
    loom::Sequential<double> net({3}, 1);
    net.add<loom::Dense>(2).add<loom::Softmax>();
    CHECK_THROWS_AS(loom::FullBatchObjective<double>{net}, loom::Error);  // not compiled
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    CHECK_THROWS_AS((loom::FullBatchObjective<double>{net, 0}), loom::ArgumentError);
    loom::FullBatchObjective<double> objective(net);
    loom::Tensor<double> x({4, 3}), y({4, 2});
    std::vector<double> g(net.param_count() + 1);
    CHECK_THROWS_AS(objective(x.view(), y.view(), 0.0, g), loom::ArgumentError);
    g.resize(net.param_count());
    CHECK_THROWS_AS(objective(x.view(), y.view(), -1.0, g), loom::ArgumentError);
}

TEST_CASE("full-batch objective: scaled bytes give the floats' criterion and gradient, the same bits on 1 and 2 threads") {
    // The first Dense takes the bytes as they are (Dense::forward_bytes), with the scale applied to
    // each product instead of to each pixel: the same values to float rounding.
    loom::Sequential<float> net({4, 5, 1}, 3);
    net.add<loom::Flatten>().add<loom::Dense>(4, loom::Initializer::uniform(0.7), loom::Initializer::uniform(0.7));
    net.add<loom::Sigmoid>().add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    loom::Tensor<std::uint8_t> pixels({37, 4, 5, 1});
    loom::Rng rng(4);
    for (auto& p : pixels) p = static_cast<std::uint8_t>(rng.uniform(0.0, 256.0));
    const loom::Tensor<float> floats = loom::to_float(pixels.view(), 1.0f / 255);
    std::vector<int> labels(37);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i % 3);
    const auto y = loom::one_hot<float>(labels, 3);
    std::vector<double> first_bytes;
    for (int threads : {1, 2}) {
        const loom_test::ScopedThreads scoped(threads);
        loom::FullBatchObjective<float> objective(net, 6);
        std::vector<double> from_floats(net.param_count()), from_bytes(net.param_count());
        const double f1 = objective(floats, y, 0.1, from_floats);
        const double f2 = objective(loom::Samples<float>(pixels.view(), 1.0f / 255), y, 0.1, from_bytes);
        CHECK(f2 == doctest::Approx(f1).epsilon(1e-6));
        // Some components are sums that cancel: measure against the gradient's largest component.
        double largest = 0;
        for (double g : from_floats) largest = std::max(largest, std::abs(g));
        for (std::size_t i = 0; i < from_bytes.size(); ++i) CHECK(std::abs(from_bytes[i] - from_floats[i]) <= 1e-5 * largest);
        if (first_bytes.empty()) first_bytes = from_bytes;
        CHECK(from_bytes == first_bytes);
    }
}

TEST_CASE("Sequential on byte samples: a first Dense takes the bytes, other first layers take them as T") {
    loom::Tensor<std::uint8_t> pixels({6, 5, 5, 2});
    loom::Rng rng(6);
    for (auto& p : pixels) p = static_cast<std::uint8_t>(rng.uniform(0.0, 256.0));
    const loom::Samples<float> bytes(pixels.view(), 1.0f / 255);
    const loom::Tensor<float> floats = loom::to_float(pixels.view(), 1.0f / 255);
    loom::Tensor<float> buffer;
    SUBCASE("Flatten, Dense: the bytes' product is the values' to rounding, and backward gives the same dW") {
        loom::Sequential<float> net({5, 5, 2}, 1);
        net.add<loom::Flatten>().add<loom::Dense>(7).add<loom::Tanh>().add<loom::Dense>(3).add<loom::Softmax>();
        net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
        loom::Tensor<float> y({6, 3});
        for (std::size_t i = 0; i < 6; ++i) y(i, i % 3) = 1;
        const loom::Tensor<float> expected(net.forward(floats, true));
        net.compute_gradients(floats, y);
        std::vector<loom::Tensor<float>> expected_grads;
        for (const auto& p : net.parameters()) expected_grads.emplace_back(*p.grad);
        const loom::Tensor<float> got(net.forward(bytes, buffer, true));
        CHECK(buffer.size() == 0);  // never converted
        for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
        net.compute_gradients(bytes, buffer, y);
        const auto params = net.parameters();
        for (std::size_t k = 0; k < params.size(); ++k)
            for (std::size_t i = 0; i < params[k].grad->size(); ++i)
                CHECK((*params[k].grad)[i] == doctest::Approx(expected_grads[k][i]).epsilon(1e-4).scale(1e-4));
    }
    SUBCASE("Conv2D first: converted into the buffer, the floats' result exactly") {
        loom::Sequential<float> net({5, 5, 2}, 1);
        net.add<loom::Conv2D>(3, 3).add<loom::Flatten>().add<loom::Dense>(2);
        const loom::Tensor<float> expected(net.forward(floats));
        const loom::Tensor<float> got(net.forward(bytes, buffer));
        CHECK(buffer.size() == floats.size());
        CHECK(got == expected);
    }
    SUBCASE("wrong shapes are refused") {
        loom::Sequential<float> net({5, 5, 2}, 1);
        net.add<loom::Flatten>().add<loom::Dense>(2);
        loom::Tensor<std::uint8_t> wrong({6, 5, 4, 2});
        CHECK_THROWS_AS(net.forward(loom::Samples<float>(wrong.view(), 1.0f), buffer), loom::ShapeError);
        auto& dense = static_cast<loom::Dense<float>&>(net.layer(1));
        CHECK_THROWS_AS(dense.forward_bytes(wrong.view(), 1.0f), loom::ShapeError);
    }
}

TEST_CASE("a Dense after a Flatten computes no input gradient, and the gradients are unchanged") {
    loom::Sequential<double> net({3, 2, 1}, 7);
    net.add<loom::Flatten>().add<loom::Dense>(4).add<loom::Tanh>().add<loom::Dense>(2).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    CHECK_FALSE(net.layer(0).input_gradient_needed());
    CHECK_FALSE(net.layer(1).input_gradient_needed());  // nothing with parameters before it
    CHECK(net.layer(2).input_gradient_needed());
    // The same weights without the Flatten (flat input) give the same gradients.
    loom::Sequential<double> flat({6}, 7);
    flat.add<loom::Dense>(4).add<loom::Tanh>().add<loom::Dense>(2).add<loom::Softmax>();
    flat.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    const auto from = net.parameters(), to = flat.parameters();
    for (std::size_t k = 0; k < from.size(); ++k) *to[k].value = *from[k].value;
    loom::Tensor<double> x({5, 3, 2, 1}), y({5, 2});
    loom::Rng rng(2);
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    for (std::size_t i = 0; i < 5; ++i) y(i, i % 2) = 1.0;
    loom::Tensor<double> x_flat(x);
    x_flat.reshape({5, 6});
    net.compute_gradients(x, y);
    flat.compute_gradients(x_flat, y);
    for (std::size_t k = 0; k < from.size(); ++k) CHECK(*from[k].grad == *to[k].grad);
}
