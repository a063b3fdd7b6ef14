#pragma once
// loom::mpi::Communicator: a group of processes (an MPI communicator, not owned) with the few
// collectives loom needs, typed so that callers never spell an MPI datatype. MPI errors keep MPI's
// default handler, MPI_ERRORS_ARE_FATAL: a broken connection ends the job instead of hanging it.
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "loom/core/error.hpp"

namespace loom::mpi {

class Communicator {
public:
    explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {}

    int rank() const {
        int r = 0;
        MPI_Comm_rank(comm_, &r);
        return r;
    }
    int size() const {
        int s = 0;
        MPI_Comm_size(comm_, &s);
        return s;
    }
    bool is_primary() const { return rank() == 0; }
    MPI_Comm handle() const { return comm_; }

    void barrier() const { MPI_Barrier(comm_); }

    // Element-wise sums over all ranks, in place; every rank gets the same values.
    void sum(std::span<double> values) const { allreduce(values.data(), values.size(), sizeof(double), MPI_DOUBLE, MPI_SUM); }
    void sum(std::span<float> values) const { allreduce(values.data(), values.size(), sizeof(float), MPI_FLOAT, MPI_SUM); }
    void sum(std::span<std::uint64_t> values) const { allreduce(values.data(), values.size(), sizeof(std::uint64_t), MPI_UINT64_T, MPI_SUM); }
    // Element-wise bitwise or: gathers records that exactly one rank filled in (the others hold zeros)
    // without touching a bit of them, unlike a floating-point sum (-0.0 + 0.0 is +0.0).
    void bit_or(std::span<std::uint64_t> values) const { allreduce(values.data(), values.size(), sizeof(std::uint64_t), MPI_UINT64_T, MPI_BOR); }

    // Every rank's `mine` (the same length on every rank), rank after rank.
    std::vector<std::uint64_t> all_gather(std::span<const std::uint64_t> mine) const {
        std::vector<std::uint64_t> all(mine.size() * static_cast<std::size_t>(size()));
        MPI_Allgather(mine.data(), count(mine.size()), MPI_UINT64_T, all.data(), count(mine.size()), MPI_UINT64_T, comm_);
        return all;
    }

    // Rank `root`'s bytes, copied to every rank (the sizes must already agree).
    void broadcast(std::span<unsigned char> bytes, int root = 0) const {
        for (std::size_t at = 0; at < bytes.size(); at += chunk_limit) {
            const std::size_t n = std::min(chunk_limit, bytes.size() - at);
            MPI_Bcast(bytes.data() + at, count(n), MPI_UNSIGNED_CHAR, root, comm_);
        }
    }

private:
    // MPI counts are int: longer buffers go in pieces.
    static constexpr std::size_t chunk_limit = std::size_t{1} << 30;
    static int count(std::size_t n) {
        require<ArgumentError>(n <= static_cast<std::size_t>(INT_MAX), "mpi: ", n, " values in one call, more than MPI's int count");
        return static_cast<int>(n);
    }
    void allreduce(void* data, std::size_t n, std::size_t size, MPI_Datatype type, MPI_Op op) const {
        auto* bytes = static_cast<unsigned char*>(data);
        for (std::size_t at = 0; at < n; at += chunk_limit / size) {
            const std::size_t part = std::min(chunk_limit / size, n - at);
            MPI_Allreduce(MPI_IN_PLACE, bytes + at * size, count(part), type, op, comm_);
        }
    }

    MPI_Comm comm_;
};

// All processes of the job.
inline Communicator world() { return Communicator(MPI_COMM_WORLD); }

}  // namespace loom::mpi
