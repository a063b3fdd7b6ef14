#pragma once
// LearningRate: what an optimizer's learning-rate argument accepts, as in Keras: a number, or a
// schedule that maps the update count (0 for the first update) to a rate. Schedules are pure
// functions of that count, and optimizers save the count in checkpoints, so a resumed run follows
// the schedule exactly.
//
//   Adam(1e-3)                                        constant
//   Adam(CosineDecay(1e-3, epochs * steps_per_epoch)) from 1e-3 down to 0 along half a cosine
//   SGD(ExponentialDecay(0.1, 1000, 0.5), 0.9)        halved every 1,000 updates
//   Adam([](std::uint64_t step) { return step < 500 ? 1e-3 : 1e-4; })   any callable
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <numbers>
#include <type_traits>
#include <utility>

#include "loom/core/error.hpp"

namespace loom {

class LearningRate {
public:
    // Implicit, so that Adam(1e-3) reads as it does in Keras.
    LearningRate(double constant) : constant_(constant) {
        require<ArgumentError>(std::isfinite(constant) && constant > 0, "expected a learning rate > 0, got ", constant);
    }

    template <class Schedule>
        requires std::is_invocable_r_v<double, const Schedule&, std::uint64_t> &&
                 (!std::convertible_to<Schedule, double>)
    LearningRate(Schedule schedule) : schedule_(std::move(schedule)) {}

    // The rate of update number `step` (0-based). A schedule may reach 0 (the end of a cosine decay);
    // anything negative or not finite is a bug in the schedule and throws.
    double at(std::uint64_t step) const {
        if (!schedule_) return constant_;
        const double rate = schedule_(step);
        require<ArgumentError>(std::isfinite(rate) && rate >= 0, "learning-rate schedule: expected a rate >= 0 at step ",
                               step, ", got ", rate);
        return rate;
    }

private:
    double constant_ = 0;
    std::function<double(std::uint64_t)> schedule_;
};

namespace detail {

// The two arguments every decay schedule starts with.
inline void check_decay(const char* schedule, double initial, std::uint64_t decay_steps) {
    require<ArgumentError>(std::isfinite(initial) && initial > 0, schedule, ": expected an initial rate > 0, got ",
                           initial);
    require<ArgumentError>(decay_steps >= 1, schedule, ": expected decay_steps >= 1, got ", decay_steps);
}

}  // namespace detail

// Keras' CosineDecay: from `initial` at step 0 to initial * alpha at `decay_steps`, then flat.
class CosineDecay {
public:
    CosineDecay(double initial, std::uint64_t decay_steps, double alpha = 0)
        : initial_(initial), decay_steps_(decay_steps), alpha_(alpha) {
        detail::check_decay("CosineDecay", initial, decay_steps);
        require<ArgumentError>(alpha >= 0 && alpha <= 1, "CosineDecay: expected alpha in [0, 1], got ", alpha);
    }

    double operator()(std::uint64_t step) const {
        const double progress = static_cast<double>(std::min(step, decay_steps_)) / static_cast<double>(decay_steps_);
        const double cosine = 0.5 * (1 + std::cos(std::numbers::pi * progress));
        return initial_ * ((1 - alpha_) * cosine + alpha_);
    }

private:
    double initial_;
    std::uint64_t decay_steps_;
    double alpha_;
};

// Keras' ExponentialDecay: initial * rate^(step / decay_steps), with the exponent rounded down when
// `staircase` (a step change every decay_steps updates).
class ExponentialDecay {
public:
    ExponentialDecay(double initial, std::uint64_t decay_steps, double rate, bool staircase = false)
        : initial_(initial), decay_steps_(decay_steps), rate_(rate), staircase_(staircase) {
        detail::check_decay("ExponentialDecay", initial, decay_steps);
        require<ArgumentError>(rate > 0 && rate <= 1, "ExponentialDecay: expected a decay rate in (0, 1], got ", rate);
    }

    double operator()(std::uint64_t step) const {
        const double periods = staircase_ ? static_cast<double>(step / decay_steps_)
                                          : static_cast<double>(step) / static_cast<double>(decay_steps_);
        return initial_ * std::pow(rate_, periods);
    }

private:
    double initial_;
    std::uint64_t decay_steps_;
    double rate_;
    bool staircase_;
};

}  // namespace loom
