#pragma once
// parallel_for: splits [0, n) into one contiguous range per thread. The split depends only on n and
// the thread count, so results are reproducible for a given thread count.
#include <cstddef>

#include "loom/core/parallel_failure.hpp"
#include "loom/core/threads.hpp"

namespace loom {

// body(begin, end) is called once per thread; `grain` is the smallest range worth its own thread.
// An exception thrown by body is rethrown on the calling thread once every range has finished (one
// must not leave an OpenMP region); when several ranges throw, the earliest range's exception wins,
// so the error does not depend on timing.
template <class Body>
void parallel_for(std::size_t n, std::size_t grain, Body&& body) {
    const int threads = threads_for(static_cast<double>(n), static_cast<double>(grain ? grain : 1));
    if (threads <= 1) {
        if (n) body(std::size_t{0}, n);
        return;
    }
#ifdef _OPENMP
    detail::ParallelFailure failure;
#pragma omp parallel num_threads(threads)
    {
        const auto t = static_cast<std::size_t>(omp_get_thread_num());
        const auto nt = static_cast<std::size_t>(omp_get_num_threads());
        const std::size_t begin = n * t / nt, end = n * (t + 1) / nt;
        if (begin < end) failure.run(begin, [&] { body(begin, end); });
    }
    failure.rethrow_if_failed();
#else
    body(std::size_t{0}, n);
#endif
}

}  // namespace loom
