#pragma once
// KFold: k-fold cross-validation splits. Each sample lands in exactly one validation fold and in the
// training set of the other k - 1 folds. Fold sizes differ by at most one. The stratified split deals
// the (shuffled) samples of each class round-robin over the folds, as caret's createFolds does for a
// factor outcome, so every fold keeps the class proportions of the whole set to within one sample
// per class. A class with fewer than k samples is allowed: some validation folds then lack it.
// Index lists are sorted, so gathering a fold reads the data front to back.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/random.hpp"

namespace loom {

struct Fold {
    std::vector<std::size_t> train;
    std::vector<std::size_t> validation;
};

class KFold {
public:
    explicit KFold(std::size_t k, std::uint64_t seed = 0, bool stratified = false)
        : k_(k), seed_(seed), stratified_(stratified) {
        require<ArgumentError>(k >= 2, "KFold: expected k >= 2 folds, got ", k);
    }

    std::size_t folds() const { return k_; }
    bool stratified() const { return stratified_; }

    // Plain shuffled folds of 0..n-1.
    std::vector<Fold> split(std::size_t n) const {
        check_size(n);
        Rng rng(seed_);
        const auto order = rng.permutation(n);
        std::vector<std::size_t> fold_of(n);
        for (std::size_t f = 0; f < k_; ++f)
            for (std::size_t i = n * f / k_; i < n * (f + 1) / k_; ++i) fold_of[order[i]] = f;
        return assemble(fold_of);
    }

    // Folds of the samples with these labels: stratified by label when the KFold is, else plain.
    std::vector<Fold> split(std::span<const int> labels) const {
        if (!stratified_) return split(labels.size());
        const std::size_t n = labels.size();
        check_size(n);
        std::map<int, std::vector<std::size_t>> by_class;
        for (std::size_t i = 0; i < n; ++i) by_class[labels[i]].push_back(i);
        Rng rng(seed_);
        std::vector<std::size_t> fold_of(n);
        // Each class continues dealing where the previous one stopped, so the leftovers of the
        // classes (sizes not divisible by k) spread over different folds and fold sizes stay within one.
        std::size_t next = 0;
        for (auto& [label, members] : by_class) {
            rng.shuffle(members.begin(), members.end());
            for (std::size_t i : members) {
                fold_of[i] = next;
                next = (next + 1) % k_;
            }
        }
        return assemble(fold_of);
    }

private:
    void check_size(std::size_t n) const {
        require<ArgumentError>(k_ <= n, "KFold: cannot split ", n, " samples into ", k_, " folds");
    }

    std::vector<Fold> assemble(const std::vector<std::size_t>& fold_of) const {
        std::vector<Fold> folds(k_);
        for (std::size_t i = 0; i < fold_of.size(); ++i)
            for (std::size_t f = 0; f < k_; ++f) (f == fold_of[i] ? folds[f].validation : folds[f].train).push_back(i);
        return folds;
    }

    std::size_t k_;
    std::uint64_t seed_;
    bool stratified_;
};

}  // namespace loom
