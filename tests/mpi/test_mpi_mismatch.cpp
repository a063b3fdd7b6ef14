// Ranks that disagree on data, model or settings: the same loom::DistributedError on every rank,
// and the job goes on.
#include <doctest/doctest.h>

#include <string>

#include "loom/distributed/mpi.hpp"
#include "mpi_test_data.hpp"

namespace {

// Runs `call`, which must throw DistributedError on every rank, and returns its message.
template <class Call>
std::string distributed_error(const Call& call) {
    try {
        call();
    } catch (const loom::DistributedError& e) {
        CHECK(std::string(e.id()) == "loom.distributed_error");
        return e.what();
    }
    FAIL("no DistributedError");
    return {};
}

}  // namespace

TEST_CASE("mismatched data, models or settings across ranks give a DistributedError on every rank") {
    const auto world = loom::mpi::world();
    if (world.size() < 2) return;  // one rank always agrees with itself
    const bool odd = world.rank() == 1;
    loom::FitOptions o;
    o.epochs = 1;
    o.batch_size = 8;
    o.verbose = false;

    SUBCASE("one sample differs") {
        auto data = loom_mpi_test::blobs<float>(40, 4, 2);
        if (odd) data.x(17, 2) += 1e-3f;
        auto net = loom_mpi_test::mlp<float>(4, 6, 2, 1);
        const auto message = distributed_error([&] { loom::mpi::fit(world, net, data.x, data.labels, o); });
        CHECK(message.find("samples x checksum") != std::string::npos);
        CHECK(message.find("on rank 1") != std::string::npos);
    }
    SUBCASE("a different number of samples") {
        const auto data = loom_mpi_test::blobs<float>(odd ? 39 : 40, 4, 2);
        auto net = loom_mpi_test::mlp<float>(4, 6, 2, 1);
        const auto message = distributed_error([&] { loom::mpi::fit(world, net, data.x, data.labels, o); });
        CHECK(message.find("samples x extent 0: 40 on rank 0, 39 on rank 1") != std::string::npos);
    }
    SUBCASE("a different label") {
        auto data = loom_mpi_test::blobs<float>(40, 4, 2);
        if (odd) data.labels[3] = 1 - data.labels[3];
        auto net = loom_mpi_test::mlp<double>(4, 6, 2, 1);
        const auto x = loom_mpi_test::blobs<double>(40, 4, 2).x;
        const auto message = distributed_error(
            [&] { loom::mpi::fit_full_batch(world, net, x.view(), std::span<const int>(data.labels)); });
        CHECK(message.find("labels checksum") != std::string::npos);
    }
    SUBCASE("a model with a different number of parameters") {
        const auto data = loom_mpi_test::blobs<float>(40, 4, 2);
        auto net = loom_mpi_test::mlp<float>(4, odd ? 7 : 6, 2, 1);
        const auto message = distributed_error([&] { loom::mpi::fit(world, net, data.x, data.labels, o); });
        CHECK(message.find("number of parameters") != std::string::npos);
    }
    SUBCASE("different settings") {
        const auto data = loom_mpi_test::blobs<float>(40, 4, 2);
        auto net = loom_mpi_test::mlp<float>(4, 6, 2, 1);
        loom::FitOptions mine = o;
        if (odd) mine.epochs = 2;  // would leave rank 0 waiting in a collective at the end
        const auto message = distributed_error([&] { loom::mpi::fit(world, net, data.x, data.labels, mine); });
        CHECK(message.find("epochs") != std::string::npos);
    }
    SUBCASE("different folds in cross-validation") {
        const auto data = loom_mpi_test::blobs<float>(40, 4, 2);
        const auto folds = loom::KFold(2, odd ? 2 : 1).split(data.labels.size());
        const auto make = [](double, std::uint64_t seed) { return loom_mpi_test::mlp<float>(4, 6, 2, seed); };
        const auto options = [](double) { return loom::FullBatchOptions{}; };
        const std::vector<double> decays = {0.1};
        const auto message = distributed_error([&] {
            loom::mpi::cross_validate<float>(world, decays, make, options, data.x.view(), data.labels, folds);
        });
        CHECK(message.find("fold 1 training indices") != std::string::npos);
    }
    // After all that the job still works: a collective completes.
    std::uint64_t one = 1;
    world.sum(std::span<std::uint64_t>(&one, 1));
    CHECK(one == static_cast<std::uint64_t>(world.size()));
}
