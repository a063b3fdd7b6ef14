#pragma once
// IDX, the file format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, element type, rank), the
// extents as big-endian u32, then the elements in row-major order. The files are distributed
// gzip-compressed; zlib's gz* functions read compressed and plain files alike, so read_idx accepts
// both without looking at the name.
//
// Only element type 0x08 (unsigned byte) is supported: it is the only one the MNIST family uses.
//
// Strictness: a file holding more elements than its header declares is rejected. The extra bytes
// mean the header and the payload disagree, and silently ignoring them would hide a wrong or
// damaged file. Reading past the payload also makes zlib verify the gzip CRC, so a corrupt archive
// is reported even when the damage is confined to the trailer.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// Owns a gzFile so every exit path, including exceptions, closes it.
class GzReader {
public:
    explicit GzReader(const std::filesystem::path& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
        require<IoError>(file_ != nullptr, "cannot open IDX file ", path, ": ", std::strerror(errno));
        // The default 8 KiB buffer makes zlib issue many small reads; larger halves the load time.
        gzbuffer(file_, 1 << 17);
    }
    GzReader(const GzReader&) = delete;
    GzReader& operator=(const GzReader&) = delete;
    ~GzReader() { gzclose(file_); }

    // Reads up to `size` bytes; fewer only at the end of the data. A zlib error (corrupt stream,
    // bad CRC) throws; an unexpectedly ended stream is returned as a short read so the caller can
    // report how much was missing.
    std::size_t read(void* out, std::size_t size) {
        auto* bytes = static_cast<unsigned char*>(out);
        std::size_t done = 0;
        while (done < size) {
            const std::size_t chunk = std::min<std::size_t>(size - done, 1u << 30);  // gzread takes an int-sized count
            const int got = gzread(file_, bytes + done, static_cast<unsigned>(chunk));
            if (got < 0) {
                throw IoError(detail::concat("corrupt gzip data in ", path_, ": ", zlib_message()));
            }
            if (got == 0) break;
            done += static_cast<std::size_t>(got);
        }
        // zlib reports a truncated archive as Z_BUF_ERROR with a short read; anything else is corruption.
        int code = Z_OK;
        gzerror(file_, &code);
        require<IoError>(code == Z_OK || code == Z_BUF_ERROR, "corrupt gzip data in ", path_, ": ", zlib_message());
        return done;
    }

    // zlib's description of the last error, without the "path: " it puts in front.
    std::string zlib_message() {
        int code = Z_OK;
        std::string message = gzerror(file_, &code);
        const std::string prefix = path_.string() + ": ";
        if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
        return message;
    }

    // True when a gzip stream ended before its end marker and checksum.
    bool stream_cut_short() {
        int code = Z_OK;
        gzerror(file_, &code);
        return code == Z_BUF_ERROR;
    }

    // True when the file is not gzip-compressed (zlib passes it through unchanged).
    bool is_plain() { return gzdirect(file_) != 0; }

private:
    std::filesystem::path path_;
    gzFile file_;
};

inline std::uint32_t read_big_endian_u32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

inline void append_big_endian_u32(std::vector<unsigned char>& out, std::uint32_t value) {
    out.push_back(static_cast<unsigned char>(value >> 24));
    out.push_back(static_cast<unsigned char>(value >> 16));
    out.push_back(static_cast<unsigned char>(value >> 8));
    out.push_back(static_cast<unsigned char>(value));
}

// Compresses a buffer into a single gzip member.
inline std::vector<unsigned char> gzip_compress(const std::vector<unsigned char>& input, const std::filesystem::path& path) {
    z_stream stream{};
    constexpr int gzip_window_bits = 15 + 16;  // +16 selects the gzip wrapper instead of zlib's
    require<IoError>(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_window_bits, 8,
                                  Z_DEFAULT_STRATEGY) == Z_OK,
                     "cannot initialise gzip compression for ", path);
    std::vector<unsigned char> output(deflateBound(&stream, static_cast<uLong>(input.size())) + 64);
    stream.next_in = const_cast<unsigned char*>(input.data());  // zlib's API is not const-correct
    stream.avail_in = static_cast<uInt>(input.size());
    stream.next_out = output.data();
    stream.avail_out = static_cast<uInt>(output.size());
    const int result = deflate(&stream, Z_FINISH);
    output.resize(stream.total_out);
    deflateEnd(&stream);
    require<IoError>(result == Z_STREAM_END, "gzip compression failed for ", path);
    return output;
}

// Reads IDX bytes held in memory with GzReader's interface: plain data is copied, gzip data (one
// member or several concatenated, like gzread) is inflated as it is read.
class MemoryReader {
public:
    MemoryReader(std::span<const unsigned char> bytes, const std::string& name)
        : bytes_(bytes), name_(name), gzip_(bytes.size() >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B) {
        if (gzip_) {
            constexpr int gzip_window_bits = 15 + 16;  // gzip wrapper only
            require<IoError>(inflateInit2(&stream_, gzip_window_bits) == Z_OK, "cannot initialise gzip decompression for ",
                             name_);
        }
    }
    MemoryReader(const MemoryReader&) = delete;
    MemoryReader& operator=(const MemoryReader&) = delete;
    ~MemoryReader() {
        if (gzip_) inflateEnd(&stream_);
    }

    std::size_t read(void* out, std::size_t size) {
        auto* bytes = static_cast<unsigned char*>(out);
        if (!gzip_) {
            const std::size_t n = std::min(size, bytes_.size() - position_);
            if (n > 0) std::memcpy(bytes, bytes_.data() + position_, n);
            position_ += n;
            return n;
        }
        std::size_t done = 0;
        while (done < size) {
            if (member_done_) {
                if (position_ == bytes_.size()) break;  // the end of the last member
                require<IoError>(bytes_.size() - position_ >= 2 && bytes_[position_] == 0x1F &&
                                     bytes_[position_ + 1] == 0x8B,
                                 "corrupt gzip data in ", name_, ": ", bytes_.size() - position_,
                                 " bytes after the end of the gzip stream");
                inflateReset(&stream_);
                member_done_ = false;
            }
            const std::size_t in_chunk = std::min<std::size_t>(bytes_.size() - position_, 1u << 30);  // uInt counts
            const std::size_t out_chunk = std::min<std::size_t>(size - done, 1u << 30);
            stream_.next_in = const_cast<unsigned char*>(bytes_.data() + position_);  // zlib is not const-correct
            stream_.avail_in = static_cast<uInt>(in_chunk);
            stream_.next_out = bytes + done;
            stream_.avail_out = static_cast<uInt>(out_chunk);
            const int result = inflate(&stream_, Z_NO_FLUSH);
            const std::size_t consumed = in_chunk - stream_.avail_in, produced = out_chunk - stream_.avail_out;
            position_ += consumed;
            done += produced;
            if (result == Z_STREAM_END) {
                member_done_ = true;
            } else if (result == Z_BUF_ERROR || (result == Z_OK && consumed == 0 && produced == 0)) {
                // No progress: all input used up before the end of the member (a truncated archive).
                if (position_ == bytes_.size()) break;
                require<IoError>(consumed > 0 || produced > 0, "corrupt gzip data in ", name_, ": no progress");
            } else if (result != Z_OK) {
                throw IoError(detail::concat("corrupt gzip data in ", name_, ": ",
                                             stream_.msg != nullptr ? stream_.msg : "inflate error"));
            }
        }
        return done;
    }

    bool stream_cut_short() const { return gzip_ && !member_done_; }
    bool is_plain() const { return !gzip_; }

private:
    std::span<const unsigned char> bytes_;
    std::string name_;
    bool gzip_;
    std::size_t position_ = 0;
    bool member_done_ = false;
    z_stream stream_{};
};

// The IDX parser shared by read_idx (files) and read_idx_from_memory. `in` is a GzReader or a
// MemoryReader; `input_size` is the size of the raw input (compressed, for gzip); `name` is how
// messages refer to the input.
template <class Reader>
Tensor<std::uint8_t> parse_idx(Reader& in, std::uint64_t input_size, const std::string& name, std::size_t max_items) {
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
    const std::uint64_t capacity = in.is_plain() ? (input_size > header_bytes ? input_size - header_bytes : 0)
                                                 : input_size * idx::max_deflate_ratio + 1024;
    if (in.is_plain()) {
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
        require<IoError>(!in.stream_cut_short(), "IDX file ", name,
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
    const std::uint64_t file_size = std::filesystem::file_size(path, ec);
    require<IoError>(!ec, "cannot determine the size of ", path, ": ", ec.message());
    detail::GzReader in(path);
    return detail::parse_idx(in, file_size, detail::concat(path), max_items);
}

// The same for IDX data already in memory (gzip-compressed or plain, told apart by the gzip magic
// bytes 1F 8B). `name` stands for the data in error messages.
inline Tensor<std::uint8_t> read_idx_from_memory(std::span<const unsigned char> bytes, const std::string& name = "(memory)",
                                                 std::size_t max_items = std::numeric_limits<std::size_t>::max()) {
    detail::MemoryReader in(bytes, name);
    return detail::parse_idx(in, bytes.size(), name, max_items);
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
    if (gzip) {
        require<ArgumentError>(bytes.size() <= std::numeric_limits<uInt>::max(),
                               "write_idx: gzip output is limited to 4 GiB");
        bytes = detail::gzip_compress(bytes, path);
    }
    write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace loom
