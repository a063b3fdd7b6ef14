#pragma once
// ConfusionMatrix: counts of (true class, predicted class) pairs, rows true and columns predicted,
// and the per-class and overall scores derived from them. print() lays it out as a text table in
// the spirit of R caret's confusionMatrix, with the axes the other way round (rows are the truth).
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loom/core/error.hpp"

namespace loom {

// One off-diagonal cell: `count` samples of class `truth` were predicted as `predicted`.
struct Confusion {
    int truth = 0;
    int predicted = 0;
    std::size_t count = 0;
};

class ConfusionMatrix {
public:
    explicit ConfusionMatrix(std::size_t classes) : classes_(classes), counts_(classes * classes, 0) {
        require<ArgumentError>(classes >= 1, "ConfusionMatrix: expected at least one class");
    }

    ConfusionMatrix(std::span<const int> truth, std::span<const int> predicted, std::size_t classes)
        : ConfusionMatrix(classes) {
        add(truth, predicted);
    }

    // Counts one more sample; throws ArgumentError for a class outside [0, classes).
    void add(int truth, int predicted, std::size_t count = 1) {
        check_class(truth, "true class");
        check_class(predicted, "predicted class");
        counts_[cell(truth, predicted)] += count;
    }

    void add(std::span<const int> truth, std::span<const int> predicted) {
        require<ArgumentError>(truth.size() == predicted.size(), "ConfusionMatrix: ", truth.size(),
                               " true labels but ", predicted.size(), " predictions");
        for (std::size_t i = 0; i < truth.size(); ++i) add(truth[i], predicted[i]);
    }

    std::size_t classes() const { return classes_; }
    std::size_t operator()(int truth, int predicted) const {
        check_class(truth, "true class");
        check_class(predicted, "predicted class");
        return counts_[cell(truth, predicted)];
    }

    std::size_t total() const {
        std::size_t n = 0;
        for (std::size_t c : counts_) n += c;
        return n;
    }
    std::size_t correct() const {
        std::size_t n = 0;
        for (std::size_t c = 0; c < classes_; ++c) n += counts_[c * classes_ + c];
        return n;
    }
    // Samples whose true class is c (the row sum; "support" in classification reports).
    std::size_t true_count(int c) const {
        check_class(c, "class");
        std::size_t n = 0;
        for (std::size_t p = 0; p < classes_; ++p) n += counts_[static_cast<std::size_t>(c) * classes_ + p];
        return n;
    }
    // Samples predicted as class c (the column sum).
    std::size_t predicted_count(int c) const {
        check_class(c, "class");
        std::size_t n = 0;
        for (std::size_t t = 0; t < classes_; ++t) n += counts_[t * classes_ + static_cast<std::size_t>(c)];
        return n;
    }

    double accuracy() const {
        require<ArgumentError>(total() > 0, "ConfusionMatrix::accuracy: the matrix is empty");
        return static_cast<double>(correct()) / static_cast<double>(total());
    }

    // Of the samples predicted as c, the fraction that are c. 0 when nothing was predicted as c
    // (scikit-learn's convention), so a class the model never outputs scores 0, not NaN.
    double precision(int c) const { return ratio((*this)(c, c), predicted_count(c)); }
    // Of the samples of class c, the fraction predicted as c; 0 when the class has no samples.
    double recall(int c) const { return ratio((*this)(c, c), true_count(c)); }
    double f1(int c) const {
        const double p = precision(c), r = recall(c);
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    double macro_f1() const {
        double sum = 0;
        for (std::size_t c = 0; c < classes_; ++c) sum += f1(static_cast<int>(c));
        return sum / static_cast<double>(classes_);
    }

    // Cohen's kappa: agreement beyond what the class frequencies alone would produce,
    // (p_observed - p_chance) / (1 - p_chance). When chance agreement is already 1 (truth and
    // predictions all one and the same class) the agreement is perfect and kappa is 1.
    double kappa() const {
        const double n = static_cast<double>(total());
        require<ArgumentError>(n > 0, "ConfusionMatrix::kappa: the matrix is empty");
        double chance = 0;
        for (std::size_t c = 0; c < classes_; ++c)
            chance += static_cast<double>(true_count(static_cast<int>(c))) *
                      static_cast<double>(predicted_count(static_cast<int>(c))) / (n * n);
        const double observed = static_cast<double>(correct()) / n;
        return chance >= 1.0 ? 1.0 : (observed - chance) / (1.0 - chance);
    }

    // The k largest off-diagonal cells, largest first (ties: lower true class, then lower
    // predicted class first); empty cells are left out, so fewer than k may come back.
    std::vector<Confusion> most_confused(std::size_t k) const {
        std::vector<Confusion> cells;
        for (std::size_t t = 0; t < classes_; ++t)
            for (std::size_t p = 0; p < classes_; ++p)
                if (t != p && counts_[t * classes_ + p] > 0)
                    cells.push_back({static_cast<int>(t), static_cast<int>(p), counts_[t * classes_ + p]});
        std::stable_sort(cells.begin(), cells.end(),
                         [](const Confusion& a, const Confusion& b) { return a.count > b.count; });
        if (cells.size() > k) cells.resize(k);
        return cells;
    }

    // The matrix as an aligned table; names (one per class, or none for numeric labels) label the
    // rows in full up to 14 characters and the columns abbreviated to at most 8.
    void print(std::ostream& out, std::span<const std::string_view> names = {}) const {
        check_names(names);
        std::size_t row_label_width = 4;  // "True"
        std::vector<std::string> row_labels, column_labels;
        for (std::size_t c = 0; c < classes_; ++c) {
            row_labels.push_back(abbreviate(label(names, c), 14));
            column_labels.push_back(abbreviate(label(names, c), 8));
            row_label_width = std::max(row_label_width, row_labels.back().size());
        }
        std::size_t cell_width = 1;
        for (std::size_t c : counts_) cell_width = std::max(cell_width, std::to_string(c).size());
        for (const auto& l : column_labels) cell_width = std::max(cell_width, l.size());

        out << std::string(row_label_width + 1, ' ') << "Predicted\n";
        out << pad_right("True", row_label_width);
        for (const auto& l : column_labels) out << ' ' << pad_left(l, cell_width);
        out << '\n';
        for (std::size_t t = 0; t < classes_; ++t) {
            out << pad_right(row_labels[t], row_label_width);
            for (std::size_t p = 0; p < classes_; ++p)
                out << ' ' << pad_left(std::to_string(counts_[t * classes_ + p]), cell_width);
            out << '\n';
        }
        if (total() > 0)
            out << "\nAccuracy: " << fixed(accuracy(), 4) << "   Kappa: " << fixed(kappa(), 4) << "   N: " << total()
                << '\n';
    }

    // Per-class precision, recall, F1 and support, then the macro averages and overall accuracy.
    void print_report(std::ostream& out, std::span<const std::string_view> names = {}) const {
        check_names(names);
        std::size_t name_width = 9;  // "macro avg"
        for (std::size_t c = 0; c < classes_; ++c)
            name_width = std::max(name_width, abbreviate(label(names, c), 20).size());
        const std::size_t support_width = std::max<std::size_t>(7, std::to_string(total()).size());
        out << pad_right("", name_width) << "  precision     recall         f1  " << pad_left("support", support_width)
            << '\n';
        double sum_p = 0, sum_r = 0, sum_f = 0;
        for (std::size_t c = 0; c < classes_; ++c) {
            const int k = static_cast<int>(c);
            sum_p += precision(k);
            sum_r += recall(k);
            sum_f += f1(k);
            out << pad_right(abbreviate(label(names, c), 20), name_width) << "  " << pad_left(fixed(precision(k), 4), 9)
                << "  " << pad_left(fixed(recall(k), 4), 9) << "  " << pad_left(fixed(f1(k), 4), 9) << "  "
                << pad_left(std::to_string(true_count(k)), support_width) << '\n';
        }
        const double n = static_cast<double>(classes_);
        out << '\n'
            << pad_right("macro avg", name_width) << "  " << pad_left(fixed(sum_p / n, 4), 9) << "  "
            << pad_left(fixed(sum_r / n, 4), 9) << "  " << pad_left(fixed(sum_f / n, 4), 9) << "  "
            << pad_left(std::to_string(total()), support_width) << '\n';
        if (total() > 0)
            out << pad_right("accuracy", name_width) << "  " << std::string(22, ' ') << pad_left(fixed(accuracy(), 4), 9)
                << "  " << pad_left(std::to_string(total()), support_width) << '\n';
    }

    // Shortens a class name to at most `width` characters: drop an alternative after '/'
    // ("T-shirt/top" -> "T-shirt"), then cut and mark the cut with '.'.
    static std::string abbreviate(std::string_view name, std::size_t width) {
        if (name.size() <= width) return std::string(name);
        if (const auto slash = name.find('/'); slash != std::string_view::npos && slash > 0 && slash <= width)
            return std::string(name.substr(0, slash));
        if (width <= 1) return std::string(name.substr(0, width));
        return std::string(name.substr(0, width - 1)) + '.';
    }

private:
    std::size_t cell(int truth, int predicted) const {
        return static_cast<std::size_t>(truth) * classes_ + static_cast<std::size_t>(predicted);
    }
    void check_class(int c, const char* what) const {
        require<ArgumentError>(c >= 0 && static_cast<std::size_t>(c) < classes_, "ConfusionMatrix: ", what, " ", c,
                               " is outside [0, ", classes_, ")");
    }
    void check_names(std::span<const std::string_view> names) const {
        require<ArgumentError>(names.empty() || names.size() == classes_, "ConfusionMatrix: ", names.size(),
                               " class names for ", classes_, " classes");
    }
    static std::string label(std::span<const std::string_view> names, std::size_t c) {
        return names.empty() ? std::to_string(c) : std::string(names[c]);
    }
    static double ratio(std::size_t num, std::size_t den) {
        return den ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
    }
    static std::string fixed(double value, int decimals) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
        return buffer;
    }
    static std::string pad_left(const std::string& s, std::size_t width) {
        return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
    }
    static std::string pad_right(const std::string& s, std::size_t width) {
        return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
    }

    std::size_t classes_;
    std::vector<std::size_t> counts_;
};

}  // namespace loom
