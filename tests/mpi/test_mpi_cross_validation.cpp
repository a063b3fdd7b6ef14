// loom::mpi::cross_validate returns, on every rank, bitwise what loom::cross_validate returns in one process.
#include <doctest/doctest.h>

#include <atomic>

#include "loom/distributed/mpi.hpp"
#include "mpi_test_data.hpp"

TEST_CASE("mpi::cross_validate equals the one-process cross_validate bit for bit, on every rank") {
    const auto world = loom::mpi::world();
    const auto data = loom_mpi_test::blobs<float>(240, 6, 3);
    const std::vector<double> decays = {0.001, 0.1, 1.0};  // 3 settings x 3 folds = 9 fits: uneven over 2 ranks
    const auto folds = loom::KFold(3, 5, true).split(data.labels);
    const auto make = [](double, std::uint64_t seed) { return loom_mpi_test::mlp<float>(6, 8, 3, seed); };
    const auto options = [](double decay) {
        loom::FullBatchOptions o;
        o.decay = decay;
        o.max_iterations = 40;
        return o;
    };
    loom::CrossValidationOptions cv;
    cv.seed = 11;
    std::atomic<std::size_t> done{0};
    const auto progress = [&](const loom::CvProgress& p) { done += p.done; };

    const auto distributed = loom::mpi::cross_validate<float>(world, decays, make, options, data.x.view(), data.labels, folds, cv, progress);
    const auto local = loom::cross_validate<float>(decays, make, options, data.x.view(), data.labels, folds, cv);

    // Each rank reported the fits it ran: 9 in all.
    std::uint64_t reported = done;
    world.sum(std::span<std::uint64_t>(&reported, 1));
    CHECK(reported == 9);

    REQUIRE(distributed.fits.size() == local.fits.size());
    for (std::size_t k = 0; k < local.fits.size(); ++k) {
        const auto &a = distributed.fits[k], &b = local.fits[k];
        CHECK(a.setting == b.setting);
        CHECK(a.fold == b.fold);
        CHECK(std::memcmp(&a.accuracy, &b.accuracy, sizeof(double)) == 0);
        CHECK(std::memcmp(&a.kappa, &b.kappa, sizeof(double)) == 0);
        CHECK(std::memcmp(&a.criterion, &b.criterion, sizeof(double)) == 0);
        CHECK(a.iterations == b.iterations);
        CHECK(a.stop == b.stop);
    }
    REQUIRE(distributed.summary.size() == local.summary.size());
    for (std::size_t s = 0; s < local.summary.size(); ++s)
        CHECK(std::memcmp(&distributed.summary[s], &local.summary[s], sizeof(loom::CvSummary)) == 0);
    CHECK(distributed.best == local.best);
    CHECK(distributed.settings == local.settings);
    // The fits differ from one another, so the comparison above could fail.
    CHECK(local.fits[0].criterion != local.fits[8].criterion);
}
