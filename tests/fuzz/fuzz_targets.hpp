// The bodies of the libFuzzer targets, shared with the doctest suite (test_fuzz_regressions.cpp),
// which replays every input under tests/fuzz/regressions/ and the seed corpora through them.
//
// Each returns normally when loom handled the input, which includes throwing a loom::Error. A crash,
// a sanitizer report, an exception of another type (std::bad_alloc, std::length_error, ...) or a hang
// is a bug in loom.
//
// Model files and checkpoints carry a CRC-32 of their payload, so nearly every mutation of a valid
// file fails the checksum and never reaches the decoder behind it. The model and checkpoint targets
// therefore decode each input twice: as it is (testing the frame checks) and with the frame's payload
// size and checksum rewritten to match (testing everything after them).
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "../gzip_outcome.hpp"
#include "loom/data/gzip.hpp"
#include "loom/data/idx.hpp"
#include "loom/model/checkpoint.hpp"
#include "loom/model/framed_file.hpp"
#include "loom/model/sequential.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/sgd.hpp"

namespace loom_fuzz {

inline std::vector<unsigned char> with_valid_frame(std::vector<unsigned char> bytes) {
    if (bytes.size() < loom::model_file::header_size) return bytes;
    const std::uint64_t payload = bytes.size() - loom::model_file::header_size;
    const std::uint32_t crc = loom::model_file::checksum(bytes.data() + loom::model_file::header_size, payload);
    std::memcpy(bytes.data() + 16, &payload, sizeof payload);
    std::memcpy(bytes.data() + 24, &crc, sizeof crc);
    return bytes;
}

// gzip.hpp's reader, the one path under every IDX read, from memory and from a file read in
// chunks of a few bytes (so that chunk boundaries fall everywhere): both must give the same bytes, the
// same truncation and the same error. Then the IDX reader on top of it, from memory (whole and partial)
// and from the file.
inline void idx(const std::uint8_t* data, std::size_t size) {
    const std::span<const unsigned char> bytes(data, size);
    static const std::filesystem::path scratch =
        std::filesystem::temp_directory_path() / ("loom_fuzz_idx_" + std::to_string(::getpid()));
    const auto decompress = [](auto&&... source) {
        try {
            loom::GzipReader in(source...);
            return loom_test::read_all(in, 4096, std::size_t{1} << 22);  // a decompression bomb stops at 4 MiB
        } catch (const loom::Error& e) {
            return loom_test::GzipOutcome{{}, false, e.what()};
        }
    };
    // Named like the file, so that the same behaviour gives the same messages.
    const auto from_memory = decompress(bytes, loom::detail::concat(scratch));
    try {
        (void)loom::read_idx_from_memory(bytes, "input");
    } catch (const loom::Error&) {
    }
    try {
        (void)loom::read_idx_from_memory(bytes, "input", 2);  // fashion_mnist::load(limit) reads partially
    } catch (const loom::Error&) {
    }
    std::FILE* f = std::fopen(scratch.c_str(), "wb");
    if (f == nullptr) return;
    const bool written = std::fwrite(data, 1, size, f) == size;
    std::fclose(f);
    const auto from_file = written ? decompress(scratch, std::size_t{5}) : from_memory;
    try {
        if (written) (void)loom::read_idx(scratch);
    } catch (const loom::Error&) {
    }
    std::remove(scratch.c_str());
    if (from_file != from_memory) throw std::logic_error("GzipReader: a file and the same bytes in memory disagree");
}

// Loading a model (decode, rebuild the layers, assign the weights) and, when the result is small,
// running it on a batch.
template <class T>
void load_and_run(const std::vector<unsigned char>& bytes) {
    try {
        auto net = loom::Sequential<T>::load_from_memory(bytes, "input");
        if (net.size() == 0 || net.input_shape().elements() > 4096 || net.param_count() > (1u << 20)) return;
        loom::Tensor<T> x(net.input_shape().with_batch(3));
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(i % 7) / T(7);
        (void)net.predict(x, 2);
    } catch (const loom::Error&) {
    }
}

inline void model(const std::uint8_t* data, std::size_t size) {
    const std::vector<unsigned char> bytes(data, data + size);
    const auto framed = with_valid_frame(bytes);
    load_and_run<float>(bytes);
    load_and_run<float>(framed);
    load_and_run<double>(framed);  // rejected unless the element size field says 8
}

// The checkpoint decoder, then what fit(resume) does with the parts: rebuild the model, restore the
// optimizer and layer states, take an optimizer step.
inline void restore_checkpoint(const std::vector<unsigned char>& bytes) {
    try {
        const auto c = loom::checkpoint::decode(bytes, sizeof(float), "input");
        auto net = loom::Sequential<float>::load_from_memory(with_valid_frame(c.model), "input model");
        std::unique_ptr<loom::Optimizer> optimizer;
        if (c.optimizer == "Adam") optimizer = std::make_unique<loom::Adam>(0.01);
        if (c.optimizer == "SGD") optimizer = std::make_unique<loom::SGD>(0.01, 0.9);
        if (optimizer == nullptr) return;
        loom::ByteReader state(c.optimizer_state.data(), c.optimizer_state.size(), "optimizer state");
        optimizer->load_state(state);
        for (std::size_t l = 0; l < net.size() && l < c.layer_states.size(); ++l) {
            loom::ByteReader layer_state(c.layer_states[l].data(), c.layer_states[l].size(), "layer state");
            net.layer(l).load_state(layer_state);
        }
        if (net.param_count() <= (1u << 20)) optimizer->step(net.parameters());
    } catch (const loom::Error&) {
    }
}

inline void checkpoint(const std::uint8_t* data, std::size_t size) {
    const std::vector<unsigned char> bytes(data, data + size);
    restore_checkpoint(bytes);
    restore_checkpoint(with_valid_frame(bytes));
}

}  // namespace loom_fuzz
