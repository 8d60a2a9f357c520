#include "base/thread_pool.h"

#include <chrono>

namespace foundry {
namespace {

// The pool whose job the current thread is running (workers: always their pool). Lets a nested
// Run execute inline instead of deadlocking.
thread_local const ThreadPool* tls_current_pool = nullptr;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

// Spins while pred() is false, for at most spin_us microseconds. Returns pred()'s final value.
template <typename Pred>
bool SpinUntil(int spin_us, Pred pred) {
  if (pred()) return true;
  if (spin_us <= 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us);
  for (int round = 0;; ++round) {
    for (int i = 0; i < 32; ++i) {
      CpuRelax();
      if (pred()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    // After a short pure spin, yield between rounds: when threads outnumber free cores, the
    // thread we wait for may need this core to make progress.
    if (round >= 8) std::this_thread::yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads, int spin_us)
    : n_threads_(std::max(1, n_threads)), spin_us_(std::max(0, spin_us)) {
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  if (workers_.empty()) return;
  stop_.store(true, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_seq_cst);  // publishes stop_
  { std::lock_guard<std::mutex> lock(sleep_mu_); }
  job_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

uint32_t ThreadPool::WaitForJob(uint32_t seen) {
  uint32_t e = seen;
  if (SpinUntil(spin_us_, [&] { return (e = epoch_.load(std::memory_order_acquire)) != seen; })) {
    return e;
  }
  std::unique_lock<std::mutex> lock(sleep_mu_);
  // seq_cst pairs with the caller's epoch increment and load of sleeping_workers_: either the
  // caller sees this worker asleep (and notifies under the mutex) or this worker sees the epoch.
  sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
  job_cv_.wait(lock, [&] { return (e = epoch_.load(std::memory_order_seq_cst)) != seen; });
  sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
  return e;
}

void ThreadPool::WorkerLoop(int thread_index) {
  tls_current_pool = this;
  uint32_t seen = 0;
  for (;;) {
    seen = WaitForJob(seen);
    if (stop_.load(std::memory_order_relaxed)) return;
    (*job_)(thread_index, n_threads_);
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
      // Last one out. Pairs with WaitForWorkers: either the caller sees pending_ == 0 or we see
      // it asleep and wake it under the mutex.
      if (caller_sleeping_.load(std::memory_order_seq_cst)) {
        { std::lock_guard<std::mutex> lock(sleep_mu_); }
        done_cv_.notify_one();
      }
    }
  }
}

void ThreadPool::WaitForWorkers() {
  if (SpinUntil(spin_us_, [&] { return pending_.load(std::memory_order_acquire) == 0; })) return;
  std::unique_lock<std::mutex> lock(sleep_mu_);
  caller_sleeping_.store(true, std::memory_order_seq_cst);
  done_cv_.wait(lock, [&] { return pending_.load(std::memory_order_seq_cst) == 0; });
  caller_sleeping_.store(false, std::memory_order_relaxed);
}

void ThreadPool::Run(FunctionRef<void(int thread_index, int n_threads)> fn) {
  if (n_threads_ == 1 || tls_current_pool == this) {
    fn(0, 1);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mu_);
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_seq_cst);  // release: publishes job_ and pending_
  if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lock(sleep_mu_); }
    job_cv_.notify_all();
  }
  const ThreadPool* const outer = tls_current_pool;  // the caller may be another pool's worker
  tls_current_pool = this;
  fn(0, n_threads_);
  tls_current_pool = outer;
  WaitForWorkers();
  job_ = nullptr;
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain,
                             FunctionRef<void(int64_t begin, int64_t end)> fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n_threads_ == 1 || n <= grain || tls_current_pool == this) {
    fn(0, n);
    return;
  }
  // About four chunks per thread balances uneven work; never below the grain.
  const int64_t target_chunks = int64_t{n_threads_} * 4;
  const int64_t chunk = std::max(grain, (n + target_chunks - 1) / target_chunks);
  const int64_t n_chunks = (n + chunk - 1) / chunk;
  if (n_chunks <= n_threads_) {
    Run([&](int t, int) {
      if (t < n_chunks) fn(t * chunk, std::min(n, (t + 1) * chunk));
    });
    return;
  }
  std::atomic<int64_t> next{0};
  Run([&](int, int) {
    for (;;) {
      const int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= n_chunks) return;
      fn(c * chunk, std::min(n, (c + 1) * chunk));
    }
  });
}

}  // namespace foundry
