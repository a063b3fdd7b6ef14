// libFuzzer target: see onnx_target.hpp (loom_fuzz::onnx) and tests/fuzz/CMakeLists.txt.
#include "onnx_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    loom_fuzz::onnx(data, size);
    return 0;
}
