// Conv2D against a naive direct convolution, Dense against Eigen and a triple loop, MaxPool2D
// against a direct scan: float forward passes on odd and LeNet shapes.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <limits>

#include "loom/kernels/gemm_reference.hpp"
#include "loom/loom.hpp"

namespace {

void fill(loom::Tensor<float>& t, loom::Rng& rng) {
    for (auto& v : t) v = static_cast<float>(rng.uniform(-1, 1));
}

// out(n, oy, ox, f) = b(f) + sum_{ky, kx, c} x(n, oy*s + ky - pad_top, ox*s + kx - pad_left, c) w(ky, kx, c, f)
loom::Tensor<float> direct_conv(const loom::Tensor<float>& x, loom::Conv2D<float>& conv) {
    const auto& g = conv.geometry();
    const std::size_t filters = conv.weights().dim(3), n = x.dim(0);
    loom::Tensor<float> out({n, g.oh, g.ow, filters});
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t oy = 0; oy < g.oh; ++oy)
            for (std::size_t ox = 0; ox < g.ow; ++ox)
                for (std::size_t f = 0; f < filters; ++f) {
                    double sum = conv.bias()[f];
                    for (std::size_t ky = 0; ky < g.kh; ++ky)
                        for (std::size_t kx = 0; kx < g.kw; ++kx) {
                            const long iy = long(oy * g.stride_h + ky) - long(g.pad_top);
                            const long ix = long(ox * g.stride_w + kx) - long(g.pad_left);
                            if (iy < 0 || ix < 0 || iy >= long(g.h) || ix >= long(g.w)) continue;
                            for (std::size_t c = 0; c < g.c; ++c)
                                sum += double(x(s, std::size_t(iy), std::size_t(ix), c)) * conv.weights()(ky, kx, c, f);
                        }
                    out(s, oy, ox, f) = float(sum);
                }
    return out;
}

void check_near(loom::TensorView<const float> a, loom::TensorView<const float> b, float tol = 1e-4f) {
    REQUIRE(a.shape() == b.shape());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("element ", i);
        CHECK(std::abs(a[i] - b[i]) <= tol * std::max(1.0f, std::abs(b[i])));
    }
}

}  // namespace

TEST_CASE("Conv2D forward matches a direct convolution") {
    struct Case {
        std::size_t n, h, w, c, f, k, stride;
        loom::Padding padding;
    };
    const Case cases[] = {{1, 1, 1, 1, 1, 1, 1, loom::Padding::Valid},  {3, 7, 5, 3, 2, 3, 2, loom::Padding::Same},
                          {2, 13, 11, 2, 7, 5, 1, loom::Padding::Same}, {1, 9, 9, 1, 3, 4, 3, loom::Padding::Valid},
                          {4, 28, 28, 1, 20, 5, 1, loom::Padding::Same}, {2, 14, 14, 20, 50, 5, 1, loom::Padding::Same}};
    loom::Rng rng(9);
    for (const auto& k : cases) {
        CAPTURE(k.h);
        CAPTURE(k.c);
        loom::Conv2D<float> conv(k.f, k.k, k.padding, k.stride, loom::Initializer::glorot_uniform(),
                                 loom::Initializer::uniform(0.5));
        conv.build({k.h, k.w, k.c}, rng);
        loom::Tensor<float> x({k.n, k.h, k.w, k.c});
        fill(x, rng);
        check_near(conv.forward(x, false), direct_conv(x, conv));
    }
}

TEST_CASE("Dense forward matches Eigen and a triple loop") {
    loom::Rng rng(2);
    for (auto [n, in, out] : {std::array<std::size_t, 3>{1, 1, 1}, {3, 7, 13}, {64, 3136, 500}, {17, 31, 10}}) {
        loom::Dense<float> dense(out, loom::Initializer::glorot_uniform(), loom::Initializer::uniform(0.5));
        dense.build({in}, rng);
        loom::Tensor<float> x({n, in});
        fill(x, rng);
        const auto y = dense.forward(x, false);
        using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        Eigen::Map<const RowMajor> ex(x.data(), long(n), long(in)), ew(dense.weights().data(), long(in), long(out));
        Eigen::Map<const Eigen::RowVectorXf> eb(dense.bias().data(), long(out));
        const RowMajor expected = (ex * ew).rowwise() + eb;
        check_near(y, loom::TensorView<const float>(expected.data(), {n, out}));
        loom::Tensor<float> naive({n, out});
        loom::gemm_reference<float>(loom::Transpose::No, loom::Transpose::No, n, out, in, 1.0f, x.data(), in,
                                    dense.weights().data(), out, 0.0f, naive.data(), out);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < out; ++j) naive(i, j) += dense.bias()[j];
        check_near(y, naive);
    }
}

TEST_CASE("MaxPool2D forward takes window maxima") {
    // LeNet's 2x2 windows, other windows inside the image (3 by 2, 2 by 1, a last row and column left
    // over), and windows reaching into Same padding: the three ways MaxPool2D scans.
    struct Case {
        std::size_t h, w, c, pool, stride;
        loom::Padding padding;
    };
    const Case cases[] = {{28, 28, 20, 2, 2, loom::Padding::Valid}, {14, 14, 50, 2, 2, loom::Padding::Valid},
                          {7, 7, 3, 2, 2, loom::Padding::Valid},    {7, 5, 1, 3, 2, loom::Padding::Valid},
                          {5, 6, 3, 2, 1, loom::Padding::Valid},    {5, 3, 2, 2, 2, loom::Padding::Same},
                          {6, 7, 4, 3, 2, loom::Padding::Same}};
    loom::Rng rng(4);
    for (const Case& k : cases) {
        CAPTURE(k.h);
        CAPTURE(k.w);
        CAPTURE(k.pool);
        CAPTURE(k.stride);
        loom::MaxPool2D<float> pool(k.pool, k.stride, k.padding);
        pool.build({k.h, k.w, k.c}, rng);
        const auto rows = loom::window_1d(k.h, k.pool, k.stride, k.padding, "test");
        const auto cols = loom::window_1d(k.w, k.pool, k.stride, k.padding, "test");
        CHECK(pool.output_shape() == loom::Shape{rows.out, cols.out, k.c});
        loom::Tensor<float> x({3, k.h, k.w, k.c});
        fill(x, rng);
        const auto y = pool.forward(x, false);
        for (std::size_t s = 0; s < 3; ++s)
            for (std::size_t oy = 0; oy < rows.out; ++oy)
                for (std::size_t ox = 0; ox < cols.out; ++ox)
                    for (std::size_t c = 0; c < k.c; ++c) {
                        float best = -std::numeric_limits<float>::infinity();
                        for (std::size_t ky = 0; ky < k.pool; ++ky)
                            for (std::size_t kx = 0; kx < k.pool; ++kx) {
                                const long iy = long(oy * k.stride + ky) - long(rows.pad);
                                const long ix = long(ox * k.stride + kx) - long(cols.pad);
                                if (iy < 0 || ix < 0 || iy >= long(k.h) || ix >= long(k.w)) continue;
                                best = std::max(best, x(s, std::size_t(iy), std::size_t(ix), c));
                            }
                        CHECK(y(s, oy, ox, c) == best);
                    }
    }
}

TEST_CASE("float exp, tanh and sigmoid kernels are accurate to float rounding, every ISA") {
    // 40,001 values: whole vectors of every width and a remainder done one by one.
    std::vector<float> x;
    for (float v = -20; v <= 20; v += 0.001f) x.push_back(v);
    const float inf = std::numeric_limits<float>::infinity();
    for (float v : {1000.0f, -1000.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN()}) x.push_back(v);
    for (loom::Isa isa : {loom::Isa::Generic, loom::Isa::Avx2, loom::Isa::Avx512}) {
        if (!loom::isa_supported(isa)) continue;
        loom::ScopedIsa scoped(isa);
        CAPTURE(std::string(loom::isa_name(isa)));
        for (std::size_t count : {x.size(), std::size_t{1}, std::size_t{17}}) {  // from the start: vectors, one, a tail
            std::vector<float> t(count), s(count), e(count);
            loom::kernels::tanh(x.data(), t.data(), count);
            loom::kernels::sigmoid(x.data(), s.data(), count);
            loom::kernels::exp(x.data(), e.data(), count);
            double worst_tanh = 0, worst_sigmoid = 0, worst_exp = 0;  // exp: relative error
            for (std::size_t i = 0; i < std::min<std::size_t>(count, x.size() - 5); ++i) {
                worst_tanh = std::max(worst_tanh, std::abs(double(t[i]) - std::tanh(double(x[i]))));
                worst_sigmoid = std::max(worst_sigmoid, std::abs(double(s[i]) - 1 / (1 + std::exp(-double(x[i])))));
                worst_exp = std::max(worst_exp, std::abs(double(e[i]) / std::exp(double(x[i])) - 1));
            }
            CHECK(worst_tanh < 5e-7);
            CHECK(worst_sigmoid < 5e-7);
            CHECK(worst_exp < 5e-7);
        }
        std::vector<float> t(x.size()), s(x.size());
        loom::kernels::tanh(x.data(), t.data(), x.size());
        loom::kernels::sigmoid(x.data(), s.data(), x.size());
        const std::size_t last = x.size() - 5;  // 1000, -1000, inf, -inf, NaN: saturation, and NaN kept
        CHECK(t[last] == 1.0f);
        CHECK(t[last + 1] == -1.0f);
        CHECK(t[last + 2] == 1.0f);
        CHECK(t[last + 3] == -1.0f);
        CHECK(std::isnan(t[last + 4]));
        CHECK(s[last] == 1.0f);
        CHECK(s[last + 1] < 1e-37f);  // e^-87 at most: exp is clamped to stay finite
        CHECK(s[last + 2] == 1.0f);
        CHECK(s[last + 3] < 1e-37f);
        CHECK(std::isnan(s[last + 4]));
        // The vectors and the one-by-one remainder give the same bits.
        float one;
        for (std::size_t i = 0; i < 100; ++i) {
            loom::kernels::tanh(&x[i * 37], &one, 1);
            CHECK(one == t[i * 37]);
        }
    }
}
