// A persistent thread pool for the forward pass: workers wait between jobs (spin briefly, then
// sleep), a dispatch allocates nothing, the calling thread takes part in every job, and parts
// no worker has started yet are taken by the caller (so an oversubscribed machine, where a
// worker may wait milliseconds for a core, does not stall every dispatch). No global state.
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

  // Runs fn(thread_index, n_threads) once for each index in [0, size()) and returns when all
  // have finished. Index 0 runs on the caller. Any other index runs on whichever thread claims
  // it first: a worker, or the caller once its own part is done (so a worker that the OS has not
  // scheduled yet never holds the caller up). Indices may therefore run one after another on
  // one thread: fn must not wait for another index (no barriers inside a job). Calls from
  // several threads are serialized. A Run from inside a job of the same pool runs inline as
  // fn(0, 1) instead of deadlocking.
  void Run(FunctionRef<void(int thread_index, int n_threads)> fn);

  // Calls fn(begin, end) over disjoint ranges covering [0, n) exactly once, in parallel.
  // Each range has at least `grain` indices (except possibly the last); one thread may get several
  // ranges. n <= grain, or size() == 1, runs fn(0, n) inline. n <= 0 does nothing.
  void ParallelFor(int64_t n, int64_t grain, FunctionRef<void(int64_t begin, int64_t end)> fn);

 private:
  void WorkerLoop();
  // True when the calling thread is running a job of this pool (a worker, or the caller of the
  // Run in progress).
  bool InsideJob() const;
  // Spins up to spin_us_ then sleeps until the epoch differs from `seen`; returns the new epoch.
  uint32_t WaitForJob(uint32_t seen);
  // Claims and runs unclaimed indices of `epoch` until none is left.
  void ClaimAndRun(uint32_t epoch);
  void WaitForWorkers();

  int n_threads_;
  int spin_us_;
  std::vector<std::thread> workers_;
  std::vector<std::thread::id> worker_ids_;   // filled before the first Run, then read-only
  std::mutex run_mu_;                         // serializes concurrent callers of Run
  uint32_t epoch_ = 0;                        // of the last Run; written under run_mu_
  std::atomic<std::thread::id> run_owner_{};  // the caller of the Run in progress

  // Job hand-off: (epoch << 32) | next unclaimed index. job_ is written by the caller before the
  // release-store of a new epoch and read only by a thread that claimed an index of it.
  alignas(64) std::atomic<uint64_t> claim_{0};
  std::atomic<bool> stop_{false};
  const FunctionRef<void(int, int)>* job_ = nullptr;

  alignas(64) std::atomic<int> done_{0};  // indices 1.. of the current job that have finished

  // Sleeping: counters let the fast path skip the mutex and notify when nobody sleeps.
  alignas(64) std::mutex sleep_mu_;
  std::condition_variable job_cv_;   // workers wait here for a new epoch
  std::condition_variable done_cv_;  // the caller waits here for done_ == size() - 1
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
};

}  // namespace foundry
