#ifndef DEFERRED_BENCHMARKS_PEAK_RSS_H_
#define DEFERRED_BENCHMARKS_PEAK_RSS_H_

#include <sys/resource.h>

#include <cstdint>

namespace deferred {

// The most memory this process has had resident so far, in bytes (getrusage's ru_maxrss).
inline int64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace deferred

#endif  // DEFERRED_BENCHMARKS_PEAK_RSS_H_
