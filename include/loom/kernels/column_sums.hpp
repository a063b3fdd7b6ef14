#pragma once
// column_sums: the sum of a row-major matrix's rows (a bias gradient: the output gradient summed
// over the batch and every position). Rows are summed in a number of slices that depends on the
// size alone, each slice running down its rows with the columns as vectors, and the slices' sums are
// added in order: the same result whatever the thread count. Small matrices take one slice, summed
// row after row.
#include <algorithm>
#include <cstddef>

#include "loom/core/parallel.hpp"
#include "loom/kernels/isa_dispatch.hpp"
#include "loom/kernels/scratch_buffer.hpp"

namespace loom::kernels {

enum class ColumnSumsBuffer { Partial };

template <class T>
void column_sums(const T* m, std::size_t rows, std::size_t cols, T* out) {
    constexpr std::size_t per_slice = std::size_t{1} << 16, max_slices = 16;  // elements
    const std::size_t slices = std::clamp<std::size_t>(rows * cols / per_slice, 1, std::min<std::size_t>(max_slices, std::max<std::size_t>(rows, 1)));
    T* sums = loom::detail::scratch<T, ColumnSumsBuffer::Partial>(slices * cols);
    const Isa isa = active_isa();
    parallel_for(slices, 1, [&](std::size_t begin, std::size_t end) {
        run_for_isa(isa, [&] {
            for (std::size_t s = begin; s < end; ++s) {
                T* sum = sums + s * cols;
                std::fill(sum, sum + cols, T(0));
                for (std::size_t r = rows * s / slices; r < rows * (s + 1) / slices; ++r) {
                    const T* row = m + r * cols;
#pragma omp simd
                    for (std::size_t j = 0; j < cols; ++j) sum[j] += row[j];
                }
            }
        });
    });
    std::copy_n(sums, cols, out);
    for (std::size_t s = 1; s < slices; ++s)
        for (std::size_t j = 0; j < cols; ++j) out[j] += sums[s * cols + j];
}

}  // namespace loom::kernels
