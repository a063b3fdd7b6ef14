// A program for the fault test: rank 1 throws in the middle of a data-parallel fit (from a callback,
// while rank 0 waits in the gradient reduction). loom's fault boundary must print rank 1's message
// and end the job with a non-zero status; tests/mpi/expect_abort.cmake runs it under a timeout.
#include <iostream>
#include <stdexcept>

#include "loom/distributed/mpi.hpp"
#include "mpi_test_data.hpp"

int main(int argc, char** argv) {
    loom::mpi::Environment env(argc, argv);
    const auto world = loom::mpi::world();
    const auto data = loom_mpi_test::blobs<float>(64, 4, 2);
    auto net = loom_mpi_test::mlp<float>(4, 6, 2, 1);
    loom::FitOptions o;
    o.epochs = 3;
    o.batch_size = 8;
    o.verbose = false;
    loom::LambdaHooks hooks;
    hooks.on_batch_end = [&](const loom::BatchLogs& logs) {
        if (world.rank() == 1 && logs.epoch == 2 && logs.batch == 3) throw std::runtime_error("rank 1 fails on purpose");
    };
    loom::LambdaCallback fail(hooks);
    // A program that catches the error and goes on to MPI_Finalize would leave rank 0 waiting in the
    // gradient reduction forever, were it not for the boundary.
    try {
        loom::mpi::fit(world, net, data.x, data.labels, o, {fail});
    } catch (const std::exception& e) {
        std::cout << "rank " << world.rank() << ": caught '" << e.what() << "'\n";
    }
    std::cout << "rank " << world.rank() << ": finished, which it must not\n";
    return 0;
}
