// The direct convolution (kernels/direct_conv.hpp): Conv2D's Direct algorithm against im2col + GEMM
// on odd shapes, paddings and channel counts, every ISA; finite-difference gradients; a weight
// gradient that does not depend on the thread count; and the refusal of strides.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "gradient_check.hpp"
#include "loom/loom.hpp"
#include "scoped_threads.hpp"

namespace {

using loom::ConvAlgorithm;
using loom::Padding;

struct Case {
    std::size_t h, w, c, filters, kh, kw, stride;
    Padding padding;
    std::size_t batch;
};

const Case cases[] = {
    {28, 28, 1, 20, 5, 5, 1, Padding::Same, 3},   // LeNet's first layer
    {7, 9, 1, 17, 5, 5, 1, Padding::Same, 2},     // filters not a multiple of any vector
    {6, 5, 3, 8, 3, 2, 1, Padding::Valid, 2},     // three channels, non-square kernel
    {5, 8, 2, 1, 4, 4, 1, Padding::Same, 1},      // one filter, padding larger on one side
    {1, 1, 1, 9, 5, 5, 1, Padding::Same, 1},      // a single pixel: every tap but one is padding
    {9, 70, 1, 5, 3, 5, 1, Padding::Same, 2},     // a row wider than two blocks of 16 pixels
    {6, 7, 1, 3, 3, 3, 1, Padding::Same, 3},      // 3 filters: whole-vector stores run over later pixels
    {5, 6, 1, 37, 3, 3, 1, Padding::Valid, 2},    // more filters than one register block of every ISA
};

}  // namespace

TEST_CASE("Conv2D Direct matches im2col + GEMM: forward, weight and input gradients, every ISA") {
    for (loom::Isa isa : {loom::Isa::Generic, loom::Isa::Avx2, loom::Isa::Avx512}) {
        if (!loom::isa_supported(isa)) continue;
        loom::ScopedIsa scoped(isa);
        for (const auto& k : cases) {
            CAPTURE(std::string(loom::isa_name(isa)));
            CAPTURE(k.h);
            CAPTURE(k.c);
            CAPTURE(k.filters);
            CAPTURE(k.stride);
            loom::Conv2D<double> direct(k.filters, k.kh, k.kw, k.padding, k.stride, k.stride,
                                        loom::Initializer::glorot_uniform(), loom::Initializer::uniform(0.5));
            loom::Conv2D<double> gemm(k.filters, k.kh, k.kw, k.padding, k.stride, k.stride,
                                      loom::Initializer::glorot_uniform(), loom::Initializer::uniform(0.5));
            loom::Rng rng(4), rng2(4);
            direct.build({k.h, k.w, k.c}, rng);
            gemm.build({k.h, k.w, k.c}, rng2);
            direct.set_algorithm(ConvAlgorithm::Direct);
            gemm.set_algorithm(ConvAlgorithm::Im2col);
            direct.set_input_gradient_needed(true);
            gemm.set_input_gradient_needed(true);
            loom::Tensor<double> x(loom::Shape{k.batch, k.h, k.w, k.c});
            loom_test::fill_random(x, rng);
            const loom::Tensor<double> y1(direct.forward(x, true)), y2(gemm.forward(x, true));
            REQUIRE(y1.shape() == y2.shape());
            for (std::size_t i = 0; i < y1.size(); ++i) CHECK(y1[i] == doctest::Approx(y2[i]).epsilon(1e-12));
            loom::Tensor<double> r(y1.shape());
            loom_test::fill_random(r, rng);
            const loom::Tensor<double> dx1(direct.backward(r)), dx2(gemm.backward(r));
            for (std::size_t i = 0; i < dx1.size(); ++i) CHECK(dx1[i] == doctest::Approx(dx2[i]).epsilon(1e-12));
            for (std::size_t p = 0; p < 2; ++p) {  // kernel and bias gradients
                const auto& g1 = *direct.parameters()[p].grad;
                const auto& g2 = *gemm.parameters()[p].grad;
                for (std::size_t i = 0; i < g1.size(); ++i) CHECK(g1[i] == doctest::Approx(g2[i]).epsilon(1e-12));
            }
        }
    }
}

TEST_CASE("Conv2D Direct: finite-difference gradients") {
    for (const auto& k : {Case{5, 4, 2, 3, 3, 3, 1, Padding::Same, 2}, Case{7, 6, 1, 2, 2, 3, 1, Padding::Valid, 3}}) {
        loom::Conv2D<double> conv(k.filters, k.kh, k.kw, k.padding, k.stride, k.stride,
                                  loom::Initializer::glorot_uniform(), loom::Initializer::uniform(0.3));
        conv.set_algorithm(ConvAlgorithm::Direct);
        loom_test::check_layer_gradients(conv, {k.h, k.w, k.c}, k.batch);
    }
}

TEST_CASE("Conv2D Direct: the weight gradient is bitwise the same for 1 and 2 threads") {
    loom::Conv2D<float> conv(20, 5, Padding::Same);
    loom::Rng rng(9);
    conv.build({28, 28, 1}, rng);
    REQUIRE(conv.forward_algorithm() == ConvAlgorithm::Direct);
    loom::Tensor<float> x(loom::Shape{37, 28, 28, 1}), r(loom::Shape{37, 28, 28, 20});
    for (auto& v : x) v = static_cast<float>(rng.uniform(0, 1));
    for (auto& v : r) v = static_cast<float>(rng.uniform(-1, 1));
    loom::Tensor<float> dw[2], y[2];
    for (int t = 1; t <= 2; ++t) {
        loom_test::ScopedThreads threads(t);
        y[t - 1] = loom::Tensor<float>(conv.forward(x, true));
        conv.backward(r);
        dw[t - 1] = *conv.parameters()[0].grad;
    }
    CHECK(std::memcmp(dw[0].data(), dw[1].data(), dw[0].size() * sizeof(float)) == 0);
    CHECK(std::memcmp(y[0].data(), y[1].data(), y[0].size() * sizeof(float)) == 0);
}

TEST_CASE("Conv2D Direct: Auto takes it for few channels at stride 1; a stride is an ArgumentError") {
    loom::Rng rng(1);
    loom::Conv2D<float> strided(8, 3, Padding::Same, 2), many(8, 3, Padding::Same);
    strided.build({9, 9, 1}, rng);
    many.build({9, 9, 8}, rng);
    CHECK(strided.forward_algorithm() == ConvAlgorithm::Im2col);
    CHECK(many.forward_algorithm() == ConvAlgorithm::Im2col);
    strided.set_algorithm(ConvAlgorithm::Direct);
    loom::Tensor<float> x(loom::Shape{1, 9, 9, 1});
    CHECK_THROWS_AS(strided.forward(x, false), loom::ArgumentError);
}
