#pragma once
// One exception hierarchy for everything loom reports: catch loom::Error to catch them all.
// Every error carries a stable id (docs/errors.md lists them) naming the kind of fault, so code and
// tests can tell faults apart without parsing the English message, which may be reworded.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace loom {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : Error("loom.error", message) {}
    // "loom.io_error", "loom.shape_error", ...: stable across versions, unlike the message.
    const char* id() const noexcept { return id_; }

protected:
    Error(const char* id, const std::string& message) : std::runtime_error(message), id_(id) {}

private:
    const char* id_;  // always a string literal
};

// A tensor or layer received a shape it cannot work with.
class ShapeError : public Error {
public:
    explicit ShapeError(const std::string& message) : Error("loom.shape_error", message) {}
};

// A file (IDX data, model, checkpoint, ONNX) is missing, truncated, corrupt or foreign.
class IoError : public Error {
public:
    explicit IoError(const std::string& message) : Error("loom.io_error", message) {}
};

// Training diverged or received non-finite numbers.
class NumericError : public Error {
public:
    explicit NumericError(const std::string& message) : Error("loom.numeric_error", message) {}
};

// An argument outside its documented range (batch size 0, negative rate, ...).
class ArgumentError : public Error {
public:
    explicit ArgumentError(const std::string& message) : Error("loom.argument_error", message) {}
};

// A layer setting (LayerConfig) that is missing, of the wrong kind or out of range, whether it came
// from code or from a file.
class ConfigError : public Error {
public:
    explicit ConfigError(const std::string& message) : Error("loom.config_error", message) {}
};

// The processes of a distributed run disagree (data, model or settings differ between MPI ranks).
class DistributedError : public Error {
public:
    explicit DistributedError(const std::string& message) : Error("loom.distributed_error", message) {}
};

namespace detail {

// Builds an error message from streamable pieces: detail::concat("expected ", a, ", found ", b).
template <class... Parts>
std::string concat(Parts&&... parts) {
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}

}  // namespace detail

// Throws E with the concatenated message when the condition fails. Used instead of assertions,
// which disappear in Release builds.
template <class E = Error, class... Parts>
void require(bool condition, Parts&&... parts) {
    if (!condition) throw E(detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace loom
