// Accuracy, confusion matrix scores and Cohen's kappa against hand-computed values.
#include <doctest/doctest.h>

#include <array>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "loom/metrics/accuracy.hpp"
#include "loom/metrics/confusion_matrix.hpp"
#include "loom/metrics/kappa.hpp"

namespace {

// Wikipedia's Cohen's kappa example: 50 proposals, two readers; yes/yes 20, yes/no 5, no/yes 10,
// no/no 15; kappa = 0.4. Reader A is taken as the truth, class 0 = yes.
loom::ConfusionMatrix wikipedia_example() {
    loom::ConfusionMatrix m(2);
    m.add(0, 0, 20);
    m.add(0, 1, 5);
    m.add(1, 0, 10);
    m.add(1, 1, 15);
    return m;
}

}  // namespace

TEST_CASE("metrics: accuracy") {
    const std::vector<int> truth{0, 1, 2, 2, 1};
    const std::vector<int> pred{0, 2, 2, 2, 0};
    CHECK(loom::accuracy(truth, pred) == doctest::Approx(0.6));
    CHECK_THROWS_AS((void)loom::accuracy(truth, std::vector<int>{0}), loom::ArgumentError);
    CHECK_THROWS_AS((void)loom::accuracy(std::vector<int>{}, std::vector<int>{}), loom::ArgumentError);
}

TEST_CASE("metrics: confusion matrix counts, precision, recall, F1") {
    const std::vector<int> truth{0, 0, 0, 1, 1, 2, 2, 2, 2};
    const std::vector<int> pred{0, 0, 1, 1, 2, 2, 2, 0, 2};
    loom::ConfusionMatrix m(truth, pred, 3);
    CHECK(m.classes() == 3);
    CHECK(m.total() == 9);
    CHECK(m(0, 0) == 2);
    CHECK(m(0, 1) == 1);
    CHECK(m(1, 2) == 1);
    CHECK(m(2, 0) == 1);
    CHECK(m(2, 2) == 3);
    CHECK(m.accuracy() == doctest::Approx(6.0 / 9.0));
    CHECK(m.precision(0) == doctest::Approx(2.0 / 3.0));  // predicted 0: three times, two right
    CHECK(m.recall(0) == doctest::Approx(2.0 / 3.0));
    CHECK(m.precision(1) == doctest::Approx(0.5));
    CHECK(m.recall(1) == doctest::Approx(0.5));
    CHECK(m.precision(2) == doctest::Approx(0.75));
    CHECK(m.recall(2) == doctest::Approx(0.75));
    CHECK(m.f1(2) == doctest::Approx(0.75));
    CHECK_THROWS_AS(m.add(3, 0), loom::ArgumentError);
    CHECK_THROWS_AS((void)m(0, -1), loom::ArgumentError);
}

TEST_CASE("metrics: a class never predicted scores 0, not NaN") {
    loom::ConfusionMatrix m(3);
    m.add(0, 0);
    m.add(1, 0);
    CHECK(m.precision(1) == 0.0);
    CHECK(m.recall(2) == 0.0);
    CHECK(m.f1(1) == 0.0);
}

TEST_CASE("metrics: Cohen's kappa, textbook example") {
    const auto m = wikipedia_example();
    CHECK(m.kappa() == doctest::Approx(0.4));
    CHECK(m.precision(0) == doctest::Approx(2.0 / 3.0));
    CHECK(m.recall(0) == doctest::Approx(0.8));
    CHECK(m.f1(0) == doctest::Approx(16.0 / 22.0));
    CHECK(m.f1(1) == doctest::Approx(2.0 / 3.0));

    const std::vector<int> truth{0, 1, 2, 0, 1, 2};
    CHECK(loom::cohens_kappa(truth, truth, 3) == doctest::Approx(1.0));
    const std::vector<int> all_zero{0, 0, 0};
    CHECK(loom::cohens_kappa(all_zero, all_zero, 2) == 1.0);
    // Systematic disagreement is worse than chance.
    CHECK(loom::cohens_kappa(std::vector<int>{0, 1, 0, 1}, std::vector<int>{1, 0, 1, 0}, 2) == doctest::Approx(-1.0));
    CHECK_THROWS_AS((void)loom::cohens_kappa(std::vector<int>{}, std::vector<int>{}, 2), loom::ArgumentError);
}

TEST_CASE("metrics: most_confused") {
    loom::ConfusionMatrix m(3);
    m.add(0, 0, 50);
    m.add(0, 2, 7);
    m.add(2, 0, 9);
    m.add(1, 2, 7);
    m.add(1, 1, 40);
    const auto top = m.most_confused(2);
    REQUIRE(top.size() == 2);
    CHECK(top[0].truth == 2);
    CHECK(top[0].predicted == 0);
    CHECK(top[0].count == 9);
    CHECK(top[1].truth == 0);  // ties keep row-major order
    CHECK(top[1].predicted == 2);
    CHECK(m.most_confused(10).size() == 3);
}

TEST_CASE("metrics: printed table and report") {
    static constexpr std::array<std::string_view, 2> names{"T-shirt/top", "Ankle boot with a long name"};
    const auto m = wikipedia_example();
    std::ostringstream table;
    m.print(table, names);
    const std::string text = table.str();
    MESSAGE("\n", text);
    CHECK(text.find("Predicted") != std::string::npos);
    CHECK(text.find("T-shirt/top") != std::string::npos);  // rows keep names up to 14 characters
    CHECK(text.find(" T-shirt ") != std::string::npos);     // columns drop the "/top" alternative
    CHECK(text.find("Ankle b.") != std::string::npos);
    CHECK(text.find("Kappa: 0.4000") != std::string::npos);

    std::ostringstream plain;
    m.print(plain);
    CHECK(plain.str().find("True") != std::string::npos);

    std::ostringstream report;
    m.print_report(report, names);
    MESSAGE("\n", report.str());
    CHECK(report.str().find("0.6667") != std::string::npos);
    CHECK(report.str().find("macro avg") != std::string::npos);
    CHECK_THROWS_AS(m.print(table, std::span(names).first(1)), loom::ArgumentError);
}

TEST_CASE("metrics: abbreviate") {
    CHECK(loom::ConfusionMatrix::abbreviate("Sandal", 8) == "Sandal");
    CHECK(loom::ConfusionMatrix::abbreviate("T-shirt/top", 8) == "T-shirt");
    CHECK(loom::ConfusionMatrix::abbreviate("Ankle boot", 8) == "Ankle b.");
}
