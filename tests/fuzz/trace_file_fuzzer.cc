// libFuzzer target for the trace-file reader: any bytes must decode to a model or a
// status, and a decoded model's tensors must materialize or fail with a status. Build and
// run with tests/fuzz/run_fuzzer.sh trace_file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "deferred/deferred.h"
#include "fake_tensor/storage.h"
#include "replay/trace_file.h"

// Allocations that mutated sizes ask for must fail as a status, not abort.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = [] {
    deferred::SetAllocationLimit(int64_t{64} << 20);
    return true;
  }();
  (void)limited;
  if (size == 0) return 0;
  // The first byte picks the mode: the rest as a whole file, or as the content of a file
  // sealed with its correct checksum, which takes the fuzzer past the checksum to the
  // parser and the op checks.
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const absl::StatusOr<deferred::SavedModel> model =
      data[0] & 1 ? deferred::DecodeTraceFile(bytes)
                  : deferred::DecodeTraceFile(deferred::SealTraceFile(bytes));
  if (!model.ok()) return 0;
  for (const deferred::Tensor& t : model->tensors) {
    if (t.numel() <= (1 << 16)) (void)deferred::materialize_tensor(t);
  }
  return 0;
}
