#pragma once
// One exception hierarchy for everything loom reports: catch loom::Error to catch them all.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace loom {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A tensor or layer received a shape it cannot work with.
class ShapeError : public Error {
public:
    using Error::Error;
};

// A file (IDX data, model, checkpoint) is missing, truncated, corrupt or foreign.
class IoError : public Error {
public:
    using Error::Error;
};

// Training diverged or received non-finite numbers.
class NumericError : public Error {
public:
    using Error::Error;
};

// An argument outside its documented range (batch size 0, negative rate, ...).
class ArgumentError : public Error {
public:
    using Error::Error;
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
