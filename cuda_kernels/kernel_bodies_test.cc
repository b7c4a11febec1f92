// The per-thread bodies of the CUDA kernels, run on the host by the grid emulator over
// the launch the GPU launcher computes, against the CPU kernels, bitwise: random ops,
// parameters, dtypes, shapes, non-contiguous and expanded outputs, broadcast copies across
// dtypes, and calls restricted to a region as replay restricts them. Proves the index
// arithmetic and the math of the device code without a GPU.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cuda_kernels/constant_fill.h"
#include "cuda_kernels/grid_emulator.h"
#include "cuda_kernels/kernel_args.h"
#include "cuda_kernels/launch_config.h"
#include "cuda_kernels/matmul.h"
#include "cuda_kernels/random_fill.h"
#include "cuda_kernels/reduction.h"
#include "cuda_kernels/strided_copy.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/views.h"
#include "fake_tensor/shape.h"
#include "gtest/gtest.h"
#include "tests/equivalence.h"
#include "tests/test_seed.h"

namespace deferred::cuda {
namespace {

// Runs random op `call` on `out` as a GPU would, one emulated thread at a time.
void EmulateRandomFill(const OpCall& call, const Tensor& out, uint64_t order_seed) {
  const bool ran = RunRandomFill(RandomFillArgsOf(call, out),
                                 [&](const auto& fill) { EmulateLaunch(fill, order_seed); });
  ASSERT_TRUE(ran) << call.def->name << " on " << out.ToString();
}

void EmulateConstantFill(const OpCall& call, const Tensor& out, uint64_t order_seed) {
  RunConstantFill(ConstantFillArgsOf(call, out),
                  [&](const auto& fill) { EmulateLaunch(fill, order_seed); });
}

// The call of op `name` on `out` with `attrs` (the op's own, seed and offset, and
// the region attrs when restricted), as replay hands it to a kernel.
OpCall CallOf(const std::string& name, const Tensor& out, Attrs attrs) {
  OpCall call;
  call.def = &OpRegistry::Global().Get(name);
  call.inputs = {out};
  call.attrs = std::move(attrs);
  return call;
}

// The bytes of `t`'s whole storage, gaps between its elements included.
std::string StorageBytes(const Tensor& t) {
  const std::byte* data = t.storage()->data();
  return std::string(reinterpret_cast<const char*>(data), t.storage()->nbytes());
}

// StorageBytes with every NaN element of `t`'s dtype made one pattern: how reductions and
// matmul compare, since a NaN result's bits are the hardware's (TensorsEqualUpToNanBits).
std::string StorageBytesUpToNanBits(const Tensor& t) {
  std::string bytes = StorageBytes(t);
  const size_t element = static_cast<size_t>(ElementSize(t.dtype()));
  for (size_t i = 0; i + element <= bytes.size(); i += element) {
    if (IsNanElement(reinterpret_cast<const std::byte*>(bytes.data() + i), t.dtype())) {
      bytes.replace(i, element, element, '\xff');
    }
  }
  return bytes;
}

// A tensor of `sizes` and `dtype` whose layout is drawn: contiguous, permuted, or a
// narrowed part of a larger tensor; every byte of its storage set to 0xcd, so that an
// element a fill skips, or a byte it writes outside the tensor, shows in StorageBytes.
Tensor DrawOutput(const Shape& sizes, DType dtype, std::mt19937_64& rng) {
  const size_t rank = sizes.size();
  Tensor out;
  switch (rng() % 3) {
    case 0:
      out = empty(sizes, TensorOptions{.dtype = dtype});
      break;
    case 1: {
      Shape order(rank);
      for (size_t d = 0; d < rank; ++d) order[d] = static_cast<int64_t>(d);
      std::shuffle(order.begin(), order.end(), rng);
      Shape permuted(rank), inverse(rank);
      for (size_t d = 0; d < rank; ++d) {
        permuted[d] = sizes[order[d]];
        inverse[order[d]] = static_cast<int64_t>(d);
      }
      out = permute(empty(permuted, TensorOptions{.dtype = dtype}), inverse);
      break;
    }
    default: {
      Shape larger = sizes;
      for (int64_t& size : larger) size += static_cast<int64_t>(rng() % 3);
      out = empty(larger, TensorOptions{.dtype = dtype});
      for (size_t d = 0; d < rank; ++d) {
        const int64_t start = static_cast<int64_t>(rng() % (larger[d] - sizes[d] + 1));
        out = narrow(out, static_cast<int64_t>(d), start, sizes[d]);
      }
    }
  }
  std::memset(out.storage()->data(), 0xcd, out.storage()->nbytes());
  return out;
}

// `t` with dims of size 1 drawn to be expanded (stride 0) to a drawn size: what fill_ may
// be given.
Tensor MaybeExpanded(const Tensor& t, std::mt19937_64& rng) {
  TensorLayout layout = t.layout();
  for (size_t d = 0; d < layout.sizes.size(); ++d) {
    if (layout.sizes[d] == 1 && rng() % 2 == 0) {
      layout.sizes[d] = static_cast<int64_t>(rng() % 4) + 2;
      layout.strides[d] = 0;
    }
  }
  return MakeView(t, layout);
}

// A random op with drawn parameters and a dtype it takes.
struct DrawnOp {
  std::string name;
  Attrs attrs;
  DType dtype;
};

DrawnOp DrawOp(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> real(-3, 3);
  const DType floating[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};
  const DType any = kAllDTypes[rng() % std::size(kAllDTypes)];
  const DType fp = floating[rng() % std::size(floating)];
  DrawnOp op;
  switch (rng() % 6) {
    case 0: {
      const double from = real(rng);
      op = {"uniform_", {}, fp};
      op.attrs.Set("from", from).Set("to", from + std::abs(real(rng)) + 0.01);
      break;
    }
    case 1:
      op = {"normal_", {}, fp};
      op.attrs.Set("mean", real(rng)).Set("std", std::abs(real(rng)));
      break;
    case 2: {
      const double a = real(rng);
      op = {"trunc_normal_", {}, fp};
      op.attrs.Set("mean", real(rng)).Set("std", std::abs(real(rng)) + 0.1);
      op.attrs.Set("a", a).Set("b", a + std::abs(real(rng)) + 0.01);
      break;
    }
    case 3: {  // a range below 2^32: one word per element
      const int64_t from = static_cast<int64_t>(rng() % 200) - 100;
      op = {"random_", {}, any};
      op.attrs.Set("from", from).Set("to_inclusive", from + static_cast<int64_t>(rng() % 300));
      break;
    }
    case 4:  // a range of 2^32 or more: two words per element
      op = {"random_", {}, any};
      op.attrs.Set("from", int64_t{-(int64_t{1} << 40)})
          .Set("to_inclusive", static_cast<int64_t>(rng() >> 2));
      break;
    default:
      op = {"bernoulli_", {}, any};
      op.attrs.Set("p", std::uniform_real_distribution<double>(0, 1)(rng));
  }
  op.attrs.Set("seed", static_cast<int64_t>(rng()));
  op.attrs.Set("offset", static_cast<int64_t>(rng() >> 8));
  return op;
}

TEST(RandomFillTest, EmulatedGridEqualsCpuKernelsBitwise) {
  std::mt19937_64 rng(TestSeedBase() + 15);
  int restricted = 0, strided = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const DrawnOp op = DrawOp(rng);
    const size_t rank = rng() % 5;
    Shape full(rank), start(rank), sizes(rank);
    for (size_t d = 0; d < rank; ++d) {
      full[d] = static_cast<int64_t>(rng() % 9) + (rng() % 16 == 0 ? 0 : 1);
      start[d] = full[d] == 0 ? 0 : static_cast<int64_t>(rng() % full[d]);
      sizes[d] = static_cast<int64_t>(rng() % (full[d] - start[d] + 1));
    }
    Attrs attrs = op.attrs;
    if (rng() % 2 == 0) {
      attrs.Set("region_start", start).Set("full_sizes", full);
      ++restricted;
    } else {
      sizes = full;
    }
    std::mt19937_64 same_layout = rng;
    const Tensor cpu_out = DrawOutput(sizes, op.dtype, rng);
    const Tensor emulated_out = DrawOutput(sizes, op.dtype, same_layout);
    strided += !cpu_out.is_contiguous();
    const std::string what = absl::StrCat(
        "trial ", trial, ": ", op.name, " on ", cpu_out.ToString(),
        attrs.Has("region_start") ? absl::StrCat(" restricted to a region of ", ShapeToString(full))
                                  : "");
    const OpCall cpu_call = CallOf(op.name, cpu_out, attrs);
    cpu_call.def->kernel(DeviceType::kCPU)(KernelContext{}, cpu_call, {cpu_out});
    EmulateRandomFill(CallOf(op.name, emulated_out, attrs), emulated_out, rng());
    ASSERT_EQ(StorageBytes(emulated_out), StorageBytes(cpu_out)) << what;
  }
  EXPECT_GT(restricted, 1000);
  EXPECT_GT(strided, 400);
}

TEST(ConstantFillTest, EmulatedGridEqualsCpuKernelsBitwise) {
  std::mt19937_64 rng(TestSeedBase() + 16);
  int expanded = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const DType dtype = kAllDTypes[rng() % std::size(kAllDTypes)];
    const Scalar values[] = {Scalar(std::uniform_real_distribution<double>(-1e5, 1e5)(rng)),
                             Scalar(static_cast<int64_t>(rng())), Scalar(rng() % 2 == 0),
                             Scalar(-0.0), Scalar(1e300)};
    const Scalar value = values[rng() % std::size(values)];
    const size_t rank = rng() % 5;
    Shape sizes(rank);
    for (int64_t& size : sizes) size = static_cast<int64_t>(rng() % 6) + (rng() % 16 == 0 ? 0 : 1);
    // full makes a fresh contiguous tensor; fill_ takes any, expanded ones too.
    const bool in_place = rng() % 2 == 0;
    Tensor cpu_out, emulated_out;
    if (in_place) {
      std::mt19937_64 same_layout = rng;
      cpu_out = MaybeExpanded(DrawOutput(sizes, dtype, rng), rng);
      emulated_out = MaybeExpanded(DrawOutput(sizes, dtype, same_layout), same_layout);
      const Shape& strides = cpu_out.strides();
      expanded += std::count(strides.begin(), strides.end(), 0) > 0;
    } else {
      cpu_out = empty(sizes, TensorOptions{.dtype = dtype});
      emulated_out = empty(sizes, TensorOptions{.dtype = dtype});
      std::memset(cpu_out.storage()->data(), 0xcd, cpu_out.storage()->nbytes());
      std::memset(emulated_out.storage()->data(), 0xcd, emulated_out.storage()->nbytes());
    }
    Attrs attrs;
    attrs.Set("value", value);
    const std::string op = in_place ? "fill_" : "full";
    if (!in_place) attrs.Set("sizes", sizes).Set("dtype", dtype).Set("device", Device::CPU());
    const OpCall cpu_call = CallOf(op, cpu_out, attrs);
    cpu_call.def->kernel(DeviceType::kCPU)(KernelContext{}, cpu_call, {cpu_out});
    EmulateConstantFill(CallOf(op, emulated_out, attrs), emulated_out, rng());
    ASSERT_EQ(StorageBytes(emulated_out), StorageBytes(cpu_out))
        << "trial " << trial << ": " << op << "(" << value.ToString() << ") on "
        << cpu_out.ToString();
  }
  EXPECT_GT(expanded, 100);
}

TEST(StridedCopyTest, EmulatedGridEqualsCpuKernelsBitwise) {
  std::mt19937_64 rng(TestSeedBase() + 17);
  int broadcast = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const DType to = kAllDTypes[rng() % std::size(kAllDTypes)];
    const DType from = kAllDTypes[rng() % std::size(kAllDTypes)];
    const size_t rank = rng() % 5;
    Shape sizes(rank);
    for (int64_t& size : sizes) size = static_cast<int64_t>(rng() % 6) + (rng() % 16 == 0 ? 0 : 1);
    // A source of dtype `from` broadcast to `sizes`: leading dims dropped, others made 1.
    Shape source_sizes(sizes.begin() + static_cast<int64_t>(rng() % (rank + 1)), sizes.end());
    for (int64_t& size : source_sizes) size = rng() % 4 == 0 ? 1 : size;
    broadcast += source_sizes != sizes;
    Tensor source = DrawOutput(source_sizes, from, rng);
    {  // random bytes: every bit pattern of `from`, NaNs and infinities included
      std::byte* data = source.storage()->data();
      for (int64_t b = 0; b < source.storage()->nbytes(); ++b) {
        data[b] = static_cast<std::byte>(rng() & (from == DType::kBool ? 1 : 0xff));
      }
    }
    std::mt19937_64 same_layout = rng;
    const Tensor cpu_out = DrawOutput(sizes, to, rng);
    const Tensor emulated_out = DrawOutput(sizes, to, same_layout);
    const OpCall cpu_call{&OpRegistry::Global().Get("copy_"), {cpu_out, source}, {}};
    cpu_call.def->kernel(DeviceType::kCPU)(KernelContext{}, cpu_call, {cpu_out});
    RunStridedCopy(StridedCopyArgsOf("copy_", emulated_out, source),
                   [&](const auto& copy) { EmulateLaunch(copy, rng()); });
    ASSERT_EQ(StorageBytes(emulated_out), StorageBytes(cpu_out))
        << "trial " << trial << ": copy_ of " << source.ToString() << " into "
        << cpu_out.ToString();
  }
  EXPECT_GT(broadcast, 500);
}

// Values with ties, signed zeros, infinities and NaNs (where T has them), so that the
// order of additions, the NaN rules and the tie-breaking of argsort all show.
template <typename T>
T DrawValue(std::mt19937_64& rng) {
  constexpr double kValues[] = {-1.5, 0.0, -0.0, 2.25, 1e8, -3.0, 7.0};
  const double inf = std::numeric_limits<double>::infinity();
  switch (rng() % 10) {
    case 0:
      return CastElement<T>(std::numeric_limits<double>::quiet_NaN());
    case 1:
      return CastElement<T>(rng() % 2 ? inf : -inf);
    case 2:
    case 3:
    case 4:
      return CastElement<T>(kValues[rng() % std::size(kValues)]);
    default:
      return CastElement<T>(std::normal_distribution<double>(0.0, 100.0)(rng));
  }
}

// A reduction (sum, mean, var, std, min, max) or line op (cumsum, argsort) drawn with its
// attrs and an input of a dtype it takes, in a drawn layout.
OpCall DrawReductionCall(std::mt19937_64& rng) {
  constexpr const char* kOps[] = {"sum", "mean", "var", "std", "min", "max", "cumsum", "argsort"};
  const std::string name = kOps[rng() % std::size(kOps)];
  const bool floating_only = name == "mean" || name == "var" || name == "std";
  const DType floating[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};
  const DType dtype = floating_only ? floating[rng() % std::size(floating)]
                                    : kAllDTypes[rng() % std::size(kAllDTypes)];
  const bool lines = name == "cumsum" || name == "argsort";
  Shape sizes(rng() % 4 + (lines ? 1 : 0));
  // Empty dims too, but not for min and max, which refuse to reduce them.
  const bool may_be_empty = name != "min" && name != "max";
  for (int64_t& size : sizes) {
    size = static_cast<int64_t>(rng() % 7) + (may_be_empty && rng() % 16 == 0 ? 0 : 1);
  }
  const Tensor input = DrawOutput(sizes, dtype, rng);
  VisitDType(dtype, [&]<typename T>() {
    T* data = reinterpret_cast<T*>(input.storage()->data());
    for (int64_t i = 0; i < input.storage()->nbytes() / static_cast<int64_t>(sizeof(T)); ++i) {
      data[i] = DrawValue<T>(rng);
    }
  });
  const int64_t rank = static_cast<int64_t>(sizes.size());
  Attrs attrs;
  if (lines) {
    const int64_t dim = static_cast<int64_t>(rng() % rank) - (rng() % 2 ? rank : 0);
    attrs.Set("dim", dim);
    if (name == "cumsum") {
      attrs.Set("start", static_cast<int64_t>(rng() % (sizes[WrapDim(dim, rank, name)] + 1)));
    } else {
      attrs.Set("descending", rng() % 2 == 0);
    }
  } else {
    Shape dims;
    for (int64_t d = 0; d < rank; ++d) {
      if (rng() % 2) dims.push_back(rng() % 2 ? d : d - rank);
    }
    attrs.Set("dims", dims);
    attrs.Set("keepdim", rng() % 2 == 0);
    if (name == "var" || name == "std") attrs.Set("correction", static_cast<int64_t>(rng() % 3));
  }
  return OpCall{&OpRegistry::Global().Get(name), {input}, std::move(attrs)};
}

// Every reduction and line op over drawn dims, layouts and values equals the CPU kernel
// bitwise, and writes nothing outside its output.
TEST(ReductionTest, EmulatedGridEqualsCpuKernelsBitwise) {
  std::mt19937_64 rng(TestSeedBase() + 29);
  std::map<std::string, int> trials;
  for (int trial = 0; trial < 3000; ++trial) {
    const OpCall call = DrawReductionCall(rng);
    const TensorSpec spec = OutputSpecsOf(call)[0];
    std::mt19937_64 same_layout = rng;
    const Tensor cpu_out = DrawOutput(spec.sizes, spec.dtype, rng);
    const Tensor emulated_out = DrawOutput(spec.sizes, spec.dtype, same_layout);
    call.def->kernel(DeviceType::kCPU)(KernelContext{}, call, {cpu_out});
    const std::string& name = call.def->name;
    if (emulated_out.numel() > 0) {
      const auto emulate = [&](const auto& work) { EmulateLaunch(work, rng()); };
      if (name == "cumsum" || name == "argsort") {
        RunLines(LineArgsOf(call, emulated_out), emulate);
      } else {
        RunReduction(ReductionArgsOf(call, emulated_out), emulate);
      }
    }
    ASSERT_EQ(StorageBytesUpToNanBits(emulated_out), StorageBytesUpToNanBits(cpu_out))
        << "trial " << trial << ": " << name << " of " << call.inputs[0].ToString() << " into "
        << cpu_out.ToString();
    ++trials[name];
  }
  for (const auto& [name, count] : trials) EXPECT_GT(count, 250) << name;
  EXPECT_EQ(trials.size(), 8u);
}

// matmul over drawn batch broadcasts, operand layouts and dtypes equals the CPU kernel
// bitwise; the operands are packed as kernels.cc packs them (contiguous in the op-math
// dtype).
TEST(MatmulTest, EmulatedGridEqualsCpuKernelsBitwise) {
  std::mt19937_64 rng(TestSeedBase() + 31);
  const DType dtypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                          DType::kInt32,   DType::kInt64,   DType::kUInt8};
  for (int trial = 0; trial < 800; ++trial) {
    const DType dtype = dtypes[rng() % std::size(dtypes)];
    const int64_t n = rng() % 5 + 1, k = rng() % 6, m = rng() % 5 + 1;
    // Batch dims that broadcast: b takes a trailing part of a's, either with dims made 1.
    Shape a_sizes(rng() % 3);
    for (int64_t& size : a_sizes) size = static_cast<int64_t>(rng() % 3) + 1;
    Shape b_sizes(a_sizes.end() - static_cast<int64_t>(rng() % (a_sizes.size() + 1)),
                  a_sizes.end());
    for (int64_t& size : a_sizes) size = rng() % 3 == 0 ? 1 : size;
    for (int64_t& size : b_sizes) size = rng() % 3 == 0 ? 1 : size;
    a_sizes.insert(a_sizes.end(), {n, k});
    b_sizes.insert(b_sizes.end(), {k, m});
    if (rng() % 6 == 0) a_sizes = {k};
    if (rng() % 6 == 0) b_sizes = {k};
    const Tensor a = DrawOutput(a_sizes, dtype, rng);
    const Tensor b = DrawOutput(b_sizes, dtype, rng);
    for (const Tensor& t : {a, b}) {
      VisitDType(dtype, [&]<typename T>() {
        T* data = reinterpret_cast<T*>(t.storage()->data());
        for (int64_t i = 0; i < t.storage()->nbytes() / static_cast<int64_t>(sizeof(T)); ++i) {
          data[i] = DrawValue<T>(rng);
        }
      });
    }
    const OpCall call{&OpRegistry::Global().Get("matmul"), {a, b}, {}};
    const TensorSpec spec = OutputSpecsOf(call)[0];
    std::mt19937_64 same_layout = rng;
    const Tensor cpu_out = DrawOutput(spec.sizes, spec.dtype, rng);
    const Tensor emulated_out = DrawOutput(spec.sizes, spec.dtype, same_layout);
    call.def->kernel(DeviceType::kCPU)(KernelContext{}, call, {cpu_out});
    VisitDType(dtype, [&]<typename T>() {
      const auto packed = [](const Tensor& t) {
        Tensor p = empty(t.sizes(), TensorOptions{.dtype = DTypeOf<MathOf<T>>()});
        const OpCall copy{&OpRegistry::Global().Get("copy_"), {p, t}, {}};
        copy.def->kernel(DeviceType::kCPU)(KernelContext{}, copy, {p});
        return p;
      };
      RunMatmul(MatmulArgsOf(emulated_out, a, b, packed(a), packed(b)),
                [&](const auto& work) { EmulateLaunch(work, rng()); });
    });
    ASSERT_EQ(StorageBytesUpToNanBits(emulated_out), StorageBytesUpToNanBits(cpu_out))
        << "trial " << trial << ": matmul of " << a.ToString() << " and " << b.ToString();
  }
}

TEST(LaunchConfigTest, CoversEveryItemWithCappedBlocks) {
  EXPECT_EQ(LaunchConfigFor(0).blocks, 0);
  EXPECT_EQ(LaunchConfigFor(1).blocks, 1);
  EXPECT_EQ(LaunchConfigFor(kThreadsPerBlock).blocks, 1);
  EXPECT_EQ(LaunchConfigFor(kThreadsPerBlock + 1).blocks, 2);
  EXPECT_EQ(LaunchConfigFor(int64_t{1} << 40).blocks, kMaxBlocks);
}

// A fill with more work items than one launch has threads: each thread loops.
TEST(RandomFillTest, FillsLargerThanTheGridLoop) {
  const int64_t numel = 4 * kMaxBlocks * kThreadsPerBlock * 2 + 5;
  const Tensor cpu_out = empty({numel});
  const Tensor emulated_out = empty({numel});
  Attrs attrs;
  attrs.Set("mean", 0.5).Set("std", 2.0).Set("seed", int64_t{77}).Set("offset", int64_t{3});
  const OpCall cpu_call = CallOf("normal_", cpu_out, attrs);
  cpu_call.def->kernel(DeviceType::kCPU)(KernelContext{}, cpu_call, {cpu_out});
  const int64_t items = (numel + 3) / 4;  // float32 normal_: four elements per block
  ASSERT_GT(items, LaunchConfigFor(items).threads());
  EmulateRandomFill(CallOf("normal_", emulated_out, attrs), emulated_out, 1);
  EXPECT_EQ(emulated_out.to_bytes(), cpu_out.to_bytes());
}

}  // namespace
}  // namespace deferred::cuda
