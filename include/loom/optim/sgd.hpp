#pragma once
// Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay:
//   v <- momentum v - lr (g + decay w);   w <- w + v           (plain momentum)
//   w <- w + momentum v - lr (g + decay w)                     (Nesterov, after updating v)
// The learning rate may be a schedule (learning_rate.hpp).
#include <cstdint>
#include <utility>

#include "loom/core/key_function.hpp"
#include "loom/core/parallel.hpp"
#include "loom/optim/optimizer.hpp"

namespace loom {

class SGD : public OptimizerImpl<SGD> {
public:
    explicit SGD(LearningRate learning_rate = 0.01, double momentum = 0.0, bool nesterov = false,
                 double weight_decay = 0.0)
        : OptimizerImpl(std::move(learning_rate)), momentum_(momentum), nesterov_(nesterov), decay_(weight_decay) {
        require<ArgumentError>(momentum >= 0 && momentum < 1, "SGD: expected momentum in [0, 1), got ", momentum);
        require<ArgumentError>(weight_decay >= 0, "SGD: expected weight decay >= 0, got ", weight_decay);
    }

#if LOOM_KEY_FUNCTION_OUT_OF_LINE
    std::string name() const override;  // the key function: core/key_function.hpp
#else
    std::string name() const override { return "SGD"; }
#endif

    template <class T>
    void update(std::span<const Parameter<T>> params) {
        auto& velocity = std::get<detail::StateList<T>>(velocity_);
        detail::match_state(velocity, params);
        const T lr = static_cast<T>(learning_rate()), mu = static_cast<T>(momentum_), wd = static_cast<T>(decay_);
        for (std::size_t k = 0; k < params.size(); ++k) {
            T* w = params[k].value->data();
            const T* g = params[k].grad->data();
            T* v = velocity[k].data();
            parallel_for(velocity[k].size(), 1 << 16, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) {
                    const T step = g[i] + wd * w[i];
                    v[i] = mu * v[i] - lr * step;
                    w[i] += nesterov_ ? mu * v[i] - lr * step : v[i];
                }
            });
        }
        ++steps_;
    }

    void reset() override {
        velocity_ = {};
        steps_ = 0;
    }
    // The update count comes last: checkpoints written before SGD counted its updates end without
    // it and resume at count 0, which is exact for the constant rates they could only have used.
    void save_state(ByteWriter& out) const override {
        detail::save_states(out, std::get<0>(velocity_));
        detail::save_states(out, std::get<1>(velocity_));
        out.put(steps_);
    }
    void load_state(ByteReader& in) override {
        detail::load_states(in, std::get<0>(velocity_));
        detail::load_states(in, std::get<1>(velocity_));
        steps_ = in.remaining() == 0 ? 0 : in.get<std::uint64_t>();
    }

private:
    double momentum_;
    bool nesterov_;
    double decay_;
    detail::StatePair velocity_;
};

#ifdef LOOM_INSTANTIATE_TEMPLATES
std::string SGD::name() const { return "SGD"; }
#endif

}  // namespace loom
