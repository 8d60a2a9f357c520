#include "eval/service_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>

namespace foundry::eval {

double GenerationSpeed(const RequestTiming& t) {
  const double decode_s = t.latency_s - t.ttft_s;
  if (t.completion_tokens < 2 || decode_s <= 0) return 0;
  return static_cast<double>(t.completion_tokens - 1) / decode_s;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
  const auto below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, values.size() - 1);
  const double frac = rank - static_cast<double>(below);
  return values[below] + (values[above] - values[below]) * frac;
}

StatusOr<LatencyRow> MeasureLatency(const std::string& model, int runs, const SendRequest& send,
                                    const std::function<void(int, const RequestTiming&)>& on_run) {
  if (runs < 1) return InvalidArgument("the number of runs must be at least 1");
  LatencyRow row;
  row.model = model;
  row.runs = runs;
  std::vector<double> latencies;
  for (int i = 0; i < runs; ++i) {
    FOUNDRY_ASSIGN_OR_RETURN(RequestTiming t, send(0));
    if (on_run) on_run(i, t);
    latencies.push_back(t.latency_s);
    row.mean_latency_s += t.latency_s;
    row.mean_ttft_s += t.ttft_s;
    row.mean_completion_tokens += static_cast<double>(t.completion_tokens);
    row.tokens_per_second += GenerationSpeed(t);
  }
  const auto n = static_cast<double>(runs);
  row.mean_latency_s /= n;
  row.mean_ttft_s /= n;
  row.mean_completion_tokens /= n;
  row.tokens_per_second /= n;
  row.p50_latency_s = Percentile(latencies, 50);
  return row;
}

StatusOr<SweepRow> MeasureConcurrency(const std::string& model, int streams,
                                      int requests_per_stream, const SendRequest& send) {
  if (streams < 1) return InvalidArgument("a concurrency level must be at least 1");
  if (requests_per_stream < 1) return InvalidArgument("each stream needs at least one request");
  std::mutex mu;
  std::vector<RequestTiming> done;
  std::optional<Status> failure;
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> threads;
    for (int s = 0; s < streams; ++s) {
      threads.emplace_back([&, s] {
        for (int i = 0; i < requests_per_stream; ++i) {
          StatusOr<RequestTiming> t = send(s);
          std::lock_guard lock(mu);
          if (!t.ok()) {
            if (!failure) failure = t.status();
            return;
          }
          done.push_back(*t);
        }
      });
    }
  }  // the threads join here
  if (failure) return *failure;
  SweepRow row;
  row.model = model;
  row.streams = streams;
  row.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> latencies;
  for (const auto& t : done) {
    latencies.push_back(t.latency_s);
    row.completion_tokens += t.completion_tokens;
    row.mean_ttft_s += t.ttft_s;
  }
  row.requests = static_cast<int64_t>(done.size());
  row.mean_ttft_s /= static_cast<double>(done.size());
  if (row.wall_s > 0)
    row.tokens_per_second = static_cast<double>(row.completion_tokens) / row.wall_s;
  row.p50_latency_s = Percentile(latencies, 50);
  row.p95_latency_s = Percentile(latencies, 95);
  return row;
}

}  // namespace foundry::eval
