#pragma once
// loom::onnx::load<T>: an ONNX file as a Sequential<T> that takes NHWC images like every loom model.
//
// The graph must be one chain: each node reads the output of the node before it (plus constants:
// initializers or Constant nodes), and the last node produces the graph's only output. The importer
// walks the chain once, turning nodes into loom layers, and tracks one bit of layout: whether the 4-D
// tensor at hand is channels-first (ONNX's NCHW, what Conv and MaxPool expect) or channels-last (loom's
// NHWC). A graph input that goes straight into Conv is NCHW, one that starts with Transpose (0, 3, 1, 2)
// is NHWC; either way the loom model takes (N, H, W, C). Kernels are permuted to loom's (kh, kw, c, f),
// and the first Gemm/MatMul after a channels-first Flatten gets its rows reordered to loom's HWC
// flattening. Anything else (another op, attribute value, or graph shape) is refused with an IoError
// naming the node, its op and what loom supports, never approximated.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/layers/activation.hpp"
#include "loom/layers/conv2d.hpp"
#include "loom/layers/dense.hpp"
#include "loom/layers/flatten.hpp"
#include "loom/layers/maxpool2d.hpp"
#include "loom/layers/padding.hpp"
#include "loom/layers/softmax.hpp"
#include "loom/model/model_file.hpp"
#include "loom/model/sequential.hpp"
#include "loom/onnx/proto.hpp"
#include "loom/onnx/tensor_data.hpp"

namespace loom::onnx {

inline constexpr std::int64_t min_import_opset = 11;
inline constexpr std::int64_t max_import_opset = 17;
inline constexpr const char* importable_ops =
    "Conv, MaxPool, Gemm, MatMul (with an optional Add of a bias), Relu, Tanh, Sigmoid, Softmax, Flatten, "
    "Reshape (as a flatten), Transpose (NHWC <-> NCHW), Dropout, Identity and Constant";

namespace detail {

// Per-sample extents read from a file are capped so that a corrupt header cannot ask for absurd buffers.
inline constexpr std::int64_t max_extent = std::int64_t{1} << 24;
inline constexpr std::size_t max_sample_elements = std::size_t{1} << 28;

template <class T>
class Importer {
public:
    Importer(const ModelProto& model, std::string what) : m_(model), what_(std::move(what)) {}

    Sequential<T> run() {
        require<IoError>(m_.has_graph, what_, ": no graph (not an ONNX model?)");
        check_opset();
        const GraphProto& g = m_.graph;
        require<IoError>(!g.has_sparse_initializer, what_, ": sparse initializers are not supported");
        for (const auto& t : g.initializer) constants_[t.name] = &t;
        const ValueInfoProto& input = graph_input();
        require<IoError>(g.output.size() == 1, what_, ": the graph has ", g.output.size(),
                         " outputs; loom imports models with exactly one output");
        Sequential<T> net(input_shape(input));
        net_ = &net;
        current_ = input.name;
        for (std::size_t k = 0; k < g.node.size(); ++k) {
            node_ = &g.node[k];
            index_ = k;
            add_node();
        }
        require<IoError>(current_ == g.output[0].name, what_, ": the graph output '", g.output[0].name,
                         "' is not the end of the chain of nodes ('", current_,
                         "' is); loom imports sequential graphs only");
        require<IoError>(pending_rows_.empty(), what_,
                         ": the graph flattens channels-first images without a Gemm or MatMul after it, so its "
                         "output order differs from loom's channels-last flattening; loom does not import that");
        return net;
    }

private:
    // ---- the model and its input ----

    void check_opset() {
        bool found = false;
        for (const auto& o : m_.opset_import)
            if (o.domain.empty() || o.domain == "ai.onnx") {
                opset_ = o.version;
                found = true;
            }
        require<IoError>(found, what_, ": no opset for the default ONNX domain");
        require<IoError>(opset_ >= min_import_opset && opset_ <= max_import_opset, what_, ": opset ", opset_,
                         "; loom imports opsets ", min_import_opset, " to ", max_import_opset,
                         " (re-export the model, e.g. torch.onnx.export(..., opset_version=13))");
    }

    const ValueInfoProto& graph_input() {
        const ValueInfoProto* found = nullptr;
        std::size_t count = 0;
        for (const auto& v : m_.graph.input)
            if (!constants_.count(v.name)) {  // before IR 4, initializers are listed as inputs too
                found = &v;
                ++count;
            }
        require<IoError>(count == 1, what_, ": the graph has ", count,
                         " inputs (initializers aside); loom imports models with exactly one input");
        require<IoError>(found->elem_type == data_type::float32 || found->elem_type == data_type::float64, what_,
                         ": input '", found->name, "' has element type ", found->elem_type,
                         "; loom imports float (1) and double (11) models");
        require<IoError>(found->has_shape && found->dims.size() >= 2, what_, ": input '", found->name,
                         "' needs a known shape (batch, ...) of rank 2 or more");
        return *found;
    }

    Shape input_shape(const ValueInfoProto& input) {
        std::vector<std::size_t> dims;
        std::size_t elements = 1;
        for (std::size_t i = 1; i < input.dims.size(); ++i) {
            const Dimension& d = input.dims[i];
            require<IoError>(d.has_value && d.value >= 1 && d.value <= max_extent, what_, ": input '", input.name,
                             "' has dimension ", i, " = ", d.has_value ? std::to_string(d.value) : "'" + d.param + "'",
                             "; loom needs fixed per-sample extents from 1 to ", max_extent);
            dims.push_back(static_cast<std::size_t>(d.value));
            elements *= dims.back();
            require<IoError>(elements <= max_sample_elements, what_, ": input '", input.name,
                             "' has more than ", max_sample_elements, " values per sample");
        }
        if (input.dims[0].has_value) fixed_batch_ = input.dims[0].value;
        if (dims.size() != 3) return Shape(std::span<const std::size_t>(dims));
        // Rank 4: NHWC when the chain starts with the Transpose to NCHW, else NCHW (ONNX's convention).
        const NodeProto* first = nullptr;
        for (const auto& n : m_.graph.node)
            if (n.op_type != "Constant") {
                first = &n;
                break;
            }
        if (first && first->op_type == "Transpose" && !first->input.empty() && first->input[0] == input.name &&
            ints(*first, "perm", {}) == std::vector<std::int64_t>{0, 3, 1, 2})
            return Shape{dims[0], dims[1], dims[2]};
        channels_first_ = true;
        return Shape{dims[1], dims[2], dims[0]};
    }

    // ---- messages and attributes ----

    template <class... Parts>
    [[noreturn]] void fail(Parts&&... parts) const {
        throw IoError(loom::detail::concat(what_, ": node ", index_, " '", node_->name, "' (", node_->op_type, "): ",
                                           std::forward<Parts>(parts)...));
    }
    template <class... Parts>
    void check(bool ok, Parts&&... parts) const {
        if (!ok) fail(std::forward<Parts>(parts)...);
    }

    const AttributeProto* attribute(const NodeProto& n, const std::string& name) const {
        for (const auto& a : n.attribute)
            if (a.name == name) return &a;
        return nullptr;
    }
    std::int64_t integer(const std::string& name, std::int64_t fallback) const {
        const AttributeProto* a = attribute(*node_, name);
        if (!a) return fallback;
        check(a->type == attribute_type::int64, "attribute '", name, "' should be an integer");
        return a->i;
    }
    float real(const std::string& name, float fallback) const {
        const AttributeProto* a = attribute(*node_, name);
        if (!a) return fallback;
        check(a->type == attribute_type::float32, "attribute '", name, "' should be a float");
        return a->f;
    }
    std::string text(const std::string& name, const std::string& fallback) const {
        const AttributeProto* a = attribute(*node_, name);
        if (!a) return fallback;
        check(a->type == attribute_type::string, "attribute '", name, "' should be a string");
        return a->s;
    }
    std::vector<std::int64_t> ints(const NodeProto& n, const std::string& name,
                                   std::vector<std::int64_t> fallback) const {
        const AttributeProto* a = attribute(n, name);
        return a && a->type == attribute_type::ints ? a->ints : fallback;
    }
    std::vector<std::int64_t> ints(const std::string& name, std::vector<std::int64_t> fallback) const {
        const AttributeProto* a = attribute(*node_, name);
        check(!a || a->type == attribute_type::ints, "attribute '", name, "' should be a list of integers");
        return ints(*node_, name, std::move(fallback));
    }
    // Refuses attributes loom has no use for (a new attribute may change what the op computes).
    void only_attributes(std::initializer_list<const char*> known) const {
        for (const auto& a : node_->attribute) {
            const bool ok = std::any_of(known.begin(), known.end(), [&](const char* k) { return a.name == k; });
            check(ok, "attribute '", a.name, "' is not supported");
        }
    }

    // ---- the chain ----

    const TensorProto& constant(std::size_t input) const {
        const auto it = constants_.find(node_->input[input]);
        check(it != constants_.end(), "input ", input, " ('", node_->input[input],
              "') must be a constant (an initializer or a Constant node); loom imports sequential graphs only: one "
              "chain of nodes, without branches");
        return *it->second;
    }
    bool has_input(std::size_t i) const { return node_->input.size() > i && !node_->input[i].empty(); }

    // The rank of the current tensor, batch included.
    std::size_t rank() const { return net_->output_shape().rank() + 1; }
    const Shape& shape() const { return net_->output_shape(); }  // loom's per-sample (channels-last) shape

    void add_node() {
        const NodeProto& n = *node_;
        check(n.domain.empty() || n.domain == "ai.onnx", "domain '", n.domain,
              "' is not supported; loom imports the default ONNX domain");
        check(!n.output.empty() && !n.output[0].empty(), "the node has no output");
        if (n.op_type == "Constant") return add_constant();
        for (const auto& a : n.attribute) check(!a.has_graph, "sub-graphs (If, Loop, Scan) are not supported");
        // The data input is the one that continues the chain; every other input must be a constant.
        std::size_t data = 0;
        if (n.op_type == "Add" && n.input.size() == 2 && n.input[1] == current_) data = 1;
        check(n.input.size() > data && n.input[data] == current_, "its input ",
              n.input.empty() ? std::string("(none)") : "'" + n.input[data] + "'",
              " is not the output of the node before it ('", current_,
              "'); loom imports sequential graphs only: one chain of nodes, without branches");
        for (std::size_t i = 0; i < n.input.size(); ++i)
            if (i != data && !n.input[i].empty()) constant(i);
        for (std::size_t i = 1; i < n.output.size(); ++i)
            check(n.output[i].empty() || n.op_type == "Dropout", "output ", i, " ('", n.output[i],
                  "') is not supported; loom reads only the first output");
        Dense<T>* previous_dense = last_dense_;
        last_dense_ = nullptr;
        const std::string& op = n.op_type;
        if (op == "Identity") {
        } else if (op == "Dropout") {
            // The identity at inference; its ratio and training_mode inputs are ignored.
        } else if (op == "Relu") {
            add(std::make_unique<ReLU<T>>());
        } else if (op == "Tanh") {
            add(std::make_unique<Tanh<T>>());
        } else if (op == "Sigmoid") {
            add(std::make_unique<Sigmoid<T>>());
        } else if (op == "Softmax") {
            add_softmax();
        } else if (op == "Flatten") {
            add_flatten();
        } else if (op == "Reshape") {
            add_reshape();
        } else if (op == "Transpose") {
            add_transpose();
        } else if (op == "Conv") {
            add_conv();
        } else if (op == "MaxPool") {
            add_maxpool();
        } else if (op == "Gemm") {
            add_gemm();
        } else if (op == "MatMul") {
            add_matmul();
        } else if (op == "Add") {
            add_bias(previous_dense, data);
        } else {
            fail("unsupported op; loom imports ", importable_ops);
        }
        current_ = n.output[0];
    }

    template <class L>
    L& add(std::unique_ptr<L> layer) {
        L& ref = *layer;
        try {
            net_->add(std::move(layer));
        } catch (const Error& e) {
            fail(e.what());
        }
        return ref;
    }

    void add_constant() {
        const AttributeProto* value = attribute(*node_, "value");
        check(value && value->type == attribute_type::tensor && value->t.size() == 1,
              "loom reads Constant nodes with a 'value' tensor only");
        check(node_->input.empty(), "a Constant has no inputs");
        constants_[node_->output[0]] = &value->t[0];
    }

    void add_softmax() {
        only_attributes({"axis"});
        const auto r = static_cast<std::int64_t>(rank());
        std::int64_t axis = integer("axis", opset_ < 13 ? 1 : -1);
        if (axis < 0) axis += r;
        // loom's Softmax runs over its last (channels) axis; before opset 13 ONNX's runs over all axes
        // from `axis` on, which is the same only when `axis` is the last one.
        const std::int64_t channels = channels_first_ ? 1 : r - 1;
        check(axis == channels && (opset_ >= 13 || axis == r - 1), "softmax over axis ", axis, " of a rank-", r,
              " tensor; loom's Softmax runs over the channel (last) axis only");
        add(std::make_unique<Softmax<T>>());
    }

    void flatten_layout() {
        if (channels_first_) pending_rows_ = {shape()[0], shape()[1], shape()[2]};
        channels_first_ = false;
        if (rank() > 2) add(std::make_unique<Flatten<T>>());
    }

    void add_flatten() {
        only_attributes({"axis"});
        std::int64_t axis = integer("axis", 1);
        if (axis < 0) axis += static_cast<std::int64_t>(rank());
        check(axis == 1, "axis ", axis, "; loom's Flatten keeps the batch axis (axis = 1)");
        flatten_layout();
    }

    void add_reshape() {
        only_attributes({"allowzero"});
        check(has_input(1), "the shape input is missing");
        const auto target = tensor_values<std::int64_t>(constant(1), what_);
        const auto features = static_cast<std::int64_t>(shape().elements());
        const bool keeps_batch = !target.empty() && (target[0] == -1 || (target[0] == 0 && integer("allowzero", 0) == 0) ||
                                                     (fixed_batch_ && target[0] == *fixed_batch_));
        check(target.size() == 2 && keeps_batch && (target[1] == -1 || target[1] == features),
              "a reshape to (", join(target), ") of a (N, ", join_shape(), ") tensor; loom reads Reshape only as "
              "a flatten to (N, ", features, ")");
        flatten_layout();
    }

    void add_transpose() {
        only_attributes({"perm"});
        const auto perm = ints("perm", {});
        if (rank() == 4 && !channels_first_ && perm == std::vector<std::int64_t>{0, 3, 1, 2}) {
            channels_first_ = true;
            return;
        }
        if (rank() == 4 && channels_first_ && perm == std::vector<std::int64_t>{0, 2, 3, 1}) {
            channels_first_ = false;
            return;
        }
        bool identity = perm.size() == rank();
        for (std::size_t i = 0; identity && i < perm.size(); ++i) identity = perm[i] == static_cast<std::int64_t>(i);
        check(identity, "perm (", join(perm), ") on a ", channels_first_ ? "channels-first" : "channels-last",
              " rank-", rank(), " tensor; loom reads only the layout changes NHWC -> NCHW (0, 3, 1, 2) and back "
              "(0, 2, 3, 1)");
    }

    // Maps an ONNX window's padding to loom's two choices.
    struct Window {
        std::size_t kh, kw, sh, sw;
        Padding padding;
    };
    Window window(std::size_t kh, std::size_t kw) {
        check(rank() == 4 && channels_first_, "expected a channels-first (N, C, H, W) input, got a ",
              channels_first_ ? "" : "channels-last ", "rank-", rank(), " tensor");
        const auto strides = ints("strides", {1, 1});
        const auto dilations = ints("dilations", {1, 1});
        check(strides.size() == 2 && strides[0] >= 1 && strides[1] >= 1 && strides[0] <= max_extent &&
                  strides[1] <= max_extent,
              "strides (", join(strides), "); expected two strides >= 1");
        check(dilations == std::vector<std::int64_t>{1, 1}, "dilations (", join(dilations),
              "); loom supports dilation 1 only");
        Window w{kh, kw, static_cast<std::size_t>(strides[0]), static_cast<std::size_t>(strides[1]), Padding::Valid};
        const std::size_t h = shape()[0], wd = shape()[1];
        const Window1D rows = window_1d(h, kh, w.sh, Padding::Same, "");
        const Window1D cols = window_1d(wd, kw, w.sw, Padding::Same, "");
        // loom's 'same': the padding the windows need in all, half before (rounded down), the rest after.
        const auto after = [](std::size_t n, std::size_t k, std::size_t s, Window1D d) {
            const std::size_t needed = (d.out - 1) * s + k;
            return static_cast<std::int64_t>(needed > n + d.pad ? needed - n - d.pad : 0);
        };
        const std::vector<std::int64_t> same = {static_cast<std::int64_t>(rows.pad), static_cast<std::int64_t>(cols.pad),
                                                after(h, kh, w.sh, rows), after(wd, kw, w.sw, cols)};
        const std::string auto_pad = text("auto_pad", "NOTSET");
        const auto pads = ints("pads", {0, 0, 0, 0});
        const bool lower_is_upper = same[0] == same[2] && same[1] == same[3];
        if (auto_pad == "SAME_UPPER" || (auto_pad == "SAME_LOWER" && lower_is_upper)) {
            w.padding = Padding::Same;
        } else if (auto_pad == "VALID" || (auto_pad == "NOTSET" && pads == std::vector<std::int64_t>{0, 0, 0, 0})) {
            check(h >= kh && wd >= kw, "a ", kh, "x", kw, " window does not fit a ", h, "x", wd, " input");
        } else if (auto_pad == "NOTSET" && pads == same) {
            w.padding = Padding::Same;
        } else {
            fail("auto_pad '", auto_pad, "' with pads (", join(pads), ") on a ", h, "x", wd,
                 " input; loom supports no padding and 'same' padding (here pads (", join(same),
                 "), the extra row and column at the end), not other (e.g. asymmetric) pads");
        }
        return w;
    }

    void add_conv() {
        only_attributes({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
        check(integer("group", 1) == 1, "group ", integer("group", 1), "; loom supports group 1 only");
        check(has_input(1), "the weight input is missing");
        const TensorProto& wt = constant(1);
        check(wt.dims.size() == 4, "weights of rank ", wt.dims.size(), "; expected (filters, channels, kh, kw)");
        const auto w = tensor_values<T>(wt, what_);
        const auto f = static_cast<std::size_t>(wt.dims[0]), c = static_cast<std::size_t>(wt.dims[1]),
                   kh = static_cast<std::size_t>(wt.dims[2]), kw = static_cast<std::size_t>(wt.dims[3]);
        check(f >= 1 && kh >= 1 && kw >= 1, "empty weights (", join(wt.dims), ")");
        const auto kernel_shape = ints("kernel_shape", {wt.dims[2], wt.dims[3]});
        check(kernel_shape == std::vector<std::int64_t>{wt.dims[2], wt.dims[3]}, "kernel_shape (", join(kernel_shape),
              ") disagrees with the weights (", join(wt.dims), ")");
        const Window win = window(kh, kw);
        check(c == shape()[2], "weights for ", c, " input channels, but the input has ", shape()[2]);
        std::vector<T> b(f, T(0));
        if (has_input(2)) {
            b = tensor_values<T>(constant(2), what_);
            check(b.size() == f, "a bias of ", b.size(), " values for ", f, " filters");
        }
        auto& conv = add(std::make_unique<Conv2D<T>>(f, kh, kw, win.padding, win.sh, win.sw));
        Tensor<T>& lw = conv.weights();  // (kh, kw, c, f) from ONNX's (f, c, kh, kw)
        for (std::size_t o = 0; o < f; ++o)
            for (std::size_t ch = 0; ch < c; ++ch)
                for (std::size_t y = 0; y < kh; ++y)
                    for (std::size_t x = 0; x < kw; ++x)
                        lw[((y * kw + x) * c + ch) * f + o] = w[((o * c + ch) * kh + y) * kw + x];
        std::copy(b.begin(), b.end(), conv.bias().begin());
    }

    void add_maxpool() {
        only_attributes({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
        const auto k = ints("kernel_shape", {});
        check(k.size() == 2 && k[0] >= 1 && k[0] <= max_extent && k[1] >= 1 && k[1] <= max_extent,
              "kernel_shape (", join(k), "); expected two extents");
        check(k[0] == k[1], "a ", k[0], "x", k[1], " window; loom's MaxPool2D has square windows");
        const Window win = window(static_cast<std::size_t>(k[0]), static_cast<std::size_t>(k[1]));
        check(win.sh == win.sw, "strides (", win.sh, ", ", win.sw, "); loom's MaxPool2D has one stride for both axes");
        auto& pool = add(std::make_unique<MaxPool2D<T>>(static_cast<std::size_t>(k[0]), win.sh, win.padding));
        if (integer("ceil_mode", 0) != 0) {
            // Rounding up gives the same extents when the windows tile the (padded) input exactly.
            const Shape& in = pool.input_shape();
            const auto pads = ints("pads", {0, 0, 0, 0});
            bool exact = win.padding == Padding::Valid && pads.size() == 4;
            for (std::size_t a = 0; exact && a < 2; ++a)
                exact = (in[a] - static_cast<std::size_t>(k[a])) % win.sh == 0;
            check(exact, "ceil_mode 1 changes the output size here; loom rounds down (ceil_mode 0)");
        }
    }

    // Sets a new Dense layer's weights from (in, units) values, undoing a channels-first flatten.
    void fill_dense(Dense<T>& dense, const std::vector<T>& w, T scale) {
        const std::size_t in = dense.weights().dim(0), units = dense.weights().dim(1);
        T* out = dense.weights().data();
        if (pending_rows_.empty()) {
            for (std::size_t i = 0; i < in * units; ++i) out[i] = scale * w[i];
            return;
        }
        const std::size_t h = pending_rows_[0], wd = pending_rows_[1], c = pending_rows_[2];
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t x = 0; x < wd; ++x)
                for (std::size_t ch = 0; ch < c; ++ch)
                    for (std::size_t u = 0; u < units; ++u)
                        out[((y * wd + x) * c + ch) * units + u] = scale * w[((ch * h + y) * wd + x) * units + u];
        pending_rows_.clear();
    }

    Dense<T>& new_dense(const TensorProto& wt, bool transposed, T scale) {
        check(rank() == 2, "a (N, features) input is needed, got rank ", rank(), "; add a Flatten before it");
        check(wt.dims.size() == 2, "weights of rank ", wt.dims.size(), "; expected a matrix");
        auto w = tensor_values<T>(wt, what_);
        const auto in = static_cast<std::size_t>(wt.dims[transposed ? 1 : 0]);
        const auto units = static_cast<std::size_t>(wt.dims[transposed ? 0 : 1]);
        check(in == shape()[0] && units >= 1, "weights (", join(wt.dims), ") for ", shape()[0], " input features");
        if (transposed) {
            std::vector<T> t(w.size());
            for (std::size_t u = 0; u < units; ++u)
                for (std::size_t i = 0; i < in; ++i) t[i * units + u] = w[u * in + i];
            w.swap(t);
        }
        auto& dense = add(std::make_unique<Dense<T>>(units));
        fill_dense(dense, w, scale);
        std::fill(dense.bias().begin(), dense.bias().end(), T(0));
        return dense;
    }

    // A bias that broadcasts over (N, units): shape (units) or (1, units).
    void add_to_bias(Dense<T>& dense, const TensorProto& bt, T scale) {
        const std::size_t units = dense.units();
        const auto b = tensor_values<T>(bt, what_);
        const bool fits = (bt.dims.size() == 1 && b.size() == units) ||
                          (bt.dims.size() == 2 && bt.dims[0] == 1 && b.size() == units);
        check(fits, "a bias of shape (", join(bt.dims), ") for ", units, " units; expected (", units, ") or (1, ",
              units, ")");
        for (std::size_t u = 0; u < units; ++u) dense.bias()[u] += scale * b[u];
    }

    void add_gemm() {
        only_attributes({"alpha", "beta", "transA", "transB"});
        check(integer("transA", 0) == 0, "transA = 1; loom multiplies the (N, features) input as it is");
        check(has_input(1), "the B input is missing");
        // alpha and beta are folded into the weights and the bias.
        auto& dense = new_dense(constant(1), integer("transB", 0) != 0, static_cast<T>(real("alpha", 1.0f)));
        if (has_input(2)) add_to_bias(dense, constant(2), static_cast<T>(real("beta", 1.0f)));
        last_dense_ = &dense;
    }

    void add_matmul() {
        only_attributes({});
        check(has_input(1), "the second input is missing");
        last_dense_ = &new_dense(constant(1), false, T(1));
    }

    void add_bias(Dense<T>* dense, std::size_t data) {
        only_attributes({});
        check(dense != nullptr, "loom reads Add only as the bias of the MatMul or Gemm right before it");
        check(node_->input.size() == 2, "expected two inputs");
        add_to_bias(*dense, constant(1 - data), T(1));
        last_dense_ = dense;
    }

    static std::string join(const std::vector<std::int64_t>& v) {
        std::string s;
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
        return s;
    }
    std::string join_shape() const {
        std::string s;
        for (std::size_t i = 0; i < shape().rank(); ++i) s += (i ? ", " : "") + std::to_string(shape()[i]);
        return s;
    }

    const ModelProto& m_;
    std::string what_;
    std::int64_t opset_ = 0;
    std::map<std::string, const TensorProto*> constants_;
    std::optional<std::int64_t> fixed_batch_;
    Sequential<T>* net_ = nullptr;
    const NodeProto* node_ = nullptr;
    std::size_t index_ = 0;
    std::string current_;
    bool channels_first_ = false;
    std::vector<std::size_t> pending_rows_;  // (H, W, C) of a channels-first flatten awaiting its Dense
    Dense<T>* last_dense_ = nullptr;         // the Dense the previous node made, which an Add may add to
};

}  // namespace detail

// Builds a loom model from ONNX bytes in memory; `what` names them in error messages.
template <class T = float>
Sequential<T> load_from_memory(const unsigned char* data, std::size_t size, const std::string& what = "ONNX model") {
    const ModelProto model = decode(data, size, what);
    return detail::Importer<T>(model, what).run();
}

template <class T = float>
Sequential<T> load_from_memory(const std::vector<unsigned char>& bytes, const std::string& what = "ONNX model") {
    return load_from_memory<T>(bytes.data(), bytes.size(), what);
}

// Reads an ONNX file (opsets 11 to 17) as a Sequential<T> taking NHWC input.
template <class T = float>
Sequential<T> load(const std::filesystem::path& path) {
    const auto bytes = model_file::read_file(path, std::uintmax_t{1} << 31);  // protobuf's 2 GiB limit
    return load_from_memory<T>(bytes, path.string());
}

}  // namespace loom::onnx
