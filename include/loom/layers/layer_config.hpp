#pragma once
// LayerConfig: the hyper-parameters that rebuild a layer (filters, kernel size, ...), as named values.
// Model files store it next to the weights so that load() can reconstruct the architecture.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "loom/core/bytes.hpp"
#include "loom/core/error.hpp"

namespace loom {

class LayerConfig {
public:
    using Value = std::variant<std::int64_t, double, std::string>;

    LayerConfig& set(const std::string& key, Value value) {
        for (auto& [k, v] : entries_)
            if (k == key) {
                v = std::move(value);
                return *this;
            }
        entries_.emplace_back(key, std::move(value));
        return *this;
    }

    std::int64_t integer(const std::string& key) const { return get<std::int64_t>(key); }
    // An integer setting that must lie in [min, max] (a size, a count), checked because it may come from a file.
    std::size_t size(const std::string& key, std::int64_t min = 1, std::int64_t max = std::int64_t{1} << 24) const {
        const std::int64_t v = integer(key);
        require<ConfigError>(v >= min && v <= max, "layer setting '", key, "' is ", v, ", expected ", min, " to ", max);
        return static_cast<std::size_t>(v);
    }
    // A text setting that must be one of `choices`.
    const std::string& choice(const std::string& key, std::initializer_list<const char*> choices) const {
        const std::string& v = text(key);
        std::string list;
        for (const char* c : choices) {
            if (v == c) return v;
            list += (list.empty() ? "'" : ", '") + std::string(c) + "'";
        }
        throw ConfigError(detail::concat("layer setting '", key, "' is '", v, "', expected one of ", list));
    }
    double real(const std::string& key) const { return get<double>(key); }
    const std::string& text(const std::string& key) const { return get<std::string>(key); }
    const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }

    void write(ByteWriter& out) const {
        out.put(static_cast<std::uint32_t>(entries_.size()));
        for (const auto& [key, value] : entries_) {
            out.put_string(key);
            out.put(static_cast<std::uint8_t>(value.index()));
            if (const auto* i = std::get_if<std::int64_t>(&value)) out.put(*i);
            if (const auto* d = std::get_if<double>(&value)) out.put(*d);
            if (const auto* s = std::get_if<std::string>(&value)) out.put_string(*s);
        }
    }

    static LayerConfig read(ByteReader& in) {
        LayerConfig config;
        const auto count = in.get<std::uint32_t>();
        require<IoError>(count <= 64, in.what(), ": a layer with ", count, " settings (at most 64 expected)");
        for (std::uint32_t i = 0; i < count; ++i) {
            std::string key = in.get_string(256);
            switch (in.get<std::uint8_t>()) {
                case 0: config.set(key, in.get<std::int64_t>()); break;
                case 1: config.set(key, in.get<double>()); break;
                case 2: config.set(key, in.get_string()); break;
                default: throw IoError(detail::concat(in.what(), ": setting '", key, "' has an unknown value kind"));
            }
        }
        return config;
    }

private:
    template <class V>
    const V& get(const std::string& key) const {
        for (const auto& [k, v] : entries_)
            if (k == key) {
                const V* value = std::get_if<V>(&v);
                require<ConfigError>(value != nullptr, "layer setting '", key, "' has the wrong type");
                return *value;
            }
        throw ConfigError(detail::concat("layer setting '", key, "' is missing"));
    }

    std::vector<std::pair<std::string, Value>> entries_;
};

}  // namespace loom
