// Finite-difference checks of every layer's backward pass, in double, on odd shapes.
#include "gradient_check.hpp"

using loom::Padding;
using loom_test::check_layer_gradients;

TEST_CASE("Dense gradients") {
    for (std::size_t batch : {1, 3}) {
        loom::Dense<double> dense(4, loom::Initializer::glorot_uniform(), loom::Initializer::uniform(0.5));
        check_layer_gradients(dense, {5}, batch);
    }
}

TEST_CASE("Conv2D gradients: padding, stride, non-square images and kernels") {
    struct Case {
        std::size_t h, w, c, filters, kh, kw, stride;
        Padding padding;
        std::size_t batch;
    };
    const Case cases[] = {
        {5, 4, 2, 3, 3, 3, 1, Padding::Valid, 1}, {5, 4, 2, 3, 3, 3, 1, Padding::Same, 3},
        {7, 5, 1, 2, 3, 2, 2, Padding::Same, 3},  {7, 6, 3, 2, 2, 3, 2, Padding::Valid, 1},
        {6, 6, 2, 2, 5, 5, 1, Padding::Same, 2},
    };
    for (const auto& k : cases) {
        CAPTURE(k.h);
        CAPTURE(k.w);
        CAPTURE(k.stride);
        loom::Conv2D<double> conv(k.filters, k.kh, k.kw, k.padding, k.stride, k.stride, loom::Initializer::glorot_uniform(),
                                  loom::Initializer::uniform(0.3));
        check_layer_gradients(conv, {k.h, k.w, k.c}, k.batch);
    }
}

TEST_CASE("Conv2D in a chunked batch (im2col recomputed in backward)") {
    // 40 samples of 36x36x5 with 5x5 windows need several chunks of at most 2^20 values.
    loom::Conv2D<double> conv(1, 5, Padding::Same);
    conv.set_col_budget(std::size_t{1} << 20);
    loom::Rng rng(3);
    conv.build({36, 36, 5}, rng);
    const std::size_t batch = 40;
    loom::Tensor<double> x(loom::Shape{batch, 36, 36, 5});
    loom_test::fill_random(x, rng);
    REQUIRE(conv.geometry().output_positions() * conv.geometry().patch() * batch > 4 * conv.col_budget());
    loom::Tensor<double> r(loom::Shape{batch, 36, 36, 1});
    loom_test::fill_random(r, rng);
    conv.forward(x, true);
    const loom::Tensor<double> dx(conv.backward(r));
    loom::Tensor<double> dw = conv.weights();
    dw = *conv.parameters()[0].grad;
    // Compare with one sample at a time (always a single chunk).
    loom::Tensor<double> dw_sum(dw.shape());
    for (std::size_t s = 0; s < batch; ++s) {
        conv.forward(x.rows(s, s + 1), true);
        const auto dxs = conv.backward(r.rows(s, s + 1));
        for (std::size_t i = 0; i < dxs.size(); ++i) CHECK(dxs[i] == doctest::Approx(dx[s * dxs.size() + i]));
        for (std::size_t i = 0; i < dw.size(); ++i) dw_sum[i] += (*conv.parameters()[0].grad)[i];
    }
    for (std::size_t i = 0; i < dw.size(); ++i) CHECK(dw[i] == doctest::Approx(dw_sum[i]));
}

TEST_CASE("MaxPool2D gradients") {
    loom::MaxPool2D<double> p2(2);
    check_layer_gradients(p2, {6, 4, 2}, 3);
    loom::MaxPool2D<double> p3(3, 2);
    check_layer_gradients(p3, {7, 5, 1}, 1);
    loom::MaxPool2D<double> same(2, 2, Padding::Same);
    check_layer_gradients(same, {5, 3, 2}, 2);
}

TEST_CASE("Flatten gradients") {
    loom::Flatten<double> flatten;
    check_layer_gradients(flatten, {3, 2, 2}, 3);
}

TEST_CASE("activation gradients") {
    loom::Tanh<double> tanh_layer;
    check_layer_gradients(tanh_layer, {7}, 3);
    loom::Sigmoid<double> sigmoid;
    check_layer_gradients(sigmoid, {2, 3}, 1);
    loom::ReLU<double> relu;
    check_layer_gradients(relu, {11}, 3);
    loom::Softmax<double> softmax;
    check_layer_gradients(softmax, {5}, 3);
    loom::Softmax<double> softmax1;
    check_layer_gradients(softmax1, {1}, 1);
}

TEST_CASE("Dropout gradients replay the same mask") {
    loom::Dropout<double> dropout(0.4);
    std::array<std::uint64_t, 4> state{};
    bool saved = false;
    check_layer_gradients(dropout, {13}, 3, 7, [&] {
        if (!saved) {
            state = dropout.generator().state();
            saved = true;
        }
        dropout.generator().set_state(state);
    });
}

namespace {

template <class Loss>
void check_loss_gradient(const Loss& loss, bool probabilities) {
    loom::Rng rng(11);
    loom::Tensor<double> p({3, 4}), y({3, 4});
    loom_test::fill_random(p, rng, probabilities ? 0.05 : -1, 1);
    for (std::size_t i = 0; i < 3; ++i) y(i, (i * 2) % 4) = 1.0;
    loom::Tensor<double> g(p.shape());
    loss.gradient(p, y, g.view(), 0.5);
    for (std::size_t i = 0; i < p.size(); ++i)
        loom_test::check_close(g[i], 0.5 * loom_test::numeric_derivative(p, i, [&] { return loss.value(p, y); }),
                               "prediction", i);
}

}  // namespace

TEST_CASE("loss gradients") {
    check_loss_gradient(loom::CrossEntropy{}, true);
    check_loss_gradient(loom::MSE{}, false);
}

TEST_CASE("fused softmax + cross-entropy gradient equals the chain rule") {
    loom::Rng rng(5);
    loom::Softmax<double> softmax;
    softmax.build({6}, rng);
    loom::Tensor<double> z({3, 6}), y({3, 6});
    loom_test::fill_random(z, rng, -3, 3);
    for (std::size_t i = 0; i < 3; ++i) y(i, i + 1) = 1.0;
    const loom::CrossEntropy ce;
    auto objective = [&] { return ce.value(softmax.forward(z, true), y); };
    const loom::Tensor<double> p(softmax.forward(z, true));
    loom::Tensor<double> g(p.shape());
    ce.softmax_gradient<double>(p, y, g.view(), 1.0);
    for (std::size_t i = 0; i < z.size(); ++i)
        loom_test::check_close(g[i], loom_test::numeric_derivative(z, i, objective), "logit", i);
}

TEST_CASE("cross-entropy rejects mismatched shapes") {
    loom::Tensor<double> p({2, 3}), y({2, 4});
    CHECK_THROWS_AS(loom::CrossEntropy{}.value(p, y), loom::ShapeError);
}

TEST_CASE("full-batch objective: summed loss plus decay * sum of squares, and its gradient") {
    loom::Sequential<double> net({3}, 4);
    net.add<loom::Dense>(4).add<loom::Sigmoid>().add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    loom::Rng rng(6);
    loom::Tensor<double> x({7, 3});
    loom_test::fill_random(x, rng);
    std::vector<int> labels{0, 1, 2, 1, 0, 2, 2};
    const auto y = loom::one_hot<double>(labels, 3);
    const double decay = 0.3;
    // Chunks of 3 samples must give the same criterion as a single pass.
    loom::FullBatchObjective<double> objective(net, 3);
    std::vector<double> flat(net.param_count());
    const double value = objective(x, y, decay, flat);
    double expected = 0;
    const auto prob = net.predict(x);
    for (std::size_t i = 0; i < 7; ++i) expected -= std::log(prob(i, static_cast<std::size_t>(labels[i])));
    for (const auto& p : net.parameters())
        for (double w : *p.value) expected += decay * w * w;
    CHECK(value == doctest::Approx(expected).epsilon(1e-12));
    auto params = net.parameters();
    std::vector<double> scratch(flat.size());
    std::size_t at = 0;
    for (std::size_t k = 0; k < params.size(); ++k)
        for (std::size_t i = 0; i < params[k].value->size(); ++i, ++at)
            loom_test::check_close(flat[at], loom_test::numeric_derivative(*params[k].value, i, [&] {
                                       return objective(x, y, decay, scratch);
                                   }), "parameter", i);
}
