#pragma once
// The processes an example runs in. Built with MPI (CMake found it and defined LOOM_EXAMPLES_MPI),
// the examples run as one rank of an MPI job each, `mpirun -np 2 build/examples/nnet --mode cv`:
// the work is spread with loom::mpi, rank 0 prints and writes files, and the other ranks' std::cout
// is silenced. Without MPI, or started without mpirun (a job of one), they run as a single process.
#include <algorithm>
#include <functional>
#include <iostream>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/loom.hpp"
#include "loom/model/cross_validation.hpp"
#include "loom/model/full_batch_fit.hpp"
#ifdef LOOM_EXAMPLES_MPI
#include "loom/distributed/mpi.hpp"
#endif

namespace examples {

class Processes {
public:
    Processes(int& argc, char**& argv)
#ifdef LOOM_EXAMPLES_MPI
        : env_(argc, argv), world_(loom::mpi::world())
#endif
    {
        (void)argc;
        (void)argv;
        if (!primary()) silenced_ = std::cout.rdbuf(nullptr);  // output with no buffer is discarded
#ifdef LOOM_EXAMPLES_MPI
        // Share the cores of a machine between its ranks (--threads or OMP_NUM_THREADS still decide).
        MPI_Comm local;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
        int on_this_machine = 1;
        MPI_Comm_size(local, &on_this_machine);
        MPI_Comm_free(&local);
        if (!std::getenv("OMP_NUM_THREADS")) loom::set_num_threads(std::max(1, loom::num_threads() / on_this_machine));
#endif
    }
    Processes(const Processes&) = delete;
    Processes& operator=(const Processes&) = delete;
    ~Processes() {
        if (silenced_) std::cout.rdbuf(silenced_);
    }

#ifdef LOOM_EXAMPLES_MPI
    int size() const { return world_.size(); }
    bool primary() const { return world_.is_primary(); }
#else
    int size() const { return 1; }
    bool primary() const { return true; }
#endif
    // "1 process" or "2 MPI ranks", for the examples' headers.
    std::string describe() const { return size() == 1 ? "1 process" : std::to_string(size()) + " MPI ranks"; }

    template <class T, class Setting, class MakeModel, class MakeOptions>
    auto cross_validate(const std::vector<Setting>& settings, const MakeModel& make_model, const MakeOptions& fit_options,
                        const loom::Samples<T>& x, std::span<const int> labels, const std::vector<loom::Fold>& folds,
                        const loom::CrossValidationOptions& o, const std::function<void(const loom::CvProgress&)>& on_progress) {
#ifdef LOOM_EXAMPLES_MPI
        return loom::mpi::cross_validate<T>(world_, settings, make_model, fit_options, x, labels, folds, o, on_progress);
#else
        return loom::cross_validate<T>(settings, make_model, fit_options, x, labels, folds, o, on_progress);
#endif
    }

    template <class T>
    loom::LbfgsResult fit_full_batch(loom::Sequential<T>& net, const loom::Samples<std::type_identity_t<T>>& x, std::span<const int> labels,
                                     const loom::FullBatchOptions& o) {
#ifdef LOOM_EXAMPLES_MPI
        loom::mpi::ReduceTiming timing;
        const auto result = loom::mpi::fit_full_batch(world_, net, x, labels, o, &timing);
        report(timing, "criterion evaluation");
        return result;
#else
        return loom::fit_full_batch(net, x, labels, o);
#endif
    }

    template <class T>
    loom::History fit(loom::Sequential<T>& net, const loom::Samples<std::type_identity_t<T>>& x,
                      loom::TensorView<const std::type_identity_t<T>> y,
                      const loom::ValidationData<std::type_identity_t<T>>& validation, const loom::FitOptions& o,
                      const std::vector<loom::CallbackRef>& callbacks = {}) {
#ifdef LOOM_EXAMPLES_MPI
        loom::mpi::ReduceTiming timing;
        const auto history = loom::mpi::fit(world_, net, x, y, validation, o, callbacks, &timing);
        report(timing, "training step");
        return history;
#else
        return net.fit(x, y, validation, o, callbacks);
#endif
    }

private:
#ifdef LOOM_EXAMPLES_MPI
    void report(const loom::mpi::ReduceTiming& timing, const char* per) const {
        if (size() > 1)
            std::cout << "allreduce over " << describe() << ", per " << per << " (" << timing.reductions << "): "
                      << 1000 * timing.seconds_per_reduction() << " ms reducing, " << 1000 * timing.wait_per_reduction()
                      << " ms waiting for the slowest rank\n";
    }
    loom::mpi::Environment env_;
    loom::mpi::Communicator world_;
#endif
    std::streambuf* silenced_ = nullptr;
};

}  // namespace examples
