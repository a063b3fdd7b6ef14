// The body of the fuzz_onnx libFuzzer target, shared with the doctest suite (test_onnx_fuzz_seeds.cpp),
// which replays the seeds of tests/fuzz/corpus/onnx and any input under tests/fuzz/regressions/onnx.
//
// ONNX import of arbitrary bytes, as float and as double; a model that loads and is small is run on a
// batch, exported again and re-imported, which must give the same predictions. Returning normally
// (a loom::Error included) is success; a crash, a sanitizer report, another exception or a hang is a
// bug in loom.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/onnx/onnx.hpp"

namespace loom_fuzz {

template <class T>
void onnx_load_and_run(const std::uint8_t* data, std::size_t size) {
    try {
        auto net = loom::onnx::load_from_memory<T>(data, size, "input");
        // Small models only: a convolution's im2col buffer grows with input size times parameters.
        std::size_t parameters = 0;
        for (std::size_t l = 0; l < net.size(); ++l)
            for (const auto& p : net.layer(l).parameters()) parameters += p.value->size();
        if (net.input_shape().elements() > 4096 || parameters > 4096) return;
        loom::Tensor<T> x(net.input_shape().with_batch(3));
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(i % 7) / T(7);
        const loom::Tensor<T> y = net.predict(x, 2);
        auto again = loom::onnx::load_from_memory<T>(loom::onnx::to_bytes(net), "re-export");
        const loom::Tensor<T> z = again.predict(x, 2);
        for (std::size_t i = 0; i < y.size(); ++i)
            if (!(y[i] == z[i]) && !(y[i] != y[i] && z[i] != z[i]))  // NaN == NaN here
                __builtin_trap();                                   // a round trip changed a prediction
    } catch (const loom::Error&) {
    }
}

inline void onnx(const std::uint8_t* data, std::size_t size) {
    onnx_load_and_run<float>(data, size);
    onnx_load_and_run<double>(data, size);
}

}  // namespace loom_fuzz
