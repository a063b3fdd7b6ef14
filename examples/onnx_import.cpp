// Run a model trained elsewhere (PyTorch, Keras through tf2onnx, ...) with loom: import an ONNX file and
// evaluate it on the Fashion-MNIST test set.
//   python3 bench/pytorch_lenet.py --epochs 10 --save-onnx pytorch_lenet.onnx
//   ./build/examples/onnx_import --model pytorch_lenet.onnx
// The accuracy printed is the val_accuracy PyTorch printed for its last epoch. The imported model is a
// plain loom Sequential: it takes NHWC images (N, 28, 28, 1) whatever layout the file uses, and can be
// saved as a .loom file, compiled and fine-tuned.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>

#include "command_line.hpp"
#include "loom/loom.hpp"
#include "loom/onnx/onnx.hpp"

int main(int argc, char** argv) try {
    examples::CommandLine cli(argc, argv, "Import an ONNX model and evaluate it on Fashion-MNIST with loom");
    const std::string model = cli.text("model", "pytorch_lenet.onnx", "the ONNX file (opsets 11 to 17)");
    const std::string save_loom = cli.text("save-loom", "", "also save the imported model as this .loom file");
    const std::string data_dir = cli.text("data-dir", std::string(loom::fashion_mnist::default_dir),
                                          "folder with the Fashion-MNIST .gz files");
    if (!cli.finish()) return 0;

    auto net = loom::onnx::load<float>(model);
    std::cout << "imported " << model << '\n';
    net.summary(std::cout);
    const auto test = loom::fashion_mnist::load_bytes(data_dir, loom::fashion_mnist::Split::test);
    // PyTorch's reader divides the bytes by 255, loom's scale multiplies by 1/255: a few pixels differ in
    // the last bit. Dividing here feeds loom exactly the images PyTorch evaluated.
    loom::Tensor<float> images(test.images.shape());
    std::transform(test.images.begin(), test.images.end(), images.begin(),
                   [](std::uint8_t pixel) { return static_cast<float>(pixel) / 255.0f; });
    loom::require<loom::ArgumentError>(net.input_shape() == images.shape().without_batch(),
                                       "the model takes ", net.input_shape(), ", not Fashion-MNIST's (28, 28, 1)");
    const auto start = std::chrono::steady_clock::now();
    const auto classes = loom::argmax_rows(net.predict(images));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::size_t correct = 0;
    for (std::size_t i = 0; i < classes.size(); ++i) correct += classes[i] == test.labels[i];
    const loom::ConfusionMatrix confusion(test.labels, classes, 10);
    std::cout << "\nConfusion matrix (rows: true class, columns: predicted)\n";
    confusion.print(std::cout, std::span<const std::string_view>(loom::fashion_mnist::class_names));
    std::cout << "\nloom test accuracy: " << std::fixed << std::setprecision(4)
              << static_cast<double>(correct) / static_cast<double>(classes.size()) << " (" << correct << "/"
              << classes.size() << "), inference " << std::setprecision(2) << seconds << " s\n";
    if (!save_loom.empty()) {
        net.save(save_loom);
        std::cout << "saved " << save_loom << '\n';
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
