#pragma once
// The kernels' per-thread scratch: the GEMM's packed blocks, the convolutions' padded images and
// transformed tiles, partial sums. Training calls each kernel thousands of times with the same
// shapes; after the first call every buffer is big enough and no kernel touches the heap.
#include <cstddef>
#include <new>

#include "loom/core/aligned_allocator.hpp"

namespace loom::detail {

// A grow-only 64-byte aligned buffer (contents are not kept when it grows).
template <class T>
class ScratchBuffer {
public:
    ScratchBuffer() = default;
    ScratchBuffer(const ScratchBuffer&) = delete;
    ScratchBuffer& operator=(const ScratchBuffer&) = delete;
    ~ScratchBuffer() { release(); }

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

// What a GEMM scratch buffer holds: packed A, packed B, the C^T of a narrow product, or how far each
// band of a product shared out band by band has got (gemm_driver.hpp).
enum class GemmBuffer { PackedA, PackedB, TransposedC, BandProgress, StepRuns, StepRunCounts, StepMask };

// One buffer per thread, element type and tag. The tag is a value of an enum naming what the buffer
// holds (GemmBuffer::PackedA, ...), so that no two uses share one. OpenMP keeps its worker threads
// alive between parallel regions, so thread_local storage is reused across calls.
template <class T, auto Tag>
ScratchBuffer<T>& scratch_buffer() {
    thread_local ScratchBuffer<T> buffer;
    return buffer;
}

// This thread's buffer for Tag, with room for at least `count` elements (its contents are undefined).
template <class T, auto Tag>
T* scratch(std::size_t count) {
    return scratch_buffer<T, Tag>().reserve(count);
}

}  // namespace loom::detail
