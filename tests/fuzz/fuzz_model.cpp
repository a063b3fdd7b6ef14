// libFuzzer target: see fuzz_targets.hpp (loom_fuzz::model) and tests/fuzz/CMakeLists.txt.
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    loom_fuzz::model(data, size);
    return 0;
}
