#pragma once
// The frame shared by loom's binary files (models, checkpoints), little-endian:
//
//   offset  size  field
//   0       8     magic, naming the kind of file ("LOOMMODL", "LOOMCKPT")
//   8       4     format version (u32)
//   12      4     element size in bytes (u32): 4 = float32, 8 = float64
//   16      8     payload size in bytes (u64)
//   24      4     CRC-32 (zlib) of the payload (u32)
//   28      ...   payload
//
// unframe() checks all of it before any payload byte is trusted.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <zlib.h>

#include "loom/core/bytes.hpp"
#include "loom/core/error.hpp"

namespace loom::model_file {

inline constexpr std::size_t header_size = 28;

inline std::uint32_t checksum(const unsigned char* data, std::size_t size) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (size > 0) {  // crc32 takes a uInt length
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
        crc = crc32(crc, data, chunk);
        data += chunk;
        size -= chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

inline std::vector<unsigned char> frame(const char (&magic)[8], std::uint32_t version, std::uint32_t element_size,
                                        const std::vector<unsigned char>& payload) {
    ByteWriter file;
    file.raw(magic, sizeof magic);
    file.put(version);
    file.put(element_size);
    file.put(static_cast<std::uint64_t>(payload.size()));
    file.put(checksum(payload.data(), payload.size()));
    file.raw(payload.data(), payload.size());
    return std::move(file.bytes());
}

// Returns the payload (pointer, size) of a framed file after checking every header field.
inline std::pair<const unsigned char*, std::size_t> unframe(const std::vector<unsigned char>& bytes,
                                                            const char (&magic)[8], const char* kind,
                                                            std::uint32_t max_version, std::uint32_t element_size,
                                                            const std::string& what) {
    require<IoError>(bytes.size() >= header_size, what, ": too short for a loom ", kind, " (", bytes.size(),
                     " bytes, the header alone is ", header_size, ")");
    ByteReader header(bytes.data(), bytes.size(), what);
    char found_magic[8];
    header.raw(found_magic, sizeof found_magic);
    require<IoError>(std::memcmp(found_magic, magic, sizeof magic) == 0, what, ": not a loom ", kind,
                     " file (wrong magic bytes)");
    const auto version = header.get<std::uint32_t>();
    require<IoError>(version >= 1 && version <= max_version, what, ": ", kind, " format version ", version,
                     " is not supported (this loom reads versions 1 to ", max_version, ")");
    const auto found_element_size = header.get<std::uint32_t>();
    require<IoError>(found_element_size == element_size, what, ": the ", kind, " holds ", found_element_size * 8,
                     "-bit values but is loaded as one of ", element_size * 8, "-bit values");
    const auto payload_size = header.get<std::uint64_t>();
    const auto expected_crc = header.get<std::uint32_t>();
    require<IoError>(payload_size == header.remaining(), what, ": the header announces ", payload_size,
                     " bytes of payload but the file holds ", header.remaining(), " (truncated or padded)");
    const unsigned char* payload = bytes.data() + header_size;
    require<IoError>(checksum(payload, payload_size) == expected_crc, what, ": checksum mismatch, the file is corrupt");
    return {payload, static_cast<std::size_t>(payload_size)};
}

}  // namespace loom::model_file
