#ifndef DEFERRED_REPLAY_TRACE_FILE_H_
#define DEFERRED_REPLAY_TRACE_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fake_tensor/tensor.h"

namespace deferred {

// The trace-file format (docs/TRACE_FORMAT.md): a recorded model as text, one line per
// storage, op, module, tensor and name, sealed by a SHA-256 of its content. This layer
// knows traces and tensors, not nn::Module: the module tree travels as plain names.

// The version this code writes, and the newest it reads (a newer minor version reads; a
// newer major one is refused).
inline constexpr int kTraceFormatMajor = 1;
inline constexpr int kTraceFormatMinor = 0;
// The meaning of the ops and attrs the file names; a file of a newer op set is refused.
inline constexpr int kTraceOpSet = 1;
// The counter-based random numbers the recorded coordinates address (docs/RNG.md).
inline constexpr char kTraceRngScheme[] = "philox4x32-10/1";

// One module of a saved tree: its dotted name ("" for the root) and type name.
struct SavedModule {
  std::string name;
  std::string type;
};

// One name of a saved tensor. Tied tensors are one tensor with several entries.
struct SavedEntry {
  std::string name;        // dotted ("layers.0.attn.weight")
  int32_t tensor = 0;      // index into SavedModel::tensors
  bool buffer = false;     // a parameter otherwise
  bool persistent = true;  // buffers only
};

// A recorded model as a trace file holds it.
struct SavedModel {
  std::vector<SavedModule> modules;  // every module of the tree, each after its parent
  std::vector<Tensor> tensors;       // fake tensors of traces, or real CPU tensors
  std::vector<SavedEntry> entries;
};

// The trace-file text of `model`: the ops its fake tensors' storages depend on (from one
// trace or several), with their attrs, RNG coordinates and provenance; the bytes of its
// real tensors; the module tree and every entry. Canonical: storages are numbered in the
// order the ops create them, so the text depends only on the model, and
// EncodeTraceFile(DecodeTraceFile(text)) == text. Errors: InvalidArgument for a tensor
// that is undefined, meta, or real off the CPU, and for an entry naming no tensor.
absl::StatusOr<std::string> EncodeTraceFile(const SavedModel& model);

// The model a trace-file text holds. Its ops are recorded into one new Trace exactly as a
// live call is recorded (the dispatcher's checks and every shape rule run on them), so
// its fake tensors materialize as the saved model's did. Errors, each naming the line (or
// byte offset) and what is wrong: DataLoss when the text is not a trace file, is
// truncated, does not match its checksum, or holds a line that is not valid JSON;
// FailedPrecondition for a newer major version or op set, or another RNG scheme, naming
// both; InvalidArgument for content that is inconsistent (an unknown op, a bad attr, a
// shape rule that refuses the op, a layout outside its storage, a reference to nothing).
// Never crashes, whatever the bytes.
absl::StatusOr<SavedModel> DecodeTraceFile(std::string_view text);

// `content` (lines of a trace file, each ending in '\n', without the end line) followed
// by its end line: what EncodeTraceFile returns. Tests use it to build files whose
// content is wrong but whose checksum is right.
std::string SealTraceFile(std::string_view content);

}  // namespace deferred

#endif  // DEFERRED_REPLAY_TRACE_FILE_H_
