// Full-batch fitting (nnet's criterion minimised by L-BFGS) and cross-validated tuning on a small
// slice of Fashion-MNIST.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <vector>

#include "loom/loom.hpp"
#include "loom/model/cross_validation.hpp"
#include "loom/model/full_batch_fit.hpp"

namespace {

// nnet's 784-h-10 network: logistic hidden units, softmax outputs, weights and biases uniform(-0.7, 0.7).
loom::Sequential<float> nnet_model(std::size_t hidden, std::uint64_t seed) {
    const auto init = loom::Initializer::uniform(0.7);
    loom::Sequential<float> net({28, 28, 1}, seed);
    net.add<loom::Flatten>().add<loom::Dense>(hidden, init, init).add<loom::Sigmoid>();
    net.add<loom::Dense>(10, init, init).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));
    return net;
}

bool have_fashion_mnist() {
    return std::filesystem::exists(std::filesystem::path(loom::fashion_mnist::default_dir) / "train-labels-idx1-ubyte.gz");
}

}  // namespace

TEST_CASE("fit_full_batch minimises the summed loss plus decay and leaves the accepted weights in the model") {
    // Three Gaussian blobs in 2-D, a 2-6-3 network in double.
    loom::Rng rng(5);
    const std::size_t n = 150;
    loom::Tensor<double> x({n, 2});
    std::vector<int> y(n);
    const double centres[3][2] = {{-2, -2}, {2, -1}, {0, 2}};
    for (std::size_t i = 0; i < n; ++i) {
        y[i] = static_cast<int>(i % 3);
        x(i, 0) = centres[y[i]][0] + 0.7 * rng.normal();
        x(i, 1) = centres[y[i]][1] + 0.7 * rng.normal();
    }
    const auto init = loom::Initializer::uniform(0.7);
    loom::Sequential<double> net({2}, 3);
    net.add<loom::Dense>(6, init, init).add<loom::Sigmoid>().add<loom::Dense>(3, init, init).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::SGD(0.1));

    loom::FullBatchOptions o;
    o.decay = 0.01;
    o.max_iterations = 200;
    std::ostringstream log;
    o.log = &log;
    std::size_t calls = 0;
    o.on_iteration = [&](std::size_t, double) { ++calls; };
    const auto r = loom::fit_full_batch(net, x.view(), std::span<const int>(y), o);
    CHECK(calls == r.iterations);
    CHECK(r.trace.front() > r.f);
    for (std::size_t i = 1; i < r.trace.size(); ++i) CHECK(r.trace[i] <= r.trace[i - 1]);
    CHECK(log.str().find("initial  value") == 0);
    CHECK(log.str().find("iter   10 value") != std::string::npos);
    CHECK(log.str().find("final  value") != std::string::npos);

    // The model holds the returned point: re-evaluating the criterion gives the reported value,
    // and at a (near) minimum the gradient is small compared with where it started.
    const auto y1 = loom::one_hot<double>(y, 3);
    std::vector<double> gradient(net.param_count());
    CHECK(loom::FullBatchObjective<double>(net)(x.view(), y1.view(), o.decay, gradient) == doctest::Approx(r.f).epsilon(1e-12));
    CHECK(r.gradient_norm < 1e-3);
    CHECK(net.evaluate(x, y).accuracy > 0.9);

    // Options are validated; an uncompiled model is refused.
    o.decay = -1;
    CHECK_THROWS_AS(loom::fit_full_batch(net, x.view(), std::span<const int>(y), o), loom::ArgumentError);
    loom::Sequential<double> bare({2});
    bare.add<loom::Dense>(3);
    CHECK_THROWS_AS(loom::fit_full_batch(bare, x.view(), std::span<const int>(y)), loom::Error);
}

TEST_CASE("fit_full_batch on byte images: the fit of the same values as floats, to rounding; mismatched targets throw") {
    if (!have_fashion_mnist()) {
        MESSAGE("Fashion-MNIST not installed: skipped");
        return;
    }
    // Bytes are fitted in zero_pattern_order (the criterion is a sum over the samples), floats in
    // the given order: the same criterion, summed in another order.
    const auto data = loom::fashion_mnist::load_bytes(loom::fashion_mnist::default_dir, loom::fashion_mnist::Split::test, 1000);
    const auto floats = loom::to_float(data.images.view(), loom::fashion_mnist::ByteDataset::pixel_scale<float>);
    loom::FullBatchOptions o;
    o.decay = 0.1;
    o.max_iterations = 5;
    auto from_bytes = nnet_model(8, 4), from_floats = nnet_model(8, 4);
    const auto rb = loom::fit_full_batch(from_bytes, data.samples<float>(), std::span<const int>(data.labels), o);
    const auto rf = loom::fit_full_batch(from_floats, floats.view(), std::span<const int>(data.labels), o);
    REQUIRE(rb.trace.size() == rf.trace.size());
    for (std::size_t i = 0; i < rb.trace.size(); ++i) CHECK(rb.trace[i] == doctest::Approx(rf.trace[i]).epsilon(1e-5));
    const auto wb = from_bytes.parameters(), wf = from_floats.parameters();
    for (std::size_t k = 0; k < wb.size(); ++k)
        for (std::size_t i = 0; i < wb[k].value->size(); ++i)
            CHECK(wb[k].value->data()[i] == doctest::Approx(wf[k].value->data()[i]).epsilon(1e-3).scale(1));

    const auto y = loom::one_hot<float>(std::span<const int>(data.labels).first(999), 10);
    CHECK_THROWS_AS(loom::fit_full_batch(from_bytes, data.samples<float>(), y.view(), o), loom::ShapeError);
}

TEST_CASE("2-fold cross-validation over 2 decays on 2,000 Fashion-MNIST images, parallel == serial") {
    if (!have_fashion_mnist()) {
        MESSAGE("Fashion-MNIST not installed at ", loom::fashion_mnist::default_dir, "; skipping");
        return;
    }
    const auto data = loom::fashion_mnist::load(loom::fashion_mnist::default_dir, loom::fashion_mnist::Split::train, 2000);
    const std::vector<double> decays{0.01, 0.5};
    const auto folds = loom::KFold(2, 1, true).split(data.labels);
    const auto make = [](double, std::uint64_t seed) { return nnet_model(20, seed); };
    const auto options = [](double decay) {
        loom::FullBatchOptions o;
        o.decay = decay;
        o.max_iterations = 30;
        return o;
    };
    std::size_t done = 0, iterations = 0;
    const auto progress = [&](const loom::CvProgress& p) {
        CHECK(p.fits == 4);
        (p.done ? done : iterations) += 1;
    };
    loom::CrossValidationOptions cv;
    cv.seed = 9;
    cv.parallel = true;
    cv.threads = 2;
    const auto par = loom::cross_validate<float>(decays, make, options, data.images.view(), data.labels, folds, cv, progress);
    cv.parallel = false;
    const auto ser = loom::cross_validate<float>(decays, make, options, data.images.view(), data.labels, folds, cv);

    CHECK(done == 4);
    CHECK(iterations == 4 * 30);
    REQUIRE(par.summary.size() == 2);
    REQUIRE(par.fits.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(par.fits[k].setting == k / 2);
        CHECK(par.fits[k].fold == k % 2);
        CHECK(par.fits[k].iterations == 30);
        CHECK(par.fits[k].accuracy == ser.fits[k].accuracy);  // bitwise: scheduling must not matter
        CHECK(par.fits[k].criterion == ser.fits[k].criterion);
    }
    for (const auto& s : par.summary) {
        CHECK(s.accuracy > 0.7);
        CHECK(s.kappa > 0.6);
        CHECK(s.accuracy_sd >= 0);
        CHECK(s.accuracy_sd < 0.05);
    }
    CHECK(par.best == (par.summary[1].accuracy > par.summary[0].accuracy ? 1u : 0u));
    CHECK(par.best_setting() == decays[par.best]);
    CHECK(loom::cv_fit_seed(9, 0, 1) != loom::cv_fit_seed(9, 1, 0));

    // The same images as bytes: each fold's fit takes them in zero_pattern_order, the same criterion
    // summed in another order. After 30 L-BFGS iterations the rounding has moved the paths apart a little
    // (0.2% in the criterion), not the scores.
    const auto bytes = loom::fashion_mnist::load_bytes(loom::fashion_mnist::default_dir, loom::fashion_mnist::Split::train, 2000);
    cv.parallel = true;
    const auto from_bytes = loom::cross_validate<float>(decays, make, options, bytes.samples<float>(), bytes.labels, folds, cv);
    REQUIRE(from_bytes.fits.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(from_bytes.fits[k].criterion == doctest::Approx(par.fits[k].criterion).epsilon(1e-2));
        CHECK(std::abs(from_bytes.fits[k].accuracy - par.fits[k].accuracy) <= 0.005);
    }
}
