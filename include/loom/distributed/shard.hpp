#pragma once
// How n items are split over the ranks: rank r gets the contiguous range [n r / P, n (r + 1) / P),
// so shares differ by at most one and a rank may get none (it still joins every collective).
#include <cstddef>
#include <utility>

namespace loom::mpi {

inline std::pair<std::size_t, std::size_t> shard(std::size_t n, int rank, int ranks) {
    const auto r = static_cast<std::size_t>(rank), p = static_cast<std::size_t>(ranks);
    return {n * r / p, n * (r + 1) / p};
}

}  // namespace loom::mpi
