#include <doctest/doctest.h>

#include <cstdint>

#include "loom/core/random.hpp"
#include "loom/core/tensor.hpp"

TEST_CASE("Tensor: construction, indexing, alignment") {
    int n = 3;  // an int extent must work without a cast
    loom::Tensor<float> x({n, 4, 5, 2});
    CHECK(x.size() == 120);
    CHECK(x.rank() == 4);
    CHECK(x.shape() == loom::Shape{3, 4, 5, 2});
    CHECK(reinterpret_cast<std::uintptr_t>(x.data()) % 64 == 0);
    for (float v : x) CHECK(v == 0.0f);
    x(2, 3, 4, 1) = 7.0f;
    CHECK(x[119] == 7.0f);
    CHECK(x.at(2, 3, 4, 1) == 7.0f);
    CHECK_THROWS_AS(x.at(3, 0, 0, 0), loom::ShapeError);
    CHECK_THROWS_AS(x.at(0, 0, 0), loom::ShapeError);
    loom::Tensor<std::uint8_t> bytes({5});
    CHECK(bytes.size() == 5);
    CHECK_THROWS_AS((loom::Tensor<float>({-1, 2})), loom::ShapeError);
}

TEST_CASE("Tensor: reshape and views share data") {
    loom::Tensor<double> t({2, 3}, {1, 2, 3, 4, 5, 6});
    auto flat = t.view().reshaped({6});
    CHECK(flat.data() == t.data());
    CHECK(flat[5] == 6.0);
    CHECK_THROWS_AS(t.reshape({4}), loom::ShapeError);
    t.reshape({3, 2});
    CHECK(t(2, 1) == 6.0);
    auto rows = t.rows(1, 3);
    CHECK(rows.shape() == loom::Shape{2, 2});
    CHECK(rows(0, 0) == 3.0);
    CHECK_THROWS_AS(t.rows(2, 4), loom::ShapeError);
    CHECK_THROWS_AS((loom::Tensor<double>({2, 2}, {1, 2, 3})), loom::ShapeError);
}

TEST_CASE("Tensor: resize keeps the allocation when shrinking") {
    loom::Tensor<float> t({100, 10});
    const float* before = t.data();
    t.resize({50, 10});
    CHECK(t.data() == before);
    t.resize({100, 10});
    CHECK(t.data() == before);
}

TEST_CASE("Rng: reproducible, uniform in range, unbiased shuffle") {
    loom::Rng a(5), b(5);
    for (int i = 0; i < 100; ++i) CHECK(a() == b());
    double lo = 1, hi = 0, sum = 0;
    for (int i = 0; i < 100000; ++i) {
        const double u = a.uniform();
        lo = std::min(lo, u);
        hi = std::max(hi, u);
        sum += u;
    }
    CHECK(lo >= 0.0);
    CHECK(hi < 1.0);
    CHECK(sum / 100000 == doctest::Approx(0.5).epsilon(0.01));
    auto p = a.permutation(10);
    std::sort(p.begin(), p.end());
    for (std::size_t i = 0; i < 10; ++i) CHECK(p[i] == i);
    std::array<int, 3> first_counts{};
    for (int i = 0; i < 30000; ++i) ++first_counts[a.permutation(3)[0]];
    for (int c : first_counts) CHECK(c == doctest::Approx(10000).epsilon(0.05));
}
