#pragma once
// loom::mpi::cross_validate: loom::cross_validate with the (setting, fold) fits spread over the ranks.
//
// Scheduling is static and strided: rank r runs fits r, r + P, r + 2P, ... (in setting-major order),
// each rank side by side on its threads as loom::cross_validate does. Strided rather than in blocks
// because neighbouring settings cost alike (a block of small decays would all run to maxit on one
// rank); static rather than handed out by rank 0 because it needs no coordinator, no messages while
// fitting and no progress thread, and every rank knows who fitted what. Its price is imbalance when
// fit times differ a lot; docs/distributed.md measures it.
//
// Each fit is seeded by (seed, setting, fold) and computed exactly as in one process, and the fits
// are gathered bit for bit (a bitwise OR of records only their owner filled), so every rank returns
// the CrossValidationResult that loom::cross_validate returns, bitwise, for any number of ranks
// (only CvFit::seconds, a measurement, differs from run to run). on_progress is called on the rank
// that runs the fit.
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <type_traits>
#include <vector>

#include "loom/core/tensor.hpp"
#include "loom/data/kfold.hpp"
#include "loom/distributed/abort_on_failure.hpp"
#include "loom/distributed/agreement.hpp"
#include "loom/distributed/communicator.hpp"
#include "loom/model/cross_validation.hpp"

namespace loom::mpi {

namespace detail {

// A CvFit as 8 words, bit for bit.
constexpr std::size_t cv_record = 8;

inline std::uint64_t bits_of(double v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof b);
    return b;
}
inline double double_of(std::uint64_t b) {
    double v = 0;
    std::memcpy(&v, &b, sizeof v);
    return v;
}

inline void encode(const CvFit& f, std::uint64_t* out) {
    const std::uint64_t words[cv_record] = {f.setting, f.fold, bits_of(f.accuracy), bits_of(f.kappa), bits_of(f.criterion),
                                            f.iterations, static_cast<std::uint64_t>(f.stop), bits_of(f.seconds)};
    std::memcpy(out, words, sizeof words);
}
inline CvFit decode(const std::uint64_t* w) {
    return {static_cast<std::size_t>(w[0]), static_cast<std::size_t>(w[1]), double_of(w[2]), double_of(w[3]), double_of(w[4]),
            static_cast<std::size_t>(w[5]), static_cast<LbfgsStop>(w[6]), double_of(w[7])};
}

}  // namespace detail

template <class T, class Setting, class MakeModel, class MakeOptions>
CrossValidationResult<Setting> cross_validate(const Communicator& comm, const std::vector<Setting>& settings,
                                              const MakeModel& make_model, const MakeOptions& fit_options,
                                              const Samples<std::type_identity_t<T>>& x, std::span<const int> labels,
                                              const std::vector<Fold>& folds, const CrossValidationOptions& o = {},
                                              const std::function<void(const CvProgress&)>& on_progress = {}) {
    Agreement agreement("loom::mpi::cross_validate");
    agreement.add("samples x", x).add("labels", labels);
    agreement.add("number of settings", static_cast<std::uint64_t>(settings.size()));
    if constexpr (std::is_trivially_copyable_v<Setting>)
        agreement.add("settings checksum", checksum(settings.data(), settings.size() * sizeof(Setting)));
    agreement.add("number of folds", static_cast<std::uint64_t>(folds.size()));
    for (std::size_t f = 0; f < folds.size(); ++f) {
        const auto name = "fold " + std::to_string(f + 1);
        agreement.add(name + " training indices", checksum(folds[f].train.data(), folds[f].train.size() * sizeof(std::size_t)));
        agreement.add(name + " validation indices",
                      checksum(folds[f].validation.data(), folds[f].validation.size() * sizeof(std::size_t)));
    }
    agreement.add("seed", static_cast<std::uint64_t>(o.seed));
    agreement.check(comm);
    loom::detail::check_cv_arguments<T>(settings, x, labels, folds);  // alike on every rank now

    const std::size_t total = settings.size() * folds.size();
    std::vector<std::size_t> mine;
    for (auto k = static_cast<std::size_t>(comm.rank()); k < total; k += static_cast<std::size_t>(comm.size())) mine.push_back(k);
    std::vector<std::uint64_t> records(total * detail::cv_record, 0);
    abort_on_failure(comm, "loom::mpi::cross_validate", [&] {
        const loom::detail::LockedProgress report(on_progress);
        loom::detail::run_cv_fits(mine, o, [&](std::size_t k) {
            const CvFit fit = loom::detail::cv_fit<T>(k, settings, make_model, fit_options, x, labels, folds, o, report);
            detail::encode(fit, &records[k * detail::cv_record]);
        });
    });
    comm.bit_or(records);

    CrossValidationResult<Setting> result;
    result.settings.assign(settings.begin(), settings.end());
    result.fits.resize(total);
    for (std::size_t k = 0; k < total; ++k) result.fits[k] = detail::decode(&records[k * detail::cv_record]);
    loom::detail::summarize_cv(result, folds.size());
    return result;
}

}  // namespace loom::mpi
