#ifndef DEFERRED_FAKE_TENSOR_ERROR_TESTING_H_
#define DEFERRED_FAKE_TENSOR_ERROR_TESTING_H_

#include <string>

#include "absl/status/status.h"
#include "fake_tensor/error.h"
#include "gtest/gtest.h"

namespace deferred {

// For tests: runs `fn`, which must throw `Error` with `code`, and returns its message
// (records a gtest failure, and returns "", when it throws nothing or another code).
template <typename Fn>
std::string ErrorMessage(Fn&& fn, absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return "";
}

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_ERROR_TESTING_H_
