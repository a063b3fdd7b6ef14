#pragma once
// loom::mpi::fit_full_batch: R nnet's criterion (loom::fit_full_batch) with the samples split over
// the ranks. Each evaluation, every rank sums the loss and its gradient over its contiguous share of
// the samples (FullBatchObjective::loss_sum, in double), one MPI_Allreduce (in buckets) adds the
// shares up, and every rank adds the decay term to the same numbers: so L-BFGS, fed identical values,
// takes identical steps on every rank, and no weights need to travel after the start. Only rank 0
// prints the nnet-style log; on_iteration is called on every rank.
//
// Against one process the sums are only grouped differently (per rank, then across ranks), so the
// trace is the same to rounding; with one rank it is bitwise loom::fit_full_batch's.
#include <algorithm>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"
#include "loom/distributed/abort_on_failure.hpp"
#include "loom/distributed/agreement.hpp"
#include "loom/distributed/bucketed_sum.hpp"
#include "loom/distributed/communicator.hpp"
#include "loom/distributed/model_sync.hpp"
#include "loom/distributed/shard.hpp"
#include "loom/model/full_batch_fit.hpp"
#include "loom/model/full_batch_objective.hpp"

namespace loom::mpi {

namespace detail {

template <class T>
LbfgsResult fit_full_batch_agreed(const Communicator& comm, Sequential<T>& net, const Samples<T>& x, TensorView<const T> y,
                                  const FullBatchOptions& o, ReduceTiming* timing) {
    broadcast_weights(comm, net);
    AgreedFailure agreed;
    return abort_on_failure(
        comm, "loom::mpi::fit_full_batch",
        [&] {
            const auto [begin, end] = shard(x.dim(0), comm.rank(), comm.size());
            // Each rank orders its own share (loom::detail::FullBatchSamples): ordering the whole set
            // first would give one rank the narrow images, whose products skip the most.
            const loom::detail::FullBatchSamples<T> share(x.rows(begin, end), y.rows(begin, end));
            const auto& xs = share.x();
            const auto ys = share.y();
            FullBatchObjective<T> objective(net, o.chunk);
            std::vector<double> sums(net.param_count() + 1);
            // The user's on_iteration may fail on one rank alone.
            FullBatchOptions options = o;
            options.on_iteration = [&](std::size_t iteration, double f) {
                agreed.mark(false);
                if (o.on_iteration) o.on_iteration(iteration, f);
                agreed.mark();
            };
            const auto criterion = [&](std::span<double> gradient) {
                agreed.mark(false);
                const std::span<double> g(sums.data(), gradient.size());
                sums.back() = objective.loss_sum(xs, ys, g);
                sum_in_buckets(comm, std::span<double>(sums), timing);
                agreed.mark();  // L-BFGS now works on numbers every rank shares
                std::copy(g.begin(), g.end(), gradient.begin());
                return objective.add_decay(sums.back(), o.decay, gradient);
            };
            return loom::detail::minimize_full_batch(net, options, criterion, comm.is_primary());
        },
        &agreed);
}

}  // namespace detail

// Fits `net` to (x, y) like loom::fit_full_batch, every rank passing the same full data set.
template <class T>
LbfgsResult fit_full_batch(const Communicator& comm, Sequential<T>& net, const Samples<std::type_identity_t<T>>& x,
                           TensorView<const std::type_identity_t<T>> y, const FullBatchOptions& o = {},
                           ReduceTiming* timing = nullptr) {
    Agreement agreement("loom::mpi::fit_full_batch");
    agreement.add("samples x", x).add("targets y", y);
    add_model_facts(agreement, net);
    agreement.add("decay", o.decay).add("maximum iterations", static_cast<std::uint64_t>(o.max_iterations))
        .add("abstol", o.abstol).add("reltol", o.reltol).add("L-BFGS history", static_cast<std::uint64_t>(o.history))
        .add("chunk size", static_cast<std::uint64_t>(o.chunk));
    agreement.check(comm);
    // The same on every rank from here: checks throw alike everywhere.
    loom::detail::check_full_batch_options(net, o);
    require<ArgumentError>(x.rank() >= 1 && x.dim(0) >= 1, "fit_full_batch: no training samples");
    return detail::fit_full_batch_agreed<T>(comm, net, x, y, o, timing);
}

// The same with class labels, one-hot encoded for a model with flat outputs.
template <class T>
LbfgsResult fit_full_batch(const Communicator& comm, Sequential<T>& net, const Samples<std::type_identity_t<T>>& x,
                           std::span<const int> labels, const FullBatchOptions& o = {}, ReduceTiming* timing = nullptr) {
    // The labels' agreement first: converting them may throw, and must throw on every rank alike.
    Agreement agreement("loom::mpi::fit_full_batch");
    agreement.add("samples x", x).add("labels", labels);
    add_model_facts(agreement, net);
    agreement.check(comm);
    const Tensor<T> y = loom::detail::full_batch_targets<T>(net, x, labels);
    return fit_full_batch(comm, net, x, y.view(), o, timing);
}

}  // namespace loom::mpi
