// Writes the seed corpora of tests/fuzz/corpus/<target>/: a few small valid IDX files, saved models
// and checkpoints. Run once after a format change: make_corpus <tests/fuzz/corpus>.
#include <filesystem>
#include <iostream>
#include <span>

#include "loom/loom.hpp"
#include "loom/onnx/onnx.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: make_corpus <corpus dir>\n";
        return 2;
    }
    const fs::path root = argv[1];
    for (const char* target : {"idx", "model", "checkpoint"}) fs::create_directories(root / target);

    loom::Tensor<std::uint8_t> images(loom::Shape{3, 4, 5});
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<std::uint8_t>(i * 37);
    loom::Tensor<std::uint8_t> labels(loom::Shape{5}, {0, 9, 3, 1, 7});
    loom::write_idx(root / "idx" / "images.idx", images, false);
    loom::write_idx(root / "idx" / "images.idx.gz", images, true);
    loom::write_idx(root / "idx" / "labels.idx", labels, false);
    loom::write_idx(root / "idx" / "labels.idx.gz", labels, true);
    loom::write_idx(root / "idx" / "empty.idx", loom::Tensor<std::uint8_t>(loom::Shape{0, 2}), false);
    // The same images as two gzip members, as `cat a.gz b.gz` makes them: the member boundary falls
    // inside the header, so the reader must join members to see a valid file.
    const auto plain = loom::model_file::read_file(root / "idx" / "images.idx");
    const std::span<const unsigned char> whole(plain);
    auto members = loom::gzip_compress(whole.first(9), "images.idx");
    const auto second = loom::gzip_compress(whole.subspan(9), "images.idx");
    members.insert(members.end(), second.begin(), second.end());
    loom::write_file_atomically(root / "idx" / "images-two-members.idx.gz", members.data(), members.size());

    loom::Sequential<float> mlp({3}, 1);
    mlp.add<loom::Dense>(4).add<loom::Tanh>().add<loom::Dense>(2).add<loom::Softmax>();
    mlp.save(root / "model" / "mlp.loom");
    loom::Sequential<float> cnn({5, 4, 2}, 2);
    cnn.add<loom::Conv2D>(2, 3, loom::Padding::Same).add<loom::ReLU>().add<loom::MaxPool2D>(2)
        .add<loom::Flatten>().add<loom::Dropout>(0.5).add<loom::Dense>(2).add<loom::Sigmoid>();
    cnn.save(root / "model" / "cnn.loom");
    loom::Sequential<double> line({1}, 3);
    line.add<loom::Dense>(1);
    line.save(root / "model" / "double.loom");
    // fuzz_onnx: the same models as ONNX, in both input layouts (torch.onnx.export seeds come from
    // tests/onnx/make_torch_fixtures.py --fuzz-seeds).
    fs::create_directories(root / "onnx");
    loom::onnx::save(mlp, root / "onnx" / "mlp.onnx");
    loom::onnx::save(cnn, root / "onnx" / "cnn_nhwc.onnx");
    loom::onnx::save(cnn, root / "onnx" / "cnn_nchw.onnx", {loom::onnx::Layout::NCHW});
    loom::onnx::save(line, root / "onnx" / "double.onnx");

    loom::Tensor<float> x(loom::Shape{6, 3});
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 5) / 5.0f;
    const std::vector<int> y{0, 1, 0, 1, 1, 0};
    loom::FitOptions o;
    o.epochs = 1;
    o.batch_size = 4;
    o.verbose = false;
    o.checkpoint_every = 1;
    o.checkpoint_path = root / "checkpoint" / "adam.ckpt";
    mlp.compile(loom::CrossEntropy{}, loom::Adam(0.01));
    mlp.fit(x, y, o);
    loom::Sequential<float> drop({3}, 4);
    drop.add<loom::Dropout>(0.2).add<loom::Dense>(2).add<loom::Softmax>();
    drop.compile(loom::CrossEntropy{}, loom::SGD(0.1, 0.9));
    o.checkpoint_path = root / "checkpoint" / "sgd.ckpt";
    o.validation_split = 0.3;
    drop.fit(x, y, o);
    return 0;
}
