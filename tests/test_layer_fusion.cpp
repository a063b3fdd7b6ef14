// Sequential's fused activation + MaxPool2D pairs (model/layer_fusion.hpp): inference and training
// gradients against the same layers run one by one, for each activation, tiling and overlapping
// windows, float and double; and the Conv2D + activation + MaxPool2D triple it runs as one pass at
// inference, bit for bit the convolution's whole output followed by the pair.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "loom/loom.hpp"
#include "scoped_threads.hpp"

namespace {

template <class T>
void fill_random(loom::Tensor<T>& t, loom::Rng& rng) {
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<T>(rng.uniform(-1, 1));
}

template <class T>
std::unique_ptr<loom::Layer<T>> make_activation(const std::string& name) {
    if (name == "tanh") return std::make_unique<loom::Tanh<T>>();
    if (name == "sigmoid") return std::make_unique<loom::Sigmoid<T>>();
    return std::make_unique<loom::ReLU<T>>();
}

// conv -> activation -> pool -> flatten -> dense -> softmax, with a pool of the given window and stride.
template <class T>
loom::Sequential<T> model(const std::string& activation, std::size_t pool, std::size_t stride) {
    loom::Sequential<T> net({9, 8, 2}, 7);
    net.template add<loom::Conv2D>(5, 3, loom::Padding::Same);
    net.add(make_activation<T>(activation));
    net.template add<loom::MaxPool2D>(pool, stride);
    net.template add<loom::Flatten>().template add<loom::Dense>(4).template add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    return net;
}

// The layers of `net` run one by one: forward, then backward of the summed loss's gradient p - y.
template <class T>
void unfused(loom::Sequential<T>& net, const loom::Tensor<T>& x, const loom::Tensor<T>& y, loom::Tensor<T>& out,
             std::vector<loom::Tensor<T>>& grads) {
    loom::TensorView<const T> h = x;
    for (std::size_t i = 0; i < net.size(); ++i) h = net.layer(i).forward(h, true);
    out = loom::Tensor<T>(h);
    loom::Tensor<T> g(h.shape());
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = (h[i] - y[i]) / static_cast<T>(x.dim(0));
    loom::TensorView<const T> gv = g;
    for (std::size_t i = net.size() - 1; i-- > 0;) gv = net.layer(i).backward(gv);  // Softmax fused into the loss
    grads.clear();
    for (const auto& p : net.parameters()) grads.emplace_back(*p.grad);
}

template <class T>
void check_pair(const std::string& activation, std::size_t pool, std::size_t stride, double tolerance) {
    CAPTURE(activation);
    CAPTURE(pool);
    CAPTURE(stride);
    auto net = model<T>(activation, pool, stride);
    loom::Rng rng(3);
    loom::Tensor<T> x(loom::Shape{3, 9, 8, 2}), y(loom::Shape{3, 4});
    fill_random(x, rng);
    for (std::size_t s = 0; s < 3; ++s) y[s * 4 + s % 4] = 1;

    loom::Tensor<T> expected_out;
    std::vector<loom::Tensor<T>> expected_grads;
    unfused(net, x, y, expected_out, expected_grads);

    const loom::Tensor<T> out(net.forward(x, false));  // inference: fused
    for (std::size_t i = 0; i < out.size(); ++i) CHECK(out[i] == doctest::Approx(expected_out[i]).epsilon(tolerance));
    net.compute_gradients(x, y);  // training: fused backward
    const auto params = net.parameters();
    for (std::size_t k = 0; k < params.size(); ++k)
        for (std::size_t i = 0; i < params[k].grad->size(); ++i)
            CHECK((*params[k].grad)[i] == doctest::Approx(expected_grads[k][i]).epsilon(tolerance));
}

}  // namespace

TEST_CASE("fused activation + MaxPool2D: inference and gradients as the layers one by one (double)") {
    for (const char* activation : {"tanh", "sigmoid", "relu"}) {
        check_pair<double>(activation, 2, 2, 1e-12);  // windows that tile the image
        check_pair<double>(activation, 3, 2, 1e-12);  // overlapping windows, a ragged edge
    }
}

TEST_CASE("fused activation + MaxPool2D: float, as LeNet uses it") {
    for (const char* activation : {"tanh", "sigmoid", "relu"}) check_pair<float>(activation, 2, 2, 1e-5);
}

TEST_CASE("fused activation + MaxPool2D: the training gradient is bitwise the unfused one where windows tile") {
    auto fused = model<float>("tanh", 2, 2);
    loom::Rng rng(9);
    loom::Tensor<float> x(loom::Shape{2, 9, 8, 2}), y(loom::Shape{2, 4});
    fill_random(x, rng);
    y[1] = y[6] = 1;
    loom::Tensor<float> out;
    std::vector<loom::Tensor<float>> expected;
    unfused(fused, x, y, out, expected);
    fused.compute_gradients(x, y);
    const auto params = fused.parameters();
    for (std::size_t k = 0; k < params.size(); ++k)
        for (std::size_t i = 0; i < params[k].grad->size(); ++i) CHECK((*params[k].grad)[i] == expected[k][i]);
}

TEST_CASE("fused activation + MaxPool2D: backward cannot start between the pair forward ran as one") {
    auto net = model<float>("tanh", 2, 2);  // conv, tanh, pool, flatten, dense, softmax
    loom::Tensor<float> x(loom::Shape{1, 9, 8, 2});
    net.forward(x, true);
    loom::Tensor<float> g(loom::Shape{1, 9, 8, 5});  // d(loss)/d(tanh's output): the pair is split
    CHECK_THROWS_AS(net.backward(g, 2), loom::ArgumentError);
    CHECK_THROWS_AS(net.backward(g, 7), loom::ArgumentError);  // past the last layer
    loom::Tensor<float> below(loom::Shape{1, 9, 8, 5});  // d(loss)/d(conv's output): nothing is split
    CHECK_NOTHROW(net.backward(below, 1));
}

namespace {

// conv -> activation -> 2x2 pool -> flatten -> dense, on (h, w, c) images.
loom::Sequential<float> conv_model(const loom::Shape& input, std::size_t filters, std::size_t kernel,
                                   const std::string& activation) {
    loom::Sequential<float> net(input, 11);
    net.add<loom::Conv2D>(filters, kernel, loom::Padding::Same);
    net.add(make_activation<float>(activation));
    net.add<loom::MaxPool2D>(2).add<loom::Flatten>().add<loom::Dense>(3);
    return net;
}

}  // namespace

TEST_CASE("fused Conv2D + activation + MaxPool2D at inference: bitwise the pair after a whole convolution, every ISA") {
    struct Case {
        loom::Shape input;
        std::size_t filters, kernel;
        loom::ConvAlgorithm algorithm;  // what Auto takes for it
    };
    const auto direct = loom::ConvAlgorithm::Direct, winograd = loom::ConvAlgorithm::Winograd;
    // Direct: LeNet's first layer; an odd image whose last conv row and column no pool window takes;
    // one filter vector exactly (16); several blocks of filters (37 > 4 AVX2 vectors). Winograd:
    // LeNet's second (F(4x4), a partial last block row); an odd image; a 2x2 output (F(2x2)).
    const Case cases[] = {{{28, 28, 1}, 20, 5, direct},   {{9, 7, 2}, 5, 3, direct},
                          {{6, 8, 3}, 16, 3, direct},     {{5, 6, 1}, 37, 3, direct},
                          {{14, 14, 20}, 50, 5, winograd}, {{9, 11, 8}, 12, 5, winograd},
                          {{2, 2, 8}, 9, 5, winograd}};
    for (loom::Isa isa : {loom::Isa::Generic, loom::Isa::Avx2, loom::Isa::Avx512}) {
        if (!loom::isa_supported(isa)) continue;
        loom::ScopedIsa scoped(isa);
        CAPTURE(std::string(loom::isa_name(isa)));
        for (const Case& k : cases)
            for (const char* activation : {"tanh", "sigmoid", "relu"})
                for (int threads : {1, 2}) {
                    CAPTURE(k.input);
                    CAPTURE(activation);
                    CAPTURE(threads);
                    const loom_test::ScopedThreads scoped_threads(threads);
                    auto net = conv_model(k.input, k.filters, k.kernel, activation);
                    REQUIRE(static_cast<loom::Conv2D<float>&>(net.layer(0)).forward_algorithm() == k.algorithm);
                    loom::Rng rng(5);
                    loom::Tensor<float> x(k.input.with_batch(5));
                    fill_random(x, rng);
                    const auto apply = [&](const float* in, float* y, std::size_t n) {
                        if (std::string(activation) == "tanh") loom::kernels::tanh(in, y, n);
                        else if (std::string(activation) == "sigmoid") loom::kernels::sigmoid(in, y, n);
                        else loom::kernels::relu(in, y, n);
                    };
                    // What Sequential ran before: the convolution's whole output, then the pair.
                    auto& conv = static_cast<loom::Conv2D<float>&>(net.layer(0));
                    auto& pool = static_cast<loom::MaxPool2D<float>&>(net.layer(2));
                    const loom::Tensor<float> pooled_expected(pool.forward_then(conv.forward(x, false), apply));
                    loom::TensorView<const float> pooled;
                    REQUIRE(conv.forward_pooled(x, apply, pooled));
                    REQUIRE(pooled.shape() == pooled_expected.shape());
                    for (std::size_t i = 0; i < pooled.size(); ++i) CHECK(pooled[i] == pooled_expected[i]);
                    // And through Sequential, to the end of the model.
                    loom::TensorView<const float> u = x;
                    for (std::size_t i = 0; i < net.size(); ++i) u = net.layer(i).forward(u, false);
                    const loom::Tensor<float> expected(u);
                    const loom::Tensor<float> out(net.forward(x, false));
                    REQUIRE(out.shape() == expected.shape());
                    for (std::size_t i = 0; i < out.size(); ++i)
                        CHECK(out[i] == doctest::Approx(expected[i]).epsilon(1e-5));
                }
    }
}

TEST_CASE("fused Conv2D + activation + MaxPool2D: Direct and Winograd convolutions, and no backward after it") {
    auto net = conv_model({9, 7, 2}, 5, 3, "tanh");
    loom::Tensor<float> x(loom::Shape{2, 9, 7, 2});
    net.forward(x, false);  // the triple as one pass
    loom::Tensor<float> g(loom::Shape{2, 3});
    CHECK_THROWS_AS(net.backward(g, net.size()), loom::ArgumentError);
    net.forward(x, true);  // training: the layers keep what backward needs
    CHECK_NOTHROW(net.backward(g, net.size()));

    // An im2col convolution is not pooled in one pass (it says so and runs nothing); Direct and
    // Winograd are, forced or chosen.
    loom::Sequential<float> wide({14, 14, 20}, 3);
    wide.add<loom::Conv2D>(50, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2);
    auto& conv = static_cast<loom::Conv2D<float>&>(wide.layer(0));
    loom::Tensor<float> images(loom::Shape{1, 14, 14, 20});
    loom::TensorView<const float> out;
    const auto identity = [](const float* in, float* y, std::size_t n) { std::copy_n(in, n, y); };
    CHECK(conv.forward_pooled(images, identity, out));  // Auto: Winograd
    CHECK(out.shape() == loom::Shape{1, 7, 7, 50});
    conv.set_algorithm(loom::ConvAlgorithm::Im2col);
    CHECK_FALSE(conv.forward_pooled(images, identity, out));
    conv.set_algorithm(loom::ConvAlgorithm::Direct);
    CHECK(conv.forward_pooled(images, identity, out));
    CHECK(out.shape() == loom::Shape{1, 7, 7, 50});
    CHECK_THROWS_AS(conv.backward(loom::Tensor<float>(loom::Shape{1, 14, 14, 50})), loom::Error);
}
