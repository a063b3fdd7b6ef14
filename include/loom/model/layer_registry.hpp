#pragma once
// LayerRegistry<T>: maps the type names stored in model files back to layer constructors.
// The built-in layers are registered up front; a custom layer adds itself with add().
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "loom/layers/activation.hpp"
#include "loom/layers/conv2d.hpp"
#include "loom/layers/dense.hpp"
#include "loom/layers/dropout.hpp"
#include "loom/layers/flatten.hpp"
#include "loom/layers/maxpool2d.hpp"
#include "loom/layers/softmax.hpp"

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

    std::unique_ptr<Layer<T>> create(const std::string& type, const LayerConfig& config) const {
        Factory factory;
        {
            std::lock_guard lock(mutex_);
            const auto it = factories_.find(type);
            require<IoError>(it != factories_.end(), "unknown layer type '", type,
                             "' (register custom layers with LayerRegistry::add before loading)");
            factory = it->second;
        }
        return factory(config);
    }

private:
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

}  // namespace loom
