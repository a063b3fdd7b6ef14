#pragma once
// ByteWriter / ByteReader: little-endian binary encoding for model files and checkpoints.
// The reader checks every read against the end of the buffer, so a truncated or corrupt file
// becomes an IoError rather than a read past the end.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/core/error.hpp"

namespace loom {

static_assert(std::endian::native == std::endian::little, "loom's file formats assume a little-endian host");

class ByteWriter {
public:
    template <class V>
        requires std::is_arithmetic_v<V>
    void put(V value) {
        raw(&value, sizeof value);
    }
    void put_string(const std::string& s) {
        put(static_cast<std::uint32_t>(s.size()));
        raw(s.data(), s.size());
    }
    void raw(const void* data, std::size_t size) {
        const auto* p = static_cast<const unsigned char*>(data);
        bytes_.insert(bytes_.end(), p, p + size);
    }
    const std::vector<unsigned char>& bytes() const { return bytes_; }
    std::vector<unsigned char>& bytes() { return bytes_; }

private:
    std::vector<unsigned char> bytes_;
};

class ByteReader {
public:
    ByteReader(const unsigned char* data, std::size_t size, std::string what)
        : data_(data), size_(size), what_(std::move(what)) {}

    template <class V>
        requires std::is_arithmetic_v<V>
    V get() {
        V value;
        raw(&value, sizeof value);
        return value;
    }
    std::string get_string(std::size_t max_length = 1 << 16) {
        const auto n = get<std::uint32_t>();
        require<IoError>(n <= max_length && n <= remaining(), what_, ": string of length ", n, " at offset ",
                         offset_ - 4, " does not fit (", remaining(), " bytes remain)");
        std::string s(reinterpret_cast<const char*>(data_ + offset_), n);
        offset_ += n;
        return s;
    }
    void raw(void* out, std::size_t size) {
        require<IoError>(size <= remaining(), what_, ": truncated, needed ", size, " bytes at offset ", offset_,
                         " but only ", remaining(), " remain");
        if (size == 0) return;  // `out` may be the null data() of an empty tensor, which memcpy must not get
        std::memcpy(out, data_ + offset_, size);
        offset_ += size;
    }
    std::size_t remaining() const { return size_ - offset_; }
    std::size_t offset() const { return offset_; }
    const std::string& what() const { return what_; }

private:
    const unsigned char* data_;
    std::size_t size_;
    std::size_t offset_ = 0;
    std::string what_;
};

}  // namespace loom
