#ifndef DEFERRED_DEFERRED_TRACE_FILE_H_
#define DEFERRED_DEFERRED_TRACE_FILE_H_

// Trace files: a deferred model's recorded initialization as an artifact
// (docs/TRACE_FORMAT.md). Record once, save, and let any later process materialize any
// tensor or shard of the model without the model's code.
//
//   absl::Status saved = deferred::save_trace(**model, "gpt2.dtrace");
//   absl::StatusOr<std::shared_ptr<deferred::nn::Module>> loaded =
//       deferred::load_trace("gpt2.dtrace");
//   absl::Status done = deferred::materialize_module(**loaded);

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "deferred/nn/module.h"

namespace deferred {

struct SaveTraceOptions {
  // Write the bytes of tensors that are already real (materialized) into the file; they
  // load as real tensors. Otherwise a real tensor is an error that names it.
  bool include_real_tensors = false;
};

// Writes everything needed to materialize `module`'s fake tensors to `path`: the recorded
// ops their storages depend on (also those recorded after deferred_init returned), with
// their attrs, RNG coordinates and provenance (module path, file:line); the constants
// they read; and the module tree: every module's dotted name and type name, every
// parameter and buffer under every name it has (ties), its layout over its storage (a
// view stays a view), dtype, home device and persistent flag. The write is atomic: on
// error no file is left and an existing one is untouched. Errors: InvalidArgument naming
// a tensor that is real (unless `options` include them), meta, or undefined; the file
// system's error otherwise.
absl::Status save_trace(const nn::Module& module, const std::string& path,
                        const SaveTraceOptions& options = {});

// The module tree saved at `path`: generic modules carrying the saved type names, whose
// fake tensors are backed by the file's trace and materialize (whole, in shards, in any
// order) bitwise equal to the saved module's, without reading or changing the process's
// random generator. Errors: those of DecodeTraceFile (replay/trace_file.h: DataLoss for a
// corrupt or truncated file, FailedPrecondition for a newer format, InvalidArgument for
// inconsistent content, each naming the line), and the file system's.
absl::StatusOr<std::shared_ptr<nn::Module>> load_trace(const std::string& path);

// The bytes save_trace writes, and the module tree load_trace makes of them: for traces
// that travel by other means than files (a broadcast from rank 0). Errors as theirs.
absl::StatusOr<std::string> serialize_trace(const nn::Module& module,
                                            const SaveTraceOptions& options = {});
absl::StatusOr<std::shared_ptr<nn::Module>> deserialize_trace(std::string_view bytes);

}  // namespace deferred

#endif  // DEFERRED_DEFERRED_TRACE_FILE_H_
