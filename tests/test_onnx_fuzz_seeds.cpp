// Replays the fuzz_onnx seeds (tests/fuzz/corpus/onnx: loom exports in both layouts and torch.onnx.export
// files with Constant, Reshape, MatMul and Add) and any input that once made it fail
// (tests/fuzz/regressions/onnx) through the target's code. The seeds, valid files, must also import.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/onnx_target.hpp"

namespace fs = std::filesystem;

TEST_CASE("fuzz regressions and seeds: ONNX reader") {
    const fs::path fuzz_dir = fs::path(LOOM_SOURCE_DIR) / "tests" / "fuzz";
    std::size_t seeds = 0;
    for (const char* sub : {"corpus", "regressions"}) {
        const fs::path dir = fuzz_dir / sub / "onnx";
        if (!fs::exists(dir)) continue;
        for (const auto& entry : fs::directory_iterator(dir)) {
            std::ifstream in(entry.path(), std::ios::binary);
            const std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            INFO("input ", entry.path().string());
            CHECK_NOTHROW(loom_fuzz::onnx(bytes.data(), bytes.size()));
            if (std::string(sub) == "corpus") {
                CHECK_NOTHROW((void)loom::onnx::load_from_memory<float>(bytes, entry.path().string()));
                ++seeds;
            }
        }
    }
    CHECK(seeds >= 6);
}
