#pragma once
// zero_pattern_order: an order of byte samples (images) that puts samples with zeros in the same
// places next to each other. The GEMM skips the k steps at which a whole micro-panel of bytes is
// zero (kernels/gemm_zero_steps.hpp); a panel holds 16-32 consecutive samples, and in data set order
// few pixels are zero in all of them, but among images of about the same outline many are. A fit whose
// result does not depend on the order of its samples (a full-batch criterion, a sum over all of them)
// can take them in this order: on Fashion-MNIST's 60,000 training images, the first Dense layer's
// products skip 34% (forward) and 15% (weight gradient) of their k steps this way, against 5% and 2%
// in the data set's order.
//
// The outline of an image (rank >= 3 samples: height x width x ...) is the bounding box of its
// nonzero pixels; samples sort by the box's width, then its height (garments are scaled to fill the
// frame in one direction, so the width tells them apart). Flat samples have no outline and sort by
// their count of nonzero values. The sort is stable: the order is a function of the data alone.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "loom/core/tensor.hpp"

namespace loom {

inline std::vector<std::size_t> zero_pattern_order(TensorView<const std::uint8_t> x) {
    const std::size_t n = x.rank() ? x.dim(0) : 0;
    const std::size_t per_sample = n ? x.size() / n : 0;
    const bool images = x.rank() >= 3;
    const std::size_t height = images ? x.dim(1) : 1, width = images ? x.dim(2) : per_sample;
    const std::size_t cell = images ? per_sample / (height * width) : 1;  // values per pixel (channels, ...)
    std::vector<std::size_t> key(n);
    std::vector<std::uint8_t> column_any(images ? width : 0), row_any(images ? height : 0);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* sample = x.data() + i * per_sample;
        if (!images) {
            key[i] = per_sample - static_cast<std::size_t>(std::count(sample, sample + per_sample, std::uint8_t{0}));
            continue;
        }
        // Which columns and rows hold a nonzero value: ORs, which compilers vectorise.
        std::fill(column_any.begin(), column_any.end(), std::uint8_t{0});
        std::fill(row_any.begin(), row_any.end(), std::uint8_t{0});
        for (std::size_t r = 0; r < height; ++r) {
            const std::uint8_t* row = sample + r * width * cell;
            std::uint8_t any = 0;
            if (cell == 1) {
                for (std::size_t c = 0; c < width; ++c) column_any[c] |= row[c];
            } else {
                for (std::size_t c = 0; c < width * cell; ++c) column_any[c / cell] |= row[c];
            }
            for (std::size_t c = 0; c < width * cell; ++c) any |= row[c];
            row_any[r] = any;
        }
        const auto nonzero = [](std::uint8_t v) { return v != 0; };
        const auto first_of = [&](const std::vector<std::uint8_t>& v) {
            return static_cast<std::size_t>(std::find_if(v.begin(), v.end(), nonzero) - v.begin());
        };
        const auto end_of = [&](const std::vector<std::uint8_t>& v) {
            return static_cast<std::size_t>(v.rend() - std::find_if(v.rbegin(), v.rend(), nonzero));
        };
        const std::size_t left = first_of(column_any), right = end_of(column_any);
        const std::size_t top = first_of(row_any), bottom = end_of(row_any);
        const std::size_t box_width = right > left ? right - left : 0, box_height = bottom > top ? bottom - top : 0;
        key[i] = box_width * (height + 1) + box_height;
    }
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    return order;
}

}  // namespace loom
