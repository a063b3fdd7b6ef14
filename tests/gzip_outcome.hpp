#pragma once
// All that a GzipReader makes of an input, so that tests (test_gzip.cpp) and the IDX fuzz target can
// require the file and memory sources to agree.
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "loom/data/gzip.hpp"

namespace loom_test {

// The bytes, whether the input ended inside a member, or the error.
struct GzipOutcome {
    std::vector<unsigned char> bytes;
    bool truncated = false;
    std::string error;

    bool operator==(const GzipOutcome&) const = default;
};

// Reads into `result` in pieces of `piece` bytes (small pieces exercise the reader between calls) until
// the end of the data or `limit` bytes, which keeps a fuzzed decompression bomb small. An error
// propagates, leaving in `result` the bytes read before it.
inline void read_into(GzipOutcome& result, loom::GzipReader& in, std::size_t piece = 1000,
                      std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    std::vector<unsigned char> buffer(piece);
    while (result.bytes.size() < limit) {
        const std::size_t got = in.read(buffer.data(), buffer.size());
        if (got == 0) break;
        result.bytes.insert(result.bytes.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(got));
    }
    result.truncated = in.truncated();
}

// The same, with an IoError kept as the outcome's error.
inline GzipOutcome read_all(loom::GzipReader& in, std::size_t piece = 1000,
                            std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    GzipOutcome result;
    try {
        read_into(result, in, piece, limit);
    } catch (const loom::IoError& e) {
        result.error = e.what();
    }
    return result;
}

}  // namespace loom_test
