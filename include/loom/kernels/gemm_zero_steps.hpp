#pragma once
// Whole k steps of zeros in a B operand of bytes (images): the steps of one NR-column micro-panel at
// which every one of its values is 0. Image pixels are often 0 (half of Fashion-MNIST's), and in
// places (an image's border, the sides of narrow garments) in every image of a panel at once; the
// micro-kernel then skips those steps (GemmKernel::run_runs). A skipped step would have added
// 0 * a to every accumulator, which leaves a finite sum exactly as it was, so the results are
// bitwise those of the full k loop (unless A holds an infinity or NaN, which 0 * a would have spread
// into C).
//
// The kernel is given the steps to keep as runs [begin, end). Each run costs the kernel a loop of its
// own, whose exit the branch predictor often misses, so a gap of zeros is skipped only when it saves
// more than that: gemm_min_zero_gap steps or more. The steps are found a word of 64 at a time (one bit
// each), so that finding them costs little next to the multiply-adds of a panel (50 rows of A each).
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "loom/kernels/transpose.hpp"

namespace loom::detail {

inline constexpr std::size_t gemm_min_zero_gap = 4;

// The words of a mask of kc steps (bit p % 64 of word p / 64: step p has a nonzero value).
constexpr std::size_t step_mask_words(std::size_t kc) { return (kc + 63) / 64; }

// Bit i set where byte i of v is nonzero (i < 8).
inline std::uint64_t nonzero_bytes(std::uint64_t v) {
    constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
    const std::uint64_t high = (((v & low7) + low7) | v) & ~low7;  // bit 7 of each nonzero byte
    return ((high >> 7) * 0x0102040810204080ull) >> 56;             // gathered into the top byte
}

// Loads up to 8 bytes (the rest 0), as a little-endian word: byte i at bits 8i.. (any byte order
// would do for nonzero_bytes' count of nonzero bytes, not for its bit positions).
inline std::uint64_t load_bytes(const std::uint8_t* p, std::size_t count) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < count; ++i) v |= std::uint64_t{p[i]} << (8 * i);
    return v;
}
inline std::uint64_t load_8_bytes(const std::uint8_t* p) {
    if constexpr (std::endian::native == std::endian::little) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        return v;
    } else {
        return load_bytes(p, 8);
    }
}

// The mask of a panel of op(B) = B^T, whose k steps are columns of B's `count` rows (row r at
// src + r * ld): step p is nonzero if any row is at column p. Eight columns of all the rows at a time,
// ORed in a register.
inline void nonzero_steps_across_rows(const std::uint8_t* src, std::size_t ld, std::size_t count, std::size_t kc,
                                      std::uint64_t* mask) {
    for (std::size_t w = 0; w < step_mask_words(kc); ++w) {
        const std::size_t first = 64 * w, last = std::min(kc, first + 64);
        std::uint64_t word = 0;
        for (std::size_t p = first; p < last; p += 8) {
            const std::size_t width = std::min<std::size_t>(8, last - p);
            std::uint64_t any = 0;
            if (width == 8)
                for (std::size_t r = 0; r < count; ++r) any |= load_8_bytes(src + r * ld + p);
            else
                for (std::size_t r = 0; r < count; ++r) any |= load_bytes(src + r * ld + p, width);
            word |= nonzero_bytes(any) << (p - first);
        }
        mask[w] = word;
    }
}

// The mask of a panel of op(B) = B, whose k steps are B's rows: step p is nonzero if any of the
// `count` values at src + p * ld is.
template <std::size_t NR>
void nonzero_steps_along_rows(const std::uint8_t* src, std::size_t ld, std::size_t count, std::size_t kc,
                              std::uint64_t* mask) {
    for (std::size_t w = 0; w < step_mask_words(kc); ++w) {
        const std::size_t first = 64 * w, last = std::min(kc, first + 64);
        std::uint64_t word = 0;
        for (std::size_t p = first; p < last; ++p) {
            const std::uint8_t* step = src + p * ld;
            std::uint64_t any = 0;
            if (count == NR && NR % 8 == 0) {
                for (std::size_t j = 0; j < NR; j += 8) any |= load_8_bytes(step + j);
            } else {
                for (std::size_t j = 0; j < count; ++j) any |= step[j];
            }
            word |= std::uint64_t{any != 0} << (p - first);
        }
        mask[w] = word;
    }
}

// The first step >= from whose bit is `set`, or kc if none is (bits past kc are clear).
inline std::size_t next_step(const std::uint64_t* mask, std::size_t kc, std::size_t from, bool set) {
    const std::size_t words = step_mask_words(kc);
    std::size_t i = from / 64;
    if (i >= words) return kc;
    std::uint64_t word = (set ? mask[i] : ~mask[i]) & (~std::uint64_t{0} << (from % 64));
    while (word == 0) {
        if (++i == words) return kc;
        word = set ? mask[i] : ~mask[i];
    }
    return std::min(kc, i * 64 + static_cast<std::size_t>(std::countr_zero(word)));
}

// The runs of steps to keep, from the mask of steps [0, kc): run r is [runs[2r], runs[2r + 1]);
// returns how many. runs has room for kc + 2 values (no more than kc / 2 + 1 runs).
inline std::size_t nonzero_step_runs(const std::uint64_t* mask, std::size_t kc, std::uint32_t* runs) {
    std::size_t count = 0;
    for (std::size_t p = next_step(mask, kc, 0, true); p < kc;) {
        const std::size_t begin = p;
        std::size_t end = kc;
        while (p < kc) {
            const std::size_t gap = next_step(mask, kc, p, false);
            const std::size_t after = next_step(mask, kc, gap, true);
            if (after == kc || after - gap >= gemm_min_zero_gap) {  // the run ends: the gap is worth skipping
                end = gap;
                p = after;
                break;
            }
            p = after;  // a short gap stays inside the run
        }
        runs[2 * count] = static_cast<std::uint32_t>(begin);
        runs[2 * count + 1] = static_cast<std::uint32_t>(end);
        ++count;
    }
    return count;
}

// The runs of micro-panels [0, panels) of op(B)'s rows [p0, p0 + kc) x columns [j0, j0 + nc) (as
// pack_b packs them, panel q from column j0 + q * NR): panel q's runs at runs + q * (kc + 2), their
// count at counts[q]. mask has room for step_mask_words(kc) words.
template <std::size_t NR>
void nonzero_step_runs_of_panels(Transpose tb, const std::uint8_t* b, std::size_t ldb, std::size_t p0, std::size_t kc,
                                 std::size_t j0, std::size_t nc, std::size_t panels, std::uint32_t* runs,
                                 std::uint32_t* counts, std::uint64_t* mask) {
    for (std::size_t q = 0; q < panels; ++q) {
        const std::size_t column = j0 + q * NR, width = std::min(NR, nc - q * NR);
        if (tb == Transpose::No) nonzero_steps_along_rows<NR>(b + p0 * ldb + column, ldb, width, kc, mask);
        else nonzero_steps_across_rows(b + column * ldb + p0, ldb, width, kc, mask);
        counts[q] = static_cast<std::uint32_t>(nonzero_step_runs(mask, kc, runs + q * (kc + 2)));
    }
}

}  // namespace loom::detail
