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
  // dynamically, which is safe because each task writes only its own outputs. The calling thread
  // works too, and never waits for a helper that is still waking up: it waits only for tasks that
  // a helper has already claimed.
  void run(int64_t tasks, const std::function<void(int64_t)>& fn);

 private:
  // One published job. Two slots alternate, so a helper that read the previous job's slot late
  // can never mistake it for the current one (its claim carries the old generation and fails).
  struct Job {
    std::atomic<const std::function<void(int64_t)>*> fn{nullptr};
    std::atomic<int64_t> tasks{0};
  };
  void worker();
  // Claims and runs tasks of generation `gen` until none is left; returns how many it ran.
  int64_t drain(uint32_t gen);
  int threads_;
  std::vector<std::thread> workers_;
  Job jobs_[2];
  // Generation (high 32 bits) and next unclaimed task (low 32 bits), changed together by CAS.
  std::atomic<uint64_t> next_{0};
  std::atomic<int64_t> done_{0};  // tasks of the current job that have finished
  std::mutex running_;  // held by the thread whose job the pool is running
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

// The process-wide pool, created on first use (size: MILESTONES_NUM_THREADS, else the core count).
ThreadPool& pool();

// Runs fn(begin, end) over [0, n) in chunks of `grain` (the last may be shorter). Chunks are fixed by
// n and grain alone. A job of one chunk runs inline on the calling thread.
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// The same, given the cost of one item (roughly its arithmetic operations): when the whole job
// costs less than handing it to the pool (kInlineCost), every chunk runs in order on the calling
// thread. The chunks, and so the result, are the same either way.
constexpr int64_t kInlineCost = int64_t(1) << 16;
void parallelFor(int64_t n, int64_t grain, int64_t costPerItem, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace ms
