#include "replay/kernels/strided_loop.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "replay/kernels/parallel.h"

namespace deferred {
namespace {

// What one visit of a loop index saw: how often it was visited, and where operands 1 and 2
// pointed (bytes from their first element).
struct Visit {
  int64_t count;
  int64_t offset1;
  int64_t offset2;
};

// Every index of `sizes` in row-major order.
std::vector<std::vector<int64_t>> AllIndices(const Shape& sizes) {
  std::vector<std::vector<int64_t>> indices(1);
  for (int64_t size : sizes) {
    std::vector<std::vector<int64_t>> next;
    for (const auto& prefix : indices) {
      for (int64_t i = 0; i < size; ++i) {
        next.push_back(prefix);
        next.back().push_back(i);
      }
    }
    indices = std::move(next);
  }
  return indices;
}

int64_t Dot(const std::vector<int64_t>& index, const Shape& strides) {
  int64_t sum = 0;
  for (size_t d = 0; d < index.size(); ++d) sum += index[d] * strides[d];
  return sum;
}

// Random sizes: rank 0..5, sizes 0..5 biased toward 1 (so merging and skipping are hit).
Shape RandomSizes(std::mt19937_64& rng, int64_t max_size = 5) {
  Shape sizes(rng() % 6);
  for (int64_t& s : sizes) {
    const uint64_t kind = rng() % 10;
    s = kind == 0 ? 0 : (kind < 3 ? 1 : 1 + static_cast<int64_t>(rng() % max_size));
  }
  if (rng() % 5 != 0) {  // mostly non-empty
    for (int64_t& s : sizes) s = std::max<int64_t>(s, 1);
  }
  return sizes;
}

// Strides (in elements) of an injective layout of `sizes`: the dims nested in a random
// order, with random gaps; sometimes plainly contiguous.
Shape RandomInjectiveStrides(std::mt19937_64& rng, const Shape& sizes) {
  std::vector<size_t> order(sizes.size());
  std::iota(order.begin(), order.end(), 0);
  const bool contiguous = rng() % 3 == 0;
  if (!contiguous) std::shuffle(order.begin(), order.end(), rng);
  Shape strides(sizes.size());
  int64_t stride = 1;
  for (size_t k = order.size(); k-- > 0;) {
    strides[order[k]] = stride;
    stride *= std::max<int64_t>(sizes[order[k]], 1) + (contiguous ? 0 : rng() % 2);
  }
  return strides;
}

// Strides of a read-only operand: random, sometimes 0 (broadcast) or contiguous.
Shape RandomReadStrides(std::mt19937_64& rng, const Shape& sizes) {
  if (rng() % 3 == 0) return ContiguousStrides(sizes);
  Shape strides(sizes.size());
  for (int64_t& s : strides) s = rng() % 3 == 0 ? 0 : static_cast<int64_t>(rng() % 9);
  return strides;
}

TEST(ForEachRunTest, VisitsEveryIndexOnceWithTheRightPointers) {
  const uint64_t seed = 42;
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 400; ++trial) {
    SetNumThreads(trial % 2 == 0 ? 1 : 4);
    const Shape sizes = RandomSizes(rng);
    const Shape strides0 = RandomInjectiveStrides(rng, sizes);
    const Shape strides1 = RandomReadStrides(rng, sizes);
    const Shape strides2 = RandomReadStrides(rng, sizes);
    SCOPED_TRACE(testing::Message() << "trial " << trial << " sizes " << ShapeToString(sizes)
                                    << " strides " << ShapeToString(strides0) << " "
                                    << ShapeToString(strides1) << " " << ShapeToString(strides2));
    const std::vector<std::vector<int64_t>> indices = AllIndices(sizes);
    int64_t log_size = 1;
    for (const auto& index : indices) log_size = std::max(log_size, Dot(index, strides0) + 1);
    std::vector<Visit> log(log_size, Visit{0, -1, -1});
    std::vector<std::byte> reads(1);  // operands 1 and 2 are only pointed at, never read
    std::byte* base = reads.data();

    auto byte_strides = [](const Shape& s, int64_t element) {
      Shape out(s);
      for (int64_t& v : out) v *= element;
      return out;
    };
    std::array<StridedOperand, 3> operands = {
        StridedOperand{reinterpret_cast<std::byte*>(log.data()),
                       byte_strides(strides0, sizeof(Visit))},
        StridedOperand{base, byte_strides(strides1, 4)},
        StridedOperand{base, byte_strides(strides2, 2)}};
    std::atomic<int64_t> calls{0};
    ForEachRun<3>(sizes, operands,
                  [&](const std::array<std::byte*, 3>& ptrs, int64_t length,
                      const std::array<int64_t, 3>& run_strides) {
                    EXPECT_GE(length, 1);
                    ++calls;
                    for (int64_t j = 0; j < length; ++j) {
                      Visit* visit = reinterpret_cast<Visit*>(ptrs[0] + j * run_strides[0]);
                      ++visit->count;
                      visit->offset1 = (ptrs[1] + j * run_strides[1]) - base;
                      visit->offset2 = (ptrs[2] + j * run_strides[2]) - base;
                    }
                  });
    if (NumElements(sizes) == 0) {
      EXPECT_EQ(calls.load(), 0);
      continue;
    }
    ASSERT_EQ(static_cast<int64_t>(indices.size()), NumElements(sizes));
    std::vector<bool> visited(log_size, false);
    for (const auto& index : indices) {
      const int64_t position = Dot(index, strides0);
      visited[position] = true;
      const Visit& visit = log[position];
      ASSERT_EQ(visit.count, 1) << "index visited " << visit.count << " times";
      EXPECT_EQ(visit.offset1, Dot(index, strides1) * 4);
      EXPECT_EQ(visit.offset2, Dot(index, strides2) * 2);
    }
    for (int64_t p = 0; p < log_size; ++p) {
      if (!visited[p]) {
        EXPECT_EQ(log[p].count, 0) << "a gap was written at " << p;
      }
    }
  }
}

TEST(ForEachRunTest, ZeroDimensionalLoopIsOneRunOfOne) {
  int64_t calls = 0;
  int32_t value = 5;
  ForEachRun<1>({}, {StridedOperand{reinterpret_cast<std::byte*>(&value), {}}},
                [&](const std::array<std::byte*, 1>& ptrs, int64_t length,
                    const std::array<int64_t, 1>&) {
                  ++calls;
                  EXPECT_EQ(length, 1);
                  *reinterpret_cast<int32_t*>(ptrs[0]) += 1;
                });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(value, 6);
}

TEST(ForEachRunTest, ContiguousOperandsAreMergedIntoOneRun) {
  SetNumThreads(1);
  std::vector<int32_t> data(2 * 3 * 4);
  const Shape sizes = {2, 1, 3, 4};
  std::vector<int64_t> lengths;
  ForEachRun<1>(sizes,
                {StridedOperand{reinterpret_cast<std::byte*>(data.data()), {48, 999, 16, 4}}},
                [&](const std::array<std::byte*, 1>&, int64_t length,
                    const std::array<int64_t, 1>& strides) {
                  lengths.push_back(length);
                  EXPECT_EQ(strides[0], 4);
                });
  EXPECT_EQ(lengths, (std::vector<int64_t>{24}));
}

TEST(ForEachRunTest, EmptyLoopsCallNothing) {
  for (const Shape& sizes : {Shape{0}, Shape{3, 0}, Shape{0, 5, 1}}) {
    bool called = false;
    ForEachRun<1>(sizes, {StridedOperand{nullptr, Shape(sizes.size(), 4)}},
                  [&](const std::array<std::byte*, 1>&, int64_t, const std::array<int64_t, 1>&) {
                    called = true;
                  });
    EXPECT_FALSE(called) << ShapeToString(sizes);
  }
}

// out = f(a, b) through MapElements on random strided and broadcast operands; the bytes of
// the whole output storage.
std::vector<uint8_t> MapLargeStridedTensors(uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Shape sizes = {3, 257, 131};  // > kElementwiseGrain elements, odd run lengths
  const Tensor out_base = AllocateTensor({4 * 257 * 132}, DType::kInt32, Device::CPU());
  std::memset(out_base.data_ptr<int32_t>(), 0, out_base.storage()->nbytes());
  // Output: dims permuted (non-contiguous) with gaps.
  const Tensor out = MakeView(out_base, TensorLayout{sizes, {1, 4 * 132, 4}, 3});
  const Tensor a = AllocateTensor({257, 131}, DType::kInt32, Device::CPU());
  const Tensor b_base = AllocateTensor({3 * 2 * 131}, DType::kInt32, Device::CPU());
  const Tensor b = MakeView(b_base, TensorLayout{{3, 1, 131}, {262, 0, 2}, 1});
  for (int64_t i = 0; i < a.numel(); ++i) a.data_ptr<int32_t>()[i] = static_cast<int32_t>(rng());
  for (int64_t i = 0; i < b_base.numel(); ++i) {
    b_base.data_ptr<int32_t>()[i] = static_cast<int32_t>(rng());
  }
  MapElements<int32_t, int32_t, int32_t>(
      out, [](int32_t x, int32_t y) { return (x ^ (y >> 3)) + 7; }, {a, b});
  // Check against a reference loop here too.
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 257; j += 17) {
      for (int64_t k = 0; k < 131; ++k) {
        const int32_t x = a.at<int32_t>({j, k});
        const int32_t y = b.at<int32_t>({i, 0, k});
        EXPECT_EQ(out.at<int32_t>({i, j, k}), (x ^ (y >> 3)) + 7);
      }
    }
  }
  std::vector<uint8_t> bytes(out_base.storage()->nbytes());
  std::memcpy(bytes.data(), out_base.storage()->data(), bytes.size());
  return bytes;
}

TEST(MapElementsTest, ResultsDoNotDependOnTheThreadCount) {
  SetNumThreads(1);
  const std::vector<uint8_t> one = MapLargeStridedTensors(9);
  SetNumThreads(4);
  const std::vector<uint8_t> four = MapLargeStridedTensors(9);
  SetNumThreads(3);
  const std::vector<uint8_t> three = MapLargeStridedTensors(9);
  EXPECT_TRUE(one == four);
  EXPECT_TRUE(one == three);
}

// Operands all contiguous with out's sizes take one flat loop over element numbers; it must
// give what the strided loop gives (here forced by a transposed output) at any thread
// count, also in place.
TEST(MapElementsTest, ContiguousOperandsGiveWhatTheStridedLoopGives) {
  std::mt19937_64 rng(11);
  const Shape sizes = {5, 20011};  // more than kElementwiseGrain elements
  const Tensor a = AllocateTensor(sizes, DType::kInt32, Device::CPU());
  const Tensor b = AllocateTensor(sizes, DType::kInt32, Device::CPU());
  for (int64_t i = 0; i < a.numel(); ++i) {
    a.data_ptr<int32_t>()[i] = static_cast<int32_t>(rng());
    b.data_ptr<int32_t>()[i] = static_cast<int32_t>(rng());
  }
  const auto fn = [](int32_t x, int32_t y) { return (x ^ (y >> 5)) - 3; };
  const Tensor strided_base = AllocateTensor({20011, 5}, DType::kInt32, Device::CPU());
  const Tensor strided = MakeView(strided_base, TensorLayout{sizes, {1, 5}, 0});
  ASSERT_FALSE(strided.is_contiguous());
  SetNumThreads(1);
  MapElements<int32_t, int32_t, int32_t>(strided, fn, {a, b});
  for (int threads : {1, 3, 4}) {
    SetNumThreads(threads);
    const Tensor flat = AllocateTensor(sizes, DType::kInt32, Device::CPU());
    MapElements<int32_t, int32_t, int32_t>(flat, fn, {a, b});
    const Tensor in_place = AllocateTensor(sizes, DType::kInt32, Device::CPU());
    std::memcpy(in_place.data_ptr<int32_t>(), a.data_ptr<int32_t>(), a.storage()->nbytes());
    MapElements<int32_t, int32_t, int32_t>(in_place, fn, {in_place, b});
    for (int64_t i = 0; i < sizes[0]; ++i) {
      for (int64_t j = 0; j < sizes[1]; ++j) {
        const int32_t expected = strided.at<int32_t>({i, j});
        ASSERT_EQ(flat.at<int32_t>({i, j}), expected) << threads << " threads, " << i << "," << j;
        ASSERT_EQ(in_place.at<int32_t>({i, j}), expected) << threads << " threads, in place";
      }
    }
  }
  EXPECT_EQ(strided.at<int32_t>({4, 20010}),
            fn(a.at<int32_t>({4, 20010}), b.at<int32_t>({4, 20010})));
}

TEST(MapElementsTest, AnInputOverlappingTheOutputIsReadAsBefore) {
  for (int threads : {1, 4}) {
    SetNumThreads(threads);
    const int64_t n = 100000;
    const Tensor base = AllocateTensor({n + 1}, DType::kInt64, Device::CPU());
    for (int64_t i = 0; i <= n; ++i) base.data_ptr<int64_t>()[i] = i;
    const Tensor out = MakeView(base, TensorLayout{{n}, {1}, 1});
    const Tensor shifted = MakeView(base, TensorLayout{{n}, {1}, 0});  // out[i] reads i - 1
    MapElements<int64_t, int64_t>(out, [](int64_t x) { return x * 2; }, {shifted});
    const std::vector<int64_t> values = base.to_vector<int64_t>();
    EXPECT_EQ(values[0], 0);
    for (int64_t i = 1; i <= n; ++i) ASSERT_EQ(values[i], 2 * (i - 1)) << i;

    // Reversed reading order through a transpose: x.T + x on a square.
    const Tensor square = AllocateTensor({300, 300}, DType::kInt64, Device::CPU());
    for (int64_t i = 0; i < 90000; ++i) square.data_ptr<int64_t>()[i] = i;
    const Tensor transposed = MakeView(square, TensorLayout{{300, 300}, {1, 300}, 0});
    MapElements<int64_t, int64_t, int64_t>(
        square, [](int64_t x, int64_t y) { return x * 1000000 + y; }, {square, transposed});
    for (int64_t r = 0; r < 300; r += 7) {
      for (int64_t c = 0; c < 300; c += 3) {
        ASSERT_EQ(square.at<int64_t>({r, c}), (r * 300 + c) * 1000000 + (c * 300 + r));
      }
    }
  }
}

TEST(MapElementsTest, SnapshotOnlyWhenMemoryIsShared) {
  const Tensor base = AllocateTensor({10}, DType::kFloat32, Device::CPU());
  const Tensor other = AllocateTensor({10}, DType::kFloat32, Device::CPU());
  const Tensor first = MakeView(base, TensorLayout{{5}, {1}, 0});
  const Tensor second = MakeView(base, TensorLayout{{5}, {1}, 5});
  const Tensor even = MakeView(base, TensorLayout{{5}, {2}, 0});
  const Tensor same_as_first = MakeView(base, TensorLayout{{5}, {1}, 0});
  EXPECT_TRUE(SnapshotIfOverlapping(other, base).is_same(other));
  EXPECT_TRUE(SnapshotIfOverlapping(second, first).is_same(second)) << "disjoint halves";
  EXPECT_TRUE(SnapshotIfOverlapping(same_as_first, first).is_same(same_as_first));
  const Tensor copy = SnapshotIfOverlapping(even, first);
  EXPECT_FALSE(copy.is_same(even));
  EXPECT_NE(copy.storage(), base.storage());
  for (int64_t i = 0; i < 10; ++i) base.data_ptr<float>()[i] = static_cast<float>(i);
  EXPECT_EQ(SnapshotIfOverlapping(even, first).to_vector<float>(),
            (std::vector<float>{0, 2, 4, 6, 8}));
}

TEST(BroadcastOperandTest, GivesByteStridesWithZerosForBroadcastDims) {
  const Tensor t = AllocateTensor({3, 1}, DType::kFloat64, Device::CPU());
  const Tensor view = MakeView(t, TensorLayout{{3, 1}, {1, 1}, 0});
  const StridedOperand operand = BroadcastOperand(view, {2, 3, 4});
  EXPECT_EQ(operand.byte_strides, (Shape{0, 8, 0}));
  EXPECT_EQ(operand.data, t.storage()->data());
  const Tensor offset = MakeView(t, TensorLayout{{2}, {1}, 1});
  EXPECT_EQ(BroadcastOperand(offset, {2}).data, t.storage()->data() + 8);
  for (const Shape& bad : {Shape{2, 1}, Shape{1}, Shape{4, 1}}) {
    try {
      BroadcastOperand(t, bad);
      ADD_FAILURE() << "expected an Error for " << ShapeToString(bad);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cannot broadcast"), std::string::npos) << e.what();
    }
  }
}

TEST(ParallelForTest, CoversTheRangeOnceInAtMostNumThreadsChunks) {
  for (int threads : {1, 2, 3, 4, 7}) {
    SetNumThreads(threads);
    EXPECT_EQ(NumThreads(), threads);
    for (int64_t n : {0, 1, 5, 100, 1000, 12345}) {
      for (int64_t grain : {1, 7, 100, 5000}) {
        std::vector<int> seen(n, 0);
        std::mutex mutex;
        std::vector<std::pair<int64_t, int64_t>> chunks;
        ParallelFor(n, grain, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) ++seen[i];
          std::lock_guard<std::mutex> lock(mutex);
          chunks.emplace_back(begin, end);
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << n << " " << grain << " " << i;
        EXPECT_LE(static_cast<int64_t>(chunks.size()), threads);
        if (n <= grain) {
          EXPECT_LE(chunks.size(), 1u);
        }
        for (const auto& [begin, end] : chunks) {
          EXPECT_LT(begin, end);
          if (chunks.size() > 1) {
            EXPECT_GE(end - begin, grain / 2) << "chunks near the grain";
          }
        }
      }
    }
  }
  SetNumThreads(0);
  EXPECT_EQ(NumThreads(), 1) << "at least one thread";
}

TEST(ParallelForTest, RethrowsTheExceptionOfAChunkAndStaysUsable) {
  SetNumThreads(4);
  EXPECT_THROW(ParallelFor(1000, 1,
                           [](int64_t begin, int64_t) {
                             if (begin > 0) throw std::runtime_error("chunk failed");
                           }),
               std::runtime_error);
  std::atomic<int64_t> sum{0};
  ParallelFor(1000, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) sum += i;
  });
  EXPECT_EQ(sum.load(), 999 * 1000 / 2);
}

TEST(ParallelForTest, NestedCallsRunInline) {
  SetNumThreads(4);
  std::vector<std::atomic<int>> seen(64 * 64);
  ParallelFor(64, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int inner_chunks = 0;
      ParallelFor(64, 1, [&](int64_t b, int64_t e) {
        ++inner_chunks;
        for (int64_t j = b; j < e; ++j) ++seen[i * 64 + j];
      });
      EXPECT_EQ(inner_chunks, 1);
    }
  });
  for (const auto& s : seen) ASSERT_EQ(s.load(), 1);
}

}  // namespace
}  // namespace deferred
