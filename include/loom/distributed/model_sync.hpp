#pragma once
// What the ranks of a distributed fit must share about the model before they start: the same
// architecture (checked through its shapes and parameter counts) and the same starting weights
// (rank 0's, broadcast, so that a model built with a per-rank seed still starts everywhere alike).
#include <cstdint>
#include <span>

#include "loom/distributed/agreement.hpp"
#include "loom/distributed/communicator.hpp"
#include "loom/model/sequential.hpp"

namespace loom::mpi {

// Adds the model's facts to an agreement: input and output shapes, compiled or not, parameter
// tensors and values.
template <class T>
void add_model_facts(Agreement& agreement, const Sequential<T>& net) {
    agreement.add("model input", net.input_shape()).add("model output", net.output_shape());
    agreement.add("compiled state of the model", static_cast<std::uint64_t>(net.compiled()));
    agreement.add("number of parameter tensors", static_cast<std::uint64_t>(net.parameters().size()));
    agreement.add("number of parameters", static_cast<std::uint64_t>(net.param_count()));
}

// Collective: every rank's weights become rank 0's. The architectures must agree (add_model_facts).
template <class T>
void broadcast_weights(const Communicator& comm, Sequential<T>& net) {
    for (const auto& p : net.parameters())
        comm.broadcast(std::span<unsigned char>(reinterpret_cast<unsigned char*>(p.value->data()), p.value->size() * sizeof(T)));
}

}  // namespace loom::mpi
