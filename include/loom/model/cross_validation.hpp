#pragma once
// cross_validate: caret-style tuning of full-batch fits. Every (setting, fold) pair is one fit of a
// fresh model on the fold's training samples, scored on its validation samples by accuracy and
// Cohen's kappa; each setting gets the mean and standard deviation over folds (caret's resampling
// table) and the best setting is the one with the highest mean accuracy (the first on ties, like
// caret's which.max).
//
// The fits are independent, so with `parallel` they run side by side, one per thread, each with
// serial kernels (the kernels see omp_in_parallel() and stay on their thread). On 2 cores that
// matched one-fit-at-a-time with 2-thread GEMMs in throughput (docs/nnet.md) and, with no fork and
// join per GEMM, loses less when other processes share the cores; the price is one copy of a fold's
// training samples per thread. Each fit's seed comes from (seed, setting, fold) and the kernels are
// bitwise reproducible for any thread count, so results do not depend on scheduling.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <type_traits>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/parallel_failure.hpp"
#include "loom/core/tensor.hpp"
#include "loom/core/threads.hpp"
#include "loom/data/kfold.hpp"
#include "loom/data/preprocess.hpp"
#include "loom/data/samples.hpp"
#include "loom/metrics/confusion_matrix.hpp"
#include "loom/model/full_batch_fit.hpp"
#include "loom/model/sequential.hpp"

namespace loom {

struct CrossValidationOptions {
    bool parallel = true;    // fits side by side (one thread each) rather than one after another
    int threads = 0;         // threads for parallel fits; 0: loom::num_threads()
    std::uint64_t seed = 0;  // base of the per-fit seeds
    std::size_t predict_batch = 1024;
};

// A progress report: every iteration of every fit, and once more when a fit is scored (done).
struct CvProgress {
    std::size_t fit = 0, fits = 0;     // 1-based number of this fit (in setting-major order), total
    std::size_t setting = 0, fold = 0;
    std::size_t iteration = 0;
    double criterion = 0;
    bool done = false;
    double accuracy = 0, seconds = 0;  // when done
};

// The outcome of one (setting, fold) fit.
struct CvFit {
    std::size_t setting = 0, fold = 0;
    double accuracy = 0, kappa = 0;
    double criterion = 0;  // final value of the fitting criterion
    std::size_t iterations = 0;
    LbfgsStop stop = LbfgsStop::MaxIterations;
    double seconds = 0;
};

// Per setting, over folds: means and sample standard deviations (n - 1, as R's sd).
struct CvSummary {
    double accuracy = 0, accuracy_sd = 0, kappa = 0, kappa_sd = 0;
};

template <class Setting>
struct CrossValidationResult {
    std::vector<Setting> settings;
    std::vector<CvSummary> summary;  // one per setting
    std::vector<CvFit> fits;         // setting-major: fits[s * folds + f]
    std::size_t best = 0;            // index into settings

    const Setting& best_setting() const { return settings.at(best); }
};

// The seed of the fit of setting s on fold f: a splitmix64 mix, so neighbouring fits get unrelated seeds.
inline std::uint64_t cv_fit_seed(std::uint64_t seed, std::size_t setting, std::size_t fold) {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (1 + setting * 1000003ULL + fold);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

namespace detail {

template <class T, class Setting>
void check_cv_arguments(const std::vector<Setting>& settings, const Samples<T>& x, std::span<const int> labels,
                        const std::vector<Fold>& folds) {
    require<ArgumentError>(!settings.empty(), "cross_validate: no settings to try");
    require<ArgumentError>(!folds.empty(), "cross_validate: no folds");
    require<ShapeError>(x.rank() >= 1 && x.dim(0) == labels.size(), "cross_validate: ", x.rank() ? x.dim(0) : 0,
                        " samples but ", labels.size(), " labels");
    for (const auto& fold : folds)
        for (const auto* list : {&fold.train, &fold.validation}) {
            require<ArgumentError>(!list->empty(), "cross_validate: a fold has an empty training or validation set");
            for (std::size_t i : *list)
                require<ArgumentError>(i < labels.size(), "cross_validate: fold index ", i, " outside the ", labels.size(),
                                       " samples");
        }
}

// Fit k (setting k / folds, fold k % folds) of a grid: fitted on the fold's training samples, scored on
// its validation samples. `report` gets the progress.
template <class T, class Setting, class MakeModel, class MakeOptions, class Report>
CvFit cv_fit(std::size_t k, const std::vector<Setting>& settings, const MakeModel& make_model, const MakeOptions& fit_options,
             const Samples<T>& x, std::span<const int> labels, const std::vector<Fold>& folds,
             const CrossValidationOptions& o, const Report& report) {
    const std::size_t n_folds = folds.size(), total = settings.size() * n_folds;
    const std::size_t s = k / n_folds, f = k % n_folds;
    const auto start = std::chrono::steady_clock::now();
    const Fold& fold = folds[f];
    Sequential<T> net = make_model(settings[s], cv_fit_seed(o.seed, s, f));
    require<ShapeError>(net.output_shape().rank() == 1, "cross_validate: the model must output class scores");
    const std::size_t classes = net.output_shape()[0];

    // The fold's training samples, stored as x is: bytes stay bytes (a quarter of the memory, and
    // fit_full_batch's products skip their zero pixels).
    Tensor<T> x_part;
    Tensor<std::uint8_t> bytes_part;
    Samples<T> train;
    if (x.holds_bytes()) {
        bytes_part.resize(x.shape().without_batch().with_batch(fold.train.size()));
        gather_rows<std::uint8_t>(x.bytes(), fold.train, bytes_part.view());
        train = Samples<T>(bytes_part.view(), x.scale());
    } else {
        x_part.resize(x.shape().without_batch().with_batch(fold.train.size()));
        x.gather(fold.train, x_part.view());
        train = x_part.view();
    }
    std::vector<int> y_part(fold.train.size());
    gather_labels(labels, fold.train, y_part);
    FullBatchOptions fo = fit_options(settings[s]);
    fo.log = nullptr;
    fo.on_iteration = [&](std::size_t iteration, double criterion) {
        report(CvProgress{k + 1, total, s, f, iteration, criterion, false, 0, 0});
    };
    const LbfgsResult fitted = fit_full_batch(net, train, std::span<const int>(y_part), fo);

    x_part.resize(x.shape().without_batch().with_batch(fold.validation.size()));
    x.gather(fold.validation, x_part.view());
    y_part.resize(fold.validation.size());
    gather_labels(labels, fold.validation, y_part);
    const ConfusionMatrix cm(y_part, net.predict_classes(x_part.view(), o.predict_batch), classes);

    const CvFit out{s, f, cm.accuracy(), cm.kappa(), fitted.f, fitted.iterations, fitted.stop,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
    report(CvProgress{k + 1, total, s, f, fitted.iterations, fitted.f, true, out.accuracy, out.seconds});
    return out;
}

// Runs run_fit(k) for every k in `fits`, side by side (one per thread) when o.parallel says so, and
// rethrows the first failure afterwards.
template <class RunFit>
void run_cv_fits(const std::vector<std::size_t>& fits, const CrossValidationOptions& o, const RunFit& run_fit) {
    const int threads = o.threads > 0 ? o.threads : num_threads();
    if (o.parallel && threads > 1) {
#ifdef _OPENMP
        detail::ParallelFailure failure;
        const auto count = static_cast<std::ptrdiff_t>(fits.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (std::ptrdiff_t i = 0; i < count; ++i) {
            const auto at = static_cast<std::size_t>(i);
            failure.run(at, [&] { run_fit(fits[at]); });
        }
        failure.rethrow_if_failed();
        return;
#endif
    }
    for (std::size_t k : fits) run_fit(k);
}

// on_progress behind a lock, so that fits running side by side report one at a time.
class LockedProgress {
public:
    explicit LockedProgress(const std::function<void(const CvProgress&)>& on_progress) : on_progress_(on_progress) {}
    void operator()(const CvProgress& p) const {
        if (!on_progress_) return;
        const std::lock_guard<std::mutex> guard(lock_);
        on_progress_(p);
    }

private:
    const std::function<void(const CvProgress&)>& on_progress_;
    mutable std::mutex lock_;
};

// Fills result.summary and result.best from result.fits.
template <class Setting>
void summarize_cv(CrossValidationResult<Setting>& result, std::size_t n_folds) {
    result.summary.assign(result.settings.size(), CvSummary{});
    result.best = 0;
    for (std::size_t s = 0; s < result.settings.size(); ++s) {
        double acc = 0, kap = 0;
        for (std::size_t f = 0; f < n_folds; ++f) {
            acc += result.fits[s * n_folds + f].accuracy;
            kap += result.fits[s * n_folds + f].kappa;
        }
        const double n = static_cast<double>(n_folds);
        CvSummary& sum = result.summary[s];
        sum.accuracy = acc / n;
        sum.kappa = kap / n;
        double va = 0, vk = 0;
        for (std::size_t f = 0; f < n_folds; ++f) {
            const auto& fit = result.fits[s * n_folds + f];
            va += (fit.accuracy - sum.accuracy) * (fit.accuracy - sum.accuracy);
            vk += (fit.kappa - sum.kappa) * (fit.kappa - sum.kappa);
        }
        sum.accuracy_sd = n_folds > 1 ? std::sqrt(va / (n - 1)) : 0.0;
        sum.kappa_sd = n_folds > 1 ? std::sqrt(vk / (n - 1)) : 0.0;
        if (sum.accuracy > result.summary[result.best].accuracy) result.best = s;
    }
}

}  // namespace detail

// make_model(setting, seed) returns a compiled Sequential<T> initialised from seed;
// fit_options(setting) returns the FullBatchOptions to fit it with (its log and on_iteration are
// replaced by on_progress, which is called under a lock, so it need not be thread-safe).
template <class T, class Setting, class MakeModel, class MakeOptions>
CrossValidationResult<Setting> cross_validate(const std::vector<Setting>& settings, const MakeModel& make_model,
                                              const MakeOptions& fit_options, const Samples<std::type_identity_t<T>>& x,
                                              std::span<const int> labels, const std::vector<Fold>& folds,
                                              const CrossValidationOptions& o = {},
                                              const std::function<void(const CvProgress&)>& on_progress = {}) {
    detail::check_cv_arguments<T>(settings, x, labels, folds);
    const std::size_t total = settings.size() * folds.size();
    CrossValidationResult<Setting> result;
    result.settings.assign(settings.begin(), settings.end());
    result.fits.resize(total);
    const detail::LockedProgress report(on_progress);
    std::vector<std::size_t> all(total);
    for (std::size_t k = 0; k < total; ++k) all[k] = k;
    detail::run_cv_fits(all, o, [&](std::size_t k) {
        result.fits[k] = detail::cv_fit<T>(k, settings, make_model, fit_options, x, labels, folds, o, report);
    });
    detail::summarize_cv(result, folds.size());
    return result;
}

}  // namespace loom
