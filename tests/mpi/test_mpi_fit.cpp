// loom::mpi::fit: data-parallel minibatch training keeps the ranks' weights identical and lands
// within float rounding of Sequential::fit with the same seed and global batch.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "loom/distributed/mpi.hpp"
#include "mpi_test_data.hpp"

TEST_CASE("mpi::fit: identical weights on every rank, close to the one-process fit, uneven last batch") {
    const auto world = loom::mpi::world();
    // 81 samples, 20% held out for validation: 65 to train, batches of 32, 32 and 1. The batch of one
    // sample leaves rank 0 without samples, which must still join the reductions.
    const auto data = loom_mpi_test::blobs<float>(81, 5, 3);
    loom::FitOptions o;
    o.epochs = 4;
    o.batch_size = 32;
    o.seed = 3;
    o.validation_split = 0.2;
    o.verbose = false;

    // Each rank starts from its own seed: fit must broadcast rank 0's weights.
    auto net = loom_mpi_test::mlp<float>(5, 16, 3, 100 + static_cast<std::uint64_t>(world.rank()));
    loom::mpi::ReduceTiming timing;
    const auto history = loom::mpi::fit(world, net, data.x, data.labels, o, {}, &timing);
    CHECK(timing.reductions == (world.size() > 1 ? 4 * 3 : 0));  // 4 epochs of 3 steps; none for a job of one
    auto reference = loom_mpi_test::mlp<float>(5, 16, 3, 100);
    const auto expected = reference.fit(data.x, data.labels, o);

    const auto w = loom_mpi_test::weights(net), r = loom_mpi_test::weights(reference);
    CHECK(loom_mpi_test::same_on_every_rank(world, w));
    REQUIRE(w.size() == r.size());
    double max_diff = 0, max_weight = 0, moved = 0;
    const auto start = loom_mpi_test::weights(loom_mpi_test::mlp<float>(5, 16, 3, 100));
    for (std::size_t i = 0; i < w.size(); ++i) {
        max_diff = std::max(max_diff, std::abs(w[i] - r[i]));
        max_weight = std::max(max_weight, std::abs(r[i]));
        moved = std::max(moved, std::abs(r[i] - start[i]));
    }
    MESSAGE("ranks: ", world.size(), ", max |w_P - w_1| = ", max_diff, " (largest |w| ", max_weight, ", largest change by training ",
            moved, ")");
    CHECK(moved > 0.05);       // training moved the weights, so closeness means something
    CHECK(max_diff < 1e-5);    // float rounding of the differently ordered sums, not a different model
    if (world.size() == 1) CHECK(w == r);  // a job of one is Sequential::fit
    REQUIRE(history.epochs() == expected.epochs());
    for (std::size_t e = 0; e < history.epochs(); ++e) {
        CHECK(history.loss[e] == doctest::Approx(expected.loss[e]).epsilon(1e-5));
        CHECK(history.accuracy[e] == expected.accuracy[e]);
        CHECK(history.val_loss[e] == doctest::Approx(expected.val_loss[e]).epsilon(1e-5));
        CHECK(history.val_accuracy[e] == expected.val_accuracy[e]);
    }
    CHECK(loom_mpi_test::same_on_every_rank(world, history.val_loss));
}

TEST_CASE("mpi::fit: only rank 0 prints progress") {
    const auto world = loom::mpi::world();
    const auto data = loom_mpi_test::blobs<float>(40, 4, 2);
    auto net = loom_mpi_test::mlp<float>(4, 6, 2, 1);
    std::ostringstream log;
    loom::FitOptions o;
    o.epochs = 1;
    o.batch_size = 8;
    o.log = &log;
    loom::mpi::fit(world, net, data.x, data.labels, o);
    CHECK((log.str().find("loss") != std::string::npos) == world.is_primary());
}

TEST_CASE("mpi::fit: a NaN in one rank's share stops the fit with a NumericError on every rank, weights kept") {
    const auto world = loom::mpi::world();
    auto data = loom_mpi_test::blobs<float>(32, 4, 2);
    loom::FitOptions o;
    o.epochs = 1;
    o.batch_size = 16;
    o.shuffle = false;  // batch 2 is samples 16..31; sample 31 falls to the last rank
    o.verbose = false;
    data.x(31, 0) = std::nanf("");
    auto net = loom_mpi_test::mlp<float>(4, 6, 2, 1);
    auto after_one_batch = loom_mpi_test::mlp<float>(4, 6, 2, 1);
    const loom::Tensor<float> x16(data.x.view().rows(0, 16));
    const std::vector<int> y16(data.labels.begin(), data.labels.begin() + 16);
    loom::mpi::fit(world, after_one_batch, x16, y16, o);
    std::string message;
    try {
        loom::mpi::fit(world, net, data.x, data.labels, o);
    } catch (const loom::NumericError& e) {
        message = e.what();
    }
    CHECK(message.find("in epoch 1, batch 2 of 2") != std::string::npos);
    CHECK(message.find("the loss became nan") != std::string::npos);
    CHECK(loom_mpi_test::weights(net) == loom_mpi_test::weights(after_one_batch));
}

TEST_CASE("mpi::fit: resuming from rank 0's checkpoint with the same ranks equals an uninterrupted run") {
    const auto world = loom::mpi::world();
    // One directory for all ranks: rank 0's name, broadcast.
    std::array<unsigned char, 256> name{};
    const std::string mine = (std::filesystem::temp_directory_path() / ("loom_mpi_resume_" + std::to_string(::getpid()))).string();
    std::copy(mine.begin(), mine.end(), name.begin());
    world.broadcast(name);
    const std::filesystem::path dir(reinterpret_cast<const char*>(name.data()));
    if (world.is_primary()) std::filesystem::create_directories(dir);

    const auto data = loom_mpi_test::blobs<float>(70, 4, 2);
    loom::FitOptions o;
    o.batch_size = 16;
    o.seed = 9;
    o.verbose = false;
    o.epochs = 4;
    auto whole = loom_mpi_test::mlp<float>(4, 6, 2, 1);
    const auto expected = loom::mpi::fit(world, whole, data.x, data.labels, o);

    o.checkpoint_path = dir / "fit.ckpt";
    o.checkpoint_every = 1;
    o.resume = true;
    o.epochs = 2;
    auto first = loom_mpi_test::mlp<float>(4, 6, 2, 1);
    loom::mpi::fit(world, first, data.x, data.labels, o);  // rank 0 writes the checkpoint
    o.epochs = 4;
    auto resumed = loom_mpi_test::mlp<float>(4, 6, 2, 77);  // its own weights are replaced by the checkpoint's
    const auto history = loom::mpi::fit(world, resumed, data.x, data.labels, o);
    CHECK(loom_mpi_test::weights(resumed) == loom_mpi_test::weights(whole));
    CHECK(history.loss == expected.loss);
    world.barrier();
    if (world.is_primary()) std::filesystem::remove_all(dir);
}

TEST_CASE("mpi::fit: byte samples train and validate exactly as the same samples as floats") {
    const auto world = loom::mpi::world();
    // 60 samples of 6 bytes, class 0 when the first half is brighter; the last 12 validate.
    loom::Rng rng(5);
    loom::Tensor<std::uint8_t> bytes({60, 6});
    std::vector<int> labels(60);
    for (std::size_t i = 0; i < 60; ++i) {
        int halves[2] = {0, 0};
        for (std::size_t d = 0; d < 6; ++d) {
            bytes(i, d) = static_cast<std::uint8_t>(rng.below(256));
            halves[d / 3] += bytes(i, d);
        }
        labels[i] = halves[0] > halves[1] ? 0 : 1;
    }
    const float scale = 1.0f / 255.0f;
    const auto floats = loom::to_float(bytes.view(), scale);
    const auto targets = loom::one_hot<float>(labels, 2);
    loom::FitOptions o;
    o.epochs = 3;
    o.batch_size = 16;
    o.seed = 4;
    o.verbose = false;

    auto from_floats = loom_mpi_test::mlp<float>(6, 8, 2, 1);
    const auto expected = loom::mpi::fit(world, from_floats, floats.rows(0, 48), targets.rows(0, 48),
                                         loom::ValidationData<float>{floats.rows(48, 60), targets.rows(48, 60)}, o);
    auto from_bytes = loom_mpi_test::mlp<float>(6, 8, 2, 1);
    const loom::Samples<float> samples(bytes, scale);
    const auto history = loom::mpi::fit(world, from_bytes, samples.rows(0, 48), targets.rows(0, 48),
                                        loom::ValidationData<float>{samples.rows(48, 60), targets.rows(48, 60)}, o);
    CHECK(loom_mpi_test::weights(from_bytes) == loom_mpi_test::weights(from_floats));
    CHECK(history.loss == expected.loss);
    CHECK(history.val_loss == expected.val_loss);

    auto split = loom_mpi_test::mlp<float>(6, 8, 2, 1);
    o.validation_split = 0.2;
    const auto with_split = loom::mpi::fit(world, split, samples, labels, o);
    CHECK(with_split.val_loss == expected.val_loss);
    CHECK(loom_mpi_test::weights(split) == loom_mpi_test::weights(from_floats));
}
