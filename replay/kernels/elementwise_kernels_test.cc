// Property tests of the elementwise ops' CPU kernels against plain reference loops:
// random shapes, all dtypes, random non-contiguous and broadcast inputs, in-place writes
// through views into larger storages, scalar forms, and thread-count independence.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "gtest/gtest.h"
#include "replay/rng/deterministic_math.h"
#include "replay/kernels/parallel.h"
#include "replay/kernels/strided_loop.h"

namespace deferred {
namespace {

using Index = std::vector<int64_t>;
using Bytes = std::vector<std::byte>;

// ---------------------------------------------------------------------------------------
// Random tensors.

double RandomDouble(std::mt19937_64& rng) {
  static const double kSpecials[] = {0.0,  -0.0,     1.0,   -1.0,   0.5,    NAN,     -NAN,
                                     INFINITY, -INFINITY, 1e-40, -3e-39, 65504.0, 70000.0,
                                     1e30, -1e30,    3e38,  1e300,  -2.5,   255.0,   256.5};
  switch (rng() % 10) {
    case 0:
      return kSpecials[rng() % std::size(kSpecials)];
    case 1:
      return static_cast<double>(static_cast<int64_t>(rng() % 13) - 6);
    default:
      return std::ldexp(static_cast<double>(rng() % 2000001) - 1000000.0, -18);  // [-4, 4]
  }
}

template <typename T>
T RandomValue(std::mt19937_64& rng) {
  if constexpr (std::is_same_v<T, bool>) {
    return rng() % 2 == 0;
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    if (rng() % 4 == 0) return T::FromBits(static_cast<uint16_t>(rng()));
    return T(static_cast<float>(RandomDouble(rng)));
  } else if constexpr (std::is_floating_point_v<T>) {
    if (rng() % 10 == 0) {
      if constexpr (std::is_same_v<T, float>) {
        return std::bit_cast<float>(static_cast<uint32_t>(rng()));
      } else {
        return std::bit_cast<double>(rng());
      }
    }
    return static_cast<T>(RandomDouble(rng));
  } else {
    switch (rng() % 5) {
      case 0:
        return static_cast<T>(rng());
      case 1: {
        const T extremes[] = {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(),
                              static_cast<T>(0), static_cast<T>(1), static_cast<T>(-1)};
        return extremes[rng() % 5];
      }
      default:
        return static_cast<T>(static_cast<int64_t>(rng() % 13) - 6);
    }
  }
}

void FillRandom(const Tensor& contiguous, std::mt19937_64& rng) {
  VisitDType(contiguous.dtype(), [&]<typename T>() {
    T* data = contiguous.data_ptr<T>();
    for (int64_t i = 0; i < contiguous.numel(); ++i) data[i] = RandomValue<T>(rng);
  });
}

// Random sizes of rank 0..4 with sizes 0..5 (a zero size rarely).
Shape RandomSizes(std::mt19937_64& rng) {
  Shape sizes(rng() % 5);
  for (int64_t& s : sizes) s = rng() % 12 == 0 ? 0 : 1 + static_cast<int64_t>(rng() % 5);
  return sizes;
}

// A shape that broadcasts to `sizes`: leading dims dropped, some dims set to 1.
Shape BroadcastableTo(std::mt19937_64& rng, const Shape& sizes) {
  const size_t drop = rng() % 3 == 0 ? rng() % (sizes.size() + 1) : 0;
  Shape out(sizes.begin() + drop, sizes.end());
  for (int64_t& s : out) {
    if (rng() % 4 == 0) s = 1;
  }
  return out;
}

enum class Layout { kContiguous, kStrided, kExpanded };

// A tensor of `sizes` whose layout is random: contiguous in its own storage, a view with
// permuted dims, gaps and an offset into a larger storage, or (when `allow_expanded`) such
// a view with stride 0 along some dims. Its whole storage holds random values.
Tensor RandomTensor(std::mt19937_64& rng, const Shape& sizes, DType dtype,
                    bool allow_expanded) {
  const Layout layout_kind = static_cast<Layout>(rng() % (allow_expanded ? 3 : 2));
  TensorLayout layout{sizes, ContiguousStrides(sizes), 0};
  int64_t storage_size = NumElements(sizes);
  if (layout_kind != Layout::kContiguous) {
    std::vector<size_t> order(sizes.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    int64_t stride = 1 + static_cast<int64_t>(rng() % 2);
    for (size_t k = order.size(); k-- > 0;) {
      layout.strides[order[k]] = stride;
      stride *= std::max<int64_t>(sizes[order[k]], 1) + static_cast<int64_t>(rng() % 2);
    }
    if (layout_kind == Layout::kExpanded) {
      for (int64_t& s : layout.strides) {
        if (rng() % 2 == 0) s = 0;
      }
    }
    layout.storage_offset = static_cast<int64_t>(rng() % 4);
    int64_t reach = 0;
    for (size_t d = 0; d < sizes.size(); ++d) {
      reach += std::max<int64_t>(sizes[d] - 1, 0) * layout.strides[d];
    }
    storage_size = layout.storage_offset + reach + 1 + static_cast<int64_t>(rng() % 3);
  }
  const Tensor base = AllocateTensor({storage_size}, dtype, Device::CPU());
  FillRandom(base, rng);
  return MakeView(base, std::move(layout));
}

Scalar RandomScalar(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0:
      return Scalar(rng() % 2 == 0);
    case 1:
    case 2:
      return Scalar(rng() % 8 == 0 ? static_cast<int64_t>(rng())
                                   : static_cast<int64_t>(rng() % 9) - 4);
    default:
      return Scalar(RandomDouble(rng));
  }
}

DType RandomDType(std::mt19937_64& rng) { return kAllDTypes[rng() % 8]; }

// ---------------------------------------------------------------------------------------
// Reference machinery: plain loops over every index, reading and writing bytes.

std::vector<Index> AllIndices(const Shape& sizes) {
  std::vector<Index> indices(1);
  for (int64_t size : sizes) {
    std::vector<Index> next;
    for (const Index& prefix : indices) {
      for (int64_t i = 0; i < size; ++i) {
        next.push_back(prefix);
        next.back().push_back(i);
      }
    }
    indices = std::move(next);
  }
  return indices;
}

// Byte offset in t's storage of the element that loop index `index` (over a shape t
// broadcasts to) reads.
int64_t ByteOffset(const Tensor& t, const Index& index) {
  const size_t lead = index.size() - t.sizes().size();
  int64_t offset = t.storage_offset();
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.sizes()[d] != 1) offset += index[lead + d] * t.strides()[d];
  }
  return offset * ElementSize(t.dtype());
}

Bytes StorageBytes(const Tensor& t) {
  Bytes bytes(t.storage()->nbytes());
  if (!bytes.empty()) std::memcpy(bytes.data(), t.storage()->data(), bytes.size());
  return bytes;
}

// A tensor with t's layout and dtype over a private copy of t's storage: what t held
// before an op wrote into it.
Tensor Snapshot(const Tensor& t) {
  const Storage copy = AllocateStorage(t.storage()->nbytes(), Device::CPU());
  if (t.storage()->nbytes() > 0) {
    std::memcpy(copy->data(), t.storage()->data(), t.storage()->nbytes());
  }
  return MakeTensor(copy, t.layout(), t.dtype());
}

// The element of `t` read at loop index `index`, converted to T as the kernels convert.
template <typename T>
T LoadAs(const Tensor& t, const Index& index) {
  return VisitDType(t.dtype(), [&]<typename S>() -> T {
    S value;
    std::memcpy(&value, t.storage()->data() + ByteOffset(t, index), sizeof(S));
    return CastElement<T>(value);
  });
}

// Writes value_at(index), a T, converted to out's dtype, at each index of `out` into
// `bytes` (an image of out's storage).
template <typename T, typename Fn>
void WriteExpected(const Tensor& out, Bytes& bytes, Fn value_at) {
  VisitDType(out.dtype(), [&]<typename O>() {
    for (const Index& index : AllIndices(out.sizes())) {
      const O value = CastElement<O>(static_cast<T>(value_at(index)));
      std::memcpy(bytes.data() + ByteOffset(out, index), &value, sizeof(O));
    }
  });
}

std::string HexBytes(const std::byte* data, int64_t n) {
  std::string out;
  for (int64_t i = n - 1; i >= 0; --i) {
    static const char kDigits[] = "0123456789abcdef";
    const auto b = static_cast<unsigned>(data[i]);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// Bitwise comparison of `out`'s whole storage with `expected`; reports the first few
// differing elements by index (and bytes outside out's footprint by position).
void ExpectStorageEquals(const Tensor& out, const Bytes& expected) {
  const Bytes actual = StorageBytes(out);
  ASSERT_EQ(actual.size(), expected.size());
  if (actual == expected) return;
  const int64_t element = ElementSize(out.dtype());
  // Which NaN an operation between two NaNs returns is not specified (the compiler may
  // swap the operands of a commutative op), so any NaN equals any other.
  auto both_nan = [&](int64_t offset) {
    return VisitDType(out.dtype(), [&]<typename T>() {
      if constexpr (std::is_integral_v<T>) {
        return false;
      } else {
        T x, y;
        std::memcpy(&x, &actual[offset], sizeof(T));
        std::memcpy(&y, &expected[offset], sizeof(T));
        return std::isnan(static_cast<double>(x)) && std::isnan(static_cast<double>(y));
      }
    });
  };
  std::vector<bool> in_footprint(actual.size(), false);
  int reported = 0;
  for (const Index& index : AllIndices(out.sizes())) {
    const int64_t offset = ByteOffset(out, index);
    for (int64_t k = 0; k < element; ++k) in_footprint[offset + k] = true;
    if (std::memcmp(&actual[offset], &expected[offset], element) != 0 && !both_nan(offset) &&
        reported++ < 5) {
      ADD_FAILURE() << "element " << ShapeToString(index) << " of " << out.ToString()
                    << " is 0x" << HexBytes(&actual[offset], element) << ", expected 0x"
                    << HexBytes(&expected[offset], element);
    }
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!in_footprint[i] && actual[i] != expected[i] && reported++ < 10) {
      ADD_FAILURE() << "byte " << i << " outside the footprint of " << out.ToString()
                    << " changed";
    }
  }
}

// Runs `fn` and expects an Error whose message contains each of `parts`.
template <typename Fn>
void ExpectError(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an Error containing '" << *parts.begin() << "'";
  } catch (const Error& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << e.what() << "' lacks '" << part << "'";
    }
  }
}

// ---------------------------------------------------------------------------------------
// Reference arithmetic.

enum class BinaryKind { kAdd, kSub, kMul, kDiv, kPow, kMaximum, kMinimum, kEq, kNe, kLt, kLe, kGt, kGe };

bool IsComparison(BinaryKind kind) { return kind >= BinaryKind::kEq; }

// Integer power modulo 2^bits of M: for negative exponents PyTorch's 1, +-1 or 0.
template <typename M>
M ReferenceIntegerPow(M base, M exponent) {
  if constexpr (std::is_signed_v<M>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if (base == -1) return exponent % 2 == 0 ? 1 : -1;
      return 0;
    }
  }
  uint64_t result = 1;
  uint64_t power = static_cast<uint64_t>(static_cast<int64_t>(base));
  for (uint64_t e = static_cast<uint64_t>(exponent); e != 0; e >>= 1) {
    if (e & 1) result *= power;
    power *= power;
  }
  return static_cast<M>(result);
}

template <typename M>
M ReferenceArithmetic(BinaryKind kind, M a, M b) {
  if constexpr (std::is_same_v<M, bool>) {
    if (kind == BinaryKind::kAdd) return a || b;
    if (kind == BinaryKind::kMul || kind == BinaryKind::kMinimum) return a && b;
    if (kind == BinaryKind::kMaximum) return a || b;
    ADD_FAILURE() << "no bool arithmetic for this op";
    return false;
  } else if constexpr (std::is_integral_v<M>) {
    using U = uint64_t;  // wraps modulo 2^64, then truncated: the same as modulo 2^bits
    const U x = static_cast<U>(static_cast<int64_t>(a)), y = static_cast<U>(static_cast<int64_t>(b));
    switch (kind) {
      case BinaryKind::kAdd: return static_cast<M>(x + y);
      case BinaryKind::kSub: return static_cast<M>(x - y);
      case BinaryKind::kMul: return static_cast<M>(x * y);
      case BinaryKind::kPow: return ReferenceIntegerPow(a, b);
      case BinaryKind::kMaximum: return std::max(a, b);
      case BinaryKind::kMinimum: return std::min(a, b);
      default: ADD_FAILURE() << "integer division is computed in float"; return 0;
    }
  } else {
    switch (kind) {
      case BinaryKind::kAdd: return a + b;
      case BinaryKind::kSub: return a - b;
      case BinaryKind::kMul: return a * b;
      case BinaryKind::kDiv: return a / b;
      case BinaryKind::kPow: return detmath::Pow(a, b);
      case BinaryKind::kMaximum: return std::isnan(a) || std::isnan(b) ? (std::isnan(a) ? a : b) : std::max(a, b);
      case BinaryKind::kMinimum: return std::isnan(a) || std::isnan(b) ? (std::isnan(a) ? a : b) : std::min(a, b);
      default: ADD_FAILURE(); return 0;
    }
  }
}

template <typename M>
bool ReferenceComparison(BinaryKind kind, M a, M b) {
  switch (kind) {
    case BinaryKind::kEq: return a == b;
    case BinaryKind::kNe: return a != b;
    case BinaryKind::kLt: return a < b;
    case BinaryKind::kLe: return a <= b;
    case BinaryKind::kGt: return a > b;
    case BinaryKind::kGe: return a >= b;
    default: ADD_FAILURE(); return false;
  }
}

struct BinaryOpCase {
  const char* name;
  BinaryKind kind;
  Tensor (*tensor_fn)(const Tensor&, const Tensor&);
  Tensor (*scalar_fn)(const Tensor&, Scalar);
  Tensor (*in_place_fn)(const Tensor&, const Tensor&);  // null where none exists
  Tensor (*in_place_scalar_fn)(const Tensor&, Scalar);  // null where none exists
};

const BinaryOpCase kBinaryOps[] = {
    {"add", BinaryKind::kAdd, [](const Tensor& a, const Tensor& b) { return add(a, b); },
     [](const Tensor& a, Scalar b) { return add(a, b); },
     [](const Tensor& a, const Tensor& b) { return add_(a, b); },
     [](const Tensor& a, Scalar b) { return add_(a, b); }},
    {"sub", BinaryKind::kSub, [](const Tensor& a, const Tensor& b) { return sub(a, b); },
     [](const Tensor& a, Scalar b) { return sub(a, b); },
     [](const Tensor& a, const Tensor& b) { return sub_(a, b); },
     [](const Tensor& a, Scalar b) { return sub_(a, b); }},
    {"mul", BinaryKind::kMul, [](const Tensor& a, const Tensor& b) { return mul(a, b); },
     [](const Tensor& a, Scalar b) { return mul(a, b); },
     [](const Tensor& a, const Tensor& b) { return mul_(a, b); },
     [](const Tensor& a, Scalar b) { return mul_(a, b); }},
    {"div", BinaryKind::kDiv, [](const Tensor& a, const Tensor& b) { return div(a, b); },
     [](const Tensor& a, Scalar b) { return div(a, b); },
     [](const Tensor& a, const Tensor& b) { return div_(a, b); },
     [](const Tensor& a, Scalar b) { return div_(a, b); }},
    {"pow", BinaryKind::kPow, [](const Tensor& a, const Tensor& b) { return pow(a, b); },
     [](const Tensor& a, Scalar b) { return pow(a, b); }, nullptr,
     [](const Tensor& a, Scalar b) { return pow_(a, b); }},
    {"eq", BinaryKind::kEq, [](const Tensor& a, const Tensor& b) { return eq(a, b); },
     [](const Tensor& a, Scalar b) { return eq(a, b); }, nullptr, nullptr},
    {"ne", BinaryKind::kNe, [](const Tensor& a, const Tensor& b) { return ne(a, b); },
     [](const Tensor& a, Scalar b) { return ne(a, b); }, nullptr, nullptr},
    {"lt", BinaryKind::kLt, [](const Tensor& a, const Tensor& b) { return lt(a, b); },
     [](const Tensor& a, Scalar b) { return lt(a, b); }, nullptr, nullptr},
    {"le", BinaryKind::kLe, [](const Tensor& a, const Tensor& b) { return le(a, b); },
     [](const Tensor& a, Scalar b) { return le(a, b); }, nullptr, nullptr},
    {"gt", BinaryKind::kGt, [](const Tensor& a, const Tensor& b) { return gt(a, b); },
     [](const Tensor& a, Scalar b) { return gt(a, b); }, nullptr, nullptr},
    {"ge", BinaryKind::kGe, [](const Tensor& a, const Tensor& b) { return ge(a, b); },
     [](const Tensor& a, Scalar b) { return ge(a, b); }, nullptr, nullptr},
    {"maximum", BinaryKind::kMaximum,
     [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, nullptr, nullptr, nullptr},
    {"minimum", BinaryKind::kMinimum,
     [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, nullptr, nullptr, nullptr},
};

// The dtype the arithmetic of `op` runs in for the promoted input dtype.
DType ComputeDTypeOf(BinaryKind kind, DType promoted) {
  if (kind == BinaryKind::kDiv && !IsFloatingPoint(promoted)) return DType::kFloat32;
  return promoted;
}

// PyTorch's promotion of a tensor with a Python scalar, restated.
DType ScalarPromotion(DType tensor, const Scalar& s) {
  if (s.is_floating_point() && !IsFloatingPoint(tensor)) return DType::kFloat32;
  if (s.is_integral() && tensor == DType::kBool) return DType::kInt64;
  return tensor;
}

// Why an in-place op whose functional result has `result` dtype cannot write `self`'s
// dtype, or "" when it can (PyTorch's canCast).
bool CanCastInPlace(DType result, DType self) {
  if (IsFloatingPoint(result) && !IsFloatingPoint(self)) return false;
  if (self == DType::kBool && result != DType::kBool) return false;
  return true;
}

// Expected values of a binary op at each index: a and b read as `compute` (T), the
// arithmetic in op-math, rounded to T (or a bool for comparisons). `scalar`, when set,
// replaces b (op-math for arithmetic, T for comparisons).
void WriteBinaryExpected(BinaryKind kind, DType compute, const Tensor& a, const Tensor* b,
                         const Scalar* scalar, const Tensor& out, Bytes& bytes) {
  VisitDType(compute, [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    auto operand_b = [&](const Index& index) -> M {
      if (scalar == nullptr) return M(LoadAs<T>(*b, index));
      return IsComparison(kind) ? M(scalar->to<T>()) : scalar->to<M>();
    };
    if (IsComparison(kind)) {
      WriteExpected<bool>(out, bytes, [&](const Index& index) {
        return ReferenceComparison<M>(kind, M(LoadAs<T>(a, index)), operand_b(index));
      });
    } else {
      WriteExpected<T>(out, bytes, [&](const Index& index) {
        return CastElement<T>(
            ReferenceArithmetic<M>(kind, M(LoadAs<T>(a, index)), operand_b(index)));
      });
    }
  });
}

constexpr uint64_t kSeed = 8675309;

TEST(ElementwiseKernelsTest, BinaryOpsMatchTheReferenceLoop) {
  for (const BinaryOpCase& op : kBinaryOps) {
    std::mt19937_64 rng(kSeed + static_cast<int>(op.kind));
    for (int trial = 0; trial < 400; ++trial) {
      SetNumThreads(1 + trial % 4);
      const Shape sizes = RandomSizes(rng);
      const Shape a_sizes = trial % 2 == 0 ? sizes : BroadcastableTo(rng, sizes);
      const Shape b_sizes = BroadcastableTo(rng, sizes);
      const Tensor a = RandomTensor(rng, a_sizes, RandomDType(rng), true);
      const Tensor b = RandomTensor(rng, b_sizes, RandomDType(rng), true);
      SCOPED_TRACE(testing::Message() << op.name << " seed " << kSeed << " trial " << trial
                                      << ": " << a.ToString() << " with " << b.ToString());
      const DType promoted = PromoteTypes(a.dtype(), b.dtype());
      if ((op.kind == BinaryKind::kSub || op.kind == BinaryKind::kPow) &&
          promoted == DType::kBool) {
        ExpectError([&] { op.tensor_fn(a, b); }, {op.name, "bool"});
        continue;
      }
      const DType compute = ComputeDTypeOf(op.kind, promoted);
      const Tensor a_before = Snapshot(a), b_before = Snapshot(b);
      const Tensor out = op.tensor_fn(a, b);
      EXPECT_EQ(out.sizes(), BroadcastShapes(a_sizes, b_sizes, "test"));
      EXPECT_EQ(out.dtype(), IsComparison(op.kind) ? DType::kBool : compute);
      EXPECT_TRUE(out.is_contiguous());
      Bytes expected(out.storage()->nbytes());
      WriteBinaryExpected(op.kind, compute, a_before, &b_before, nullptr, out, expected);
      ExpectStorageEquals(out, expected);
      EXPECT_EQ(StorageBytes(a), StorageBytes(a_before)) << "inputs are not written";
      EXPECT_EQ(StorageBytes(b), StorageBytes(b_before));
    }
  }
}

TEST(ElementwiseKernelsTest, BinaryOpsWithAScalarMatchTheReferenceLoop) {
  for (const BinaryOpCase& op : kBinaryOps) {
    if (op.scalar_fn == nullptr) continue;  // maximum and minimum take tensors only
    std::mt19937_64 rng(kSeed + 100 + static_cast<int>(op.kind));
    for (int trial = 0; trial < 400; ++trial) {
      SetNumThreads(1 + trial % 4);
      const Tensor a = RandomTensor(rng, RandomSizes(rng), RandomDType(rng), true);
      const Scalar other = RandomScalar(rng);
      SCOPED_TRACE(testing::Message() << op.name << " seed " << kSeed << " trial " << trial
                                      << ": " << a.ToString() << " with " << other.ToString());
      const DType promoted = ScalarPromotion(a.dtype(), other);
      if ((op.kind == BinaryKind::kSub || op.kind == BinaryKind::kPow) &&
          promoted == DType::kBool) {
        ExpectError([&] { op.scalar_fn(a, other); }, {op.name, "bool"});
        continue;
      }
      if (op.kind == BinaryKind::kPow && IsIntegral(promoted) && other.to<int64_t>() < 0) {
        ExpectError([&] { op.scalar_fn(a, other); }, {"pow_scalar", "negative integer powers"});
        continue;
      }
      const DType compute = ComputeDTypeOf(op.kind, promoted);
      const Tensor a_before = Snapshot(a);
      const Tensor out = op.scalar_fn(a, other);
      EXPECT_EQ(out.sizes(), a.sizes());
      EXPECT_EQ(out.dtype(), IsComparison(op.kind) ? DType::kBool : compute);
      Bytes expected(out.storage()->nbytes());
      WriteBinaryExpected(op.kind, compute, a_before, nullptr, &other, out, expected);
      ExpectStorageEquals(out, expected);
    }
  }
}

TEST(ElementwiseKernelsTest, InPlaceBinaryOpsWriteExactlyTheViewsFootprint) {
  for (const BinaryOpCase& op : kBinaryOps) {
    if (op.in_place_scalar_fn == nullptr) continue;
    std::mt19937_64 rng(kSeed + 200 + static_cast<int>(op.kind));
    for (int trial = 0; trial < 600; ++trial) {
      SetNumThreads(1 + trial % 4);
      const bool with_scalar = op.in_place_fn == nullptr || trial % 2 == 1;
      const Tensor self = RandomTensor(rng, RandomSizes(rng), RandomDType(rng), false);
      Tensor other;
      const Scalar scalar = RandomScalar(rng);
      if (!with_scalar) {
        if (trial % 7 == 0) {
          other = self;  // x.op_(x): reads each element before writing it
        } else {
          other = RandomTensor(rng, BroadcastableTo(rng, self.sizes()), RandomDType(rng), true);
        }
      }
      SCOPED_TRACE(testing::Message()
                   << op.name << "_ seed " << kSeed << " trial " << trial << ": "
                   << self.ToString() << " with "
                   << (with_scalar ? scalar.ToString() : other.ToString()));
      const DType promoted = with_scalar ? ScalarPromotion(self.dtype(), scalar)
                                         : PromoteTypes(self.dtype(), other.dtype());
      const DType compute = ComputeDTypeOf(op.kind, promoted);
      auto run = [&] {
        return with_scalar ? op.in_place_scalar_fn(self, scalar) : op.in_place_fn(self, other);
      };
      if ((op.kind == BinaryKind::kSub || op.kind == BinaryKind::kPow) &&
          promoted == DType::kBool) {
        ExpectError(run, {op.name, "bool"});
        continue;
      }
      if (op.kind == BinaryKind::kPow && IsIntegral(promoted) && scalar.to<int64_t>() < 0) {
        ExpectError(run, {"pow_scalar_", "negative integer powers"});
        continue;
      }
      if (!CanCastInPlace(compute, self.dtype())) {
        ExpectError(run, {op.name, "can't be cast", DTypeName(self.dtype())});
        continue;
      }
      const Tensor self_before = Snapshot(self);
      const Tensor other_before = with_scalar ? Tensor() : Snapshot(other);
      Bytes expected = StorageBytes(self);
      WriteBinaryExpected(op.kind, compute, self_before, with_scalar ? nullptr : &other_before,
                          with_scalar ? &scalar : nullptr, self, expected);
      const Tensor result = run();
      EXPECT_TRUE(result.is_same(self)) << "in-place ops return self";
      ExpectStorageEquals(self, expected);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Unary ops.

enum class UnaryKind {
  kNeg, kAbs, kExp, kLog, kSqrt, kRsqrt, kSin, kCos, kTanh, kSigmoid, kErf, kLog2, kExp2,
  kExpm1, kLog1p, kReciprocal, kFloor, kCeil, kRound, kSign,
};

struct UnaryOpCase {
  const char* name;
  UnaryKind kind;
  bool floating_result;
  bool rejects_bool;
  Tensor (*fn)(const Tensor&);
  Tensor (*in_place_fn)(const Tensor&);
};

const UnaryOpCase kUnaryOps[] = {
    {"neg", UnaryKind::kNeg, false, true, [](const Tensor& a) { return neg(a); },
     [](const Tensor& a) { return neg_(a); }},
    {"abs", UnaryKind::kAbs, false, true, [](const Tensor& a) { return abs(a); },
     [](const Tensor& a) { return abs_(a); }},
    {"exp", UnaryKind::kExp, true, false, [](const Tensor& a) { return exp(a); },
     [](const Tensor& a) { return exp_(a); }},
    {"log", UnaryKind::kLog, true, false, [](const Tensor& a) { return log(a); },
     [](const Tensor& a) { return log_(a); }},
    {"sqrt", UnaryKind::kSqrt, true, false, [](const Tensor& a) { return sqrt(a); },
     [](const Tensor& a) { return sqrt_(a); }},
    {"rsqrt", UnaryKind::kRsqrt, true, false, [](const Tensor& a) { return rsqrt(a); },
     [](const Tensor& a) { return rsqrt_(a); }},
    {"sin", UnaryKind::kSin, true, false, [](const Tensor& a) { return sin(a); },
     [](const Tensor& a) { return sin_(a); }},
    {"cos", UnaryKind::kCos, true, false, [](const Tensor& a) { return cos(a); },
     [](const Tensor& a) { return cos_(a); }},    {"tanh", UnaryKind::kTanh, true, false, [](const Tensor& a) { return tanh(a); },
     [](const Tensor& a) { return tanh_(a); }},
    {"sigmoid", UnaryKind::kSigmoid, true, false, [](const Tensor& a) { return sigmoid(a); },
     [](const Tensor& a) { return sigmoid_(a); }},
    {"erf", UnaryKind::kErf, true, false, [](const Tensor& a) { return erf(a); },
     [](const Tensor& a) { return erf_(a); }},
    {"log2", UnaryKind::kLog2, true, false, [](const Tensor& a) { return log2(a); },
     [](const Tensor& a) { return log2_(a); }},
    {"exp2", UnaryKind::kExp2, true, false, [](const Tensor& a) { return exp2(a); },
     [](const Tensor& a) { return exp2_(a); }},
    {"expm1", UnaryKind::kExpm1, true, false, [](const Tensor& a) { return expm1(a); },
     [](const Tensor& a) { return expm1_(a); }},
    {"log1p", UnaryKind::kLog1p, true, false, [](const Tensor& a) { return log1p(a); },
     [](const Tensor& a) { return log1p_(a); }},
    {"reciprocal", UnaryKind::kReciprocal, true, false, [](const Tensor& a) { return reciprocal(a); },
     [](const Tensor& a) { return reciprocal_(a); }},
    {"floor", UnaryKind::kFloor, false, true, [](const Tensor& a) { return floor(a); },
     [](const Tensor& a) { return floor_(a); }},
    {"ceil", UnaryKind::kCeil, false, true, [](const Tensor& a) { return ceil(a); },
     [](const Tensor& a) { return ceil_(a); }},
    {"round", UnaryKind::kRound, false, true, [](const Tensor& a) { return round(a); },
     [](const Tensor& a) { return round_(a); }},
    {"sign", UnaryKind::kSign, false, false, [](const Tensor& a) { return sign(a); },
     [](const Tensor& a) { return sign_(a); }},
};

template <typename M>
M ReferenceUnary(UnaryKind kind, M x) {
  if constexpr (std::is_same_v<M, bool>) {
    if (kind != UnaryKind::kSign) ADD_FAILURE() << "only sign computes in bool";
    return x;
  } else if constexpr (std::is_integral_v<M>) {
    const uint64_t negated = uint64_t{0} - static_cast<uint64_t>(static_cast<int64_t>(x));
    if (kind == UnaryKind::kNeg) return static_cast<M>(negated);
    if (kind == UnaryKind::kAbs) return x < 0 ? static_cast<M>(negated) : x;
    if (kind == UnaryKind::kFloor || kind == UnaryKind::kCeil || kind == UnaryKind::kRound) return x;
    if (kind == UnaryKind::kSign) return x > 0 ? M(1) : (x < 0 ? M(-1) : M(0));
    ADD_FAILURE() << "integer input to a floating unary op";
    return x;
  } else {
    switch (kind) {
      case UnaryKind::kNeg: return -x;
      case UnaryKind::kAbs: return std::fabs(x);
      // The transcendental functions are the deterministic math's (within an ulp or two of
      // the C library's, deterministic_math_test), so that CUDA devices compute them alike.
      case UnaryKind::kExp: return detmath::Exp(x);
      case UnaryKind::kLog: return detmath::Log(x);
      case UnaryKind::kSqrt: return std::sqrt(x);
      case UnaryKind::kRsqrt: return M(1) / std::sqrt(x);
      case UnaryKind::kSin: return detmath::Sin(x);
      case UnaryKind::kCos: return detmath::Cos(x);
      case UnaryKind::kTanh: return detmath::Tanh(x);
      case UnaryKind::kSigmoid: return M(1) / (M(1) + detmath::Exp(-x));
      case UnaryKind::kErf: return detmath::Erf(x);
      case UnaryKind::kLog2: return detmath::Log2(x);
      case UnaryKind::kExp2: return detmath::Exp2(x);
      case UnaryKind::kExpm1: return detmath::Expm1(x);
      case UnaryKind::kLog1p: return detmath::Log1p(x);
      case UnaryKind::kReciprocal: return M(1) / x;
      case UnaryKind::kFloor: return std::floor(x);
      case UnaryKind::kCeil: return std::ceil(x);
      case UnaryKind::kRound: return std::nearbyint(x);
      case UnaryKind::kSign: return x > 0 ? M(1) : (x < 0 ? M(-1) : x);
    }
    return x;
  }
}

void WriteUnaryExpected(UnaryKind kind, DType compute, const Tensor& a, const Tensor& out,
                        Bytes& bytes) {
  VisitDType(compute, [&]<typename T>() {
    using M = typename OpMathOf<T>::type;
    WriteExpected<T>(out, bytes, [&](const Index& index) {
      return CastElement<T>(ReferenceUnary<M>(kind, M(LoadAs<T>(a, index))));
    });
  });
}

TEST(ElementwiseKernelsTest, UnaryOpsMatchTheReferenceLoopInBothForms) {
  for (const UnaryOpCase& op : kUnaryOps) {
    std::mt19937_64 rng(kSeed + 300 + static_cast<int>(op.kind));
    for (int trial = 0; trial < 400; ++trial) {
      SetNumThreads(1 + trial % 4);
      const bool in_place = trial % 2 == 1;
      const Tensor a = RandomTensor(rng, RandomSizes(rng), RandomDType(rng), !in_place);
      SCOPED_TRACE(testing::Message() << op.name << (in_place ? "_" : "") << " seed " << kSeed
                                      << " trial " << trial << ": " << a.ToString());
      auto run = [&] { return in_place ? op.in_place_fn(a) : op.fn(a); };
      const DType result = op.floating_result && !IsFloatingPoint(a.dtype()) ? DType::kFloat32
                                                                              : a.dtype();
      if (op.rejects_bool && a.dtype() == DType::kBool) {
        ExpectError(run, {op.name, "bool"});
        continue;
      }
      if (in_place && !CanCastInPlace(result, a.dtype())) {
        ExpectError(run, {op.name, "can't be cast"});
        continue;
      }
      const Tensor before = Snapshot(a);
      Bytes expected = in_place ? StorageBytes(a) : Bytes();
      const Tensor out = run();
      EXPECT_EQ(out.dtype(), result);
      EXPECT_EQ(out.sizes(), a.sizes());
      if (!in_place) expected.resize(out.storage()->nbytes());
      WriteUnaryExpected(op.kind, result, before, out, expected);
      ExpectStorageEquals(out, expected);
    }
  }
}

TEST(ElementwiseKernelsTest, AbsClearsTheSignOfNegativeZero) {
  const Tensor t = from_data<float>({-0.0f, -1.5f, 2.0f});
  const std::vector<float> values = abs(t).to_vector<float>();
  EXPECT_FALSE(std::signbit(values[0]));
  EXPECT_EQ(values, (std::vector<float>{0.0f, 1.5f, 2.0f}));
  EXPECT_EQ(abs(from_data<int32_t>({std::numeric_limits<int32_t>::min(), -3}))
                .to_vector<int32_t>(),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), 3}))
      << "abs wraps like PyTorch";
}

TEST(ElementwiseKernelsTest, RoundingSignAndExtremaAtTheirEdgeCases) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(round(from_data<float>({0.5f, 1.5f, 2.5f, -2.5f, -0.4f})).to_vector<float>(),
            (std::vector<float>{0.0f, 2.0f, 2.0f, -2.0f, -0.0f}))
      << "halves to even, as torch.round";
  EXPECT_EQ(floor(from_data<float>({-1.5f, 1.5f})).to_vector<float>(), (std::vector<float>{-2.0f, 1.0f}));
  EXPECT_EQ(ceil(from_data<float>({-1.5f, 1.5f})).to_vector<float>(), (std::vector<float>{-1.0f, 2.0f}));
  EXPECT_EQ(floor(from_data<int64_t>({-3, 7})).to_vector<int64_t>(), (std::vector<int64_t>{-3, 7}));
  const std::vector<float> signs = sign(from_data<float>({-3.0f, -0.0f, 0.0f, 2.0f, nan})).to_vector<float>();
  EXPECT_EQ(std::vector<float>(signs.begin(), signs.begin() + 4), (std::vector<float>{-1.0f, -0.0f, 0.0f, 1.0f}));
  EXPECT_TRUE(std::signbit(signs[1]));
  EXPECT_TRUE(std::isnan(signs[4]));
  EXPECT_EQ(sign(from_data<int32_t>({-9, 0, 4})).to_vector<int32_t>(), (std::vector<int32_t>{-1, 0, 1}));
  const std::vector<float> highs =
      maximum(from_data<float>({1.0f, nan, 3.0f}), from_data<float>({2.0f, 0.0f, nan})).to_vector<float>();
  EXPECT_EQ(highs[0], 2.0f);
  EXPECT_TRUE(std::isnan(highs[1]) && std::isnan(highs[2])) << "NaN wins, as torch.maximum";
  EXPECT_EQ(minimum(from_data<int64_t>({1, 5}), from_data<int64_t>({2, -5})).to_vector<int64_t>(),
            (std::vector<int64_t>{1, -5}));
  EXPECT_EQ(reciprocal(from_data<int64_t>({2, 4})).to_vector<float>(), (std::vector<float>{0.5f, 0.25f}));
}

// Scalars on the left record what PyTorch computes: a - t as t.neg() + a (the same bits),
// a / t as t.reciprocal() * a (Tensor.__rtruediv__), which can differ from div by an ulp.
TEST(ElementwiseKernelsTest, ScalarOnTheLeftOperatorsAreThePyTorchComposites) {
  const Tensor t = from_data<float>({0.3f, -7.0f, 3.0f, 1e-3f});
  EXPECT_EQ((2.0 - t).to_vector<float>(), sub(full({4}, 2.0), t).to_vector<float>());
  EXPECT_EQ((2.0 + t).to_vector<float>(), add(t, 2.0).to_vector<float>());
  EXPECT_EQ((3.0 / t).to_vector<float>(), mul(reciprocal(t), 3.0).to_vector<float>());
  EXPECT_EQ((1 - from_data<int64_t>({5, -2})).to_vector<int64_t>(), (std::vector<int64_t>{-4, 3}));
}

// ---------------------------------------------------------------------------------------
// clamp, where, to, copy_, fill_, zero_.

TEST(ElementwiseKernelsTest, ClampMatchesTheReferenceLoop) {
  std::mt19937_64 rng(kSeed + 400);
  for (int trial = 0; trial < 800; ++trial) {
    SetNumThreads(1 + trial % 4);
    const bool in_place = trial % 2 == 1;
    const Tensor a = RandomTensor(rng, RandomSizes(rng), RandomDType(rng), !in_place);
    const Scalar lo = RandomScalar(rng), hi = RandomScalar(rng);
    SCOPED_TRACE(testing::Message() << (in_place ? "clamp_" : "clamp") << " seed " << kSeed
                                    << " trial " << trial << ": " << a.ToString() << " to ["
                                    << lo.ToString() << ", " << hi.ToString() << "]");
    auto run = [&] { return in_place ? clamp_(a, lo, hi) : clamp(a, lo, hi); };
    if (a.dtype() == DType::kBool) {
      ExpectError(run, {"clamp", "bool"});
      continue;
    }
    const DType result = PromoteTypes(ScalarPromotion(a.dtype(), lo), ScalarPromotion(a.dtype(), hi));
    if (!FitsInDType(lo, result) || !FitsInDType(hi, result)) {
      ExpectError(run, {"clamp", "without overflow"});
      continue;
    }
    if (in_place && !CanCastInPlace(result, a.dtype())) {
      ExpectError(run, {"clamp_", "can't be cast"});
      continue;
    }
    const Tensor before = Snapshot(a);
    Bytes expected = in_place ? StorageBytes(a) : Bytes();
    const Tensor out = run();
    EXPECT_EQ(out.dtype(), result);
    if (!in_place) expected.resize(out.storage()->nbytes());
    VisitDType(result, [&]<typename T>() {
      using M = typename OpMathOf<T>::type;
      const M low = lo.to<M>(), high = hi.to<M>();
      WriteExpected<T>(out, expected, [&](const Index& index) {
        const T x = LoadAs<T>(before, index);
        if constexpr (!std::is_integral_v<M>) {
          if (std::isnan(M(x))) return x;
        }
        return CastElement<T>(std::min(std::max(M(x), low), high));
      });
    });
    ExpectStorageEquals(out, expected);
  }
}

TEST(ElementwiseKernelsTest, ClampWithMinAboveMaxGivesMax) {
  EXPECT_EQ(clamp(from_data<float>({-5.0f, 0.0f, 5.0f}), 2, 1).to_vector<float>(),
            (std::vector<float>{1.0f, 1.0f, 1.0f}));
  EXPECT_EQ(clamp(from_data<int64_t>({-5, 0, 5}), -1, 3).to_vector<int64_t>(),
            (std::vector<int64_t>{-1, 0, 3}));
}

TEST(ElementwiseKernelsTest, WhereMatchesTheReferenceLoop) {
  std::mt19937_64 rng(kSeed + 500);
  for (int trial = 0; trial < 600; ++trial) {
    SetNumThreads(1 + trial % 4);
    const Shape sizes = RandomSizes(rng);
    const Tensor condition =
        RandomTensor(rng, BroadcastableTo(rng, sizes), DType::kBool, true);
    const Tensor a = RandomTensor(rng, BroadcastableTo(rng, sizes), RandomDType(rng), true);
    const Tensor b = RandomTensor(rng, trial % 3 == 0 ? sizes : BroadcastableTo(rng, sizes),
                                  RandomDType(rng), true);
    SCOPED_TRACE(testing::Message() << "where seed " << kSeed << " trial " << trial << ": "
                                    << condition.ToString() << ", " << a.ToString() << ", "
                                    << b.ToString());
    const Tensor out = where(condition, a, b);
    const DType result = PromoteTypes(a.dtype(), b.dtype());
    EXPECT_EQ(out.dtype(), result);
    EXPECT_EQ(out.sizes(), BroadcastShapes(condition.sizes(),
                                           BroadcastShapes(a.sizes(), b.sizes(), "t"), "t"));
    Bytes expected(out.storage()->nbytes());
    VisitDType(result, [&]<typename T>() {
      WriteExpected<T>(out, expected, [&](const Index& index) {
        return LoadAs<bool>(condition, index) ? LoadAs<T>(a, index) : LoadAs<T>(b, index);
      });
    });
    ExpectStorageEquals(out, expected);
  }
}

TEST(ElementwiseKernelsTest, ToAndCopyCastEveryDTypePairThroughAnyLayout) {
  std::mt19937_64 rng(kSeed + 600);
  for (int trial = 0; trial < 1280; ++trial) {
    SetNumThreads(1 + trial % 4);
    const DType from = kAllDTypes[trial % 8];
    const DType to_dtype = kAllDTypes[(trial / 8) % 8];
    const bool use_copy = trial % 3 != 0;
    const Shape sizes = RandomSizes(rng);
    const Tensor src =
        RandomTensor(rng, use_copy ? BroadcastableTo(rng, sizes) : sizes, from, true);
    const Tensor dst = use_copy ? RandomTensor(rng, sizes, to_dtype, false) : Tensor();
    SCOPED_TRACE(testing::Message() << (use_copy ? "copy_" : "to") << " seed " << kSeed
                                    << " trial " << trial << ": " << src.ToString() << " to "
                                    << (use_copy ? dst.ToString() : DTypeName(to_dtype)));
    Bytes expected = use_copy ? StorageBytes(dst) : Bytes();
    const Tensor out = use_copy ? copy_(dst, src) : to(src, to_dtype);
    if (!use_copy && from == to_dtype) {
      EXPECT_TRUE(out.is_same(src)) << "to() of the same dtype returns the tensor itself";
      continue;
    }
    if (use_copy) {
      EXPECT_TRUE(out.is_same(dst));
    }
    EXPECT_EQ(out.dtype(), to_dtype);
    if (!use_copy) expected.resize(out.storage()->nbytes());
    VisitDType(to_dtype, [&]<typename T>() {
      WriteExpected<T>(out, expected, [&](const Index& index) { return LoadAs<T>(src, index); });
    });
    ExpectStorageEquals(out, expected);
  }
}

TEST(ElementwiseKernelsTest, FillAndZeroWriteExactlyTheViewsFootprint) {
  std::mt19937_64 rng(kSeed + 700);
  for (int trial = 0; trial < 600; ++trial) {
    SetNumThreads(1 + trial % 4);
    const Tensor self = RandomTensor(rng, RandomSizes(rng), RandomDType(rng), false);
    const bool zero = trial % 4 == 0;
    const Scalar value = zero ? Scalar(0) : RandomScalar(rng);
    SCOPED_TRACE(testing::Message() << (zero ? "zero_" : "fill_") << " seed " << kSeed
                                    << " trial " << trial << ": " << self.ToString() << " with "
                                    << value.ToString());
    if (!FitsInDType(value, self.dtype())) {
      ExpectError([&] { fill_(self, value); }, {"fill_", value.ToString(), "overflow"});
      continue;
    }
    Bytes expected = StorageBytes(self);
    VisitDType(self.dtype(), [&]<typename T>() {
      WriteExpected<T>(self, expected, [&](const Index&) { return value.to<T>(); });
    });
    const Tensor result = zero ? zero_(self) : fill_(self, value);
    EXPECT_TRUE(result.is_same(self));
    ExpectStorageEquals(self, expected);
  }
}

TEST(ElementwiseKernelsTest, FillWritesEveryElementOfAnExpandedView) {
  SetNumThreads(4);
  const Tensor base = zeros({3, 50000});
  const Tensor expanded = MakeView(base, TensorLayout{{4, 3, 50000}, {0, 50000, 1}, 0});
  fill_(expanded, 2.5);
  for (float v : base.to_vector<float>()) ASSERT_EQ(v, 2.5f);
}

// ---------------------------------------------------------------------------------------
// Thread-count independence, on tensors larger than the parallel grain.

// Every op's bytes on large random operands, with `threads` threads.
std::vector<Bytes> RunAllOpsOnLargeTensors(int threads) {
  SetNumThreads(threads);
  std::mt19937_64 rng(kSeed + 800);
  const Shape sizes = {4, 203, 131};  // 106372 elements: 4 chunks of odd lengths
  std::vector<Bytes> results;
  const DType dtypes[] = {DType::kFloat32, DType::kBFloat16, DType::kInt32, DType::kFloat16,
                          DType::kFloat64, DType::kInt64,    DType::kUInt8, DType::kBool};
  for (DType dtype : dtypes) {
    const Tensor a = RandomTensor(rng, sizes, dtype, true);
    const Tensor b = RandomTensor(rng, {203, 1}, DType::kFloat32, true);
    const Tensor condition = RandomTensor(rng, {131}, DType::kBool, true);
    const Tensor self = RandomTensor(rng, sizes, DType::kFloat32, false);
    for (const BinaryOpCase& op : kBinaryOps) {
      results.push_back(StorageBytes(op.tensor_fn(a, b)));
      if (op.scalar_fn != nullptr && (dtype != DType::kBool || op.kind != BinaryKind::kSub)) {
        results.push_back(StorageBytes(op.scalar_fn(a, 3)));
      }
      if (op.in_place_fn != nullptr) {
        op.in_place_fn(self, b);
        results.push_back(StorageBytes(self));
      }
    }
    for (const UnaryOpCase& op : kUnaryOps) {
      if (op.rejects_bool && dtype == DType::kBool) continue;
      results.push_back(StorageBytes(op.fn(a)));
      op.in_place_fn(self);
      results.push_back(StorageBytes(self));
    }
    if (dtype != DType::kBool) results.push_back(StorageBytes(clamp(a, -1, 2)));
    results.push_back(StorageBytes(where(condition, a, b)));
    for (DType other : kAllDTypes) results.push_back(StorageBytes(to(a, other)));
    copy_(self, a);
    results.push_back(StorageBytes(self));
    fill_(self, 1.25);
    results.push_back(StorageBytes(self));
  }
  return results;
}

TEST(ElementwiseKernelsTest, ResultsDoNotDependOnTheThreadCount) {
  static_assert(4 * 203 * 131 > 3 * kElementwiseGrain);
  const std::vector<Bytes> one = RunAllOpsOnLargeTensors(1);
  const std::vector<Bytes> four = RunAllOpsOnLargeTensors(4);
  ASSERT_EQ(one.size(), four.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i] == four[i]) << "result " << i;
}

TEST(ElementwiseKernelsTest, LargeResultsMatchTheReferenceLoop) {
  SetNumThreads(4);
  std::mt19937_64 rng(kSeed + 900);
  const Tensor a = RandomTensor(rng, {3, 211, 97}, DType::kBFloat16, true);
  const Tensor b = RandomTensor(rng, {211, 1}, DType::kFloat16, true);
  const Tensor out = mul(a, b);
  Bytes expected(out.storage()->nbytes());
  WriteBinaryExpected(BinaryKind::kMul, DType::kFloat32, a, &b, nullptr, out, expected);
  ExpectStorageEquals(out, expected);
}

// ---------------------------------------------------------------------------------------
// Promotion details and misuse.

TEST(ElementwiseKernelsTest, ScalarArithmeticOnSixteenBitFloatsIsInOpMath) {
  // 1 + 3 * 2^-10 as a bfloat16 is 1; PyTorch multiplies by the float value instead, and
  // 3 * 1.0029296875 rounds up to the next bfloat16 above 3.
  const double factor = 1.0029296875;
  EXPECT_EQ(static_cast<float>(BFloat16(static_cast<float>(factor))), 1.0f);
  const Tensor x = full({1}, 3.0, {.dtype = DType::kBFloat16});
  EXPECT_EQ(static_cast<float>(mul(x, factor).item<BFloat16>()), 3.015625f);
  EXPECT_EQ(static_cast<float>(mul_(x, factor).item<BFloat16>()), 3.015625f);
  // Comparisons convert the scalar to the tensor's dtype, as a tensor of it would hold it.
  EXPECT_TRUE(eq(full({1}, 0.1, {.dtype = DType::kFloat16}), 0.1).item<bool>());
}

TEST(ElementwiseKernelsTest, ResultDTypesFollowPyTorchPromotion) {
  const Tensor i32 = zeros({2}, {.dtype = DType::kInt32});
  const Tensor u8 = zeros({2}, {.dtype = DType::kUInt8});
  const Tensor f16 = zeros({2}, {.dtype = DType::kFloat16});
  const Tensor b = zeros({2}, {.dtype = DType::kBool});
  EXPECT_EQ(add(i32, u8).dtype(), DType::kInt32);
  EXPECT_EQ(add(i32, 2.5).dtype(), DType::kFloat32);
  EXPECT_EQ(add(i32, int64_t{1} << 40).dtype(), DType::kInt32) << "int scalars do not widen";
  EXPECT_EQ(add(b, 1).dtype(), DType::kInt64);
  EXPECT_EQ(add(b, true).dtype(), DType::kBool);
  EXPECT_EQ(mul(f16, 1e10).dtype(), DType::kFloat16);
  EXPECT_EQ(div(i32, u8).dtype(), DType::kFloat32);
  EXPECT_EQ(div(f16, 2).dtype(), DType::kFloat16);
  EXPECT_EQ(exp(u8).dtype(), DType::kFloat32);
  EXPECT_EQ(neg(u8).dtype(), DType::kUInt8);
  EXPECT_EQ(lt(f16, i32).dtype(), DType::kBool);
  EXPECT_EQ(where(b, u8, f16).dtype(), DType::kFloat16);
  EXPECT_EQ(clamp(u8, 0, 2.5).dtype(), DType::kFloat32);
  EXPECT_EQ(pow(i32, 2).dtype(), DType::kInt32);
  EXPECT_EQ(pow(i32, 0.5).dtype(), DType::kFloat32);
}

TEST(ElementwiseKernelsTest, IntegerArithmeticWrapsAndDivisionByZeroIsIeee) {
  const Tensor big = from_data<int32_t>({std::numeric_limits<int32_t>::max(), 7, -7});
  EXPECT_EQ(add(big, 1).to_vector<int32_t>(),
            (std::vector<int32_t>{std::numeric_limits<int32_t>::min(), 8, -6}));
  EXPECT_EQ(mul(from_data<uint8_t>({200, 3}), 2).to_vector<uint8_t>(),
            (std::vector<uint8_t>{144, 6}));
  const std::vector<float> quotient =
      div(big, from_data<int32_t>({0, 0, 2})).to_vector<float>();
  EXPECT_TRUE(std::isinf(quotient[0]) && quotient[0] > 0);
  EXPECT_TRUE(std::isinf(quotient[1]));
  EXPECT_EQ(quotient[2], -3.5f);
  EXPECT_TRUE(std::isnan(div(zeros({1}, {.dtype = DType::kInt64}), 0).item<float>()));
  EXPECT_EQ(pow(from_data<int64_t>({2, -1, 1, 3}), from_data<int64_t>({-1, -3, -5, 40}))
                .to_vector<int64_t>(),
            (std::vector<int64_t>{0, -1, 1, static_cast<int64_t>(12157665459056928801ull)}))
      << "3^40 wraps modulo 2^64";
}

TEST(ElementwiseKernelsTest, InPlaceOpsThroughAViewChangeOnlyTheView) {
  const Tensor base = arange(20, {.dtype = DType::kFloat64});
  const Tensor column = MakeView(base, TensorLayout{{4}, {5}, 2});  // elements 2, 7, 12, 17
  mul_(column, from_data<double>({1, 10, 100, 1000}));
  add_(column, 0.5);
  const std::vector<double> values = base.to_vector<double>();
  for (int64_t i = 0; i < 20; ++i) {
    const double expected = i % 5 == 2 ? static_cast<double>(i) *
                                                 std::pow(10.0, static_cast<double>(i / 5)) +
                                             0.5
                                       : static_cast<double>(i);
    EXPECT_EQ(values[i], expected) << i;
  }
}

TEST(ElementwiseKernelsTest, MaskedFillWritesTheValueWhereTheMaskHolds) {
  // Bool masks from 0/1 integers (std::vector<bool> has no data to copy from).
  const auto mask = [](std::vector<int64_t> bits, Shape sizes) {
    return ne(from_data<int64_t>(absl::MakeConstSpan(bits), sizes), 0);
  };
  const Tensor t = from_data<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(masked_fill(t, mask({1, 0, 1}, {3}), -1.5).to_vector<float>(),
            (std::vector<float>{-1.5f, 2, -1.5f, -1.5f, 5, -1.5f}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const Tensor same = masked_fill_(t, mask({0, 1}, {2, 1}), 0);
  EXPECT_TRUE(same.is_same(t));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 3, 0, 0, 0}));
  EXPECT_EQ(masked_fill(from_data<int64_t>({7, 8}), mask({1, 0}, {2}), 3).to_vector<int64_t>(),
            (std::vector<int64_t>{3, 8}));
  EXPECT_THROW(masked_fill(t, from_data<float>({1, 0, 1}), 0), Error);  // not bool
  EXPECT_THROW(masked_fill(t, mask({1, 0}, {2}), 0), Error);             // no broadcast
  EXPECT_THROW(masked_fill(t, mask({1}, {1, 1, 1}), 0), Error);          // more dims
  EXPECT_THROW(masked_fill(from_data<int64_t>({1}), mask({1}, {1}), 0.5e300), Error);
}

TEST(ElementwiseKernelsTest, MisuseNamesTheOpAndWhatWasWrong) {
  const Tensor f = zeros({2, 3});
  const Tensor i = zeros({2, 3}, {.dtype = DType::kInt64});
  const Tensor b = zeros({2, 3}, {.dtype = DType::kBool});
  ExpectError([&] { add(f, zeros({4})); }, {"add", "[2, 3]", "[4]", "do not broadcast"});
  ExpectError([&] { mul(f, zeros({2, 1, 2})); }, {"mul", "do not broadcast"});
  ExpectError([&] { add_(i, f); }, {"add_", "float32", "can't be cast", "int64"});
  ExpectError([&] { div_(i, 2); }, {"div_scalar_", "float32", "int64"});
  ExpectError([&] { mul_(b, 2); }, {"mul_scalar_", "int64", "bool"});
  ExpectError([&] { exp_(i); }, {"exp_", "can't be cast"});
  ExpectError([&] { add_(zeros({3}), f); }, {"add_", "[2, 3]", "[3]", "self"});
  ExpectError([&] { sub(b, b); }, {"sub", "bool"});
  ExpectError([&] { sub_(b, true); }, {"sub_scalar_", "bool"});
  ExpectError([&] { neg(b); }, {"neg", "bool"});
  ExpectError([&] { clamp(b, 0, 1); }, {"clamp", "bool"});
  ExpectError([&] { pow(i, -2); }, {"pow_scalar", "negative integer powers"});
  ExpectError([&] { where(f, f, f); }, {"where", "condition must be bool", "float32"});
  ExpectError([&] { where(b, f, zeros({5})); }, {"where", "do not broadcast"});
  ExpectError([&] { copy_(f, zeros({3, 2})); }, {"copy_", "[3, 2]", "[2, 3]"});
  ExpectError([&] { fill_(zeros({2}, {.dtype = DType::kUInt8}), 256); },
              {"fill_", "256", "uint8", "overflow"});
  ExpectError([&] { clamp(zeros({2}, {.dtype = DType::kUInt8}), 0, 300); },
              {"clamp", "300", "uint8", "overflow"});
  const Tensor meta = zeros({2, 3}, {.device = Device::Meta()});
  ExpectError([&] { add(f, meta); }, {"add", "different devices", "cpu", "meta"});
  ExpectError([&] { where(b, f, meta); }, {"where", "different devices"});
  ExpectError([&] { copy_(meta, f); }, {"copy_", "different devices"});
}

TEST(ElementwiseKernelsTest, InPlaceWritesThatWouldRaceAreRejected) {
  const Tensor base = zeros({3});
  const Tensor expanded = MakeView(base, TensorLayout{{4, 3}, {0, 1}, 0});
  ExpectError([&] { add_(expanded, 1); }, {"add_scalar_", "share memory"});
  ExpectError([&] { neg_(expanded); }, {"neg_", "share memory"});
  ExpectError([&] { copy_(expanded, zeros({4, 3})); }, {"copy_", "share memory"});
  const Tensor square = zeros({3, 3});
  const Tensor transposed = MakeView(square, TensorLayout{{3, 3}, {1, 3}, 0});
  ExpectError([&] { add_(square, transposed); }, {"add_", "overlaps"});
}

TEST(ElementwiseKernelsTest, MetaTensorsGiveShapesAndDTypesWithoutData) {
  const AllocationStats before = GetAllocationStats();
  const Tensor a = zeros({2, 1, 4}, {.dtype = DType::kInt32, .device = Device::Meta()});
  const Tensor b = zeros({3, 1}, {.dtype = DType::kFloat16, .device = Device::Meta()});
  const Tensor sum = add(a, b);
  EXPECT_TRUE(sum.is_meta());
  EXPECT_EQ(sum.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(sum.dtype(), DType::kFloat16);
  EXPECT_EQ(sqrt(a).dtype(), DType::kFloat32);
  EXPECT_EQ(lt(a, 1.5).dtype(), DType::kBool);
  EXPECT_TRUE(add_(a, 1).is_same(a));
  EXPECT_EQ(GetAllocationStats().allocation_count, before.allocation_count);
}

}  // namespace
}  // namespace deferred
