// Training steps do not touch the heap once the buffers exist: every workspace is reused.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "loom/loom.hpp"
#include "scoped_threads.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
// A place for a debugger breakpoint when this test fails.
[[gnu::noinline]] void count_allocation() { ++allocations; }
}  // namespace

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // these replacements pair malloc with free
#endif

// Counts allocations of the whole test program, but only while `counting` is set.
void* operator new(std::size_t size) {
    if (counting) count_allocation();
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
    if (counting) count_allocation();
    const auto a = static_cast<std::size_t>(align);
    if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
    throw std::bad_alloc();
}
// The nothrow forms too (std::stable_sort's temporary buffer uses them): otherwise the library's
// versions allocate and the replaced delete below frees, a mismatch AddressSanitizer reports.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    if (counting) count_allocation();
    return std::malloc(size ? size : 1);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
    if (counting) count_allocation();
    const auto a = static_cast<std::size_t>(align);
    return std::aligned_alloc(a, (size + a - 1) / a * a);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {
// Allocations during three calls of `step` after two that may create buffers.
template <class Step>
long steady_state_allocations(Step step) {
    step();
    step();
    allocations = 0;
    counting = true;
    for (int i = 0; i < 3; ++i) step();
    counting = false;
    return allocations.load();
}
}  // namespace

TEST_CASE("LeNet training steps allocate nothing in the steady state") {
    loom::Sequential<float> net({28, 28, 1});
    net.add<loom::Conv2D>(20, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
        .add<loom::Conv2D>(50, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
        .add<loom::Flatten>().add<loom::Dropout>(0.2).add<loom::Dense>(500).add<loom::Tanh>()
        .add<loom::Dense>(10).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-3));
    loom::Tensor<float> x({32, 28, 28, 1}), y({32, 10});
    loom::Rng rng(1);
    for (auto& v : x) v = static_cast<float>(rng.uniform());
    for (std::size_t i = 0; i < 32; ++i) y(i, i % 10) = 1.0f;
    // The first steps create the buffers and the optimizer state.
    CHECK(steady_state_allocations([&] { net.train_on_batch(x, y); }) == 0);
}

TEST_CASE("full-batch evaluations on byte images allocate nothing in the steady state") {
    // R nnet's model on bytes, with a last chunk shorter than the others and two threads, so that every
    // per-evaluation buffer (chunk outputs, group sums and losses, the lanes' copies) must be reused.
    loom::Sequential<float> net({8, 8, 1}, 3);
    net.add<loom::Flatten>().add<loom::Dense>(5).add<loom::Sigmoid>().add<loom::Dense>(3).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    loom::Tensor<std::uint8_t> pixels({203, 8, 8, 1});
    loom::Tensor<float> y({203, 3});
    loom::Rng rng(2);
    for (auto& v : pixels) v = static_cast<std::uint8_t>(rng.uniform(0.0, 256.0));
    for (std::size_t i = 0; i < 203; ++i) y(i, i % 3) = 1.0f;
    const loom::Samples<float> x(pixels.view(), 1.0f / 255.0f);
    const loom_test::ScopedThreads two(2);
    loom::FullBatchObjective<float> objective(net, 16);
    std::vector<double> gradient(net.param_count());
    // The first evaluations create the model copies, their buffers and the group sums.
    CHECK(steady_state_allocations([&] { objective(x, y.view(), 0.01, gradient); }) == 0);
}
