// membw: the machine's streaming-read memory bandwidth, the roof a memory-bound decode can
// reach. Like decoding, it splits one large buffer (far larger than the caches) into one
// contiguous slice per thread and reads every byte once per pass; the best of several passes
// counts. Prints one line per thread count, or JSON with --json.
//
//   build/bin/membw [--mib 1024] [--threads 1,2] [--passes 10] [--json]
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// Sums 64-bit words with four independent accumulators so the loads, not the adds, set the
// pace; the result is returned so the reads cannot be optimized away.
uint64_t ReadSlice(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

// Best GB/s over `passes` passes of `threads` threads each reading its slice of `buf`.
double Measure(const uint64_t* buf, size_t words, int threads, int passes) {
  std::barrier sync(threads + 1);
  std::atomic<uint64_t> sink{0};
  std::vector<std::thread> pool;
  const size_t per = words / static_cast<size_t>(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const uint64_t* slice = buf + static_cast<size_t>(t) * per;
      for (int p = 0; p < passes; ++p) {
        sync.arrive_and_wait();  // start together
        sink += ReadSlice(slice, per);
        sync.arrive_and_wait();  // done
      }
    });
  }
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    sync.arrive_and_wait();
    const auto t0 = std::chrono::steady_clock::now();
    sync.arrive_and_wait();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(per * static_cast<size_t>(threads) * 8) / s / 1e9);
  }
  for (auto& th : pool) th.join();
  if (sink.load() == 42) std::fprintf(stderr, " ");  // keeps the sums alive
  return best;
}

std::vector<int> ParseThreads(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const int v = std::atoi(item.c_str());
    if (v > 0) out.push_back(v);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 1024;
  int passes = 10;
  bool json = false;
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "membw: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--mib") {
      mib = static_cast<size_t>(std::atoll(value().c_str()));
    } else if (a == "--passes") {
      passes = std::atoi(value().c_str());
    } else if (a == "--threads") {
      threads = ParseThreads(value());
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr, "usage: membw [--mib N] [--threads 1,2] [--passes N] [--json]\n");
      return 2;
    }
  }
  if (mib < 1 || passes < 1) {
    std::fprintf(stderr, "membw: --mib and --passes must be positive\n");
    return 2;
  }
  if (threads.empty()) {
    const int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int t = 1; t <= n; t *= 2) threads.push_back(t);
    if (threads.back() != n) threads.push_back(n);
  }
  const size_t words = mib * 1024 * 1024 / 8;
  std::unique_ptr<uint64_t[]> buf(new uint64_t[words]);
  for (size_t i = 0; i < words; ++i) buf[i] = i;  // touch every page: real memory, not zero pages
  if (json) std::printf("[");
  for (size_t k = 0; k < threads.size(); ++k) {
    const double gbs = Measure(buf.get(), words, threads[k], passes);
    if (json) {
      std::printf("%s{\"threads\": %d, \"mib\": %zu, \"passes\": %d, \"read_gb_per_s\": %.3f}",
                  k ? ", " : "", threads[k], mib, passes, gbs);
    } else {
      std::printf("threads %d: %.2f GB/s read (%zu MiB buffer, best of %d passes)\n", threads[k],
                  gbs, mib, passes);
    }
  }
  if (json) std::printf("]\n");
  return 0;
}
