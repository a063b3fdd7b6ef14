// gzip streams: GzipReader from files and memory, gzip_compress, and zlib's own gz* functions as an
// independent reference.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <source_location>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "gzip_outcome.hpp"
#include "temp_dir.hpp"
#include "loom/data/gzip.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

namespace {

// Bytes that deflate cannot shrink, so compressed sizes stay close to the input size.
Bytes noise(std::size_t size, std::uint32_t seed) {
    Bytes out(size);
    for (auto& b : out) b = static_cast<unsigned char>((seed = seed * 1103515245u + 12345u) >> 24);
    return out;
}

Bytes text(std::size_t size) {
    const std::string line = "The quick brown fox jumps over the lazy dog. ";
    Bytes out(size);
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<unsigned char>(line[i % line.size()]);
    return out;
}

// Like cat(1): gzip members concatenated this way form one valid gzip stream.
Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes gzip(const Bytes& bytes) { return loom::gzip_compress(bytes, "test data"); }

void write_bytes(const fs::path& p, const Bytes& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

using Outcome = loom_test::GzipOutcome;
using loom_test::expect_error;
using loom_test::read_all;

Outcome from_memory(const Bytes& bytes) {
    loom::GzipReader in(bytes, "buffer");
    return read_all(in);
}

// Reads all of `bytes` from memory as "buffer", letting an error through to expect_error.
void read_from_memory(const Bytes& bytes) {
    loom::GzipReader in(bytes, "buffer");
    Outcome ignored;
    loom_test::read_into(ignored, in);
}

// The input written to a file, read in chunks of `chunk` bytes. Messages name the file, so they are
// rewritten to name "buffer" as from_memory's do.
Outcome from_file(const Bytes& bytes, std::size_t chunk = loom::GzipReader::default_chunk_size) {
    loom_test::TempDir dir;
    const auto path = dir / "input.gz";
    write_bytes(path, bytes);
    loom::GzipReader in(path, chunk);
    Outcome result = read_all(in);
    const std::string quoted = loom::detail::concat(path);
    if (const auto at = result.error.find(quoted); at != std::string::npos) result.error.replace(at, quoted.size(), "buffer");
    return result;
}

}  // namespace

TEST_CASE("gzip: gzip_compress round trip, and zlib's gzread agrees") {
    loom_test::TempDir dir;
    for (const Bytes& original : {text(100000), noise(5000, 7), Bytes{42}}) {
        CAPTURE(original.size());
        const Bytes packed = gzip(original);
        REQUIRE(packed.size() >= 18);  // 10-byte header, 8-byte trailer
        CHECK(packed[0] == 0x1F);
        CHECK(packed[1] == 0x8B);
        const Outcome out = from_memory(packed);
        CHECK(out.error == "");
        CHECK_FALSE(out.truncated);
        CHECK(out.bytes == original);

        write_bytes(dir / "z.gz", packed);
        gzFile f = gzopen((dir / "z.gz").c_str(), "rb");
        REQUIRE(f != nullptr);
        Bytes reference(original.size() + 1);
        CHECK(gzread(f, reference.data(), static_cast<unsigned>(reference.size())) == static_cast<int>(original.size()));
        reference.resize(original.size());
        gzclose(f);
        CHECK(reference == original);
    }
    CHECK(gzip(text(100000)).size() < 2000);  // it does compress
}

TEST_CASE("gzip: a file written by zlib's gzwrite reads back") {
    loom_test::TempDir dir;
    const Bytes original = text(70000);
    gzFile f = gzopen((dir / "w.gz").c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, original.data(), static_cast<unsigned>(original.size())) == static_cast<int>(original.size()));
    REQUIRE(gzclose(f) == Z_OK);
    loom::GzipReader in(dir / "w.gz");
    CHECK(in.is_gzip());
    CHECK(read_all(in).bytes == original);
}

TEST_CASE("gzip: concatenated members read as one stream") {
    const Bytes a = text(3000), b = noise(2000, 3), c = Bytes{1, 2, 3};
    const Bytes joined = cat(cat(gzip(a), gzip(b)), gzip(c));
    const Outcome expected{cat(cat(a, b), c), false, ""};
    CHECK(from_memory(joined) == expected);
    // Chunks of 1 and 3 bytes split each member's magic between two reads somewhere.
    for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{64}, loom::GzipReader::default_chunk_size}) {
        CAPTURE(chunk);
        CHECK(from_file(joined, chunk) == expected);
    }
    // An empty member in between contributes nothing.
    CHECK(from_memory(cat(cat(gzip(a), gzip({})), gzip(c))).bytes == cat(a, c));
}

TEST_CASE("gzip: input without the gzip magic passes through unchanged") {
    for (const Bytes& plain : {text(5000), noise(300000, 9), Bytes{0x1F}, Bytes{0x1F, 0x8A, 0}, Bytes{0x8B, 0x1F}}) {
        CAPTURE(plain.size());
        loom::GzipReader in(plain, "plain");
        CHECK_FALSE(in.is_gzip());
        CHECK(in.input_size() == plain.size());
        const Outcome expected{plain, false, ""};
        CHECK(read_all(in, 7) == expected);
        CHECK(from_file(plain, 5) == expected);
        CHECK(from_file(plain) == expected);
    }
}

TEST_CASE("gzip: empty input is plain and empty") {
    const Bytes nothing;
    loom::GzipReader in(nothing, "nothing");
    CHECK_FALSE(in.is_gzip());
    CHECK(in.input_size() == 0);
    unsigned char byte = 0;
    CHECK(in.read(&byte, 1) == 0);
    CHECK_FALSE(in.truncated());
    CHECK(from_file(nothing) == Outcome{});
}

TEST_CASE("gzip: a stream cut short is a short read flagged truncated, at every offset") {
    const Bytes original = text(20000);
    const Bytes packed = cat(gzip(original), gzip(original));
    const std::size_t member = packed.size() / 2;
    for (std::size_t keep = 2; keep < packed.size(); ++keep) {
        CAPTURE(keep);
        const Bytes cut(packed.begin(), packed.begin() + static_cast<std::ptrdiff_t>(keep));
        const Outcome out = from_memory(cut);
        if (keep == member) {  // one whole member: complete
            CHECK(out == Outcome{original, false, ""});
            continue;
        }
        if (keep == member + 1) {  // a lone 0x1F cannot be told from garbage
            expect_error<loom::IoError>([&] { read_from_memory(cut); },
                                        {"corrupt gzip", "buffer", "1 bytes after the end of the gzip stream"});
            continue;
        }
        REQUIRE(out.error == "");
        CHECK(out.truncated);
        const Bytes doubled = cat(original, original);
        REQUIRE(out.bytes.size() <= doubled.size());  // all of it when only the trailer is cut
        CHECK(std::equal(out.bytes.begin(), out.bytes.end(), doubled.begin()));
        if (keep % 97 == 0) CHECK(from_file(cut, 13) == out);
    }
}

TEST_CASE("gzip: damaged bytes throw IoError naming the input") {
    const Bytes original = noise(4000, 5);
    const Bytes packed = gzip(original);
    // Flips `mask` in byte `offset`: a file and memory give the same outcome, and an IoError naming
    // the input with the reason.
    auto error_with = [&](std::size_t offset, unsigned char mask, const std::string& reason,
                          std::source_location where = std::source_location::current()) {
        Bytes damaged = packed;
        damaged[offset] ^= mask;
        CHECK(from_file(damaged, 100) == from_memory(damaged));
        expect_error<loom::IoError>([&] { read_from_memory(damaged); }, {"corrupt gzip", "buffer", reason}, {}, where);
    };
    error_with(packed.size() - 8, 0xFF, "incorrect data check");    // CRC-32
    error_with(packed.size() - 4, 0x01, "incorrect length check");  // ISIZE
    error_with(2, 0x01, "unknown compression method");
    Bytes bad_block = packed;
    bad_block[10] = 0xFF;  // the first deflate byte: block type 3 does not exist
    expect_error<loom::IoError>([&] { read_from_memory(bad_block); }, {"corrupt gzip", "buffer", "invalid block type"});
    // A flipped bit in the deflate data or the trailer never passes as valid data: it is an error, a
    // truncation, or a bit deflate ignores (the padding after a stored block's header).
    for (std::size_t offset = 10; offset < packed.size(); offset += 37) {
        CAPTURE(offset);
        Bytes damaged = packed;
        damaged[offset] ^= 0x10;
        const Outcome out = from_memory(damaged);
        CHECK((out.error != "" || out.truncated || out.bytes == original));
        CHECK(from_file(damaged, 100) == out);
    }
}

TEST_CASE("gzip: bytes after the last member are rejected") {
    const Bytes packed = gzip(text(1000));
    for (const Bytes& tail : {Bytes{0}, Bytes{0, 0, 0, 0}, Bytes{0x1F, 0x8C, 1}}) {
        CAPTURE(tail.size());
        const std::string expected =
            "corrupt gzip data in buffer: " + std::to_string(tail.size()) + " bytes after the end of the gzip stream";
        CHECK(from_memory(cat(packed, tail)).error == expected);
        CHECK(from_file(cat(packed, tail), 2) == from_memory(cat(packed, tail)));
    }
}

TEST_CASE("gzip: a file larger than a chunk reads the same as memory") {
    const Bytes original = noise(700000, 11);  // compressed, still well over the 256 KiB default chunk
    const Bytes packed = cat(gzip(original), gzip(text(300000)));
    REQUIRE(packed.size() > 2 * loom::GzipReader::default_chunk_size);
    const Outcome expected{cat(original, text(300000)), false, ""};
    CHECK(from_memory(packed) == expected);
    CHECK(from_file(packed) == expected);
    CHECK(from_file(packed, 4096) == expected);
    CHECK(from_file(original) == Outcome{original, false, ""});  // plain, in several chunks too
}

TEST_CASE("gzip: reading stops where the caller stops, and input_size counts raw bytes") {
    const Bytes original = text(50000);
    const Bytes packed = gzip(original);
    loom::GzipReader in(packed, "buffer");
    CHECK(in.is_gzip());
    CHECK(in.input_size() == packed.size());
    Bytes head(10);
    CHECK(in.read(head.data(), head.size()) == head.size());
    CHECK(head == Bytes(original.begin(), original.begin() + 10));
    CHECK_FALSE(in.truncated());
    CHECK(read_all(in, 1).bytes == Bytes(original.begin() + 10, original.end()));
}

TEST_CASE("gzip: a file that cannot be opened is an IoError naming it") {
    expect_error<loom::IoError>([] { loom::GzipReader in(fs::path("/nonexistent/loom/missing.gz")); },
                                {"cannot open \"/nonexistent/loom/missing.gz\""});
}
