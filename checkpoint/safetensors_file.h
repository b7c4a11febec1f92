#ifndef DEFERRED_CHECKPOINT_SAFETENSORS_FILE_H_
#define DEFERRED_CHECKPOINT_SAFETENSORS_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "checkpoint/safetensors.h"
#include "fake_tensor/region.h"

namespace deferred {

// Process-wide counters of the bytes checkpoint readers read from files, so that tests
// and benchmarks can assert what a load read rather than assume it.
struct CheckpointReadStats {
  int64_t bytes = 0;  // read by pread, header bytes included
  int64_t reads = 0;  // pread calls
};
CheckpointReadStats GetCheckpointReadStats();

// An open safetensors file: its header, read and checked once, and reads of any region
// of any of its tensors with pread — never a whole-file read, never an mmap of it.
class SafetensorsFile {
 public:
  // Opens `path` and reads its 8-byte length and header (nothing of the data).
  // Errors: the system's (NotFound, PermissionDenied, ...), and ParseSafetensorsHeader's,
  // prefixed with the path.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const SafetensorsHeader& header() const { return header_; }

  // Reads `region` (in `tensor`'s shape) of `tensor`, one of this file's, into `out`: a
  // contiguous row-major buffer of the region's elements of `out_dtype`, each converted
  // as a cast does (CastElement: floats round to nearest even). The bytes read are the
  // region's rows; rows separated by less than kCoalesceGapBytes are read by one pread
  // of the span between them (docs/CHECKPOINTS.md). Errors: InvalidArgument for a region
  // outside the tensor; DataLoss for a short read (the file shrank) or a BOOL byte other
  // than 0 or 1; the system's error for a failed read.
  absl::Status ReadRegion(const SafetensorsTensor& tensor, const Region& region,
                          DType out_dtype, void* out) const;

  // Rows of a region closer than this are read together: one system call in place of
  // many, for at most this many bytes read and discarded per row.
  static constexpr int64_t kCoalesceGapBytes = 4096;

 private:
  SafetensorsFile(std::string path, int fd, SafetensorsHeader header)
      : path_(std::move(path)), fd_(fd), header_(std::move(header)) {}

  // Reads bytes [offset, offset + size) of the file into `out`.
  absl::Status ReadAt(int64_t offset, int64_t size, char* out) const;

  std::string path_;
  int fd_;
  SafetensorsHeader header_;
};

}  // namespace deferred

#endif  // DEFERRED_CHECKPOINT_SAFETENSORS_FILE_H_
