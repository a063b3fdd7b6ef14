#pragma once
// A contact sheet of grayscale samples: each image enlarged by an integer zoom (nearest neighbour,
// so pixels stay crisp) with a caption underneath, written as a PNG. Used to look at the dataset
// and at what a model gets wrong.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"
#include "loom/viz/bitmap_text.hpp"
#include "loom/viz/png.hpp"

namespace loom {

struct ImageGridOptions {
    std::size_t columns = 10;
    std::size_t zoom = 3;
    std::size_t padding = 6;  // pixels between cells and around the sheet
    int text_scale = 1;
    bool invert = false;  // draw 1.0 as black: dark garments on white instead of bright on black
};

// Captions naming each sample's class.
inline std::vector<std::string> class_captions(std::span<const int> labels, std::span<const std::string_view> names) {
    std::vector<std::string> captions;
    captions.reserve(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        require<ArgumentError>(labels[i] >= 0 && static_cast<std::size_t>(labels[i]) < names.size(), "label ",
                               labels[i], " at index ", i, " has no class name (", names.size(), " names)");
        captions.emplace_back(names[static_cast<std::size_t>(labels[i])]);
    }
    return captions;
}

// Captions for a model's predictions: the true class, plus "as <predicted>" on a second line when wrong.
inline std::vector<std::string> prediction_captions(std::span<const int> truth, std::span<const int> predicted,
                                                    std::span<const std::string_view> names) {
    require<ArgumentError>(truth.size() == predicted.size(), "prediction_captions: ", truth.size(),
                           " true labels but ", predicted.size(), " predictions");
    auto captions = class_captions(truth, names);
    const auto predicted_names = class_captions(predicted, names);
    for (std::size_t i = 0; i < captions.size(); ++i)
        if (truth[i] != predicted[i]) captions[i] += "\nas " + predicted_names[i];
    return captions;
}

// Renders images (N, H, W) or (N, H, W, 1) with values in [0, 1] (clamped) into an (H', W')
// canvas. `captions` is empty or has one entry per image.
inline Tensor<std::uint8_t> render_image_grid(TensorView<const float> images, std::span<const std::string> captions,
                                              const ImageGridOptions& options = {}) {
    const bool gray = images.rank() == 3 || (images.rank() == 4 && images.dim(3) == 1);
    require<ShapeError>(gray && images.dim(0) >= 1, "image grid: expected N >= 1 grayscale images (N, H, W) or (N, H, W, 1), got ",
                        images.shape());
    require<ArgumentError>(captions.empty() || captions.size() == images.dim(0), "image grid: ", captions.size(),
                           " captions for ", images.dim(0), " images");
    require<ArgumentError>(options.columns >= 1 && options.zoom >= 1 && options.text_scale >= 1,
                           "image grid: columns, zoom and text_scale must be >= 1");

    const std::size_t count = images.dim(0), height = images.dim(1), width = images.dim(2);
    const std::size_t cell_width = width * options.zoom, image_height = height * options.zoom;
    const int caption_width = static_cast<int>(cell_width);
    std::vector<std::string> fitted;
    std::size_t caption_lines = 0;
    for (const auto& caption : captions) {
        fitted.push_back(fit_bitmap_text(caption, caption_width, options.text_scale));
        caption_lines = std::max<std::size_t>(caption_lines, 1 + std::count(caption.begin(), caption.end(), '\n'));
    }
    const std::size_t caption_height =
        caption_lines * static_cast<std::size_t>(bitmap_text_line_height * options.text_scale);
    const std::size_t cell_height = image_height + caption_height;
    const std::size_t columns = std::min(options.columns, count);
    const std::size_t rows = (count + columns - 1) / columns;
    const std::size_t pad = options.padding;

    Tensor<std::uint8_t> canvas(Shape{rows * (cell_height + pad) + pad, columns * (cell_width + pad) + pad},
                                std::uint8_t{255});
    const std::size_t sample_size = height * width;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t left = pad + (i % columns) * (cell_width + pad);
        const std::size_t top = pad + (i / columns) * (cell_height + pad);
        const float* sample = images.data() + i * sample_size;
        for (std::size_t y = 0; y < image_height; ++y)
            for (std::size_t x = 0; x < cell_width; ++x) {
                const float v = std::clamp(sample[(y / options.zoom) * width + x / options.zoom], 0.0f, 1.0f);
                const auto level = static_cast<std::uint8_t>(std::lround(v * 255.0f));
                canvas(top + y, left + x) = options.invert ? static_cast<std::uint8_t>(255 - level) : level;
            }
        if (!fitted.empty()) {
            // Centre each caption line under its image.
            std::size_t line_start = 0;
            int line = 0;
            const std::string& text = fitted[i];
            while (line_start <= text.size()) {
                const std::size_t line_end = std::min(text.find('\n', line_start), text.size());
                const std::string_view piece(text.data() + line_start, line_end - line_start);
                const int x = static_cast<int>(left) + (caption_width - bitmap_text_width(piece, options.text_scale)) / 2;
                const int y = static_cast<int>(top + image_height) + 2 * options.text_scale +
                              line * bitmap_text_line_height * options.text_scale;
                draw_bitmap_text(canvas.view(), x, y, piece, options.text_scale, 0);
                line_start = line_end + 1;
                ++line;
            }
        }
    }
    return canvas;
}

inline void write_image_grid(const std::filesystem::path& path, TensorView<const float> images,
                             std::span<const std::string> captions, const ImageGridOptions& options = {}) {
    write_png(path, render_image_grid(images, captions, options));
}

// The grid captioned with class names: labels[i] indexes class_names.
inline void write_image_grid(const std::filesystem::path& path, TensorView<const float> images,
                             std::span<const int> labels, std::span<const std::string_view> class_names,
                             const ImageGridOptions& options = {}) {
    const auto captions = class_captions(labels, class_names);
    write_image_grid(path, images, std::span<const std::string>(captions), options);
}

}  // namespace loom
