#pragma once
// PNG files through libpng's simplified API (png_image, libpng >= 1.6): it handles libpng's
// setjmp/longjmp error reporting internally and returns a status, so no longjmp ever crosses C++
// frames here.
#include <png.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

#include "loom/core/atomic_file.hpp"
#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"

namespace loom {

namespace detail {

// libpng's format code for 8-bit pixels with 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels.
inline png_uint_32 png_format_for(std::size_t channels) {
    switch (channels) {
        case 1: return PNG_FORMAT_GRAY;
        case 2: return PNG_FORMAT_GA;
        case 3: return PNG_FORMAT_RGB;
        case 4: return PNG_FORMAT_RGBA;
        default: throw ArgumentError(concat("PNG pixels need 1 to 4 channels, got ", channels));
    }
}

}  // namespace detail

// Writes 8-bit pixels (row-major, channels interleaved, rows top to bottom) as a PNG, atomically.
inline void write_png(const std::filesystem::path& path, std::size_t width, std::size_t height, std::size_t channels,
                      const std::uint8_t* pixels) {
    constexpr std::size_t limit = std::numeric_limits<std::int32_t>::max();  // PNG's 31-bit extents
    require<ArgumentError>(width >= 1 && height >= 1 && width <= limit && height <= limit,
                           "write_png: image size ", width, "x", height, " is outside 1..2^31-1");
    require<ArgumentError>(pixels != nullptr, "write_png: no pixel data");
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = static_cast<png_uint_32>(width);
    image.height = static_cast<png_uint_32>(height);
    image.format = detail::png_format_for(channels);

    AtomicFile file(path);
    const int ok = png_image_write_to_file(&image, file.temp_path().c_str(), 0, pixels, 0, nullptr);
    const std::string message = image.message;
    png_image_free(&image);
    require<IoError>(ok != 0, "cannot write PNG ", path, ": ", message);
    file.commit();
}

// A grayscale (H, W) or (H, W, C) tensor as a PNG.
inline void write_png(const std::filesystem::path& path, const Tensor<std::uint8_t>& image) {
    require<ShapeError>(image.rank() == 2 || image.rank() == 3,
                        "write_png: expected an (H, W) or (H, W, C) image, got ", image.shape());
    write_png(path, image.dim(1), image.dim(0), image.rank() == 3 ? image.dim(2) : 1, image.data());
}

// Reads a PNG as 8-bit pixels of shape (H, W, C), keeping its channel count (1 gray, 2 gray+alpha,
// 3 RGB, 4 RGBA); palettes and 16-bit samples are converted to 8-bit.
inline Tensor<std::uint8_t> read_png(const std::filesystem::path& path) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path.c_str())) {
        const std::string message = image.message;
        png_image_free(&image);
        throw IoError(detail::concat("cannot read PNG ", path, ": ", message));
    }
    image.format &= PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA;  // drop colormap/linear: plain 8-bit samples
    const std::size_t channels = PNG_IMAGE_PIXEL_CHANNELS(image.format);
    Tensor<std::uint8_t> pixels(Shape{std::size_t{image.height}, std::size_t{image.width}, channels});
    if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
        const std::string message = image.message;
        png_image_free(&image);
        throw IoError(detail::concat("cannot decode PNG ", path, ": ", message));
    }
    return pixels;
}

}  // namespace loom
