// The layer contract of layers/layer.hpp, checked the same way for every registered layer: gradients
// in double, settings round trip through the registry, parameter counts before and after build,
// training state save/load, and clone() giving identical outputs. A layer registered without an
// entry in `examples()` fails here, so a new layer cannot skip the checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "expect_error.hpp"
#include "gradient_check.hpp"
#include "loom/loom.hpp"

namespace {

struct Example {
    loom::LayerConfig config;
    loom::Shape input;
};

// Settings and a per-sample input shape for each built-in layer: odd sizes, so that no index mix-up
// hides behind a square.
std::map<std::string, Example> examples() {
    using loom::LayerConfig;
    const auto conv = loom::Conv2D<double>(3, 3, loom::Padding::Same, 2).config();
    const auto pool = loom::MaxPool2D<double>(2).config();
    const auto dense = loom::Dense<double>(4, loom::Initializer::uniform(0.5), loom::Initializer::uniform(0.5)).config();
    return {{"Conv2D", {conv, {5, 4, 2}}},       {"MaxPool2D", {pool, {5, 6, 3}}},
            {"Dense", {dense, {7}}},             {"Flatten", {LayerConfig{}, {3, 2, 2}}},
            {"Dropout", {loom::Dropout<double>(0.3).config(), {11}}},
            {"Softmax", {LayerConfig{}, {6}}},   {"Tanh", {LayerConfig{}, {3, 3}}},
            {"Sigmoid", {LayerConfig{}, {9}}},   {"ReLU", {LayerConfig{}, {2, 5}}}};
}

std::vector<double> values_of(loom::Layer<double>& layer) {
    std::vector<double> w;
    for (const auto& p : layer.parameters()) w.insert(w.end(), p.value->begin(), p.value->end());
    return w;
}

std::vector<double> run(loom::Layer<double>& layer, const loom::Tensor<double>& x, bool training) {
    const auto y = layer.forward(x, training);
    return {y.begin(), y.end()};
}

}  // namespace

TEST_CASE("every registered layer fulfils the layer contract") {
    const auto table = examples();
    const auto types = loom::LayerRegistry<double>::instance().types();
    for (const char* builtin : {"Conv2D", "MaxPool2D", "Dense", "Flatten", "Dropout", "Softmax", "Tanh", "Sigmoid", "ReLU"})
        CHECK(std::find(types.begin(), types.end(), builtin) != types.end());
    for (const auto& type : types) CHECK(loom::is_registered_layer(type));
    CHECK(!loom::is_registered_layer("Triple"));
    for (const auto& type : types) {
        CAPTURE(type);
        const auto it = table.find(type);
        if (it == table.end()) continue;  // a custom layer registered by another test
        const Example& example = it->second;
        auto& registry = loom::LayerRegistry<double>::instance();

        // Settings round trip: the registry rebuilds a layer with the same type and settings.
        auto layer = registry.create(type, example.config);
        CHECK(layer->type() == type);
        CHECK(layer->config().entries() == example.config.entries());

        // Parameter counts: predicted before build, equal to what build creates.
        const std::size_t predicted = layer->param_count_for(example.input);
        loom::Rng rng(5);
        layer->build(example.input, rng);
        CHECK(layer->param_count() == predicted);
        CHECK(layer->input_shape() == example.input);

        // Gradients in double; Dropout replays its mask from a saved generator state.
        auto fresh = registry.create(type, example.config);
        if (auto* dropout = dynamic_cast<loom::Dropout<double>*>(fresh.get())) {
            const auto state = dropout->generator().state();
            loom_test::check_layer_gradients(*fresh, example.input, 3, 7, [&] { dropout->generator().set_state(state); });
        } else {
            loom_test::check_layer_gradients(*fresh, example.input, 3);
        }

        // Clone: identical outputs and weights, training state included, and nothing shared.
        loom::Tensor<double> x(example.input.with_batch(4));
        loom_test::fill_random(x, rng);
        const auto copy = layer->clone();
        CHECK(copy->type() == type);
        CHECK(copy->output_shape() == layer->output_shape());
        CHECK(values_of(*copy) == values_of(*layer));
        CHECK(run(*copy, x, true) == run(*layer, x, true));
        for (const auto& p : copy->parameters()) std::fill(p.value->begin(), p.value->end(), 0.25);
        if (!layer->parameters().empty()) CHECK(values_of(*copy) != values_of(*layer));

        // Training state: saving, running on, and loading it back replays the same training outputs.
        loom::ByteWriter state;
        layer->save_state(state);
        const auto first = run(*layer, x, true);
        loom::ByteReader reader(state.bytes().data(), state.bytes().size(), "state");
        layer->load_state(reader);
        CHECK(reader.remaining() == 0);
        CHECK(run(*layer, x, true) == first);
    }
}

TEST_CASE("an unregistered layer trains, clones, but cannot be saved") {
    // A custom layer: y = 3x, with no registration.
    struct Triple : loom::Layer<float> {
        std::string type() const override { return "Triple"; }
        std::unique_ptr<loom::Layer<float>> clone() const override { return std::make_unique<Triple>(*this); }
        loom::TensorView<const float> forward(loom::TensorView<const float> x, bool) override {
            y.resize(x.shape());
            for (std::size_t i = 0; i < x.size(); ++i) y[i] = 3 * x[i];
            return y.view();
        }
        loom::TensorView<const float> backward(loom::TensorView<const float> g) override {
            dx.resize(g.shape());
            for (std::size_t i = 0; i < g.size(); ++i) dx[i] = 3 * g[i];
            return dx.view();
        }
        loom::Shape do_build(const loom::Shape& input, loom::Rng&) override { return input; }
        loom::Tensor<float> y, dx;
    };
    loom::Sequential<float> net({3}, 1);
    net.add<loom::Dense>(4).add(std::make_unique<Triple>()).add<loom::Dense>(2).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    loom::Tensor<float> x({5, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6});
    const auto outputs = [&](loom::Sequential<float>& model) {
        const auto p = model.predict(x);
        return std::vector<float>(p.begin(), p.end());
    };
    auto copy = net.clone();
    CHECK(copy.size() == 4);
    CHECK(outputs(copy) == outputs(net));
    const auto r = net.train_on_batch(x, loom::one_hot<float>(std::vector<int>{0, 1, 0, 1, 0}, 2));
    CHECK(r.samples == 5);
    CHECK(outputs(copy) != outputs(net));
    CHECK_THROWS_WITH_AS(net.to_bytes(), doctest::Contains("layer 1 (Triple): its type is not registered"),
                         loom::ArgumentError);
}

TEST_CASE("settings errors are ConfigErrors with stable ids") {
    loom::LayerConfig config;
    config.set("units", std::int64_t{0});
    loom_test::expect_error<loom::ConfigError>([&] { (void)config.size("units"); }, {"'units' is 0, expected 1 to"});
    CHECK_THROWS_AS(config.text("units"), loom::ConfigError);
    CHECK_THROWS_AS(config.real("missing"), loom::ConfigError);
    // The table of docs/errors.md, as tests/expect_error.hpp writes it out.
    using loom_test::stable_id;
    CHECK(loom::IoError("x").id() == stable_id<loom::IoError>);
    CHECK(loom::ShapeError("x").id() == stable_id<loom::ShapeError>);
    CHECK(loom::ArgumentError("x").id() == stable_id<loom::ArgumentError>);
    CHECK(loom::NumericError("x").id() == stable_id<loom::NumericError>);
    CHECK(loom::ConfigError("x").id() == stable_id<loom::ConfigError>);
    CHECK(loom::Error("x").id() == stable_id<loom::Error>);
}
