#pragma once
// Keras-style layer names (conv2d, conv2d_1, ...) and the model summary table.
#include <cctype>
#include <iomanip>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "loom/layers/layer.hpp"

namespace loom {

// The name of the next layer of `type`: its lower-case type, with _1, _2, ... after the first.
inline std::string unique_layer_name(const std::string& type, std::map<std::string, std::size_t>& counts) {
    std::string base;
    for (char ch : type) base += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const std::size_t k = counts[base]++;
    return k == 0 ? base : base + "_" + std::to_string(k);
}

inline std::string with_commas(std::size_t n) {
    const std::string digits = std::to_string(n);
    std::string s;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
        s.push_back(digits[i]);
    }
    return s;
}

template <class T>
void print_summary(std::ostream& out, const std::vector<std::unique_ptr<Layer<T>>>& layers,
                   const std::vector<std::string>& names, std::size_t total_params) {
    const std::string rule(65, '_'), thick(65, '=');
    out << "Model: \"sequential\"\n" << rule << '\n';
    out << std::left << ' ' << std::setw(28) << "Layer (type)" << std::setw(26) << "Output Shape" << "Param #\n"
        << thick << '\n';
    for (std::size_t i = 0; i < layers.size(); ++i) {
        std::string shape = layers[i]->output_shape().with_batch(0).to_string();
        shape.replace(1, 1, "None");
        out << ' ' << std::setw(28) << (names[i] + " (" + layers[i]->type() + ")") << std::setw(26) << shape
            << with_commas(layers[i]->param_count()) << '\n';
        out << (i + 1 < layers.size() ? "\n" : "");
    }
    out << thick << '\n'
        << "Total params: " << with_commas(total_params) << '\n'
        << "Trainable params: " << with_commas(total_params) << '\n'
        << "Non-trainable params: 0\n"
        << rule << '\n';
}

}  // namespace loom
