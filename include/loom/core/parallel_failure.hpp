#pragma once
// Carrying exceptions out of OpenMP parallel regions. An exception must not leave a region (the
// runtime calls std::terminate), so each thread runs its share through ParallelFailure::run, which
// keeps the exception, and the calling thread rethrows it after the region. When several shares
// throw, the one with the lowest `order` wins, so which error is reported does not depend on timing.
#include <cstddef>
#include <exception>
#include <limits>

namespace loom::detail {

class ParallelFailure {
public:
    // Runs work(); if it throws, keeps the exception unless one of a lower order is already kept.
    template <class Work>
    void run(std::size_t order, Work&& work) noexcept {
        try {
            work();
        } catch (...) {
#pragma omp critical(loom_parallel_failure)
            if (order < order_) {
                order_ = order;
                failure_ = std::current_exception();
            }
        }
    }

    // On the calling thread, after the region.
    void rethrow_if_failed() const {
        if (failure_) std::rethrow_exception(failure_);
    }

private:
    std::exception_ptr failure_;
    std::size_t order_ = std::numeric_limits<std::size_t>::max();
};

}  // namespace loom::detail
