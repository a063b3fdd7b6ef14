#pragma once
// fit_full_batch: trains a Sequential model the way R's nnet does, by quasi-Newton minimisation of
// one deterministic criterion over the whole training set,
//     sum over samples of the loss + decay * (sum of squares of every weight and bias),
// instead of by minibatch gradient steps. The parameters are copied into one flat double vector for
// L-BFGS and back into the model for every evaluation (FullBatchObjective), so any compiled model
// works and the layers stay in their own element type.
#include <cmath>
#include <cstddef>
#include <functional>
#include <iomanip>
#include <ostream>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/preprocess.hpp"
#include "loom/data/samples.hpp"
#include "loom/data/zero_pattern_order.hpp"
#include "loom/model/full_batch_objective.hpp"
#include "loom/model/sequential.hpp"
#include "loom/optim/lbfgs.hpp"

namespace loom {

struct FullBatchOptions {
    double decay = 0;                  // nnet's decay: the weight of the sum of squared parameters
    std::size_t max_iterations = 100;  // nnet's maxit (its default is 100; the experiment uses 300)
    double abstol = 1e-4;              // nnet's abstol: stop when the criterion falls below it
    double reltol = 1e-8;              // nnet's reltol: stop when an iteration gains less, relatively
    std::size_t history = 10;          // L-BFGS memory (pairs)
    std::size_t chunk = detail::default_full_batch_chunk;  // samples per forward/backward pass
    // Progress, nnet style ("initial  value ...", "iter  10 value ...", "final  value ..."), every
    // report_every iterations; nothing when null.
    std::ostream* log = nullptr;
    std::size_t report_every = 10;
    // Called after every iteration with its number and the criterion.
    std::function<void(std::size_t iteration, double criterion)> on_iteration;
};

namespace detail {

template <class T>
void pack_parameters(std::span<const Parameter<T>> params, std::span<double> flat) {
    std::size_t at = 0;
    for (const auto& p : params)
        for (const T v : *p.value) flat[at++] = static_cast<double>(v);
}

template <class T>
void unpack_parameters(std::span<const double> flat, std::span<const Parameter<T>> params) {
    std::size_t at = 0;
    for (const auto& p : params)
        for (auto& v : *p.value) v = static_cast<T>(flat[at++]);
}

// L-BFGS over every parameter of `net`, from its current weights, on `criterion(gradient)`, which
// returns the criterion at the weights currently in the model and writes its gradient. The options'
// log gets nnet's progress lines when `report` is set. Shared by fit_full_batch and its MPI twin,
// whose criterion adds up the ranks' parts.
template <class T, class Criterion>
LbfgsResult minimize_full_batch(Sequential<T>& net, const FullBatchOptions& o, Criterion&& criterion, bool report = true) {
    const auto params = net.parameters();
    std::vector<double> w(net.param_count());
    pack_parameters<T>(params, w);

    LbfgsOptions lo;
    lo.history = o.history;
    lo.max_iterations = o.max_iterations;
    lo.abstol = o.abstol;
    lo.reltol = o.reltol;
    // The criterion is evaluated from weights rounded to T and summed over many samples: for float
    // models its rounding noise is far above double's.
    if constexpr (std::is_same_v<T, float>) lo.value_noise = 1e-9;

    std::ostream* log = report ? o.log : nullptr;
    const auto print = [&](const char* what, double f) {
        *log << what << std::fixed << std::setprecision(6) << f << std::defaultfloat << '\n' << std::flush;
    };
    bool first = true;
    const auto objective = [&](std::span<const double> point, std::span<double> g) {
        unpack_parameters<T>(point, params);
        const double f = criterion(g);
        if (first && log) print("initial  value ", f);
        first = false;
        return f;
    };
    const auto on_iteration = [&](std::size_t iteration, double f) {
        if (log && o.report_every && iteration % o.report_every == 0) {
            *log << "iter " << std::setw(4) << iteration << ' ';
            print("value ", f);
        }
        if (o.on_iteration) o.on_iteration(iteration, f);
    };
    const LbfgsResult result = LBFGS(lo).minimize(objective, w, on_iteration);
    // The last evaluation may have been a rejected trial point: put the accepted weights back.
    unpack_parameters<T>(w, params);
    if (log) {
        print("final  value ", result.f);
        *log << (result.stop == LbfgsStop::MaxIterations ? "stopped after " + std::to_string(result.iterations) + " iterations"
                                                          : to_string(result.stop))
             << '\n' << std::flush;
    }
    return result;
}

template <class T>
void check_full_batch_options(const Sequential<T>& net, const FullBatchOptions& o) {
    require(net.compiled(), "fit_full_batch: compile the model first (its loss is the criterion)");
    require<ArgumentError>(o.decay >= 0 && std::isfinite(o.decay), "fit_full_batch: expected decay >= 0, got ", o.decay);
    require<ArgumentError>(o.chunk >= 1, "fit_full_batch: chunk size must be at least 1");
}

// One-hot targets for class labels, for a model with flat outputs.
template <class T>
Tensor<T> full_batch_targets(const Sequential<T>& net, const Samples<T>& x, std::span<const int> labels) {
    require<ShapeError>(net.output_shape().rank() == 1, "fit_full_batch: class labels need a model with flat outputs, this one outputs ",
                        net.output_shape());
    require<ShapeError>(x.rank() >= 1 && labels.size() == x.dim(0), "fit_full_batch: ", x.rank() ? x.dim(0) : 0,
                        " samples but ", labels.size(), " labels");
    return one_hot<T>(labels, net.output_shape()[0]);
}

// A full-batch fit's samples and targets: in zero_pattern_order when the samples are bytes, as they
// are, viewed, otherwise. The criterion is a sum over the samples, so their order changes only its
// rounding, and in that order the first layer's products skip whole k steps of zero pixels
// (kernels/gemm_zero_steps.hpp): R nnet's fit, AVX2, 63 -> 56 ms per evaluation. The price is a copy
// of the bytes and targets for the fit's duration (R nnet's 60,000 images: 47 + 2.4 MB).
template <class T>
class FullBatchSamples {
public:
    FullBatchSamples(const Samples<T>& x, TensorView<const T> y) : x_(x), y_(y) {
        require<ShapeError>(x.rank() >= 1 && y.rank() >= 1 && y.dim(0) == x.dim(0), "fit_full_batch: ",
                            x.rank() ? x.dim(0) : 0, " samples but ", y.rank() ? y.dim(0) : 0, " targets");
        if (!x.holds_bytes()) return;
        const std::vector<std::size_t> order = zero_pattern_order(x.bytes());
        bytes_ = Tensor<std::uint8_t>(x.bytes().shape());
        gather_rows<std::uint8_t>(x.bytes(), order, bytes_.view());
        targets_ = Tensor<T>(y.shape());
        gather_rows<T>(y, order, targets_.view());
        x_ = Samples<T>(bytes_.view(), x.scale());
        y_ = targets_.view();
    }
    FullBatchSamples(const FullBatchSamples&) = delete;  // x() and y() may view the object's own copies
    FullBatchSamples& operator=(const FullBatchSamples&) = delete;

    const Samples<T>& x() const { return x_; }
    TensorView<const T> y() const { return y_; }

private:
    Tensor<std::uint8_t> bytes_;
    Tensor<T> targets_;
    Samples<T> x_;
    TensorView<const T> y_;
};

}  // namespace detail

// Fits `net` (compiled with the loss whose sum is the criterion, e.g. CrossEntropy) to x and the
// targets y, starting from its current weights, and leaves the final weights in it. Result.trace holds
// the criterion at the start and after every iteration. x is a Tensor or view of T, or scaled bytes
// (Samples<T>, data/samples.hpp), which are summed in zero_pattern_order (detail::FullBatchSamples).
template <class T>
LbfgsResult fit_full_batch(Sequential<T>& net, const Samples<std::type_identity_t<T>>& x,
                           TensorView<const std::type_identity_t<T>> y, const FullBatchOptions& o = {}) {
    detail::check_full_batch_options(net, o);
    require<ArgumentError>(x.rank() >= 1 && x.dim(0) >= 1, "fit_full_batch: no training samples");
    const detail::FullBatchSamples<T> data(x, y);
    FullBatchObjective<T> criterion(net, o.chunk);
    return detail::minimize_full_batch(net, o,
                                       [&](std::span<double> g) { return criterion(data.x(), data.y(), o.decay, g); });
}

// The same with class labels, one-hot encoded for a model with flat outputs.
template <class T>
LbfgsResult fit_full_batch(Sequential<T>& net, const Samples<std::type_identity_t<T>>& x,
                           std::span<const int> labels, const FullBatchOptions& o = {}) {
    const Tensor<T> y = detail::full_batch_targets<T>(net, x, labels);
    return fit_full_batch(net, x, y.view(), o);
}

}  // namespace loom
