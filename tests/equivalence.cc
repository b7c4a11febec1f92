#include "tests/equivalence.h"

#include <cstring>
#include <string>
#include <vector>

#include "fake_tensor/shape.h"
#include "replay/sha256.h"

namespace deferred {
namespace {

::testing::AssertionResult NamedTensorsEqual(const char* kind,
                                             const std::vector<nn::NamedTensor>& expected,
                                             const std::vector<nn::NamedTensor>& actual) {
  if (expected.size() != actual.size()) {
    return ::testing::AssertionFailure()
           << kind << ": " << expected.size() << " expected, " << actual.size() << " actual";
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i].first != actual[i].first) {
      return ::testing::AssertionFailure() << kind << " " << i << ": expected name '"
                                           << expected[i].first << "', got '" << actual[i].first
                                           << "'";
    }
    ::testing::AssertionResult same = TensorsBitwiseEqual(expected[i].second, actual[i].second);
    if (!same) return ::testing::AssertionFailure() << kind << " '" << actual[i].first << "': " << same.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult TensorsBitwiseEqual(const Tensor& expected, const Tensor& actual) {
  if (!expected.has_data() || !actual.has_data()) {
    return ::testing::AssertionFailure() << "not real: expected " << expected.ToString()
                                         << ", actual " << actual.ToString();
  }
  if (expected.sizes() != actual.sizes() || expected.dtype() != actual.dtype()) {
    return ::testing::AssertionFailure() << "expected " << expected.ToString() << ", got "
                                         << actual.ToString();
  }
  const std::string a = expected.to_bytes();
  const std::string b = actual.to_bytes();
  const int64_t element = ElementSize(expected.dtype());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      return ::testing::AssertionFailure()
             << "element " << static_cast<int64_t>(i) / element << " (row-major) of "
             << actual.ToString() << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

Tensor SliceOf(const Tensor& t, const Region& region) {
  TensorLayout layout = t.layout();
  for (int64_t d = 0; d < region.rank(); ++d) {
    layout.storage_offset += region.start[d] * layout.strides[d];
  }
  layout.sizes = region.sizes();
  return MakeView(t, layout);
}

std::string TensorSha256(const Tensor& t) { return Sha256::HexDigest(t.to_bytes()); }

::testing::AssertionResult ModulesBitwiseEqual(const nn::Module& expected,
                                               const nn::Module& actual) {
  ::testing::AssertionResult parameters =
      NamedTensorsEqual("parameter", expected.named_parameters(), actual.named_parameters());
  if (!parameters) return parameters;
  return NamedTensorsEqual("buffer", expected.named_buffers(), actual.named_buffers());
}

}  // namespace deferred
