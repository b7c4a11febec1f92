#ifndef DEFERRED_FAKE_TENSOR_DTYPE_H_
#define DEFERRED_FAKE_TENSOR_DTYPE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "fake_tensor/half.h"
#include "fake_tensor/host_device.h"

namespace deferred {

// Element types of tensors. The numeric values are part of the trace file format.
enum class DType : uint8_t {
  kFloat32 = 0,
  kFloat64 = 1,
  kFloat16 = 2,
  kBFloat16 = 3,
  kInt64 = 4,
  kInt32 = 5,
  kUInt8 = 6,
  kBool = 7,
};

inline constexpr DType kAllDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                       DType::kBFloat16, DType::kInt64,   DType::kInt32,
                                       DType::kUInt8,   DType::kBool};

// The dtype factories use when none is given (PyTorch's default dtype).
inline constexpr DType kDefaultFloatDType = DType::kFloat32;

// Bytes per element.
int64_t ElementSize(DType dtype);

// PyTorch's name: "float32", "bfloat16", "int64", "bool", ...
const char* DTypeName(DType dtype);

// Parses a name produced by DTypeName; false if unknown.
bool ParseDType(std::string_view name, DType* dtype);

bool IsFloatingPoint(DType dtype);
// Integral types, bool excluded.
bool IsIntegral(DType dtype);

// PyTorch's type promotion between two tensor dtypes: bool < integers < floating types;
// float16 with bfloat16 gives float32.
DType PromoteTypes(DType a, DType b);

// The C++ type that stores an element of each dtype.
template <DType D> struct CppTypeOf;
template <> struct CppTypeOf<DType::kFloat32> { using type = float; };
template <> struct CppTypeOf<DType::kFloat64> { using type = double; };
template <> struct CppTypeOf<DType::kFloat16> { using type = Half; };
template <> struct CppTypeOf<DType::kBFloat16> { using type = BFloat16; };
template <> struct CppTypeOf<DType::kInt64> { using type = int64_t; };
template <> struct CppTypeOf<DType::kInt32> { using type = int32_t; };
template <> struct CppTypeOf<DType::kUInt8> { using type = uint8_t; };
template <> struct CppTypeOf<DType::kBool> { using type = bool; };

template <typename T> constexpr DType DTypeOf();
template <> constexpr DType DTypeOf<float>() { return DType::kFloat32; }
template <> constexpr DType DTypeOf<double>() { return DType::kFloat64; }
template <> constexpr DType DTypeOf<Half>() { return DType::kFloat16; }
template <> constexpr DType DTypeOf<BFloat16>() { return DType::kBFloat16; }
template <> constexpr DType DTypeOf<int64_t>() { return DType::kInt64; }
template <> constexpr DType DTypeOf<int32_t>() { return DType::kInt32; }
template <> constexpr DType DTypeOf<uint8_t>() { return DType::kUInt8; }
template <> constexpr DType DTypeOf<bool>() { return DType::kBool; }

// The type arithmetic on T is carried out in: float for the 16-bit floats, T otherwise.
template <typename T> struct OpMathOf { using type = T; };
template <> struct OpMathOf<Half> { using type = float; };
template <> struct OpMathOf<BFloat16> { using type = float; };
template <typename T>
using MathOf = typename OpMathOf<T>::type;

// Calls `fn.template operator()<T>()` with T the C++ type of `dtype`, e.g.
//   VisitDType(t.dtype(), [&]<typename T>() { ... });
template <typename Fn>
decltype(auto) VisitDType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: return fn.template operator()<float>();
    case DType::kFloat64: return fn.template operator()<double>();
    case DType::kFloat16: return fn.template operator()<Half>();
    case DType::kBFloat16: return fn.template operator()<BFloat16>();
    case DType::kInt64: return fn.template operator()<int64_t>();
    case DType::kInt32: return fn.template operator()<int32_t>();
    case DType::kUInt8: return fn.template operator()<uint8_t>();
    case DType::kBool: break;
  }
  return fn.template operator()<bool>();
}

// Floating `value` to integral To, defined everywhere (C++ leaves a NaN or an out-of-range
// value undefined): truncates toward zero where the result fits, and otherwise gives what
// x86's conversion (and so PyTorch's CPU kernels) gives, the most negative value. As in
// PyTorch, uint8 goes through int64, so -1.0 becomes 255 and 256.0 becomes 0.
template <typename To, typename F>
DEFERRED_HOST_DEVICE To FloatingToIntegral(F value) {
  if constexpr (std::is_same_v<To, uint8_t>) {
    return static_cast<uint8_t>(FloatingToIntegral<int64_t>(value));
  } else {
    constexpr double lowest = static_cast<double>(std::numeric_limits<To>::min());  // -2^k
    const double v = static_cast<double>(value);
    if (!(v >= lowest && v < -lowest)) return std::numeric_limits<To>::min();
    return static_cast<To>(value);
  }
}

// Converts between element types as PyTorch's casts do: through the op-math type, with
// floating to integral truncating toward zero (see FloatingToIntegral for values that do
// not fit), integral to narrower integral wrapping, and anything to bool testing for
// non-zero. float64 goes to the 16-bit floats through float32, as in PyTorch (so it is
// rounded twice). Compiled for CUDA devices too: device kernels store with it.
template <typename To, typename From>
DEFERRED_HOST_DEVICE To CastElement(From value) {
  using FromMath = typename OpMathOf<From>::type;
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<FromMath>(value) != 0;
  } else if constexpr (std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>) {
    return To(static_cast<float>(static_cast<FromMath>(value)));
  } else if constexpr (std::is_integral_v<To> && !std::is_integral_v<FromMath>) {
    return FloatingToIntegral<To>(static_cast<FromMath>(value));
  } else {
    return static_cast<To>(static_cast<FromMath>(value));
  }
}

}  // namespace deferred

#endif  // DEFERRED_FAKE_TENSOR_DTYPE_H_
