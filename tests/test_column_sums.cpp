// column_sums (kernels/column_sums.hpp): against a naive sum in double on odd sizes and the shapes
// of LeNet's and nnet's bias gradients, every ISA; the same bits for 1 and 2 threads.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "loom/loom.hpp"
#include "scoped_threads.hpp"

namespace {

struct Size {
    std::size_t rows, cols;
};

const Size sizes[] = {
    {1, 1}, {1, 13}, {13, 1}, {7, 3}, {1031, 17},  // odd and prime
    {100352, 20},                                   // conv1's bias gradient at batch 128
    {25088, 50},                                    // conv2's
    {60000, 50},                                    // nnet's hidden layer, full batch
};

std::vector<float> random_matrix(const Size& s, std::uint64_t seed) {
    loom::Rng rng(seed);
    std::vector<float> m(s.rows * s.cols);
    for (auto& v : m) v = static_cast<float>(rng.uniform(-1, 1));
    return m;
}

}  // namespace

TEST_CASE("column_sums matches a naive sum, every ISA") {
    for (loom::Isa isa : {loom::Isa::Generic, loom::Isa::Avx2, loom::Isa::Avx512}) {
        if (!loom::isa_supported(isa)) continue;
        loom::ScopedIsa scoped(isa);
        for (const auto& s : sizes) {
            CAPTURE(std::string(loom::isa_name(isa)));
            CAPTURE(s.rows);
            CAPTURE(s.cols);
            const std::vector<float> m = random_matrix(s, 5);
            std::vector<float> out(s.cols, -7.0f);
            loom::kernels::column_sums(m.data(), s.rows, s.cols, out.data());
            for (std::size_t j = 0; j < s.cols; ++j) {
                double exact = 0, magnitude = 0;
                for (std::size_t i = 0; i < s.rows; ++i) {
                    exact += m[i * s.cols + j];
                    magnitude += std::abs(m[i * s.cols + j]);
                }
                // A float sum's rounding error is at most (rows - 1) epsilons of the sum of magnitudes;
                // summing in slices keeps it far below that.
                CHECK(std::abs(out[j] - exact) <= 1e-5 * magnitude + 1e-30);
            }
        }
    }
}

TEST_CASE("column_sums: one row is copied, and the result does not depend on the thread count") {
    const std::vector<float> row = random_matrix({1, 9}, 2);
    std::vector<float> out(9);
    loom::kernels::column_sums(row.data(), 1, 9, out.data());
    CHECK(out == row);
    for (const auto& s : sizes) {
        CAPTURE(s.rows);
        const std::vector<float> m = random_matrix(s, 6);
        std::vector<float> one(s.cols), two(s.cols);
        {
            loom_test::ScopedThreads threads(1);
            loom::kernels::column_sums(m.data(), s.rows, s.cols, one.data());
        }
        {
            loom_test::ScopedThreads threads(2);
            loom::kernels::column_sums(m.data(), s.rows, s.cols, two.data());
        }
        CHECK(one == two);
    }
}
