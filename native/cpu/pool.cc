#include "pool.h"

#include <cstdlib>

namespace ms {

ThreadPool::ThreadPool(int threads) : threads_(threads < 1 ? 1 : threads) {
  // The calling thread takes part in every job, so it needs threads_ - 1 helpers.
  for (int i = 1; i < threads_; i++) workers_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::drain(const std::function<void(int64_t)>* job, int64_t tasks, std::atomic<int64_t>& next) {
  for (;;) {
    int64_t t = next.fetch_add(1);
    if (t >= tasks) return;
    (*job)(t);
  }
}

void ThreadPool::worker() {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int64_t)>* job;
    int64_t tasks;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      tasks = tasks_;
    }
    drain(job, tasks, next_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_all();
    }
  }
}

void ThreadPool::run(int64_t tasks, const std::function<void(int64_t)>& fn) {
  if (tasks <= 0) return;
  if (threads_ == 1 || tasks == 1) {
    for (int64_t t = 0; t < tasks; t++) fn(t);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    tasks_ = tasks;
    next_.store(0);
    pending_ = threads_ - 1;
    generation_++;
  }
  wake_.notify_all();
  drain(&fn, tasks, next_);
  // Every helper must finish with this job before the next one may reset the shared counter.
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
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

}  // namespace ms
