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
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"
#include "loom/data/idx.hpp"
#include "loom/data/preprocess.hpp"

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

// Loads one split. `limit` keeps only the first samples (quicker experiments; the files are still
// opened and validated but only the needed part is decompressed).
inline Dataset load(const std::filesystem::path& dir = default_dir, Split split = Split::train,
                    std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    const auto image_file = detail::locate(file_path(dir, split, true));
    const auto label_file = detail::locate(file_path(dir, split, false));
    const Tensor<std::uint8_t> pixels = read_idx(image_file, limit);
    const Tensor<std::uint8_t> label_bytes = read_idx(label_file, limit);

    require<IoError>(pixels.rank() == 3 && pixels.dim(1) == image_side && pixels.dim(2) == image_side, image_file,
                     ": expected images of shape (N, 28, 28), found ", pixels.shape());
    require<IoError>(label_bytes.rank() == 1, label_file, ": expected labels of shape (N,), found ",
                     label_bytes.shape());
    require<IoError>(pixels.dim(0) == label_bytes.dim(0), image_file, " holds ", pixels.dim(0), " images but ",
                     label_file, " holds ", label_bytes.dim(0), " labels");

    Dataset data;
    data.labels = labels_from(label_bytes);
    for (std::size_t i = 0; i < data.labels.size(); ++i)
        require<IoError>(data.labels[i] >= 0 && static_cast<std::size_t>(data.labels[i]) < classes, label_file,
                         ": label ", data.labels[i], " at index ", i, " is outside [0, ", classes, ")");
    data.images = to_float(pixels.view(), 1.0f / 255.0f);
    data.images.reshape(Shape{pixels.dim(0), image_side, image_side, std::size_t{1}});
    return data;
}

}  // namespace loom::fashion_mnist
