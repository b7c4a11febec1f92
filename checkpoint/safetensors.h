#ifndef DEFERRED_CHECKPOINT_SAFETENSORS_H_
#define DEFERRED_CHECKPOINT_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fake_tensor/dtype.h"
#include "fake_tensor/shape.h"

namespace deferred {

// safetensors, Hugging Face's checkpoint format: an 8-byte little-endian header length N;
// N bytes of UTF-8 JSON mapping each tensor's name to {"dtype", "shape", "data_offsets":
// [begin, end]}, with an optional "__metadata__" map of strings to strings, padded with
// spaces; then the data section, each tensor's elements in C order and little-endian at
// [begin, end) of it. The ranges tile the data section: no gap, no overlap.

// The largest header accepted (the reference implementation's limit).
inline constexpr int64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// safetensors' name of `dtype`: "F32", "F64", "F16", "BF16", "I64", "I32", "U8", "BOOL".
const char* SafetensorsDTypeName(DType dtype);

// The dtype safetensors calls `name`. InvalidArgument naming it for a dtype safetensors has
// and this project does not (I8, I16, U16, U32, U64, the F8 and F6/F4 types, C64), or for
// a name safetensors does not have.
absl::StatusOr<DType> ParseSafetensorsDType(std::string_view name);

// One tensor of a file.
struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::kFloat32;
  Shape shape;
  int64_t begin = 0;  // byte offsets within the data section
  int64_t end = 0;
};

// What a file's header says.
struct SafetensorsHeader {
  std::vector<SafetensorsTensor> tensors;  // in order of their data
  std::map<std::string, std::string> metadata;
  int64_t data_offset = 0;  // where the data section starts in the file: 8 + N

  // The tensor `name`, or null.
  const SafetensorsTensor* Find(std::string_view name) const;
};

// Parses the first bytes of a file — `prefix`, which must hold at least its 8-byte length
// and the header — of a file of `file_bytes` bytes in all, and checks everything a reader
// needs before it reads any data: the header length within the file and the limit, the
// header a JSON object of valid entries (known dtype, non-negative shape, offsets that
// match dtype and shape without overflow), names unique, and the ranges tiling the data
// section exactly. Errors: DataLoss for a file too short, a header that is not JSON or
// runs past the end, ranges that overlap, leave a gap or pass the end; InvalidArgument
// naming the tensor for a bad dtype, shape or offsets; each with the byte offset or tensor
// name.
absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(std::string_view prefix,
                                                         int64_t file_bytes);

// The 8 + N header bytes of a file holding `tensors` (whose begin and end are ignored:
// they are laid out in order, gap-free) and `metadata`: compact JSON, padded with spaces
// so that the data starts at a multiple of 8. `tensors` gets its offsets filled in.
// InvalidArgument for a duplicate name, a name "__metadata__", or sizes that overflow.
absl::StatusOr<std::string> EncodeSafetensorsHeader(std::vector<SafetensorsTensor>& tensors,
                                                    const std::map<std::string, std::string>& metadata);

}  // namespace deferred

#endif  // DEFERRED_CHECKPOINT_SAFETENSORS_H_
