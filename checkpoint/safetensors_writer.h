#ifndef DEFERRED_CHECKPOINT_SAFETENSORS_WRITER_H_
#define DEFERRED_CHECKPOINT_SAFETENSORS_WRITER_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "checkpoint/safetensors.h"
#include "fake_tensor/file_io.h"

namespace deferred {

// Writes a safetensors file tensor by tensor: the header first — every tensor's name,
// dtype and shape are known before any value is — then each tensor's bytes in order, so
// that a writer holds one tensor's values at a time. The file appears, atomically, at
// Commit; a writer destroyed before leaves no file.
class SafetensorsWriter {
 public:
  // `tensors` in the order their bytes will be appended (begin and end are computed).
  // Errors: EncodeSafetensorsHeader's, and the file system's.
  static absl::StatusOr<std::unique_ptr<SafetensorsWriter>> Create(
      const std::string& path, std::vector<SafetensorsTensor> tensors,
      const std::map<std::string, std::string>& metadata);

  // The next tensor's elements, row-major and little-endian: exactly its size.
  // FailedPrecondition when all were appended, InvalidArgument for another size.
  absl::Status AppendTensor(std::string_view bytes);
  // FailedPrecondition unless every tensor was appended.
  absl::Status Commit();

  // The tensors with their offsets, and the bytes of data they take.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  int64_t data_bytes() const;

 private:
  SafetensorsWriter(std::unique_ptr<AtomicFileWriter> file, std::vector<SafetensorsTensor> tensors)
      : file_(std::move(file)), tensors_(std::move(tensors)) {}

  std::unique_ptr<AtomicFileWriter> file_;
  std::vector<SafetensorsTensor> tensors_;
  size_t next_ = 0;
};

}  // namespace deferred

#endif  // DEFERRED_CHECKPOINT_SAFETENSORS_WRITER_H_
