#ifndef DEFERRED_FAKE_TENSOR_FILE_IO_H_
#define DEFERRED_FAKE_TENSOR_FILE_IO_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deferred {

// Replaces the file at `path` with `contents` atomically: the bytes go to a temporary file
// in the same folder, which is flushed to disk and then renamed over `path`, so a reader
// sees the old file or the new one, and a failed write leaves no partial file and the old
// one untouched. Errors: the failing system call and path (InvalidArgument for a missing
// folder or a path that is a folder, PermissionDenied, ResourceExhausted for a full disk,
// Internal otherwise).
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

// The whole file at `path`. NotFound / PermissionDenied / InvalidArgument (a folder) as the
// system says; ResourceExhausted for a file over `max_bytes`.
absl::StatusOr<std::string> ReadFileToString(const std::string& path, int64_t max_bytes);

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_FILE_IO_H_
