#pragma once
// Values in and out of TensorProto. Export writes raw_data (little-endian, what every ONNX writer does
// for weights); import accepts raw_data or the typed fields (float_data, double_data, int64_data,
// int32_data), checking that the count matches the dims before anything is allocated from them.
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/onnx/proto.hpp"

namespace loom::onnx {

template <class T>
constexpr std::int32_t data_type_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "ONNX export and import use float or double");
    return std::is_same_v<T, float> ? data_type::float32 : data_type::float64;
}

template <class T>
TensorProto make_tensor(std::string name, std::vector<std::int64_t> dims, const std::vector<T>& values) {
    TensorProto t;
    t.name = std::move(name);
    t.dims = std::move(dims);
    t.data_type = data_type_of<T>();
    t.raw_data.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
    return t;
}

inline TensorProto make_int64_tensor(std::string name, const std::vector<std::int64_t>& values) {
    TensorProto t;
    t.name = std::move(name);
    t.dims = {static_cast<std::int64_t>(values.size())};
    t.data_type = data_type::int64;
    t.int64_data = values;
    return t;
}

// The number of values the dims promise (1 for a scalar), or an IoError for negative or overflowing dims.
inline std::size_t element_count(const TensorProto& t, const std::string& what) {
    std::size_t n = 1;
    for (std::int64_t d : t.dims) {
        require<IoError>(d >= 0, what, ": tensor '", t.name, "' has a negative dimension ", d);
        require<IoError>(!__builtin_mul_overflow(n, static_cast<std::size_t>(d), &n), what, ": tensor '", t.name,
                         "' has more elements than fit in memory");
    }
    return n;
}

namespace detail {

template <class V, class T>
std::vector<T> convert_values(const std::vector<V>& values) {
    return std::vector<T>(values.begin(), values.end());
}

template <class V, class T>
std::vector<T> convert_raw(const std::string& raw) {
    std::vector<T> out(raw.size() / sizeof(V));
    for (std::size_t i = 0; i < out.size(); ++i) {
        V v;
        std::memcpy(&v, raw.data() + i * sizeof(V), sizeof v);
        out[i] = static_cast<T>(v);
    }
    return out;
}

}  // namespace detail

// The values of a float, double, int32 or int64 tensor, converted to T (float/double for weights,
// std::int64_t for shapes).
template <class T>
std::vector<T> tensor_values(const TensorProto& t, const std::string& what) {
    require<IoError>(!t.external, what, ": tensor '", t.name,
                     "' keeps its values in an external file, which loom does not read; save the model with its "
                     "weights inside (onnx.save_model(m, path, save_as_external_data=False))");
    const std::size_t n = element_count(t, what);
    std::size_t bytes = 0, stored = 0;
    std::vector<T> out;
    switch (t.data_type) {
        case data_type::float32:
            bytes = 4;
            out = t.raw_data.empty() ? detail::convert_values<float, T>(t.float_data) : detail::convert_raw<float, T>(t.raw_data);
            stored = t.raw_data.empty() ? t.float_data.size() : t.raw_data.size();
            break;
        case data_type::float64:
            bytes = 8;
            out = t.raw_data.empty() ? detail::convert_values<double, T>(t.double_data) : detail::convert_raw<double, T>(t.raw_data);
            stored = t.raw_data.empty() ? t.double_data.size() : t.raw_data.size();
            break;
        case data_type::int64:
            bytes = 8;
            out = t.raw_data.empty() ? detail::convert_values<std::int64_t, T>(t.int64_data)
                                     : detail::convert_raw<std::int64_t, T>(t.raw_data);
            stored = t.raw_data.empty() ? t.int64_data.size() : t.raw_data.size();
            break;
        case data_type::int32:
            bytes = 4;
            out = t.raw_data.empty() ? detail::convert_values<std::int64_t, T>(t.int32_data)
                                     : detail::convert_raw<std::int32_t, T>(t.raw_data);
            stored = t.raw_data.empty() ? t.int32_data.size() : t.raw_data.size();
            break;
        default:
            throw IoError(loom::detail::concat(what, ": tensor '", t.name, "' has data type ", t.data_type,
                                               "; loom reads float (1), double (11), int32 (6) and int64 (7)"));
    }
    // Counted in values, not bytes, so that no product can overflow.
    const bool whole = t.raw_data.empty() || stored % bytes == 0;
    const std::size_t held = t.raw_data.empty() ? stored : stored / bytes;
    require<IoError>(whole && held == n, what, ": tensor '", t.name, "' has dims promising ", n, " values but holds ",
                     held, whole ? "" : " and a fraction (raw_data)");
    return out;
}

}  // namespace loom::onnx
