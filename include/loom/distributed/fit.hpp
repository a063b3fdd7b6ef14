#pragma once
// loom::mpi::fit: data-parallel minibatch training, Sequential::fit spread over the ranks of a
// communicator. Every rank passes the same full data set and the same compiled model (architecture,
// loss, optimizer); rank 0's initial weights are broadcast, FitOptions::batch_size is the *global*
// batch, and each rank computes the gradient of its share of every batch (DataParallelStep). The loop
// around it is Sequential::fit's own (training_loop.hpp): shuffling by seed and epoch, validation
// (scored in parallel), callbacks, checkpoints. Only rank 0 prints and writes files (callbacks ask
// TrainingControl::is_primary()); resume reads the checkpoint on every rank, so it needs the same
// number of ranks and a file every rank can read. A job of one rank is Sequential::fit, bit for bit.
// `timing`, when given, collects the time spent adding up gradients.
#include <cstdint>
#include <type_traits>
#include <vector>

#include "loom/core/tensor.hpp"
#include "loom/data/samples.hpp"
#include "loom/distributed/abort_on_failure.hpp"
#include "loom/distributed/agreement.hpp"
#include "loom/distributed/communicator.hpp"
#include "loom/distributed/data_parallel_step.hpp"
#include "loom/distributed/model_sync.hpp"
#include "loom/model/sequential.hpp"

namespace loom::mpi {

namespace detail {

// Checks that the ranks agree on the data (already in `agreement`), the model and the options, gives
// every rank rank 0's weights, then runs train(step) inside the fault boundary (step null: one rank).
template <class T, class Train>
History data_parallel(const Communicator& comm, Sequential<T>& net, Agreement& agreement, const FitOptions& o,
                      ReduceTiming* timing, const Train& train) {
    add_model_facts(agreement, net);
    agreement.add("epochs", static_cast<std::uint64_t>(o.epochs))
        .add("batch size", static_cast<std::uint64_t>(o.batch_size))
        .add("seed", static_cast<std::uint64_t>(o.seed))
        .add("shuffle", static_cast<std::uint64_t>(o.shuffle))
        .add("validation split", o.validation_split)
        .add("checkpoint interval", static_cast<std::uint64_t>(o.checkpoint_every))
        .add("resume", static_cast<std::uint64_t>(o.resume));
    agreement.check(comm);
    broadcast_weights(comm, net);
    DataParallelStep<T> step(comm, timing);
    // A job of one trains exactly as Sequential::fit (its step gives the mean gradient in T directly).
    return abort_on_failure(comm, "loom::mpi::fit", [&] { return train(comm.size() == 1 ? nullptr : &step); }, &step.agreed());
}

}  // namespace detail

// With class labels (one-hot encoded for the model's outputs), like Sequential::fit.
template <class T>
History fit(const Communicator& comm, Sequential<T>& net, const Samples<std::type_identity_t<T>>& x, const std::vector<int>& labels,
            const FitOptions& o = {}, const std::vector<CallbackRef>& callbacks = {}, ReduceTiming* timing = nullptr) {
    Agreement agreement("loom::mpi::fit");
    agreement.add("samples x", x).add("labels", std::span<const int>(labels));
    return detail::data_parallel(comm, net, agreement, o, timing, [&](TrainStep<T>* step) { return net.fit(x, labels, o, callbacks, step); });
}

// With targets shaped like the model's outputs.
template <class T>
History fit(const Communicator& comm, Sequential<T>& net, const Samples<std::type_identity_t<T>>& x,
            TensorView<const std::type_identity_t<T>> y, const FitOptions& o = {}, const std::vector<CallbackRef>& callbacks = {}, ReduceTiming* timing = nullptr) {
    Agreement agreement("loom::mpi::fit");
    agreement.add("samples x", x).add("targets y", y);
    return detail::data_parallel(comm, net, agreement, o, timing, [&](TrainStep<T>* step) { return net.fit(x, y, o, callbacks, step); });
}

// With explicit validation data (Keras' validation_data).
template <class T>
History fit(const Communicator& comm, Sequential<T>& net, const Samples<std::type_identity_t<T>>& x,
            TensorView<const std::type_identity_t<T>> y, const ValidationData<std::type_identity_t<T>>& validation,
            const FitOptions& o = {}, const std::vector<CallbackRef>& callbacks = {}, ReduceTiming* timing = nullptr) {
    Agreement agreement("loom::mpi::fit");
    agreement.add("samples x", x).add("targets y", y).add("validation x", validation.x).add("validation y", validation.y);
    return detail::data_parallel(comm, net, agreement, o, timing,
                                 [&](TrainStep<T>* step) { return net.fit(x, y, validation, o, callbacks, step); });
}

}  // namespace loom::mpi
