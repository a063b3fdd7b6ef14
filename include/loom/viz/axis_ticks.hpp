#pragma once
// Tick positions a reader can take in at a glance: linear axes step by 1, 2 or 5 times a power of
// ten; logarithmic axes tick at whole decades.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "loom/core/error.hpp"

namespace loom {

struct AxisTicks {
    double lo = 0, hi = 1;       // the axis range, widened to whole steps
    std::vector<double> values;  // tick positions within [lo, hi]
    int decimals = 0;            // enough decimals to tell neighbouring ticks apart
};

// About `target` ticks covering [lo, hi]; the range is widened to the enclosing ticks. An empty or
// degenerate range is widened around its value. `integers` keeps the step at 1 or more, for
// counts such as epochs where 2.5 means nothing.
inline AxisTicks nice_ticks(double lo, double hi, std::size_t target = 6, bool integers = false) {
    require<ArgumentError>(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && target >= 1,
                           "nice_ticks: invalid range [", lo, ", ", hi, "]");
    if (hi - lo < 1e-12 * std::max(1.0, std::abs(lo))) {
        const double half = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
        lo -= half;
        hi += half;
    }
    const double raw_step = (hi - lo) / static_cast<double>(target);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
    const double fraction = raw_step / magnitude;
    double step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
    if (integers) step = std::max(step, 1.0);

    AxisTicks ticks;
    const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
    ticks.lo = first * step;
    ticks.hi = last * step;
    for (double k = first; k <= last + 0.5; k += 1) ticks.values.push_back(k * step == 0 ? 0.0 : k * step);
    ticks.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
    return ticks;
}

// Whole decades covering [lo, hi] (both > 0).
inline AxisTicks decade_ticks(double lo, double hi) {
    require<ArgumentError>(lo > 0 && hi >= lo && std::isfinite(hi), "decade_ticks: a logarithmic axis needs 0 < lo <= hi, got [",
                           lo, ", ", hi, "]");
    const int first = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
    int last = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
    if (last == first) ++last;
    AxisTicks ticks;
    ticks.lo = std::pow(10.0, first);
    ticks.hi = std::pow(10.0, last);
    for (int k = first; k <= last; ++k) ticks.values.push_back(std::pow(10.0, k));
    return ticks;
}

inline std::string format_tick(double value, int decimals) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    std::string s = buffer;
    return s == "-0" ? "0" : s;
}

}  // namespace loom
