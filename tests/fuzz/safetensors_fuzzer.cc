// libFuzzer target for the safetensors header parser: any bytes, taken as the start of a
// file of that many bytes, must give a header or a status. Run with
// tests/fuzz/run_fuzzer.sh safetensors.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "checkpoint/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)deferred::ParseSafetensorsHeader(bytes, static_cast<int64_t>(size));
  return 0;
}
