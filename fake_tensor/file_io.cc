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

absl::StatusOr<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(
    const std::string& path) {
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode)) {
    return SystemError("cannot write", path, EISDIR);
  }
  std::string temporary = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(temporary.data());
  if (fd < 0) return SystemError("cannot create a temporary file beside", path, errno);
  // mkstemp makes the file 0600; give it the permissions of an ordinary new file.
  if (::fchmod(fd, 0644) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    return SystemError("cannot set the permissions of", temporary, error);
  }
  return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(path, std::move(temporary), fd));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temporary_.c_str());
  }
}

absl::Status AtomicFileWriter::Append(std::string_view bytes) {
  if (fd_ < 0) return absl::FailedPreconditionError("AtomicFileWriter: already committed");
  if (!WriteAll(fd_, bytes)) return SystemError("cannot write", temporary_, errno);
  size_ += static_cast<int64_t>(bytes.size());
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return absl::FailedPreconditionError("AtomicFileWriter: already committed");
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(temporary_.c_str());
    return SystemError("cannot flush", temporary_, error);
  }
  if (::close(fd) != 0 || ::rename(temporary_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary_.c_str());
    return SystemError("cannot rename a temporary file to", path_, error);
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  absl::StatusOr<std::unique_ptr<AtomicFileWriter>> writer = AtomicFileWriter::Create(path);
  if (!writer.ok()) return writer.status();
  if (absl::Status status = (*writer)->Append(contents); !status.ok()) return status;
  return (*writer)->Commit();
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
