#pragma once
// The loom model file (format version 1), little-endian: the frame of framed_file.hpp with magic
// "LOOMMODL" and the element size of T (4 = float32, 8 = float64), around this payload:
//
//   input shape: rank (u32), extents (u64 each)
//   layer count (u32), then per layer:
//     type (u32 length + bytes), LayerConfig (see layer_config.hpp),
//     parameter count (u32), then per parameter:
//       name (u32 length + bytes), rank (u32), extents (u64 each), values (raw)
//
// Readers reject a wrong magic, a newer version, another element type, a size that disagrees with the
// file, a checksum mismatch (all in unframe), and any field that runs past the payload.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "loom/core/bytes.hpp"
#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"
#include "loom/layers/layer_registry.hpp"
#include "loom/model/framed_file.hpp"

namespace loom::model_file {

inline constexpr char magic[8] = {'L', 'O', 'O', 'M', 'M', 'O', 'D', 'L'};
inline constexpr std::uint32_t format_version = 1;

template <class T>
struct LayerRecord {
    std::string type;
    LayerConfig config;
    std::vector<std::pair<std::string, Tensor<T>>> parameters;
};

template <class T>
struct Contents {
    Shape input_shape;
    std::vector<LayerRecord<T>> layers;
};

inline void put_shape(ByteWriter& out, const Shape& s) {
    out.put(static_cast<std::uint32_t>(s.rank()));
    for (std::size_t d : s) out.put(static_cast<std::uint64_t>(d));
}

inline Shape get_shape(ByteReader& in) {
    const auto rank = in.get<std::uint32_t>();
    require<IoError>(rank <= Shape::max_rank, in.what(), ": shape of rank ", rank, " (at most ", Shape::max_rank,
                     " expected)");
    Shape s;
    std::uint64_t elements = 1;
    for (std::uint32_t i = 0; i < rank; ++i) {
        const auto d = in.get<std::uint64_t>();
        require<IoError>(d <= (std::uint64_t{1} << 40) && (d == 0 || elements <= (std::uint64_t{1} << 40) / d),
                         in.what(), ": implausible shape extent ", d);
        elements *= d;
        s.push_back(static_cast<std::size_t>(d));
    }
    return s;
}

template <class T>
std::vector<unsigned char> encode(const Shape& input_shape, const std::vector<std::unique_ptr<Layer<T>>>& layers) {
    ByteWriter payload;
    put_shape(payload, input_shape);
    payload.put(static_cast<std::uint32_t>(layers.size()));
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const auto& layer = layers[l];
        // A file is only useful if load() can rebuild every layer from it.
        require<ArgumentError>(is_registered_layer(layer->type()), "cannot save layer ", l, " (",
                               layer->type(), "): its type is not registered (LOOM_REGISTER_LAYER), so it could not be loaded");
        payload.put_string(layer->type());
        layer->config().write(payload);
        const auto params = layer->parameters();
        payload.put(static_cast<std::uint32_t>(params.size()));
        for (const auto& p : params) {
            payload.put_string(p.name);
            put_shape(payload, p.value->shape());
            payload.raw(p.value->data(), p.value->size() * sizeof(T));
        }
    }
    return frame(magic, format_version, sizeof(T), payload.bytes());
}

template <class T>
Contents<T> decode(const std::vector<unsigned char>& bytes, const std::string& what) {
    const auto [payload, payload_size] = unframe(bytes, magic, "model", format_version, sizeof(T), what);
    ByteReader in(payload, payload_size, what);
    Contents<T> contents;
    contents.input_shape = get_shape(in);
    const auto layer_count = in.get<std::uint32_t>();
    require<IoError>(layer_count <= 4096, what, ": implausible layer count ", layer_count);
    for (std::uint32_t l = 0; l < layer_count; ++l) {
        LayerRecord<T> record;
        record.type = in.get_string(256);
        record.config = LayerConfig::read(in);
        const auto param_count = in.get<std::uint32_t>();
        require<IoError>(param_count <= 64, what, ": implausible parameter count ", param_count);
        for (std::uint32_t p = 0; p < param_count; ++p) {
            std::string name = in.get_string(256);
            const Shape shape = get_shape(in);
            require<IoError>(shape.elements() <= in.remaining() / sizeof(T), what, ": parameter '", name,
                             "' of layer ", l, " is truncated");
            Tensor<T> value(shape);
            in.raw(value.data(), value.size() * sizeof(T));
            record.parameters.emplace_back(std::move(name), std::move(value));
        }
        contents.layers.push_back(std::move(record));
    }
    require<IoError>(in.remaining() == 0, what, ": ", in.remaining(), " unexpected bytes after the last layer");
    return contents;
}

// Adds the layers of decoded contents to an empty model (anything with add and output_shape), each
// made by the registry from its stored settings.
template <class Model, class T>
void rebuild(Model& net, const Contents<T>& contents, const std::string& what) {
    for (std::size_t l = 0; l < contents.layers.size(); ++l) {
        const auto& record = contents.layers[l];
        std::size_t stored = 0;
        for (const auto& parameter : record.parameters) stored += parameter.second.size();
        try {
            auto layer = LayerRegistry<T>::instance().create(record.type, record.config);
            // Settings that ask for more weights than the file holds fail here, before build allocates them.
            const std::size_t needed = layer->param_count_for(net.output_shape());
            require<IoError>(needed <= stored, "it needs ", needed, " parameter values on input ", net.output_shape(),
                             " but the file holds ", stored, " for it");
            net.add(std::move(layer));
        } catch (const Error& e) {
            throw IoError(detail::concat(what, ": layer ", l, " (", record.type, ") cannot be rebuilt: ", e.what()));
        }
    }
}

// Copies the weights of decoded contents into `layers`, whose architecture must match.
template <class T>
void assign_weights(const Contents<T>& contents, const Shape& input_shape, const std::vector<std::unique_ptr<Layer<T>>>& layers,
                    const std::string& what) {
    require<IoError>(contents.input_shape == input_shape && contents.layers.size() == layers.size(), what,
                     ": holds a model with input ", contents.input_shape, " and ", contents.layers.size(),
                     " layers, this model has input ", input_shape, " and ", layers.size(), " layers");
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const auto& record = contents.layers[l];
        auto params = layers[l]->parameters();
        require<IoError>(record.type == layers[l]->type() && params.size() == record.parameters.size(), what, ": layer ",
                         l, " is a ", record.type, " with ", record.parameters.size(), " parameters, expected a ",
                         layers[l]->type(), " with ", params.size());
        for (std::size_t p = 0; p < params.size(); ++p) {
            const auto& [name, value] = record.parameters[p];
            require<IoError>(name == params[p].name && value.shape() == params[p].value->shape(), what, ": layer ", l,
                             " parameter '", name, "' of shape ", value.shape(), " where '", params[p].name,
                             "' of shape ", params[p].value->shape(), " was expected");
            *params[p].value = value;
        }
    }
}

// Reads a whole file, refusing anything implausibly large before allocating for it.
inline std::vector<unsigned char> read_file(const std::filesystem::path& path, std::uintmax_t max_size = std::uintmax_t{1} << 34) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    require<IoError>(!ec, "cannot read ", path, ": ", ec.message());
    require<IoError>(size <= max_size, path, ": file of ", size, " bytes exceeds the limit of ", max_size);
    std::ifstream in(path, std::ios::binary);
    require<IoError>(in.good(), "cannot open ", path);
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    require<IoError>(static_cast<std::uintmax_t>(in.gcount()) == size, "cannot read all ", size, " bytes of ", path);
    return bytes;
}

}  // namespace loom::model_file
