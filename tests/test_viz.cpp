// PNG, image grid, line chart and confusion heatmap outputs: files appear atomically, PNGs read
// back with the right size and pixels, SVGs contain what they should.
#include <doctest/doctest.h>
#include <png.h>

#include <array>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.hpp"
#include "loom/viz/confusion_heatmap.hpp"
#include "loom/viz/image_grid.hpp"
#include "loom/viz/png.hpp"
#include "loom/viz/svg_chart.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::size_t occurrences(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
    return n;
}

// Header of a PNG as libpng sees it.
png_image png_header(const fs::path& p) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    REQUIRE(png_image_begin_read_from_file(&image, p.c_str()) != 0);
    png_image_free(&image);
    return image;
}

constexpr std::array<std::string_view, 3> names{"T-shirt/top", "Ankle boot", "Bag & <box>"};

}  // namespace

TEST_CASE("viz: write_png round trip and errors") {
    loom_test::TempDir dir;
    std::vector<std::uint8_t> rgb(5 * 3 * 3);
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint8_t>(i * 5);
    loom::write_png(dir / "rgb.png", 5, 3, 3, rgb.data());
    const auto header = png_header(dir / "rgb.png");
    CHECK(header.width == 5);
    CHECK(header.height == 3);
    CHECK(PNG_IMAGE_PIXEL_CHANNELS(header.format) == 3);
    const auto back = loom::read_png(dir / "rgb.png");
    CHECK(back.shape() == loom::Shape{3, 5, 3});
    CHECK(std::equal(back.begin(), back.end(), rgb.begin()));
    const std::string bytes = slurp(dir / "rgb.png");
    CHECK(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));

    CHECK_THROWS_AS(loom::write_png(dir / "x.png", 2, 2, 5, rgb.data()), loom::ArgumentError);
    CHECK_THROWS_AS(loom::write_png(dir / "x.png", 0, 2, 1, rgb.data()), loom::ArgumentError);
    CHECK_THROWS_AS(loom::write_png(dir / "missing" / "x.png", 2, 2, 1, rgb.data()), loom::IoError);
    CHECK_THROWS_AS((void)loom::read_png(dir / "nothing.png"), loom::IoError);
    std::ofstream(dir / "fake.png") << "not a png";
    CHECK_THROWS_AS((void)loom::read_png(dir / "fake.png"), loom::IoError);
    CHECK(dir.file_count() == 2);  // rgb.png and fake.png: no temporaries left behind
}

TEST_CASE("viz: bitmap text marks pixels and is clipped at the edges") {
    loom::Tensor<std::uint8_t> canvas(loom::Shape{20, 60}, std::uint8_t{255});
    loom::draw_bitmap_text(canvas.view(), 2, 2, "Hi", 2, 0);
    const auto dark = std::count(canvas.begin(), canvas.end(), std::uint8_t{0});
    CHECK(dark > 20);
    CHECK(loom::bitmap_text_width("Hi", 2) == 2 * loom::bitmap_text_width("Hi"));
    loom::draw_bitmap_text(canvas.view(), 50, 15, "clipped text far outside", 3, 0);  // must not crash
    CHECK(loom::fit_bitmap_text("Ankle boot", 30).back() == '.');
    CHECK(loom::bitmap_text_width(loom::fit_bitmap_text("Ankle boot", 30)) <= 30);
    CHECK(loom::fit_bitmap_text("Bag", 30) == "Bag");
}

TEST_CASE("viz: image grid layout, pixels and captions") {
    loom_test::TempDir dir;
    loom::Tensor<float> images(loom::Shape{5, 4, 4, 1});
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t p = 0; p < 16; ++p) images[i * 16 + p] = static_cast<float>(i) / 4.0f;
    loom::ImageGridOptions options;
    options.columns = 3;
    options.zoom = 10;
    options.padding = 2;
    const std::vector<int> labels{0, 1, 2, 0, 1};
    loom::write_image_grid(dir / "grid.png", images, labels, names, options);
    const auto png = loom::read_png(dir / "grid.png");
    // 3 columns of 40 px, 2 rows of 40 px + one 12 px caption line, 2 px padding.
    CHECK(png.shape() == loom::Shape{2 * (40 + 12 + 2) + 2, 3 * (40 + 2) + 2, 1});
    CHECK(png(2, 2, 0) == 0);                    // image 0 is black
    CHECK(png(2 + 20, 2 + 42 + 20, 0) == 64);    // image 1 is 0.25 gray
    CHECK(png(56 + 5, 2 + 5, 0) == 191);         // image 3 (second row) is 0.75 gray
    CHECK(png(56 + 5, 44 + 5, 0) == 255);        // image 4 is white
    const auto caption_band = png.rows(42, 54);  // text under the first row
    CHECK(std::count(caption_band.begin(), caption_band.end(), std::uint8_t{0}) > 30);

    const auto captions = loom::prediction_captions(labels, std::vector<int>{0, 2, 2, 0, 1}, names);
    CHECK(captions[0] == "T-shirt/top");
    CHECK(captions[1] == "Ankle boot\nas Bag & <box>");
    const auto two_lines = loom::render_image_grid(images, captions, options);
    CHECK(two_lines.dim(0) == 2 * (40 + 24 + 2) + 2);
    CHECK_THROWS_AS((void)loom::render_image_grid(images, std::span(captions).first(2), options), loom::ArgumentError);
    CHECK_THROWS_AS((void)loom::class_captions(std::vector<int>{3}, names), loom::ArgumentError);
}

TEST_CASE("viz: the real Fashion-MNIST look, written for inspection") {
    // A synthetic 'garment' grid at default settings: checks the default layout works end to end.
    loom_test::TempDir dir;
    loom::Tensor<float> images(loom::Shape{12, 28, 28, 1});
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>(i % 29) / 28.0f;
    std::vector<std::string> captions(12, "Sneaker");
    loom::write_image_grid(dir / "default.png", images, captions);
    const auto header = png_header(dir / "default.png");
    CHECK(header.width == 10 * (84 + 6) + 6);
    CHECK(header.height == 2 * (84 + 12 + 6) + 6);
}

TEST_CASE("viz: nice and decade ticks") {
    const auto t = loom::nice_ticks(0.13, 0.92, 6);
    CHECK(t.lo == 0.0);  // steps of 0.2
    CHECK(t.hi == doctest::Approx(1.0));
    CHECK(t.values.size() == 6);
    CHECK(t.values[1] == doctest::Approx(0.2));
    CHECK(t.decimals == 1);
    const auto epochs = loom::nice_ticks(1, 30, 8);
    CHECK(loom::nice_ticks(1, 5, 8, true).values == std::vector<double>{1, 2, 3, 4, 5});
    CHECK(epochs.values.front() == 0);
    CHECK(epochs.values.back() == 30);
    CHECK(epochs.decimals == 0);
    const auto flat = loom::nice_ticks(2, 2);
    CHECK(flat.lo < 2);
    CHECK(flat.hi > 2);
    const auto d = loom::decade_ticks(3e-5, 0.02);
    CHECK(d.values.size() == 5);  // 1e-5 .. 1e-1
    CHECK(d.lo == doctest::Approx(1e-5));
    CHECK(d.hi == doctest::Approx(0.1));
    CHECK_THROWS_AS((void)loom::decade_ticks(0, 1), loom::ArgumentError);
    CHECK(loom::format_tick(0.25, 2) == "0.25");
}

TEST_CASE("viz: line chart of training curves") {
    loom_test::TempDir dir;
    loom::LineChart chart("Training <loss>", "epoch", "loss");
    const std::vector<double> train{2.3, 0.9, 0.6, 0.5};
    const std::vector<double> validation{2.1, 1.0, std::nan(""), 0.7};
    chart.add("train", train).add("validation", validation, true);
    chart.write(dir / "loss.svg");
    const std::string svg = slurp(dir / "loss.svg");
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
    CHECK(svg.find("Training &lt;loss&gt;") != std::string::npos);
    CHECK(svg.find(">epoch</text>") != std::string::npos);
    CHECK(svg.find(">validation</text>") != std::string::npos);
    CHECK(occurrences(svg, "<polyline") == 2);  // train, and validation's first run (the NaN splits off a lone point)
    CHECK(svg.find("stroke-dasharray=\"6 4\"") != std::string::npos);
    CHECK(occurrences(svg, "<circle") == 7);
    CHECK(dir.file_count() == 1);
}

TEST_CASE("viz: line chart with a logarithmic x axis") {
    loom::LineChart chart("Accuracy vs weight decay", "weight decay", "accuracy");
    chart.log_x = true;
    chart.y_min = 0.0;
    chart.y_max = 1.0;
    chart.add("validation", std::vector<double>{1e-5, 1e-4, 1e-3, 1e-2}, std::vector<double>{0.88, 0.89, 0.87, 0.80});
    const std::string svg = chart.to_svg();
    CHECK(svg.find("10<tspan dy=\"-6\" font-size=\"9\">-5</tspan>") != std::string::npos);
    CHECK(svg.find(">-2</tspan>") != std::string::npos);
    CHECK(svg.find(">1.0</text>") != std::string::npos);
    chart.add("bad", std::vector<double>{0.0}, std::vector<double>{0.5});
    CHECK_THROWS_AS((void)chart.to_svg(), loom::ArgumentError);
    CHECK_THROWS_AS(chart.add("mismatch", std::vector<double>{1, 2}, std::vector<double>{1}), loom::ArgumentError);
    CHECK(loom::LineChart("empty", "x", "y").to_svg().find("</svg>") != std::string::npos);
}

TEST_CASE("viz: confusion heatmap") {
    loom_test::TempDir dir;
    loom::ConfusionMatrix m(3);
    m.add(0, 0, 90);
    m.add(0, 2, 10);
    m.add(1, 1, 5);
    m.add(2, 2, 1234);
    loom::write_confusion_heatmap(dir / "cm.svg", m, names);
    const std::string svg = slurp(dir / "cm.svg");
    CHECK(occurrences(svg, "<rect") == 1 + 9 + 1);  // background, cells, frame
    CHECK(svg.find(">1234</text>") != std::string::npos);
    CHECK(svg.find(">T-shirt/top</text>") != std::string::npos);
    CHECK(svg.find(">Bag &amp; &lt;box&gt;</text>") != std::string::npos);
    CHECK(svg.find("Predicted class") != std::string::npos);
    CHECK(svg.find("True class") != std::string::npos);
    CHECK(occurrences(svg, loom::detail::heat_colour(1.0)) == 2);  // rows 1 and 2 are all on the diagonal
    CHECK(svg.find(loom::detail::heat_colour(std::sqrt(0.1))) != std::string::npos);  // 10 of 100 in row 0
    CHECK_THROWS_AS((void)loom::confusion_heatmap_svg(m, std::span(names).first(2)), loom::ArgumentError);
    CHECK(loom::confusion_heatmap_svg(m).find(">2</text>") != std::string::npos);  // numeric labels
}
