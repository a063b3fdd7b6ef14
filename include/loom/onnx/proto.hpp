#pragma once
// The few ONNX messages loom reads and writes (field numbers from onnx.proto), as plain structs:
// ModelProto, OperatorSetIdProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto (tensor types
// only) and TensorProto. Decoding skips fields it does not know, as protobuf readers must, and keeps
// only what import needs; sub-graphs (If/Loop bodies) are noted but not parsed, so nesting, and with it
// recursion, stays bounded however the file is built.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "loom/onnx/wire.hpp"

namespace loom::onnx {

// TensorProto.DataType values loom uses.
namespace data_type {
inline constexpr std::int32_t float32 = 1;
inline constexpr std::int32_t int32 = 6;
inline constexpr std::int32_t int64 = 7;
inline constexpr std::int32_t float64 = 11;
}  // namespace data_type

// AttributeProto.AttributeType values.
namespace attribute_type {
inline constexpr std::int32_t float32 = 1;
inline constexpr std::int32_t int64 = 2;
inline constexpr std::int32_t string = 3;
inline constexpr std::int32_t tensor = 4;
inline constexpr std::int32_t graph = 5;
inline constexpr std::int32_t floats = 6;
inline constexpr std::int32_t ints = 7;
}  // namespace attribute_type

struct TensorProto {
    std::string name;
    std::vector<std::int64_t> dims;
    std::int32_t data_type = 0;
    std::vector<float> float_data;
    std::vector<double> double_data;
    std::vector<std::int64_t> int64_data;
    std::vector<std::int64_t> int32_data;  // int32 values travel as varints
    std::string raw_data;
    bool external = false;  // data_location = EXTERNAL: the values are in another file
};

struct AttributeProto {
    std::string name;
    std::int32_t type = 0;
    float f = 0;
    std::int64_t i = 0;
    std::string s;
    std::vector<float> floats;
    std::vector<std::int64_t> ints;
    std::vector<TensorProto> t;  // zero or one
    bool has_graph = false;
};

struct NodeProto {
    std::vector<std::string> input, output;
    std::string name, op_type, domain;
    std::vector<AttributeProto> attribute;
};

struct Dimension {
    bool has_value = false;
    std::int64_t value = 0;
    std::string param;  // a symbolic extent ("N"), or empty
};

struct ValueInfoProto {
    std::string name;
    std::int32_t elem_type = 0;
    bool has_shape = false;
    std::vector<Dimension> dims;
};

struct GraphProto {
    std::string name;
    std::vector<NodeProto> node;
    std::vector<TensorProto> initializer;
    std::vector<ValueInfoProto> input, output;
    bool has_sparse_initializer = false;
};

struct OperatorSetId {
    std::string domain;
    std::int64_t version = 0;
};

struct ModelProto {
    std::int64_t ir_version = 0;
    std::vector<OperatorSetId> opset_import;
    std::string producer_name, producer_version;
    bool has_graph = false;
    GraphProto graph;
};

// ---------------------------------------------------------------------------------------------------
// Encoding (export). Fields are written in field-number order of the schema, defaults left out.

namespace detail {

inline WireWriter encode(const TensorProto& t) {
    WireWriter w;
    if (!t.dims.empty()) w.packed_ints(1, t.dims);
    w.int_field(2, t.data_type);
    if (!t.float_data.empty()) w.bytes_field(4, t.float_data.data(), t.float_data.size() * sizeof(float));
    if (!t.int32_data.empty()) w.packed_ints(5, t.int32_data);
    if (!t.int64_data.empty()) w.packed_ints(7, t.int64_data);
    w.string_field(8, t.name);
    if (!t.raw_data.empty()) w.string_field(9, t.raw_data);
    if (!t.double_data.empty()) w.bytes_field(10, t.double_data.data(), t.double_data.size() * sizeof(double));
    if (t.external) w.int_field(14, 1);
    return w;
}

inline WireWriter encode(const AttributeProto& a) {
    WireWriter w;
    w.string_field(1, a.name);
    if (a.type == attribute_type::float32) w.float_field(2, a.f);
    if (a.type == attribute_type::int64) w.int_field(3, a.i);
    if (a.type == attribute_type::string) w.string_field(4, a.s);
    if (a.type == attribute_type::tensor && !a.t.empty()) w.message_field(5, encode(a.t[0]));
    if (a.type == attribute_type::ints) w.packed_ints(8, a.ints);
    w.int_field(20, a.type);
    return w;
}

inline WireWriter encode(const NodeProto& n) {
    WireWriter w;
    for (const auto& s : n.input) w.string_field(1, s);
    for (const auto& s : n.output) w.string_field(2, s);
    w.string_field(3, n.name);
    w.string_field(4, n.op_type);
    for (const auto& a : n.attribute) w.message_field(5, encode(a));
    return w;
}

inline WireWriter encode(const ValueInfoProto& v) {
    WireWriter shape;
    for (const auto& d : v.dims) {
        WireWriter dim;
        if (d.has_value) dim.int_field(1, d.value);
        else dim.string_field(2, d.param);
        shape.message_field(1, dim);
    }
    WireWriter tensor;
    tensor.int_field(1, v.elem_type);
    tensor.message_field(2, shape);
    WireWriter type;
    type.message_field(1, tensor);
    WireWriter w;
    w.string_field(1, v.name);
    w.message_field(2, type);
    return w;
}

}  // namespace detail

inline std::vector<unsigned char> encode(const ModelProto& m) {
    WireWriter graph;
    for (const auto& n : m.graph.node) graph.message_field(1, detail::encode(n));
    graph.string_field(2, m.graph.name);
    for (const auto& t : m.graph.initializer) graph.message_field(5, detail::encode(t));
    for (const auto& v : m.graph.input) graph.message_field(11, detail::encode(v));
    for (const auto& v : m.graph.output) graph.message_field(12, detail::encode(v));
    WireWriter w;
    w.int_field(1, m.ir_version);
    w.string_field(2, m.producer_name);
    w.string_field(3, m.producer_version);
    w.message_field(7, graph);
    for (const auto& o : m.opset_import) {
        WireWriter opset;
        if (!o.domain.empty()) opset.string_field(1, o.domain);
        opset.int_field(2, o.version);
        w.message_field(8, opset);
    }
    return std::move(w.bytes());
}

// ---------------------------------------------------------------------------------------------------
// Decoding (import).

namespace detail {

inline std::int32_t as_int32(const WireField& f, const std::string& what) {
    expect_type(f, WireType::Varint, what);
    return static_cast<std::int32_t>(static_cast<std::int64_t>(f.value));
}

inline std::int64_t as_int64(const WireField& f, const std::string& what) {
    expect_type(f, WireType::Varint, what);
    return static_cast<std::int64_t>(f.value);
}

inline TensorProto decode_tensor(const WireField& field, const std::string& what) {
    expect_type(field, WireType::Bytes, what);
    TensorProto t;
    WireReader r(field, what);
    while (!r.done()) {
        const WireField f = r.next();
        switch (f.number) {
            case 1: append_ints(f, t.dims, what); break;
            case 2: t.data_type = as_int32(f, what); break;
            case 4: append_fixed(f, t.float_data, what); break;
            case 5: append_ints(f, t.int32_data, what); break;
            case 7: append_ints(f, t.int64_data, what); break;
            case 8: t.name = as_string(f, what); break;
            case 9: t.raw_data = as_string(f, what); break;
            case 10: append_fixed(f, t.double_data, what); break;
            case 14: t.external = as_int32(f, what) == 1; break;
            default: break;
        }
    }
    return t;
}

inline AttributeProto decode_attribute(const WireField& field, const std::string& what) {
    expect_type(field, WireType::Bytes, what);
    AttributeProto a;
    WireReader r(field, what);
    while (!r.done()) {
        const WireField f = r.next();
        switch (f.number) {
            case 1: a.name = as_string(f, what); break;
            case 2: {
                expect_type(f, WireType::Fixed32, what);
                const auto bits = static_cast<std::uint32_t>(f.value);
                std::memcpy(&a.f, &bits, sizeof a.f);
                break;
            }
            case 3: a.i = as_int64(f, what); break;
            case 4: a.s = as_string(f, what); break;
            case 5: a.t.assign(1, decode_tensor(f, what + ".t")); break;
            case 6: a.has_graph = true; break;
            case 7: append_fixed(f, a.floats, what); break;
            case 8: append_ints(f, a.ints, what); break;
            case 20: a.type = as_int32(f, what); break;
            default: break;
        }
    }
    return a;
}

inline NodeProto decode_node(const WireField& field, const std::string& what) {
    expect_type(field, WireType::Bytes, what);
    NodeProto n;
    WireReader r(field, what);
    while (!r.done()) {
        const WireField f = r.next();
        switch (f.number) {
            case 1: n.input.push_back(as_string(f, what)); break;
            case 2: n.output.push_back(as_string(f, what)); break;
            case 3: n.name = as_string(f, what); break;
            case 4: n.op_type = as_string(f, what); break;
            case 5: n.attribute.push_back(decode_attribute(f, what + ".attribute")); break;
            case 7: n.domain = as_string(f, what); break;
            default: break;
        }
    }
    return n;
}

inline ValueInfoProto decode_value_info(const WireField& field, const std::string& what) {
    expect_type(field, WireType::Bytes, what);
    ValueInfoProto v;
    WireReader r(field, what);
    while (!r.done()) {
        const WireField f = r.next();
        if (f.number == 1) v.name = as_string(f, what);
        if (f.number != 2) continue;
        expect_type(f, WireType::Bytes, what);
        WireReader type(f, what + ".type");
        while (!type.done()) {
            const WireField tf = type.next();
            if (tf.number != 1) continue;  // only tensor types (sequences, maps: elem_type stays 0)
            expect_type(tf, WireType::Bytes, what);
            WireReader tensor(tf, what + ".type.tensor_type");
            while (!tensor.done()) {
                const WireField g = tensor.next();
                if (g.number == 1) v.elem_type = as_int32(g, what);
                if (g.number != 2) continue;
                expect_type(g, WireType::Bytes, what);
                v.has_shape = true;
                WireReader shape(g, what + ".shape");
                while (!shape.done()) {
                    const WireField d = shape.next();
                    if (d.number != 1) continue;
                    expect_type(d, WireType::Bytes, what);
                    Dimension dim;
                    WireReader dr(d, what + ".shape.dim");
                    while (!dr.done()) {
                        const WireField x = dr.next();
                        if (x.number == 1) {
                            dim.has_value = true;
                            dim.value = as_int64(x, what);
                        }
                        if (x.number == 2) dim.param = as_string(x, what);
                    }
                    v.dims.push_back(dim);
                }
            }
        }
    }
    return v;
}

inline GraphProto decode_graph(const WireField& field, const std::string& what) {
    expect_type(field, WireType::Bytes, what);
    GraphProto g;
    WireReader r(field, what);
    while (!r.done()) {
        const WireField f = r.next();
        switch (f.number) {
            case 1: g.node.push_back(decode_node(f, loom::detail::concat(what, ".node[", g.node.size(), "]"))); break;
            case 2: g.name = as_string(f, what); break;
            case 5: g.initializer.push_back(decode_tensor(f, loom::detail::concat(what, ".initializer[", g.initializer.size(), "]"))); break;
            case 11: g.input.push_back(decode_value_info(f, loom::detail::concat(what, ".input[", g.input.size(), "]"))); break;
            case 12: g.output.push_back(decode_value_info(f, loom::detail::concat(what, ".output[", g.output.size(), "]"))); break;
            case 15: g.has_sparse_initializer = true; break;
            default: break;
        }
    }
    return g;
}

}  // namespace detail

// Decodes an ONNX file held in memory; `what` (the file name) starts every error message.
inline ModelProto decode(const unsigned char* data, std::size_t size, const std::string& what) {
    ModelProto m;
    WireReader r(data, size, what);
    while (!r.done()) {
        const WireField f = r.next();
        switch (f.number) {
            case 1: m.ir_version = detail::as_int64(f, what); break;
            case 2: m.producer_name = as_string(f, what); break;
            case 3: m.producer_version = as_string(f, what); break;
            case 7:
                m.graph = detail::decode_graph(f, what + ": graph");
                m.has_graph = true;
                break;
            case 8: {
                expect_type(f, WireType::Bytes, what);
                OperatorSetId o;
                WireReader opset(f, what + ": opset_import");
                while (!opset.done()) {
                    const WireField g = opset.next();
                    if (g.number == 1) o.domain = as_string(g, what);
                    if (g.number == 2) o.version = detail::as_int64(g, what);
                }
                m.opset_import.push_back(o);
                break;
            }
            default: break;
        }
    }
    return m;
}

}  // namespace loom::onnx
