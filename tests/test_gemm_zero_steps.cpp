// Skipping whole k steps of zeros in byte operands (kernels/gemm_zero_steps.hpp): the masks and runs
// against plain loops, and loom::gemm on bytes with zeros in every arrangement against the same
// product from the values as T, which skips nothing: the two must agree bit for bit, on every ISA,
// on one and two threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "loom/core/random.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm.hpp"
#include "loom/kernels/gemm_zero_steps.hpp"
#include "scoped_threads.hpp"

namespace {

using loom::Isa;
using loom::Transpose;
using loom::detail::gemm_min_zero_gap;

// The steps [0, kc) a run list covers, checked for order on the way.
std::vector<bool> covered(const std::uint32_t* runs, std::size_t count, std::size_t kc) {
    std::vector<bool> in(kc, false);
    std::size_t previous_end = 0;
    for (std::size_t r = 0; r < count; ++r) {
        const std::size_t begin = runs[2 * r], end = runs[2 * r + 1];
        REQUIRE(begin < end);
        REQUIRE(end <= kc);
        if (r > 0) REQUIRE(begin >= previous_end + gemm_min_zero_gap);  // only gaps worth skipping
        previous_end = end;
        for (std::size_t p = begin; p < end; ++p) in[p] = true;
    }
    return in;
}

std::vector<std::uint64_t> mask_of(const std::vector<bool>& nonzero) {
    std::vector<std::uint64_t> mask(loom::detail::step_mask_words(nonzero.size()), 0);
    for (std::size_t p = 0; p < nonzero.size(); ++p)
        if (nonzero[p]) mask[p / 64] |= std::uint64_t{1} << (p % 64);
    return mask;
}

}  // namespace

TEST_CASE("zero steps: nonzero_bytes marks each nonzero byte of a word") {
    for (std::size_t position = 0; position < 8; ++position)
        for (unsigned value = 0; value < 256; ++value) {
            std::uint8_t bytes[8] = {};
            bytes[position] = static_cast<std::uint8_t>(value);
            const std::uint64_t expected = value ? std::uint64_t{1} << position : 0;
            CHECK(loom::detail::nonzero_bytes(loom::detail::load_8_bytes(bytes)) == expected);
            CHECK(loom::detail::nonzero_bytes(loom::detail::load_bytes(bytes, 8)) == expected);
        }
    const std::uint8_t all[8] = {1, 128, 255, 2, 64, 127, 3, 200};
    CHECK(loom::detail::nonzero_bytes(loom::detail::load_8_bytes(all)) == 0xFF);
}

TEST_CASE("zero steps: runs cover every nonzero step and skip only long gaps") {
    loom::Rng rng(5);
    for (int trial = 0; trial < 3000; ++trial) {
        const std::size_t kc = 1 + static_cast<std::size_t>(rng.uniform(0.0, 300.0));
        std::vector<bool> nonzero(kc);
        const int kind = trial % 4;
        for (std::size_t p = 0; p < kc; ++p) {
            if (kind == 0) nonzero[p] = rng.uniform(0.0, 1.0) < 0.7;              // scattered zeros
            else if (kind == 1) nonzero[p] = (p / 7) % 3 != 0;                    // gaps of 7
            else if (kind == 2) nonzero[p] = (p % 64) >= 3 && (p % 64) < 61;      // gaps across words
            else nonzero[p] = (p % (gemm_min_zero_gap + 1)) != 0;                 // gaps just too short
        }
        const auto mask = mask_of(nonzero);
        std::vector<std::uint32_t> runs(kc + 2);
        const std::size_t count = loom::detail::nonzero_step_runs(mask.data(), kc, runs.data());
        const auto in = covered(runs.data(), count, kc);
        for (std::size_t p = 0; p < kc; ++p)
            if (nonzero[p]) REQUIRE(in[p]);
        // Every run starts and ends on a nonzero step, and a gap left out is all zeros.
        for (std::size_t r = 0; r < count; ++r) {
            CHECK(nonzero[runs[2 * r]]);
            CHECK(nonzero[runs[2 * r + 1] - 1]);
        }
        if (kind == 3 && kc > gemm_min_zero_gap) CHECK(count == 1);
    }
    std::vector<std::uint32_t> runs(66);
    const std::vector<std::uint64_t> none = {0};
    CHECK(loom::detail::nonzero_step_runs(none.data(), 64, runs.data()) == 0);
}

TEST_CASE("zero steps: the masks of both panel orientations") {
    loom::Rng rng(9);
    for (std::size_t kc : {1, 7, 8, 63, 64, 65, 130, 512}) {
        for (std::size_t count : {1, 5, 16, 32}) {
            CAPTURE(kc);
            CAPTURE(count);
            const std::size_t ld = kc + count + 3;
            std::vector<std::uint8_t> src((kc + count) * ld);
            for (auto& v : src) v = rng.uniform(0.0, 1.0) < 0.9 ? 0 : static_cast<std::uint8_t>(rng.uniform(1.0, 256.0));
            std::vector<std::uint64_t> mask(loom::detail::step_mask_words(kc));
            // Across rows: step p is column p of `count` rows.
            loom::detail::nonzero_steps_across_rows(src.data(), ld, count, kc, mask.data());
            for (std::size_t p = 0; p < kc; ++p) {
                bool any = false;
                for (std::size_t r = 0; r < count; ++r) any = any || src[r * ld + p] != 0;
                REQUIRE(((mask[p / 64] >> (p % 64)) & 1) == (any ? 1u : 0u));
            }
            // Along rows: step p is `count` values of row p.
            if (count <= 16) {
                loom::detail::nonzero_steps_along_rows<16>(src.data(), ld, count, kc, mask.data());
                for (std::size_t p = 0; p < kc; ++p) {
                    bool any = false;
                    for (std::size_t j = 0; j < count; ++j) any = any || src[p * ld + j] != 0;
                    REQUIRE(((mask[p / 64] >> (p % 64)) & 1) == (any ? 1u : 0u));
                }
            }
        }
    }
}

TEST_CASE_TEMPLATE("gemm with a byte A that has whole k steps of zeros: the bits of the product from T", T, float,
                   double) {
    // The first Dense layer's products on images, as loom::gemm receives them: the forward pass
    // (m images x n units, k pixels, A stored by rows) and the weight gradient (m pixels x n units,
    // k images, A transposed), both computed as C^T with the bytes as B. Rows of A (images) have
    // zeros outside a box of columns and scattered zeros inside it; sorted by box as a full-batch fit
    // sorts them, so that micro-panels share long runs of zero steps, and unsorted; some rows are all
    // zero, some have no zeros.
    struct Shape {
        std::size_t m, n, k;
    };
    const Shape shapes[] = {{256, 50, 784}, {784, 50, 256}, {97, 50, 300}, {300, 10, 131}, {61, 7, 600}, {1000, 50, 64}};
    loom::Rng rng(23);
    for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
        if (!loom::isa_supported(isa)) continue;
        loom::ScopedIsa scoped(isa);
        for (int threads : {1, 2}) {
            loom_test::ScopedThreads scoped_threads(threads);
            for (const auto& s : shapes)
                for (Transpose ta : {Transpose::No, Transpose::Yes})
                    for (bool sorted : {true, false}) {
                        CAPTURE(s.m);
                        CAPTURE(s.n);
                        CAPTURE(s.k);
                        CAPTURE(ta == Transpose::Yes);
                        CAPTURE(sorted);
                        CAPTURE(loom::isa_name(isa));
                        CAPTURE(threads);
                        // A is stored by images, a row of pixels each: images x pixels is m x k
                        // (op(A) = A) or k x m (op(A) = A^T, the weight gradient's X^T).
                        const std::size_t images = ta == Transpose::No ? s.m : s.k;
                        const std::size_t pixels = ta == Transpose::No ? s.k : s.m;
                        std::vector<std::pair<std::size_t, std::size_t>> boxes(images);
                        for (auto& [lo, hi] : boxes) {
                            lo = static_cast<std::size_t>(rng.uniform(0.0, 0.4) * static_cast<double>(pixels));
                            hi = lo + static_cast<std::size_t>(rng.uniform(0.0, 1.0) * static_cast<double>(pixels - lo));
                        }
                        if (sorted) std::sort(boxes.begin(), boxes.end());
                        const std::size_t lda = pixels + 5;
                        std::vector<std::uint8_t> bytes(images * lda, 0);
                        for (std::size_t i = 0; i < images; ++i) {
                            const int kind = static_cast<int>(i % 13);
                            for (std::size_t p = 0; p < pixels; ++p) {
                                const bool in_box = p >= boxes[i].first && p < boxes[i].second;
                                std::uint8_t v = 0;
                                if (kind == 0) v = 0;  // a blank image
                                else if (kind == 1) v = static_cast<std::uint8_t>(rng.uniform(1.0, 256.0));  // no zeros
                                else if (in_box && rng.uniform(0.0, 1.0) < 0.6)
                                    v = static_cast<std::uint8_t>(rng.uniform(1.0, 256.0));
                                bytes[i * lda + p] = v;
                            }
                        }
                        const std::vector<T> values(bytes.begin(), bytes.end());
                        std::vector<T> b(s.k * s.n);
                        for (auto& v : b) v = static_cast<T>(rng.uniform(-1.0, 1.0));
                        std::vector<T> c1(s.m * s.n);
                        for (auto& v : c1) v = static_cast<T>(rng.uniform(-1.0, 1.0));
                        auto c2 = c1;
                        const T alpha = static_cast<T>(1.0 / 255);
                        for (T beta : {T(0), T(0.5)}) {
                            loom::gemm<T>(ta, Transpose::No, s.m, s.n, s.k, alpha, bytes.data(), lda, b.data(), s.n, beta,
                                          c1.data(), s.n);
                            loom::gemm<T>(ta, Transpose::No, s.m, s.n, s.k, alpha, values.data(), lda, b.data(), s.n,
                                          beta, c2.data(), s.n);
                            REQUIRE(c1 == c2);
                        }
                    }
        }
    }
}
