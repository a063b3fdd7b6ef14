#pragma once
// SvgDocument: builds an SVG file from shapes and text. Everything goes through it so that text is
// always XML-escaped and numbers are always written with '.' decimals whatever the C++ locale.
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/core/atomic_file.hpp"
#include "loom/core/error.hpp"

namespace loom {

struct SvgTextStyle {
    double size = 12;
    std::string anchor = "start";  // start | middle | end
    std::string fill = "#222";
    bool bold = false;
    double rotate = 0;  // degrees, around the text's anchor point
};

class SvgDocument {
public:
    SvgDocument(double width, double height) : width_(width), height_(height) {}

    void rect(double x, double y, double w, double h, std::string_view fill, std::string_view stroke = "none",
              double stroke_width = 1) {
        body_ += "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(w) + "\" height=\"" +
                 number(h) + "\" fill=\"" + escape(fill) + "\" stroke=\"" + escape(stroke) + "\" stroke-width=\"" +
                 number(stroke_width) + "\"/>\n";
    }

    void line(double x1, double y1, double x2, double y2, std::string_view stroke, double stroke_width = 1,
              std::string_view dash = {}) {
        body_ += "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) + "\" y2=\"" +
                 number(y2) + "\" stroke=\"" + escape(stroke) + "\" stroke-width=\"" + number(stroke_width) + "\"";
        if (!dash.empty()) body_ += " stroke-dasharray=\"" + escape(dash) + "\"";
        body_ += "/>\n";
    }

    void polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke,
                  double stroke_width = 2, std::string_view dash = {}) {
        if (points.empty()) return;
        body_ += "<polyline fill=\"none\" stroke=\"" + escape(stroke) + "\" stroke-width=\"" + number(stroke_width) + "\"";
        if (!dash.empty()) body_ += " stroke-dasharray=\"" + escape(dash) + "\"";
        body_ += " stroke-linejoin=\"round\" points=\"";
        for (std::size_t i = 0; i < points.size(); ++i) {
            if (i) body_ += ' ';
            body_ += number(points[i].first);
            body_ += ',';
            body_ += number(points[i].second);
        }
        body_ += "\"/>\n";
    }

    void circle(double cx, double cy, double r, std::string_view fill) {
        body_ += "<circle cx=\"" + number(cx) + "\" cy=\"" + number(cy) + "\" r=\"" + number(r) + "\" fill=\"" +
                 escape(fill) + "\"/>\n";
    }

    // Plain text (escaped here).
    void text(double x, double y, std::string_view content, const SvgTextStyle& style = {}) {
        text_markup(x, y, escape(content), style);
    }

    // Text whose content is already SVG markup, e.g. with <tspan> superscripts. Callers escape.
    void text_markup(double x, double y, const std::string& markup, const SvgTextStyle& style = {}) {
        body_ += "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" font-size=\"" + number(style.size) +
                 "\" text-anchor=\"" + escape(style.anchor) + "\" fill=\"" + escape(style.fill) + "\"";
        if (style.bold) body_ += " font-weight=\"bold\"";
        if (style.rotate != 0)
            body_ += " transform=\"rotate(" + number(style.rotate) + " " + number(x) + " " + number(y) + ")\"";
        body_ += ">" + markup + "</text>\n";
    }

    // The complete document.
    std::string str() const {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
               number(width_) + "\" height=\"" + number(height_) + "\" viewBox=\"0 0 " + number(width_) + " " +
               number(height_) + "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n" +
               "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body_ + "</svg>\n";
    }

    void write(const std::filesystem::path& path) const {
        const std::string document = str();
        write_file_atomically(path, document.data(), document.size());
    }

    static std::string escape(std::string_view text) {
        std::string out;
        out.reserve(text.size());
        for (char c : text) {
            switch (c) {
                case '&': out += "&amp;"; break;
                case '<': out += "&lt;"; break;
                case '>': out += "&gt;"; break;
                case '"': out += "&quot;"; break;
                case '\'': out += "&apos;"; break;
                default: out += c;
            }
        }
        return out;
    }

    // Coordinates to 0.01 px, without trailing zeros. snprintf("%f") is locale-dependent in
    // principle, so the decimal separator is normalised.
    static std::string number(double value) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.2f", value);
        std::string s = buffer;
        for (char& c : s)
            if (c == ',') c = '.';
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
        return s == "-0" ? "0" : s;
    }

private:
    double width_, height_;
    std::string body_;
};

}  // namespace loom
