#include "pool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace ms {

namespace {

// How long an idle helper keeps polling for the next job before it sleeps. Kernels of one model
// step follow each other within tens to a few hundred microseconds, and waking a sleeping thread
// costs 20-25 us here (a futex round trip plus the scheduler): measured, a 65k-element job took
// 16 us with helpers spinning and 35 us with helpers asleep. A short spin makes back-to-back jobs
// cheap while an idle process still sleeps.
constexpr auto kSpin = std::chrono::microseconds(200);

inline uint32_t genOf(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
inline int64_t taskOf(uint64_t v) { return static_cast<int64_t>(v & 0xffffffffu); }

// True on pool helpers and on a thread inside run(): a job started from inside a task runs inline
// (the pool runs one job at a time).
thread_local bool insidePool = false;

}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  // The calling thread takes part in every job, so it needs threads_ - 1 helpers.
  for (int i = 1; i < threads_; i++) workers_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

int64_t ThreadPool::drain(uint32_t gen) {
  const Job& job = jobs_[gen & 1];
  const std::function<void(int64_t)>* fn = job.fn.load(std::memory_order_acquire);
  const int64_t tasks = job.tasks.load(std::memory_order_acquire);
  int64_t ran = 0;
  uint64_t v = next_.load(std::memory_order_acquire);
  for (;;) {
    // A claim succeeds only while the counter still carries this job's generation, so fn and
    // tasks (read from this generation's slot) belong to the job whose task we claim.
    if (genOf(v) != gen || taskOf(v) >= tasks) return ran;
    if (!next_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    (*fn)(taskOf(v));
    done_.fetch_add(1, std::memory_order_acq_rel);
    ran++;
    v = next_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker() {
  insidePool = true;
  uint32_t seen = genOf(next_.load());
  for (;;) {
    auto until = std::chrono::steady_clock::now() + kSpin;
    uint32_t gen = seen;
    for (int spins = 0;; spins++) {
      gen = genOf(next_.load(std::memory_order_acquire));
      if (gen != seen || stop_.load(std::memory_order_relaxed)) break;
      _mm_pause();
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() > until) {
        // Sleep. Announce it first; run() publishes the job first and reads sleepers_ second
        // (both sequentially consistent), so one of us sees the other and no wake-up is lost.
        std::unique_lock<std::mutex> lock(mu_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return stop_.load() || genOf(next_.load()) != seen; });
        sleepers_.fetch_sub(1);
        until = std::chrono::steady_clock::now() + kSpin;
      }
    }
    if (stop_.load()) return;
    seen = gen;
    drain(gen);
  }
}

void ThreadPool::run(int64_t tasks, const std::function<void(int64_t)>& fn) {
  if (tasks <= 0) return;
  // Inline: one thread or one task, a job started from inside a task, or a second thread
  // calling while the pool is busy (the pool runs one job at a time).
  std::unique_lock<std::mutex> owner(running_, std::defer_lock);
  if (threads_ == 1 || tasks == 1 || insidePool || !owner.try_lock()) {
    for (int64_t t = 0; t < tasks; t++) fn(t);
    return;
  }
  constexpr int64_t kMaxTasks = int64_t(1) << 31;  // the counter holds 32 bits of task index
  if (tasks > kMaxTasks) {
    owner.unlock();
    for (int64_t t0 = 0; t0 < tasks; t0 += kMaxTasks)
      run(std::min(kMaxTasks, tasks - t0), [&](int64_t t) { fn(t0 + t); });
    return;
  }
  const uint32_t gen = genOf(next_.load()) + 1;
  Job& job = jobs_[gen & 1];
  job.fn.store(&fn, std::memory_order_release);
  job.tasks.store(tasks, std::memory_order_release);
  done_.store(0);
  next_.store(static_cast<uint64_t>(gen) << 32);  // publishes the job (sequentially consistent)
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  insidePool = true;
  drain(gen);
  insidePool = false;
  // Every task is claimed; wait for the ones helpers are still running. They are short (a
  // fraction of the job), so polling costs less than sleeping.
  for (int spins = 0; done_.load(std::memory_order_acquire) < tasks; spins++) {
    if (spins < 4096)
      _mm_pause();
    else
      std::this_thread::yield();
  }
}

static int defaultThreads() {
  if (const char* s = std::getenv("MILESTONES_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ThreadPool& pool() {
  static ThreadPool p(defaultThreads());
  return p;
}

void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t chunks = (n + grain - 1) / grain;
  if (chunks == 1) {
    fn(0, n);
    return;
  }
  pool().run(chunks, [&](int64_t c) {
    int64_t b = c * grain;
    int64_t e = b + grain < n ? b + grain : n;
    fn(b, e);
  });
}

void parallelFor(int64_t n, int64_t grain, int64_t costPerItem, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  const double cost = static_cast<double>(n) * static_cast<double>(costPerItem < 1 ? 1 : costPerItem);
  if (cost >= static_cast<double>(kInlineCost)) {
    parallelFor(n, grain, fn);
    return;
  }
  for (int64_t b = 0; b < n; b += grain) fn(b, b + grain < n ? b + grain : n);
}

}  // namespace ms
