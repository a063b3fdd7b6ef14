// KFold partitions the samples, balances fold sizes, keeps class proportions when stratified, and
// depends only on its seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "loom/data/kfold.hpp"

namespace {

// Every index appears in exactly one validation fold, and each fold's training set is the rest.
void check_partition(const std::vector<loom::Fold>& folds, std::size_t n) {
    std::vector<int> seen(n, 0);
    for (const auto& f : folds) {
        CHECK(std::is_sorted(f.validation.begin(), f.validation.end()));
        CHECK(std::is_sorted(f.train.begin(), f.train.end()));
        CHECK(f.train.size() + f.validation.size() == n);
        std::vector<std::size_t> all(f.train);
        all.insert(all.end(), f.validation.begin(), f.validation.end());
        std::sort(all.begin(), all.end());
        for (std::size_t i = 0; i < n; ++i) CHECK(all[i] == i);
        for (std::size_t i : f.validation) ++seen[i];
    }
    for (int s : seen) CHECK(s == 1);
}

void check_balanced(const std::vector<loom::Fold>& folds) {
    std::size_t lo = folds[0].validation.size(), hi = lo;
    for (const auto& f : folds) {
        lo = std::min(lo, f.validation.size());
        hi = std::max(hi, f.validation.size());
    }
    CHECK(hi - lo <= 1);
}

}  // namespace

TEST_CASE("plain k-fold splits partition the indices into balanced, shuffled folds") {
    for (std::size_t n : {10u, 11u, 103u}) {
        const auto folds = loom::KFold(5, 3).split(n);
        REQUIRE(folds.size() == 5);
        check_partition(folds, n);
        check_balanced(folds);
    }
    // Shuffled: the first fold is not simply the first fifth.
    const auto folds = loom::KFold(5, 3).split(100);
    CHECK(folds[0].validation != std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19});
    // k == n: leave-one-out.
    const auto loo = loom::KFold(4).split(4);
    for (const auto& f : loo) CHECK(f.validation.size() == 1);
}

TEST_CASE("stratified folds keep class proportions") {
    // 3 classes in proportions 60% / 30% / 10% of 1000 samples, interleaved.
    std::vector<int> labels;
    for (int i = 0; i < 1000; ++i) labels.push_back(i % 10 < 6 ? 0 : (i % 10 < 9 ? 1 : 2));
    const auto folds = loom::KFold(5, 7, true).split(labels);
    check_partition(folds, labels.size());
    check_balanced(folds);
    for (const auto& f : folds) {
        std::size_t counts[3] = {0, 0, 0};
        for (std::size_t i : f.validation) ++counts[labels[i]];
        CHECK(counts[0] == 120);
        CHECK(counts[1] == 60);
        CHECK(counts[2] == 20);
    }
    // Class sizes not divisible by k: each class still within one of its share, folds within one.
    std::vector<int> odd;
    for (int i = 0; i < 37; ++i) odd.push_back(i % 3);
    const auto odd_folds = loom::KFold(4, 1, true).split(odd);
    check_partition(odd_folds, odd.size());
    check_balanced(odd_folds);
    for (int c = 0; c < 3; ++c) {
        std::size_t lo = 1000, hi = 0;
        for (const auto& f : odd_folds) {
            const auto k = static_cast<std::size_t>(std::count_if(f.validation.begin(), f.validation.end(),
                                                                  [&](std::size_t i) { return odd[i] == c; }));
            lo = std::min(lo, k);
            hi = std::max(hi, k);
        }
        CHECK(hi - lo <= 1);
    }
}

TEST_CASE("k-fold splits depend only on the seed") {
    std::vector<int> labels(200);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i % 4);
    for (bool stratified : {false, true}) {
        const auto a = loom::KFold(5, 42, stratified).split(labels);
        const auto b = loom::KFold(5, 42, stratified).split(labels);
        const auto c = loom::KFold(5, 43, stratified).split(labels);
        for (std::size_t f = 0; f < 5; ++f) CHECK(a[f].validation == b[f].validation);
        bool differs = false;
        for (std::size_t f = 0; f < 5; ++f) differs = differs || a[f].validation != c[f].validation;
        CHECK(differs);
    }
}

TEST_CASE("k-fold rejects fewer than 2 folds or more folds than samples") {
    CHECK_THROWS_AS(loom::KFold(1), loom::ArgumentError);
    CHECK_THROWS_AS(loom::KFold(0), loom::ArgumentError);
    CHECK_THROWS_AS(loom::KFold(5).split(4), loom::ArgumentError);
    const std::vector<int> three{0, 1, 0};
    CHECK_THROWS_AS(loom::KFold(4, 0, true).split(three), loom::ArgumentError);
    // Classes smaller than k are allowed (documented): the split still partitions.
    const std::vector<int> rare{0, 0, 0, 0, 0, 1};
    check_partition(loom::KFold(3, 0, true).split(rare), rare.size());
}
