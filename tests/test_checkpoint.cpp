// Checkpoint/resume is exact, an interrupted save never breaks the model file, and one model can be
// used from several threads.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "fit_helpers.hpp"
#include "loom/loom.hpp"
#include "temp_dir.hpp"

namespace {

using loom_test::weights;

struct Data {
    loom::Tensor<float> x{loom::Shape{120, 6, 6, 1}};
    std::vector<int> y = std::vector<int>(120);
    Data() {
        loom::Rng rng(3);
        for (std::size_t i = 0; i < 120; ++i) {
            y[i] = static_cast<int>(i % 3);
            for (std::size_t k = 0; k < 36; ++k) x[i * 36 + k] = static_cast<float>(rng.uniform()) + (k % 3 == i % 3 ? 0.5f : 0.0f);
        }
    }
};

loom::Sequential<float> model() {
    loom::Sequential<float> net({6, 6, 1}, 17);
    net.add<loom::Conv2D>(4, 3).add<loom::Tanh>().add<loom::Flatten>().add<loom::Dropout>(0.3)
        .add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(0.01));
    return net;
}

loom::FitOptions options(std::size_t epochs) { return loom_test::quiet(epochs, 16, 5, 0.2); }

}  // namespace

TEST_CASE("resuming from a checkpoint gives bit-identical weights and history") {
    const Data data;
    auto straight = model();
    const auto full = straight.fit(data.x, data.y, options(4));

    const loom_test::TempDir scratch;
    const auto path = scratch / "resume.ckpt";
    auto first = model();
    auto o = options(2);
    o.checkpoint_path = path;
    o.checkpoint_every = 1;
    first.fit(data.x, data.y, o);
    REQUIRE(std::filesystem::exists(path));

    auto resumed = model();  // a new process would start from fresh weights
    o.epochs = 4;
    o.resume = true;
    const auto rest = resumed.fit(data.x, data.y, o);
    CHECK(weights(resumed) == weights(straight));
    CHECK(rest.loss == full.loss);
    CHECK(rest.val_accuracy == full.val_accuracy);

    // A checkpoint of another run is refused rather than silently mixed in.
    auto other = model();
    o.batch_size = 8;
    CHECK_THROWS_WITH_AS(other.fit(data.x, data.y, o), doctest::Contains("batch size"), loom::IoError);
    auto sgd = model();
    sgd.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    o.batch_size = 16;
    CHECK_THROWS_WITH_AS(sgd.fit(data.x, data.y, o), doctest::Contains("optimizer"), loom::IoError);
    std::filesystem::remove(path);
}

TEST_CASE("a run with learning-rate schedules resumes on the same schedule") {
    // 96 training samples in batches of 16: 6 updates per epoch, so 4 epochs decay over 24 updates.
    const Data data;
    for (const bool use_sgd : {true, false}) {
        CAPTURE(use_sgd);
        const auto compiled = [&] {
            auto net = model();
            if (use_sgd) net.compile(loom::CrossEntropy{}, loom::SGD(loom::CosineDecay(0.2, 24), 0.9));
            else net.compile(loom::CrossEntropy{}, loom::Adam(loom::ExponentialDecay(0.01, 6, 0.5)));
            return net;
        };
        auto straight = compiled();
        straight.fit(data.x, data.y, options(4));

        const loom_test::TempDir scratch;
        const auto path = scratch / "schedule.ckpt";
        auto o = options(2);
        o.checkpoint_path = path;
        o.checkpoint_every = 2;
        compiled().fit(data.x, data.y, o);
        auto resumed = compiled();
        o.epochs = 4;
        o.resume = true;
        resumed.fit(data.x, data.y, o);
        CHECK(weights(resumed) == weights(straight));
        std::filesystem::remove(path);
    }
}

TEST_CASE("a corrupt checkpoint is an IoError") {
    const Data data;
    const loom_test::TempDir scratch;
    const auto path = scratch / "corrupt.ckpt";
    auto net = model();
    auto o = options(1);
    o.checkpoint_path = path;
    o.checkpoint_every = 1;
    net.fit(data.x, data.y, o);
    auto bytes = loom::model_file::read_file(path);
    bytes[bytes.size() / 2] ^= 0xff;
    loom::write_file_atomically(path, bytes.data(), bytes.size());
    o.resume = true;
    o.epochs = 2;
    CHECK_THROWS_WITH_AS(net.fit(data.x, data.y, o), doctest::Contains("checksum"), loom::IoError);
    std::filesystem::remove(path);
}

TEST_CASE("killing a process in the middle of saving never leaves a broken or missing model") {
    // Models of 800 KB, so that a kill often lands in the middle of a write.
    auto big = [](std::uint64_t seed) {
        loom::Sequential<float> net({1000}, seed);
        net.add<loom::Dense>(200);
        return net;
    };
    auto a = big(1), b = big(2);
    const loom_test::TempDir scratch;
    const auto path = scratch / "killed.loom";
    a.save(path);
    const auto wa = weights(a), wb = weights(b);
    for (int round = 0; round < 12; ++round) {
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            for (int i = 0;; ++i) (i % 2 ? a : b).save(path);  // saves until killed
        }
        ::usleep(static_cast<useconds_t>(2000 + 1500 * round));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        const auto loaded = weights(loom::Sequential<float>::load(path));
        CHECK((loaded == wa || loaded == wb));
    }
    // Temporary files of killed writers may remain beside the model; the model itself is whole.
    int interrupted = 0;
    for (const auto& entry : std::filesystem::directory_iterator(path.parent_path()))
        if (entry.path().string().rfind(path.string() + ".tmp", 0) == 0) {
            ++interrupted;
            std::filesystem::remove(entry.path());
        }
    MESSAGE(interrupted, " of 12 kills interrupted a write");
    std::filesystem::remove(path);
}

TEST_CASE("predict from several threads at once gives the serial results") {
    const Data data;
    auto net = model();
    net.fit(data.x, data.y, options(1));
    const auto expected = net.predict(data.x);
    std::vector<loom::Tensor<float>> results(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t)
        threads.emplace_back([&, t] {
            for (int r = 0; r < 5; ++r) results[t] = net.predict(data.x, 7 + t);
        });
    for (auto& t : threads) t.join();
    for (const auto& r : results) CHECK(r == expected);
}
