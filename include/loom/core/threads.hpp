#pragma once
// The number of threads loom's kernels use. Defaults to OpenMP's choice (OMP_NUM_THREADS or the core
// count); set_num_threads overrides it for the whole process.
#include <atomic>

#include "loom/core/error.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace loom {

namespace detail {
inline std::atomic<int>& thread_setting() {
    static std::atomic<int> setting{0};  // 0: not set, use OpenMP's default
    return setting;
}
}  // namespace detail

inline void set_num_threads(int n) {
    require<ArgumentError>(n >= 1, "set_num_threads: expected a thread count >= 1, got ", n);
    detail::thread_setting() = n;
}

inline int num_threads() {
    const int n = detail::thread_setting();
    if (n > 0) return n;
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

// True when called from inside an OpenMP parallel region: kernels then run serially rather than
// oversubscribing the cores (the cross-validation grid runs whole fits in parallel).
inline bool in_parallel_region() {
#ifdef _OPENMP
    return omp_in_parallel() != 0;
#else
    return false;
#endif
}

// Threads a kernel should use for `work` units, given the smallest amount worth a thread.
inline int threads_for(double work, double min_work_per_thread) {
    if (in_parallel_region()) return 1;
    const int by_work = static_cast<int>(work / min_work_per_thread);
    const int n = num_threads();
    return by_work < 1 ? 1 : (by_work < n ? by_work : n);
}

}  // namespace loom
