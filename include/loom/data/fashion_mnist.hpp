#pragma once
// Fashion-MNIST (Zalando's 28x28 grayscale clothing images, 10 classes, 60000 training and 10000
// test samples) as Debian's dataset-fashion-mnist package installs it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/idx.hpp"
#include "loom/data/preprocess.hpp"
#include "loom/data/samples.hpp"

namespace loom::fashion_mnist {

// In label order: class_names[label].
inline constexpr std::array<std::string_view, 10> class_names{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

inline constexpr std::size_t classes = class_names.size();
inline constexpr std::size_t image_side = 28;
inline constexpr std::string_view default_dir = "/usr/share/datasets/fashion-mnist";

enum class Split { train, test };

struct Dataset {
    Tensor<float> images;     // (N, 28, 28, 1), pixel values in [0, 1]
    std::vector<int> labels;  // N entries in [0, 10)

    std::size_t size() const { return labels.size(); }
};

// The same split with the pixels kept as they are stored, bytes 0..255: a quarter of the memory of
// Dataset (47 MB instead of 188 MB for the training split). fit, evaluate and predict take
// samples(), which scale each batch as they gather it, so they see exactly load()'s floats.
struct ByteDataset {
    Tensor<std::uint8_t> images;  // (N, 28, 28, 1), pixel values 0..255
    std::vector<int> labels;      // N entries in [0, 10)

    std::size_t size() const { return labels.size(); }
    // The images as the model's inputs: pixel * 1/255, in [0, 1].
    template <class T = float>
    Samples<T> samples() const {
        return Samples<T>(images.view(), pixel_scale<T>);
    }
    // `count` images from `first` as T in [0, 1], e.g. to draw them.
    template <class T = float>
    Tensor<T> images_as(std::size_t first, std::size_t count) const {
        return to_float(images.rows(first, first + count), pixel_scale<T>);
    }

    template <class T>
    static constexpr T pixel_scale = T(1) / T(255);
};

// The file of one split: "train" or "t10k" (the dataset's name for the test split), images or labels.
inline std::filesystem::path file_path(const std::filesystem::path& dir, Split split, bool images) {
    const std::string prefix = split == Split::train ? "train" : "t10k";
    return dir / (prefix + (images ? "-images-idx3-ubyte.gz" : "-labels-idx1-ubyte.gz"));
}

namespace detail {

// The .gz file, or the same file decompressed (people often gunzip the downloads).
inline std::filesystem::path locate(const std::filesystem::path& gz_path) {
    std::error_code ec;
    if (std::filesystem::exists(gz_path, ec)) return gz_path;
    std::filesystem::path plain = gz_path;
    plain.replace_extension();
    if (std::filesystem::exists(plain, ec)) return plain;
    throw IoError(loom::detail::concat("Fashion-MNIST file ", gz_path, " not found; install the Debian package ",
                                       "dataset-fashion-mnist or pass the directory that holds the IDX files"));
}

}  // namespace detail

// Loads one split with the pixels as bytes. `limit` keeps only the first samples (quicker
// experiments; the files are still opened and validated but only the needed part is decompressed).
inline ByteDataset load_bytes(const std::filesystem::path& dir = default_dir, Split split = Split::train,
                              std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    const auto image_file = detail::locate(file_path(dir, split, true));
    const auto label_file = detail::locate(file_path(dir, split, false));
    Tensor<std::uint8_t> pixels = read_idx(image_file, limit);
    const Tensor<std::uint8_t> label_bytes = read_idx(label_file, limit);

    require<IoError>(pixels.rank() == 3 && pixels.dim(1) == image_side && pixels.dim(2) == image_side, image_file,
                     ": expected images of shape (N, 28, 28), found ", pixels.shape());
    require<IoError>(label_bytes.rank() == 1, label_file, ": expected labels of shape (N,), found ",
                     label_bytes.shape());
    require<IoError>(pixels.dim(0) == label_bytes.dim(0), image_file, " holds ", pixels.dim(0), " images but ",
                     label_file, " holds ", label_bytes.dim(0), " labels");

    ByteDataset data;
    data.labels = labels_from(label_bytes);
    for (std::size_t i = 0; i < data.labels.size(); ++i)
        require<IoError>(data.labels[i] >= 0 && static_cast<std::size_t>(data.labels[i]) < classes, label_file,
                         ": label ", data.labels[i], " at index ", i, " is outside [0, ", classes, ")");
    pixels.reshape(Shape{pixels.dim(0), image_side, image_side, std::size_t{1}});
    data.images = std::move(pixels);
    return data;
}

// Loads one split with the pixels as floats in [0, 1] (load_bytes' pixels times 1/255).
inline Dataset load(const std::filesystem::path& dir = default_dir, Split split = Split::train,
                    std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    ByteDataset bytes = load_bytes(dir, split, limit);
    Dataset data;
    data.images = to_float(bytes.images.view(), ByteDataset::pixel_scale<float>);
    data.labels = std::move(bytes.labels);
    return data;
}

}  // namespace loom::fashion_mnist
