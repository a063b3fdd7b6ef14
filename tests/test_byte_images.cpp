// Byte images (Samples<T> over bytes with a scale, data/samples.hpp): fit, evaluate and predict on
// them are bit for bit fit, evaluate and predict on the same images converted to floats first, and
// bad shapes or label counts are refused as they are for floats.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "expect_error.hpp"
#include "fit_helpers.hpp"
#include "temp_dir.hpp"
#include "loom/loom.hpp"

namespace {

using loom_test::expect_error;
using loom_test::quiet;
using loom_test::weights;

constexpr float scale = 1.0f / 255.0f;

// n random 6x6 grey images; the label says which third of the image is brightest, so there is
// something to learn and the weights move.
struct Images {
    loom::Tensor<std::uint8_t> pixels;
    std::vector<int> labels;
};

Images random_images(std::size_t n, std::uint64_t seed) {
    loom::Rng rng(seed);
    Images data{loom::Tensor<std::uint8_t>({n, 6, 6, 1}), std::vector<int>(n)};
    for (std::size_t i = 0; i < n; ++i) {
        unsigned sums[3] = {0, 0, 0};
        for (std::size_t r = 0; r < 6; ++r)
            for (std::size_t c = 0; c < 6; ++c) {
                const auto v = static_cast<std::uint8_t>(rng.below(256));
                data.pixels(i, r, c, std::size_t{0}) = v;
                sums[c / 2] += v;
            }
        data.labels[i] = sums[0] >= sums[1] && sums[0] >= sums[2] ? 0 : sums[1] >= sums[2] ? 1 : 2;
    }
    return data;
}

loom::Sequential<float> small_cnn() {
    loom::Sequential<float> net({6, 6, 1}, 11);
    net.add<loom::Conv2D>(4, 3, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
        .add<loom::Flatten>().add<loom::Dropout>(0.1).add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-2));
    return net;
}

}  // namespace

TEST_CASE("byte images: every byte times the scale is to_float's value, and gathered batches hold them") {
    loom::Tensor<std::uint8_t> all({256});
    for (std::size_t b = 0; b < 256; ++b) all[b] = static_cast<std::uint8_t>(b);
    const auto floats = loom::to_float(all.view(), scale);
    for (std::size_t b = 0; b < 256; ++b) CHECK(floats[b] == static_cast<float>(b) * (1.0f / 255.0f));

    const auto data = random_images(10, 1);
    const std::vector<std::size_t> idx{7, 0, 7, 3};
    loom::Tensor<float> from_bytes({4, 6, 6, 1}), from_floats({4, 6, 6, 1});
    loom::gather_rows(data.pixels.view(), idx, from_bytes, scale);
    loom::gather_rows<float>(loom::to_float(data.pixels.view(), scale), idx, from_floats);
    CHECK(from_bytes == from_floats);

    loom::Tensor<double> doubles({4, 6, 6, 1});
    loom::gather_rows(data.pixels.view(), idx, doubles, 1.0 / 255.0);
    CHECK(doubles(1, 2, 3, 0) == static_cast<double>(data.pixels(0, 2, 3, 0)) * (1.0 / 255.0));
}

TEST_CASE("Samples: values used in place, bytes converted a chunk or a batch at a time") {
    const auto data = random_images(10, 2);
    const auto floats = loom::to_float(data.pixels.view(), scale);

    const loom::Samples<float> values = floats;  // tensors and views of T convert implicitly
    CHECK_FALSE(values.holds_bytes());
    CHECK(values.shape() == floats.shape());
    loom::Tensor<float> buffer;
    const auto in_place = values.chunk(2, 5, buffer);
    CHECK(in_place.data() == floats.data() + 2 * 36);  // no copy
    CHECK(buffer.empty());

    const loom::Samples<float> bytes(data.pixels, scale);
    CHECK(bytes.holds_bytes());
    CHECK(bytes.scale() == scale);
    CHECK(bytes.shape() == loom::Shape{10, 6, 6, 1});
    const auto converted = bytes.chunk(2, 5, buffer);
    CHECK(converted.shape() == loom::Shape{3, 6, 6, 1});
    CHECK(loom::Tensor<float>(converted) == loom::Tensor<float>(floats.rows(2, 5)));

    const auto tail = bytes.rows(8, 10);
    CHECK(tail.shape() == loom::Shape{2, 6, 6, 1});
    CHECK(tail.bytes().data() == data.pixels.data() + 8 * 36);
    loom::Tensor<float> batch({2, 6, 6, 1}), expected({2, 6, 6, 1});
    const std::vector<std::size_t> idx{1, 0};
    tail.gather(idx, batch.view());
    values.rows(8, 10).gather(idx, expected.view());
    CHECK(batch == expected);
}

TEST_CASE("fit on byte images gives the weights, history and predictions of fit on the same floats") {
    const auto data = random_images(90, 3);
    const auto floats = loom::to_float(data.pixels.view(), scale);
    const loom::Samples<float> bytes(data.pixels, scale);

    SUBCASE("class labels, validation_split holding out bytes") {
        auto a = small_cnn(), b = small_cnn();
        const auto o = quiet(3, 16, 7, 0.2);  // 72 to train (batches of 16, last of 8), 18 held out
        const auto ha = a.fit(floats, data.labels, o);
        const auto hb = b.fit(bytes, data.labels, o);
        CHECK(weights(a) != weights(small_cnn()));
        CHECK(weights(b) == weights(a));
        CHECK(hb.loss == ha.loss);
        CHECK(hb.accuracy == ha.accuracy);
        CHECK(hb.val_loss == ha.val_loss);
        CHECK(hb.val_accuracy == ha.val_accuracy);

        const auto ea = a.evaluate(floats, data.labels, 25), eb = b.evaluate(bytes, data.labels, 25);
        CHECK(eb.loss == ea.loss);
        CHECK(eb.accuracy == ea.accuracy);
        CHECK(b.predict(bytes, 32) == a.predict(floats, 32));
        CHECK(b.predict_classes(bytes.rows(5, 9)) == a.predict_classes(floats.rows(5, 9)));
    }
    SUBCASE("targets, and byte validation data") {
        const auto targets = loom::one_hot<float>(data.labels, 3);
        const auto train_x = loom::to_float(data.pixels.rows(0, 60), scale);
        auto a = small_cnn(), b = small_cnn();
        const auto o = quiet(2, 10, 9);
        const auto ha = a.fit(train_x, targets.rows(0, 60),
                              loom::ValidationData<float>{floats.rows(60, 90), targets.rows(60, 90)}, o);
        const auto hb = b.fit(bytes.rows(0, 60), targets.rows(0, 60),
                              loom::ValidationData<float>{bytes.rows(60, 90), targets.rows(60, 90)}, o);
        CHECK(weights(b) == weights(a));
        CHECK(hb.loss == ha.loss);
        CHECK(hb.val_loss == ha.val_loss);
        CHECK(hb.val_accuracy == ha.val_accuracy);
    }
}

TEST_CASE("fit on byte images resumes from a checkpoint like an uninterrupted fit on floats") {
    const auto data = random_images(48, 4);
    const auto floats = loom::to_float(data.pixels.view(), scale);
    const loom::Samples<float> bytes(data.pixels, scale);
    auto straight = small_cnn();
    const auto full = straight.fit(floats, data.labels, quiet(3, 16, 5, 0.25));

    const loom_test::TempDir scratch;
    auto o = quiet(1, 16, 5, 0.25);
    o.checkpoint_path = scratch / "bytes.ckpt";
    o.checkpoint_every = 1;
    auto first = small_cnn();
    first.fit(bytes, data.labels, o);
    auto resumed = small_cnn();
    o.epochs = 3;
    o.resume = true;
    const auto rest = resumed.fit(bytes, data.labels, o);
    CHECK(weights(resumed) == weights(straight));
    CHECK(rest.val_loss == full.val_loss);
}

TEST_CASE("byte images: wrong shapes and label counts are refused") {
    const auto data = random_images(8, 5);
    auto net = small_cnn();
    const auto o = quiet(1, 4);

    // (8, 6, 6) without the channel axis, as an IDX file stores images.
    const auto flat = data.pixels.view().reshaped({8, 6, 6});
    const loom::Samples<float> no_channels(flat, scale);
    expect_error<loom::ShapeError>([&] { net.fit(no_channels, data.labels, o); },
                                   {"input", "(N, 6, 6, 1)", "(8, 6, 6)"});
    expect_error<loom::ShapeError>([&] { (void)net.predict(no_channels); }, {"input", "(N, 6, 6, 1)", "(8, 6, 6)"});
    expect_error<loom::ShapeError>([&] { (void)net.evaluate(no_channels, data.labels); }, {"(8, 6, 6)"});

    const loom::Samples<float> bytes(data.pixels, scale);
    const std::vector<int> seven(data.labels.begin(), data.labels.end() - 1);
    expect_error<loom::ShapeError>([&] { net.fit(bytes, seven, o); }, {"8 samples", "7 labels"});
    expect_error<loom::ShapeError>([&] { (void)net.evaluate(bytes, seven); }, {"8 samples", "7 labels"});
    const auto targets = loom::one_hot<float>(seven, 3);
    expect_error<loom::ShapeError>([&] { net.fit(bytes, targets, o); }, {"8 samples", "7 targets"});
    expect_error<loom::ShapeError>(
        [&] { net.fit(bytes.rows(0, 7), targets, loom::ValidationData<float>{no_channels.rows(0, 7), targets}, o); },
        {"input", "(7, 6, 6)"});
    expect_error<loom::ArgumentError>(
        [&] { net.fit(bytes.rows(0, 7), targets, loom::ValidationData<float>{bytes.rows(0, 0), targets.rows(0, 0)}, o); },
        {"validation data has no samples"});

    loom::Tensor<float> batch({2, 6, 6, 1});
    const std::vector<std::size_t> outside{1, 8};
    expect_error<loom::ArgumentError>([&] { bytes.gather(outside, batch.view()); }, {"index 8", "position 1", "8 source rows"});
    const std::vector<std::size_t> three{0, 1, 2};
    expect_error<loom::ShapeError>([&] { bytes.gather(three, batch.view()); }, {"2 rows for 3 indices"});
    loom::Tensor<float> wrong_sample({2, 6, 5, 1});
    const std::vector<std::size_t> two{0, 1};
    expect_error<loom::ShapeError>([&] { loom::gather_rows(data.pixels.view(), two, wrong_sample, scale); },
                                   {"(8, 6, 6, 1)", "(2, 6, 5, 1)"});
    expect_error<loom::ShapeError>([&] { (void)bytes.rows(3, 9); }, {"rows [3, 9)", "(8, 6, 6, 1)"});
}
