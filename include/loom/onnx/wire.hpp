#pragma once
// The protocol-buffers wire format, just the part ONNX files use: varints, 32- and 64-bit fixed
// values and length-delimited fields (strings, bytes, nested messages, packed arrays). loom reads and
// writes ONNX with these few lines instead of linking libprotobuf (see docs/onnx.md for why).
// WireReader checks every read against the end of its buffer, so a truncated or corrupt file is an
// IoError and never a read past the end.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "loom/core/bytes.hpp"
#include "loom/core/error.hpp"

namespace loom::onnx {

// The wire types of protobuf; groups (3, 4) are obsolete and never appear in ONNX.
enum class WireType : std::uint8_t { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

// Built on ByteWriter, whose raw little-endian bytes are protobuf's fixed32 and fixed64 too.
class WireWriter : public ByteWriter {
public:
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            bytes().push_back(static_cast<unsigned char>(v | 0x80));
            v >>= 7;
        }
        bytes().push_back(static_cast<unsigned char>(v));
    }
    void tag(std::uint32_t field, WireType type) { varint((std::uint64_t{field} << 3) | static_cast<unsigned>(type)); }

    // int64 and int32 fields: negative values are sign-extended to 64 bits (ten bytes), as protobuf does.
    void int_field(std::uint32_t field, std::int64_t v) {
        tag(field, WireType::Varint);
        varint(static_cast<std::uint64_t>(v));
    }
    void float_field(std::uint32_t field, float v) {
        tag(field, WireType::Fixed32);
        raw(&v, sizeof v);
    }
    void bytes_field(std::uint32_t field, const void* data, std::size_t size) {
        tag(field, WireType::Bytes);
        varint(size);
        raw(data, size);
    }
    void string_field(std::uint32_t field, std::string_view s) { bytes_field(field, s.data(), s.size()); }
    // A nested message, written into its own writer first because its length comes before it.
    void message_field(std::uint32_t field, const WireWriter& message) {
        bytes_field(field, message.bytes().data(), message.bytes().size());
    }
    // A packed repeated int64 field (ONNX's dims and ints).
    void packed_ints(std::uint32_t field, const std::vector<std::int64_t>& values) {
        WireWriter packed;
        for (std::int64_t v : values) packed.varint(static_cast<std::uint64_t>(v));
        message_field(field, packed);
    }
};

// A field as read: its number, wire type, and value (an integer for varints and fixed values, a byte
// range for length-delimited fields).
struct WireField {
    std::uint32_t number = 0;
    WireType type = WireType::Varint;
    std::uint64_t value = 0;
    const unsigned char* data = nullptr;
    std::size_t size = 0;
};

class WireReader {
public:
    // `what` names the message in error messages ("model.graph.node[3]").
    WireReader(const unsigned char* data, std::size_t size, std::string what)
        : data_(data), end_(data + size), what_(std::move(what)) {}
    WireReader(const WireField& f, std::string what) : WireReader(f.data, f.size, std::move(what)) {}

    bool done() const { return data_ == end_; }
    const std::string& what() const { return what_; }

    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            require<IoError>(data_ != end_, what_, ": truncated varint");
            const unsigned char b = *data_++;
            v |= std::uint64_t{b & 0x7fu} << shift;
            if (!(b & 0x80)) return v;
        }
        throw IoError(loom::detail::concat(what_, ": varint longer than 10 bytes"));
    }

    WireField next() {
        WireField f;
        const std::uint64_t key = varint();
        f.number = static_cast<std::uint32_t>(key >> 3);
        require<IoError>(f.number >= 1 && (key >> 3) <= 0x1fffffff, what_, ": invalid field number ", key >> 3);
        switch (key & 7) {
            case 0: f.type = WireType::Varint; f.value = varint(); break;
            case 1: f.type = WireType::Fixed64; f.value = fixed(8); break;
            case 5: f.type = WireType::Fixed32; f.value = fixed(4); break;
            case 2: {
                f.type = WireType::Bytes;
                const std::uint64_t n = varint();
                require<IoError>(n <= remaining(), what_, ": field ", f.number, " claims ", n, " bytes but only ",
                                 remaining(), " remain (truncated file?)");
                f.data = data_;
                f.size = static_cast<std::size_t>(n);
                data_ += n;
                break;
            }
            default:
                throw IoError(loom::detail::concat(what_, ": field ", f.number, " has wire type ", key & 7,
                                             ", which ONNX never uses (not an ONNX file?)"));
        }
        return f;
    }

    std::size_t remaining() const { return static_cast<std::size_t>(end_ - data_); }

private:
    std::uint64_t fixed(int bytes) {
        require<IoError>(remaining() >= static_cast<std::size_t>(bytes), what_, ": truncated fixed-size value");
        std::uint64_t v = 0;
        std::memcpy(&v, data_, static_cast<std::size_t>(bytes));  // little-endian host (see core/bytes.hpp)
        data_ += bytes;
        return v;
    }

    const unsigned char* data_;
    const unsigned char* end_;
    std::string what_;
};

// Checks that a field has the wire type its schema gives it: a file that disagrees is not ONNX.
inline void expect_type(const WireField& f, WireType type, const std::string& what) {
    require<IoError>(f.type == type, what, ": field ", f.number, " has wire type ", static_cast<int>(f.type),
                     ", expected ", static_cast<int>(type));
}

inline std::string as_string(const WireField& f, const std::string& what) {
    expect_type(f, WireType::Bytes, what);
    return {reinterpret_cast<const char*>(f.data), f.size};
}

// Appends a repeated integer field, which a writer may send packed (one Bytes field) or one by one.
inline void append_ints(const WireField& f, std::vector<std::int64_t>& out, const std::string& what) {
    if (f.type == WireType::Varint) {
        out.push_back(static_cast<std::int64_t>(f.value));
        return;
    }
    expect_type(f, WireType::Bytes, what);
    WireReader packed(f, what);
    while (!packed.done()) out.push_back(static_cast<std::int64_t>(packed.varint()));
}

// Appends a repeated fixed-size field (float: 4 bytes, double: 8), packed or not.
template <class V>
void append_fixed(const WireField& f, std::vector<V>& out, const std::string& what) {
    static_assert(sizeof(V) == 4 || sizeof(V) == 8);
    const WireType single = sizeof(V) == 4 ? WireType::Fixed32 : WireType::Fixed64;
    if (f.type == single) {
        V v;
        std::memcpy(&v, &f.value, sizeof v);
        out.push_back(v);
        return;
    }
    expect_type(f, WireType::Bytes, what);
    require<IoError>(f.size % sizeof(V) == 0, what, ": packed field ", f.number, " of ", f.size,
                     " bytes is not a whole number of ", sizeof(V), "-byte values");
    const std::size_t old = out.size();
    out.resize(old + f.size / sizeof(V));
    if (f.size) std::memcpy(out.data() + old, f.data, f.size);
}

}  // namespace loom::onnx
