#pragma once
// Loss: compares a batch of predictions (N, ...) with targets of the same shape.
// value() returns the loss summed over the samples; gradient() writes scale * d(sum)/d(pred).
// Sequential uses scale = 1/N for the Keras-style batch mean and scale = 1 for full-batch sums
// (R nnet's fitting criterion). Losses are not templates, so `compile(CrossEntropy{}, ...)` works
// for float and double models alike; LossImpl forwards both to one templated implementation.
#include <memory>
#include <string>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"

namespace loom {

class Loss {
public:
    virtual ~Loss() = default;
    virtual std::string name() const = 0;
    virtual std::unique_ptr<Loss> clone() const = 0;

    virtual double value(TensorView<const float> pred, TensorView<const float> target) const = 0;
    virtual double value(TensorView<const double> pred, TensorView<const double> target) const = 0;
    virtual void gradient(TensorView<const float> pred, TensorView<const float> target, TensorView<float> grad,
                          float scale) const = 0;
    virtual void gradient(TensorView<const double> pred, TensorView<const double> target, TensorView<double> grad,
                          double scale) const = 0;

protected:
    static void check_shapes(const std::string& loss, const Shape& pred, const Shape& target) {
        require<ShapeError>(pred == target, loss, ": predictions of shape ", pred, " but targets of shape ", target);
    }
};

template <class Derived>
class LossImpl : public Loss {
public:
    std::unique_ptr<Loss> clone() const override { return std::make_unique<Derived>(self()); }
    double value(TensorView<const float> p, TensorView<const float> t) const override { return checked_value(p, t); }
    double value(TensorView<const double> p, TensorView<const double> t) const override { return checked_value(p, t); }
    void gradient(TensorView<const float> p, TensorView<const float> t, TensorView<float> g, float s) const override {
        checked_gradient(p, t, g, s);
    }
    void gradient(TensorView<const double> p, TensorView<const double> t, TensorView<double> g,
                  double s) const override {
        checked_gradient(p, t, g, s);
    }

private:
    const Derived& self() const { return static_cast<const Derived&>(*this); }
    template <class T>
    double checked_value(TensorView<const T> p, TensorView<const T> t) const {
        check_shapes(name(), p.shape(), t.shape());
        return self().sum(p, t);
    }
    template <class T>
    void checked_gradient(TensorView<const T> p, TensorView<const T> t, TensorView<T> g, T scale) const {
        check_shapes(name(), p.shape(), t.shape());
        check_shapes(name(), p.shape(), g.shape());
        self().grad(p, t, g, scale);
    }
};

}  // namespace loom
