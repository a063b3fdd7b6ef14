#pragma once
// LBFGS: limited-memory BFGS for full-batch minimisation of a smooth function of a flat parameter
// vector, computed in double. It exists to reproduce R's nnet, whose optimiser (vmmin, a dense BFGS)
// keeps an n x n inverse Hessian: for a 784-50-10 network that is 39,760^2 doubles, 12.6 GB. L-BFGS
// keeps only the last `history` step/gradient-change pairs, O(history * n) memory, and with a strong
// Wolfe line search its curvature pairs always satisfy s'y > 0, so the implicit Hessian stays positive
// definite without the restarts a plain backtracking search needs.
//
// Stopping follows nnet/optim: after each accepted step, stop when f < abstol (an essentially perfect
// fit) or when the step reduced f by no more than reltol * (|f| + reltol); also when the largest
// gradient component is at most gradient_tolerance, or after max_iterations accepted steps.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "loom/core/error.hpp"

namespace loom {

struct LbfgsOptions {
    std::size_t history = 10;          // (s, y) pairs kept; 5-20 is the usual range
    std::size_t max_iterations = 100;  // accepted steps (nnet's maxit)
    double abstol = 1e-4;              // stop when f falls below this (nnet's abstol; -inf to disable)
    double reltol = 1e-8;              // stop when a step gains less than reltol * (|f| + reltol) (nnet's reltol)
    double gradient_tolerance = 0;     // stop when max |g_i| <= this (0: only an exactly zero gradient)
    // Strong Wolfe line search: sufficient decrease f(a) <= f0 + c1 a f0' and curvature
    // |f'(a)| <= c2 |f0'|, with 0 < c1 < c2 < 1 (c2 = 0.9 is the usual choice for quasi-Newton).
    double c1 = 1e-4;
    double c2 = 0.9;
    std::size_t max_line_search_evaluations = 20;
    // Near a minimum the decrease that sufficient decrease asks for drowns in rounding error. A trial
    // point whose f is within value_noise * |f0| of f0 and whose slope meets the curvature condition
    // is then accepted (Hager and Zhang's "approximate Wolfe" conditions): by the quadratic model it
    // does decrease f, the arithmetic just cannot show it.
    double value_noise = 1e-12;
    double max_step = 1e20;  // longest step (as a multiple of the search direction) ever tried
};

enum class LbfgsStop {
    AbsoluteTolerance,  // f < abstol
    RelativeTolerance,  // the last step gained less than reltol relatively
    Gradient,           // the gradient is (nearly) zero
    MaxIterations,
    LineSearchFailed,   // no acceptable step even along steepest descent (f is not smooth or is noisy)
};

inline std::string to_string(LbfgsStop stop) {
    switch (stop) {
        case LbfgsStop::AbsoluteTolerance: return "converged (abstol)";
        case LbfgsStop::RelativeTolerance: return "converged (reltol)";
        case LbfgsStop::Gradient: return "converged (gradient)";
        case LbfgsStop::MaxIterations: return "stopped after max iterations";
        case LbfgsStop::LineSearchFailed: return "line search failed";
    }
    return "unknown";
}

struct LbfgsResult {
    double f = 0;                   // the value at the returned point
    double gradient_norm = 0;       // max |g_i| there
    std::size_t iterations = 0;     // accepted steps
    std::size_t evaluations = 0;    // calls of the objective, the first included
    LbfgsStop stop = LbfgsStop::MaxIterations;
    std::vector<double> trace;      // f at the start and after every accepted step

    bool converged() const { return stop != LbfgsStop::MaxIterations && stop != LbfgsStop::LineSearchFailed; }
};

class LBFGS {
public:
    // Returns f(x) and writes its gradient into g (same length as x).
    using Objective = std::function<double(std::span<const double> x, std::span<double> g)>;
    // Called after every accepted step with the iteration number (1, 2, ...) and the new f.
    using IterationCallback = std::function<void(std::size_t iteration, double f)>;

    explicit LBFGS(const LbfgsOptions& options = {}) : o_(options) {
        require<ArgumentError>(o_.history >= 1, "LBFGS: expected a history of at least 1 pair");
        require<ArgumentError>(o_.c1 > 0 && o_.c1 < o_.c2 && o_.c2 < 1, "LBFGS: expected 0 < c1 < c2 < 1, got c1 = ",
                               o_.c1, ", c2 = ", o_.c2);
        require<ArgumentError>(o_.max_line_search_evaluations >= 1, "LBFGS: expected at least 1 line search evaluation");
        require<ArgumentError>(o_.reltol >= 0 && o_.gradient_tolerance >= 0 && o_.value_noise >= 0 && o_.max_step > 0,
                               "LBFGS: tolerances must be >= 0 and max_step > 0");
    }

    const LbfgsOptions& options() const { return o_; }

    // Minimises from x, leaving the final point in x. Throws NumericError when f or its gradient is
    // not finite at the start (a non-finite trial point later only shortens the step).
    LbfgsResult minimize(const Objective& objective, std::span<double> x, const IterationCallback& on_iteration = {}) const {
        const std::size_t n = x.size();
        require<ArgumentError>(n >= 1, "LBFGS: nothing to minimise (empty parameter vector)");
        for (double v : x) require<NumericError>(std::isfinite(v), "LBFGS: the starting point is not finite");

        LbfgsResult result;
        std::vector<double> g(n), d(n), x0(n), g_new(n), x_trial(n), g_trial(n);
        double f = objective(x, g);
        result.evaluations = 1;
        require<NumericError>(std::isfinite(f), "LBFGS: the objective is ", f, " at the starting point");
        for (double v : g) require<NumericError>(std::isfinite(v), "LBFGS: the gradient is not finite at the starting point");
        result.trace.push_back(f);

        History memory(o_.history, n);
        const auto finish = [&](LbfgsStop why) {
            result.f = f;
            result.gradient_norm = max_abs(g);
            result.stop = why;
            return result;
        };
        if (max_abs(g) <= o_.gradient_tolerance) return finish(LbfgsStop::Gradient);

        while (result.iterations < o_.max_iterations) {
            memory.direction(g, d);
            double slope = dot(g, d);
            if (!(slope < 0)) {  // curvature pairs spoilt by rounding: fall back to steepest descent
                memory.clear();
                memory.direction(g, d);
                slope = dot(g, d);
            }
            std::copy(x.begin(), x.end(), x0.begin());
            LineSearch ls(o_, objective, x0, d, x_trial, g_trial, g_new, f, slope);
            bool ok = ls.run(initial_step(memory, g));
            if (!ok && !memory.empty()) {
                // A stale quasi-Newton model can point somewhere useless; retry along -g once.
                memory.clear();
                memory.direction(g, d);
                ls.restart(dot(g, d));
                ok = ls.run(initial_step(memory, g));
            }
            result.evaluations += ls.evaluations();
            if (!ok) return finish(LbfgsStop::LineSearchFailed);

            // Accept: x = x0 + a d, with the gradient the line search kept for that point.
            const double previous = f;
            f = ls.accepted_value();
            for (std::size_t i = 0; i < n; ++i) x[i] = x0[i] + ls.accepted_step() * d[i];
            memory.push(x, x0, g_new, g);
            std::swap(g, g_new);
            ++result.iterations;
            result.trace.push_back(f);
            if (on_iteration) on_iteration(result.iterations, f);

            if (f < o_.abstol) return finish(LbfgsStop::AbsoluteTolerance);
            if (std::abs(previous - f) <= o_.reltol * (std::abs(f) + o_.reltol)) return finish(LbfgsStop::RelativeTolerance);
            if (max_abs(g) <= o_.gradient_tolerance) return finish(LbfgsStop::Gradient);
        }
        return finish(LbfgsStop::MaxIterations);
    }

private:
    static double dot(std::span<const double> a, std::span<const double> b) {
        double s = 0;
        for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
        return s;
    }
    static double max_abs(std::span<const double> a) {
        double m = 0;
        for (double v : a) m = std::max(m, std::abs(v));
        return m;
    }

    class History;

    // Without curvature information the direction is -g, whose length is arbitrary: the first trial
    // then moves a unit distance. Otherwise the quasi-Newton step itself (a = 1) is the natural guess.
    static double initial_step(const History& memory, std::span<const double> g) {
        return memory.empty() ? std::min(1.0, 1.0 / std::sqrt(dot(g, g))) : 1.0;
    }

    // The last m pairs s = x_{k+1} - x_k, y = g_{k+1} - g_k in a ring buffer.
    class History {
    public:
        History(std::size_t m, std::size_t n) : s_(m, std::vector<double>(n)), y_(m, std::vector<double>(n)), rho_(m), alpha_(m) {}

        bool empty() const { return count_ == 0; }
        void clear() { count_ = 0; }

        void push(std::span<const double> x, std::span<const double> x_old, std::span<const double> g,
                  std::span<const double> g_old) {
            auto& s = s_[next_];
            auto& y = y_[next_];
            for (std::size_t i = 0; i < s.size(); ++i) {
                s[i] = x[i] - x_old[i];
                y[i] = g[i] - g_old[i];
            }
            const double sy = dot(s, y), yy = dot(y, y);
            // A pair without positive curvature would make the implicit Hessian indefinite; the
            // strong Wolfe search rules it out in exact arithmetic, rounding does not.
            if (!(sy > 1e-10 * yy) || !std::isfinite(sy)) return;
            rho_[next_] = 1.0 / sy;
            gamma_ = sy / yy;
            next_ = (next_ + 1) % s_.size();
            count_ = std::min(count_ + 1, s_.size());
        }

        // d = -H g by the two-loop recursion, with H0 = gamma I (gamma = s'y / y'y of the newest pair).
        void direction(std::span<const double> g, std::span<double> d) {
            const std::size_t m = s_.size();
            for (std::size_t i = 0; i < d.size(); ++i) d[i] = -g[i];
            for (std::size_t k = 0; k < count_; ++k) {
                const std::size_t j = (next_ + m - 1 - k) % m;
                alpha_[j] = rho_[j] * dot(s_[j], d);
                for (std::size_t i = 0; i < d.size(); ++i) d[i] -= alpha_[j] * y_[j][i];
            }
            if (count_ > 0)
                for (double& v : d) v *= gamma_;
            for (std::size_t k = count_; k-- > 0;) {
                const std::size_t j = (next_ + m - 1 - k) % m;
                const double beta = rho_[j] * dot(y_[j], d);
                for (std::size_t i = 0; i < d.size(); ++i) d[i] += (alpha_[j] - beta) * s_[j][i];
            }
        }

    private:
        std::vector<std::vector<double>> s_, y_;
        std::vector<double> rho_, alpha_;
        double gamma_ = 1;
        std::size_t next_ = 0, count_ = 0;
    };

    // The bracketing and zoom phases of Nocedal & Wright's strong Wolfe line search (Algorithms 3.5
    // and 3.6) along x0 + a d, with safeguarded cubic interpolation. Every point that satisfies
    // sufficient decrease and is the lowest seen so far is kept (its gradient copied), so when the
    // evaluations run out the search can still return a step that decreases f.
    class LineSearch {
    public:
        LineSearch(const LbfgsOptions& options, const Objective& objective, std::span<const double> x0,
                   std::span<const double> d, std::span<double> x_trial, std::span<double> g_trial,
                   std::span<double> g_kept, double f0, double slope0)
            : o_(options), objective_(objective), x0_(x0), d_(d), x_trial_(x_trial), g_trial_(g_trial),
              g_kept_(g_kept), f0_(f0), slope0_(slope0) {}

        // A new search from the same point along a direction whose slope is slope0 (d changed in place).
        void restart(double slope0) {
            slope0_ = slope0;
            used_ = 0;
            kept_ = {0, f0_, slope0};
        }

        bool run(double a) {
            used_ = 0;
            kept_ = {0, f0_, slope0_};
            Point previous = kept_;
            a = std::min(a, o_.max_step);
            while (used_ < o_.max_line_search_evaluations) {
                const Point p = evaluate(a);
                if (approximately_acceptable(p)) {
                    keep(p);
                    return true;
                }
                // A non-finite value (exp overflowing, say) means the step went too far: bracket it.
                if (!std::isfinite(p.f) || !sufficient(p) || (used_ > 1 && p.f >= previous.f)) return zoom(previous, p);
                keep(p);
                if (curvature(p)) return true;
                if (p.slope >= 0) return zoom(p, previous);
                previous = p;
                if (a >= o_.max_step) break;
                a = std::min(4 * a, o_.max_step);
            }
            return kept_.a > 0;
        }

        double accepted_step() const { return kept_.a; }
        double accepted_value() const { return kept_.f; }
        std::size_t evaluations() const { return total_; }

    private:
        struct Point {
            double a, f, slope;
        };

        Point evaluate(double a) {
            for (std::size_t i = 0; i < x0_.size(); ++i) x_trial_[i] = x0_[i] + a * d_[i];
            double f = objective_(x_trial_, g_trial_);
            ++used_;
            ++total_;
            const double slope = dot(g_trial_, d_);
            if (!std::isfinite(f) || !std::isfinite(slope)) f = std::numeric_limits<double>::infinity();
            return {a, f, slope};
        }
        bool sufficient(const Point& p) const { return p.f <= f0_ + o_.c1 * p.a * slope0_; }
        bool curvature(const Point& p) const { return std::abs(p.slope) <= -o_.c2 * slope0_; }
        bool approximately_acceptable(const Point& p) const {
            return !sufficient(p) && p.f <= f0_ + o_.value_noise * std::abs(f0_) && curvature(p);
        }
        void keep(const Point& p) {
            kept_ = p;
            std::copy(g_trial_.begin(), g_trial_.end(), g_kept_.begin());
        }

        // lo satisfies sufficient decrease with the lowest f seen (and is kept unless it is the
        // start); an acceptable step lies between lo and hi.
        bool zoom(Point lo, Point hi) {
            while (used_ < o_.max_line_search_evaluations) {
                const double a = interpolate(lo, hi);
                if (a == lo.a || a == hi.a) break;  // the bracket has shrunk to rounding level
                const Point p = evaluate(a);
                if (approximately_acceptable(p)) {
                    keep(p);
                    return true;
                }
                if (!std::isfinite(p.f) || !sufficient(p) || p.f >= lo.f) {
                    hi = p;
                    continue;
                }
                keep(p);
                if (curvature(p)) return true;
                if (p.slope * (hi.a - lo.a) >= 0) hi = lo;
                lo = p;
            }
            return kept_.a > 0;
        }

        // The minimiser of the cubic matching values and slopes at lo and hi, kept at least a tenth
        // of the bracket away from either end; bisection-like when the cubic is unusable.
        static double interpolate(const Point& lo, const Point& hi) {
            const double left = std::min(lo.a, hi.a), right = std::max(lo.a, hi.a), width = right - left;
            double a = 0.5 * (lo.a + hi.a);
            if (std::isfinite(hi.f)) {
                const double d1 = lo.slope + hi.slope - 3 * (lo.f - hi.f) / (lo.a - hi.a);
                const double disc = d1 * d1 - lo.slope * hi.slope;
                if (disc >= 0) {
                    const double d2 = std::copysign(std::sqrt(disc), hi.a - lo.a);
                    const double c = hi.a - (hi.a - lo.a) * (hi.slope + d2 - d1) / (hi.slope - lo.slope + 2 * d2);
                    if (std::isfinite(c)) a = c;
                }
            } else {
                // An infinite value only says the step overshot; back off towards lo.
                a = lo.a + 0.25 * (hi.a - lo.a);
            }
            return std::clamp(a, left + 0.1 * width, right - 0.1 * width);
        }

        const LbfgsOptions& o_;
        const Objective& objective_;
        std::span<const double> x0_, d_;
        std::span<double> x_trial_, g_trial_, g_kept_;
        double f0_, slope0_;
        Point kept_{0, 0, 0};
        std::size_t used_ = 0, total_ = 0;
    };

    LbfgsOptions o_;
};

}  // namespace loom
