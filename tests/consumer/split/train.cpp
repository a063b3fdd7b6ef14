// A unit that trains a Sequential<float> without instantiating it: with LOOM_EXTERN_TEMPLATES it
// uses the instantiations of instantiate.cpp.
#include <loom/loom.hpp>

#include <iostream>

int main() {
    loom::Tensor<float> x({64, 784});
    std::vector<int> y(64);
    for (std::size_t i = 0; i < 64; ++i) {
        y[i] = static_cast<int>(i % 10);
        x(i, 3 * i) = 1.0f;
    }
    loom::Sequential<float> net({784});
    net.add<loom::Dense>(50).add<loom::Sigmoid>().add<loom::Dense>(10).add<loom::Softmax>();
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-2));
    loom::FitOptions o;
    o.epochs = 30;
    o.verbose = false;
    const auto history = net.fit(x, y, o);
    const bool ok = history.loss.back() < history.loss.front() && net.evaluate(x, y).accuracy > 0.5;
    std::cout << (ok ? "consumer_split: OK" : "consumer_split: FAILED") << '\n';
    return ok ? 0 : 1;
}
