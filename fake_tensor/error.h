#ifndef DEFERRED_FAKE_TENSOR_ERROR_H_
#define DEFERRED_FAKE_TENSOR_ERROR_H_

#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace deferred {

// Misuse detected inside an op (shape mismatch, bad dim, data access on a fake tensor).
// Ops throw it so that model code reads naturally; every public entry point catches it
// and returns an absl::Status with the same message and code.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message,
                 absl::StatusCode code = absl::StatusCode::kInvalidArgument)
      : std::runtime_error(message), code_(code) {}

  absl::StatusCode code() const { return code_; }
  absl::Status ToStatus() const { return absl::Status(code_, what()); }

 private:
  absl::StatusCode code_;
};

// Throws an InvalidArgument `Error` whose message is formatted like absl::StrFormat.
template <typename... Args>
[[noreturn]] void ThrowError(const absl::FormatSpec<Args...>& format, const Args&... args) {
  throw Error(absl::StrFormat(format, args...));
}

// Throws an `Error` with the given status code.
template <typename... Args>
[[noreturn]] void ThrowErrorWithCode(absl::StatusCode code,
                                     const absl::FormatSpec<Args...>& format,
                                     const Args&... args) {
  throw Error(absl::StrFormat(format, args...), code);
}

// Runs `fn` and converts anything it throws into a Status; the boundary of every public
// API. An `Error` keeps its code and message, std::bad_alloc is ResourceExhausted, and any
// other exception (a bug, or user code throwing what it likes) is Internal.
template <typename Fn>
absl::Status CatchErrors(Fn&& fn) {
  try {
    std::forward<Fn>(fn)();
    return absl::OkStatus();
  } catch (const Error& e) {
    return e.ToStatus();
  } catch (const std::bad_alloc& e) {
    return absl::ResourceExhaustedError(absl::StrFormat("out of memory (%s)", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  } catch (...) {
    return absl::InternalError("an exception that is not a std::exception was thrown");
  }
}

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_ERROR_H_
