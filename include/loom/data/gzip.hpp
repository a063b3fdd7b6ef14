#pragma once
// gzip streams (RFC 1952), through zlib's inflate and deflate.
//
// GzipReader has one decompression loop whatever the compressed bytes come from, a file read in large
// chunks or a buffer in memory, so the code that loads Fashion-MNIST from disk is the code the IDX
// fuzzer drives from memory.
//
// Like gzip(1) and zlib's gzread, it reads concatenated members as one stream and passes input without
// the gzip magic (1F 8B) through unchanged, so callers take compressed and plain files alike without
// looking at the name. Unlike gzread it rejects bytes after the last member: they mean a damaged or
// wrongly assembled file, which should not load as if nothing were wrong.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "loom/core/error.hpp"

namespace loom {

namespace detail {

// 15: the largest window, which gzip files may use; +16: the gzip wrapper rather than zlib's.
inline constexpr int gzip_window_bits = 15 + 16;

// zlib counts bytes in uInt; larger buffers are handed over in pieces of at most this size.
inline constexpr std::size_t zlib_max_count = std::numeric_limits<uInt>::max();

}  // namespace detail

class GzipReader {
public:
    // Large enough that reading costs little next to inflating: zlib's gz* default of 8 KiB made
    // loading Fashion-MNIST about twice as slow.
    static constexpr std::size_t default_chunk_size = std::size_t{1} << 18;

    // Reads the file in chunks of `chunk_size` bytes (tests pass tiny ones to put chunk boundaries
    // everywhere). Messages name the file.
    explicit GzipReader(const std::filesystem::path& path, std::size_t chunk_size = default_chunk_size)
        : name_(detail::concat(path)), file_(path, std::ios::binary) {
        require<IoError>(file_.is_open(), "cannot open ", name_, ": ", std::strerror(errno));
        std::error_code ec;
        input_size_ = std::filesystem::file_size(path, ec);
        require<IoError>(!ec, "cannot determine the size of ", name_, ": ", ec.message());
        buffer_.resize(std::max<std::size_t>(chunk_size, 2));  // the magic must fit, even split over two reads
        start();
    }

    // Reads `bytes`, which must outlive the reader; `name` stands for them in messages.
    GzipReader(std::span<const unsigned char> bytes, std::string name)
        : name_(std::move(name)), pending_(bytes), input_size_(bytes.size()) {
        start();
    }

    GzipReader(const GzipReader&) = delete;
    GzipReader& operator=(const GzipReader&) = delete;
    ~GzipReader() {
        if (gzip_) inflateEnd(&stream_);
    }

    // Fills `out` with up to `size` decompressed bytes; fewer only at the end of the data. Corrupt data
    // (a checksum mismatch included) and bytes after the last member throw IoError. Input that ends
    // inside a member is a short read with truncated() set, so the caller can say what is missing.
    std::size_t read(void* out, std::size_t size) {
        auto* bytes = static_cast<unsigned char*>(out);
        std::size_t done = 0;
        while (done < size) {
            if (member_done_ && !next_member()) break;
            if (pending_.empty() && !refill()) {
                truncated_ = gzip_;
                break;
            }
            done += gzip_ ? inflate_some(bytes + done, size - done) : copy_some(bytes + done, size - done);
        }
        return done;
    }

    bool is_gzip() const { return gzip_; }
    // The input ended inside a gzip member: its end marker or checksum is missing.
    bool truncated() const { return truncated_; }
    // Bytes of input, compressed or not.
    std::uint64_t input_size() const { return input_size_; }
    const std::string& name() const { return name_; }

private:
    void start() {
        gzip_ = magic_ahead();
        if (gzip_) {
            require<IoError>(inflateInit2(&stream_, detail::gzip_window_bits) == Z_OK,
                             "cannot initialise gzip decompression for ", name_);
        }
    }

    // Whether the gzip magic comes next; reads on when a chunk boundary splits it.
    bool magic_ahead() {
        while (pending_.size() < 2 && refill()) {
        }
        return pending_.size() >= 2 && pending_[0] == 0x1F && pending_[1] == 0x8B;
    }

    // After a member's checksum comes the end of the input, another member (`cat a.gz b.gz`) or garbage.
    bool next_member() {
        const bool another = magic_ahead();
        if (pending_.empty()) return false;
        require<IoError>(another, "corrupt gzip data in ", name_, ": ", input_size_ - consumed_,
                         " bytes after the end of the gzip stream");
        inflateReset(&stream_);
        member_done_ = false;
        return true;
    }

    std::size_t inflate_some(unsigned char* out, std::size_t size) {
        const std::size_t in_count = std::min(pending_.size(), detail::zlib_max_count);
        const std::size_t out_count = std::min(size, detail::zlib_max_count);
        stream_.next_in = const_cast<unsigned char*>(pending_.data());  // zlib's API is not const-correct
        stream_.avail_in = static_cast<uInt>(in_count);
        stream_.next_out = out;
        stream_.avail_out = static_cast<uInt>(out_count);
        const int result = inflate(&stream_, Z_NO_FLUSH);
        consume(in_count - stream_.avail_in);
        // inflate reports a call that made no progress as Z_BUF_ERROR, so treating everything but these
        // two as an error also keeps read() from spinning.
        if (result == Z_STREAM_END) {
            member_done_ = true;
        } else if (result != Z_OK) {
            throw IoError(detail::concat("corrupt gzip data in ", name_, ": ",
                                         stream_.msg != nullptr ? stream_.msg : zError(result)));
        }
        return out_count - stream_.avail_out;
    }

    std::size_t copy_some(unsigned char* out, std::size_t size) {
        const std::size_t count = std::min(size, pending_.size());
        std::memcpy(out, pending_.data(), count);
        consume(count);
        return count;
    }

    void consume(std::size_t count) {
        pending_ = pending_.subspan(count);
        consumed_ += count;
    }

    // Appends the file's next chunk to the bytes not yet consumed (kept, so that a magic split between
    // two chunks is still seen). False at the end of the input; memory input is pending from the start.
    bool refill() {
        if (!file_.is_open()) return false;
        const std::size_t kept = pending_.size();
        std::copy(pending_.begin(), pending_.end(), buffer_.begin());
        file_.read(reinterpret_cast<char*>(buffer_.data() + kept), static_cast<std::streamsize>(buffer_.size() - kept));
        require<IoError>(!file_.bad(), "cannot read ", name_, ": ", std::strerror(errno));
        const auto got = static_cast<std::size_t>(file_.gcount());
        pending_ = std::span<const unsigned char>(buffer_.data(), kept + got);
        return got > 0;
    }

    std::string name_;
    std::ifstream file_;                      // closed for memory input
    std::vector<unsigned char> buffer_;       // file input only
    std::span<const unsigned char> pending_;  // input not yet handed to inflate (or copied, if plain)
    std::uint64_t input_size_ = 0;
    std::uint64_t consumed_ = 0;
    bool gzip_ = false;
    bool member_done_ = false;
    bool truncated_ = false;
    z_stream stream_{};
};

// Compresses `input` into one gzip member. `name` stands for the data in messages.
inline std::vector<unsigned char> gzip_compress(std::span<const unsigned char> input, const std::string& name) {
    require<ArgumentError>(input.size() <= detail::zlib_max_count, "gzip_compress: ", name, " has ", input.size(),
                           " bytes; one call compresses at most 4 GiB");
    z_stream stream{};
    require<IoError>(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, detail::gzip_window_bits, 8,
                                  Z_DEFAULT_STRATEGY) == Z_OK,
                     "cannot initialise gzip compression for ", name);
    std::vector<unsigned char> output(deflateBound(&stream, static_cast<uLong>(input.size())) + 64);
    stream.next_in = const_cast<unsigned char*>(input.data());  // zlib's API is not const-correct
    stream.avail_in = static_cast<uInt>(input.size());
    stream.next_out = output.data();
    stream.avail_out = static_cast<uInt>(std::min(output.size(), detail::zlib_max_count));
    const int result = deflate(&stream, Z_FINISH);
    output.resize(stream.total_out);
    deflateEnd(&stream);
    require<IoError>(result == Z_STREAM_END, "gzip compression failed for ", name);
    return output;
}

}  // namespace loom
