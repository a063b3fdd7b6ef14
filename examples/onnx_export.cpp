// Train LeNet on Fashion-MNIST with loom and export it to ONNX, for onnxruntime, OpenVINO, TensorRT...
//   ./build/examples/onnx_export --epochs 10 --out lenet.onnx            (input: NHWC, like loom's predict)
//   ./build/examples/onnx_export --layout nchw --out lenet_nchw.onnx     (input: NCHW, like PyTorch's)
// The exported file is read back with loom::onnx::load to show that it predicts exactly what the model
// does. In Python, onnxruntime runs it with
//   onnxruntime.InferenceSession("lenet.onnx").run(None, {"input": images})   # (N, 28, 28, 1) float32
#include <iomanip>
#include <iostream>

#include "command_line.hpp"
#include "loom/loom.hpp"
#include "loom/onnx/onnx.hpp"

int main(int argc, char** argv) try {
    examples::CommandLine cli(argc, argv, "Train LeNet on Fashion-MNIST with loom and export it to ONNX");
    const auto epochs = cli.integer("epochs", 1, "training epochs");
    const auto train_size = cli.integer("train-size", 60000, "training images to use (the first N)");
    const auto batch_size = cli.integer("batch-size", 128, "minibatch size");
    const std::string layout = cli.text("layout", "nhwc", "input layout of the ONNX graph: nhwc or nchw");
    const std::string out = cli.text("out", "lenet.onnx", "the ONNX file to write");
    const auto test_size = cli.integer("test-size", 10000, "test images to evaluate on (the first N)");
    const std::string data_dir = cli.text("data-dir", std::string(loom::fashion_mnist::default_dir),
                                          "folder with the Fashion-MNIST .gz files");
    if (!cli.finish()) return 0;
    loom::require<loom::ArgumentError>(epochs >= 1 && train_size >= 1 && batch_size >= 1 && test_size >= 1,
                                       "--epochs, --train-size, --test-size and --batch-size must be positive");
    loom::require<loom::ArgumentError>(layout == "nhwc" || layout == "nchw", "--layout must be nhwc or nchw");

    const auto train = loom::fashion_mnist::load(data_dir, loom::fashion_mnist::Split::train,
                                                 static_cast<std::size_t>(train_size));
    const auto test = loom::fashion_mnist::load(data_dir, loom::fashion_mnist::Split::test,
                                                static_cast<std::size_t>(test_size));
    auto net = loom::lenet<float>();
    const auto updates = static_cast<std::uint64_t>(epochs) *
                         ((train.size() + static_cast<std::size_t>(batch_size) - 1) / static_cast<std::size_t>(batch_size));
    net.compile(loom::CrossEntropy{}, loom::Adam(loom::CosineDecay(1e-3, updates)));
    loom::FitOptions options;
    options.epochs = static_cast<std::size_t>(epochs);
    options.batch_size = static_cast<std::size_t>(batch_size);
    net.fit(train.images, train.labels, options);
    std::cout << "loom test accuracy: " << std::fixed << std::setprecision(4)
              << net.evaluate(test.images, test.labels).accuracy << '\n';

    loom::onnx::SaveOptions save_options;
    save_options.input_layout = layout == "nchw" ? loom::onnx::Layout::NCHW : loom::onnx::Layout::NHWC;
    loom::onnx::save(net, out, save_options);
    std::cout << "saved " << out << " (ONNX IR " << loom::onnx::export_ir_version << ", opset "
              << loom::onnx::export_opset << ", input 'input' " << (layout == "nchw" ? "(N, 1, 28, 28)" : "(N, 28, 28, 1)")
              << ", output 'output' (N, 10) probabilities)\n";

    auto back = loom::onnx::load<float>(out);
    const bool same = back.predict(test.images) == net.predict(test.images);  // bitwise
    std::cout << "read back with loom::onnx::load: predictions " << (same ? "identical" : "DIFFER") << '\n';
    return same ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
}
