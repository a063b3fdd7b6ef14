// Byte-to-float scaling, labels, one-hot targets, argmax and minibatch gathering.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "loom/data/preprocess.hpp"

TEST_CASE("preprocess: to_float scales and keeps the shape") {
    loom::Tensor<std::uint8_t> bytes(loom::Shape{2, 2}, {0, 51, 255, 102});
    const auto f = loom::to_float(bytes.view(), 1.0f / 255.0f);
    CHECK(f.shape() == loom::Shape{2, 2});
    CHECK(f[0] == 0.0f);
    CHECK(f[1] == doctest::Approx(0.2f));
    CHECK(f[2] == doctest::Approx(1.0f));
    const auto d = loom::to_float<double>(bytes, 2.0);
    CHECK(d[3] == 204.0);
}

TEST_CASE("preprocess: labels_from and one_hot") {
    loom::Tensor<std::uint8_t> bytes(loom::Shape{3}, {2, 0, 1});
    const auto labels = loom::labels_from(bytes);
    CHECK(labels == std::vector<int>{2, 0, 1});
    CHECK_THROWS_AS(loom::labels_from(loom::Tensor<std::uint8_t>(loom::Shape{2, 2})), loom::ShapeError);

    const auto targets = loom::one_hot<float>(labels, 3);
    CHECK(targets == loom::Tensor<float>(loom::Shape{3, 3}, {0, 0, 1, 1, 0, 0, 0, 1, 0}));

    const std::vector<int> bad{0, 1, 3};
    loom_test::expect_error<loom::ArgumentError>([&] { (void)loom::one_hot<float>(bad, 3); }, {"label 3 at index 2"});
    CHECK_THROWS_AS((void)loom::one_hot<float>(std::vector<int>{-1}, 3), loom::ArgumentError);
    CHECK_THROWS_AS((void)loom::one_hot<float>(labels, 0), loom::ArgumentError);
}

TEST_CASE("preprocess: argmax_rows, ties to the first column, NaN never wins") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    loom::Tensor<float> scores(loom::Shape{4, 3}, {0.1f, 0.7f, 0.2f,  //
                                                   5, 5, 1,           //
                                                   nan, -1, -2,       //
                                                   -3, -2, -1});
    CHECK(loom::argmax_rows(scores) == std::vector<int>{1, 0, 1, 2});
    CHECK(loom::argmax_rows(scores.view()) == std::vector<int>{1, 0, 1, 2});
    std::vector<int> out(2);
    loom::argmax_rows(scores.rows(2, 4), std::span<int>(out));
    CHECK(out == std::vector<int>{1, 2});
    CHECK_THROWS_AS((void)loom::argmax_rows(loom::Tensor<float>(loom::Shape{3})), loom::ShapeError);
}

TEST_CASE("preprocess: gather_rows and gather_labels build a shuffled batch") {
    loom::Tensor<float> src(loom::Shape{4, 2, 1}, {0, 1, 10, 11, 20, 21, 30, 31});
    loom::Tensor<float> batch(loom::Shape{3, 2, 1});
    const std::vector<std::size_t> idx{3, 0, 3};
    loom::gather_rows(src, idx, batch.view());
    CHECK(batch == loom::Tensor<float>(loom::Shape{3, 2, 1}, {30, 31, 0, 1, 30, 31}));
    loom::gather_rows(src, std::span(idx).first(1), batch.rows(0, 1));
    CHECK(batch[0] == 30);

    CHECK_THROWS_AS(loom::gather_rows(src, std::span(idx).first(2), batch), loom::ShapeError);
    loom::Tensor<float> wrong_sample(loom::Shape{3, 1, 2});
    CHECK_THROWS_AS(loom::gather_rows(src, idx, wrong_sample), loom::ShapeError);
    const std::vector<std::size_t> out_of_range{0, 4, 1};
    CHECK_THROWS_AS(loom::gather_rows(src, out_of_range, batch), loom::ArgumentError);

    const std::vector<int> labels{7, 8, 9, 6};
    std::vector<int> batch_labels(3);
    loom::gather_labels(labels, idx, batch_labels);
    CHECK(batch_labels == std::vector<int>{6, 7, 6});
    CHECK_THROWS_AS(loom::gather_labels(labels, out_of_range, batch_labels), loom::ArgumentError);
}
