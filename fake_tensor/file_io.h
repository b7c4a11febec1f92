#ifndef DEFERRED_FAKE_TENSOR_FILE_IO_H_
#define DEFERRED_FAKE_TENSOR_FILE_IO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace deferred {

// A file written in pieces and put in place atomically: the bytes go to a temporary file
// beside `path`; Commit flushes it to disk and renames it over `path`. Destroying a writer
// that was not committed removes the temporary file, so a failed write leaves nothing and
// the old file untouched. Errors are those of WriteFileAtomically.
class AtomicFileWriter {
 public:
  static absl::StatusOr<std::unique_ptr<AtomicFileWriter>> Create(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  absl::Status Append(std::string_view bytes);
  // Call once, after the last Append.
  absl::Status Commit();
  // Bytes appended so far.
  int64_t size() const { return size_; }

 private:
  AtomicFileWriter(std::string path, std::string temporary, int fd)
      : path_(std::move(path)), temporary_(std::move(temporary)), fd_(fd) {}

  std::string path_;
  std::string temporary_;
  int fd_;
  int64_t size_ = 0;
};

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
