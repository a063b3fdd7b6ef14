#pragma once
// Weight initialisation schemes. Glorot-uniform is the default, as in Keras; He suits ReLU networks;
// uniform(-r, r) reproduces R nnet's `rang` (which initialises biases the same way); fan_in_uniform,
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), is PyTorch's default for the weights and biases of Linear and
// Conv2d layers (kaiming_uniform with a = sqrt(5)).
#include <cmath>
#include <cstdint>
#include <string>

#include "loom/core/error.hpp"
#include "loom/core/random.hpp"
#include "loom/core/tensor.hpp"
#include "loom/layers/layer_config.hpp"

namespace loom {

struct Initializer {
    enum class Kind { Zeros, GlorotUniform, HeNormal, HeUniform, Uniform, FanInUniform };
    Kind kind = Kind::GlorotUniform;
    double range = 0;  // for Uniform: values in [-range, range]

    static Initializer zeros() { return {Kind::Zeros, 0}; }
    static Initializer glorot_uniform() { return {Kind::GlorotUniform, 0}; }
    static Initializer he_normal() { return {Kind::HeNormal, 0}; }
    static Initializer he_uniform() { return {Kind::HeUniform, 0}; }
    static Initializer fan_in_uniform() { return {Kind::FanInUniform, 0}; }
    static Initializer uniform(double r) {
        require<ArgumentError>(r > 0, "uniform initializer: expected a range > 0, got ", r);
        return {Kind::Uniform, r};
    }

    // Fills `w` given the layer's fan-in and fan-out (Keras' definitions: for a convolution the
    // receptive field times input or output channels).
    template <class T>
    void fill(Tensor<T>& w, std::size_t fan_in, std::size_t fan_out, Rng& rng) const {
        const double fi = static_cast<double>(fan_in), fo = static_cast<double>(fan_out);
        switch (kind) {
            case Kind::Zeros: w.fill(T(0)); return;
            case Kind::GlorotUniform: return fill_uniform(w, std::sqrt(6.0 / (fi + fo)), rng);
            case Kind::HeUniform: return fill_uniform(w, std::sqrt(6.0 / fi), rng);
            case Kind::Uniform: return fill_uniform(w, range, rng);
            case Kind::FanInUniform: return fill_uniform(w, 1 / std::sqrt(fi), rng);
            case Kind::HeNormal:
                for (auto& v : w) v = static_cast<T>(std::sqrt(2.0 / fi) * rng.normal());
                return;
        }
    }

    void save(LayerConfig& config, const std::string& prefix) const {
        config.set(prefix + "_init", static_cast<std::int64_t>(kind)).set(prefix + "_init_range", range);
    }
    static Initializer load(const LayerConfig& config, const std::string& prefix) {
        const auto k = config.integer(prefix + "_init");
        require<ConfigError>(k >= 0 && k <= static_cast<std::int64_t>(Kind::FanInUniform), "unknown initializer kind ", k);
        const double range = config.real(prefix + "_init_range");
        require<ConfigError>(std::isfinite(range) && range >= 0 && (k != static_cast<std::int64_t>(Kind::Uniform) || range > 0),
                         "initializer range ", range,
                         " is invalid (expected a finite number, above 0 for a uniform initializer)");
        return {static_cast<Kind>(k), range};
    }

private:
    template <class T>
    static void fill_uniform(Tensor<T>& w, double r, Rng& rng) {
        for (auto& v : w) v = static_cast<T>(rng.uniform(-r, r));
    }
};

}  // namespace loom
