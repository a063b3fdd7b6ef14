// Replays the inputs that once made a fuzz target fail (tests/fuzz/regressions/<target>/) and the seed
// corpora (tests/fuzz/corpus/<target>/) through the fuzz targets' code: each must be handled, that is
// succeed or throw a loom::Error. The seeds, valid files, must also load.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/fuzz_targets.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> contents(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <class F>
std::size_t replay(const fs::path& dir, F&& target) {
    std::size_t count = 0;
    if (!fs::exists(dir)) return 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto bytes = contents(entry.path());
        INFO("input ", entry.path().string());
        CHECK_NOTHROW(target(bytes.data(), bytes.size()));
        ++count;
    }
    return count;
}

const fs::path fuzz_dir = fs::path(LOOM_SOURCE_DIR) / "tests" / "fuzz";

}  // namespace

TEST_CASE("fuzz regressions and seeds: IDX reader") {
    CHECK(replay(fuzz_dir / "corpus" / "idx", loom_fuzz::idx) >= 4);
    replay(fuzz_dir / "regressions" / "idx", loom_fuzz::idx);
    for (const auto& entry : fs::directory_iterator(fuzz_dir / "corpus" / "idx")) {
        const auto bytes = contents(entry.path());
        INFO("seed ", entry.path().string());
        CHECK_NOTHROW((void)loom::read_idx_from_memory(bytes));
        CHECK_NOTHROW((void)loom::read_idx(entry.path()));
    }
}

TEST_CASE("fuzz regressions and seeds: model loader") {
    CHECK(replay(fuzz_dir / "corpus" / "model", loom_fuzz::model) >= 2);
    replay(fuzz_dir / "regressions" / "model", loom_fuzz::model);
    CHECK_NOTHROW((void)loom::Sequential<float>::load(fuzz_dir / "corpus" / "model" / "cnn.loom"));
    CHECK_NOTHROW((void)loom::Sequential<double>::load(fuzz_dir / "corpus" / "model" / "double.loom"));
}

TEST_CASE("fuzz regressions and seeds: checkpoint decoder") {
    CHECK(replay(fuzz_dir / "corpus" / "checkpoint", loom_fuzz::checkpoint) >= 2);
    replay(fuzz_dir / "regressions" / "checkpoint", loom_fuzz::checkpoint);
    for (const char* name : {"adam.ckpt", "sgd.ckpt"}) {
        const auto bytes = contents(fuzz_dir / "corpus" / "checkpoint" / name);
        CHECK_NOTHROW((void)loom::checkpoint::decode(bytes, 4, name));
    }
}
