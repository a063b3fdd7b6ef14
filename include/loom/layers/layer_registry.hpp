#pragma once
// LayerRegistry<T>: maps the type names stored in model files back to layer constructors, so that
// load() can rebuild a model. Each layer registers itself beside its class:
//
//     template <class T> class MyLayer : public loom::Layer<T> { ... static from_config(...) ... };
//     LOOM_REGISTER_LAYER(MyLayer)   // at namespace scope, in a header or in one .cpp
//
// Registration is only needed to load (and save) a layer: an unregistered layer trains, copies and
// clones all the same.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/layers/layer.hpp"

namespace loom {

template <class T>
class LayerRegistry {
public:
    using Factory = std::function<std::unique_ptr<Layer<T>>(const LayerConfig&)>;

    static LayerRegistry& instance() {
        static LayerRegistry registry;
        return registry;
    }

    void add(const std::string& type, Factory factory) {
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
    LayerRegistry() = default;

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
