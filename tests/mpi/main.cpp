// doctest under MPI: every rank runs every test case (they call collectives in the same order), and
// the exit status is non-zero on a rank whose checks failed, which mpiexec passes on.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "loom/distributed/environment.hpp"

int main(int argc, char** argv) {
    loom::mpi::Environment env(argc, argv);
    doctest::Context context(argc, argv);
    return context.run();
}
