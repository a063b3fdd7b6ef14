// parallel_for: every index once, and exceptions carried out of the parallel region.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/parallel.hpp"
#include "scoped_threads.hpp"

TEST_CASE("parallel_for visits every index once, in contiguous ranges") {
    const loom_test::ScopedThreads threads(2);
    std::vector<int> visits(1001, 0);
    loom::parallel_for(visits.size(), 1, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) ++visits[i];
    });
    CHECK(visits == std::vector<int>(1001, 1));
}

TEST_CASE("parallel_for rethrows a body's exception on the calling thread, the earliest range's first") {
    for (const int n : {1, 2}) {
        CAPTURE(n);
        const loom_test::ScopedThreads threads(n);
        const auto throw_from = [](std::size_t first_failing) {
            loom::parallel_for(100, 1, [&](std::size_t begin, std::size_t end) {
                if (end > first_failing) throw loom::ArgumentError("range from " + std::to_string(begin));
            });
        };
        CHECK_THROWS_WITH_AS(throw_from(0), "range from 0", loom::ArgumentError);  // every range throws
        CHECK_THROWS_WITH_AS(throw_from(99), n == 1 ? "range from 0" : "range from 50", loom::ArgumentError);
        CHECK_NOTHROW(throw_from(100));
    }
}
