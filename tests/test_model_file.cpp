// Model files: exact round trips, and every truncation or flipped byte is an IoError, never a crash.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "loom/loom.hpp"
#include "temp_dir.hpp"

namespace {

std::vector<unsigned char> read_bytes(const std::filesystem::path& p) { return loom::model_file::read_file(p); }

void write_bytes(const std::filesystem::path& p, const std::vector<unsigned char>& bytes, std::size_t count) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(count));
}

loom::Sequential<float> small_model() {
    loom::Sequential<float> net({6, 5, 2}, 3);
    net.add<loom::Conv2D>(3, 3, loom::Padding::Same, 2).add<loom::ReLU>().add<loom::MaxPool2D>(2, 1)
        .add<loom::Flatten>().add<loom::Dropout>(0.25).add<loom::Dense>(4).add<loom::Sigmoid>()
        .add<loom::Dense>(3).add<loom::Tanh>().add<loom::Dense>(2).add<loom::Softmax>();
    return net;
}

}  // namespace

TEST_CASE("save/load round trip gives identical predictions and architecture") {
    auto net = small_model();
    loom::Tensor<float> x({7, 6, 5, 2});
    loom::Rng rng(1);
    for (auto& v : x) v = static_cast<float>(rng.uniform());
    const loom_test::TempDir scratch;
    const auto path = scratch / "roundtrip.loom";
    net.save(path);
    auto again = loom::Sequential<float>::load(path);
    CHECK(again.size() == net.size());
    CHECK(again.param_count() == net.param_count());
    CHECK(again.output_shape() == net.output_shape());
    for (std::size_t i = 0; i < net.size(); ++i) CHECK(again.layer(i).type() == net.layer(i).type());
    CHECK(again.predict(x) == net.predict(x));
    // The encoding is deterministic, and saving over an existing file replaces it.
    const auto first = read_bytes(path);
    again.save(path);
    CHECK(read_bytes(path) == first);
    std::filesystem::remove(path);
}

TEST_CASE("every truncation and every flipped byte of a model file throws IoError") {
    auto net = small_model();
    const loom_test::TempDir scratch;
    const auto path = scratch / "good.loom", broken = scratch / "broken.loom";
    net.save(path);
    const auto bytes = read_bytes(path);
    REQUIRE(bytes.size() > loom::model_file::header_size);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        write_bytes(broken, bytes, cut);
        INFO("truncated to ", cut, " bytes");
        CHECK_THROWS_AS(loom::Sequential<float>::load(broken), loom::IoError);
    }
    for (std::size_t at = 0; at < bytes.size(); ++at) {
        auto flipped = bytes;
        flipped[at] ^= 0x5a;
        write_bytes(broken, flipped, flipped.size());
        INFO("byte ", at, " flipped");
        CHECK_THROWS_AS(loom::Sequential<float>::load(broken), loom::IoError);
    }
    auto padded = bytes;
    padded.push_back(0);
    write_bytes(broken, padded, padded.size());
    CHECK_THROWS_AS(loom::Sequential<float>::load(broken), loom::IoError);
    std::filesystem::remove(path);
    std::filesystem::remove(broken);
}

TEST_CASE("foreign files, newer versions, other element types and missing files are rejected clearly") {
    const loom_test::TempDir scratch;
    const auto path = scratch / "other.loom";
    auto net = small_model();
    net.save(path);
    CHECK_THROWS_WITH_AS(loom::Sequential<double>::load(path), doctest::Contains("32-bit"), loom::IoError);
    auto bytes = read_bytes(path);
    bytes[8] = 2;  // format version 2
    write_bytes(path, bytes, bytes.size());
    CHECK_THROWS_WITH_AS(loom::Sequential<float>::load(path), doctest::Contains("version 2"), loom::IoError);
    const std::string text = "this is not a model at all, just some text";
    write_bytes(path, std::vector<unsigned char>(text.begin(), text.end()), text.size());
    CHECK_THROWS_WITH_AS(loom::Sequential<float>::load(path), doctest::Contains("magic"), loom::IoError);
    std::filesystem::remove(path);
    CHECK_THROWS_AS(loom::Sequential<float>::load(path), loom::IoError);
}

TEST_CASE("a failed save throws and leaves the previous model intact") {
    auto net = small_model();
    const loom_test::TempDir scratch;
    CHECK_THROWS_AS(net.save(scratch / "no_such_dir" / "model.loom"), loom::IoError);
    const auto dir = scratch / "dir";
    std::filesystem::create_directories(dir);
    const auto path = dir / "model.loom";
    net.save(path);
    const auto before = read_bytes(path);
    if (::geteuid() != 0) {  // root ignores permissions
        std::filesystem::permissions(dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
        CHECK_THROWS_AS(net.save(path), loom::IoError);
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
    }
    CHECK(read_bytes(path) == before);
    for (const auto& entry : std::filesystem::directory_iterator(dir)) CHECK(entry.path() == path);  // no temp left
    std::filesystem::remove_all(dir);
}
