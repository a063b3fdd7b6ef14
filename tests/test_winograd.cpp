// Winograd F(2x2, 5x5) and F(4x4, 5x5) (kernels/winograd.hpp): against a direct convolution summed in
// double, forward, weight and input gradients, on odd shapes, partial blocks, LeNet's second convolution
// and every ISA; their float error bounds; Conv2D's algorithm choice; and a finite-difference check of
// the layer using it.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "loom/loom.hpp"
#include "scoped_threads.hpp"

namespace {

using loom::Padding;
using loom::kernels::ConvGeometry;
using loom::kernels::winograd::Tile;

struct Shape4 {
    std::size_t h, w, c, f;
    Padding padding;
    std::size_t samples;
};

ConvGeometry geometry(const Shape4& s) {
    const std::size_t pad = s.padding == Padding::Same ? 2 : 0;
    return {s.h, s.w, s.c, 5, 5, 1, 1, pad, pad, s.h + 2 * pad - 4, s.w + 2 * pad - 4};
}

// Calls visit(output pixel, tap, input pixel) with their indices (pixels counted over the batch,
// taps a * 5 + b) for every output pixel and tap of a 5x5 stride-1 convolution whose input pixel is
// inside the image.
template <class Visit>
void for_each_tap(const ConvGeometry& g, std::size_t samples, Visit&& visit) {
    for (std::size_t n = 0; n < samples; ++n)
        for (std::size_t oy = 0; oy < g.oh; ++oy)
            for (std::size_t ox = 0; ox < g.ow; ++ox)
                for (std::size_t a = 0; a < 5; ++a)
                    for (std::size_t b = 0; b < 5; ++b) {
                        const auto iy = static_cast<std::ptrdiff_t>(oy + a) - static_cast<std::ptrdiff_t>(g.pad_top);
                        const auto ix = static_cast<std::ptrdiff_t>(ox + b) - static_cast<std::ptrdiff_t>(g.pad_left);
                        if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(g.h) || ix >= static_cast<std::ptrdiff_t>(g.w))
                            continue;
                        visit((n * g.oh + oy) * g.ow + ox, a * 5 + b,
                              (n * g.h + static_cast<std::size_t>(iy)) * g.w + static_cast<std::size_t>(ix));
                    }
}

// y and sum |x w| per output of a direct 5x5 stride-1 convolution, in double.
void direct(const std::vector<double>& x, const std::vector<double>& w, std::size_t samples, const ConvGeometry& g,
            std::size_t f, std::vector<double>& y, std::vector<double>& magnitude) {
    y.assign(samples * g.oh * g.ow * f, 0.0);
    magnitude.assign(y.size(), 0.0);
    for_each_tap(g, samples, [&](std::size_t out, std::size_t tap, std::size_t in) {
        for (std::size_t o = 0; o < f; ++o)
            for (std::size_t c = 0; c < g.c; ++c) {
                const double p = x[in * g.c + c] * w[(tap * g.c + c) * f + o];
                y[out * f + o] += p;
                magnitude[out * f + o] += std::abs(p);
            }
    });
}

// The largest |winograd - direct| / (sum |x w| + tiny) over the outputs, for T.
template <class T>
double forward_error(Tile tile, const Shape4& s, std::uint64_t seed) {
    const ConvGeometry g = geometry(s);
    loom::Rng rng(seed);
    std::vector<double> x(s.samples * g.input_size()), w(25 * s.c * s.f), bias(s.f);
    for (auto& v : x) v = rng.uniform(-1, 1);
    for (auto& v : w) v = rng.uniform(-1, 1);
    for (auto& v : bias) v = rng.uniform(-1, 1);
    std::vector<double> y, magnitude;
    direct(x, w, s.samples, g, s.f, y, magnitude);

    const std::vector<T> xt(x.begin(), x.end()), wt(w.begin(), w.end()), bt(bias.begin(), bias.end());
    std::vector<T> u(loom::kernels::winograd::points(tile) * s.c * s.f), yt(y.size(), T(-7));
    loom::kernels::winograd::transform_kernel(tile, wt.data(), s.c, s.f, false, u.data());
    loom::kernels::winograd::convolve(tile, xt.data(), s.samples, g, u.data(), s.f, bt.data(), yt.data());
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(yt[i]) - (y[i] + bias[i % s.f])) / (magnitude[i] + 1e-30));
    return worst;
}

// The largest |winograd dw - direct dw| over the kernel's weights, relative to sums of |x dy|, for T.
template <class T>
double weight_gradient_error(Tile tile, const Shape4& s, std::uint64_t seed) {
    const ConvGeometry g = geometry(s);
    loom::Rng rng(seed);
    std::vector<double> x(s.samples * g.input_size()), dy(s.samples * g.output_positions() * s.f);
    for (auto& v : x) v = rng.uniform(-1, 1);
    for (auto& v : dy) v = rng.uniform(-1, 1);
    std::vector<double> dw(25 * s.c * s.f, 0.0), magnitude(dw.size(), 0.0);
    for_each_tap(g, s.samples, [&](std::size_t out, std::size_t tap, std::size_t in) {
        for (std::size_t c = 0; c < g.c; ++c)
            for (std::size_t o = 0; o < s.f; ++o) {
                const double p = x[in * g.c + c] * dy[out * s.f + o];
                dw[(tap * g.c + c) * s.f + o] += p;
                magnitude[(tap * g.c + c) * s.f + o] += std::abs(p);
            }
    });
    const std::vector<T> xt(x.begin(), x.end()), dyt(dy.begin(), dy.end());
    std::vector<T> dwt(dw.size(), T(-7));
    loom::kernels::winograd::weight_gradient(tile, xt.data(), s.samples, g, dyt.data(), s.f, dwt.data());
    // The transforms mix the 25 taps of one (input, output) channel pair, so a tap outside the image
    // (exactly 0) gets rounding residue from its pair's other taps: measure against the pair's largest sum.
    std::vector<double> pair_scale(s.c * s.f, 1e-30);
    for (std::size_t i = 0; i < dw.size(); ++i) pair_scale[i % pair_scale.size()] = std::max(pair_scale[i % pair_scale.size()], magnitude[i]);
    double worst = 0;
    for (std::size_t i = 0; i < dw.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(dwt[i]) - dw[i]) / pair_scale[i % pair_scale.size()]);
    return worst;
}

const Shape4 shapes[] = {
    {6, 6, 1, 1, Padding::Valid, 1},   // one block
    {5, 5, 1, 1, Padding::Valid, 2},   // a 1x1 output: one partial block
    {1, 1, 2, 3, Padding::Same, 1},    // a 1x1 image padded to 5x5
    {7, 5, 3, 4, Padding::Same, 2},    // odd extent: partial blocks on the right and bottom
    {9, 11, 2, 13, Padding::Valid, 3}, // odd output 5x7
    {14, 14, 20, 50, Padding::Same, 3},  // LeNet's second convolution
    {13, 3, 17, 1, Padding::Same, 200},  // many blocks: several groups, split over threads
};

}  // namespace

// The error bounds, relative to the sum of |products| (the scale of any summation order's rounding
// error), about twice the worst measured on these shapes. F(2x2) forward: 1.5e-6 in float (12
// epsilons: the transforms' 1/24 and 4x / 5x coefficients grow the error; a direct float sum stays
// near 1e-7), 3e-15 in double; weight gradient 2.0e-6 and 3.2e-15. F(4x4), with its 21/4 and 1/90
// coefficients: forward 3.2e-6 and 1.0e-14, weight gradient 4.5e-6 and 1.1e-14.
struct Bounds {
    Tile tile;
    double forward_float, forward_double, weight_float, weight_double;
};
const Bounds bounds[] = {{Tile::F2, 3e-6, 1e-14, 4e-6, 1e-14}, {Tile::F4, 7e-6, 2.5e-14, 9e-6, 2.5e-14}};

TEST_CASE("winograd F(2x2,5x5) and F(4x4,5x5) forward and weight gradient match direct sums, every ISA") {
    for (const Bounds& bound : bounds) {
        for (loom::Isa isa : {loom::Isa::Generic, loom::Isa::Avx2, loom::Isa::Avx512}) {
            if (!loom::isa_supported(isa)) continue;
            loom::ScopedIsa scoped(isa);
            for (const auto& s : shapes) {
                CAPTURE(static_cast<int>(bound.tile));
                CAPTURE(s.h);
                CAPTURE(s.w);
                CAPTURE(s.c);
                CAPTURE(s.f);
                CAPTURE(std::string(loom::isa_name(isa)));
                const double errors[4] = {forward_error<float>(bound.tile, s, 11), forward_error<double>(bound.tile, s, 11),
                                          weight_gradient_error<float>(bound.tile, s, 12),
                                          weight_gradient_error<double>(bound.tile, s, 12)};
                CHECK(errors[0] < bound.forward_float);
                CHECK(errors[1] < bound.forward_double);
                CHECK(errors[2] < bound.weight_float);
                CHECK(errors[3] < bound.weight_double);
            }
        }
    }
}

TEST_CASE("winograd weight gradient: bitwise the same for 1 and 2 threads") {
    const Shape4 s{14, 14, 20, 50, Padding::Same, 40};  // LeNet's second convolution, several groups
    const ConvGeometry g = geometry(s);
    loom::Rng rng(3);
    std::vector<float> x(s.samples * g.input_size()), dy(s.samples * g.output_positions() * s.f);
    for (auto& v : x) v = static_cast<float>(rng.uniform(-1, 1));
    for (auto& v : dy) v = static_cast<float>(rng.uniform(-1, 1));
    for (const Tile tile : {Tile::F2, Tile::F4}) {
        std::vector<float> one(25 * s.c * s.f), two(one.size());
        {
            loom_test::ScopedThreads threads(1);
            loom::kernels::winograd::weight_gradient(tile, x.data(), s.samples, g, dy.data(), s.f, one.data());
        }
        {
            loom_test::ScopedThreads threads(2);
            loom::kernels::winograd::weight_gradient(tile, x.data(), s.samples, g, dy.data(), s.f, two.data());
        }
        CHECK(one == two);
    }
}

TEST_CASE("Conv2D with Winograd: same forward, input and weight gradients as im2col + GEMM") {
    for (const auto padding : {Padding::Same, Padding::Valid}) {
        loom::Conv2D<double> fast(9, 5, padding), plain(9, 5, padding);
        loom::Rng rng(5), rng2(5);
        fast.build({11, 10, 8}, rng);
        plain.build({11, 10, 8}, rng2);
        fast.set_algorithm(loom::ConvAlgorithm::Winograd);
        plain.set_algorithm(loom::ConvAlgorithm::Im2col);
        CHECK(fast.uses_winograd());
        CHECK_FALSE(plain.uses_winograd());
        loom::Tensor<double> x(loom::Shape{3, 11, 10, 8});
        loom_test::fill_random(x, rng);
        const loom::Tensor<double> y1(fast.forward(x, true)), y2(plain.forward(x, true));
        REQUIRE(y1.shape() == y2.shape());
        for (std::size_t i = 0; i < y1.size(); ++i) CHECK(y1[i] == doctest::Approx(y2[i]).epsilon(1e-12));
        loom::Tensor<double> r(y1.shape());
        loom_test::fill_random(r, rng);
        const loom::Tensor<double> dx1(fast.backward(r)), dx2(plain.backward(r));
        for (std::size_t i = 0; i < dx1.size(); ++i) CHECK(dx1[i] == doctest::Approx(dx2[i]).epsilon(1e-12));
        const auto& dw1 = *fast.parameters()[0].grad;
        const auto& dw2 = *plain.parameters()[0].grad;
        for (std::size_t i = 0; i < dw1.size(); ++i) CHECK(dw1[i] == doctest::Approx(dw2[i]).epsilon(1e-12));
    }
}

TEST_CASE("Conv2D Auto on a Winograd shape: Winograd's results for every pass, close to im2col's") {
    loom::Conv2D<double> automatic(9, 5, Padding::Same), winograd(9, 5, Padding::Same), plain(9, 5, Padding::Same);
    loom::Rng rng(8), rng2(8), rng3(8);
    automatic.build({7, 7, 8}, rng);
    winograd.build({7, 7, 8}, rng2);
    plain.build({7, 7, 8}, rng3);
    winograd.set_algorithm(loom::ConvAlgorithm::Winograd);
    plain.set_algorithm(loom::ConvAlgorithm::Im2col);
    REQUIRE(automatic.uses_winograd());
    for (int step = 0; step < 2; ++step) {  // the second step reuses every buffer
        loom::Tensor<double> x(loom::Shape{2, 7, 7, 8}), r(loom::Shape{2, 7, 7, 9});
        loom_test::fill_random(x, rng);
        loom_test::fill_random(r, rng);
        const loom::Tensor<double> y1(automatic.forward(x, true)), y2(winograd.forward(x, true)), y3(plain.forward(x, true));
        const loom::Tensor<double> dx1(automatic.backward(r)), dx2(winograd.backward(r)), dx3(plain.backward(r));
        const auto& dw1 = *automatic.parameters()[0].grad;
        const auto& dw2 = *winograd.parameters()[0].grad;
        const auto& dw3 = *plain.parameters()[0].grad;
        for (std::size_t i = 0; i < y1.size(); ++i) CHECK(y1[i] == y2[i]);
        for (std::size_t i = 0; i < dx1.size(); ++i) {
            CHECK(dx1[i] == dx2[i]);
            CHECK(dx1[i] == doctest::Approx(dx3[i]).epsilon(1e-12));
        }
        for (std::size_t i = 0; i < dw1.size(); ++i) {
            CHECK(dw1[i] == dw2[i]);
            CHECK(dw1[i] == doctest::Approx(dw3[i]).epsilon(1e-12));
        }
    }
}

TEST_CASE("Conv2D with Winograd: finite-difference gradients") {
    for (const auto padding : {Padding::Same, Padding::Valid}) {
        loom::Conv2D<double> conv(3, 5, padding, 1, loom::Initializer::glorot_uniform(), loom::Initializer::uniform(0.3));
        conv.set_algorithm(loom::ConvAlgorithm::Winograd);
        loom_test::check_layer_gradients(conv, {7, 6, 2}, 2);
    }
}

TEST_CASE("Conv2D algorithm choice: Auto takes Winograd only where it applies and pays") {
    loom::Rng rng(1);
    loom::Conv2D<float> conv1(20, 5, Padding::Same), conv2(50, 5, Padding::Same), strided(50, 5, Padding::Same, 2),
        three(50, 3, Padding::Same);
    conv1.build({28, 28, 1}, rng);
    conv2.build({14, 14, 20}, rng);
    strided.build({14, 14, 20}, rng);
    three.build({14, 14, 20}, rng);
    CHECK(conv1.forward_algorithm() == loom::ConvAlgorithm::Direct);  // one input channel
    CHECK(conv2.uses_winograd());
    CHECK_FALSE(strided.uses_winograd());
    CHECK_FALSE(three.uses_winograd());
    conv1.set_algorithm(loom::ConvAlgorithm::Winograd);
    CHECK(conv1.uses_winograd());
    three.set_algorithm(loom::ConvAlgorithm::Winograd);
    CHECK_FALSE(three.uses_winograd());
    loom::Tensor<float> x(loom::Shape{1, 14, 14, 20});
    CHECK_THROWS_AS(three.forward(x, false), loom::ArgumentError);
}
