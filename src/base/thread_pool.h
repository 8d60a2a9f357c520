// A persistent thread pool for the forward pass: workers wait between jobs (spin briefly, then
// sleep), a dispatch allocates nothing, and the calling thread takes part in every job.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace foundry {

// A non-owning, non-allocating view of a callable (like the proposed std::function_ref).
// The referenced callable must outlive every call through the view; bind it to a named lambda or
// pass the lambda directly as an argument (a temporary lives until the end of the full call).
template <typename Sig>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
           !std::is_function_v<std::remove_reference_t<F>> && std::is_invocable_r_v<R, F&, Args...>)
      FunctionRef(F&& f)
  noexcept  // NOLINT: implicit by design
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_(&Invoke<std::remove_reference_t<F>>) {}

  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  template <typename F>
  static R Invoke(void* obj, Args... args) {
    return (*static_cast<F*>(obj))(std::forward<Args>(args)...);
  }

  void* obj_;
  R (*call_)(void*, Args...);
};

class ThreadPool {
 public:
  // n_threads counts the calling thread: n_threads - 1 workers are started. n_threads <= 1 runs
  // every job inline on the caller. spin_us: how long an idle worker (and the caller waiting for
  // workers) spins before sleeping; 0 sleeps at once.
  explicit ThreadPool(int n_threads, int spin_us = 200);
  ~ThreadPool();  // joins the workers; must not be called while a Run is in progress

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index, n_threads) once on each of the size() threads (index 0 is the caller)
  // and returns when all have finished. Calls from several threads are serialized. A Run from
  // inside a job of the same pool runs inline as fn(0, 1) instead of deadlocking.
  void Run(FunctionRef<void(int thread_index, int n_threads)> fn);

  // Calls fn(begin, end) over disjoint ranges covering [0, n) exactly once, in parallel.
  // Each range has at least `grain` indices (except possibly the last); one thread may get several
  // ranges. n <= grain, or size() == 1, runs fn(0, n) inline. n <= 0 does nothing.
  void ParallelFor(int64_t n, int64_t grain, FunctionRef<void(int64_t begin, int64_t end)> fn);

 private:
  void WorkerLoop(int thread_index);
  // Spins up to spin_us_ then sleeps until epoch_ differs from `seen`; returns the new epoch.
  uint32_t WaitForJob(uint32_t seen);
  void WaitForWorkers();

  int n_threads_;
  int spin_us_;
  std::vector<std::thread> workers_;
  std::mutex run_mu_;  // serializes concurrent callers of Run

  // Job hand-off. job_ is written by the caller before the release-store of epoch_ and read by
  // workers after their acquire-load of it.
  alignas(64) std::atomic<uint32_t> epoch_{0};
  std::atomic<bool> stop_{false};
  const FunctionRef<void(int, int)>* job_ = nullptr;

  alignas(64) std::atomic<int> pending_{0};  // workers still running the current job

  // Sleeping: counters let the fast path skip the mutex and notify when nobody sleeps.
  alignas(64) std::mutex sleep_mu_;
  std::condition_variable job_cv_;   // workers wait here for a new epoch
  std::condition_variable done_cv_;  // the caller waits here for pending_ == 0
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
};

}  // namespace foundry
