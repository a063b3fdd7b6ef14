// libFuzzer target: see fuzz_targets.hpp (loom_fuzz::idx) and tests/fuzz/CMakeLists.txt.
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    loom_fuzz::idx(data, size);
    return 0;
}
