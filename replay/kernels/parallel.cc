#include "replay/kernels/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace deferred {
namespace {

thread_local bool inside_parallel_region = false;

// A fixed set of worker threads that run one ParallelFor's chunks at a time.
class ThreadPool {
 public:
  explicit ThreadPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  }

  int workers() const { return static_cast<int>(threads_.size()); }

  // Runs task(i) for i in [0, tasks) on the workers and the calling thread.
  void Run(int tasks, const std::function<void(int)>& task) {
    std::unique_lock<std::mutex> run_lock(run_mutex_);  // one ParallelFor at a time
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      task_count_ = tasks;
      next_task_ = 0;
      unfinished_ = tasks;
      ++generation_;
    }
    wake_.notify_all();
    RunTasks();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return unfinished_ == 0; });
    task_ = nullptr;
  }

 private:
  void WorkerLoop() {
    inside_parallel_region = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
      }
      RunTasks();
    }
  }

  void RunTasks() {
    for (;;) {
      const std::function<void(int)>* task;
      int index;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (task_ == nullptr || next_task_ >= task_count_) return;
        task = task_;
        index = next_task_++;
      }
      (*task)(index);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--unfinished_ == 0) done_.notify_all();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int)>* task_ = nullptr;
  int task_count_ = 0;
  int next_task_ = 0;
  int unfinished_ = 0;
  uint64_t generation_ = 0;
};

std::atomic<int> configured_threads{0};

ThreadPool& Pool() {
  // Workers are detached from destruction: they block forever once main returns.
  static ThreadPool* pool = [] {
    const int cores = std::max(1u, std::thread::hardware_concurrency());
    auto* p = new ThreadPool(cores - 1);
    return p;
  }();
  return *pool;
}

}  // namespace

int NumThreads() {
  const int configured = configured_threads.load();
  if (configured > 0) return configured;
  return Pool().workers() + 1;
}

void SetNumThreads(int threads) { configured_threads.store(std::max(1, threads)); }

void ParallelFor(int64_t n, int64_t grain, absl::FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = std::min<int64_t>(NumThreads(), n / grain + (n % grain != 0 ? 1 : 0));
  if (chunks <= 1 || inside_parallel_region) {
    fn(0, n);
    return;
  }
  std::mutex error_mutex;
  std::exception_ptr error;
  const std::function<void(int)> task = [&](int chunk) {
    // In 128 bits: n * chunks may not fit in int64.
    const int64_t begin = static_cast<int64_t>(static_cast<__int128>(n) * chunk / chunks);
    const int64_t end = static_cast<int64_t>(static_cast<__int128>(n) * (chunk + 1) / chunks);
    const bool was_inside = inside_parallel_region;
    inside_parallel_region = true;
    try {
      fn(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
    inside_parallel_region = was_inside;
  };
  Pool().Run(static_cast<int>(chunks), task);
  if (error) std::rethrow_exception(error);
}

}  // namespace deferred
