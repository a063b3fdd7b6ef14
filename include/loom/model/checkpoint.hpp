#pragma once
// A training checkpoint: everything Sequential::fit needs to continue a run exactly where it stopped.
// The frame of framed_file.hpp with magic "LOOMCKPT" around this payload:
//
//   samples, batch size, seed, epochs done (u64 each)    the run it belongs to, and how far it got
//   stopped (u8)                                          a callback ended the run
//   shuffling generator state (4 x u64)
//   history: 6 series (loss, accuracy, val_loss, val_accuracy, seconds, learning_rate), each a count
//            (u64) + doubles
//   model file (u64 length + bytes, see model_file.hpp): architecture and weights
//   optimizer name (u32 length + bytes), optimizer state (u64 length + bytes)
//   layer count (u32), per layer its training state (u64 length + bytes; Dropout's generator)
//   callback count (u32), per callback its name (u32 length + bytes) and state (u64 length + bytes)
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "loom/core/bytes.hpp"
#include "loom/model/fit_options.hpp"
#include "loom/model/framed_file.hpp"

namespace loom::checkpoint {

inline constexpr char magic[8] = {'L', 'O', 'O', 'M', 'C', 'K', 'P', 'T'};
inline constexpr std::uint32_t format_version = 2;

struct Contents {
    std::uint64_t samples = 0, batch_size = 0, seed = 0, epochs_done = 0;
    bool stopped = false;
    std::array<std::uint64_t, 4> shuffler{};
    History history;
    std::vector<unsigned char> model;
    std::string optimizer;
    std::vector<unsigned char> optimizer_state;
    std::vector<std::vector<unsigned char>> layer_states;
    std::vector<std::pair<std::string, std::vector<unsigned char>>> callback_states;
};

namespace detail {

inline void put_blob(ByteWriter& out, const std::vector<unsigned char>& blob) {
    out.put(static_cast<std::uint64_t>(blob.size()));
    out.raw(blob.data(), blob.size());
}

inline std::vector<unsigned char> get_blob(ByteReader& in) {
    const auto size = in.get<std::uint64_t>();
    require<IoError>(size <= in.remaining(), in.what(), ": a block of ", size, " bytes is truncated");
    std::vector<unsigned char> blob(static_cast<std::size_t>(size));
    in.raw(blob.data(), blob.size());
    return blob;
}

inline void put_series(ByteWriter& out, const std::vector<double>& series) {
    out.put(static_cast<std::uint64_t>(series.size()));
    for (double v : series) out.put(v);
}

inline std::vector<double> get_series(ByteReader& in) {
    const auto count = in.get<std::uint64_t>();
    require<IoError>(count <= in.remaining() / sizeof(double), in.what(), ": a history of ", count,
                     " epochs is truncated");
    std::vector<double> series(static_cast<std::size_t>(count));
    for (auto& v : series) v = in.get<double>();
    return series;
}

}  // namespace detail

inline std::vector<unsigned char> encode(const Contents& c, std::uint32_t element_size) {
    ByteWriter out;
    for (auto v : {c.samples, c.batch_size, c.seed, c.epochs_done}) out.put(v);
    out.put(static_cast<std::uint8_t>(c.stopped));
    for (auto word : c.shuffler) out.put(word);
    for (const auto* series : {&c.history.loss, &c.history.accuracy, &c.history.val_loss, &c.history.val_accuracy,
                               &c.history.seconds, &c.history.learning_rate})
        detail::put_series(out, *series);
    detail::put_blob(out, c.model);
    out.put_string(c.optimizer);
    detail::put_blob(out, c.optimizer_state);
    out.put(static_cast<std::uint32_t>(c.layer_states.size()));
    for (const auto& state : c.layer_states) detail::put_blob(out, state);
    out.put(static_cast<std::uint32_t>(c.callback_states.size()));
    for (const auto& [name, state] : c.callback_states) {
        out.put_string(name);
        detail::put_blob(out, state);
    }
    return model_file::frame(magic, format_version, element_size, out.bytes());
}

inline Contents decode(const std::vector<unsigned char>& bytes, std::uint32_t element_size, const std::string& what) {
    const auto [payload, size] = model_file::unframe(bytes, magic, "checkpoint", format_version, element_size, what);
    // Version 1 (before callbacks) lacks the stopped flag, the learning-rate series and callback states.
    const bool v1 = ByteReader(bytes.data() + 8, 4, what).get<std::uint32_t>() == 1;
    ByteReader in(payload, size, what);
    Contents c;
    for (auto* v : {&c.samples, &c.batch_size, &c.seed, &c.epochs_done}) *v = in.get<std::uint64_t>();
    if (!v1) c.stopped = in.get<std::uint8_t>() != 0;
    for (auto& word : c.shuffler) word = in.get<std::uint64_t>();
    for (auto* series : {&c.history.loss, &c.history.accuracy, &c.history.val_loss, &c.history.val_accuracy,
                         &c.history.seconds})
        *series = detail::get_series(in);
    if (!v1) c.history.learning_rate = detail::get_series(in);
    c.model = detail::get_blob(in);
    c.optimizer = in.get_string(256);
    c.optimizer_state = detail::get_blob(in);
    const auto layers = in.get<std::uint32_t>();
    require<IoError>(layers <= 4096, what, ": implausible layer count ", layers);
    for (std::uint32_t i = 0; i < layers; ++i) c.layer_states.push_back(detail::get_blob(in));
    const auto callbacks = v1 ? 0 : in.get<std::uint32_t>();
    require<IoError>(callbacks <= 4096, what, ": implausible callback count ", callbacks);
    for (std::uint32_t i = 0; i < callbacks; ++i) {
        std::string name = in.get_string(256);
        c.callback_states.emplace_back(std::move(name), detail::get_blob(in));
    }
    require<IoError>(in.remaining() == 0, what, ": ", in.remaining(), " unexpected bytes at the end");
    return c;
}

}  // namespace loom::checkpoint
