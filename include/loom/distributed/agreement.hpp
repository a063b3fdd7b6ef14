#pragma once
// Agreement: the cheap check that every rank of a distributed fit works on the same thing. Each
// rank passes the same full data set (and builds the same model, with the same settings); loom then
// shards it. If one rank loaded a different file, or a different number of samples, the sharded
// fit would silently train on a mixture, or hang in a collective whose sizes differ. So before any
// of that, each rank lists facts (sample counts, shapes, a CRC-32 of the bytes, parameter counts,
// settings) as numbers, the lists are gathered, and if any rank's list differs from rank 0's, every
// rank throws the same DistributedError naming the first fact that differs.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/shape.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/samples.hpp"
#include "loom/distributed/communicator.hpp"

namespace loom::mpi {

// CRC-32 of a byte range (zlib's, in pieces that fit its uInt length).
inline std::uint64_t checksum(const void* data, std::size_t bytes) {
    uLong crc = crc32(0L, Z_NULL, 0);
    const auto* p = static_cast<const Bytef*>(data);
    for (std::size_t at = 0; at < bytes;) {
        const std::size_t n = std::min<std::size_t>(bytes - at, std::size_t{1} << 30);
        crc = crc32(crc, p + at, static_cast<uInt>(n));
        at += n;
    }
    return crc;
}

class Agreement {
public:
    // `what` names the caller in the message ("loom::mpi::fit").
    explicit Agreement(std::string what) : what_(std::move(what)) {}

    Agreement& add(std::string name, std::uint64_t value) {
        names_.push_back(std::move(name));
        values_.push_back(value);
        return *this;
    }
    Agreement& add(std::string name, double value) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &value, sizeof bits);
        return add(std::move(name), bits);
    }
    // Always rank + max_rank values, so that every rank lists as many facts.
    Agreement& add(const std::string& name, const Shape& shape) {
        add(name + " rank", static_cast<std::uint64_t>(shape.rank()));
        for (std::size_t d = 0; d < Shape::max_rank; ++d)
            add(name + " extent " + std::to_string(d), static_cast<std::uint64_t>(d < shape.rank() ? shape[d] : 0));
        return *this;
    }
    // Shape and contents.
    template <class T>
    Agreement& add(const std::string& name, TensorView<const T> data) {
        add(name, data.shape());
        return add(name + " checksum", checksum(data.data(), data.size() * sizeof(T)));
    }
    // Samples as they are stored (values of T, or bytes and their scale); always as many facts.
    template <class T>
    Agreement& add(const std::string& name, const Samples<T>& samples) {
        add(name, samples.shape());
        add(name + " stored as bytes", static_cast<std::uint64_t>(samples.holds_bytes()));
        add(name + " scale", static_cast<double>(samples.scale()));
        return samples.holds_bytes()
                   ? add(name + " checksum", checksum(samples.bytes().data(), samples.bytes().size()))
                   : add(name + " checksum", checksum(samples.values().data(), samples.values().size() * sizeof(T)));
    }
    Agreement& add(const std::string& name, std::span<const int> labels) {
        add(name + " count", static_cast<std::uint64_t>(labels.size()));
        return add(name + " checksum", checksum(labels.data(), labels.size() * sizeof(int)));
    }

    // Collective: throws DistributedError on every rank when any rank's facts differ from rank 0's.
    void check(const Communicator& comm) const {
        // The count first: lists of different lengths cannot be gathered side by side.
        const std::uint64_t mine = values_.size();
        const auto counts = comm.all_gather(std::span<const std::uint64_t>(&mine, 1));
        for (std::size_t r = 1; r < counts.size(); ++r)
            require<DistributedError>(counts[r] == counts[0], what_, ": the ranks run different code (", counts[0],
                                      " facts to agree on, on rank 0, ", counts[r], " on rank ", r, ")");
        const auto all = comm.all_gather(values_);
        const std::size_t n = values_.size();
        for (std::size_t r = 1; r < counts.size(); ++r)
            for (std::size_t i = 0; i < n; ++i)
                require<DistributedError>(all[r * n + i] == all[i], what_, ": the ranks disagree on the ", names_[i], ": ",
                                          all[i], " on rank 0, ", all[r * n + i], " on rank ", r,
                                          " (every rank must pass the same data, model and settings)");
    }

private:
    std::string what_;
    std::vector<std::string> names_;
    std::vector<std::uint64_t> values_;
};

}  // namespace loom::mpi
