#pragma once
// Dropout (inverted): in training, zeroes each value with probability `rate` and scales the rest by
// 1 / (1 - rate), so inference is the identity. The mask comes from the layer's own generator, seeded
// when the model is built, which keeps training reproducible.
#include <array>
#include <cstdint>

#include "loom/layers/layer.hpp"

namespace loom {

template <class T>
class Dropout : public Layer<T> {
public:
    explicit Dropout(double rate) : rate_(rate) {
        require<ArgumentError>(rate >= 0 && rate < 1, "Dropout: expected a rate in [0, 1), got ", rate);
    }

    std::string type() const override { return "Dropout"; }

    std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<Dropout>(*this); }
    double rate() const { return rate_; }
    Rng& generator() { return rng_; }

    TensorView<const T> forward(TensorView<const T> x, bool training) override {
        this->check_input(x);
        training_ = training && rate_ > 0;
        batch_ = x.dim(0);
        if (!training_) return x;
        mask_.resize(x.shape());
        y_.resize(x.shape());
        const T keep_scale = T(1) / T(1 - rate_);
        for (std::size_t i = 0; i < x.size(); ++i) {
            mask_[i] = rng_.uniform() >= rate_ ? keep_scale : T(0);
            y_[i] = x[i] * mask_[i];
        }
        return y_.view();
    }

    TensorView<const T> backward(TensorView<const T> g) override {
        this->check_grad(g, batch_);
        if (!training_) return g;
        dx_.resize(g.shape());
        for (std::size_t i = 0; i < g.size(); ++i) dx_[i] = g[i] * mask_[i];
        return dx_.view();
    }

    LayerConfig config() const override { return LayerConfig{}.set("rate", rate_); }
    void save_state(ByteWriter& out) const override {
        for (auto word : rng_.state()) out.put(word);
    }
    void load_state(ByteReader& in) override {
        std::array<std::uint64_t, 4> state{};
        for (auto& word : state) word = in.get<std::uint64_t>();
        rng_.set_state(state);
    }
    static std::unique_ptr<Layer<T>> from_config(const LayerConfig& c) { return std::make_unique<Dropout>(c.real("rate")); }

protected:
    Shape do_build(const Shape& input, Rng& rng) override {
        rng_.reseed(rng());
        return input;
    }

private:
    double rate_;
    bool training_ = false;
    std::size_t batch_ = 0;
    Rng rng_;
    Tensor<T> mask_, y_, dx_;
};

}  // namespace loom
