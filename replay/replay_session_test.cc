#include "replay/replay_session.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "fake_tensor/dispatcher.h"
#include "fake_tensor/ops/elementwise.h"
#include "fake_tensor/ops/factories.h"
#include "fake_tensor/recorder.h"
#include "gtest/gtest.h"
#include "replay/trace.h"

// Every heap allocation of this test binary is counted, so that a test can measure the
// work a replay does in bytes allocated: deterministic, unlike time.
namespace {
std::atomic<int64_t> heap_bytes_allocated{0};
}  // namespace

void* operator new(size_t size) {
  heap_bytes_allocated.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace deferred {
namespace {

template <typename Fn>
int64_t HeapBytesAllocatedDuring(Fn&& fn) {
  const int64_t before = heap_bytes_allocated.load();
  fn();
  return heap_bytes_allocated.load() - before;
}

// Heap bytes allocated to replay a 4-element region of a storage that `versions` in-place
// ops wrote after its factory.
int64_t ReplayBytesForVersions(int versions) {
  auto trace = std::make_shared<Trace>();
  Tensor w;
  {
    RecordingMode mode(trace);
    ScopedDispatchMode scope(&mode);
    w = zeros({16});
    for (int i = 0; i < versions; ++i) add_(w, 1.0);
  }
  const StorageVersion latest = trace->Latest(*w.storage());
  EXPECT_EQ(latest.version, versions);
  RegionBuffer result;
  const int64_t bytes = HeapBytesAllocatedDuring([&] {
    ReplaySession session(trace, Device::CPU());
    result = session.Run({ReplayTarget{latest, Region{{4}, {8}}}})[0];
  });
  const Tensor values = MakeTensor(result.storage, TensorLayout{{4}, {1}, 0}, DType::kFloat32);
  EXPECT_EQ(values.to_vector<float>(), std::vector<float>(4, static_cast<float>(versions)));
  return bytes;
}

// Replaying a chain of versions costs the same per version however long the chain is:
// 8x the versions, at most 8x (plus slack) the bytes. Looking a storage up used to copy
// the list of its versions, which made the cost grow with the square of their number.
TEST(ReplaySessionTest, ReplayWorkIsLinearInTheNumberOfVersions) {
  const int64_t short_chain = ReplayBytesForVersions(2000);
  const int64_t long_chain = ReplayBytesForVersions(16000);
  EXPECT_LE(long_chain, 10 * short_chain)
      << "2000 versions: " << short_chain << " bytes; 16000 versions: " << long_chain;
}

}  // namespace
}  // namespace deferred
