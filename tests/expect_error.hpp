#pragma once
// expect_error: how tests check an error. Not the whole English sentence, which may be reworded, but
// what a caller may rely on: the exact exception type, its stable id (docs/errors.md), and the key
// facts of the message (the numbers, names and paths, expected vs found).
//
//     loom_test::expect_error<loom::IoError>([&] { (void)loom::read_idx(dir / "m"); },
//                                            {"<dir>/m", "magic", "0x00 0x00", "found 0x12 0x34"}, dir.path);
#include <doctest/doctest.h>

#include <exception>
#include <filesystem>
#include <source_location>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "loom/core/error.hpp"

namespace loom_test {

// The id each kind of error must carry, written out here rather than read from the library, so that a
// changed id fails the tests.
template <class E> inline constexpr std::string_view stable_id{};  // none: expect_error refuses such an E
template <> inline constexpr std::string_view stable_id<loom::Error> = "loom.error";
template <> inline constexpr std::string_view stable_id<loom::ShapeError> = "loom.shape_error";
template <> inline constexpr std::string_view stable_id<loom::IoError> = "loom.io_error";
template <> inline constexpr std::string_view stable_id<loom::NumericError> = "loom.numeric_error";
template <> inline constexpr std::string_view stable_id<loom::ArgumentError> = "loom.argument_error";
template <> inline constexpr std::string_view stable_id<loom::ConfigError> = "loom.config_error";

// Runs `f` and checks that it throws exactly E (not a subclass), carrying E's stable id, with a message
// that contains every one of `facts`. A temporary directory `dir`, if given, is shown as <dir> in the
// message, so facts can name files as "<dir>/name". Failures are reported at the caller's line, with
// the message, and do not stop the test case.
template <class E, class F>
void expect_error(F&& f, const std::vector<std::string>& facts, const std::filesystem::path& dir = {},
                  std::source_location where = std::source_location::current()) {
    static_assert(!stable_id<E>.empty(), "expect_error: E is not one of the error kinds in docs/errors.md");
    const char* file = where.file_name();
    const int line = static_cast<int>(where.line());
    const std::string expected = std::string(typeid(E).name()) + " (" + std::string(stable_id<E>) + ")";
    const auto shown = [&](const std::exception& e) {
        std::string message = e.what();
        const std::string from = dir.string(), to = "<dir>";
        for (std::size_t at = 0; !from.empty() && (at = message.find(from, at)) != std::string::npos; at += to.size())
            message.replace(at, from.size(), to);
        return message;
    };
    try {
        f();
    } catch (const E& e) {
        const std::string message = shown(e);
        if (typeid(e) != typeid(E))
            ADD_FAIL_CHECK_AT(file, line, "threw ", std::string(typeid(e).name()), " instead of exactly ", expected,
                              ": ", message);
        if (std::string_view(e.id()) != stable_id<E>)
            ADD_FAIL_CHECK_AT(file, line, "id is \"", std::string(e.id()), "\", expected \"", std::string(stable_id<E>),
                              "\": ", message);
        for (const std::string& fact : facts)
            if (message.find(fact) == std::string::npos)
                ADD_FAIL_CHECK_AT(file, line, "the message does not contain \"", fact, "\": ", message);
        return;
    } catch (const std::exception& e) {
        const auto* error = dynamic_cast<const loom::Error*>(&e);
        ADD_FAIL_CHECK_AT(file, line, "threw ", std::string(typeid(e).name()),
                          error ? " (" + std::string(error->id()) + ")" : std::string(), " instead of ", expected, ": ",
                          shown(e));
        return;
    }
    ADD_FAIL_CHECK_AT(file, line, "did not throw ", expected);
}

}  // namespace loom_test
