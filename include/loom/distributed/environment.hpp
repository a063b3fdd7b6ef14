#pragma once
// loom::mpi::Environment: MPI_Init_thread in the constructor, MPI_Finalize in the destructor.
// loom calls MPI from the main thread only (OpenMP threads never do), so MPI_THREAD_FUNNELED is enough.
// An Environment made while MPI is already initialised (by the program or another library) leaves
// initialisation and finalisation to whoever did it.
#include <mpi.h>

#include "loom/core/error.hpp"

namespace loom::mpi {

class Environment {
public:
    Environment(int& argc, char**& argv) {
        int initialised = 0;
        MPI_Initialized(&initialised);
        if (initialised) return;
        int provided = 0;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        owner_ = true;
        // MPI's levels are ordered: anything below FUNNELED would forbid MPI calls from a program
        // that runs OpenMP threads at all.
        require<DistributedError>(provided >= MPI_THREAD_FUNNELED,
                                  "MPI provides thread level ", provided, ", loom needs MPI_THREAD_FUNNELED");
    }
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;
    ~Environment() {
        int finalised = 0;
        MPI_Finalized(&finalised);
        if (owner_ && !finalised) MPI_Finalize();
    }

private:
    bool owner_ = false;
};

}  // namespace loom::mpi
