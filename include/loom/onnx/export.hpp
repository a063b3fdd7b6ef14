#pragma once
// loom::onnx::save: a Sequential model as an ONNX file (IR version 7, opset 13) that any ONNX runtime
// runs. loom works on NHWC images and ONNX's Conv and MaxPool on NCHW, so the exported graph works
// channels-first inside: with input_layout NHWC (the default: the tensor a loom user passes to
// predict) a Transpose node turns the input around first; with NCHW (what PyTorch users feed) the
// input is taken as it is. Kernels are permuted to ONNX's (filters, channels, kh, kw), and the first
// Dense after a Flatten of images gets its rows permuted, because flattening channels-first orders the
// features differently. The output is always what loom's predict returns.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "loom/core/atomic_file.hpp"
#include "loom/core/error.hpp"
#include "loom/layers/conv2d.hpp"
#include "loom/layers/dense.hpp"
#include "loom/layers/padding.hpp"
#include "loom/model/sequential.hpp"
#include "loom/onnx/proto.hpp"
#include "loom/onnx/tensor_data.hpp"

namespace loom::onnx {

// The layout of the exported graph's input. Either way the model expects images of the same size.
enum class Layout { NHWC, NCHW };

struct SaveOptions {
    Layout input_layout = Layout::NHWC;
    std::string graph_name = "loom";
};

inline constexpr std::int64_t export_ir_version = 7;
inline constexpr std::int64_t export_opset = 13;
inline constexpr const char* exportable_layers =
    "Conv2D, MaxPool2D, Dense, Flatten, Tanh, Sigmoid, ReLU, Softmax, Dropout";

namespace detail {

inline AttributeProto int_attribute(std::string name, std::int64_t v) {
    AttributeProto a;
    a.name = std::move(name);
    a.type = attribute_type::int64;
    a.i = v;
    return a;
}

inline AttributeProto ints_attribute(std::string name, std::vector<std::int64_t> v) {
    AttributeProto a;
    a.name = std::move(name);
    a.type = attribute_type::ints;
    a.ints = std::move(v);
    return a;
}

inline std::int64_t i64(std::size_t v) { return static_cast<std::int64_t>(v); }

// Padding after the data along one axis: what makes ONNX's output extent equal loom's.
inline std::size_t pad_after(std::size_t n, std::size_t k, std::size_t stride, std::size_t out, std::size_t before) {
    const std::size_t needed = (out - 1) * stride + k;
    return needed > n + before ? needed - n - before : 0;
}

template <class T>
class Exporter {
public:
    Exporter(Sequential<T>& net, const SaveOptions& options) : net_(net), options_(options) {}

    ModelProto run() {
        ModelProto m;
        m.ir_version = export_ir_version;
        m.producer_name = "loom";
        m.producer_version = "0.1.0";
        m.opset_import.push_back({"", export_opset});
        graph_.name = options_.graph_name;
        add_input();
        for (std::size_t i = 0; i < net_.size(); ++i) add_layer(i);
        if (channels_first_) transpose({0, 2, 3, 1}, "to_nhwc");  // predict's layout at the output
        if (graph_.node.empty()) node("Identity", "identity");
        graph_.node.back().output[0] = "output";
        graph_.output.push_back(value_info("output", net_.output_shape()));
        m.graph = std::move(graph_);
        m.has_graph = true;
        return m;
    }

private:
    // input and output: the batch extent is symbolic ("N"), the others fixed.
    static ValueInfoProto value_info(std::string name, const std::vector<std::size_t>& dims) {
        ValueInfoProto v;
        v.name = std::move(name);
        v.elem_type = data_type_of<T>();
        v.has_shape = true;
        v.dims.push_back({false, 0, "N"});
        for (std::size_t d : dims) v.dims.push_back({true, i64(d), ""});
        return v;
    }
    static ValueInfoProto value_info(std::string name, const Shape& shape) {
        return value_info(std::move(name), std::vector<std::size_t>(shape.begin(), shape.end()));
    }

    void add_input() {
        const Shape& s = net_.input_shape();
        current_ = "input";
        if (s.rank() != 3) {
            graph_.input.push_back(value_info("input", s));
            return;
        }
        if (options_.input_layout == Layout::NCHW) {
            graph_.input.push_back(value_info("input", std::vector<std::size_t>{s[2], s[0], s[1]}));
        } else {
            graph_.input.push_back(value_info("input", s));
            transpose({0, 3, 1, 2}, "to_nchw");
        }
        channels_first_ = true;
    }

    NodeProto& node(std::string op, const std::string& name, std::vector<std::string> extra_inputs = {}) {
        NodeProto n;
        n.op_type = std::move(op);
        n.name = name;
        n.input.push_back(current_);
        for (auto& e : extra_inputs) n.input.push_back(std::move(e));
        n.output.push_back(name + "_out");
        current_ = n.output[0];
        graph_.node.push_back(std::move(n));
        return graph_.node.back();
    }

    void transpose(std::vector<std::int64_t> perm, const std::string& name) {
        channels_first_ = perm[1] == 3;  // (0, 3, 1, 2) turns NHWC into NCHW
        node("Transpose", name).attribute.push_back(ints_attribute("perm", std::move(perm)));
    }

    template <class V>
    void initializer(const std::string& name, std::vector<std::int64_t> dims, const std::vector<V>& values) {
        graph_.initializer.push_back(make_tensor(name, std::move(dims), values));
    }

    // Is there a Dense after layer i, with only layers that keep the feature order in between?
    bool dense_follows(std::size_t i) {
        for (std::size_t j = i + 1; j < net_.size(); ++j) {
            const std::string type = net_.layer(j).type();
            if (type == "Dense") return true;
            if (type != "Tanh" && type != "Sigmoid" && type != "ReLU" && type != "Dropout" && type != "Softmax" &&
                type != "Flatten")
                return false;
        }
        return false;
    }

    void add_layer(std::size_t i) {
        Layer<T>& layer = net_.layer(i);
        const std::string type = layer.type();
        const std::string name = type + "_" + std::to_string(i);
        if (type == "Dropout") return;  // the identity at inference
        if (type == "Tanh" || type == "Sigmoid") node(type, name);
        else if (type == "ReLU") node("Relu", name);
        else if (type == "Softmax")
            node("Softmax", name).attribute.push_back(int_attribute("axis", channels_first_ ? 1 : -1));
        else if (type == "Flatten") add_flatten(i, name);
        else if (auto* conv = dynamic_cast<Conv2D<T>*>(&layer)) add_conv(*conv, name);
        else if (type == "MaxPool2D") add_maxpool(layer, name);
        else if (auto* dense = dynamic_cast<Dense<T>*>(&layer)) add_dense(*dense, name);
        else
            throw ArgumentError(loom::detail::concat("onnx::save: layer ", i, " (", type,
                                                     ") has no ONNX equivalent in loom's exporter; it exports ",
                                                     exportable_layers));
    }

    void add_flatten(std::size_t i, const std::string& name) {
        if (channels_first_) {
            const Shape& s = net_.layer(i).input_shape();
            // A Dense layer can absorb the channels-first order in its rows; anything else gets the
            // features in loom's order back by a Transpose.
            if (dense_follows(i)) pending_rows_ = {s[0], s[1], s[2]};
            else transpose({0, 2, 3, 1}, name + "_to_nhwc");
        }
        node("Flatten", name).attribute.push_back(int_attribute("axis", 1));
        channels_first_ = false;
    }

    void add_conv(Conv2D<T>& conv, const std::string& name) {
        const auto& g = conv.geometry();
        const Tensor<T>& w = conv.weights();
        const std::size_t f = w.dim(3);
        std::vector<T> kernel(w.size());  // (kh, kw, c, f) -> (f, c, kh, kw)
        for (std::size_t y = 0; y < g.kh; ++y)
            for (std::size_t x = 0; x < g.kw; ++x)
                for (std::size_t c = 0; c < g.c; ++c)
                    for (std::size_t o = 0; o < f; ++o)
                        kernel[((o * g.c + c) * g.kh + y) * g.kw + x] = w[((y * g.kw + x) * g.c + c) * f + o];
        initializer(name + ".kernel", {i64(f), i64(g.c), i64(g.kh), i64(g.kw)}, kernel);
        initializer(name + ".bias", {i64(f)}, std::vector<T>(conv.bias().begin(), conv.bias().end()));
        NodeProto& n = node("Conv", name, {name + ".kernel", name + ".bias"});
        n.attribute.push_back(ints_attribute("dilations", {1, 1}));
        n.attribute.push_back(int_attribute("group", 1));
        n.attribute.push_back(ints_attribute("kernel_shape", {i64(g.kh), i64(g.kw)}));
        n.attribute.push_back(ints_attribute(
            "pads", {i64(g.pad_top), i64(g.pad_left), i64(pad_after(g.h, g.kh, g.stride_h, g.oh, g.pad_top)),
                     i64(pad_after(g.w, g.kw, g.stride_w, g.ow, g.pad_left))}));
        n.attribute.push_back(ints_attribute("strides", {i64(g.stride_h), i64(g.stride_w)}));
    }

    void add_maxpool(Layer<T>& pool, const std::string& name) {
        const LayerConfig c = pool.config();
        const std::size_t k = c.size("pool"), s = c.size("stride");
        const Padding padding = c.text("padding") == "same" ? Padding::Same : Padding::Valid;
        const Shape& in = pool.input_shape();
        const Window1D rows = window_1d(in[0], k, s, padding, "MaxPool2D");
        const Window1D cols = window_1d(in[1], k, s, padding, "MaxPool2D");
        NodeProto& n = node("MaxPool", name);
        n.attribute.push_back(int_attribute("ceil_mode", 0));
        n.attribute.push_back(ints_attribute("kernel_shape", {i64(k), i64(k)}));
        n.attribute.push_back(ints_attribute("pads", {i64(rows.pad), i64(cols.pad),
                                                      i64(pad_after(in[0], k, s, rows.out, rows.pad)),
                                                      i64(pad_after(in[1], k, s, cols.out, cols.pad))}));
        n.attribute.push_back(ints_attribute("strides", {i64(s), i64(s)}));
    }

    void add_dense(Dense<T>& dense, const std::string& name) {
        const Tensor<T>& w = dense.weights();
        const std::size_t in = w.dim(0), units = w.dim(1);
        std::vector<T> b(w.begin(), w.end());  // (in, units), Gemm's B without transB
        if (!pending_rows_.empty()) {
            // loom's row (y*W + x)*C + c holds the feature ONNX's Flatten puts at (c*H + y)*W + x.
            const std::size_t h = pending_rows_[0], wd = pending_rows_[1], ch = pending_rows_[2];
            for (std::size_t y = 0; y < h; ++y)
                for (std::size_t x = 0; x < wd; ++x)
                    for (std::size_t c = 0; c < ch; ++c)
                        std::copy_n(w.data() + ((y * wd + x) * ch + c) * units, units,
                                    b.data() + ((c * h + y) * wd + x) * units);
            pending_rows_.clear();
        }
        initializer(name + ".kernel", {i64(in), i64(units)}, b);
        initializer(name + ".bias", {i64(units)}, std::vector<T>(dense.bias().begin(), dense.bias().end()));
        node("Gemm", name, {name + ".kernel", name + ".bias"});
    }

    Sequential<T>& net_;
    const SaveOptions& options_;
    GraphProto graph_;
    std::string current_;                // the tensor the next node reads
    bool channels_first_ = false;        // current_ is (N, C, H, W) where loom has (N, H, W, C)
    std::vector<std::size_t> pending_rows_;  // (H, W, C) of a channels-first Flatten awaiting its Dense
};

}  // namespace detail

// The ONNX bytes of a model. The model is only read; it is taken by non-const reference because
// loom's layer accessors are non-const.
template <class T>
std::vector<unsigned char> to_bytes(Sequential<T>& net, const SaveOptions& options = {}) {
    return encode(detail::Exporter<T>(net, options).run());
}

// Writes the model as an ONNX file, atomically (a crash leaves any previous file intact).
template <class T>
void save(Sequential<T>& net, const std::filesystem::path& path, const SaveOptions& options = {}) {
    const auto bytes = to_bytes(net, options);
    write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace loom::onnx
