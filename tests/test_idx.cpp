// IDX reading and writing: round trips, and every way a file can be damaged or foreign.
#include <doctest/doctest.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <source_location>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "temp_dir.hpp"
#include "loom/data/idx.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<unsigned char>& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const fs::path& p, const std::vector<unsigned char>& bytes) {
    gzFile f = gzopen(p.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

loom::Tensor<std::uint8_t> sample_tensor() {
    loom::Tensor<std::uint8_t> t(loom::Shape{3, 4, 5});
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return t;
}

// Reading `p` throws IoError with the facts in its message.
void read_error(const fs::path& p, const std::vector<std::string>& facts,
                std::source_location where = std::source_location::current()) {
    loom_test::expect_error<loom::IoError>([&] { (void)loom::read_idx(p); }, facts, {}, where);
}

}  // namespace

TEST_CASE("idx: plain and gzip round trips") {
    loom_test::TempDir dir;
    const auto t = sample_tensor();
    for (bool gzip : {false, true}) {
        const auto p = dir / (gzip ? "t.idx.gz" : "t.idx");
        loom::write_idx(p, t, gzip);
        CHECK(loom::read_idx(p) == t);
        const auto bytes = file_bytes(p);
        REQUIRE(bytes.size() >= 2);
        if (gzip) {
            CHECK(bytes[0] == 0x1f);
            CHECK(bytes[1] == 0x8b);
        } else {
            CHECK(bytes.size() == 4 + 3 * 4 + t.size());
            CHECK(std::vector<unsigned char>(bytes.begin(), bytes.begin() + 8) ==
                  std::vector<unsigned char>{0, 0, 8, 3, 0, 0, 0, 3});
        }
        CHECK_FALSE(fs::exists(p.string() + ".tmp"));
    }
}

TEST_CASE("idx: rank 1, empty extents and max_items") {
    loom_test::TempDir dir;
    loom::Tensor<std::uint8_t> labels(loom::Shape{5}, {9, 8, 7, 6, 5});
    loom::write_idx(dir / "l.gz", labels, true);
    CHECK(loom::read_idx(dir / "l.gz") == labels);
    const auto first = loom::read_idx(dir / "l.gz", 2);
    CHECK(first == loom::Tensor<std::uint8_t>(loom::Shape{2}, {9, 8}));

    const auto t = sample_tensor();
    loom::write_idx(dir / "t", t, false);
    const auto head = loom::read_idx(dir / "t", 1);
    CHECK(head.shape() == loom::Shape{1, 4, 5});
    CHECK(std::equal(head.begin(), head.end(), t.begin()));

    loom::Tensor<std::uint8_t> empty(loom::Shape{0, 28, 28});
    loom::write_idx(dir / "e", empty, false);
    CHECK(loom::read_idx(dir / "e").shape() == loom::Shape{0, 28, 28});
}

TEST_CASE("idx: missing file names the path") {
    read_error("/nonexistent/loom/nothing-idx1-ubyte.gz", {"nothing-idx1-ubyte.gz", "does not exist"});
}

TEST_CASE("idx: wrong magic") {
    loom_test::TempDir dir;
    write_bytes(dir / "m", {0x12, 0x34, 8, 1, 0, 0, 0, 1, 42});
    read_error(dir / "m", {"magic", "0x12 0x34"});
    write_bytes(dir / "short", {0});
    read_error(dir / "short", {"4-byte header"});
}

TEST_CASE("idx: unsupported element type is named") {
    loom_test::TempDir dir;
    write_bytes(dir / "f", {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
    read_error(dir / "f", {"0x0D", "float32", "0x08"});
}

TEST_CASE("idx: dimension count 0 or above the maximum rank") {
    loom_test::TempDir dir;
    write_bytes(dir / "r0", {0, 0, 8, 0, 1});
    read_error(dir / "r0", {"declares 0 dimensions"});
    std::vector<unsigned char> seven{0, 0, 8, 7};
    for (int i = 0; i < 7; ++i) seven.insert(seven.end(), {0, 0, 0, 1});
    seven.push_back(1);
    write_bytes(dir / "r7", seven);
    read_error(dir / "r7", {"declares 7 dimensions"});
}

TEST_CASE("idx: overflowing and absurd dimensions are rejected before allocating") {
    loom_test::TempDir dir;
    // 0xFFFFFFFF^3 overflows 64 bits.
    write_bytes(dir / "o", {0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1, 2, 3});
    read_error(dir / "o", {"overflows"});
    // 2^32 * 2^16 bytes do not overflow but cannot fit a 20-byte file, plain or compressed.
    const std::vector<unsigned char> huge{0, 0, 8, 2, 255, 255, 255, 255, 0, 0, 255, 255, 1, 2, 3, 4};
    write_bytes(dir / "a", huge);
    read_error(dir / "a", {"need 281470681677825 bytes of data, read 4"});
    write_gz(dir / "a.gz", huge);
    read_error(dir / "a.gz", {"can hold at most"});
}

TEST_CASE("idx: truncation at several offsets, plain and gzip") {
    loom_test::TempDir dir;
    const auto t = sample_tensor();
    loom::write_idx(dir / "full", t, false);
    const auto bytes = file_bytes(dir / "full");
    for (std::size_t keep : {std::size_t{2}, std::size_t{6}, std::size_t{16}, std::size_t{17}, bytes.size() - 1}) {
        CAPTURE(keep);
        const std::vector<unsigned char> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep));
        write_bytes(dir / "cut", cut);
        write_gz(dir / "cut.gz", cut);
        for (const char* name : {"cut", "cut.gz"}) {
            CAPTURE(name);
            std::vector<std::string> facts{"truncated"};
            if (keep > 16) facts.push_back("need 60 bytes of data, read " + std::to_string(keep - 16));
            read_error(dir / name, facts);
        }
    }
    // A gzip file cut short (the compressed stream itself ends early).
    loom::write_idx(dir / "full.gz", t, true);
    const auto gz = file_bytes(dir / "full.gz");
    for (std::size_t keep : {gz.size() / 2, gz.size() - 4}) {
        CAPTURE(keep);
        write_bytes(dir / "cutz.gz", std::vector<unsigned char>(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(keep)));
        read_error(dir / "cutz.gz", {"truncated"});
    }
}

TEST_CASE("idx: trailing data is rejected") {
    loom_test::TempDir dir;
    write_bytes(dir / "x", {0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3});
    read_error(dir / "x", {"beyond the 2 bytes"});
    write_gz(dir / "x.gz", {0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3});
    read_error(dir / "x.gz", {"beyond the 2 bytes"});
}

TEST_CASE("idx: corrupt gzip bytes") {
    loom_test::TempDir dir;
    // Incompressible-ish content so the deflate stream is long enough to damage in the middle.
    loom::Tensor<std::uint8_t> t(loom::Shape{64, 64});
    std::uint32_t state = 12345;
    for (auto& v : t) v = static_cast<std::uint8_t>((state = state * 1103515245u + 12345u) >> 24);
    loom::write_idx(dir / "ok.gz", t, true);
    const auto gz = file_bytes(dir / "ok.gz");

    auto damaged = gz;
    for (std::size_t i = 40; i < 60; ++i) damaged[i] ^= 0x5A;
    write_bytes(dir / "bad.gz", damaged);
    CHECK_THROWS_AS((void)loom::read_idx(dir / "bad.gz"), loom::IoError);

    // Damage only the CRC in the trailer: detected because reading checks for trailing data.
    auto bad_crc = gz;
    bad_crc[bad_crc.size() - 8] ^= 0xFF;
    write_bytes(dir / "crc.gz", bad_crc);
    read_error(dir / "crc.gz", {"corrupt gzip"});
}

TEST_CASE("idx: write_idx rejects scalars and leaves no temporary on failure") {
    loom_test::TempDir dir;
    CHECK_THROWS_AS(loom::write_idx(dir / "s", loom::Tensor<std::uint8_t>(), false), loom::ArgumentError);
    CHECK_THROWS_AS(loom::write_idx(dir / "no" / "such" / "dir" / "f", sample_tensor(), true), loom::IoError);
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 0);
}
