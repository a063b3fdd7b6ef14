#pragma once
// DataParallelStep<T>: the TrainStep of loom::mpi::fit. Every rank holds the same weights and sees
// the same global batch (the loop shuffles by seed and epoch alike on every rank); each rank
//   1. takes its contiguous share of the batch's indices (shard.hpp; possibly none),
//   2. computes the gradient of the *summed* loss over that share (Reduction::Sum),
//   3. adds the gradients of all ranks with MPI_Allreduce in fixed-size buckets in parameter order
//      (sum_in_buckets: the same calls on every rank, whatever its share), then the batch's loss sum,
//      correct count and sample count (in double, exact),
//   4. divides by the global batch size, which gives the gradient of the batch's mean loss, and
//   5. lets the optimizer step, the same step on every rank, so the weights stay identical.
// The gradients are summed in T, the precision the layers compute them in: double would double the
// bytes on the network and add two conversions per value, for little: the sum is rounded to T
// for the optimizer anyway. The order of the additions differs from one process, so the models are
// close (float rounding, measured in docs/distributed.md), not bitwise equal.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/preprocess.hpp"
#include "loom/data/samples.hpp"
#include "loom/distributed/abort_on_failure.hpp"
#include "loom/distributed/bucketed_sum.hpp"
#include "loom/distributed/communicator.hpp"
#include "loom/distributed/shard.hpp"
#include "loom/model/sequential.hpp"
#include "loom/model/training_loop.hpp"

namespace loom::mpi {

template <class T>
class DataParallelStep final : public TrainStep<T> {
public:
    // `timing`, when given, collects the time spent in the reductions.
    explicit DataParallelStep(Communicator comm, ReduceTiming* timing = nullptr) : comm_(comm), timing_(timing) {}

    BatchResult train(Sequential<T>& net, const Samples<T>& x, TensorView<const T> y,
                      std::span<const std::size_t> batch) override {
        const auto [begin, end] = shard(batch.size(), comm_.rank(), comm_.size());
        const auto params = net.parameters();
        gradient_.resize(net.param_count());
        double sums[3] = {0, 0, 0};  // loss, correct, samples
        if (end > begin) {
            const auto mine = batch.subspan(begin, end - begin);
            x_.resize(net.input_shape().with_batch(mine.size()));
            y_.resize(net.output_shape().with_batch(mine.size()));
            x.gather(mine, x_.view());
            gather_rows<T>(y, mine, y_);
            const BatchResult r = net.compute_gradients(x_, y_, Reduction::Sum);
            T* at = gradient_.data();
            for (const auto& p : params) at = std::copy(p.grad->begin(), p.grad->end(), at);
            sums[0] = r.loss_sum;
            sums[1] = static_cast<double>(r.correct);
            sums[2] = static_cast<double>(r.samples);
        } else {
            std::fill(gradient_.begin(), gradient_.end(), T(0));  // a rank without samples adds nothing
        }

        agreed_.mark();  // from here on every rank holds the same numbers
        sum_in_buckets(comm_, std::span<T>(gradient_), timing_);
        comm_.sum(sums);
        const BatchResult total{sums[0], static_cast<std::size_t>(sums[1]), static_cast<std::size_t>(sums[2])};
        require<NumericError>(std::isfinite(total.loss_sum), "the loss became ", total.loss_sum,
                              " (weights are kept from before this batch; try a lower learning rate)");
        agreed_.mark(false);
        const T scale = T(1) / static_cast<T>(batch.size());
        const T* at = gradient_.data();
        for (const auto& p : params)
            for (T& g : *p.grad) g = *at++ * scale;
        net.optimizer().step(params);
        return total;
    }

    // Each rank scores its share of the data; the sums are added up.
    BatchResult evaluate(Sequential<T>& net, const Samples<T>& x, TensorView<const T> y, std::size_t batch_size) override {
        const auto [begin, end] = shard(x.dim(0), comm_.rank(), comm_.size());
        BatchResult mine;
        if (end > begin) mine = net.evaluate_sums(x.rows(begin, end), y.rows(begin, end), batch_size);
        double sums[3] = {mine.loss_sum, static_cast<double>(mine.correct), static_cast<double>(mine.samples)};
        comm_.sum(sums);
        return {sums[0], static_cast<std::size_t>(sums[1]), static_cast<std::size_t>(sums[2])};
    }

    bool is_primary() const override { return comm_.is_primary(); }

    // Whether an error thrown now is thrown on every rank (abort_on_failure.hpp).
    const AgreedFailure& agreed() const { return agreed_; }

private:
    Communicator comm_;
    ReduceTiming* timing_;
    std::vector<T> gradient_;  // this rank's gradient, then the sum over ranks
    Tensor<T> x_, y_;
    AgreedFailure agreed_;
};

}  // namespace loom::mpi
