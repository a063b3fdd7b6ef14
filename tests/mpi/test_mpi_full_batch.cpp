// loom::mpi::fit_full_batch: the same L-BFGS trace on every rank, close to the one-process trace.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "loom/distributed/mpi.hpp"
#include "mpi_test_data.hpp"

namespace {

loom::Sequential<double> nnet_like(std::uint64_t seed) {
    const auto init = loom::Initializer::uniform(0.7);
    loom::Sequential<double> net({6}, seed);
    net.add<loom::Dense>(7, init, init).add<loom::Sigmoid>().add<loom::Dense>(3, init, init).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    return net;
}

}  // namespace

TEST_CASE("mpi::fit_full_batch: identical trace on every rank, within rounding of one process") {
    const auto world = loom::mpi::world();
    const auto data = loom_mpi_test::blobs<double>(301, 6, 3);  // odd: the ranks' shares differ
    loom::FullBatchOptions o;
    o.decay = 0.01;
    o.max_iterations = 60;
    o.chunk = 64;
    std::size_t iterations = 0;
    o.on_iteration = [&](std::size_t, double) { ++iterations; };

    auto net = nnet_like(50 + static_cast<std::uint64_t>(world.rank()));  // rank 0's weights are broadcast
    loom::mpi::ReduceTiming timing;
    const auto result = loom::mpi::fit_full_batch(world, net, data.x.view(), std::span<const int>(data.labels), o, &timing);
    auto reference = nnet_like(50);
    loom::FullBatchOptions ro = o;
    ro.on_iteration = {};
    const auto expected = loom::fit_full_batch(reference, data.x.view(), std::span<const int>(data.labels), ro);

    CHECK(iterations == result.iterations);
    CHECK(timing.reductions == result.evaluations);
    CHECK(loom_mpi_test::same_on_every_rank(world, result.trace));
    CHECK(loom_mpi_test::same_on_every_rank(world, loom_mpi_test::weights(net)));
    REQUIRE(result.trace.size() == expected.trace.size());
    double max_relative = 0;
    for (std::size_t i = 0; i < expected.trace.size(); ++i)
        max_relative = std::max(max_relative, std::abs(result.trace[i] - expected.trace[i]) / std::abs(expected.trace[i]));
    MESSAGE("ranks: ", world.size(), ", ", expected.trace.size(), " trace values, max relative difference ", max_relative);
    CHECK(expected.trace.front() > 2 * expected.trace.back());  // the fit went somewhere
    CHECK(max_relative < 1e-9);
    if (world.size() == 1)  // one rank: the very same sums as in one process
        CHECK(std::memcmp(result.trace.data(), expected.trace.data(), result.trace.size() * sizeof(double)) == 0);
}
