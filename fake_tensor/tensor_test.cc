#include "fake_tensor/tensor.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "fake_tensor/error_testing.h"
#include "gtest/gtest.h"

namespace deferred {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(TensorTest, NewTensorsAreContiguousRowMajor) {
  const Tensor t = AllocateTensor({2, 3, 4}, DType::kFloat32, Device::CPU());
  EXPECT_EQ(t.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.storage_offset(), 0);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.storage()->nbytes(), 96);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.stride(-3), 12);
  EXPECT_TRUE(Contains(ErrorMessage([&] { t.size(3); }), "size: dim 3 is out of range"));

  const Tensor scalar = AllocateTensor({}, DType::kInt64, Device::CPU());
  EXPECT_EQ(scalar.numel(), 1);
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_TRUE(scalar.is_contiguous());
  EXPECT_EQ(scalar.storage()->nbytes(), 8);

  // Zero-size dims still give the strides of size 1, as in PyTorch.
  EXPECT_EQ(ContiguousStrides({2, 0, 3}), (Shape{3, 3, 1}));
  const Tensor empty = AllocateTensor({2, 0, 3}, DType::kInt32, Device::CPU());
  EXPECT_EQ(empty.numel(), 0);
  EXPECT_EQ(empty.storage()->nbytes(), 0);
}

TEST(TensorTest, IsContiguousIgnoresSizeOneDimsAndEmptyTensors) {
  const Tensor base = AllocateTensor({4, 6}, DType::kFloat32, Device::CPU());
  struct Case {
    TensorLayout layout;
    bool contiguous;
  };
  const Case cases[] = {
      {{{4, 6}, {6, 1}, 0}, true},
      {{{6, 4}, {1, 6}, 0}, false},       // transposed
      {{{2, 6}, {6, 1}, 12}, true},       // rows 2..3: contiguous at an offset
      {{{4, 3}, {6, 1}, 0}, false},       // first half of each row
      {{{4, 3}, {6, 2}, 0}, false},       // every other column
      {{{1, 6}, {99, 1}, 6}, true},       // a size-1 dim's stride does not matter
      {{{6, 1}, {1, 5}, 0}, true},
      {{{0, 6}, {1, 7}, 0}, true},        // no elements
      {{{}, {}, 5}, true},                // 0-d
      {{{2, 2}, {0, 1}, 0}, false},       // expanded
  };
  for (const Case& c : cases) {
    const Tensor view = MakeView(base, c.layout);
    EXPECT_EQ(view.is_contiguous(), c.contiguous) << view.ToString();
  }
}

TEST(TensorTest, MayHaveInternalOverlapFlagsLayoutsThatRevisitMemory) {
  EXPECT_FALSE(MayHaveInternalOverlap({2, 3, 4}, {12, 4, 1}));
  EXPECT_FALSE(MayHaveInternalOverlap({4, 3, 2}, {1, 4, 12})) << "permuted";
  EXPECT_FALSE(MayHaveInternalOverlap({3, 2}, {10, 2})) << "with gaps";
  EXPECT_FALSE(MayHaveInternalOverlap({4}, {5})) << "a diagonal";
  EXPECT_FALSE(MayHaveInternalOverlap({5, 1}, {1, 0})) << "size-1 dims do not count";
  EXPECT_FALSE(MayHaveInternalOverlap({3, 0}, {0, 0})) << "no elements";
  EXPECT_FALSE(MayHaveInternalOverlap({}, {}));
  EXPECT_FALSE(MayHaveInternalOverlap({3}, {-1}));
  EXPECT_TRUE(MayHaveInternalOverlap({4, 3}, {0, 1})) << "expanded";
  EXPECT_TRUE(MayHaveInternalOverlap({3, 3}, {1, 1})) << "(0, 1) and (1, 0) coincide";
  EXPECT_TRUE(MayHaveInternalOverlap({3, 4}, {2, 1})) << "unfold with step < size";
}

TEST(TensorTest, StridedViewAccessorsAddressTheRightElements) {
  const uint64_t seed = 1234;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 300; ++trial) {
    // A random view into a storage of 200 int64s whose values are their positions.
    const Tensor base = AllocateTensor({200}, DType::kInt64, Device::CPU());
    int64_t* data = base.data_ptr<int64_t>();
    for (int64_t i = 0; i < 200; ++i) data[i] = i;
    const int ndim = static_cast<int>(rng() % 4);
    TensorLayout layout;
    int64_t reach = 0;
    for (int d = 0; d < ndim; ++d) {
      layout.sizes.push_back(static_cast<int64_t>(rng() % 4) + 1);
      layout.strides.push_back(static_cast<int64_t>(rng() % 7));  // overlapping is fine here
      reach += layout.strides.back() * (layout.sizes.back() - 1);
    }
    layout.storage_offset = static_cast<int64_t>(rng() % (200 - reach));
    const Tensor view = MakeView(base, layout);
    SCOPED_TRACE(view.ToString());
    EXPECT_EQ(view.storage().get(), base.storage().get());

    // Reference: every index in row-major order and the storage position it maps to.
    std::vector<std::vector<int64_t>> indices(1);
    for (int d = 0; d < ndim; ++d) {
      std::vector<std::vector<int64_t>> next;
      for (const auto& prefix : indices) {
        for (int64_t i = 0; i < layout.sizes[d]; ++i) {
          next.push_back(prefix);
          next.back().push_back(i);
        }
      }
      indices = std::move(next);
    }
    std::vector<int64_t> expected;
    for (const auto& index : indices) {
      int64_t position = layout.storage_offset;
      for (int d = 0; d < ndim; ++d) position += index[d] * layout.strides[d];
      expected.push_back(position);
      EXPECT_EQ(view.at<int64_t>(index), position);
    }
    EXPECT_EQ(view.to_vector<int64_t>(), expected);
    std::vector<int64_t> offsets;
    view.ForEachElementOffset([&](int64_t offset) { offsets.push_back(offset); });
    for (int64_t& offset : offsets) offset += layout.storage_offset;
    EXPECT_EQ(offsets, expected);

    // set writes exactly one storage position.
    const size_t pick = rng() % indices.size();
    view.set<int64_t>(indices[pick], -1);
    for (int64_t i = 0; i < 200; ++i) {
      EXPECT_EQ(data[i], i == expected[pick] ? -1 : i);
    }
  }
}

TEST(TensorTest, ToVectorReadsEveryDTypeThroughStrides) {
  for (DType dtype : kAllDTypes) {
    VisitDType(dtype, [&]<typename T>() {
      const Tensor base = AllocateTensor({3, 4}, dtype, Device::CPU());
      for (int64_t i = 0; i < 12; ++i) {
        base.data_ptr<T>()[i] = CastElement<T>(static_cast<int64_t>(i % 2 == 0 ? i : 0));
      }
      const Tensor transposed = MakeView(base, TensorLayout{{4, 3}, {1, 4}, 0});
      const std::vector<T> values = transposed.to_vector<T>();
      ASSERT_EQ(values.size(), 12u);
      for (int64_t r = 0; r < 4; ++r) {
        for (int64_t c = 0; c < 3; ++c) {
          const int64_t i = c * 4 + r;
          const T expected = CastElement<T>(static_cast<int64_t>(i % 2 == 0 ? i : 0));
          const T got = values[r * 3 + c];  // std::vector<bool> has no element addresses
          EXPECT_EQ(std::memcmp(&got, &expected, sizeof(T)), 0)
              << DTypeName(dtype) << " at " << r << "," << c;
          EXPECT_EQ(std::memcmp(&got, &base.data_ptr<T>()[i], sizeof(T)), 0);
        }
      }
    });
  }
}

TEST(TensorTest, AccessorMisuseNamesTheAccessorAndTheProblem) {
  const Tensor t = AllocateTensor({2, 3}, DType::kFloat32, Device::CPU());
  EXPECT_TRUE(Contains(ErrorMessage([&] { t.data_ptr<int64_t>(); }),
                       "data_ptr: tensor has dtype float32, accessed as int64"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { t.at<float>({2, 0}); }),
                       "at: index 2 is out of range for dim 0 of size 2"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { t.set<float>({0, -1}, 1.0f); }),
                       "set: index -1 is out of range for dim 1 of size 3"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { t.at<float>({0}); }),
                       "at: 1 indices given for a 2-d tensor"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { t.item<float>(); }),
                       "item: tensor of shape [2, 3] has 6 elements, expected 1"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { t.to_vector<double>(); }), "to_vector"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { Tensor().data_ptr<float>(); }), "undefined"));
}

TEST(TensorTest, DataAccessWithoutBytesIsFailedPreconditionNamingTheTensor) {
  const Tensor fake = AllocateTensor({2, 3}, DType::kFloat32, Device::CUDA(1), /*fake=*/true);
  const Tensor meta = AllocateTensor({4}, DType::kInt64, Device::Meta());
  EXPECT_TRUE(fake.is_fake());
  EXPECT_FALSE(fake.is_meta());
  EXPECT_EQ(fake.device(), Device::CUDA(1)) << "a fake tensor reports its home device";
  EXPECT_TRUE(meta.is_meta());
  EXPECT_FALSE(meta.is_fake());
  for (const Tensor& t : {fake, meta}) {
    EXPECT_FALSE(t.has_data());
    const std::string described = t.ToString();
    const auto check = [&](const std::string& accessor, auto&& access) {
      const std::string message = ErrorMessage(access, absl::StatusCode::kFailedPrecondition);
      EXPECT_TRUE(Contains(message, accessor + ": cannot access the data of " + described))
          << message;
    };
    VisitDType(t.dtype(), [&]<typename T>() {
      check("data_ptr", [&] { t.data_ptr<T>(); });
      check("at", [&] { t.at<T>(std::vector<int64_t>(t.dim(), 0)); });
      check("set", [&] { t.set<T>(std::vector<int64_t>(t.dim(), 0), T()); });
      check("to_vector", [&] { t.to_vector<T>(); });
      check("item", [&] { t.item<T>(); });
    });
  }
  EXPECT_EQ(fake.ToString(), "Tensor(shape=[2, 3], dtype=float32, device=cuda:1, fake)");
  EXPECT_EQ(meta.ToString(), "Tensor(shape=[4], dtype=int64, device=meta)");
}

TEST(TensorTest, ToStringShowsStridesOfNonContiguousViews) {
  const Tensor base = AllocateTensor({2, 3}, DType::kBFloat16, Device::CPU());
  EXPECT_EQ(base.ToString(), "Tensor(shape=[2, 3], dtype=bfloat16, device=cpu)");
  EXPECT_EQ(MakeView(base, TensorLayout{{3, 2}, {1, 3}, 0}).ToString(),
            "Tensor(shape=[3, 2], dtype=bfloat16, device=cpu, strides=[1, 3], offset=0)");
  EXPECT_EQ(MakeView(base, TensorLayout{{3}, {1}, 3}).ToString(),
            "Tensor(shape=[3], dtype=bfloat16, device=cpu, strides=[1], offset=3)");
  EXPECT_EQ(Tensor().ToString(), "Tensor(undefined)");
}

TEST(TensorTest, HandlesShareOneTensorAndViewsShareStorage) {
  const Tensor t = AllocateTensor({4}, DType::kInt32, Device::CPU());
  const Tensor copy = t;
  const Tensor view = MakeView(t, ContiguousLayout({4}));
  EXPECT_TRUE(copy.is_same(t));
  EXPECT_FALSE(view.is_same(t));
  EXPECT_EQ(view.storage(), t.storage());
  t.set<int32_t>({2}, 7);
  EXPECT_EQ(view.at<int32_t>({2}), 7);
  EXPECT_EQ(view.dtype(), DType::kInt32);
}

TEST(AllocationStatsTest, CountsEveryAllocationAndFree) {
  const AllocationStats before = GetAllocationStats();
  {
    const Tensor a = AllocateTensor({10, 10}, DType::kFloat64, Device::CPU());
    AllocationStats now = GetAllocationStats();
    EXPECT_EQ(now.live_bytes - before.live_bytes, 800);
    EXPECT_EQ(now.total_bytes - before.total_bytes, 800);
    EXPECT_EQ(now.allocation_count - before.allocation_count, 1);
    EXPECT_EQ(now.free_count, before.free_count);
    EXPECT_GE(now.peak_bytes, now.live_bytes);
    {
      const Tensor b = AllocateTensor({3}, DType::kUInt8, Device::CPU());
      const Tensor view = MakeView(b, ContiguousLayout({2}));  // views allocate nothing
      const Tensor empty = AllocateTensor({0, 5}, DType::kFloat32, Device::CPU());
      now = GetAllocationStats();
      EXPECT_EQ(now.live_bytes - before.live_bytes, 803);
      EXPECT_EQ(now.allocation_count - before.allocation_count, 3);
    }
    now = GetAllocationStats();
    EXPECT_EQ(now.live_bytes - before.live_bytes, 800);
    EXPECT_EQ(now.total_bytes - before.total_bytes, 803);
    EXPECT_EQ(now.free_count - before.free_count, 2);
  }
  const AllocationStats after = GetAllocationStats();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.allocation_count - before.allocation_count, 3);
  EXPECT_EQ(after.free_count - before.free_count, 3);
}

TEST(AllocationStatsTest, PeakFollowsLiveBytesUntilReset) {
  ResetPeakBytes();
  const AllocationStats start = GetAllocationStats();
  EXPECT_EQ(start.peak_bytes, start.live_bytes);
  {
    const Tensor big = AllocateTensor({1000}, DType::kFloat32, Device::CPU());
  }
  {
    const Tensor small = AllocateTensor({10}, DType::kFloat32, Device::CPU());
    EXPECT_EQ(GetAllocationStats().peak_bytes, start.live_bytes + 4000);
    ResetPeakBytes();
    EXPECT_EQ(GetAllocationStats().peak_bytes, start.live_bytes + 40);
  }
  EXPECT_EQ(GetAllocationStats().live_bytes, start.live_bytes);
}

TEST(AllocationStatsTest, FakeAndMetaTensorsAllocateNothing) {
  const AllocationStats before = GetAllocationStats();
  {
    const Tensor fake = AllocateTensor({1 << 20}, DType::kFloat32, Device::CPU(), true);
    const Tensor fake_cuda = AllocateTensor({1 << 20}, DType::kFloat64, Device::CUDA(0), true);
    const Tensor meta = AllocateTensor({1 << 20}, DType::kInt64, Device::Meta());
    const Tensor view = MakeView(meta, ContiguousLayout({10}));
    EXPECT_EQ(fake.storage()->nbytes(), 4 << 20) << "fake storage still knows its size";
  }
  const AllocationStats after = GetAllocationStats();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.total_bytes, before.total_bytes);
  EXPECT_EQ(after.allocation_count, before.allocation_count);
  EXPECT_EQ(after.free_count, before.free_count);
}

TEST(AllocationStatsTest, TakingDataMovesBytesWithoutCountingAnAllocation) {
  const Tensor fake = AllocateTensor({8}, DType::kInt32, Device::CPU(), /*fake=*/true);
  const Tensor view = MakeView(fake, TensorLayout{{4}, {2}, 0});
  const AllocationStats before = GetAllocationStats();
  {
    const Tensor real = AllocateTensor({8}, DType::kInt32, Device::CPU());
    for (int32_t i = 0; i < 8; ++i) real.set<int32_t>({i}, i * 10);
    EXPECT_TRUE(fake.storage()->TakeDataFrom(*real.storage()));
    EXPECT_FALSE(real.has_data());
  }
  EXPECT_TRUE(fake.has_data());
  EXPECT_EQ(view.to_vector<int32_t>(), (std::vector<int32_t>{0, 20, 40, 60}))
      << "every handle on the storage sees the bytes";
  const AllocationStats after = GetAllocationStats();
  EXPECT_EQ(after.allocation_count - before.allocation_count, 1);
  EXPECT_EQ(after.live_bytes - before.live_bytes, 32);
  EXPECT_EQ(after.free_count, before.free_count);
  // A storage that has its bytes keeps them; the source keeps its own.
  const Tensor other = AllocateTensor({8}, DType::kInt32, Device::CPU());
  EXPECT_FALSE(fake.storage()->TakeDataFrom(*other.storage()));
  EXPECT_TRUE(other.has_data());
  EXPECT_EQ(view.to_vector<int32_t>(), (std::vector<int32_t>{0, 20, 40, 60}));
  EXPECT_TRUE(Contains(ErrorMessage([&] {
                         const Tensor small = AllocateTensor({4}, DType::kInt32, Device::CPU(), true);
                         small.storage()->TakeDataFrom(*other.storage());
                       }),
                       "size mismatch"));
}

TEST(AllocationStatsTest, DevicesWithoutAnAllocatorAreErrors) {
  const AllocationStats before = GetAllocationStats();
  const std::string cuda =
      ErrorMessage([] { AllocateTensor({4}, DType::kFloat32, Device::CUDA(0)); },
                   absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(cuda, "cuda:0")) << cuda;
  EXPECT_TRUE(Contains(ErrorMessage([] { AllocateStorage(16, Device::Meta()); }), "meta device"));
  EXPECT_EQ(GetAllocationStats().allocation_count, before.allocation_count);
}

TEST(AllocationStatsTest, AllocationsPastTheLimitFailWithoutCounting) {
  const int64_t live = GetAllocationStats().live_bytes;
  EXPECT_EQ(SetAllocationLimit(live + 4096), 0);
  const Tensor fits = AllocateTensor({1024}, DType::kFloat32, Device::CPU());
  const AllocationStats before = GetAllocationStats();
  EXPECT_TRUE(Contains(ErrorMessage([] { AllocateTensor({1}, DType::kUInt8, Device::CPU()); },
                                    absl::StatusCode::kResourceExhausted),
                       "allocation limit"));
  EXPECT_EQ(GetAllocationStats().live_bytes, before.live_bytes);
  EXPECT_EQ(GetAllocationStats().allocation_count, before.allocation_count);
  EXPECT_EQ(SetAllocationLimit(0), live + 4096);
  AllocateTensor({1}, DType::kUInt8, Device::CPU());  // no cap again
  // More than any host has fails as an allocation, before touching the counters.
  EXPECT_TRUE(Contains(ErrorMessage([] { AllocateTensor({(int64_t{1} << 62) + 1}, DType::kUInt8,
                                                        Device::CPU()); },
                                    absl::StatusCode::kResourceExhausted),
                       "out of host memory"));
  EXPECT_EQ(GetAllocationStats().live_bytes, live + 4096);
}

TEST(TensorTest, UndefinedTensorMetadataIsAnError) {
  const Tensor undefined;
  EXPECT_FALSE(undefined.defined());
  EXPECT_EQ(undefined.ToString(), "Tensor(undefined)");
  EXPECT_TRUE(Contains(ErrorMessage([&] { undefined.numel(); }), "undefined"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { undefined.sizes(); }), "undefined"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { undefined.dtype(); }), "undefined"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { undefined.device(); }), "undefined"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { undefined.has_data(); }), "undefined"));
  EXPECT_TRUE(Contains(ErrorMessage([&] { undefined.is_contiguous(); }), "undefined"));
}

TEST(TensorTest, SizesWhoseBytesOrStridesOverflowAreErrors) {
  const AllocationStats before = GetAllocationStats();
  const int64_t big = int64_t{1} << 31;
  EXPECT_EQ(CheckedByteSize({big, big}, DType::kUInt8, "t"), int64_t{1} << 62);
  EXPECT_TRUE(Contains(ErrorMessage([&] { CheckedByteSize({big, big, 2}, DType::kFloat32, "t"); }),
                       "2^63 - 1 bytes"));
  EXPECT_TRUE(Contains(ErrorMessage([] {
                         CheckedByteSize({0, int64_t{1} << 40, int64_t{1} << 40},
                                         DType::kFloat32, "zeros");
                       }),
                       "zeros: the strides"));
  EXPECT_TRUE(Contains(ErrorMessage([] { CheckedByteSize({2, -1}, DType::kFloat32, "t"); }),
                       "negative size"));
  for (const Device device : {Device::CPU(), Device::Meta()}) {
    EXPECT_TRUE(Contains(ErrorMessage([&] {
                           AllocateTensor({int64_t{1} << 32, int64_t{1} << 32}, DType::kFloat32,
                                          device);
                         }),
                         "allocate"));
  }
  EXPECT_EQ(GetAllocationStats().allocation_count, before.allocation_count);
}

TEST(TensorTest, LayoutsReachingOutsideTheirStorageAreErrors) {
  const Tensor base = AllocateTensor({4, 6}, DType::kFloat32, Device::CPU());
  // Valid: the whole storage, a transposed view, the last element, an empty view anywhere.
  MakeView(base, TensorLayout{{6, 4}, {1, 6}, 0});
  MakeView(base, TensorLayout{{1}, {1}, 23});
  MakeView(base, TensorLayout{{0, 5}, {1, 1}, 1000});
  MakeView(base, TensorLayout{{2, 3}, {-6, 1}, 6});
  const int64_t huge = int64_t{1} << 62;
  for (const TensorLayout& bad : {
           TensorLayout{{25}, {1}, 0},           // one past the end
           TensorLayout{{1}, {1}, 24},           // starts past the end
           TensorLayout{{2}, {-1}, 0},           // reaches before the start
           TensorLayout{{3}, {1}, -1},           // negative offset
           TensorLayout{{2, 2}, {huge, huge}, 0},  // the extent overflows int64
           TensorLayout{{3}, {huge}, huge},        // so does the end
           TensorLayout{{2}, {1, 1}, 0},         // sizes and strides disagree
       }) {
    EXPECT_TRUE(Contains(ErrorMessage([&] { MakeView(base, bad); }), "tensor:"))
        << ShapeToString(bad.sizes) << " " << ShapeToString(bad.strides);
  }
}

}  // namespace
}  // namespace deferred
