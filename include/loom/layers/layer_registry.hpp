#pragma once
// LayerRegistry<T>: maps the type names stored in model files back to layer constructors, so that
// load() can rebuild a model. A custom layer registers itself beside its class:
//
//     template <class T> class MyLayer : public loom::Layer<T> { ... static from_config(...) ... };
//     LOOM_REGISTER_LAYER(MyLayer)   // at namespace scope, in a header or in one .cpp
//
// Registration is only needed to load (and save) a layer: an unregistered layer trains, copies and
// clones all the same.
//
// The built-in layers are listed once, below, and registered when a registry for T is first used,
// not by a LOOM_REGISTER_LAYER in each header: that would instantiate every layer for float and for
// double in every translation unit that includes it, which multiplied the compile time of merely
// including loom.hpp by five (docs/performance.md, "Compile time").
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/layers/activation.hpp"
#include "loom/layers/conv2d.hpp"
#include "loom/layers/dense.hpp"
#include "loom/layers/dropout.hpp"
#include "loom/layers/flatten.hpp"
#include "loom/layers/layer.hpp"
#include "loom/layers/maxpool2d.hpp"
#include "loom/layers/softmax.hpp"

namespace loom {

namespace detail {

// The registered type names, for every element type at once. Saving asks only this, so that a
// program that trains and saves an MLP does not instantiate the factories of every other layer.
struct LayerNames {
    std::mutex mutex;
    std::set<std::string> names{"Conv2D", "MaxPool2D", "Dense", "Flatten", "Dropout", "Softmax", "Tanh", "Sigmoid", "ReLU"};
};
inline LayerNames& layer_names() {
    static LayerNames registered;
    return registered;
}

}  // namespace detail

// True when load() can rebuild layers of this type (built in, or registered for some element type).
inline bool is_registered_layer(const std::string& type) {
    auto& registered = detail::layer_names();
    std::lock_guard lock(registered.mutex);
    return registered.names.count(type) != 0;
}

template <class T>
class LayerRegistry {
public:
    using Factory = std::function<std::unique_ptr<Layer<T>>(const LayerConfig&)>;

    static LayerRegistry& instance() {
        static LayerRegistry registry;
        return registry;
    }

    void add(const std::string& type, Factory factory) {
        {
            auto& registered = detail::layer_names();
            std::lock_guard lock(registered.mutex);
            registered.names.insert(type);
        }
        std::lock_guard lock(mutex_);
        factories_[type] = std::move(factory);
    }

    bool contains(const std::string& type) const {
        std::lock_guard lock(mutex_);
        return factories_.count(type) != 0;
    }

    std::vector<std::string> types() const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> names;
        for (const auto& entry : factories_) names.push_back(entry.first);
        return names;
    }

    std::unique_ptr<Layer<T>> create(const std::string& type, const LayerConfig& config) const {
        Factory factory;
        {
            std::lock_guard lock(mutex_);
            const auto it = factories_.find(type);
            require<IoError>(it != factories_.end(), "unknown layer type '", type,
                             "' (register custom layers with LOOM_REGISTER_LAYER or LayerRegistry::add before loading)");
            factory = it->second;
        }
        return factory(config);
    }

private:
    // The built-in layers, as named in detail::LayerNames.
    LayerRegistry() {
        factories_["Conv2D"] = &Conv2D<T>::from_config;
        factories_["MaxPool2D"] = &MaxPool2D<T>::from_config;
        factories_["Dense"] = &Dense<T>::from_config;
        factories_["Flatten"] = &Flatten<T>::from_config;
        factories_["Dropout"] = &Dropout<T>::from_config;
        factories_["Softmax"] = &Softmax<T>::from_config;
        factories_["Tanh"] = &Tanh<T>::from_config;
        factories_["Sigmoid"] = &Sigmoid<T>::from_config;
        factories_["ReLU"] = &ReLU<T>::from_config;
    }

    mutable std::mutex mutex_;
    std::map<std::string, Factory> factories_;
};

// Registers L<float> and L<double> under `type`; returns true so that it can initialise a variable.
template <template <class> class L>
bool register_layer(const std::string& type) {
    LayerRegistry<float>::instance().add(type, &L<float>::from_config);
    LayerRegistry<double>::instance().add(type, &L<double>::from_config);
    return true;
}

}  // namespace loom

// An inline variable whose initialisation registers the layer template before main() runs.
#define LOOM_REGISTER_LAYER(Name) inline const bool loom_registered_##Name = ::loom::register_layer<Name>(#Name);
