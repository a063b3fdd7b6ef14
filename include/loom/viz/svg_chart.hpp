#pragma once
// LineChart: named series of (x, y) points drawn as lines on shared axes, with a legend, written as
// SVG. Made for training curves (loss or accuracy per epoch, training vs validation) and for
// parameter sweeps on a logarithmic x axis (accuracy vs weight decay).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "loom/core/error.hpp"
#include "loom/viz/axis_ticks.hpp"
#include "loom/viz/svg_document.hpp"

namespace loom {

struct ChartSeries {
    std::string name;
    std::vector<double> x, y;
    bool dashed = false;  // e.g. validation dashed, training solid
};

class LineChart {
public:
    std::string title, x_label, y_label;
    bool log_x = false;
    std::optional<double> y_min, y_max;  // fix the y range, e.g. [0, 1] for accuracy
    double width = 760, height = 460;

    LineChart() = default;
    LineChart(std::string title_text, std::string x_text, std::string y_text)
        : title(std::move(title_text)), x_label(std::move(x_text)), y_label(std::move(y_text)) {}

    // Adds a series; NaN or infinite y values leave a gap in its line.
    LineChart& add(std::string name, std::span<const double> x, std::span<const double> y, bool dashed = false) {
        require<ArgumentError>(x.size() == y.size(), "LineChart: series \"", name, "\" has ", x.size(), " x values and ",
                               y.size(), " y values");
        series_.push_back({std::move(name), {x.begin(), x.end()}, {y.begin(), y.end()}, dashed});
        return *this;
    }

    // A series over x = 1, 2, ..., n: one value per epoch.
    LineChart& add(std::string name, std::span<const double> y, bool dashed = false) {
        std::vector<double> x(y.size());
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);
        return add(std::move(name), x, y, dashed);
    }

    const std::vector<ChartSeries>& series() const { return series_; }

    std::string to_svg() const {
        // Plot area; the right margin holds the legend.
        const double left = 72, right = width - 170, top = 44, bottom = height - 56;
        require<ArgumentError>(right > left + 10 && bottom > top + 10, "LineChart: ", width, "x", height,
                               " is too small to draw");

        double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
        for (const auto& s : series_)
            for (std::size_t i = 0; i < s.x.size(); ++i) {
                if (!std::isfinite(s.y[i])) continue;
                require<ArgumentError>(std::isfinite(s.x[i]) && (!log_x || s.x[i] > 0), "LineChart: series \"", s.name,
                                       "\" has x = ", s.x[i], ", which ", log_x ? "a logarithmic" : "an", " x axis cannot show",
                                       log_x ? " (leave out zero and negative values)" : "");
                x_lo = std::min(x_lo, s.x[i]);
                x_hi = std::max(x_hi, s.x[i]);
                y_lo = std::min(y_lo, s.y[i]);
                y_hi = std::max(y_hi, s.y[i]);
            }
        if (x_lo > x_hi) {  // nothing to plot: still draw sensible empty axes
            x_lo = log_x ? 1 : 0;
            x_hi = log_x ? 10 : 1;
            y_lo = 0;
            y_hi = 1;
        }
        if (y_min) y_lo = *y_min;
        if (y_max) y_hi = *y_max;
        require<ArgumentError>(y_lo <= y_hi, "LineChart: y range [", y_lo, ", ", y_hi, "] is empty");

        bool integer_x = true;
        for (const auto& s : series_)
            for (double x : s.x) integer_x = integer_x && x == std::round(x);
        const AxisTicks xt = log_x ? decade_ticks(x_lo, x_hi) : nice_ticks(x_lo, x_hi, 8, integer_x);
        AxisTicks yt = nice_ticks(y_lo, y_hi, 6);
        const auto map_x = [&](double x) {
            const double t = log_x ? (std::log10(x) - std::log10(xt.lo)) / (std::log10(xt.hi) - std::log10(xt.lo))
                                   : (x - xt.lo) / (xt.hi - xt.lo);
            return left + t * (right - left);
        };
        const auto map_y = [&](double y) { return bottom - (y - yt.lo) / (yt.hi - yt.lo) * (bottom - top); };

        SvgDocument svg(width, height);
        svg.text(width / 2, 26, title, {.size = 16, .anchor = "middle", .fill = "#111", .bold = true});

        // Grid and ticks.
        for (double v : yt.values) {
            svg.line(left, map_y(v), right, map_y(v), "#e4e4e4");
            svg.text(left - 8, map_y(v) + 4, format_tick(v, yt.decimals), {.size = 11, .anchor = "end"});
        }
        for (double v : xt.values) {
            svg.line(map_x(v), top, map_x(v), bottom, "#e4e4e4");
            svg.line(map_x(v), bottom, map_x(v), bottom + 5, "#444");
            if (log_x) {
                const int exponent = static_cast<int>(std::lround(std::log10(v)));
                svg.text_markup(map_x(v), bottom + 20,
                                "10<tspan dy=\"-6\" font-size=\"9\">" + std::to_string(exponent) + "</tspan>",
                                {.size = 11, .anchor = "middle"});
            } else {
                svg.text(map_x(v), bottom + 19, format_tick(v, xt.decimals), {.size = 11, .anchor = "middle"});
            }
        }
        if (log_x)  // minor ticks at 2..9 times each decade
            for (std::size_t d = 0; d + 1 < xt.values.size(); ++d)
                for (int m = 2; m <= 9; ++m) {
                    const double x = map_x(xt.values[d] * m);
                    svg.line(x, bottom, x, bottom + 3, "#888");
                }
        svg.rect(left, top, right - left, bottom - top, "none", "#444");
        svg.text((left + right) / 2, height - 14, x_label, {.size = 13, .anchor = "middle"});
        svg.text(18, (top + bottom) / 2, y_label, {.size = 13, .anchor = "middle", .rotate = -90});

        // Series, then the legend beside the plot.
        for (std::size_t k = 0; k < series_.size(); ++k) {
            const auto& s = series_[k];
            const std::string colour = palette[k % palette.size()];
            std::vector<std::pair<double, double>> run;
            const auto flush = [&] {
                if (run.size() >= 2) svg.polyline(run, colour, 2, s.dashed ? "6 4" : "");
                run.clear();
            };
            std::vector<std::size_t> order(s.x.size());
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
            for (std::size_t i : order) {
                if (!std::isfinite(s.y[i])) {
                    flush();
                    continue;
                }
                run.emplace_back(map_x(s.x[i]), map_y(std::clamp(s.y[i], yt.lo, yt.hi)));
                svg.circle(run.back().first, run.back().second, 2.5, colour);
            }
            flush();

            const double ly = top + 10 + 20 * static_cast<double>(k);
            svg.line(right + 14, ly, right + 40, ly, colour, 2.5, s.dashed ? "6 4" : "");
            svg.text(right + 46, ly + 4, s.name, {.size = 12});
        }
        return svg.str();
    }

    void write(const std::filesystem::path& path) const {
        const std::string document = to_svg();
        write_file_atomically(path, document.data(), document.size());
    }

    // Colour-blind-safe (Okabe-Ito) line colours, reused in order.
    static constexpr std::array<const char*, 8> palette{"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                        "#E69F00", "#56B4E9", "#000000", "#F0E442"};

private:
    std::vector<ChartSeries> series_;
};

}  // namespace loom
