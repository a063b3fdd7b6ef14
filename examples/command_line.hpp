#pragma once
// A small --name value / --flag command-line reader shared by the example programs.
// Unknown options and malformed numbers are errors, and --help lists what was declared.
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "loom/core/error.hpp"

namespace examples {

class CommandLine {
public:
    CommandLine(int argc, char** argv, std::string description) : description_(std::move(description)) {
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            loom::require<loom::ArgumentError>(arg.rfind("--", 0) == 0, "unexpected argument '", arg, "' (options start with --)");
            arg = arg.substr(2);
            if (const auto eq = arg.find('='); eq != std::string::npos) {
                values_[arg.substr(0, eq)] = arg.substr(eq + 1);
            } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
                values_[arg] = argv[++i];
            } else {
                values_[arg] = "";  // a flag
            }
        }
    }

    std::string text(const std::string& name, const std::string& fallback, const std::string& help) {
        declare(name, fallback, help);
        const auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }
    long integer(const std::string& name, long fallback, const std::string& help) {
        const std::string v = text(name, std::to_string(fallback), help);
        char* end = nullptr;
        const long parsed = std::strtol(v.c_str(), &end, 10);
        loom::require<loom::ArgumentError>(!v.empty() && *end == '\0', "--", name, " expects an integer, got '", v, "'");
        return parsed;
    }
    double real(const std::string& name, double fallback, const std::string& help) {
        std::ostringstream def;
        def << fallback;
        const std::string v = text(name, def.str(), help);
        char* end = nullptr;
        const double parsed = std::strtod(v.c_str(), &end);
        loom::require<loom::ArgumentError>(!v.empty() && *end == '\0', "--", name, " expects a number, got '", v, "'");
        return parsed;
    }
    bool flag(const std::string& name, const std::string& help) {
        declare(name, "", help);
        return values_.count(name) != 0;
    }

    // Call after declaring every option: handles --help and rejects unknown options.
    // Returns false when the program should exit (help was printed).
    bool finish() {
        if (values_.count("help")) {
            std::cout << description_ << "\n\nOptions:\n" << usage_.str();
            return false;
        }
        for (const auto& [name, value] : values_)
            loom::require<loom::ArgumentError>(declared_.count(name) != 0, "unknown option --", name, " (see --help)");
        return true;
    }

private:
    void declare(const std::string& name, const std::string& fallback, const std::string& help) {
        if (!declared_.insert(name).second) return;
        usage_ << "  --" << name << (fallback.empty() ? "" : " (default " + fallback + ")") << "\n      " << help << '\n';
    }

    std::string description_;
    std::map<std::string, std::string> values_;
    std::set<std::string> declared_;
    std::ostringstream usage_;
};

}  // namespace examples
