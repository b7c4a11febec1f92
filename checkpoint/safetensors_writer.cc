#include "checkpoint/safetensors_writer.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace deferred {

absl::StatusOr<std::unique_ptr<SafetensorsWriter>> SafetensorsWriter::Create(
    const std::string& path, std::vector<SafetensorsTensor> tensors,
    const std::map<std::string, std::string>& metadata) {
  absl::StatusOr<std::string> header = EncodeSafetensorsHeader(tensors, metadata);
  if (!header.ok()) return header.status();
  absl::StatusOr<std::unique_ptr<AtomicFileWriter>> file = AtomicFileWriter::Create(path);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(*header); !s.ok()) return s;
  return std::unique_ptr<SafetensorsWriter>(
      new SafetensorsWriter(*std::move(file), std::move(tensors)));
}

absl::Status SafetensorsWriter::AppendTensor(std::string_view bytes) {
  if (next_ == tensors_.size()) {
    return absl::FailedPreconditionError("SafetensorsWriter: every tensor was appended already");
  }
  const SafetensorsTensor& t = tensors_[next_];
  if (static_cast<int64_t>(bytes.size()) != t.end - t.begin) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SafetensorsWriter: tensor '%s' takes %d bytes, got %d", t.name, t.end - t.begin,
        bytes.size()));
  }
  ++next_;
  return file_->Append(bytes);
}

absl::Status SafetensorsWriter::Commit() {
  if (next_ != tensors_.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "SafetensorsWriter: %d of %d tensors appended", next_, tensors_.size()));
  }
  return file_->Commit();
}

int64_t SafetensorsWriter::data_bytes() const {
  return tensors_.empty() ? 0 : tensors_.back().end;
}

}  // namespace deferred
