// The per-thread bodies of the CUDA kernels, run on the host by the grid emulator over
// the launch the GPU launcher computes, against the CPU kernels, bitwise: random ops,
// parameters, dtypes, shapes, non-contiguous and expanded outputs, broadcast copies across
// dtypes, and calls restricted to a region as replay restricts them. Proves the index
// arithmetic and the math of the device code without a GPU.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cuda_kernels/constant_fill.h"
#include "cuda_kernels/grid_emulator.h"
#include "cuda_kernels/kernel_args.h"
#include "cuda_kernels/launch_config.h"
#include "cuda_kernels/random_fill.h"
#include "cuda_kernels/strided_copy.h"
#include "fake_tensor/op_registry.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/ops/views.h"
#include "fake_tensor/shape.h"
#include "gtest/gtest.h"
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
    cpu_call.def->kernel(DeviceType::kCPU)(cpu_call, {cpu_out});
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
    cpu_call.def->kernel(DeviceType::kCPU)(cpu_call, {cpu_out});
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
    cpu_call.def->kernel(DeviceType::kCPU)(cpu_call, {cpu_out});
    RunStridedCopy(StridedCopyArgsOf("copy_", emulated_out, source),
                   [&](const auto& copy) { EmulateLaunch(copy, rng()); });
    ASSERT_EQ(StorageBytes(emulated_out), StorageBytes(cpu_out))
        << "trial " << trial << ": copy_ of " << source.ToString() << " into "
        << cpu_out.ToString();
  }
  EXPECT_GT(broadcast, 500);
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
  cpu_call.def->kernel(DeviceType::kCPU)(cpu_call, {cpu_out});
  const int64_t items = (numel + 3) / 4;  // float32 normal_: four elements per block
  ASSERT_GT(items, LaunchConfigFor(items).threads());
  EmulateRandomFill(CallOf("normal_", emulated_out, attrs), emulated_out, 1);
  EXPECT_EQ(emulated_out.to_bytes(), cpu_out.to_bytes());
}

}  // namespace
}  // namespace deferred::cuda
