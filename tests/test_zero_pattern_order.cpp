// zero_pattern_order (data/zero_pattern_order.hpp): a stable permutation of the samples by the
// outline of their nonzero values, and on real images one that gives micro-panels of bytes many
// whole steps of zeros.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <vector>

#include "loom/core/tensor.hpp"
#include "loom/data/fashion_mnist.hpp"
#include "loom/data/zero_pattern_order.hpp"

namespace {

// An image of the given size with a filled box of nonzero pixels [left, right) x [top, bottom).
void draw_box(loom::Tensor<std::uint8_t>& x, std::size_t i, std::size_t left, std::size_t right, std::size_t top,
              std::size_t bottom) {
    const std::size_t h = x.dim(1), w = x.dim(2);
    for (std::size_t r = top; r < bottom; ++r)
        for (std::size_t c = left; c < right; ++c) x.data()[i * h * w + r * w + c] = 7;
}

// The share of (16-sample panel, pixel) pairs at which all 16 samples are zero, in the given order.
double zero_steps(const loom::Tensor<std::uint8_t>& x, const std::vector<std::size_t>& order) {
    const std::size_t per = x.size() / x.dim(0), panels = x.dim(0) / 16;
    std::size_t zero = 0;
    for (std::size_t q = 0; q < panels; ++q)
        for (std::size_t p = 0; p < per; ++p) {
            bool all = true;
            for (std::size_t i = 0; i < 16 && all; ++i) all = x.data()[order[q * 16 + i] * per + p] == 0;
            zero += all;
        }
    return static_cast<double>(zero) / static_cast<double>(panels * per);
}

}  // namespace

TEST_CASE("zero_pattern_order: images by the width, then the height, of their outline; stable") {
    loom::Tensor<std::uint8_t> x(loom::Shape{6, 5, 4, 1});
    draw_box(x, 0, 0, 4, 0, 5);  // 4 wide, 5 high
    draw_box(x, 1, 1, 3, 2, 3);  // 2 x 1
    // 2: blank, an outline of nothing
    draw_box(x, 3, 2, 4, 0, 5);  // 2 x 5
    draw_box(x, 4, 0, 2, 1, 2);  // 2 x 1, after sample 1 (stable)
    x.data()[5 * 20 + 3 * 4 + 3] = 1;  // a single pixel: 1 x 1
    const auto order = loom::zero_pattern_order(x.view());
    CHECK(order == std::vector<std::size_t>{2, 5, 1, 4, 3, 0});
}

TEST_CASE("zero_pattern_order: a channel's nonzero value counts for its pixel; flat samples by nonzero count") {
    loom::Tensor<std::uint8_t> rgb(loom::Shape{2, 2, 3, 3});
    rgb.data()[0 * 18 + (0 * 3 + 0) * 3 + 2] = 5;  // sample 0: pixels (0, 0) and (1, 2): 3 wide
    rgb.data()[0 * 18 + (1 * 3 + 2) * 3 + 1] = 5;
    rgb.data()[1 * 18 + (0 * 3 + 1) * 3 + 0] = 5;  // sample 1: pixel (0, 1) only
    CHECK(loom::zero_pattern_order(rgb.view()) == std::vector<std::size_t>{1, 0});

    loom::Tensor<std::uint8_t> flat(loom::Shape{4, 5});
    const std::uint8_t values[] = {1, 1, 1, 0, 0, /**/ 0, 0, 0, 0, 9, /**/ 3, 3, 3, 3, 3, /**/ 0, 4, 0, 4, 0};
    std::copy(std::begin(values), std::end(values), flat.data());
    CHECK(loom::zero_pattern_order(flat.view()) == std::vector<std::size_t>{1, 3, 0, 2});

    CHECK(loom::zero_pattern_order(loom::Tensor<std::uint8_t>(loom::Shape{0, 28, 28, 1}).view()).empty());
}

TEST_CASE("zero_pattern_order: on Fashion-MNIST, many more all-zero panel steps than the data set's order") {
    const std::filesystem::path dir = loom::fashion_mnist::default_dir;
    if (!std::filesystem::exists(loom::fashion_mnist::file_path(dir, loom::fashion_mnist::Split::test, true))) {
        MESSAGE("Fashion-MNIST not installed: skipped");
        return;
    }
    const auto data = loom::fashion_mnist::load_bytes(dir, loom::fashion_mnist::Split::test, 4096);
    const auto order = loom::zero_pattern_order(data.images.view());
    std::vector<std::size_t> sorted = order, identity(order.size());
    std::sort(sorted.begin(), sorted.end());
    std::iota(identity.begin(), identity.end(), std::size_t{0});
    REQUIRE(sorted == identity);  // a permutation
    const double before = zero_steps(data.images, identity), after = zero_steps(data.images, order);
    MESSAGE("all-zero (16-image panel, pixel) steps: ", before, " in file order, ", after, " ordered");
    CHECK(after > 3 * before);
    CHECK(after > 0.25);
}
