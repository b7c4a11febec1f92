#include "fake_tensor/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace deferred {
namespace {

// A status for the system call `what` on `path` that failed with `error`.
absl::Status SystemError(const char* what, const std::string& path, int error) {
  const std::string message = absl::StrFormat("%s %s: %s", what, path, std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    case EISDIR:
    case ENOTDIR:
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

// Writes all of `contents` to `fd`, retrying short writes.
bool WriteAll(int fd, std::string_view contents) {
  while (!contents.empty()) {
    const ssize_t n = ::write(fd, contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode)) {
    return SystemError("cannot write", path, EISDIR);
  }
  std::string temporary = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) return SystemError("cannot create a temporary file beside", path, errno);
  // mkstemp makes the file 0600; give it the permissions of an ordinary new file.
  const bool written = ::fchmod(fd, 0644) == 0 && WriteAll(fd, contents) && ::fsync(fd) == 0;
  const int write_error = errno;
  if (::close(fd) != 0 || !written) {
    ::unlink(temporary.c_str());
    return SystemError("cannot write", temporary, written ? errno : write_error);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return SystemError("cannot rename a temporary file to", path, error);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path, int64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SystemError("cannot open", path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return SystemError("cannot stat", path, error);
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return SystemError("cannot read", path, EISDIR);
  }
  if (info.st_size > max_bytes) {
    ::close(fd);
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s holds %d bytes, more than the %d this reader accepts", path, info.st_size, max_bytes));
  }
  std::string contents(static_cast<size_t>(info.st_size), '\0');
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::read(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      ::close(fd);
      return SystemError("cannot read", path, error);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return contents;
}

}  // namespace deferred
