// Tests of the factories and their CPU kernels: values against plain reference loops for
// every dtype, dtype defaults, the meta device, misuse messages, and thread-count
// independence.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fake_tensor/ops/factories.h"
#include "gtest/gtest.h"
#include "replay/kernels/parallel.h"

namespace deferred {
namespace {

std::string StorageBytes(const Tensor& t) {
  std::string bytes(t.storage()->nbytes(), '\0');
  if (!bytes.empty()) std::memcpy(bytes.data(), t.storage()->data(), bytes.size());
  return bytes;
}

// The bytes of a contiguous tensor of dtype `dtype` whose element i is value_of(i)
// (computed in double, or exactly in int64 when `integral`) converted to the dtype.
template <typename Fn>
std::string ExpectedBytes(DType dtype, int64_t n, Fn value_of) {
  std::string bytes(n * ElementSize(dtype), '\0');
  VisitDType(dtype, [&]<typename T>() {
    for (int64_t i = 0; i < n; ++i) {
      const T value = CastElement<T>(value_of(i));
      std::memcpy(bytes.data() + i * sizeof(T), &value, sizeof(T));
    }
  });
  return bytes;
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

constexpr uint64_t kSeed = 31337;

TEST(FactoryKernelsTest, FullGivesEveryElementTheConvertedValue) {
  std::mt19937_64 rng(kSeed);
  const Scalar values[] = {Scalar(true), Scalar(false), Scalar(0),     Scalar(7),
                           Scalar(-3),  Scalar(255),   Scalar(2.75),  Scalar(-0.0),
                           Scalar(0.1), Scalar(NAN),   Scalar(-INFINITY), Scalar(65504.0)};
  for (DType dtype : kAllDTypes) {
    for (const Scalar& value : values) {
      if (!FitsInDType(value, dtype)) continue;
      Shape sizes(rng() % 4);
      for (int64_t& s : sizes) s = static_cast<int64_t>(rng() % 5);
      SCOPED_TRACE(testing::Message() << "full(" << ShapeToString(sizes) << ", "
                                      << value.ToString() << ", " << DTypeName(dtype) << ")");
      const Tensor t = full(sizes, value, {.dtype = dtype});
      EXPECT_EQ(t.sizes(), sizes);
      EXPECT_EQ(t.dtype(), dtype);
      EXPECT_TRUE(t.is_contiguous());
      VisitDType(dtype, [&]<typename T>() {
        EXPECT_EQ(StorageBytes(t), ExpectedBytes(dtype, t.numel(), [&](int64_t) {
                    return value.to<T>();
                  }));
      });
    }
  }
}

TEST(FactoryKernelsTest, DTypesDefaultAsInPyTorch) {
  EXPECT_EQ(full({2}, true).dtype(), DType::kBool);
  EXPECT_EQ(full({2}, 3).dtype(), DType::kInt64);
  EXPECT_EQ(full({2}, int64_t{3}).dtype(), DType::kInt64);
  EXPECT_EQ(full({2}, 0.5).dtype(), DType::kFloat32);
  EXPECT_EQ(full({2}, 0.5f).dtype(), DType::kFloat32);
  EXPECT_EQ(full({2}, 3, {.dtype = DType::kFloat16}).dtype(), DType::kFloat16);
  EXPECT_EQ(empty({2}).dtype(), DType::kFloat32);
  EXPECT_EQ(zeros({2}).dtype(), DType::kFloat32);
  EXPECT_EQ(ones({2}).dtype(), DType::kFloat32);
  EXPECT_EQ(arange(5).dtype(), DType::kInt64);
  EXPECT_EQ(arange(0, 5, 2).dtype(), DType::kInt64);
  EXPECT_EQ(arange(5.0).dtype(), DType::kFloat32);
  EXPECT_EQ(arange(0, 5, 0.5).dtype(), DType::kFloat32);
  EXPECT_EQ(arange(true, 5).dtype(), DType::kInt64);
  EXPECT_EQ(linspace(0, 1, 3).dtype(), DType::kFloat32);
  EXPECT_EQ(eye(3).dtype(), DType::kFloat32);
  EXPECT_EQ(from_data<uint8_t>({1, 2}).dtype(), DType::kUInt8);
}

TEST(FactoryKernelsTest, ZerosOnesAndEmpty) {
  for (DType dtype : kAllDTypes) {
    const Tensor z = zeros({2, 3}, {.dtype = dtype});
    const Tensor o = ones({3}, {.dtype = dtype});
    EXPECT_EQ(StorageBytes(z), ExpectedBytes(dtype, 6, [](int64_t) { return 0; }));
    EXPECT_EQ(StorageBytes(o), ExpectedBytes(dtype, 3, [](int64_t) { return 1; }));
    const Tensor e = empty({4, 0, 2}, {.dtype = dtype});
    EXPECT_EQ(e.sizes(), (Shape{4, 0, 2}));
    EXPECT_EQ(e.dtype(), dtype);
    EXPECT_TRUE(e.has_data());
    const Tensor scalar = ones({}, {.dtype = dtype});
    EXPECT_EQ(scalar.dim(), 0);
    EXPECT_EQ(scalar.numel(), 1);
  }
}

TEST(FactoryKernelsTest, ArangeMatchesTheReferenceLoop) {
  std::mt19937_64 rng(kSeed + 1);
  for (int trial = 0; trial < 2000; ++trial) {
    SetNumThreads(1 + trial % 4);
    const bool integers = trial % 2 == 0;
    auto random_bound = [&](int64_t range) -> Scalar {
      const int64_t n = static_cast<int64_t>(rng() % (2 * range + 1)) - range;
      if (integers) return Scalar(n);
      return Scalar(static_cast<double>(n) / 4);
    };
    const Scalar start = random_bound(40), end = random_bound(40);
    Scalar step = random_bound(6);
    const DType dtype = trial % 3 == 0 ? kAllDTypes[rng() % 7]  // not bool
                                       : (integers ? DType::kInt64 : DType::kFloat32);
    SCOPED_TRACE(testing::Message() << "seed " << kSeed + 1 << " trial " << trial << ": arange("
                                    << start.ToString() << ", " << end.ToString() << ", "
                                    << step.ToString() << ", " << DTypeName(dtype) << ")");
    auto run = [&] { return arange(start, end, step, {.dtype = dtype}); };
    if (IsIntegral(dtype)) {
      const int64_t s = start.to<int64_t>(), e = end.to<int64_t>(), d = step.to<int64_t>();
      if (d == 0) {
        ExpectError(run, {"arange", "step must be non-zero"});
        continue;
      }
      if ((d > 0 && e < s) || (d < 0 && e > s)) {
        ExpectError(run, {"arange", "points away from end"});
        continue;
      }
      std::vector<int64_t> reference;
      for (int64_t v = s; d > 0 ? v < e : v > e; v += d) reference.push_back(v);
      const Tensor t = run();
      ASSERT_EQ(t.numel(), static_cast<int64_t>(reference.size()));
      EXPECT_EQ(StorageBytes(t), ExpectedBytes(dtype, t.numel(), [&](int64_t i) {
                  return reference[i];
                }));
    } else {
      const double s = start.to<double>(), e = end.to<double>(), d = step.to<double>();
      if (d == 0) {
        ExpectError(run, {"arange", "step must be non-zero"});
        continue;
      }
      if ((d > 0 && e < s) || (d < 0 && e > s)) {
        ExpectError(run, {"arange", "points away from end"});
        continue;
      }
      const Tensor t = run();
      EXPECT_EQ(t.numel(), static_cast<int64_t>(std::ceil((e - s) / d)));
      EXPECT_EQ(StorageBytes(t), ExpectedBytes(dtype, t.numel(), [&](int64_t i) {
                  return s + d * static_cast<double>(i);
                }));
    }
  }
}

TEST(FactoryKernelsTest, ArangeOfLargeIntegersIsExact) {
  const int64_t big = int64_t{1} << 60;
  EXPECT_EQ(arange(big, big + 3).to_vector<int64_t>(),
            (std::vector<int64_t>{big, big + 1, big + 2}));
  const int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t min = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(arange(max - 2, max).to_vector<int64_t>(), (std::vector<int64_t>{max - 2, max - 1}));
  EXPECT_EQ(arange(min, max, max).to_vector<int64_t>(), (std::vector<int64_t>{min, -1, max - 1}))
      << "step * i exceeds int64 where the elements do not";
  EXPECT_EQ(arange(5, -5, -3).to_vector<int64_t>(), (std::vector<int64_t>{5, 2, -1, -4}));
  EXPECT_EQ(arange(0, 5, 1.5, {.dtype = DType::kInt64}).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 2, 3, 4}))
      << "an integral dtype truncates the step first, as PyTorch does";
  EXPECT_EQ(arange(3, 3).numel(), 0);
}

TEST(FactoryKernelsTest, LinspaceMatchesTheReferenceAndHitsBothEnds) {
  std::mt19937_64 rng(kSeed + 2);
  for (int trial = 0; trial < 1000; ++trial) {
    SetNumThreads(1 + trial % 4);
    const double start = std::ldexp(static_cast<double>(rng() % 2001) - 1000, -4);
    const double end = std::ldexp(static_cast<double>(rng() % 2001) - 1000, -4);
    const int64_t steps = static_cast<int64_t>(rng() % 40);
    const DType dtype = trial % 3 == 0 ? kAllDTypes[rng() % 7] : DType::kFloat32;
    SCOPED_TRACE(testing::Message() << "linspace(" << start << ", " << end << ", " << steps
                                    << ", " << DTypeName(dtype) << ")");
    const Tensor t = linspace(start, end, steps, {.dtype = dtype});
    ASSERT_EQ(t.sizes(), (Shape{steps}));
    double s = start, e = end;
    if (IsIntegral(dtype)) {  // PyTorch converts the endpoints to the dtype first
      s = std::trunc(s);
      e = std::trunc(e);
    }
    const double step = steps > 1 ? (e - s) / static_cast<double>(steps - 1) : 0;
    EXPECT_EQ(StorageBytes(t), ExpectedBytes(dtype, steps, [&](int64_t i) {
                if (steps == 1) return s;
                return i < steps / 2 ? s + step * static_cast<double>(i)
                                     : e - step * static_cast<double>(steps - 1 - i);
              }));
    if (steps >= 2 && dtype == DType::kFloat32) {
      EXPECT_EQ(t.to_vector<float>().front(), static_cast<float>(start));
      EXPECT_EQ(t.to_vector<float>().back(), static_cast<float>(end));
    }
  }
  EXPECT_EQ(linspace(3, 10, 1).to_vector<float>(), (std::vector<float>{3}))
      << "one step gives start, as in PyTorch";
  EXPECT_EQ(linspace(-1, 1, 5).to_vector<float>(), (std::vector<float>{-1, -0.5, 0, 0.5, 1}));
  EXPECT_EQ(linspace(0, 1, 0).numel(), 0);
}

TEST(FactoryKernelsTest, EyeIsTheIdentityInEveryDType) {
  for (DType dtype : kAllDTypes) {
    const std::vector<std::pair<int64_t, int64_t>> shapes = {{3, -1}, {2, 5}, {5, 2},
                                                             {0, 3},  {3, 0}, {1, 1}};
    for (const auto& [n, m] : shapes) {
      const Tensor t = eye(n, m, {.dtype = dtype});
      const int64_t columns = m < 0 ? n : m;
      ASSERT_EQ(t.sizes(), (Shape{n, columns}));
      EXPECT_EQ(StorageBytes(t), ExpectedBytes(dtype, n * columns, [&](int64_t i) {
                  return static_cast<int64_t>(i / columns == i % columns);
                })) << DTypeName(dtype) << " " << n << "x" << columns;
    }
  }
}

TEST(FactoryKernelsTest, FromDataCopiesEveryDType) {
  std::mt19937_64 rng(kSeed + 3);
  for (DType dtype : kAllDTypes) {
    std::string bytes(24 * ElementSize(dtype), '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (dtype == DType::kBool) {
      for (char& c : bytes) c = static_cast<char>(c & 1);
    }
    const Tensor t = from_bytes(bytes, {2, 3, 4}, dtype);
    EXPECT_EQ(t.sizes(), (Shape{2, 3, 4}));
    EXPECT_EQ(StorageBytes(t), bytes) << DTypeName(dtype);
  }
  std::vector<int32_t> values = {1, 2, 3, 4, 5, 6};
  const Tensor t = from_data<int32_t>(absl::MakeConstSpan(values), {3, 2});
  values[0] = 100;
  EXPECT_EQ(t.to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}))
      << "the data is copied when the tensor is made";
  EXPECT_EQ(t.at<int32_t>({2, 1}), 6);
  EXPECT_EQ(from_data<double>({}).numel(), 0);
  EXPECT_EQ(from_bytes(std::string("\x00\x02\x01", 3), {3}, DType::kBool).to_vector<bool>(),
            (std::vector<bool>{false, true, true}))
      << "bool bytes other than 0 and 1 are read as true";
}

TEST(FactoryKernelsTest, MetaDeviceGivesShapesWithoutData) {
  const AllocationStats before = GetAllocationStats();
  const TensorOptions meta{.device = Device::Meta()};
  const TensorOptions meta_i32{.dtype = DType::kInt32, .device = Device::Meta()};
  const Tensor tensors[] = {empty({1 << 20, 1 << 10}, meta),
                            zeros({4, 5}, meta),
                            ones({4, 5}, meta_i32),
                            full({3}, 2.5, meta),
                            arange(0, 100, 3, meta),
                            linspace(0, 1, 1000, meta),
                            eye(7, 3, meta_i32),
                            from_data<float>(absl::MakeConstSpan(std::vector<float>{1, 2}), {2},
                                             Device::Meta())};
  for (const Tensor& t : tensors) {
    EXPECT_TRUE(t.is_meta()) << t.ToString();
    EXPECT_FALSE(t.has_data()) << t.ToString();
  }
  EXPECT_EQ(tensors[0].sizes(), (Shape{1 << 20, 1 << 10}));
  EXPECT_EQ(tensors[2].dtype(), DType::kInt32);
  EXPECT_EQ(tensors[4].sizes(), (Shape{34}));
  EXPECT_EQ(tensors[4].dtype(), DType::kInt64);
  EXPECT_EQ(tensors[6].sizes(), (Shape{7, 3}));
  const AllocationStats after = GetAllocationStats();
  EXPECT_EQ(after.allocation_count, before.allocation_count);
  EXPECT_EQ(after.total_bytes, before.total_bytes);
}

TEST(FactoryKernelsTest, MisuseNamesTheFactoryAndWhatWasWrong) {
  ExpectError([] { empty({2, -1}); }, {"empty", "negative size -1", "[2, -1]"});
  ExpectError([] { zeros({-3}); }, {"zeros", "negative size -3"});
  ExpectError([] { ones({1, -2}); }, {"ones", "negative size -2"});
  ExpectError([] { full({-1}, 2.0); }, {"full", "negative size -1"});
  ExpectError([] { eye(-2); }, {"eye", "negative size -2"});
  ExpectError([] { linspace(0, 1, -4); }, {"linspace", "-4"});
  ExpectError([] { from_data<float>(absl::MakeConstSpan(std::vector<float>{1, 2, 3}), {2, 2}); },
              {"from_data", "12 bytes", "[2, 2]", "float32", "expected 16"});
  ExpectError([] { from_data<float>(absl::MakeConstSpan(std::vector<float>{}), {-1}); },
              {"from_bytes", "negative size"});
  ExpectError([] { arange(0, 10, 0); }, {"arange", "step must be non-zero"});
  ExpectError([] { arange(0.0, 1.0, 0.0); }, {"arange", "step must be non-zero"});
  ExpectError([] { arange(0, 10, 0.5, {.dtype = DType::kInt32}); },
              {"arange", "step must be non-zero", "int32"});
  ExpectError([] { arange(0, 10, -1); }, {"arange", "step -1 points away from end"});
  ExpectError([] { arange(5, 1, 2); }, {"arange", "points away from end", "start 5", "end 1"});
  ExpectError([] { arange(0.0, INFINITY); }, {"arange", "finite"});
  ExpectError([] { arange(0.0, 1.0, NAN); }, {"arange", "finite"});
  ExpectError([] { arange(0.0, 1e300, 1e-300); }, {"arange", "too many elements"});
  ExpectError([] { arange(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()); },
              {"arange", "too many elements"});
  ExpectError([] { arange(0, 1e30, 1, {.dtype = DType::kInt64}); }, {"arange", "int64"});
  ExpectError([] { arange(0, 4, 1, {.dtype = DType::kBool}); }, {"arange", "bool"});
  ExpectError([] { linspace(0, 1, 4, {.dtype = DType::kBool}); }, {"linspace", "bool"});
  ExpectError([] { full({2}, 300, {.dtype = DType::kUInt8}); },
              {"full", "300", "uint8", "without overflow"});
  ExpectError([] { full({2}, 1e6, {.dtype = DType::kFloat16}); }, {"full", "float16"});
  ExpectError([] { full({2}, 1e10, {.dtype = DType::kInt32}); }, {"full", "int32"});
  ExpectError([] { full({2}, NAN, {.dtype = DType::kInt64}); }, {"full", "nan", "int64"});
  ExpectError([] { ones({int64_t{1} << 40, int64_t{1} << 40}); },
              {"ones", "[1099511627776, 1099511627776]", "more than 2^63 - 1 bytes"});
  ExpectError([] { empty({int64_t{1} << 62, 4}, {.dtype = DType::kUInt8}); },
              {"empty", "more than 2^63 - 1 bytes"});
  ExpectError([] { zeros({0, int64_t{1} << 40, int64_t{1} << 40}); },
              {"zeros", "strides", "overflow"});
  // What does fit: PyTorch lets uint8 take negative integers (they wrap) and floats take inf.
  EXPECT_EQ(full({1}, -1, {.dtype = DType::kUInt8}).item<uint8_t>(), 255);
  EXPECT_TRUE(std::isinf(full({1}, -INFINITY, {.dtype = DType::kBFloat16}).item<BFloat16>()));
  EXPECT_EQ(full({1}, 2, {.dtype = DType::kBool}).item<bool>(), true);
}

TEST(FactoryKernelsTest, FitsInDTypeFollowsPyTorchsOverflowRule) {
  EXPECT_TRUE(FitsInDType(255, DType::kUInt8));
  EXPECT_TRUE(FitsInDType(-255, DType::kUInt8)) << "negative integers wrap";
  EXPECT_FALSE(FitsInDType(256, DType::kUInt8));
  EXPECT_FALSE(FitsInDType(-256, DType::kUInt8));
  EXPECT_FALSE(FitsInDType(-1.0, DType::kUInt8)) << "negative floats do not";
  EXPECT_FALSE(FitsInDType(255.5, DType::kUInt8));
  EXPECT_TRUE(FitsInDType(int64_t{2147483647}, DType::kInt32));
  EXPECT_FALSE(FitsInDType(int64_t{2147483648}, DType::kInt32));
  EXPECT_FALSE(FitsInDType(-2147483649.0, DType::kInt32));
  EXPECT_TRUE(FitsInDType(std::numeric_limits<int64_t>::min(), DType::kInt64));
  EXPECT_FALSE(FitsInDType(0x1p63, DType::kInt64));
  EXPECT_FALSE(FitsInDType(NAN, DType::kInt32));
  EXPECT_FALSE(FitsInDType(INFINITY, DType::kInt64));
  EXPECT_TRUE(FitsInDType(65504.0, DType::kFloat16));
  EXPECT_FALSE(FitsInDType(65505.0, DType::kFloat16));
  EXPECT_FALSE(FitsInDType(int64_t{70000}, DType::kFloat16));
  EXPECT_TRUE(FitsInDType(-INFINITY, DType::kFloat16));
  EXPECT_TRUE(FitsInDType(NAN, DType::kBFloat16));
  EXPECT_TRUE(FitsInDType(3.3e38, DType::kBFloat16));
  EXPECT_FALSE(FitsInDType(3.4e38, DType::kBFloat16)) << "above bfloat16's largest, 0x1.fep127";
  EXPECT_TRUE(FitsInDType(3.4e38, DType::kFloat32));
  EXPECT_FALSE(FitsInDType(1e39, DType::kFloat32));
  EXPECT_TRUE(FitsInDType(1e300, DType::kFloat64));
  EXPECT_TRUE(FitsInDType(12345, DType::kBool));
  EXPECT_TRUE(FitsInDType(true, DType::kUInt8));
}

TEST(FactoryKernelsTest, LargeFactoriesDoNotDependOnTheThreadCount) {
  auto run_all = [](int threads) {
    SetNumThreads(threads);
    std::vector<std::string> results;
    for (DType dtype : kAllDTypes) {
      results.push_back(StorageBytes(full({301, 499}, 0.3, {.dtype = dtype})));
      results.push_back(StorageBytes(eye(401, 367, {.dtype = dtype})));
      if (dtype == DType::kBool) continue;
      results.push_back(StorageBytes(arange(-7.5, 150000.0, 1.25, {.dtype = dtype})));
      results.push_back(StorageBytes(arange(-1000, 200000, 3, {.dtype = dtype})));
      results.push_back(StorageBytes(linspace(-3.0, 1e5, 150001, {.dtype = dtype})));
    }
    return results;
  };
  const std::vector<std::string> one = run_all(1);
  const std::vector<std::string> four = run_all(4);
  ASSERT_EQ(one.size(), four.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(one[i] == four[i]) << "result " << i;
  // And the large ones are right, not merely stable.
  SetNumThreads(4);
  const Tensor big = arange(0, 300000);
  const std::vector<int64_t> values = big.to_vector<int64_t>();
  for (int64_t i = 0; i < 300000; ++i) ASSERT_EQ(values[i], i);
}

}  // namespace
}  // namespace deferred
