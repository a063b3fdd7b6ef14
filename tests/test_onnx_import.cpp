// ONNX import of graphs built by hand: the forms other exporters write (MatMul + Add, Gemm with transB,
// alpha and beta, Reshape from a Constant, an NHWC input behind a Transpose, float_data, IR 3 inputs),
// and every refusal: an unsupported op, attribute or graph shape names the node, the op and what loom
// supports; truncated or corrupted files are IoErrors, never a crash.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "loom/loom.hpp"
#include "loom/onnx/onnx.hpp"

namespace {

namespace onnx = loom::onnx;

onnx::AttributeProto ints(std::string name, std::vector<std::int64_t> v) {
    onnx::AttributeProto a;
    a.name = std::move(name);
    a.type = onnx::attribute_type::ints;
    a.ints = std::move(v);
    return a;
}
onnx::AttributeProto integer(std::string name, std::int64_t v) {
    onnx::AttributeProto a;
    a.name = std::move(name);
    a.type = onnx::attribute_type::int64;
    a.i = v;
    return a;
}
onnx::AttributeProto text(std::string name, std::string v) {
    onnx::AttributeProto a;
    a.name = std::move(name);
    a.type = onnx::attribute_type::string;
    a.s = std::move(v);
    return a;
}
onnx::AttributeProto real(std::string name, float v) {
    onnx::AttributeProto a;
    a.name = std::move(name);
    a.type = onnx::attribute_type::float32;
    a.f = v;
    return a;
}

std::vector<float> ramp(std::size_t n, float scale) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = scale * std::cos(0.7f * static_cast<float>(i));
    return v;
}

// A graph built node by node; the last node's first output becomes the graph output.
struct Graph {
    onnx::ModelProto m;

    explicit Graph(std::vector<std::int64_t> input_dims, std::int64_t opset = 13) {
        m.ir_version = 7;
        m.opset_import.push_back({"", opset});
        m.has_graph = true;
        onnx::ValueInfoProto in;
        in.name = "input";
        in.elem_type = onnx::data_type::float32;
        in.has_shape = true;
        in.dims.push_back({false, 0, "N"});
        for (auto d : input_dims) in.dims.push_back({true, d, ""});
        m.graph.input.push_back(in);
    }
    onnx::NodeProto& node(std::string op, std::vector<std::string> in, std::vector<onnx::AttributeProto> attrs = {}) {
        onnx::NodeProto n;
        n.op_type = std::move(op);
        n.name = "n" + std::to_string(m.graph.node.size());
        n.input = std::move(in);
        n.output = {n.name};
        n.attribute = std::move(attrs);
        m.graph.node.push_back(n);
        return m.graph.node.back();
    }
    void init(const std::string& name, std::vector<std::int64_t> dims, const std::vector<float>& v) {
        m.graph.initializer.push_back(onnx::make_tensor(name, std::move(dims), v));
    }
    std::vector<unsigned char> bytes() {
        onnx::ValueInfoProto out;
        out.name = m.graph.node.empty() ? "input" : m.graph.node.back().output[0];
        out.elem_type = onnx::data_type::float32;
        m.graph.output = {out};
        return onnx::encode(m);
    }
    loom::Sequential<float> load() { return onnx::load_from_memory<float>(bytes(), "hand.onnx"); }
    std::string error() {
        try {
            load();
        } catch (const loom::IoError& e) {
            return e.what();
        }
        FAIL("no IoError");
        return {};
    }
};

// A 3x3 convolution of 2 channels into 3 on a 5x4 NCHW input, `attrs` its attributes.
Graph conv_graph(std::vector<onnx::AttributeProto> attrs, std::vector<std::int64_t> w_dims = {3, 2, 3, 3}) {
    Graph g({2, 5, 4});
    std::size_t n = 1;
    for (auto d : w_dims) n *= static_cast<std::size_t>(d);
    g.init("w", w_dims, ramp(n, 0.3f));
    g.node("Conv", {"input", "w"}, std::move(attrs));
    return g;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("onnx import: MatMul + Add, Gemm with transB, alpha and beta, Identity, Dropout, opset 11 Softmax") {
    Graph g({12}, 11);
    const auto w1 = ramp(12 * 4, 0.4f), b1 = ramp(4, 0.1f), w2 = ramp(3 * 4, 0.5f), c2 = ramp(3, 0.2f);
    g.init("w1", {12, 4}, w1);
    g.init("b1", {4}, b1);
    g.init("w2", {3, 4}, w2);  // (units, in): transB = 1, as PyTorch writes nn.Linear
    onnx::TensorProto c = onnx::make_tensor("c2", {1, 3}, c2);
    c.raw_data.clear();
    c.float_data = c2;  // the typed field instead of raw_data
    g.m.graph.initializer.push_back(c);
    g.node("MatMul", {"input", "w1"});
    g.node("Add", {"b1", "n0"});  // the bias first: Add is commutative
    g.node("Relu", {"n1"});
    g.node("Gemm", {"n2", "w2", "c2"}, {integer("transB", 1), real("alpha", 0.5f), real("beta", 2.0f)});
    g.node("Identity", {"n3"});
    g.node("Dropout", {"n4"});
    g.node("Softmax", {"n5"});
    auto net = g.load();

    loom::Sequential<float> expected({12});
    expected.add<loom::Dense>(4).add<loom::ReLU>().add<loom::Dense>(3).add<loom::Softmax>();
    auto& d1 = dynamic_cast<loom::Dense<float>&>(expected.layer(0));
    auto& d2 = dynamic_cast<loom::Dense<float>&>(expected.layer(2));
    std::copy(w1.begin(), w1.end(), d1.weights().begin());
    std::copy(b1.begin(), b1.end(), d1.bias().begin());
    for (std::size_t u = 0; u < 3; ++u) {
        for (std::size_t i = 0; i < 4; ++i) d2.weights()[i * 3 + u] = 0.5f * w2[u * 4 + i];
        d2.bias()[u] = 2.0f * c2[u];
    }
    REQUIRE(net.size() == expected.size());
    loom::Tensor<float> x({7, 12});
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
    const auto a = net.predict(x), b = expected.predict(x);
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-6));
}

TEST_CASE("onnx import: an NHWC input behind a Transpose, explicit 'same' pads, Reshape by a Constant, IR 3") {
    Graph g({6, 4, 2}, 17);
    g.m.ir_version = 3;
    g.init("w", {3, 2, 3, 3}, ramp(54, 0.3f));
    onnx::ValueInfoProto listed;  // before IR 4 every initializer is also a graph input
    listed.name = "w";
    listed.elem_type = onnx::data_type::float32;
    g.m.graph.input.push_back(listed);
    g.node("Transpose", {"input"}, {ints("perm", {0, 3, 1, 2})});
    g.node("Conv", {"n0", "w"}, {ints("pads", {1, 1, 1, 1}), ints("kernel_shape", {3, 3})});
    g.node("MaxPool", {"n1"}, {ints("kernel_shape", {2, 2}), ints("strides", {2, 2}), integer("ceil_mode", 1)});
    onnx::AttributeProto value;
    value.name = "value";
    value.type = onnx::attribute_type::tensor;
    value.t = {onnx::make_int64_tensor("", {0, -1})};
    g.node("Constant", {}, {value});
    g.node("Reshape", {"n2", "n3"});
    g.init("w2", {18, 2}, ramp(36, 0.2f));
    g.node("MatMul", {"n4", "w2"});
    auto net = g.load();
    CHECK(net.input_shape() == loom::Shape{6, 4, 2});
    CHECK(net.output_shape() == loom::Shape{2});
    CHECK(net.layer(0).type() == "Conv2D");
    CHECK(net.layer(0).config().text("padding") == "same");
    CHECK(net.layer(2).type() == "Flatten");
    // Conv's kernel went from (f, c, kh, kw) to loom's (kh, kw, c, f).
    auto& conv = dynamic_cast<loom::Conv2D<float>&>(net.layer(0));
    CHECK(conv.weights()[((1 * 3 + 2) * 2 + 1) * 3 + 2] == ramp(54, 0.3f)[((2 * 2 + 1) * 3 + 1) * 3 + 2]);
}

TEST_CASE("onnx import: a Keras-style graph (tf2onnx: NHWC in, Transpose, Conv, Transpose back, Reshape, MatMul + Add)") {
    loom::Sequential<float> keras({6, 5, 2}, 21);
    keras.add<loom::Conv2D>(3, 3, loom::Padding::Same).add<loom::ReLU>().add<loom::Flatten>().add<loom::Dense>(4)
        .add<loom::Softmax>();
    auto& conv = dynamic_cast<loom::Conv2D<float>&>(keras.layer(0));
    auto& dense = dynamic_cast<loom::Dense<float>&>(keras.layer(3));
    std::vector<float> kernel(conv.weights().size());  // ONNX's (f, c, kh, kw) from loom's (kh, kw, c, f)
    for (std::size_t o = 0; o < 3; ++o)
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t y = 0; y < 3; ++y)
                for (std::size_t x = 0; x < 3; ++x)
                    kernel[((o * 2 + c) * 3 + y) * 3 + x] = conv.weights()[((y * 3 + x) * 2 + c) * 3 + o];
    Graph g({6, 5, 2});
    g.init("k", {3, 2, 3, 3}, kernel);
    g.init("kb", {3}, std::vector<float>(conv.bias().begin(), conv.bias().end()));
    g.init("w", {90, 4}, std::vector<float>(dense.weights().begin(), dense.weights().end()));  // NHWC order: as is
    g.init("b", {4}, std::vector<float>(dense.bias().begin(), dense.bias().end()));
    g.m.graph.initializer.push_back(onnx::make_int64_tensor("shape", {-1, 90}));
    g.node("Transpose", {"input"}, {ints("perm", {0, 3, 1, 2})});
    g.node("Conv", {"n0", "k", "kb"}, {text("auto_pad", "SAME_UPPER")});
    g.node("Relu", {"n1"});
    g.node("Transpose", {"n2"}, {ints("perm", {0, 2, 3, 1})});
    g.node("Reshape", {"n3", "shape"});
    g.node("MatMul", {"n4", "w"});
    g.node("Add", {"n5", "b"});
    g.node("Softmax", {"n6"}, {integer("axis", -1)});
    auto net = g.load();
    CHECK(net.input_shape() == keras.input_shape());
    loom::Tensor<float> x({4, 6, 5, 2});
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.3f * static_cast<float>(i));
    CHECK(net.predict(x) == keras.predict(x));
}

TEST_CASE("onnx import: unsupported ops, attributes and graph shapes name the node, the op and what is supported") {
    Graph leaky({4});
    leaky.node("Relu", {"input"});
    leaky.node("LeakyRelu", {"n0"});
    CHECK(leaky.error() == std::string("hand.onnx: node 1 'n1' (LeakyRelu): unsupported op; loom imports ") +
                               onnx::importable_ops);

    CHECK(contains(conv_graph({ints("pads", {0, 0, 1, 1})}).error(),
                   "node 0 'n0' (Conv): auto_pad 'NOTSET' with pads (0, 0, 1, 1) on a 5x4 input; loom supports no "
                   "padding and 'same' padding (here pads (1, 1, 1, 1)"));
    CHECK(contains(conv_graph({ints("dilations", {2, 2})}).error(), "(Conv): dilations (2, 2); loom supports dilation 1 only"));
    CHECK(contains(conv_graph({integer("group", 2)}, {3, 1, 3, 3}).error(), "(Conv): group 2; loom supports group 1 only"));
    CHECK(contains(conv_graph({integer("weird", 1)}).error(), "(Conv): attribute 'weird' is not supported"));
    CHECK(contains(conv_graph({}, {3, 4, 3, 3}).error(), "(Conv): weights for 4 input channels, but the input has 2"));

    Graph branch({4});
    branch.node("Relu", {"input"});
    branch.node("Tanh", {"n0"});
    branch.node("Add", {"n1", "n0"});
    CHECK(contains(branch.error(), "node 2 'n2' (Add): input 1 ('n0') must be a constant (an initializer or a Constant "
                                   "node); loom imports sequential graphs only"));
    Graph fork({4});
    fork.node("Relu", {"input"});
    fork.node("Tanh", {"input"});
    CHECK(contains(fork.error(), "node 1 'n1' (Tanh): its input 'input' is not the output of the node before it ('n0')"));

    Graph old({4}, 10), future({4}, 18);
    old.node("Relu", {"input"});
    future.node("Relu", {"input"});
    CHECK(contains(old.error(), "hand.onnx: opset 10; loom imports opsets 11 to 17"));
    CHECK(contains(future.error(), "opset 18; loom imports opsets 11 to 17"));

    Graph reshape({2, 3});
    reshape.init("shape", {}, {});
    reshape.m.graph.initializer.back() = onnx::make_int64_tensor("shape", {-1, 2, 3});
    reshape.node("Reshape", {"input", "shape"});
    CHECK(contains(reshape.error(), "(Reshape): a reshape to (-1, 2, 3) of a (N, 2, 3) tensor; loom reads Reshape only as a flatten"));

    Graph transpose({2, 3, 4});
    transpose.node("Transpose", {"input"}, {ints("perm", {0, 2, 1, 3})});
    CHECK(contains(transpose.error(), "(Transpose): perm (0, 2, 1, 3) on a channels-first rank-4 tensor"));

    Graph ceil({1, 5, 5});
    ceil.node("MaxPool", {"input"}, {ints("kernel_shape", {2, 2}), ints("strides", {2, 2}), integer("ceil_mode", 1)});
    CHECK(contains(ceil.error(), "(MaxPool): ceil_mode 1 changes the output size here"));

    Graph average({1, 4, 4});
    average.node("AveragePool", {"input"}, {ints("kernel_shape", {2, 2})});
    CHECK(contains(average.error(), "(AveragePool): unsupported op"));

    Graph two_inputs({4});
    two_inputs.m.graph.input.push_back(two_inputs.m.graph.input[0]);
    two_inputs.m.graph.input.back().name = "other";
    two_inputs.node("Relu", {"input"});
    CHECK(contains(two_inputs.error(), "the graph has 2 inputs (initializers aside); loom imports models with exactly one input"));

    Graph external({4});
    external.init("w", {4, 2}, ramp(8, 1));
    external.m.graph.initializer.back().external = true;
    external.node("MatMul", {"input", "w"});
    CHECK(contains(external.error(), "tensor 'w' keeps its values in an external file"));
    Graph short_weights({4});
    short_weights.init("w", {4, 3}, ramp(8, 1));
    short_weights.node("MatMul", {"input", "w"});
    CHECK(contains(short_weights.error(), "tensor 'w' has dims promising 12 values but holds 8"));
}

TEST_CASE("onnx import: every truncation and every corrupted byte of a file is a loom::Error, never a crash") {
    loom::Sequential<float> net({5, 4, 2}, 9);
    net.add<loom::Conv2D>(3, 2, loom::Padding::Same).add<loom::MaxPool2D>(2).add<loom::Flatten>()
        .add<loom::Dense>(3).add<loom::Softmax>();
    const auto bytes = onnx::to_bytes(net);
    for (std::size_t n = 0; n < bytes.size(); ++n)
        CHECK_THROWS_AS(onnx::load_from_memory<float>(bytes.data(), n, "cut"), loom::IoError);
    std::size_t loaded = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i)
        for (unsigned char flip : {0x01, 0x80, 0xff}) {
            auto bad = bytes;
            bad[i] ^= flip;
            try {
                onnx::load_from_memory<float>(bad, "flipped");
                ++loaded;  // a flipped weight is still a valid model
            } catch (const loom::Error&) {
            }
        }
    CHECK(loaded > 0);
}
