#pragma once
// FullBatchObjective<T>: the fitting criterion of R's nnet over a whole data set,
//     sum over samples of the loss + decay * (sum of squares of every parameter, biases included),
// and its gradient, for fit_full_batch (and its MPI twin, which adds up loss_sum over ranks).
//
// The data goes through the ordinary layers in chunks, so activation memory stays bounded, and the
// sums are kept in double so that 60,000 float terms lose nothing. The samples may be scaled bytes
// (Samples<T>): a quarter of the memory and of the memory traffic (R nnet's 60,000 images: 47 MB
// instead of 188 per evaluation), which is what an evaluation waits on (examples/nnet passes bytes;
// docs/performance.md). A first Dense layer takes them as bytes (Sequential::forward on Samples);
// other models get them as T a chunk at a time. With several threads the chunks
// run side by side on copies of the model (one per thread, serial kernels, no fork and join per
// layer), in groups whose sums are formed and added in a fixed order (full_batch_groups), so the
// result is bitwise the same for every thread count.
// The copies belong to this object, not to the model: they live as long as the fit.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/parallel.hpp"
#include "loom/core/tensor.hpp"
#include "loom/core/threads.hpp"
#include "loom/data/samples.hpp"
#include "loom/model/sequential.hpp"

namespace loom {

namespace detail {
// Samples per forward/backward pass (FullBatchObjective, FullBatchOptions::chunk): bounds activation
// memory, and keeps a chunk of bytes in L2 between the forward pass and the weight gradient. Each chunk
// also costs a pass adding its gradient into its group's double sums, which fewer, larger chunks
// save: R nnet's fit on a 2 MiB-L2 Intel guest, whose products skip zero pixels, 17.3-17.4 s with 384
// against 18.2 s with 256 (AVX2; 44-46 against 47 ms per evaluation on AVX-512). Before the skipping,
// 256 measured better than 512 (63 against 66-70 ms per evaluation, AVX2).
inline constexpr std::size_t default_full_batch_chunk = 384;

// How many groups of consecutive chunks an evaluation is summed in: each group's gradient is summed in
// chunk order by one thread, and the groups are then added in group order, so the result does not
// depend on the thread count (nor on which thread took which group). Enough groups that the last one
// to finish leaves the other threads little to wait for (1/32 of an evaluation), few enough that
// their sums stay small next to the work (R nnet's 39,760 weights: 10 MB), and at most 64 MiB of them.
inline std::size_t full_batch_groups(std::size_t chunks, std::size_t values) {
    constexpr std::size_t most = 32, budget = std::size_t{64} << 20;
    const std::size_t affordable = std::max<std::size_t>(1, budget / (sizeof(double) * std::max<std::size_t>(values, 1)));
    return std::min({chunks, most, affordable});
}
}  // namespace detail

template <class T>
class FullBatchObjective {
public:
    // `net` must be compiled (its loss is summed) and must outlive this object.
    explicit FullBatchObjective(Sequential<T>& net, std::size_t chunk = detail::default_full_batch_chunk) : net_(net), chunk_(chunk) {
        require(net.compiled(), "FullBatchObjective: compile the model first (its loss is the criterion)");
        require<ArgumentError>(chunk >= 1, "FullBatchObjective: chunk size must be at least 1");
    }

    // The loss summed over (x, y) at the model's current weights. The gradient of that sum is
    // written, in double, to `gradient` (param_count values, in the order of net.parameters()).
    double loss_sum(const Samples<T>& x, TensorView<const T> y, std::span<double> gradient) {
        require<ArgumentError>(gradient.size() == net_.param_count(), "FullBatchObjective: a gradient of ",
                               gradient.size(), " values for a model with ", net_.param_count(), " parameters");
        const std::size_t n = x.rank() ? x.dim(0) : 0, chunks = (n + chunk_ - 1) / chunk_;
        const std::size_t values = gradient.size();
        if (chunks == 0) {
            std::fill(gradient.begin(), gradient.end(), 0.0);
            return 0;
        }
        const std::size_t groups = detail::full_batch_groups(chunks, values);
        const std::size_t lanes =
            prepare_lanes(std::min(groups, static_cast<std::size_t>(threads_for(static_cast<double>(chunks), 1.0))));
        if (buffers_.size() < lanes) buffers_.resize(lanes);
        group_gradients_.resize(groups * values);
        group_loss_.resize(groups);
        // One fork and join for all the chunks: each thread takes the next group as soon as it is free,
        // so a thread the host preempts for a while does not hold the other up at every chunk. Lane l
        // first takes group l, so that every lane runs in every evaluation and the first one sizes all
        // their buffers: a lane left idle while the host held its thread would otherwise allocate them
        // in some later evaluation.
        const auto run_group = [&](std::size_t l, std::size_t g) {
            group_loss_[g] = sum_group(lane(l), buffers_[l], x, y, chunks * g / groups, chunks * (g + 1) / groups,
                                       group_gradients_.data() + g * values);
        };
        std::atomic<std::size_t> next_group{lanes};
        parallel_for(lanes, 1, [&](std::size_t begin, std::size_t end) {
            for (std::size_t l = begin; l < end; ++l) {
                run_group(l, l);
                for (std::size_t g; (g = next_group.fetch_add(1, std::memory_order_relaxed)) < groups;) run_group(l, g);
            }
        });
        // And one for adding up the groups' gradients, each thread a range of parameters.
        parallel_for(values, 4096, [&](std::size_t begin, std::size_t end) {
            std::copy_n(group_gradients_.data() + begin, end - begin, gradient.data() + begin);
            for (std::size_t g = 1; g < groups; ++g) {
                const double* part = group_gradients_.data() + g * values;
                for (std::size_t i = begin; i < end; ++i) gradient[i] += part[i];
            }
        });
        double total = 0;
        for (double loss : group_loss_) total += loss;
        return total;
    }

    // The whole criterion: loss_sum plus decay * sum(w^2), with its gradient. The gradient is
    // rounded to T, as the model's own gradients are, so a float fit is the same whichever way its
    // gradient was summed.
    double operator()(const Samples<T>& x, TensorView<const T> y, double decay, std::span<double> gradient) {
        require<ArgumentError>(decay >= 0, "FullBatchObjective: expected decay >= 0, got ", decay);
        return add_decay(loss_sum(x, y, gradient), decay, gradient);
    }

    // Adds the decay term to a summed loss and its gradient (see operator()).
    double add_decay(double loss_sum, double decay, std::span<double> gradient) const {
        double total = loss_sum;
        std::size_t at = 0;
        for (const auto& p : net_.parameters()) {
            const T* w = p.value->data();
            for (std::size_t i = 0; i < p.value->size(); ++i, ++at) {
                const double wi = static_cast<double>(w[i]);
                total += decay * wi * wi;
                gradient[at] = static_cast<double>(static_cast<T>(gradient[at] + 2 * decay * wi));
            }
        }
        return total;
    }

private:
    // The models that evaluate chunks side by side: net_ and up to wanted - 1 copies, kept between
    // calls (their buffers are reused) and given net_'s current weights.
    std::size_t prepare_lanes(std::size_t wanted) {
        while (copies_.size() + 1 < wanted) copies_.push_back(std::make_unique<Sequential<T>>(net_.clone()));
        const std::size_t lanes = std::min(wanted, copies_.size() + 1);
        const auto params = net_.parameters();
        for (std::size_t r = 0; r + 1 < lanes; ++r) {
            const auto copy = copies_[r]->parameters();
            for (std::size_t k = 0; k < params.size(); ++k) *copy[k].value = *params[k].value;
        }
        return lanes;
    }
    Sequential<T>& lane(std::size_t l) { return l == 0 ? net_ : *copies_[l - 1]; }

    // Chunks [first, last) on `model`, one after the other: their summed loss, and the sum of their
    // gradients (in chunk order) written to `sum`.
    double sum_group(Sequential<T>& model, Tensor<T>& buffer, const Samples<T>& x, TensorView<const T> y,
                     std::size_t first, std::size_t last, double* sum) {
        const std::size_t n = x.dim(0);
        const auto params = model.parameters();
        double loss = 0;
        for (std::size_t c = first; c < last; ++c) {
            const std::size_t b = c * chunk_, e = std::min(n, b + chunk_);
            loss += model.compute_gradients(x.rows(b, e), buffer, y.rows(b, e), Reduction::Sum).loss_sum;
            double* to = sum;
            for (const auto& p : params) {
                const T* g = p.grad->data();
                const std::size_t size = p.grad->size();
                if (c == first) std::transform(g, g + size, to, [](T v) { return static_cast<double>(v); });
                else
                    for (std::size_t i = 0; i < size; ++i) to[i] += static_cast<double>(g[i]);
                to += size;
            }
        }
        return loss;
    }

    Sequential<T>& net_;
    std::size_t chunk_;
    std::vector<std::unique_ptr<Sequential<T>>> copies_;
    std::vector<Tensor<T>> buffers_;  // per lane: its chunk as T, when bytes must be converted
    std::vector<double> group_gradients_;  // per group of chunks: the sum of their gradients
    std::vector<double> group_loss_;       // and of their losses
};

}  // namespace loom
