#pragma once
// Adam (Kingma & Ba) with Keras' defaults: beta1 0.9, beta2 0.999, epsilon 1e-7, and the bias
// correction folded into the step size. The learning rate may be a schedule (learning_rate.hpp).
#include <cmath>
#include <cstdint>
#include <utility>

#include "loom/core/key_function.hpp"
#include "loom/core/parallel.hpp"
#include "loom/kernels/isa_dispatch.hpp"
#include "loom/optim/optimizer.hpp"

namespace loom {

class Adam : public OptimizerImpl<Adam> {
public:
    explicit Adam(LearningRate learning_rate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7)
        : OptimizerImpl(std::move(learning_rate)), beta1_(beta1), beta2_(beta2), eps_(epsilon) {
        require<ArgumentError>(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
                               "Adam: expected beta1 and beta2 in [0, 1), got ", beta1, " and ", beta2);
        require<ArgumentError>(epsilon > 0, "Adam: expected epsilon > 0, got ", epsilon);
    }

#if LOOM_KEY_FUNCTION_OUT_OF_LINE
    std::string name() const override;  // the key function: core/key_function.hpp
#else
    std::string name() const override { return "Adam"; }
#endif

    template <class T>
    void update(std::span<const Parameter<T>> params) {
        auto& m = std::get<detail::StateList<T>>(m_);
        auto& v = std::get<detail::StateList<T>>(v_);
        detail::match_state(m, params);
        detail::match_state(v, params);
        const double lr = learning_rate();
        const double td = static_cast<double>(++steps_);
        const T step = static_cast<T>(lr * std::sqrt(1 - std::pow(beta2_, td)) / (1 - std::pow(beta1_, td)));
        const T b1 = static_cast<T>(beta1_), b2 = static_cast<T>(beta2_), eps = static_cast<T>(eps_);
        const Isa isa = active_isa();
        for (std::size_t k = 0; k < params.size(); ++k) {
            T* w = params[k].value->data();
            const T* g = params[k].grad->data();
            T* mk = m[k].data();
            T* vk = v[k].data();
            parallel_for(m[k].size(), 1 << 16, [&](std::size_t b, std::size_t e) {
                // Compiled for the CPU's widest vectors: the square root and division dominate.
                kernels::run_for_isa(isa, [&] {
#pragma omp simd
                    for (std::size_t i = b; i < e; ++i) {
                        mk[i] = b1 * mk[i] + (T(1) - b1) * g[i];
                        vk[i] = b2 * vk[i] + (T(1) - b2) * g[i] * g[i];
                        w[i] -= step * mk[i] / (std::sqrt(vk[i]) + eps);
                    }
                });
            });
        }
    }

    void reset() override {
        m_ = {};
        v_ = {};
        steps_ = 0;
    }
    void save_state(ByteWriter& out) const override {
        out.put(steps_);
        detail::save_states(out, std::get<0>(m_));
        detail::save_states(out, std::get<0>(v_));
        detail::save_states(out, std::get<1>(m_));
        detail::save_states(out, std::get<1>(v_));
    }
    void load_state(ByteReader& in) override {
        steps_ = in.get<std::uint64_t>();
        detail::load_states(in, std::get<0>(m_));
        detail::load_states(in, std::get<0>(v_));
        detail::load_states(in, std::get<1>(m_));
        detail::load_states(in, std::get<1>(v_));
    }

private:
    double beta1_, beta2_, eps_;
    detail::StatePair m_, v_;
};

#ifdef LOOM_INSTANTIATE_TEMPLATES
std::string Adam::name() const { return "Adam"; }
#endif

}  // namespace loom
