#include "checkpoint/safetensors_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

namespace deferred {
namespace {

std::atomic<int64_t> bytes_read{0};
std::atomic<int64_t> read_calls{0};

// The most bytes one coalesced read brings in before converting them.
constexpr int64_t kMaxReadSpan = int64_t{8} << 20;

absl::Status SystemError(const char* what, const std::string& path, int error) {
  const std::string message = absl::StrFormat("%s %s: %s", what, path, std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  if (error == EISDIR) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

// Converts `n` elements of `from` at `src` to `to` at `dst` (CastElement); false when a
// bool source byte is neither 0 nor 1.
bool ConvertElements(const char* src, DType from, int64_t n, DType to, char* dst) {
  if (from == DType::kBool) {
    for (int64_t i = 0; i < n; ++i) {
      if (static_cast<unsigned char>(src[i]) > 1) return false;
    }
  }
  if (from == to) {
    std::memcpy(dst, src, static_cast<size_t>(n * ElementSize(from)));
    return true;
  }
  VisitDType(from, [&]<typename F>() {
    VisitDType(to, [&]<typename T>() {
      for (int64_t i = 0; i < n; ++i) {
        F value;
        std::memcpy(&value, src + i * static_cast<int64_t>(sizeof(F)), sizeof(F));
        const T converted = CastElement<T>(value);
        std::memcpy(dst + i * static_cast<int64_t>(sizeof(T)), &converted, sizeof(T));
      }
    });
  });
  return true;
}

// Reads bytes [offset, offset + size) of `fd` (the file at `path`) into `out`.
absl::Status ReadFully(int fd, const std::string& path, int64_t offset, int64_t size, char* out) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, static_cast<size_t>(size), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SystemError("cannot read", path, errno);
    read_calls.fetch_add(1);
    if (n == 0) {
      return absl::DataLossError(absl::StrFormat(
          "%s: the file ends at byte %d, before the %d bytes expected there (it changed after "
          "it was opened)",
          path, offset, size));
    }
    bytes_read.fetch_add(n);
    offset += n;
    out += n;
    size -= n;
  }
  return absl::OkStatus();
}

}  // namespace

CheckpointReadStats GetCheckpointReadStats() {
  return CheckpointReadStats{bytes_read.load(), read_calls.load()};
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SystemError("cannot open", path, errno);
  auto fail = [&](absl::Status status) {
    ::close(fd);
    return absl::Status(status.code(), absl::StrFormat("%s: %s", path, status.message()));
  };
  struct stat info;
  if (::fstat(fd, &info) != 0) return fail(SystemError("cannot stat", path, errno));
  if (S_ISDIR(info.st_mode)) return fail(SystemError("cannot read", path, EISDIR));
  const int64_t file_bytes = info.st_size;
  // The length, then the header it announces (ParseSafetensorsHeader bounds it first).
  std::string prefix(static_cast<size_t>(std::min<int64_t>(file_bytes, 8)), '\0');
  if (absl::Status s = ReadFully(fd, path, 0, static_cast<int64_t>(prefix.size()), prefix.data());
      !s.ok()) {
    return fail(s);
  }
  if (file_bytes >= 8) {
    uint64_t length;
    std::memcpy(&length, prefix.data(), 8);
    if (length <= static_cast<uint64_t>(kMaxSafetensorsHeaderBytes) &&
        8 + static_cast<int64_t>(length) <= file_bytes) {
      prefix.resize(8 + static_cast<size_t>(length));
      if (absl::Status s = ReadFully(fd, path, 8, static_cast<int64_t>(length), prefix.data() + 8);
          !s.ok()) {
        return fail(s);
      }
    }
  }
  absl::StatusOr<SafetensorsHeader> header = ParseSafetensorsHeader(prefix, file_bytes);
  if (!header.ok()) return fail(header.status());
  return std::unique_ptr<SafetensorsFile>(new SafetensorsFile(path, fd, *std::move(header)));
}

SafetensorsFile::~SafetensorsFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status SafetensorsFile::ReadAt(int64_t offset, int64_t size, char* out) const {
  return ReadFully(fd_, path_, offset, size, out);
}

absl::Status SafetensorsFile::ReadRegion(const SafetensorsTensor& tensor, const Region& region,
                                         DType out_dtype, void* out) const {
  const int64_t rank = static_cast<int64_t>(tensor.shape.size());
  bool inside = region.rank() == rank;
  for (int64_t d = 0; inside && d < rank; ++d) {
    inside = 0 <= region.start[d] && region.start[d] <= region.stop[d] &&
             region.stop[d] <= tensor.shape[d];
  }
  if (!inside) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: region %s is not inside tensor '%s' of shape %s", path_, region.ToString(),
        tensor.name, ShapeToString(tensor.shape)));
  }
  if (region.empty()) return absl::OkStatus();
  // Rows: the region is a set of equal runs of consecutive elements in the file, each the
  // region's extent along dim `split` times the whole of every later dim.
  int64_t split = rank - 1;
  while (split > 0 && region.start[split] == 0 && region.stop[split] == tensor.shape[split]) {
    --split;
  }
  const Shape strides = ContiguousStrides(tensor.shape);
  const int64_t element = ElementSize(tensor.dtype);
  const int64_t out_element = ElementSize(out_dtype);
  const int64_t run_elements = rank == 0 ? 1 : (region.stop[split] - region.start[split]) * strides[split];
  const int64_t run_bytes = run_elements * element;
  Shape index(region.start.begin(), region.start.begin() + std::max<int64_t>(split, 0));
  const int64_t runs = region.numel() / run_elements;
  // The file offset of each run, in order (non-decreasing: the region is row-major).
  auto run_offset = [&](const Shape& at) {
    int64_t element_offset = rank == 0 ? 0 : region.start[split] * strides[split];
    for (int64_t d = 0; d < split; ++d) element_offset += at[d] * strides[d];
    return header_.data_offset + tensor.begin + element_offset * element;
  };
  auto advance = [&](Shape& at) {
    for (int64_t d = split - 1; d >= 0; --d) {
      if (++at[d] < region.stop[d]) return;
      at[d] = region.start[d];
    }
  };
  char* dst = static_cast<char*>(out);
  std::vector<char> scratch;
  // Converts `bytes` bytes of the tensor's elements at `src` into `dst`, advancing it.
  auto convert = [&](const char* src, int64_t bytes) {
    if (!ConvertElements(src, tensor.dtype, bytes / element, out_dtype, dst)) {
      return absl::DataLossError(absl::StrFormat(
          "%s: tensor '%s' holds a BOOL byte other than 0 or 1", path_, tensor.name));
    }
    dst += bytes / element * out_element;
    return absl::OkStatus();
  };
  const bool direct = out_dtype == tensor.dtype && tensor.dtype != DType::kBool;
  for (int64_t r = 0; r < runs;) {
    // Runs r .. r + count - 1 are read together: close enough, and not too much at once.
    const int64_t first = run_offset(index);
    int64_t count = 1, last = first;
    Shape next = index;
    advance(next);
    while (r + count < runs) {
      const int64_t offset = run_offset(next);
      if (offset - (last + run_bytes) > kCoalesceGapBytes ||
          offset + run_bytes - first > kMaxReadSpan) {
        break;
      }
      last = offset;
      ++count;
      advance(next);
    }
    if (count == 1 && direct) {
      if (absl::Status s = ReadAt(first, run_bytes, dst); !s.ok()) return s;
      dst += run_bytes;
    } else if (count == 1) {
      // One run to convert: in pieces, so the scratch buffer stays small.
      const int64_t piece = std::max(kMaxReadSpan / element, int64_t{1}) * element;
      scratch.resize(static_cast<size_t>(std::min(piece, run_bytes)));
      for (int64_t done = 0; done < run_bytes;) {
        const int64_t take = std::min(piece, run_bytes - done);
        if (absl::Status s = ReadAt(first + done, take, scratch.data()); !s.ok()) return s;
        if (absl::Status s = convert(scratch.data(), take); !s.ok()) return s;
        done += take;
      }
    } else {
      // Several runs: one read of the span they lie in, then each run into place.
      const int64_t span = last + run_bytes - first;
      scratch.resize(static_cast<size_t>(span));
      if (absl::Status s = ReadAt(first, span, scratch.data()); !s.ok()) return s;
      Shape at = index;
      for (int64_t k = 0; k < count; ++k, advance(at)) {
        if (absl::Status s = convert(scratch.data() + (run_offset(at) - first), run_bytes); !s.ok()) {
          return s;
        }
      }
    }
    r += count;
    index = next;
  }
  return absl::OkStatus();
}

}  // namespace deferred
