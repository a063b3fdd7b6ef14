// The bad-input catalogue of docs/errors.md: every way a caller or a file can be wrong gives the
// documented exception type, never a crash, a hang or a silently wrong result. Each case checks the
// exact type, its stable id and the key facts of the message (expected vs found, with the temporary
// directory shown as <dir>), not the whole sentence: see tests/expect_error.hpp.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <source_location>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "temp_dir.hpp"
#include "fit_helpers.hpp"
#include "loom/loom.hpp"

namespace fs = std::filesystem;
using loom_test::expect_error;

namespace {

using loom_test::quiet;
using loom_test::weights;

void write_bytes(const fs::path& p, const std::vector<unsigned char>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<unsigned char> read_bytes(const fs::path& p) { return loom::model_file::read_file(p); }

void write_gz(const fs::path& p, const std::vector<unsigned char>& bytes) {
    gzFile f = gzopen(p.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

// A small classifier of (6, 6, 1) images into 3 classes, and data for it.
loom::Sequential<float> classifier(std::uint64_t seed = 17) {
    loom::Sequential<float> net({6, 6, 1}, seed);
    net.add<loom::Conv2D>(2, 3).add<loom::Tanh>().add<loom::Flatten>().add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(0.01));
    return net;
}

loom::Tensor<float> images(std::size_t n, std::uint64_t seed = 3) {
    loom::Tensor<float> x(loom::Shape{n, 6, 6, 1});
    loom::Rng rng(seed);
    for (auto& v : x) v = static_cast<float>(rng.uniform());
    return x;
}

std::vector<int> labels(std::size_t n) {
    std::vector<int> y(n);
    for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<int>(i % 3);
    return y;
}

// read_idx(dir / name) throws IoError with the facts; the file is named "<dir>/name" in every message.
void idx_error(const loom_test::TempDir& dir, const std::string& name, std::vector<std::string> facts,
               std::source_location where = std::source_location::current()) {
    facts.insert(facts.begin(), "<dir>/" + name);
    expect_error<loom::IoError>([&] { (void)loom::read_idx(dir / name); }, facts, dir.path, where);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// IDX files

TEST_CASE("bad input: IDX with a wrong magic number or element type") {
    loom_test::TempDir dir;
    write_bytes(dir / "m", {0x12, 0x34, 8, 1, 0, 0, 0, 1, 42});
    idx_error(dir, "m", {"magic number", "0x00 0x00", "found 0x12 0x34"});
    write_bytes(dir / "f", {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
    idx_error(dir, "f", {"element type 0x0D (float32)", "expected 0x08 (unsigned byte)"});
    write_bytes(dir / "empty", {});
    idx_error(dir, "empty", {"truncated", "4-byte header", "read 0 bytes"});
}

TEST_CASE("bad input: IDX with a wrong dimension count") {
    loom_test::TempDir dir;
    write_bytes(dir / "r0", {0, 0, 8, 0, 1});
    idx_error(dir, "r0", {"declares 0 dimensions", "1 to 6"});
    write_bytes(dir / "r200", {0, 0, 8, 200, 1});
    idx_error(dir, "r200", {"declares 200 dimensions", "1 to 6"});
    write_bytes(dir / "short", {0, 0, 8, 3, 0, 0, 0, 2, 0, 0});
    idx_error(dir, "short", {"truncated", "12 bytes of dimensions", "read 6"});
}

TEST_CASE("bad input: IDX sizes that overflow or cannot fit the file") {
    loom_test::TempDir dir;
    write_bytes(dir / "o", {0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1, 2, 3});
    idx_error(dir, "o", {"(4294967295, 4294967295, 4294967295)", "overflows 64 bits"});
    const std::vector<unsigned char> huge{0, 0, 8, 2, 255, 255, 255, 255, 0, 0, 255, 255, 1, 2, 3, 4};
    write_bytes(dir / "a", huge);
    idx_error(dir, "a", {"truncated", "(4294967295, 65535)", "281470681677825 bytes", "read 4"});
    write_gz(dir / "a.gz", huge);
    const auto gz_size = fs::file_size(dir / "a.gz");
    idx_error(dir, "a.gz",
              {"(4294967295, 65535)", "281470681677825 bytes", "gzip file of " + std::to_string(gz_size) + " bytes",
               "at most " + std::to_string(gz_size * 1032 + 1024)});
}

TEST_CASE("bad input: IDX with truncated data, plain and gzip") {
    loom_test::TempDir dir;
    const std::vector<unsigned char> cut{0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 4, 1, 2, 3, 4, 5};
    write_bytes(dir / "cut", cut);
    idx_error(dir, "cut", {"truncated", "(3, 4)", "12 bytes of data", "read 5"});
    write_gz(dir / "cut.gz", cut);
    idx_error(dir, "cut.gz", {"truncated", "(3, 4)", "12 bytes of data", "read 5"});
    // The compressed stream itself cut short: the payload is complete but the gzip trailer is missing.
    loom::Tensor<std::uint8_t> t(loom::Shape{2, 2}, {1, 2, 3, 4});
    loom::write_idx(dir / "full.gz", t, true);
    auto gz = read_bytes(dir / "full.gz");
    gz.resize(gz.size() - 4);
    write_bytes(dir / "cutz.gz", gz);
    idx_error(dir, "cutz.gz", {"truncated", "gzip stream ends before its checksum"});
    // Data beyond what the header declares.
    write_bytes(dir / "x", {0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3});
    idx_error(dir, "x", {"beyond the 2 bytes", "(2,)"});
}

TEST_CASE("bad input: IDX with corrupt gzip data") {
    loom_test::TempDir dir;
    loom::Tensor<std::uint8_t> t(loom::Shape{2, 2}, {1, 2, 3, 4});
    loom::write_idx(dir / "ok.gz", t, true);
    auto gz = read_bytes(dir / "ok.gz");
    gz[gz.size() - 8] ^= 0xFF;  // the CRC-32 in the trailer
    write_bytes(dir / "crc.gz", gz);
    idx_error(dir, "crc.gz", {"corrupt gzip", "incorrect data check"});
    auto bad = read_bytes(dir / "ok.gz");
    bad[10] = 0xFF;  // the first byte of the deflate stream: block type 3 is invalid
    write_bytes(dir / "bad.gz", bad);
    idx_error(dir, "bad.gz", {"corrupt gzip", "invalid block type"});
    auto tail = read_bytes(dir / "ok.gz");
    tail.insert(tail.end(), {0, 0, 0});
    write_bytes(dir / "tail.gz", tail);
    idx_error(dir, "tail.gz", {"corrupt gzip", "3 bytes after the end of the gzip stream"});
}

TEST_CASE("bad input: IDX from memory gives the same errors") {
    const std::vector<unsigned char> magic{0x12, 0x34, 8, 1, 0, 0, 0, 1, 42};
    expect_error<loom::IoError>([&] { (void)loom::read_idx_from_memory(magic, "labels"); },
                                {"labels", "magic number", "0x00 0x00", "found 0x12 0x34"});
    loom::Tensor<std::uint8_t> t(loom::Shape{2, 3}, {1, 2, 3, 4, 5, 6});
    loom_test::TempDir dir;
    loom::write_idx(dir / "t.gz", t, true);
    auto gz = read_bytes(dir / "t.gz");
    CHECK(loom::read_idx_from_memory(gz) == t);
    gz[gz.size() - 8] ^= 0xFF;
    expect_error<loom::IoError>([&] { (void)loom::read_idx_from_memory(gz, "t.gz"); },
                                {"t.gz", "corrupt gzip", "incorrect data check"});
    gz.resize(gz.size() - 6);
    expect_error<loom::IoError>([&] { (void)loom::read_idx_from_memory(gz, "t.gz"); },
                                {"t.gz", "truncated", "gzip stream ends before its checksum"});
}

// ---------------------------------------------------------------------------------------------
// Data sets: images and labels that disagree

TEST_CASE("bad input: images and labels with different counts") {
    auto net = classifier();
    expect_error<loom::ShapeError>([&] { net.fit(images(10), labels(9), quiet(1, 4)); },
                                   {"one label per sample", "10 samples", "9 labels"});
    expect_error<loom::ShapeError>([&] { (void)net.evaluate(images(10), labels(11)); },
                                   {"one label per sample", "10 samples", "11 labels"});
    const loom::Tensor<float> x = images(10), y = loom::one_hot<float>(labels(8), 3);
    expect_error<loom::ShapeError>([&] { net.fit(x.view(), y.view(), quiet(1, 4)); },
                                   {"as many targets as samples", "10 samples", "8 targets"});

    // Fashion-MNIST files whose image and label counts differ.
    loom_test::TempDir dir;
    loom::write_idx(dir / "train-images-idx3-ubyte.gz", loom::Tensor<std::uint8_t>(loom::Shape{5, 28, 28}), true);
    loom::write_idx(dir / "train-labels-idx1-ubyte.gz", loom::Tensor<std::uint8_t>(loom::Shape{4}), true);
    expect_error<loom::IoError>([&] { (void)loom::fashion_mnist::load(dir.path); },
                                {"<dir>/train-images-idx3-ubyte.gz", "5 images", "<dir>/train-labels-idx1-ubyte.gz",
                                 "4 labels"},
                                dir.path);
}

TEST_CASE("bad input: labels outside the range of classes") {
    auto net = classifier();
    auto y = labels(10);
    y[7] = 3;
    expect_error<loom::ArgumentError>([&] { net.fit(images(10), y, quiet(1, 4)); },
                                      {"one_hot", "label 3 at index 7", "outside [0, 3)"});
    y[7] = -1;
    expect_error<loom::ArgumentError>([&] { (void)net.evaluate(images(10), y); },
                                      {"one_hot", "label -1 at index 7", "outside [0, 3)"});

    loom_test::TempDir dir;
    loom::Tensor<std::uint8_t> bytes(loom::Shape{3}, {1, 10, 2});
    loom::write_idx(dir / "train-images-idx3-ubyte.gz", loom::Tensor<std::uint8_t>(loom::Shape{3, 28, 28}), true);
    loom::write_idx(dir / "train-labels-idx1-ubyte.gz", bytes, true);
    expect_error<loom::IoError>([&] { (void)loom::fashion_mnist::load(dir.path); },
                                {"<dir>/train-labels-idx1-ubyte.gz", "label 10 at index 1", "outside [0, 10)"},
                                dir.path);
}

// ---------------------------------------------------------------------------------------------
// Model files

TEST_CASE("bad input: truncated, flipped, padded and foreign model files") {
    loom_test::TempDir dir;
    auto net = classifier();
    const auto path = dir / "m.loom";
    net.save(path);
    const auto bytes = read_bytes(path);
    // Loading these bytes as <dir>/b.loom throws IoError naming the file, with the facts.
    auto load_error = [&](const std::vector<unsigned char>& b, std::vector<std::string> facts,
                          std::source_location where = std::source_location::current()) {
        write_bytes(dir / "b.loom", b);
        facts.insert(facts.begin(), "<dir>/b.loom");
        expect_error<loom::IoError>([&] { (void)loom::Sequential<float>::load(dir / "b.loom"); }, facts, dir.path,
                                    where);
    };
    // (every truncation and every flipped byte: "every truncation and every flipped byte of a model file throws IoError")
    load_error({bytes.begin(), bytes.begin() + 20}, {"too short", "20 bytes", "header alone is 28"});
    load_error({bytes.begin(), bytes.end() - 1},
               {"announces " + std::to_string(bytes.size() - 28) + " bytes of payload",
                "holds " + std::to_string(bytes.size() - 29)});
    auto flipped = bytes;
    flipped[100] ^= 0x5A;
    load_error(flipped, {"checksum mismatch"});
    auto newer = bytes;
    newer[8] = 2;
    load_error(newer, {"version 2 is not supported", "versions 1 to 1"});
    expect_error<loom::IoError>([&] { (void)loom::Sequential<double>::load(path); },
                                {"<dir>/m.loom", "holds 32-bit values", "as one of 64-bit values"}, dir.path);
    const std::string text = "this is not a model at all, just some text";
    load_error({text.begin(), text.end()}, {"not a loom model file", "magic"});
    expect_error<loom::IoError>([&] { (void)loom::Sequential<float>::load(dir / "missing.loom"); },
                                {"<dir>/missing.loom", "No such file or directory"}, dir.path);
}

TEST_CASE("bad input: a model file whose checksum is right but whose content is not") {
    // Rewrites the payload of a valid file and fixes up the frame, as a buggy writer would.
    auto reframe = [](std::vector<unsigned char> payload) {
        return loom::model_file::frame(loom::model_file::magic, loom::model_file::format_version, 4, payload);
    };
    // Loading the payload as m.loom throws IoError naming the file, with the facts.
    auto load = [&](const loom::ByteWriter& payload, std::vector<std::string> facts,
                    std::source_location where = std::source_location::current()) {
        const auto bytes = reframe(payload.bytes());
        facts.insert(facts.begin(), "m.loom");
        expect_error<loom::IoError>([&] { (void)loom::Sequential<float>::load_from_memory(bytes, "m.loom"); }, facts,
                                    {}, where);
    };
    loom::ByteWriter w;
    w.put(std::uint32_t{1});
    w.put(std::uint64_t{4});
    w.put(std::uint32_t{1});  // one layer
    w.put_string("Dense");
    loom::LayerConfig config;
    config.set("units", std::int64_t{-1}).set("kernel_init", std::int64_t{0}).set("kernel_init_range", 0.0);
    config.set("bias_init", std::int64_t{0}).set("bias_init_range", 0.0);
    config.write(w);
    w.put(std::uint32_t{0});
    load(w, {"layer 0 (Dense)", "'units' is -1", "expected 1 to 16777216"});
    config.set("units", std::int64_t{2});
    loom::ByteWriter empty;
    empty.put(std::uint32_t{1});
    empty.put(std::uint64_t{4});
    empty.put(std::uint32_t{0});  // a model without layers is valid (save() writes one)
    CHECK(loom::Sequential<float>::load_from_memory(reframe(empty.bytes())).size() == 0);

    // A Dense layer of 2^24 units on 2^20 inputs would need 2^44 weights; the file holds none.
    loom::ByteWriter big;
    big.put(std::uint32_t{1});
    big.put(std::uint64_t{1} << 20);
    big.put(std::uint32_t{1});
    big.put_string("Dense");
    config.set("units", std::int64_t{1} << 24);
    config.write(big);
    big.put(std::uint32_t{0});
    load(big, {"layer 0 (Dense)", "needs 17592202821632 parameter values", "(1048576,)", "holds 0"});

    loom::ByteWriter unknown;
    unknown.put(std::uint32_t{1});
    unknown.put(std::uint64_t{4});
    unknown.put(std::uint32_t{1});
    unknown.put_string("Transformer");
    loom::LayerConfig().write(unknown);
    unknown.put(std::uint32_t{0});
    load(unknown, {"layer 0 (Transformer)", "unknown layer type 'Transformer'", "LOOM_REGISTER_LAYER"});
}

TEST_CASE("bad input: a model used on data of another shape") {
    loom_test::TempDir dir;
    auto net = classifier();
    net.save(dir / "m.loom");
    auto loaded = loom::Sequential<float>::load(dir / "m.loom");
    const loom::Tensor<float> other(loom::Shape{4, 28, 28, 1});
    expect_error<loom::ShapeError>([&] { (void)loaded.predict(other); },
                                   {"input of shape (N, 6, 6, 1)", "got (4, 28, 28, 1)"});
    loaded.compile(loom::CrossEntropy{}, loom::Adam(0.01));
    expect_error<loom::ShapeError>([&] { (void)loaded.evaluate(other, labels(4)); },
                                   {"input of shape (N, 6, 6, 1)", "got (4, 28, 28, 1)"});
    std::vector<int> ten(4, 9);  // labels of a 10-class problem on a 3-class model
    expect_error<loom::ArgumentError>([&] { (void)loaded.evaluate(images(4), ten); },
                                      {"one_hot", "label 9 at index 0", "outside [0, 3)"});
    // One-hot targets of the wrong width.
    const auto wide = loom::one_hot<float>(labels(4), 10);
    expect_error<loom::ShapeError>([&] { (void)loaded.evaluate(images(4).view(), wide.view()); },
                                   {"targets of shape (N, 3,)", "got (4, 10)"});
}

TEST_CASE("bad input: a checkpoint of a model with another architecture") {
    loom_test::TempDir dir;
    auto o = quiet(1, 4);
    o.checkpoint_path = dir / "run.ckpt";
    o.checkpoint_every = 1;
    auto net = classifier();
    net.fit(images(12), labels(12), o);

    // The same layers on 8x8 inputs: the input shape differs.
    loom::Sequential<float> wider({8, 8, 1}, 17);
    wider.add<loom::Conv2D>(2, 3).add<loom::Tanh>().add<loom::Flatten>().add<loom::Dense>(3).add<loom::Softmax>();
    wider.compile(loom::CrossEntropy{}, loom::Adam(0.01));
    loom::Tensor<float> x8(loom::Shape{12, 8, 8, 1});
    o.resume = true;
    o.epochs = 2;
    expect_error<loom::IoError>([&] { wider.fit(x8, labels(12), o); },
                                {"<dir>/run.ckpt", "holds a model with input (6, 6, 1) and 5 layers",
                                 "this model has input (8, 8, 1) and 5 layers"},
                                dir.path);

    // Same input, different layer: 4 filters instead of 2.
    loom::Sequential<float> more({6, 6, 1}, 17);
    more.add<loom::Conv2D>(4, 3).add<loom::Tanh>().add<loom::Flatten>().add<loom::Dense>(3).add<loom::Softmax>();
    more.compile(loom::CrossEntropy{}, loom::Adam(0.01));
    expect_error<loom::IoError>([&] { more.fit(images(12), labels(12), o); },
                                {"<dir>/run.ckpt", "layer 0", "'kernel' of shape (3, 3, 1, 2) where",
                                 "'kernel' of shape (3, 3, 1, 4) was expected"},
                                dir.path);
}

// ---------------------------------------------------------------------------------------------
// Models that cannot be built

TEST_CASE("bad input: shapes that do not chain at add") {
    loom::Sequential<float> net({28, 28, 1});
    expect_error<loom::ShapeError>([&] { net.add<loom::Dense>(10); },
                                   {"layer 0 (Dense)", "flat input", "got (28, 28, 1)", "add a Flatten layer"});
    loom::Sequential<float> flat({10});
    expect_error<loom::ShapeError>([&] { flat.add<loom::Conv2D>(4, 3); },
                                   {"layer 0 (Conv2D)", "(height, width, channels)", "got (10,)"});
    loom::Sequential<float> small({3, 3, 1});
    small.add<loom::Conv2D>(4, 3);
    expect_error<loom::ShapeError>([&] { small.add<loom::MaxPool2D>(2); },
                                   {"layer 1 (MaxPool2D)", "output shape (1, 1, 4)", "window of size 2",
                                    "input extent of 1"});
    expect_error<loom::ShapeError>([] { loom::Sequential<float> none(loom::Shape{0, 4}); },
                                   {"Sequential", "non-empty per-sample input shape", "got (0, 4)"});
    expect_error<loom::ArgumentError>([] { loom::Dense<float> d(0); }, {"Dense", "at least 1 unit", "got 0"});
}

// ---------------------------------------------------------------------------------------------
// Empty data sets and batch sizes

TEST_CASE("bad input: fit, evaluate and predict on 0 samples") {
    auto net = classifier();
    const auto none = images(0);
    expect_error<loom::ArgumentError>([&] { net.fit(none, labels(0), quiet(1, 4)); }, {"fit:", "no training samples"});
    expect_error<loom::ArgumentError>([&] { (void)net.evaluate(none, labels(0)); }, {"evaluate:", "no samples"});
    // Empty validation data is refused before any training.
    const auto x = images(6);
    const auto y = loom::one_hot<float>(labels(6), 3);
    const loom::Tensor<float> no_targets(loom::Shape{0, 3});
    const loom::ValidationData<float> empty{none.view(), no_targets.view()};
    const auto before = weights(net);
    expect_error<loom::ArgumentError>([&] { net.fit(x.view(), y.view(), empty, quiet(1, 4)); },
                                      {"fit:", "validation data has no samples"});
    CHECK(weights(net) == before);
    // predict on nothing is not an error: it returns (0, classes).
    const auto p = net.predict(none);
    CHECK(p.shape() == loom::Shape{0, 3});
    CHECK(net.predict_classes(none).empty());
}

TEST_CASE("bad input: batch size 0, and a batch size larger than the data") {
    auto net = classifier();
    const auto x = images(10);
    const auto y = labels(10);
    expect_error<loom::ArgumentError>([&] { net.fit(x, y, quiet(1, 0)); }, {"fit:", "batch size", "at least 1"});
    expect_error<loom::ArgumentError>([&] { (void)net.evaluate(x, y, 0); }, {"evaluate:", "batch size", "at least 1"});
    expect_error<loom::ArgumentError>([&] { (void)net.predict(x, 0); }, {"predict:", "batch size", "at least 1"});
    expect_error<loom::ArgumentError>([&] { net.fit(x, y, quiet(0, 4)); }, {"fit:", "at least 1 epoch"});

    // Larger than the data: one batch of all samples, exactly as batch size = N.
    auto all = classifier(), larger = classifier();
    auto o = quiet(3, 10);
    o.shuffle = false;
    all.fit(x, y, o);
    o.batch_size = 1000;
    const auto h = larger.fit(x, y, o);
    CHECK(h.epochs() == 3);
    CHECK(weights(larger) == weights(all));
    CHECK(larger.predict(x, 1000) == all.predict(x));
    CHECK(larger.evaluate(x, y, 1000).loss == all.evaluate(x, y).loss);
}

// ---------------------------------------------------------------------------------------------
// Non-finite losses

TEST_CASE("bad input: NaN in the loss stops fit, naming epoch and batch, with the last good weights") {
    // 12 samples, batches of 4 in order; only the third batch holds a NaN.
    auto x = images(12);
    const auto y = labels(12);
    x[10 * 36 + 5] = std::numeric_limits<float>::quiet_NaN();
    auto o = quiet(2, 4);
    o.shuffle = false;
    auto net = classifier();
    expect_error<loom::NumericError>([&] { net.fit(x, y, o); }, {"epoch 1", "batch 3 of 3", "loss became nan"});

    // The same model trained on the first two batches only.
    auto reference = classifier();
    loom::Tensor<float> first(loom::Shape{8, 6, 6, 1});
    std::copy(x.data(), x.data() + 8 * 36, first.data());
    o.epochs = 1;
    reference.fit(first, std::vector<int>(y.begin(), y.begin() + 8), o);
    CHECK(weights(net) == weights(reference));
    CHECK(net.predict(first) == reference.predict(first));
}

TEST_CASE("bad input: an infinite loss stops fit too") {
    loom::Sequential<double> net({1});
    net.add<loom::Dense>(1);
    net.compile(loom::MSE{}, loom::SGD(0.1));
    loom::Tensor<double> x({6, 1}, {1, 2, 3, 4, 5, 6});
    loom::Tensor<double> y({6, 1}, {1, 2, 3, 4, std::numeric_limits<double>::infinity(), 6});
    auto o = quiet(1, 2);
    o.shuffle = false;
    expect_error<loom::NumericError>([&] { net.fit(x.view(), y.view(), o); },
                                     {"epoch 1", "batch 3 of 3", "loss became inf"});
}
