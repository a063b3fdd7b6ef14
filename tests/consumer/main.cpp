// The public surface promised by the core issue, compiled unchanged by an outside project.
#include <loom/loom.hpp>

#include <filesystem>
#include <iostream>

int main() {
    // The snippet reads an IDX file by its Fashion-MNIST name; make a small one here.
    const auto dir = std::filesystem::temp_directory_path() / "loom_consumer";
    std::filesystem::create_directories(dir);
    std::filesystem::current_path(dir);
    loom::write_idx("train-images-idx3-ubyte.gz", loom::Tensor<std::uint8_t>({3, 28, 28}), true);

    const std::size_t n = 32;
    // --- the snippet ---
    loom::Tensor<float> x({n, 28, 28, 1});          // zero-filled
    std::vector<int> y(n);                           // class labels 0..9 (a one-hot Tensor<float> overload too)
    loom::Sequential<float> net({28, 28, 1});        // per-sample input shape
    net.add<loom::Conv2D>(20, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
       .add<loom::Conv2D>(50, 5, loom::Padding::Same).add<loom::Tanh>().add<loom::MaxPool2D>(2)
       .add<loom::Flatten>().add<loom::Dense>(500).add<loom::Tanh>()
       .add<loom::Dense>(10).add<loom::Softmax>();
    net.summary(std::cout);                          // ... Total params: 1,256,080
    std::size_t p = net.param_count();               // 1256080
    net.compile(loom::CrossEntropy{}, loom::Adam(1e-3));      // also loom::SGD(0.01, 0.9)
    loom::FitOptions o; o.epochs = 1; o.batch_size = 64; o.seed = 42; o.verbose = false;
    o.validation_split = 0.1;
    loom::History h = net.fit(x, y, o);
    loom::Tensor<float> prob = net.predict(x);       // (n, 10)
    loom::Evaluation e = net.evaluate(x, y);         // e.loss, e.accuracy
    net.save("lenet.loom");
    auto again = loom::Sequential<float>::load("lenet.loom");   // throws loom::Error on a bad file
    loom::Tensor<std::uint8_t> raw = loom::read_idx("train-images-idx3-ubyte.gz"); // gz or plain; throws on bad input
    // --- end of the snippet ---

    // --- callbacks and the training-step API ---
    loom::EarlyStopping stopper("val_loss", 2, 0.0, true);
    std::size_t epochs_seen = 0;
    loom::History hc = net.fit(x, y, o,
                               {loom::ProgressBar(std::cout), stopper,
                                loom::ModelCheckpoint("best.loom", "val_loss", true),
                                loom::ReduceLROnPlateau("val_loss", 0.5, 1, 1e-5), loom::CSVLogger("history.csv"),
                                loom::LambdaCallback([&](const loom::EpochLogs& logs) { epochs_seen = logs.epoch; })});
    const auto targets = loom::one_hot<float>(y, 10);
    loom::BatchResult grads = net.compute_gradients(x, targets);   // gradients only
    loom::BatchResult step = net.train_on_batch(x, targets);        // gradients and the optimizer's step
    auto copy = net.clone();
    // --- end ---

    net.compile(loom::CrossEntropy{}, loom::SGD(0.01, 0.9));
    const bool ok = hc.epochs() == 1 && epochs_seen == 1 && grads.samples == n && step.samples == n &&
                    copy.param_count() == p && std::filesystem::exists("best.loom") && std::filesystem::exists("history.csv") && p == 1256080 && h.epochs() == 1 && prob.shape() == loom::Shape{n, 10} && e.accuracy >= 0 &&
                    again.predict(x) == prob && raw.shape() == loom::Shape{3, 28, 28};
    std::filesystem::current_path(std::filesystem::temp_directory_path());
    std::filesystem::remove_all(dir);
    std::cout << (ok ? "consumer: OK" : "consumer: FAILED") << '\n';
    return ok ? 0 : 1;
}
