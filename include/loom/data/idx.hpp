#pragma once
// IDX, the file format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, element type, rank), the
// extents as big-endian u32, then the elements in row-major order. The files are distributed
// gzip-compressed; GzipReader (gzip.hpp) reads compressed and plain input alike, so read_idx accepts
// both without looking at the name, and files and memory take the same path.
//
// Only element type 0x08 (unsigned byte) is supported: it is the only one the MNIST family uses.
//
// Strictness: a file holding more elements than its header declares is rejected. The extra bytes
// mean the header and the payload disagree, and silently ignoring them would hide a wrong or
// damaged file. Reading past the payload also makes inflate verify the gzip CRC, so a corrupt archive
// is reported even when the damage is confined to the trailer.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "loom/core/atomic_file.hpp"
#include "loom/core/error.hpp"
#include "loom/core/shape.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/gzip.hpp"

namespace loom {

namespace idx {

inline constexpr std::uint8_t unsigned_byte = 0x08;

// Name of an IDX element type code, for error messages.
inline const char* type_name(std::uint8_t code) {
    switch (code) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "int16";
        case 0x0C: return "int32";
        case 0x0D: return "float32";
        case 0x0E: return "float64";
        default: return "unknown type";
    }
}

// deflate never expands data by more than a factor of about 1032, so a gzip file of n bytes
// cannot decompress to more than this; it bounds what a header may claim before we allocate.
inline constexpr std::uint64_t max_deflate_ratio = 1032;

}  // namespace idx

namespace detail {

inline std::string hex_byte(unsigned value) {
    constexpr char digits[] = "0123456789ABCDEF";
    return std::string("0x") + digits[(value >> 4) & 0xF] + digits[value & 0xF];
}

inline std::uint32_t read_big_endian_u32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

inline void append_big_endian_u32(std::vector<unsigned char>& out, std::uint32_t value) {
    out.push_back(static_cast<unsigned char>(value >> 24));
    out.push_back(static_cast<unsigned char>(value >> 16));
    out.push_back(static_cast<unsigned char>(value >> 8));
    out.push_back(static_cast<unsigned char>(value));
}

// The IDX parser behind read_idx (files) and read_idx_from_memory.
inline Tensor<std::uint8_t> parse_idx(GzipReader& in, std::size_t max_items) {
    const std::string& name = in.name();
    std::array<unsigned char, 4> magic{};
    const std::size_t magic_read = in.read(magic.data(), magic.size());
    require<IoError>(magic_read == magic.size(), "IDX file ", name, " is truncated: expected a 4-byte header, read ",
                     magic_read, " bytes");
    require<IoError>(magic[0] == 0 && magic[1] == 0, "IDX file ", name,
                     " has a wrong magic number: expected first bytes 0x00 0x00, found ", hex_byte(magic[0]), " ",
                     hex_byte(magic[1]));
    const std::uint8_t type = magic[2];
    require<IoError>(type == idx::unsigned_byte, "IDX file ", name, " has element type ", hex_byte(type), " (",
                     idx::type_name(type), "); expected 0x08 (unsigned byte), the only type loom reads");
    const std::size_t rank = magic[3];
    require<IoError>(rank >= 1 && rank <= Shape::max_rank, "IDX file ", name, " declares ", rank,
                     " dimensions; expected 1 to ", Shape::max_rank);

    std::array<unsigned char, 4 * Shape::max_rank> dim_bytes{};
    const std::size_t dims_read = in.read(dim_bytes.data(), 4 * rank);
    require<IoError>(dims_read == 4 * rank, "IDX file ", name, " is truncated in its header: expected ", 4 * rank,
                     " bytes of dimensions, read ", dims_read);

    Shape shape;
    std::uint64_t elements = 1;
    bool overflow = false;
    for (std::size_t axis = 0; axis < rank; ++axis) {
        const std::uint64_t d = read_big_endian_u32(dim_bytes.data() + 4 * axis);
        shape.push_back(static_cast<std::size_t>(d));
        if (d != 0 && elements > std::numeric_limits<std::uint64_t>::max() / d) overflow = true;
        elements *= d;
    }
    require<IoError>(!overflow, "IDX file ", name, " declares dimensions ", shape,
                     " whose element count overflows 64 bits");

    // Guard the allocation: the payload cannot be larger than the file (plain) or than the file
    // decompressed at deflate's best ratio (gzip). A corrupt header fails here, not in operator new.
    const std::uint64_t header_bytes = 4 + 4 * rank;
    const std::uint64_t input_size = in.input_size();
    const std::uint64_t capacity = in.is_gzip() ? input_size * idx::max_deflate_ratio + 1024
                                                : (input_size > header_bytes ? input_size - header_bytes : 0);
    if (!in.is_gzip()) {
        require<IoError>(elements <= capacity, "IDX file ", name, " is truncated: dimensions ", shape, " need ",
                         elements, " bytes of data, read ", capacity);
    } else {
        require<IoError>(elements <= capacity, "IDX file ", name, " declares dimensions ", shape, " (", elements,
                         " bytes), but a gzip file of ", input_size, " bytes can hold at most ", capacity);
    }

    const bool partial = max_items < shape[0];
    if (partial) {
        elements = elements / shape[0] * max_items;
        shape[0] = max_items;
    }
    Tensor<std::uint8_t> tensor(shape);
    const std::size_t data_read = in.read(tensor.data(), tensor.size());
    require<IoError>(data_read == tensor.size(), "IDX file ", name, " is truncated: dimensions ", shape, " need ",
                     tensor.size(), " bytes of data, read ", data_read);
    if (!partial) {
        unsigned char extra = 0;
        require<IoError>(in.read(&extra, 1) == 0, "IDX file ", name, " has data beyond the ", tensor.size(),
                         " bytes its dimensions ", shape, " declare");
        require<IoError>(!in.truncated(), "IDX file ", name,
                         " is truncated: the gzip stream ends before its checksum");
    }
    return tensor;
}

}  // namespace detail

// Reads an IDX file of unsigned bytes, gzip-compressed or plain. `max_items` keeps only the first
// entries along the leading axis (and then skips the trailing-data check, since the rest is never
// read). Throws IoError for a missing, foreign, truncated or corrupt file.
inline Tensor<std::uint8_t> read_idx(const std::filesystem::path& path,
                                     std::size_t max_items = std::numeric_limits<std::size_t>::max()) {
    std::error_code ec;
    const bool exists = std::filesystem::is_regular_file(path, ec);
    require<IoError>(exists, "IDX file ", path, " does not exist or is not a regular file");
    GzipReader in(path);
    return detail::parse_idx(in, max_items);
}

// The same for IDX data already in memory (gzip-compressed or plain, told apart by the gzip magic
// bytes 1F 8B). `name` stands for the data in error messages.
inline Tensor<std::uint8_t> read_idx_from_memory(std::span<const unsigned char> bytes, const std::string& name = "(memory)",
                                                 std::size_t max_items = std::numeric_limits<std::size_t>::max()) {
    GzipReader in(bytes, name);
    return detail::parse_idx(in, max_items);
}

// Writes a tensor as an IDX file of unsigned bytes, gzip-compressed or plain, atomically (a
// temporary file renamed over `path` once complete).
inline void write_idx(const std::filesystem::path& path, const Tensor<std::uint8_t>& tensor, bool gzip) {
    require<ArgumentError>(tensor.rank() >= 1, "write_idx: IDX needs at least one dimension, got a scalar tensor");
    std::vector<unsigned char> bytes;
    bytes.reserve(4 + 4 * tensor.rank() + tensor.size());
    bytes.insert(bytes.end(), {0, 0, idx::unsigned_byte, static_cast<unsigned char>(tensor.rank())});
    for (std::size_t d : tensor.shape()) {
        require<ArgumentError>(d <= std::numeric_limits<std::uint32_t>::max(), "write_idx: extent ", d, " of shape ",
                               tensor.shape(), " does not fit IDX's 32-bit dimensions");
        detail::append_big_endian_u32(bytes, static_cast<std::uint32_t>(d));
    }
    bytes.insert(bytes.end(), tensor.begin(), tensor.end());
    if (gzip) bytes = gzip_compress(bytes, detail::concat(path));
    write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace loom
