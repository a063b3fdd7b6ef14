#pragma once
// Text on 8-bit grayscale canvases with stb_easy_font (Debian's libstb-dev): a tiny built-in
// bitmap font described as axis-aligned quads, so rendering needs no font files and no
// rasterizer beyond filling rectangles. ASCII only; glyphs are about 7 units high (9 with
// descenders) on a 12-unit line, each unit drawn as scale x scale pixels.
//
// stb_easy_font defines its functions `static`, so each translation unit gets its own copy; that
// is what makes it safe to include from a header-only library.
#include <stb/stb_easy_font.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/core/tensor.hpp"

namespace loom {

inline constexpr int bitmap_text_line_height = 12;

// Width in pixels of the widest line of `text` at the given scale.
inline int bitmap_text_width(std::string_view text, int scale = 1) {
    std::string copy(text);  // stb's API takes a mutable char*
    return stb_easy_font_width(copy.data()) * scale;
}

// Draws `text` (lines separated by '\n') with its top-left corner at (x, y) on an (H, W) canvas,
// setting covered pixels to `value`. Parts outside the canvas are clipped.
inline void draw_bitmap_text(TensorView<std::uint8_t> canvas, int x, int y, std::string_view text, int scale = 1,
                             std::uint8_t value = 0) {
    require<ShapeError>(canvas.rank() == 2, "draw_bitmap_text: expected an (H, W) canvas, got ", canvas.shape());
    require<ArgumentError>(scale >= 1, "draw_bitmap_text: scale must be >= 1, got ", scale);
    if (text.empty()) return;
    std::string copy(text);
    // stb stores 4 vertices of 16 bytes per quad and truncates silently when the buffer is full;
    // grow until the quads fit with room to spare.
    std::vector<char> vertices(copy.size() * 1024 + 1024);
    int quads = 0;
    for (;;) {
        quads = stb_easy_font_print(0, 0, copy.data(), nullptr, vertices.data(), static_cast<int>(vertices.size()));
        if (static_cast<std::size_t>(quads + 1) * 64 < vertices.size()) break;
        vertices.resize(vertices.size() * 2);
    }
    const long height = static_cast<long>(canvas.dim(0)), width = static_cast<long>(canvas.dim(1));
    for (int q = 0; q < quads; ++q) {
        float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
        for (int v = 0; v < 4; ++v) {
            float position[2];
            std::copy_n(vertices.data() + (q * 4 + v) * 16, sizeof position, reinterpret_cast<char*>(position));
            x0 = std::min(x0, position[0]);
            x1 = std::max(x1, position[0]);
            y0 = std::min(y0, position[1]);
            y1 = std::max(y1, position[1]);
        }
        const long left = std::max(0L, x + std::lround(x0 * static_cast<float>(scale)));
        const long right = std::min(width, x + std::lround(x1 * static_cast<float>(scale)));
        const long top = std::max(0L, y + std::lround(y0 * static_cast<float>(scale)));
        const long bottom = std::min(height, y + std::lround(y1 * static_cast<float>(scale)));
        for (long row = top; row < bottom; ++row)
            for (long col = left; col < right; ++col)
                canvas(static_cast<std::size_t>(row), static_cast<std::size_t>(col)) = value;
    }
}

// `text` shortened with a trailing '.' until each line fits `max_width` pixels.
inline std::string fit_bitmap_text(std::string_view text, int max_width, int scale = 1) {
    std::string result, line;
    auto flush = [&] {
        if (bitmap_text_width(line, scale) > max_width) {
            while (!line.empty() && bitmap_text_width(line + '.', scale) > max_width) line.pop_back();
            line += '.';
        }
        result += line;
        line.clear();
    };
    for (char c : text) {
        if (c == '\n') {
            flush();
            result += '\n';
        } else {
            line += c;
        }
    }
    flush();
    return result;
}

}  // namespace loom
