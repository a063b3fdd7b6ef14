// loom::mpi from an outside project: find_package(loom) (or add_subdirectory) and link loom::mpi.
// Run without mpiexec, as a job of one.
#include <loom/distributed/mpi.hpp>
#include <loom/loom.hpp>

#include <iostream>

int main(int argc, char** argv) {
    loom::mpi::Environment env(argc, argv);
    const auto world = loom::mpi::world();
    loom::Tensor<float> x({16, 4});
    std::vector<int> y(16);
    for (std::size_t i = 0; i < 16; ++i) {
        y[i] = static_cast<int>(i % 2);
        x(i, i % 4) = static_cast<float>(y[i]);
    }
    loom::Sequential<float> net({4});
    net.add<loom::Dense>(3).add<loom::Tanh>().add<loom::Dense>(2).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-2));
    loom::FitOptions o;
    o.epochs = 2;
    o.batch_size = 4;
    o.verbose = false;
    const auto h = loom::mpi::fit(world, net, x, y, o);
    const bool ok = world.size() >= 1 && h.epochs() == 2;
    std::cout << (ok ? "consumer_mpi: OK" : "consumer_mpi: FAILED") << '\n';
    return ok ? 0 : 1;
}
