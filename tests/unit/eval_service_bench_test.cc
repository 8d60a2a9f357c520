// `foundry bench --service`'s measuring and its output without a service: percentiles,
// generation speed, the latency and concurrency measurements over a fake request, the tables,
// and the SVG chart's elements.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "eval/service_bench.h"
#include "eval/service_bench_report.h"
#include "eval/svg_chart.h"

namespace foundry::eval {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ServiceBench, PercentilesInterpolateBetweenRanks) {
  EXPECT_DOUBLE_EQ(Percentile({}, 50), 0);
  EXPECT_DOUBLE_EQ(Percentile({3, 1, 2}, 50), 2);
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 50), 2.5);  // statistics.median's answer
  EXPECT_DOUBLE_EQ(Percentile({1, 2, 3, 4, 5}, 95), 4.8);
  EXPECT_DOUBLE_EQ(Percentile({1, 2, 3, 4, 5}, 100), 5);
  EXPECT_DOUBLE_EQ(Percentile({7}, 95), 7);
}

TEST(ServiceBench, GenerationSpeedCountsTokensAfterTheFirst) {
  EXPECT_DOUBLE_EQ(GenerationSpeed({1.0, 0.2, 9}), 10.0);
  EXPECT_DOUBLE_EQ(GenerationSpeed({1.0, 0.2, 1}), 0.0);
  EXPECT_DOUBLE_EQ(GenerationSpeed({0.2, 0.2, 5}), 0.0);
}

TEST(ServiceBench, LatencyIsMeasuredRunByRun) {
  int calls = 0;
  const SendRequest send = [&](int stream) -> StatusOr<RequestTiming> {
    EXPECT_EQ(stream, 0);
    ++calls;
    return RequestTiming{0.1 * calls, 0.05, 3};
  };
  int seen = 0;
  auto row =
      MeasureLatency("m", 4, send, [&](int i, const RequestTiming&) { EXPECT_EQ(i, seen++); });
  ASSERT_TRUE(row.ok()) << row.status().message();
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(seen, 4);
  EXPECT_EQ(row->runs, 4);
  EXPECT_NEAR(row->mean_latency_s, 0.25, 1e-12);
  EXPECT_NEAR(row->p50_latency_s, 0.25, 1e-12);
  EXPECT_NEAR(row->mean_ttft_s, 0.05, 1e-12);
  EXPECT_DOUBLE_EQ(row->mean_completion_tokens, 3);
  EXPECT_FALSE(MeasureLatency("m", 0, send).ok());
}

TEST(ServiceBench, ConcurrencyRunsEveryStreamAtOnce) {
  std::atomic<int> in_flight{0}, most{0}, calls{0};
  const SendRequest send = [&](int stream) -> StatusOr<RequestTiming> {
    EXPECT_TRUE(stream >= 0 && stream < 4);
    const int now = ++in_flight;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    --in_flight;
    ++calls;
    return RequestTiming{0.03, 0.01, 5};
  };
  auto row = MeasureConcurrency("m", 4, 2, send);
  ASSERT_TRUE(row.ok()) << row.status().message();
  EXPECT_EQ(calls.load(), 8);
  EXPECT_EQ(most.load(), 4);
  EXPECT_EQ(row->requests, 8);
  EXPECT_EQ(row->completion_tokens, 40);
  EXPECT_GT(row->wall_s, 0.05);
  EXPECT_NEAR(row->tokens_per_second, 40 / row->wall_s, 1e-9);
  EXPECT_DOUBLE_EQ(row->p95_latency_s, 0.03);
  EXPECT_FALSE(MeasureConcurrency("m", 0, 1, send).ok());
}

TEST(ServiceBench, AFailedRequestFailsTheLevel) {
  const SendRequest send = [](int stream) -> StatusOr<RequestTiming> {
    if (stream == 1) return IoError("the service went away");
    return RequestTiming{0.01, 0.01, 1};
  };
  auto row = MeasureConcurrency("m", 2, 3, send);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().message(), "the service went away");
}

TEST(ServiceBenchReport, TablesHaveARowPerModelAndLevel) {
  const std::vector<LatencyRow> latency = {{"a", 10, 0.5, 0.4, 32, 0.05, 70},
                                           {"b", 10, 1.5, 1.4, 30, 0.15, 20}};
  const std::string t = LatencyTable(latency);
  EXPECT_EQ(Count(t, "\n"), 4u);
  EXPECT_NE(t.find("mean latency ms"), std::string::npos);
  EXPECT_NE(t.find("|   10 |           500.0 |          400.0 |   32.0 |     50.0 |     70.0 |"),
            std::string::npos);
  std::vector<SweepRow> sweep;
  for (int level : {1, 2, 4}) sweep.push_back({"a", level, level, 32 * level, 1, 32.0 * level});
  EXPECT_EQ(Count(SweepTable(sweep), "\n"), 5u);
  const std::string svg = BenchSvg(latency, sweep);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(Count(svg, "<svg"), 5u);  // the root and four charts
  EXPECT_EQ(Count(svg, "<polyline"), 2u);
  EXPECT_EQ(Count(svg, "<circle"), 6u);
  EXPECT_NE(svg.find("points=\"60,205 270,150 480,40\""), std::string::npos);  // y 32, 64, 128
}

TEST(SvgChart, EscapesLabels) {
  const SvgChart c = BarChart("a < b", "ms", {{"x&y", 1}}, 0);
  EXPECT_NE(c.markup.find("aria-label=\"a &lt; b\""), std::string::npos);
  EXPECT_NE(c.markup.find(">x&amp;y<"), std::string::npos);
  EXPECT_GT(c.height, 0);
}

}  // namespace
}  // namespace foundry::eval
