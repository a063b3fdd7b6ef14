#pragma once
// The seed notebook's LeNet for 28x28 grey images and 10 classes, ready to compile:
//   conv 20@5x5 tanh (same) -> maxpool 2 -> conv 50@5x5 tanh (same) -> maxpool 2 -> flatten
//   -> dense 500 tanh -> dense 10 softmax           (1,256,080 parameters)
#include <cstdint>

#include "loom/layers/activation.hpp"
#include "loom/layers/conv2d.hpp"
#include "loom/layers/dense.hpp"
#include "loom/layers/flatten.hpp"
#include "loom/layers/initializer.hpp"
#include "loom/layers/maxpool2d.hpp"
#include "loom/layers/softmax.hpp"
#include "loom/model/sequential.hpp"

namespace loom {

// Weights and biases start U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default, with which the
// reference PyTorch run of this architecture reaches 91.8%; Keras' Glorot weights with zero biases
// (the notebook's) are one argument away.
template <class T>
Sequential<T> lenet(std::uint64_t seed = 42, Initializer weights = Initializer::fan_in_uniform(),
                    Initializer biases = Initializer::fan_in_uniform()) {
    Sequential<T> net({28, 28, 1}, seed);
    net.template add<Conv2D>(20, 5, Padding::Same, 1, weights, biases).template add<Tanh>().template add<MaxPool2D>(2)
        .template add<Conv2D>(50, 5, Padding::Same, 1, weights, biases).template add<Tanh>().template add<MaxPool2D>(2)
        .template add<Flatten>().template add<Dense>(500, weights, biases).template add<Tanh>()
        .template add<Dense>(10, weights, biases).template add<Softmax>();
    return net;
}

}  // namespace loom
