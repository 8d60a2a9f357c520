#include "base/thread_pool.h"

#include <chrono>

namespace foundry {
namespace {

constexpr uint64_t kIndexMask = 0xffffffffu;

inline uint32_t EpochOf(uint64_t claim) { return static_cast<uint32_t>(claim >> 32); }

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
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  for (const auto& t : workers_) worker_ids_.push_back(t.get_id());
}

ThreadPool::~ThreadPool() {
  if (workers_.empty()) return;
  stop_.store(true, std::memory_order_relaxed);
  // A new epoch with nothing to claim; publishes stop_.
  claim_.store((uint64_t{epoch_ + 1} << 32) | static_cast<uint64_t>(n_threads_),
               std::memory_order_seq_cst);
  { std::lock_guard<std::mutex> lock(sleep_mu_); }
  job_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::InsideJob() const {
  const std::thread::id me = std::this_thread::get_id();
  if (run_owner_.load(std::memory_order_relaxed) == me) return true;
  return std::find(worker_ids_.begin(), worker_ids_.end(), me) != worker_ids_.end();
}

uint32_t ThreadPool::WaitForJob(uint32_t seen) {
  uint32_t e = seen;
  if (SpinUntil(spin_us_,
                [&] { return (e = EpochOf(claim_.load(std::memory_order_acquire))) != seen; })) {
    return e;
  }
  std::unique_lock<std::mutex> lock(sleep_mu_);
  // seq_cst pairs with the caller's store of claim_ and load of sleeping_workers_: either the
  // caller sees this worker asleep (and notifies under the mutex) or this worker sees the epoch.
  sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
  job_cv_.wait(lock, [&] { return (e = EpochOf(claim_.load(std::memory_order_seq_cst))) != seen; });
  sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
  return e;
}

void ThreadPool::ClaimAndRun(uint32_t epoch) {
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (EpochOf(c) != epoch || (c & kIndexMask) >= static_cast<uint64_t>(n_threads_)) return;
    // Acquire on success: job_ of this epoch is visible. The epoch cannot move on while this
    // index is unfinished, so job_ stays valid until done_ is incremented.
    if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acquire,
                                      std::memory_order_acquire)) {
      continue;
    }
    (*job_)(static_cast<int>(c & kIndexMask), n_threads_);
    if (done_.fetch_add(1, std::memory_order_seq_cst) + 1 == n_threads_ - 1) {
      // Last one out. Pairs with WaitForWorkers: either the caller sees done_ complete or we
      // see it asleep and wake it under the mutex.
      if (caller_sleeping_.load(std::memory_order_seq_cst)) {
        { std::lock_guard<std::mutex> lock(sleep_mu_); }
        done_cv_.notify_one();
      }
    }
    c = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::WorkerLoop() {
  uint32_t seen = 0;
  for (;;) {
    seen = WaitForJob(seen);
    if (stop_.load(std::memory_order_relaxed)) return;
    ClaimAndRun(seen);  // finds nothing when the caller already took every index
  }
}

void ThreadPool::WaitForWorkers() {
  const int want = n_threads_ - 1;
  if (SpinUntil(spin_us_, [&] { return done_.load(std::memory_order_acquire) == want; })) return;
  std::unique_lock<std::mutex> lock(sleep_mu_);
  caller_sleeping_.store(true, std::memory_order_seq_cst);
  done_cv_.wait(lock, [&] { return done_.load(std::memory_order_seq_cst) == want; });
  caller_sleeping_.store(false, std::memory_order_relaxed);
}

void ThreadPool::Run(FunctionRef<void(int thread_index, int n_threads)> fn) {
  if (n_threads_ == 1 || InsideJob()) {
    fn(0, 1);
    return;
  }
  std::lock_guard<std::mutex> run_lock(run_mu_);
  run_owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  job_ = &fn;
  done_.store(0, std::memory_order_relaxed);
  const uint32_t epoch = ++epoch_;
  // Index 0 is the caller's. seq_cst: publishes job_ and done_, and pairs with WaitForJob.
  claim_.store((uint64_t{epoch} << 32) | 1, std::memory_order_seq_cst);
  if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lock(sleep_mu_); }
    job_cv_.notify_all();
  }
  fn(0, n_threads_);
  ClaimAndRun(epoch);  // the indices no worker has started yet
  WaitForWorkers();
  job_ = nullptr;
  run_owner_.store(std::thread::id(), std::memory_order_relaxed);
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain,
                             FunctionRef<void(int64_t begin, int64_t end)> fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (n_threads_ == 1 || n <= grain || InsideJob()) {
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
