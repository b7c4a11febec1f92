#ifndef DEFERRED_REPLAY_KERNELS_PARALLEL_H_
#define DEFERRED_REPLAY_KERNELS_PARALLEL_H_

#include <cstdint>

#include "absl/functional/function_ref.h"

namespace deferred {

// Threads used by ParallelFor: all cores unless SetNumThreads was called.
int NumThreads();
// Sets the number of threads (at least 1). Kernel results never depend on it; tests use it
// to prove that.
void SetNumThreads(int threads);

// Splits [0, n) into at most NumThreads() contiguous ranges of at least `grain` items and
// calls fn(begin, end) on each, in parallel; returns when all are done. Runs inline when
// n <= grain or when called from inside another ParallelFor. The first exception thrown by
// `fn` is rethrown to the caller. `fn` is taken by reference, never copied: an op on a few
// elements runs it inline without allocating.
void ParallelFor(int64_t n, int64_t grain, absl::FunctionRef<void(int64_t, int64_t)> fn);

}  // namespace deferred

#endif  // DEFERRED_REPLAY_KERNELS_PARALLEL_H_
