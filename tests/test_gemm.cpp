// loom::gemm against the triple-loop reference and Eigen, for every ISA this CPU can run, both
// precisions, all transpose combinations, padded leading dimensions, edge sizes around the micro-tile
// and cache-block sizes, and the shapes LeNet and the MLP actually use.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "loom/core/random.hpp"
#include "loom/core/threads.hpp"
#include "loom/kernels/cpu_features.hpp"
#include "loom/kernels/gemm.hpp"
#include "loom/kernels/gemm_reference.hpp"
#include "scoped_threads.hpp"

namespace {

using loom::Isa;
using loom::Transpose;

std::vector<Isa> supported_isas() {
    std::vector<Isa> isas;
    for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512})
        if (loom::isa_supported(isa)) isas.push_back(isa);
    return isas;
}

using loom_test::ScopedThreads;

template <class T>
std::vector<T> random_matrix(loom::Rng& rng, std::size_t rows, std::size_t ld) {
    std::vector<T> v(rows * ld);
    for (auto& x : v) x = static_cast<T>(rng.uniform(-1.0, 1.0));
    return v;
}

struct Case {
    Transpose ta, tb;
    std::size_t m, n, k;
    double alpha, beta;
    std::size_t pad = 0;  // extra columns on every leading dimension
    bool nan_c = false;   // fill C with NaN (only meaningful with beta == 0)
};

std::string describe(const Case& c) {
    return loom::detail::concat(c.ta == Transpose::Yes ? "T" : "N", c.tb == Transpose::Yes ? "T" : "N", " m=", c.m,
                                " n=", c.n, " k=", c.k, " alpha=", c.alpha, " beta=", c.beta, " pad=", c.pad,
                                c.nan_c ? " nanC" : "", " isa=", loom::isa_name(loom::active_isa()));
}

// Runs one case through loom::gemm and checks every element of C (inside and outside the m x n
// window: padding columns must be untouched) against gemm_reference, and optionally Eigen.
// The tolerance scales with k * epsilon * sum |a_ip * b_pj|, the error bound of any summation order.
template <class T>
void check_case(const Case& cs, bool with_eigen = false) {
    CAPTURE(describe(cs));
    loom::Rng rng(cs.m * 1000003 + cs.n * 1009 + cs.k);
    const std::size_t a_rows = cs.ta == Transpose::No ? cs.m : cs.k, a_cols = cs.ta == Transpose::No ? cs.k : cs.m;
    const std::size_t b_rows = cs.tb == Transpose::No ? cs.k : cs.n, b_cols = cs.tb == Transpose::No ? cs.n : cs.k;
    const std::size_t lda = a_cols + cs.pad, ldb = b_cols + cs.pad, ldc = cs.n + cs.pad;
    const auto a = random_matrix<T>(rng, a_rows, lda);
    const auto b = random_matrix<T>(rng, b_rows, ldb);
    auto c0 = random_matrix<T>(rng, cs.m, ldc);
    if (cs.nan_c)
        for (std::size_t i = 0; i < cs.m; ++i)
            for (std::size_t j = 0; j < cs.n; ++j) c0[i * ldc + j] = std::numeric_limits<T>::quiet_NaN();

    const T alpha = static_cast<T>(cs.alpha), beta = static_cast<T>(cs.beta);
    auto c = c0;
    loom::gemm<T>(cs.ta, cs.tb, cs.m, cs.n, cs.k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);

    auto expected = c0;
    loom::gemm_reference<T>(cs.ta, cs.tb, cs.m, cs.n, cs.k, alpha, a.data(), lda, b.data(), ldb, beta,
                            expected.data(), ldc);
    // |alpha| * |op(A)| * |op(B)| + |beta * C|: the magnitude every rounding error is relative to.
    std::vector<T> abs_a(a.size()), abs_b(b.size());
    for (std::size_t i = 0; i < a.size(); ++i) abs_a[i] = std::abs(a[i]);
    for (std::size_t i = 0; i < b.size(); ++i) abs_b[i] = std::abs(b[i]);
    std::vector<T> scale(c.size(), T(0));
    loom::gemm_reference<T>(cs.ta, cs.tb, cs.m, cs.n, cs.k, std::abs(alpha), abs_a.data(), lda, abs_b.data(), ldb,
                            T(0), scale.data(), ldc);

    const double eps = std::numeric_limits<T>::epsilon();
    std::size_t bad = 0;
    for (std::size_t i = 0; i < cs.m; ++i) {
        for (std::size_t j = 0; j < ldc; ++j) {
            const std::size_t idx = i * ldc + j;
            if (j >= cs.n) {  // padding between rows: gemm must not write there
                if (std::memcmp(&c[idx], &c0[idx], sizeof(T)) != 0) ++bad;
                continue;
            }
            const double prior = beta == T(0) ? 0.0 : std::abs(static_cast<double>(beta) * c0[idx]);
            const double tol = 4.0 * eps * (static_cast<double>(cs.k) + 2.0) * (scale[idx] + prior) + 1e-30;
            const double err = std::abs(static_cast<double>(c[idx]) - static_cast<double>(expected[idx]));
            if (!(err <= tol)) {
                if (bad < 5) MESSAGE("C(", i, ",", j, ") = ", c[idx], " expected ", expected[idx], " tol ", tol);
                ++bad;
            }
        }
    }
    CHECK(bad == 0);

    if (with_eigen) {
        using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        using Map = Eigen::Map<const Mat, 0, Eigen::OuterStride<>>;
        const Map ma(a.data(), static_cast<Eigen::Index>(a_rows), static_cast<Eigen::Index>(a_cols),
                     Eigen::OuterStride<>(static_cast<Eigen::Index>(lda)));
        const Map mb(b.data(), static_cast<Eigen::Index>(b_rows), static_cast<Eigen::Index>(b_cols),
                     Eigen::OuterStride<>(static_cast<Eigen::Index>(ldb)));
        const Map mc0(c0.data(), static_cast<Eigen::Index>(cs.m), static_cast<Eigen::Index>(cs.n),
                      Eigen::OuterStride<>(static_cast<Eigen::Index>(ldc)));
        const Mat op_a = cs.ta == Transpose::No ? Mat(ma) : Mat(ma.transpose());
        const Mat op_b = cs.tb == Transpose::No ? Mat(mb) : Mat(mb.transpose());
        Mat ref = alpha * (op_a * op_b);
        if (beta != T(0)) ref += beta * mc0;
        std::size_t eigen_bad = 0;
        for (std::size_t i = 0; i < cs.m; ++i)
            for (std::size_t j = 0; j < cs.n; ++j) {
                const std::size_t idx = i * ldc + j;
                const double prior = beta == T(0) ? 0.0 : std::abs(static_cast<double>(beta) * c0[idx]);
                const double tol = 8.0 * eps * (static_cast<double>(cs.k) + 2.0) * (scale[idx] + prior) + 1e-30;
                const auto ii = static_cast<Eigen::Index>(i), jj = static_cast<Eigen::Index>(j);
                if (!(std::abs(static_cast<double>(c[idx]) - static_cast<double>(ref(ii, jj))) <= tol)) ++eigen_bad;
            }
        CHECK(eigen_bad == 0);
    }
}

constexpr Transpose kTrans[] = {Transpose::No, Transpose::Yes};

template <class T>
void edge_sizes_all_isas() {
    // Around the micro-tile sizes of every ISA (MR 4/6/14, NR 8/16/32), primes, and sizes just around
    // the KC (256 / 384 / 512) and MC (336 / 288 / 256 / 224 / 192 / 168) blocks, kept thin so the
    // reference stays fast.
    const std::size_t dims[][3] = {{1, 1, 1},     {7, 13, 31},   {13, 7, 97},   {14, 32, 5},   {15, 33, 17},
                                   {6, 16, 8},    {5, 15, 3},    {29, 65, 2},   {31, 97, 13},  {97, 31, 7},
                                   {3, 257, 257}, {337, 5, 41},  {290, 9, 259}, {45, 47, 513}, {28, 64, 256},
                                   {1, 100, 37},  {100, 1, 37},  {2, 3, 600},  {5, 33, 385},  {29, 31, 383},
                                   {169, 17, 9},  {193, 7, 11},  {225, 9, 515}, {191, 17, 511}};
    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        for (const auto& d : dims)
            for (Transpose ta : kTrans)
                for (Transpose tb : kTrans) check_case<T>({ta, tb, d[0], d[1], d[2], 1.0, 0.0});
    }
}

// Every row count of an edge tile (each is a different sum of the kernels' power-of-two row pieces)
// against every B width around one and two vectors, for k below and above the C^T switch (k >= 64).
template <class T>
void every_edge_tile_all_isas() {
    const std::size_t widths[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33};
    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        for (std::size_t m = 1; m <= 15; ++m)
            for (std::size_t n : widths)
                for (std::size_t k : {std::size_t{3}, std::size_t{70}})
                    for (Transpose ta : kTrans)
                        for (Transpose tb : kTrans) check_case<T>({ta, tb, m, n, k, 1.0, 0.5, 1});
    }
}

}  // namespace

TEST_CASE("gemm: every edge tile shape, all transposes, every ISA (float)") { every_edge_tile_all_isas<float>(); }
TEST_CASE("gemm: every edge tile shape, all transposes, every ISA (double)") { every_edge_tile_all_isas<double>(); }

TEST_CASE("gemm: edge sizes, all transposes, every ISA (float)") { edge_sizes_all_isas<float>(); }
TEST_CASE("gemm: edge sizes, all transposes, every ISA (double)") { edge_sizes_all_isas<double>(); }

TEST_CASE_TEMPLATE("gemm: alpha, beta, padded leading dimensions, NaN in C", T, float, double) {
    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        for (Transpose ta : kTrans)
            for (Transpose tb : kTrans) {
                check_case<T>({ta, tb, 33, 47, 29, 1.0, 1.0, 3});
                check_case<T>({ta, tb, 33, 47, 29, -0.75, 0.5, 5}, true);
                check_case<T>({ta, tb, 19, 70, 300, 2.5, -1.25, 1}, true);
                check_case<T>({ta, tb, 17, 35, 11, 1.5, 0.0, 2, true});
                // Several KC slices: beta applies once, later slices accumulate.
                check_case<T>({ta, tb, 15, 33, 600, 0.5, 2.0, 0});
                // Narrow n, wide m: computed as C^T through a scratch buffer, then added transposed.
                check_case<T>({ta, tb, 301, 10, 97, -0.75, 0.5, 5}, true);
                check_case<T>({ta, tb, 290, 50, 129, 1.5, 0.0, 2, true});
            }
    }
}

TEST_CASE_TEMPLATE("gemm: multi-threaded sizes cross the NC block and both thread splits", T, float, double) {
    ScopedThreads threads(2);
    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        check_case<T>({Transpose::No, Transpose::No, 97, 301, 257, 1.0, 0.0}, true);  // rows split
        check_case<T>({Transpose::Yes, Transpose::No, 7, 3001, 300, 1.0, 0.5});      // columns split
        check_case<T>({Transpose::No, Transpose::Yes, 5, 4200, 190, 1.0, 0.0, 3});    // n > NC
        check_case<T>({Transpose::No, Transpose::No, 9001, 10, 70, 1.0, 1.0, 1});     // as C^T, split transpose
        // As C^T in several row blocks (the scratch holds 2^20 elements): both layouts of A.
        check_case<T>({Transpose::No, Transpose::No, 350001, 3, 65, 1.0, 0.5});
        check_case<T>({Transpose::Yes, Transpose::No, 350001, 3, 65, -1.0, 0.0, 1});
    }
}

TEST_CASE_TEMPLATE("gemm: LeNet and MLP shapes", T, float, double) {
    const std::size_t batch = 4;
    // {ta, tb, m, n, k}: conv as im2col GEMMs (forward, weight gradient, input gradient) and the dense
    // layers' forward, dW and dX, as the layers issue them.
    struct Shape {
        Transpose ta, tb;
        std::size_t m, n, k;
    };
    const Shape shapes[] = {
        {Transpose::No, Transpose::No, 20, 784 * batch, 25},     // conv1 forward
        {Transpose::No, Transpose::Yes, 20, 25, 784 * batch},    // conv1 dW
        {Transpose::Yes, Transpose::No, 25, 784 * batch, 20},    // conv1 dX
        {Transpose::No, Transpose::No, 50, 196 * batch, 500},    // conv2 forward
        {Transpose::No, Transpose::Yes, 50, 500, 196 * batch},   // conv2 dW
        {Transpose::Yes, Transpose::No, 500, 196 * batch, 50},   // conv2 dX
        {Transpose::No, Transpose::No, batch, 500, 3136},        // dense1 forward
        {Transpose::Yes, Transpose::No, 3136, 500, batch},       // dense1 dW
        {Transpose::No, Transpose::Yes, batch, 3136, 500},       // dense1 dX
        {Transpose::No, Transpose::No, 300, 50, 784},            // MLP hidden forward (300-row slice)
        {Transpose::Yes, Transpose::No, 784, 50, 300},           // MLP dW
        {Transpose::No, Transpose::No, 128, 10, 500},            // classifier forward (as C^T)
        {Transpose::Yes, Transpose::No, 500, 10, 128},           // classifier dW (small: read in place)
    };
    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        for (const auto& s : shapes) check_case<T>({s.ta, s.tb, s.m, s.n, s.k, 1.0, 0.0});
    }
}

#if LOOM_X86
TEST_CASE("gemm: which products are computed as C^T") {
    // Only where it saves 10% of the micro-tiles: the 50 hidden units of R nnet's layer and a 10-class
    // classifier (rows of C^T instead of padded columns of C), not LeNet's classifier input gradient
    // (0.91 of the tiles on AVX-512, measured faster directly), nor any product with k < 64.
    using Avx512 = loom::detail::GemmKernelAvx512<float>;
    using Avx2 = loom::detail::GemmKernelAvx2<float>;
    CHECK(loom::detail::gemm_transposed_c_pays<Avx512>(256, 50, 784));
    CHECK(loom::detail::gemm_transposed_c_pays<Avx2>(256, 50, 784));
    CHECK(loom::detail::gemm_transposed_c_pays<Avx512>(784, 50, 256));
    CHECK(loom::detail::gemm_transposed_c_pays<Avx512>(128, 10, 500));
    CHECK(loom::detail::gemm_transposed_c_pays<Avx2>(128, 10, 500));
    CHECK_FALSE(loom::detail::gemm_transposed_c_pays<Avx512>(128, 2450, 500));
    CHECK_FALSE(loom::detail::gemm_transposed_c_pays<Avx2>(128, 2450, 500));
    CHECK_FALSE(loom::detail::gemm_transposed_c_pays<Avx512>(128, 500, 2450));
    CHECK_FALSE(loom::detail::gemm_transposed_c_pays<Avx512>(1024, 1024, 1024));
    CHECK_FALSE(loom::detail::gemm_transposed_c_pays<Avx512>(256, 50, 63));
}
#endif

TEST_CASE_TEMPLATE("gemm: small-k products with several row blocks, swept row tile by row tile", T, float, double) {
    // Several MC row blocks, k <= 64 and rows of C at least 1 KiB apart (conv2's input gradient, the
    // MLP's dX; n >= 256 covers float and double): each row tile runs across the whole packed B panel. Short last row tiles that pair with the next panel (m % MR = 1
    // or 2), an odd number of panels, B read in place (small sizes), two NC blocks, padded leading
    // dimensions, beta, one thread and two.
    constexpr std::size_t mc = loom::detail::gemm_blocks<T, Isa::Generic>().mc;
    static_assert(mc < 451, "the shapes below must span several row blocks on every ISA");
    const Case cases[] = {
        {Transpose::Yes, Transpose::No, 500, 297, 50, 1.0, 0.0},   // conv2 dX's layout, AVX2 pairs 2 rows
        {Transpose::No, Transpose::No, 451, 261, 7, -0.5, 0.5, 3},  // m % MR = 1 on AVX2 and AVX-512 (14)
        {Transpose::No, Transpose::Yes, 229, 289, 64, 1.5, 1.0},    // k at the limit
        {Transpose::Yes, Transpose::Yes, 450, 2100, 20, 1.0, 0.0, 1},  // n past NC
        {Transpose::No, Transpose::No, 2000, 784, 50, 1.0, 0.0},  // the MLP's dX, 2000 rows of it
    };
    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        for (int threads : {1, 2}) {
            ScopedThreads scoped_threads(threads);
            for (const auto& cs : cases) check_case<T>(cs);
        }
    }
}

#if LOOM_X86
TEST_CASE("gemm: which blocks are swept row tile by row tile") {
    using loom::detail::gemm_sweeps_rows;
    CHECK(gemm_sweeps_rows<float, Isa::Avx512>(500, 50, 25088));  // conv2 dX: 500 rows, k = 50
    CHECK(gemm_sweeps_rows<float, Isa::Avx2>(500, 50, 25088));
    CHECK(gemm_sweeps_rows<float, Isa::Avx2>(3136, 64, 500));      // dense1 dW at batch 64
    CHECK(gemm_sweeps_rows<double, Isa::Avx2>(3136, 64, 128));     // rows 1 KiB apart
    CHECK_FALSE(gemm_sweeps_rows<float, Isa::Avx2>(3136, 128, 500));  // slower at batch 128 (AVX2)
    CHECK_FALSE(gemm_sweeps_rows<float, Isa::Avx512>(1024, 1024, 1024));
    CHECK_FALSE(gemm_sweeps_rows<float, Isa::Avx512>(224, 50, 25088));  // one row block (MC = 224)
    CHECK(gemm_sweeps_rows<float, Isa::Avx512>(225, 50, 25088));
    CHECK_FALSE(gemm_sweeps_rows<float, Isa::Avx512>(2048, 20, 50));  // LeNet's Winograd products
}
#endif

TEST_CASE_TEMPLATE("gemm with a byte A: the bits of the same product with A's values as T", T, float, double) {
    // Bytes are exact in T and are packed into the same panels, so the two products agree bit for bit:
    // odd sizes, both A layouts, both B layouts, the MLP's shapes (direct and as C^T), every ISA,
    // alpha carrying the scale, beta accumulating.
    struct Shape {
        std::size_t m, n, k;
    };
    const Shape shapes[] = {{1, 1, 1}, {2, 3, 5}, {13, 17, 19}, {29, 1, 67}, {7, 33, 130}, {512, 50, 784}, {784, 50, 300}, {37, 10, 500}};
    loom::Rng rng(17);
    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        for (const auto& s : shapes)
            for (Transpose ta : {Transpose::No, Transpose::Yes})
                for (Transpose tb : {Transpose::No, Transpose::Yes}) {
                    CAPTURE(describe({ta, tb, s.m, s.n, s.k, 1.0, 0.0}));
                    const std::size_t lda = (ta == Transpose::No ? s.k : s.m) + 3, ldb = tb == Transpose::No ? s.n : s.k;
                    std::vector<std::uint8_t> bytes((ta == Transpose::No ? s.m : s.k) * lda);
                    for (auto& v : bytes) v = static_cast<std::uint8_t>(rng.uniform(0.0, 256.0));
                    const std::vector<T> values(bytes.begin(), bytes.end());
                    const auto b = random_matrix<T>(rng, tb == Transpose::No ? s.k : s.n, ldb);
                    auto c1 = random_matrix<T>(rng, s.m, s.n), c2 = c1;
                    const T alpha = static_cast<T>(1.0 / 255), beta = static_cast<T>(0.5);
                    loom::gemm<T>(ta, tb, s.m, s.n, s.k, alpha, bytes.data(), lda, b.data(), ldb, beta, c1.data(), s.n);
                    loom::gemm<T>(ta, tb, s.m, s.n, s.k, alpha, values.data(), lda, b.data(), ldb, beta, c2.data(), s.n);
                    CHECK(c1 == c2);
                }
    }
}

TEST_CASE_TEMPLATE("gemm: k == 0 and alpha == 0 only scale C; empty m or n is a no-op", T, float, double) {
    std::vector<T> c(6, T(2));
    const T a[1] = {T(1)}, b[1] = {T(1)};
    loom::gemm<T>(Transpose::No, Transpose::No, 2, 3, 0, T(1), a, 1, b, 3, T(0.5), c.data(), 3);
    for (T x : c) CHECK(x == T(1));
    std::vector<T> nan_c(6, std::numeric_limits<T>::quiet_NaN());
    loom::gemm<T>(Transpose::No, Transpose::No, 2, 3, 0, T(1), a, 1, b, 3, T(0), nan_c.data(), 3);
    for (T x : nan_c) CHECK(x == T(0));
    std::vector<T> a6(6, T(1)), b9(9, T(1));
    loom::gemm<T>(Transpose::No, Transpose::No, 2, 3, 3, T(0), a6.data(), 3, b9.data(), 3, T(3), c.data(), 3);
    for (T x : c) CHECK(x == T(3));
    loom::gemm<T>(Transpose::No, Transpose::No, 0, 3, 3, T(1), a6.data(), 3, b9.data(), 3, T(0), c.data(), 3);
    loom::gemm<T>(Transpose::No, Transpose::No, 2, 0, 3, T(1), a6.data(), 3, b9.data(), 3, T(0), c.data(), 3);
    for (T x : c) CHECK(x == T(3));
}

TEST_CASE("gemm: leading dimensions that are too small throw ArgumentError") {
    std::vector<float> a(100), b(100), c(100);
    CHECK_THROWS_AS(loom::gemm<float>(Transpose::No, Transpose::No, 4, 5, 6, 1.f, a.data(), 6, b.data(), 5, 0.f,
                                      c.data(), 4),
                    loom::ArgumentError);
    CHECK_THROWS_AS(loom::gemm<float>(Transpose::No, Transpose::No, 4, 5, 6, 1.f, a.data(), 5, b.data(), 5, 0.f,
                                      c.data(), 5),
                    loom::ArgumentError);
    CHECK_THROWS_AS(loom::gemm<float>(Transpose::Yes, Transpose::Yes, 4, 5, 6, 1.f, a.data(), 4, b.data(), 5, 0.f,
                                      c.data(), 5),
                    loom::ArgumentError);
}

TEST_CASE_TEMPLATE("gemm: bitwise deterministic for a thread count, and across 1 and 2 threads", T, float, double) {
    const std::size_t m = 203, n = 517, k = 611;  // big enough to use both threads
    loom::Rng rng(7);
    const auto a = random_matrix<T>(rng, m, k), b = random_matrix<T>(rng, k, n);
    for (Isa isa : supported_isas()) {
        CAPTURE(loom::isa_name(isa));
        loom::ScopedIsa scoped(isa);
        std::vector<T> c1(m * n), c2(m * n), c_serial(m * n);
        {
            ScopedThreads threads(2);
            loom::gemm<T>(Transpose::No, Transpose::No, m, n, k, T(1), a.data(), k, b.data(), n, T(0), c1.data(), n);
            loom::gemm<T>(Transpose::No, Transpose::No, m, n, k, T(1), a.data(), k, b.data(), n, T(0), c2.data(), n);
        }
        {
            ScopedThreads threads(1);
            loom::gemm<T>(Transpose::No, Transpose::No, m, n, k, T(1), a.data(), k, b.data(), n, T(0),
                          c_serial.data(), n);
        }
        CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(T)) == 0);
        CHECK(std::memcmp(c1.data(), c_serial.data(), c1.size() * sizeof(T)) == 0);
    }
}

TEST_CASE_TEMPLATE("gemm: shared out by column bands, results are one thread's to the bit", T, float, double) {
    // Products whose A slice packs whole (gemm_column_bands): several KC slices with a short last one
    // (each group's slices in order, beta once), a partial last group, short edge tiles taking two B
    // panels, several row blocks inside one group (k small), and an A of bytes.
    struct Shape {
        Transpose ta, tb;
        std::size_t m, n, k;
        double beta;
    };
    const Shape shapes[] = {
        {Transpose::No, Transpose::No, 128, 1100, 1100, 0.0},  // LeNet's dense forward, three slices
        {Transpose::Yes, Transpose::No, 400, 1500, 60, 0.5},   // several row blocks per group
        {Transpose::No, Transpose::Yes, 50, 3000, 700, -1.0},  // conv2's weight gradient, transposed B
    };
    loom::Rng rng(23);
    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        for (const auto& s : shapes) {
            CAPTURE(describe({s.ta, s.tb, s.m, s.n, s.k, 1.0, s.beta}));
            bool by_groups = false;
            switch (isa) {
                case Isa::Avx512: by_groups = loom::detail::gemm_by_column_bands<T, Isa::Avx512>(2, s.m, s.n, s.k); break;
                case Isa::Avx2: by_groups = loom::detail::gemm_by_column_bands<T, Isa::Avx2>(2, s.m, s.n, s.k); break;
                default: by_groups = loom::detail::gemm_by_column_bands<T, Isa::Generic>(2, s.m, s.n, s.k); break;
            }
            CHECK(by_groups);
            {
                ScopedThreads threads(2);
                check_case<T>({s.ta, s.tb, s.m, s.n, s.k, 1.0, s.beta});
            }
            const std::size_t lda = s.ta == Transpose::No ? s.k : s.m, ldb = s.tb == Transpose::No ? s.n : s.k;
            std::vector<std::uint8_t> bytes(s.m * s.k);
            for (auto& v : bytes) v = static_cast<std::uint8_t>(rng.uniform(0.0, 256.0));
            const auto a = random_matrix<T>(rng, s.m * s.k, 1), b = random_matrix<T>(rng, s.k * s.n, 1);
            const auto c0 = random_matrix<T>(rng, s.m, s.n);
            const T beta = static_cast<T>(s.beta);
            auto c_serial = c0, c_shared = c0, bytes_serial = c0, bytes_shared = c0;
            {
                ScopedThreads threads(1);
                loom::gemm<T>(s.ta, s.tb, s.m, s.n, s.k, T(1), a.data(), lda, b.data(), ldb, beta, c_serial.data(), s.n);
                loom::gemm<T>(s.ta, s.tb, s.m, s.n, s.k, T(1), bytes.data(), lda, b.data(), ldb, beta,
                              bytes_serial.data(), s.n);
            }
            {
                ScopedThreads threads(2);
                loom::gemm<T>(s.ta, s.tb, s.m, s.n, s.k, T(1), a.data(), lda, b.data(), ldb, beta, c_shared.data(), s.n);
                loom::gemm<T>(s.ta, s.tb, s.m, s.n, s.k, T(1), bytes.data(), lda, b.data(), ldb, beta,
                              bytes_shared.data(), s.n);
            }
            CHECK(c_shared == c_serial);
            CHECK(bytes_shared == bytes_serial);
        }
    }
}

TEST_CASE("gemm: called from inside an OpenMP parallel region") {
    const std::size_t m = 150, n = 260, k = 170;
    loom::Rng rng(11);
    const auto a = random_matrix<float>(rng, k, m), b = random_matrix<float>(rng, k, n);
    std::vector<float> expected(m * n);
    loom::gemm<float>(Transpose::Yes, Transpose::No, m, n, k, 1.f, a.data(), m, b.data(), n, 0.f, expected.data(), n);
    constexpr int teams = 4;
    std::vector<std::vector<float>> results(teams, std::vector<float>(m * n, -1.f));
    int failures = 0;
#pragma omp parallel for num_threads(teams) reduction(+ : failures)
    for (int t = 0; t < teams; ++t) {
        try {
            loom::gemm<float>(Transpose::Yes, Transpose::No, m, n, k, 1.f, a.data(), m, b.data(), n, 0.f,
                              results[static_cast<std::size_t>(t)].data(), n);
        } catch (...) {
            ++failures;
        }
    }
    CHECK(failures == 0);
    for (const auto& r : results) CHECK(std::memcmp(r.data(), expected.data(), r.size() * sizeof(float)) == 0);
}

TEST_CASE("cpu features: LOOM_ISA parsing, overrides and errors") {
    CHECK(loom::isa_supported(Isa::Generic));
    CHECK(loom::parse_isa("generic") == Isa::Generic);
    CHECK_THROWS_AS(loom::parse_isa("sse9"), loom::Error);
    CHECK_THROWS_AS(loom::parse_isa(""), loom::Error);

    const char* saved = std::getenv("LOOM_ISA");
    const std::string saved_value = saved ? saved : "";
    setenv("LOOM_ISA", "bogus", 1);
    CHECK_THROWS_AS(loom::isa_from_env(), loom::Error);
    setenv("LOOM_ISA", "generic", 1);
    CHECK(loom::isa_from_env() == Isa::Generic);
    unsetenv("LOOM_ISA");
    CHECK(loom::isa_from_env() == loom::detected_isa());
    if (saved) setenv("LOOM_ISA", saved_value.c_str(), 1);

    for (Isa isa : supported_isas()) {
        loom::ScopedIsa scoped(isa);
        CHECK(loom::active_isa() == isa);
    }
    if (!loom::isa_supported(Isa::Avx512)) CHECK_THROWS_AS(loom::set_isa(Isa::Avx512), loom::Error);
}
