#include "tests/equivalence.h"

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "fake_tensor/dtype.h"
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
      return ::testing::AssertionFailure()
             << kind << " " << i << ": expected name '" << expected[i].first << "', got '"
             << actual[i].first << "'";
    }
    ::testing::AssertionResult same = TensorsBitwiseEqual(expected[i].second, actual[i].second);
    if (!same)
      return ::testing::AssertionFailure()
             << kind << " '" << actual[i].first << "': " << same.message();
  }
  return ::testing::AssertionSuccess();
}

// Sizes, dtype and element bytes equal; where both elements are NaN, their bits only if
// `nan_bits_matter`.
::testing::AssertionResult ElementsEqual(const Tensor& expected, const Tensor& actual,
                                         bool nan_bits_matter) {
  if (!expected.has_data() || !actual.has_data()) {
    return ::testing::AssertionFailure()
           << "not real: expected " << expected.ToString() << ", actual " << actual.ToString();
  }
  if (expected.sizes() != actual.sizes() || expected.dtype() != actual.dtype()) {
    return ::testing::AssertionFailure()
           << "expected " << expected.ToString() << ", got " << actual.ToString();
  }
  const std::string a = expected.to_bytes();
  const std::string b = actual.to_bytes();
  const size_t element = static_cast<size_t>(ElementSize(expected.dtype()));
  for (size_t i = 0; i < a.size(); i += element) {
    if (a.compare(i, element, b, i, element) == 0) continue;
    if (!nan_bits_matter &&
        IsNanElement(reinterpret_cast<const std::byte*>(a.data() + i), expected.dtype()) &&
        IsNanElement(reinterpret_cast<const std::byte*>(b.data() + i), expected.dtype())) {
      continue;
    }
    return ::testing::AssertionFailure()
           << "element " << i / element << " (row-major) of " << actual.ToString() << " differs";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult TensorsBitwiseEqual(const Tensor& expected, const Tensor& actual) {
  return ElementsEqual(expected, actual, /*nan_bits_matter=*/true);
}

::testing::AssertionResult TensorsEqualUpToNanBits(const Tensor& expected, const Tensor& actual) {
  return ElementsEqual(expected, actual, /*nan_bits_matter=*/false);
}

bool IsNanElement(const std::byte* bytes, DType dtype) {
  bool nan = false;
  VisitDType(dtype, [&]<typename T>() {
    if constexpr (!std::is_integral_v<T>) {
      T value;
      std::memcpy(&value, bytes, sizeof(T));
      const MathOf<T> x = MathOf<T>(value);
      nan = x != x;
    }
  });
  return nan;
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
