#pragma once
// ScopedThreads: sets loom's process-wide thread count for one test and restores it however the test exits.
#include "loom/core/threads.hpp"

namespace loom_test {

struct ScopedThreads {
    explicit ScopedThreads(int n) : previous(loom::num_threads()) { loom::set_num_threads(n); }
    ~ScopedThreads() { loom::set_num_threads(previous); }
    ScopedThreads(const ScopedThreads&) = delete;
    ScopedThreads& operator=(const ScopedThreads&) = delete;
    int previous;
};

}  // namespace loom_test
