#pragma once
// sum_in_buckets: the all-rank sum of a long vector (gradients) as a sequence of
// MPI_Allreduce calls over fixed-size buckets, in order. The buckets depend only on the length, so
// every rank makes the same calls whatever its share of the data, and no single message needs a
// giant contiguous MPI buffer; 2^18 values (1 or 2 MiB) keeps the per-call latency to a few calls
// per step (LeNet's 1.26 M parameters: 5 buckets).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <span>

#include "loom/distributed/communicator.hpp"

namespace loom::mpi {

// Time spent adding up across ranks, to see how a distributed fit scales. When timing is asked for,
// a barrier before each reduction separates waiting for the slowest rank (load imbalance, a busy
// core) from the reduction itself (moving and adding the bytes).
struct ReduceTiming {
    std::size_t reductions = 0;  // training steps, or criterion evaluations of a full-batch fit
    double wait_seconds = 0;     // in the barrier: until the slowest rank had its part ready
    double seconds = 0;          // in MPI_Allreduce after the barrier
    double seconds_per_reduction() const { return reductions ? seconds / static_cast<double>(reductions) : 0.0; }
    double wait_per_reduction() const { return reductions ? wait_seconds / static_cast<double>(reductions) : 0.0; }
};

constexpr std::size_t sum_bucket = std::size_t{1} << 18;

// Replaces `values` by their sums over the ranks; counts the time in `timing` when given.
template <class V>
void sum_in_buckets(const Communicator& comm, std::span<V> values, ReduceTiming* timing = nullptr) {
    using Clock = std::chrono::steady_clock;
    const auto arrived = Clock::now();
    if (timing) comm.barrier();
    const auto start = Clock::now();
    for (std::size_t at = 0; at < values.size(); at += sum_bucket)
        comm.sum(values.subspan(at, std::min(sum_bucket, values.size() - at)));
    if (timing) {
        timing->wait_seconds += std::chrono::duration<double>(start - arrived).count();
        timing->seconds += std::chrono::duration<double>(Clock::now() - start).count();
        ++timing->reductions;
    }
}

}  // namespace loom::mpi
