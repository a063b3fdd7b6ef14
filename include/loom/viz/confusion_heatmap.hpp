#pragma once
// A ConfusionMatrix as an SVG heatmap: rows true class, columns predicted class, each cell showing
// its count and shaded by the fraction of its row, so a rare class's mistakes are as visible as a
// common one's. The shade follows the square root of the fraction: with a linear scale a 3% error
// cell beside a 90% diagonal would be indistinguishable from an empty one.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "loom/core/error.hpp"
#include "loom/metrics/confusion_matrix.hpp"
#include "loom/viz/svg_document.hpp"

namespace loom {

struct ConfusionHeatmapOptions {
    std::string title = "Confusion matrix";
    bool shade_by_row = true;  // false: shade by the fraction of the largest cell
    double cell = 52;          // cell side in pixels
};

namespace detail {

// White to dark blue; t in [0, 1].
inline std::string heat_colour(double t) {
    t = std::clamp(t, 0.0, 1.0);
    const auto mix = [t](double from, double to) { return static_cast<int>(std::lround(from + (to - from) * t)); };
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", mix(247, 8), mix(251, 48), mix(255, 107));
    return buffer;
}

}  // namespace detail

inline std::string confusion_heatmap_svg(const ConfusionMatrix& matrix, std::span<const std::string_view> names = {},
                                         const ConfusionHeatmapOptions& options = {}) {
    const std::size_t n = matrix.classes();
    require<ArgumentError>(names.empty() || names.size() == n, "confusion heatmap: ", names.size(),
                           " class names for ", n, " classes");
    require<ArgumentError>(options.cell >= 8, "confusion heatmap: cells of ", options.cell, " px are too small");
    const auto name = [&](std::size_t c) { return names.empty() ? std::to_string(c) : std::string(names[c]); };

    std::size_t longest = 1;
    for (std::size_t c = 0; c < n; ++c) longest = std::max(longest, name(c).size());
    const double char_width = 7;  // of 12 px sans-serif text, generously
    const double cell = options.cell;
    const double left = 48 + char_width * static_cast<double>(longest);
    const double top = 52;
    const double bottom_labels = 30 + 0.75 * char_width * static_cast<double>(longest);  // labels at -45 degrees
    const double width = left + cell * static_cast<double>(n) + 24;
    const double height = top + cell * static_cast<double>(n) + bottom_labels + 30;

    std::size_t largest = 0;
    for (std::size_t t = 0; t < n; ++t)
        for (std::size_t p = 0; p < n; ++p) largest = std::max(largest, matrix(static_cast<int>(t), static_cast<int>(p)));

    SvgDocument svg(width, height);
    svg.text(width / 2, 28, options.title, {.size = 16, .anchor = "middle", .fill = "#111", .bold = true});
    const double digits_size = std::min(13.0, cell / 4);
    for (std::size_t t = 0; t < n; ++t) {
        const std::size_t row_total = matrix.true_count(static_cast<int>(t));
        const double y = top + cell * static_cast<double>(t);
        for (std::size_t p = 0; p < n; ++p) {
            const std::size_t count = matrix(static_cast<int>(t), static_cast<int>(p));
            const std::size_t scale = options.shade_by_row ? row_total : largest;
            const double shade = scale ? std::sqrt(static_cast<double>(count) / static_cast<double>(scale)) : 0.0;
            const double x = left + cell * static_cast<double>(p);
            svg.rect(x, y, cell, cell, detail::heat_colour(shade), "#ffffff");
            svg.text(x + cell / 2, y + cell / 2 + digits_size / 3, std::to_string(count),
                     {.size = digits_size, .anchor = "middle", .fill = shade > 0.6 ? "#ffffff" : "#222", .bold = t == p});
        }
        svg.text(left - 8, y + cell / 2 + 4, name(t), {.size = 12, .anchor = "end"});
    }
    const double grid_bottom = top + cell * static_cast<double>(n);
    for (std::size_t p = 0; p < n; ++p) {
        const double x = left + cell * (static_cast<double>(p) + 0.5);
        svg.text(x + 4, grid_bottom + 14, name(p), {.size = 12, .anchor = "end", .rotate = -45});
    }
    svg.rect(left, top, cell * static_cast<double>(n), cell * static_cast<double>(n), "none", "#444");
    svg.text(left + cell * static_cast<double>(n) / 2, height - 10, "Predicted class",
             {.size = 13, .anchor = "middle", .bold = true});
    svg.text(16, top + cell * static_cast<double>(n) / 2, "True class",
             {.size = 13, .anchor = "middle", .bold = true, .rotate = -90});
    return svg.str();
}

inline void write_confusion_heatmap(const std::filesystem::path& path, const ConfusionMatrix& matrix,
                                    std::span<const std::string_view> names = {},
                                    const ConfusionHeatmapOptions& options = {}) {
    const std::string document = confusion_heatmap_svg(matrix, names, options);
    write_file_atomically(path, document.data(), document.size());
}

}  // namespace loom
