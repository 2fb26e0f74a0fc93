// A persistent thread pool. Work is split into a fixed list of tasks whose boundaries never depend on
// the number of threads, so every result is the same for any MILESTONES_NUM_THREADS: a thread only
// decides which tasks it runs, never how a sum is split.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ms {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  int size() const { return threads_; }
  // Runs fn(task) for task in [0, tasks); returns when all have finished. Tasks are handed out
  // dynamically, which is safe because each task writes only its own outputs.
  void run(int64_t tasks, const std::function<void(int64_t)>& fn);

 private:
  void worker();
  static void drain(const std::function<void(int64_t)>* job, int64_t tasks, std::atomic<int64_t>& next);
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t tasks_ = 0;
  std::atomic<int64_t> next_{0};
  int pending_ = 0;  // helpers that have not finished the current job
  uint64_t generation_ = 0;
  bool stop_ = false;
};

// The process-wide pool, created on first use (size: MILESTONES_NUM_THREADS, else the core count).
ThreadPool& pool();

// Runs fn(begin, end) over [0, n) in chunks of `grain` (the last may be shorter). Chunks are fixed by
// n and grain alone. Small jobs run inline on the calling thread.
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace ms
