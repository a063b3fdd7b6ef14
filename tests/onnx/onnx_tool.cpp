// The loom side of the ONNX tests against real clients (registered in tests/onnx/CMakeLists.txt).
//
//   onnx_tool export DIR    trains LeNet a little and builds an MLP and a 3-channel CNN, exports each in
//                           both input layouts (and the MLP in double), and writes real Fashion-MNIST test
//                           images and loom's predictions beside them, listed in DIR/manifest.txt, for
//                           check_models.py (the ONNX checker) and run_onnxruntime.js (onnxruntime).
//   onnx_tool import DIR    reads the PyTorch exports make_torch_fixtures.py listed in DIR/manifest.txt and
//                           checks loom's predictions and test accuracy against PyTorch's.
// Either exits with status 1 when a check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "loom/loom.hpp"
#include "loom/onnx/onnx.hpp"

namespace {

namespace fs = std::filesystem;
using loom::onnx::Layout;

// Fashion-MNIST images as PyTorch scripts make them (byte / 255 in float), so inputs agree to the bit.
loom::fashion_mnist::Dataset test_images(std::size_t limit) {
    auto data = loom::fashion_mnist::load(loom::fashion_mnist::default_dir, loom::fashion_mnist::Split::test, limit);
    for (float& v : data.images) v = std::round(v * 255.0f) / 255.0f;
    return data;
}

template <class T>
void write_values(const fs::path& path, const T* data, std::size_t n) {
    loom::write_file_atomically(path, data, n * sizeof(T));
}

std::vector<float> read_floats(const fs::path& path, std::size_t n) {
    const auto bytes = loom::model_file::read_file(path);
    loom::require<loom::IoError>(bytes.size() == n * sizeof(float), path, ": expected ", n, " floats, found ",
                                 bytes.size(), " bytes");
    std::vector<float> v(n);
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
}

// NHWC -> NCHW, for the inputs of models exported with Layout::NCHW.
template <class T>
loom::Tensor<T> to_nchw(const loom::Tensor<T>& x) {
    const std::size_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
    loom::Tensor<T> out({n, c, h, w});
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t xx = 0; xx < w; ++xx)
                for (std::size_t ch = 0; ch < c; ++ch)
                    out[((s * c + ch) * h + y) * w + xx] = x[((s * h + y) * w + xx) * c + ch];
    return out;
}

std::string dims(const loom::Shape& s) {
    std::string out;
    for (std::size_t i = 0; i < s.rank(); ++i) {
        if (i) out += ',';
        out += std::to_string(s[i]);
    }
    return out;
}

struct Exported {
    std::ofstream manifest;
    fs::path dir;

    // One line per case: model input-file input-shape expected-file output-shape element-type.
    template <class T>
    void add(loom::Sequential<T>& net, const std::string& name, const loom::Tensor<T>& x) {
        const loom::Tensor<T> y = net.predict(x);
        const std::string type = std::is_same_v<T, float> ? "float32" : "float64";
        write_values(dir / (name + ".expected"), y.data(), y.size());
        for (Layout layout : {Layout::NHWC, Layout::NCHW}) {
            const bool nchw = layout == Layout::NCHW;
            const std::string file = name + (nchw ? "_nchw" : "_nhwc");
            loom::onnx::SaveOptions options;
            options.input_layout = layout;
            loom::onnx::save(net, dir / (file + ".onnx"), options);
            const loom::Tensor<T> input = nchw && x.rank() == 4 ? to_nchw(x) : x;
            write_values(dir / (file + ".input"), input.data(), input.size());
            manifest << file << ".onnx " << file << ".input " << dims(input.shape()) << ' ' << name << ".expected "
                     << dims(y.shape()) << ' ' << type << '\n';
            // Round trip: the exported file read back by loom predicts exactly what the model does.
            auto back = loom::onnx::load<T>(dir / (file + ".onnx"));
            const loom::Tensor<T> again = back.predict(x);
            double diff = 0;
            for (std::size_t i = 0; i < y.size(); ++i)
                diff = std::max(diff, static_cast<double>(std::abs(again[i] - y[i])));
            std::cout << "round trip " << file << ": max abs diff " << diff << '\n';
            loom::require(diff == 0, "round trip of ", file, " changed the predictions");
        }
    }
};

int export_models(const fs::path& dir) {
    fs::create_directories(dir);
    Exported out{std::ofstream(dir / "manifest.txt"), dir};
    const auto train = loom::fashion_mnist::load(loom::fashion_mnist::default_dir, loom::fashion_mnist::Split::train, 2000);
    const auto test = test_images(256);

    // LeNet (the seed's CNN), trained for one epoch on 2,000 images so its weights are not noise.
    auto lenet = loom::lenet<float>();
    lenet.compile(loom::CrossEntropy{}, loom::Adam(1e-3));
    loom::FitOptions fit;
    fit.epochs = 1;
    fit.batch_size = 32;
    fit.verbose = false;
    lenet.fit(train.images, train.labels, fit);
    std::cout << "lenet: test accuracy on " << test.labels.size() << " images "
              << lenet.evaluate(test.images, test.labels).accuracy << '\n';
    out.add(lenet, "lenet", test.images);

    // An MLP with every other exported layer, trained likewise.
    loom::Sequential<float> mlp({28, 28, 1}, 7);
    mlp.add<loom::Flatten>().add<loom::Dense>(64).add<loom::ReLU>().add<loom::Dropout>(0.2)
        .add<loom::Dense>(32).add<loom::Sigmoid>().add<loom::Dense>(10).add<loom::Softmax>();
    mlp.compile(loom::CrossEntropy{}, loom::Adam(1e-3));
    mlp.fit(train.images, train.labels, fit);
    out.add(mlp, "mlp", test.images);

    // Three channels (the image, its negative, its square), strides, valid and same padding, a
    // Flatten of images followed by Softmax, Tanh and Dense: the layout changes where they matter.
    loom::Tensor<float> rgb({test.images.dim(0), 28, 28, 3});
    for (std::size_t i = 0; i < test.images.size(); ++i) {
        const float v = test.images[i];
        rgb[3 * i] = v, rgb[3 * i + 1] = 1 - v, rgb[3 * i + 2] = v * v;
    }
    loom::Sequential<float> cnn({28, 28, 3}, 11);
    cnn.add<loom::Conv2D>(8, 3, 5, loom::Padding::Valid, 2, 1).add<loom::Tanh>()
        .add<loom::MaxPool2D>(3, 2, loom::Padding::Same).add<loom::Conv2D>(6, 2, 2, loom::Padding::Same, 1, 2)
        .add<loom::Flatten>().add<loom::Tanh>().add<loom::Dense>(10).add<loom::Softmax>();
    out.add(cnn, "cnn3", rgb);

    // The MLP in double precision.
    loom::Sequential<double> mlp64({28, 28, 1}, 5);
    mlp64.add<loom::Flatten>().add<loom::Dense>(32).add<loom::Tanh>().add<loom::Dense>(10).add<loom::Softmax>();
    loom::Tensor<double> x64(test.images.shape());
    std::copy(test.images.begin(), test.images.end(), x64.begin());
    out.add(mlp64, "mlp64", x64);
    return 0;
}

// manifest.txt lines: onnx-file torch-outputs-file correct-count image-count.
// Outputs must agree within 1e-5 times max(1, |PyTorch's value|): LeNet's outputs are logits of up to
// about 20, whose float32 rounding through 1.2 M weights summed in different orders alone is a few 1e-6.
int import_models(const fs::path& dir) {
    std::ifstream manifest(dir / "manifest.txt");
    loom::require<loom::IoError>(manifest.good(), "cannot read ", dir / "manifest.txt");
    const auto test = test_images(10000);
    std::string line;
    std::size_t cases = 0;
    bool ok = true;
    std::map<std::string, std::vector<float>> weights_of;  // by PyTorch outputs file, i.e. by model
    std::map<std::string, loom::Tensor<float>> predictions;
    while (std::getline(manifest, line)) {
        std::istringstream in(line);
        std::string model, outputs;
        std::size_t correct = 0, n = 0;
        if (!(in >> model >> outputs >> correct >> n)) continue;
        loom::require(n == test.labels.size(), "expected outputs for the 10,000 test images");
        auto net = loom::onnx::load<float>(dir / model);
        // The opsets of one PyTorch model must import to bitwise the same loom weights; then loom's
        // (deterministic) predictions are the same too, and only the first of them is computed.
        std::vector<float> weights;
        for (std::size_t l = 0; l < net.size(); ++l)
            for (const auto& p : net.layer(l).parameters()) weights.insert(weights.end(), p.value->begin(), p.value->end());
        auto& y = predictions[outputs];
        if (weights_of[outputs].empty()) {
            weights_of[outputs] = weights;
            y = net.predict(test.images);
        } else if (weights != weights_of[outputs]) {
            std::cout << model << ": imported weights differ from those of the same model at another opset  FAILED\n";
            ok = false;
            continue;
        }
        const std::vector<float> expected = read_floats(dir / outputs, y.size());
        double diff = 0, scaled = 0;
        for (std::size_t i = 0; i < y.size(); ++i) {
            const double d = std::abs(static_cast<double>(y[i]) - expected[i]);
            diff = std::max(diff, d);
            scaled = std::max(scaled, d / std::max(1.0, std::abs(static_cast<double>(expected[i]))));
        }
        const std::size_t classes = y.dim(1);
        std::size_t hits = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const float* row = y.data() + i * classes;
            hits += static_cast<int>(std::max_element(row, row + classes) - row) == test.labels[i];
        }
        const bool pass = scaled <= 1e-5 && hits == correct;
        std::cout << model << ": max abs diff to PyTorch " << diff << " (scaled " << scaled << "); test accuracy loom "
                  << static_cast<double>(hits) / static_cast<double>(n) << " (" << hits << "/" << n << "), PyTorch "
                  << static_cast<double>(correct) / static_cast<double>(n) << " (" << correct << "/" << n << ")"
                  << (pass ? "" : "  FAILED") << '\n';
        ok = ok && pass;
        ++cases;
    }
    loom::require(cases >= 6, dir / "manifest.txt", " lists ", cases, " models, expected 6 (2 models x 3 opsets)");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string mode = argc == 3 ? argv[1] : "";
    if (mode == "export") return export_models(argv[2]);
    if (mode == "import") return import_models(argv[2]);
    std::cerr << "usage: onnx_tool export|import DIR\n";
    return 2;
} catch (const std::exception& e) {
    std::cerr << "onnx_tool: " << e.what() << '\n';
    return 1;
}
