// Fashion-MNIST loading: a synthetic dataset in a temporary directory always, the real one when
// Debian's dataset-fashion-mnist package is installed.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <source_location>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "temp_dir.hpp"
#include "loom/data/fashion_mnist.hpp"

namespace fs = std::filesystem;
namespace fm = loom::fashion_mnist;

namespace {

// n images whose pixels all equal the sample index, labels i % 10.
void write_fake_split(const fs::path& dir, fm::Split split, std::size_t n, std::size_t label_count) {
    loom::Tensor<std::uint8_t> images(loom::Shape{n, 28, 28});
    for (std::size_t i = 0; i < n; ++i) std::fill_n(images.data() + i * 784, 784, static_cast<std::uint8_t>(i * 50));
    loom::Tensor<std::uint8_t> labels(loom::Shape{label_count});
    for (std::size_t i = 0; i < label_count; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
    loom::write_idx(fm::file_path(dir, split, true), images, true);
    loom::write_idx(fm::file_path(dir, split, false), labels, true);
}

// Loading the split throws IoError with the facts in its message.
void load_error(const fs::path& dir, fm::Split split, const std::vector<std::string>& facts,
                std::source_location where = std::source_location::current()) {
    loom_test::expect_error<loom::IoError>([&] { (void)fm::load(dir, split); }, facts, {}, where);
}

}  // namespace

TEST_CASE("fashion_mnist: class names in label order") {
    CHECK(fm::class_names.size() == 10);
    CHECK(fm::class_names[0] == "T-shirt/top");
    CHECK(fm::class_names[5] == "Sandal");
    CHECK(fm::class_names[9] == "Ankle boot");
}

TEST_CASE("fashion_mnist: synthetic split loads with shape, scale and limit") {
    loom_test::TempDir dir;
    write_fake_split(dir.path, fm::Split::test, 4, 4);
    const auto data = fm::load(dir.path, fm::Split::test);
    CHECK(data.images.shape() == loom::Shape{4, 28, 28, 1});
    CHECK(data.size() == 4);
    CHECK(data.labels == std::vector<int>{0, 1, 2, 3});
    CHECK(data.images(3, 27, 27, 0) == doctest::Approx(150.0f / 255.0f));
    const auto two = fm::load(dir.path, fm::Split::test, 2);
    CHECK(two.images.shape() == loom::Shape{2, 28, 28, 1});
    CHECK(two.labels == std::vector<int>{0, 1});
}

TEST_CASE("fashion_mnist: load_bytes keeps the pixels that load scales, and checks the files alike") {
    loom_test::TempDir dir;
    write_fake_split(dir.path, fm::Split::test, 5, 5);
    const auto bytes = fm::load_bytes(dir.path, fm::Split::test);
    const auto floats = fm::load(dir.path, fm::Split::test);
    CHECK(bytes.images.shape() == loom::Shape{5, 28, 28, 1});
    CHECK(bytes.size() == 5);
    CHECK(bytes.labels == floats.labels);
    CHECK(bytes.images(4, 27, 27, 0) == 200);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < bytes.images.size(); ++i)
        differ += floats.images[i] != static_cast<float>(bytes.images[i]) * (1.0f / 255.0f);
    CHECK(differ == 0);
    loom::Tensor<float> converted;
    CHECK(loom::Tensor<float>(bytes.samples().chunk(0, 5, converted)) == floats.images);
    CHECK(bytes.images_as(1, 3) == loom::Tensor<float>(floats.images.rows(1, 4)));
    CHECK(fm::load_bytes(dir.path, fm::Split::test, 2).images.shape() == loom::Shape{2, 28, 28, 1});

    write_fake_split(dir.path, fm::Split::train, 3, 4);
    loom_test::expect_error<loom::IoError>([&] { (void)fm::load_bytes(dir.path, fm::Split::train); },
                                           {"holds 3 images but"});
}

TEST_CASE("fashion_mnist: inconsistent or missing files") {
    loom_test::TempDir dir;
    write_fake_split(dir.path, fm::Split::train, 3, 4);
    load_error(dir.path, fm::Split::train, {"holds 3 images but"});

    load_error(dir.path, fm::Split::test, {"t10k-images-idx3-ubyte.gz", "dataset-fashion-mnist"});

    loom::write_idx(fm::file_path(dir.path, fm::Split::train, false),
                    loom::Tensor<std::uint8_t>(loom::Shape{3}, {0, 10, 1}), true);
    load_error(dir.path, fm::Split::train, {"label 10 at index 1"});
}

TEST_CASE("fashion_mnist: the installed dataset") {
    if (!fs::exists(fm::file_path(fm::default_dir, fm::Split::train, true))) {
        MESSAGE("Fashion-MNIST not installed at ", fm::default_dir, "; skipping (apt-get install dataset-fashion-mnist)");
        return;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto train = fm::load(fm::default_dir, fm::Split::train);
    const auto test = fm::load(fm::default_dir, fm::Split::test);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("loaded 70000 Fashion-MNIST samples in ", seconds, " s");

    CHECK(train.images.shape() == loom::Shape{60000, 28, 28, 1});
    CHECK(test.images.shape() == loom::Shape{10000, 28, 28, 1});
    CHECK(train.labels.size() == 60000);
    CHECK(test.labels.size() == 10000);

    std::array<int, 10> counts{};
    for (int label : train.labels) ++counts[static_cast<std::size_t>(label)];
    for (int c : counts) CHECK(c == 6000);

    const auto [lo, hi] = std::minmax_element(train.images.begin(), train.images.end());
    CHECK(*lo == 0.0f);
    CHECK(*hi == 1.0f);

    // The bytes, scaled, are load's floats, bit for bit.
    const auto test_bytes = fm::load_bytes(fm::default_dir, fm::Split::test);
    CHECK(test_bytes.labels == test.labels);
    REQUIRE(test_bytes.images.shape() == test.images.shape());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < test.images.size(); ++i)
        differ += test.images[i] != static_cast<float>(test_bytes.images[i]) * (1.0f / 255.0f);
    CHECK(differ == 0);

    // The first training sample is an ankle boot, the first test sample too (well known from the dataset).
    CHECK(fm::class_names[static_cast<std::size_t>(train.labels[0])] == "Ankle boot");
    CHECK(fm::class_names[static_cast<std::size_t>(test.labels[0])] == "Ankle boot");
}
