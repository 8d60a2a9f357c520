#include "base/thread_pool.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

namespace foundry {
namespace {

TEST(FunctionRefTest, CallsLambdaWithState) {
  int total = 0;
  auto add = [&total](int x) { total += x; };
  FunctionRef<void(int)> ref(add);
  ref(3);
  ref(4);
  EXPECT_EQ(total, 7);
  auto mul_fn = [](int a, int b) { return a * b; };
  FunctionRef<int(int, int)> mul = mul_fn;
  EXPECT_EQ(mul(6, 7), 42);
}

TEST(ThreadPoolTest, SizeCountsCaller) {
  EXPECT_EQ(ThreadPool(1).size(), 1);
  EXPECT_EQ(ThreadPool(3).size(), 3);
  EXPECT_EQ(ThreadPool(0).size(), 1);
  EXPECT_EQ(ThreadPool(-5).size(), 1);
}

TEST(ThreadPoolTest, RunCallsEveryThreadIndexOnce) {
  for (int n : {1, 2, 3, 4, 8}) {
    ThreadPool pool(n);
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    std::atomic<int> bad_n{0};
    pool.Run([&](int t, int nt) {
      if (nt != n) bad_n.fetch_add(1);
      hits[static_cast<size_t>(t)].fetch_add(1);
    });
    EXPECT_EQ(bad_n.load(), 0) << n;
    for (int t = 0; t < n; ++t) EXPECT_EQ(hits[static_cast<size_t>(t)].load(), 1) << n << " " << t;
  }
}

TEST(ThreadPoolTest, SingleThreadRunsInlineOnCaller) {
  ThreadPool pool(1);
  const std::thread::id me = std::this_thread::get_id();
  bool same = false;
  int calls = 0;
  pool.Run([&](int t, int nt) {
    same = std::this_thread::get_id() == me && t == 0 && nt == 1;
    ++calls;
  });
  EXPECT_TRUE(same);
  EXPECT_EQ(calls, 1);
  std::vector<int64_t> ranges;
  pool.ParallelFor(100, 1, [&](int64_t b, int64_t e) {
    EXPECT_EQ(std::this_thread::get_id(), me);
    ranges.push_back(b);
    ranges.push_back(e);
  });
  EXPECT_EQ(ranges, (std::vector<int64_t>{0, 100}));
}

TEST(ThreadPoolTest, CallerTakesPartAsThreadZero) {
  ThreadPool pool(4);
  const std::thread::id me = std::this_thread::get_id();
  std::atomic<int> zero_on_caller{0};
  std::atomic<int> zero_elsewhere{0};
  for (int i = 0; i < 50; ++i) {
    pool.Run([&](int t, int) {
      const bool on_caller = std::this_thread::get_id() == me;
      if (t == 0 && on_caller) zero_on_caller.fetch_add(1);
      if (t == 0 && !on_caller) zero_elsewhere.fetch_add(1);
    });
  }
  EXPECT_EQ(zero_on_caller.load(), 50);
  EXPECT_EQ(zero_elsewhere.load(), 0);
}

// Every index in [0, n) is visited exactly once, ranges respect the grain.
void CheckParallelFor(ThreadPool& pool, int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> seen(static_cast<size_t>(std::max<int64_t>(n, 0)));
  std::atomic<int> bad_range{0};
  std::atomic<int> small_ranges{0};
  pool.ParallelFor(n, grain, [&](int64_t b, int64_t e) {
    if (b < 0 || e > n || b >= e) {
      bad_range.fetch_add(1);
      return;
    }
    if (e - b < grain && e != n) small_ranges.fetch_add(1);
    for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)].fetch_add(1);
  });
  EXPECT_EQ(bad_range.load(), 0) << "n=" << n << " grain=" << grain;
  EXPECT_EQ(small_ranges.load(), 0) << "n=" << n << " grain=" << grain;
  int64_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1;
  EXPECT_EQ(wrong, 0) << "n=" << n << " grain=" << grain;
}

// More threads than cores (all confined to one CPU): workers often are not scheduled when a job
// is published, and the caller takes their indices. Every index still runs exactly once, never
// two at a time with the same index, and results are visible after Run.
TEST(ThreadPoolTest, OversubscribedPoolStaysCorrect) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &saved)) {
      CPU_SET(c, &one);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);  // workers inherit it
  {
    for (int spin : {0, 50}) {
      ThreadPool pool(8, spin);
      const std::thread::id me = std::this_thread::get_id();
      std::vector<int> out(8, 0);
      std::vector<std::atomic<int>> running(8);
      std::atomic<int> overlap{0};
      int on_caller = 0;  // indices > 0 the caller ran (written by the caller only)
      for (int round = 1; round <= 3000; ++round) {
        pool.Run([&](int t, int nt) {
          const size_t i = static_cast<size_t>(t);
          if (running[i].fetch_add(1) != 0) overlap.fetch_add(1);
          if (t > 0 && std::this_thread::get_id() == me) ++on_caller;
          out[i] = round * 10 + t + (nt - 8);
          running[i].fetch_sub(1);
        });
        for (int t = 0; t < 8; ++t) ASSERT_EQ(out[static_cast<size_t>(t)], round * 10 + t);
      }
      EXPECT_EQ(overlap.load(), 0);
      RecordProperty("indices_run_by_caller_spin" + std::to_string(spin), on_caller);
      CheckParallelFor(pool, 10000, 7);
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

TEST(ThreadPoolTest, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 4, 7}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 3, 5, 7, 16, 100, 1000, 4097, 100000}) {
      for (int64_t grain : {0, 1, 3, 64, 1000, 200000}) CheckParallelFor(pool, n, grain);
    }
  }
}

TEST(ThreadPoolTest, ParallelForNegativeNDoesNothing) {
  ThreadPool pool(3);
  int calls = 0;
  pool.ParallelFor(-4, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ThreadPoolTest, ManySmallConsecutiveJobs) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  constexpr int kJobs = 100000;
  for (int i = 0; i < kJobs; ++i) {
    pool.Run([&](int t, int) { sum.fetch_add(t + 1, std::memory_order_relaxed); });
  }
  EXPECT_EQ(sum.load(), int64_t{kJobs} * (1 + 2 + 3));
}

TEST(ThreadPoolTest, JobsAfterWorkersFellAsleep) {
  // spin_us = 0: workers sleep at once, so every dispatch goes through the wake-up path.
  ThreadPool pool(4, /*spin_us=*/0);
  int64_t expected = 0;
  std::vector<int64_t> data(1000, 0);
  for (int round = 0; round < 2000; ++round) {
    pool.ParallelFor(static_cast<int64_t>(data.size()), 10, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) data[static_cast<size_t>(i)] += i;
    });
    if (round % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (size_t i = 0; i < data.size(); ++i) expected += static_cast<int64_t>(i) * 2000;
  int64_t got = 0;
  for (int64_t v : data) got += v;
  EXPECT_EQ(got, expected);
}

TEST(ThreadPoolTest, WritesFromJobsAreVisibleAfterRun) {
  ThreadPool pool(4);
  std::vector<int> out(4, 0);  // plain ints: Run must order them before it returns
  for (int round = 1; round <= 1000; ++round) {
    pool.Run([&](int t, int) { out[static_cast<size_t>(t)] = round * 10 + t; });
    for (int t = 0; t < 4; ++t) ASSERT_EQ(out[static_cast<size_t>(t)], round * 10 + t);
  }
}

TEST(ThreadPoolTest, NestedRunExecutesInline) {
  ThreadPool pool(3);
  std::atomic<int> inner_calls{0};
  std::atomic<int> bad{0};
  pool.Run([&](int, int) {
    pool.Run([&](int t, int nt) {
      if (t != 0 || nt != 1) bad.fetch_add(1);
      inner_calls.fetch_add(1);
    });
    pool.ParallelFor(10, 1, [&](int64_t b, int64_t e) {
      if (b != 0 || e != 10) bad.fetch_add(1);
    });
  });
  EXPECT_EQ(inner_calls.load(), 3);
  EXPECT_EQ(bad.load(), 0);
}

TEST(ThreadPoolTest, ConcurrentCallersAreSerialized) {
  ThreadPool pool(3);
  std::atomic<int> inside{0};
  std::atomic<int> overlap{0};
  std::atomic<int64_t> total{0};
  auto caller = [&] {
    for (int i = 0; i < 2000; ++i) {
      pool.Run([&](int, int) {
        total.fetch_add(1);
        if (inside.fetch_add(1) >= 3) overlap.fetch_add(1);
        std::this_thread::yield();
        inside.fetch_sub(1);
      });
    }
  };
  std::thread a(caller);
  std::thread b(caller);
  a.join();
  b.join();
  EXPECT_EQ(overlap.load(), 0);
  EXPECT_EQ(total.load(), 2 * 2000 * 3);
}

TEST(ThreadPoolTest, DestroyWhileIdle) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(4, i % 2 == 0 ? 0 : 200);
    if (i % 3 == 0) pool.Run([](int, int) {});
    if (i % 5 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  SUCCEED();
}

TEST(ThreadPoolTest, TwoPoolsSideBySide) {
  ThreadPool a(2);
  ThreadPool b(3);
  std::atomic<int> count{0};
  a.Run([&](int, int) { b.Run([&](int, int) { count.fetch_add(1); }); });
  // Thread 0 of a (the caller) dispatches on b: 3 calls; the worker of a also calls b.Run,
  // serialized behind it: 3 more.
  EXPECT_EQ(count.load(), 6);
}

}  // namespace
}  // namespace foundry
