#pragma once
// Optimizer: updates parameters from the gradients backward() left in them, one minibatch at a time.
// Optimizers are not templates (compile(loss, Adam(1e-3)) serves float and double models);
// OptimizerImpl forwards both element types to one templated step() of the concrete class.
// Per-parameter state (momentum, moments) is created on the first step and kept in the order the
// parameters are passed, which Sequential keeps fixed. OptimizerImpl also holds the learning rate
// and the count of updates made, which a schedule is a function of.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "loom/core/bytes.hpp"
#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"
#include "loom/layers/layer.hpp"
#include "loom/optim/learning_rate.hpp"

namespace loom {

class Optimizer {
public:
    virtual ~Optimizer() = default;
    virtual std::string name() const = 0;
    virtual std::unique_ptr<Optimizer> clone() const = 0;
    virtual void step(std::span<const Parameter<float>> params) = 0;
    virtual void step(std::span<const Parameter<double>> params) = 0;
    // Forget all per-parameter state (a new model, or training restarted from scratch).
    virtual void reset() = 0;
    // The rate the next update will use, and a new rate or schedule (ReduceLROnPlateau sets one).
    virtual double learning_rate() const = 0;
    virtual void set_learning_rate(LearningRate rate) = 0;
    // Per-parameter state, for checkpoints that resume training exactly.
    virtual void save_state(ByteWriter& out) const = 0;
    virtual void load_state(ByteReader& in) = 0;
};

namespace detail {

// One list of state tensors per element type; an optimizer instance only ever uses one of them.
template <class T>
using StateList = std::vector<Tensor<T>>;
using StatePair = std::tuple<StateList<float>, StateList<double>>;

// Makes `state` hold one zero tensor per parameter, of its size, unless it already does (state
// restored from a checkpoint is flat, hence sizes rather than shapes are compared).
template <class T>
void match_state(StateList<T>& state, std::span<const Parameter<T>> params) {
    bool matches = state.size() == params.size();
    for (std::size_t i = 0; matches && i < params.size(); ++i) matches = state[i].size() == params[i].value->size();
    if (matches) return;
    state.clear();
    for (const auto& p : params) state.emplace_back(p.value->shape());
}

template <class T>
void save_states(ByteWriter& out, const StateList<T>& list) {
    out.put(static_cast<std::uint32_t>(list.size()));
    for (const auto& t : list) {
        out.put(static_cast<std::uint64_t>(t.size()));
        out.raw(t.data(), t.size() * sizeof(T));
    }
}

template <class T>
void load_states(ByteReader& in, StateList<T>& list) {
    const auto count = in.get<std::uint32_t>();
    require<IoError>(count == list.size() || list.empty(), in.what(), ": optimizer state for ", count,
                     " parameters, but the model has ", list.size());
    // Each entry holds at least its 8-byte size: a count the data cannot hold is corrupt, not an allocation.
    require<IoError>(count <= in.remaining() / sizeof(std::uint64_t), in.what(), ": optimizer state for ", count,
                     " parameters is truncated");
    if (list.empty()) list.resize(count);
    for (auto& t : list) {
        const auto size = in.get<std::uint64_t>();
        require<IoError>(t.empty() || size == t.size(), in.what(), ": optimizer state of ", size,
                         " values where ", t.size(), " were expected");
        require<IoError>(size <= in.remaining() / sizeof(T), in.what(), ": truncated optimizer state");
        if (t.empty()) t.resize({static_cast<std::size_t>(size)});
        in.raw(t.data(), t.size() * sizeof(T));
    }
}

}  // namespace detail

template <class Derived>
class OptimizerImpl : public Optimizer {
public:
    explicit OptimizerImpl(LearningRate learning_rate) : learning_rate_(std::move(learning_rate)) {}

    std::unique_ptr<Optimizer> clone() const override { return std::make_unique<Derived>(self()); }
    void step(std::span<const Parameter<float>> params) override { self().update(params); }
    void step(std::span<const Parameter<double>> params) override { self().update(params); }

    // The rate the next update will use.
    double learning_rate() const override { return learning_rate_.at(steps_); }
    void set_learning_rate(LearningRate rate) override { learning_rate_ = std::move(rate); }
    std::uint64_t steps() const { return steps_; }

protected:
    LearningRate learning_rate_;
    std::uint64_t steps_ = 0;  // updates made; update() counts them, reset() and load_state() set them

private:
    Derived& self() { return static_cast<Derived&>(*this); }
    const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace loom
