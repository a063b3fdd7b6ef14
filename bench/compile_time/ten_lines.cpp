// The 10-line program of the compile-time measurement (bench/compile_time/measure.sh): build and fit
// a Sequential<float> through the umbrella header.
#include <loom/loom.hpp>
int main() {
    loom::Tensor<float> x(loom::Shape{64, 784});
    std::vector<int> y(64, 1);
    loom::Sequential<float> net({784});
    net.add<loom::Dense>(50).add<loom::Sigmoid>().add<loom::Dense>(10).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-3));
    loom::FitOptions o; o.epochs = 1; o.verbose = false;
    net.fit(x, y, o);
}
