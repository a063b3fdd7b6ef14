#pragma once
// Packing for the GEMM driver. The micro-kernel reads A as consecutive MR-value columns of one
// MR-row micro-panel and B as consecutive NR-value rows of one NR-column micro-panel: unit-stride,
// 64-byte aligned streams whatever the caller's transposes and leading dimensions were, so the kernel
// has one shape only. Edge panels are zero-padded to full MR / NR; the padded products are computed
// and then discarded by the driver, which is cheaper than a family of edge kernels.
#include <algorithm>
#include <cstddef>
#include <new>

#include "loom/core/aligned_allocator.hpp"
#include "loom/kernels/transpose.hpp"

namespace loom::detail {

// A grow-only 64-byte aligned scratch buffer. Training calls gemm thousands of times with the same
// shapes; after the first call the buffer is big enough and gemm no longer touches the heap.
template <class T>
class PackBuffer {
public:
    PackBuffer() = default;
    PackBuffer(const PackBuffer&) = delete;
    PackBuffer& operator=(const PackBuffer&) = delete;
    ~PackBuffer() { release(); }

    T* reserve(std::size_t count) {
        if (count > capacity_) {
            release();
            data_ = static_cast<T*>(::operator new(count * sizeof(T), std::align_val_t{tensor_alignment}));
            capacity_ = count;
        }
        return data_;
    }

private:
    void release() {
        if (data_) ::operator delete(data_, std::align_val_t{tensor_alignment});
        data_ = nullptr;
        capacity_ = 0;
    }
    T* data_ = nullptr;
    std::size_t capacity_ = 0;
};

// One buffer per thread and role. OpenMP keeps its worker threads alive between parallel regions,
// so thread_local storage is reused across calls. The B buffer belongs to the thread that calls gemm
// and is shared with the workers for the duration of the call.
template <class T>
PackBuffer<T>& pack_buffer_a() {
    thread_local PackBuffer<T> buffer;
    return buffer;
}
template <class T>
PackBuffer<T>& pack_buffer_b() {
    thread_local PackBuffer<T> buffer;
    return buffer;
}

// Rounds n up to a multiple of `step`.
constexpr std::size_t round_up(std::size_t n, std::size_t step) { return (n + step - 1) / step * step; }

// Packs rows [i0, i0 + mc) x columns [p0, p0 + kc) of op(A) into ceil(mc / MR) micro-panels of
// kc x MR values each (value (i, p) of a panel at p * MR + i).
template <std::size_t MR, class T>
void pack_a(Transpose ta, const T* a, std::size_t lda, std::size_t i0, std::size_t mc, std::size_t p0,
            std::size_t kc, T* dst) {
    for (std::size_t ir = 0; ir < mc; ir += MR) {
        const std::size_t rows = std::min(MR, mc - ir);
        T* panel = dst + ir * kc;
        if (ta == Transpose::Yes) {
            // op(A)(i, p) = a[p * lda + i]: each k step is a contiguous run of MR values.
            const T* src = a + p0 * lda + i0 + ir;
            if (rows == MR) {
                for (std::size_t p = 0; p < kc; ++p)
                    std::copy_n(src + p * lda, MR, panel + p * MR);
            } else {
                for (std::size_t p = 0; p < kc; ++p) {
                    std::copy_n(src + p * lda, rows, panel + p * MR);
                    std::fill(panel + p * MR + rows, panel + (p + 1) * MR, T(0));
                }
            }
        } else {
            // op(A)(i, p) = a[i * lda + p]: MR row streams read in step, interleaved into the panel.
            const T* src = a + (i0 + ir) * lda + p0;
            if (rows == MR) {
                for (std::size_t p = 0; p < kc; ++p)
                    for (std::size_t i = 0; i < MR; ++i) panel[p * MR + i] = src[i * lda + p];
            } else {
                for (std::size_t p = 0; p < kc; ++p) {
                    for (std::size_t i = 0; i < rows; ++i) panel[p * MR + i] = src[i * lda + p];
                    for (std::size_t i = rows; i < MR; ++i) panel[p * MR + i] = T(0);
                }
            }
        }
    }
}

// Packs micro-panels [panel_begin, panel_end) of rows [p0, p0 + kc) x columns [j0, j0 + nc) of op(B);
// panel q covers columns j0 + q * NR ... and is stored as kc x NR values at dst + q * kc * NR.
// The panel range lets several threads pack one shared B block.
template <std::size_t NR, class T>
void pack_b(Transpose tb, const T* b, std::size_t ldb, std::size_t p0, std::size_t kc, std::size_t j0,
            std::size_t nc, std::size_t panel_begin, std::size_t panel_end, T* dst) {
    for (std::size_t q = panel_begin; q < panel_end; ++q) {
        const std::size_t jr = q * NR;
        const std::size_t cols = std::min(NR, nc - jr);
        T* panel = dst + jr * kc;
        if (tb == Transpose::No) {
            // op(B)(p, j) = b[p * ldb + j]: each k step is a contiguous run of NR values.
            const T* src = b + p0 * ldb + j0 + jr;
            if (cols == NR) {
                for (std::size_t p = 0; p < kc; ++p) std::copy_n(src + p * ldb, NR, panel + p * NR);
            } else {
                for (std::size_t p = 0; p < kc; ++p) {
                    std::copy_n(src + p * ldb, cols, panel + p * NR);
                    std::fill(panel + p * NR + cols, panel + (p + 1) * NR, T(0));
                }
            }
        } else {
            // op(B)(p, j) = b[j * ldb + p]: read each source row sequentially, scatter with stride NR
            // (the panel is small and cache-resident, the source is not).
            const T* src = b + (j0 + jr) * ldb + p0;
            for (std::size_t j = 0; j < cols; ++j) {
                const T* row = src + j * ldb;
                for (std::size_t p = 0; p < kc; ++p) panel[p * NR + j] = row[p];
            }
            for (std::size_t j = cols; j < NR; ++j)
                for (std::size_t p = 0; p < kc; ++p) panel[p * NR + j] = T(0);
        }
    }
}

}  // namespace loom::detail
