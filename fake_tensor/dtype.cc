#include "fake_tensor/dtype.h"

namespace deferred {

int64_t ElementSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kFloat16:
    case DType::kBFloat16:
      return 2;
    case DType::kUInt8:
    case DType::kBool:
      return 1;
  }
  return 1;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kInt64: return "int64";
    case DType::kInt32: return "int32";
    case DType::kUInt8: return "uint8";
    case DType::kBool: return "bool";
  }
  return "unknown";
}

bool ParseDType(std::string_view name, DType* dtype) {
  for (DType candidate : kAllDTypes) {
    if (DTypeName(candidate) == name) {
      *dtype = candidate;
      return true;
    }
  }
  return false;
}

bool IsFloatingPoint(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat64 || dtype == DType::kFloat16 ||
         dtype == DType::kBFloat16;
}

bool IsIntegral(DType dtype) {
  return dtype == DType::kInt64 || dtype == DType::kInt32 || dtype == DType::kUInt8;
}

namespace {

// Position in the promotion order within a category.
int IntegralRank(DType dtype) {
  switch (dtype) {
    case DType::kUInt8: return 0;
    case DType::kInt32: return 1;
    default: return 2;  // int64
  }
}

}  // namespace

DType PromoteTypes(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::kBool) return b;
  if (b == DType::kBool) return a;
  const bool a_float = IsFloatingPoint(a);
  const bool b_float = IsFloatingPoint(b);
  if (a_float != b_float) return a_float ? a : b;
  if (!a_float) return IntegralRank(a) >= IntegralRank(b) ? a : b;
  if (a == DType::kFloat64 || b == DType::kFloat64) return DType::kFloat64;
  // Any remaining mix of float32, float16 and bfloat16 promotes to float32.
  return DType::kFloat32;
}

}  // namespace deferred
