#include "eval/service_bench_report.h"

#include <algorithm>
#include <cstdio>

#include "eval/svg_chart.h"

namespace foundry::eval {
namespace {

std::string Format(const char* format, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), format, args...);
  return buf;
}

}  // namespace

std::string LatencyTable(const std::vector<LatencyRow>& rows) {
  std::string out = Format("| %-32s | %4s | %15s | %14s | %6s | %8s | %8s |\n", "model", "runs",
                           "mean latency ms", "p50 latency ms", "tokens", "TTFT ms", "tokens/s");
  out +=
      "|----------------------------------|------|-----------------|----------------|"
      "--------|----------|----------|\n";
  for (const auto& r : rows) {
    out += Format("| %-32.32s | %4d | %15.1f | %14.1f | %6.1f | %8.1f | %8.1f |\n", r.model.c_str(),
                  r.runs, r.mean_latency_s * 1000, r.p50_latency_s * 1000, r.mean_completion_tokens,
                  r.mean_ttft_s * 1000, r.tokens_per_second);
  }
  return out;
}

std::string SweepTable(const std::vector<SweepRow>& rows) {
  std::string out = Format("| %-32s | %7s | %8s | %10s | %14s | %14s | %8s |\n", "model", "streams",
                           "requests", "tokens/s", "p50 latency ms", "p95 latency ms", "TTFT ms");
  out +=
      "|----------------------------------|---------|----------|------------|"
      "----------------|----------------|----------|\n";
  for (const auto& r : rows) {
    out +=
        Format("| %-32.32s | %7d | %8lld | %10.1f | %14.1f | %14.1f | %8.1f |\n", r.model.c_str(),
               r.streams, static_cast<long long>(r.requests), r.tokens_per_second,
               r.p50_latency_s * 1000, r.p95_latency_s * 1000, r.mean_ttft_s * 1000);
  }
  return out;
}

std::string BenchSvg(const std::vector<LatencyRow>& latency, const std::vector<SweepRow>& sweep) {
  std::vector<SvgChart> charts;
  std::vector<ChartBar> mean, ttft;
  for (const auto& r : latency) {
    mean.push_back({r.model, r.mean_latency_s * 1000});
    ttft.push_back({r.model, r.mean_ttft_s * 1000});
  }
  if (!latency.empty()) {
    charts.push_back(BarChart("Mean latency per request", "ms", mean, 0));
    charts.push_back(BarChart("Mean time to first token", "ms", ttft, 0));
  }
  std::vector<ChartSeries> throughput, p95;
  for (const auto& r : sweep) {
    auto it = std::find_if(throughput.begin(), throughput.end(),
                           [&](const ChartSeries& s) { return s.name == r.model; });
    if (it == throughput.end()) {
      throughput.push_back({r.model, {}});
      p95.push_back({r.model, {}});
      it = throughput.end() - 1;
    }
    const auto i = it - throughput.begin();
    throughput[i].points.emplace_back(r.streams, r.tokens_per_second);
    p95[i].points.emplace_back(r.streams, r.p95_latency_s * 1000);
  }
  if (!sweep.empty()) {
    charts.push_back(LineChart("Aggregate throughput vs concurrency", "concurrent streams",
                               "tokens/s", throughput));
    charts.push_back(
        LineChart("p95 latency vs concurrency", "concurrent streams", "latency ms", p95));
  }
  return SvgDocument(charts);
}

}  // namespace foundry::eval
