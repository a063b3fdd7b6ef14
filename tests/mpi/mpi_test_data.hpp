#pragma once
// Small synthetic problems for the MPI tests: Gaussian blobs in a few dimensions, one per class, and
// helpers to compare models across ranks.
#include <cstdint>
#include <cstring>
#include <vector>

#include "loom/distributed/agreement.hpp"
#include "loom/distributed/communicator.hpp"
#include "../fit_helpers.hpp"
#include "loom/loom.hpp"

namespace loom_mpi_test {

template <class T>
struct Blobs {
    loom::Tensor<T> x;
    std::vector<int> labels;
};

template <class T>
Blobs<T> blobs(std::size_t n, std::size_t dims, int classes, std::uint64_t seed = 7) {
    loom::Rng rng(seed);
    Blobs<T> b{loom::Tensor<T>({n, dims}), std::vector<int>(n)};
    for (std::size_t i = 0; i < n; ++i) {
        b.labels[i] = static_cast<int>(i % static_cast<std::size_t>(classes));
        for (std::size_t d = 0; d < dims; ++d)
            b.x(i, d) = static_cast<T>((d % static_cast<std::size_t>(classes) == static_cast<std::size_t>(b.labels[i]) ? 1.5 : 0.0) +
                                       rng.normal());
    }
    return b;
}

// A dims-hidden-classes perceptron, compiled with cross-entropy and Adam.
template <class T>
loom::Sequential<T> mlp(std::size_t dims, std::size_t hidden, std::size_t classes, std::uint64_t seed) {
    const auto init = loom::Initializer::uniform(0.7);
    loom::Sequential<T> net({dims}, seed);
    net.template add<loom::Dense>(hidden, init, init).template add<loom::Tanh>();
    net.template add<loom::Dense>(classes, init, init).template add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-2));
    return net;
}

using loom_test::weights;

// Whether every rank holds bit for bit the same values.
inline bool same_on_every_rank(const loom::mpi::Communicator& comm, const std::vector<double>& values) {
    const std::uint64_t mine = loom::mpi::checksum(values.data(), values.size() * sizeof(double));
    const auto all = comm.all_gather(std::span<const std::uint64_t>(&mine, 1));
    for (auto v : all)
        if (v != all[0]) return false;
    return true;
}

}  // namespace loom_mpi_test
