// The service's metrics: Prometheus text (families, labels, cumulative buckets), bounded route
// labels, exact counts under concurrent updates, and the request tracker's completion rule.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

#include "server/metrics.h"
#include "server/request_tracker.h"

namespace foundry {
namespace {

bool Contains(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l == line) return true;
  }
  return false;
}

TEST(Histogram, BucketsHoldValuesUpToTheirBound) {
  Histogram h({0.1, 1});
  h.Observe(0.1);  // le: a value on the bound is in that bucket
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{1, 1, 1}));
  EXPECT_EQ(h.count(), 3u);
  EXPECT_DOUBLE_EQ(h.sum(), 7.6);
}

TEST(MetricRoute, PatternsNotRawPaths) {
  EXPECT_EQ(MetricRoute("/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(MetricRoute("/openai/load/phi-4-mini"), "/openai/load/{model}");
  EXPECT_EQ(MetricRoute("/openai/unload/a/b"), "/openai/unload/{model}");
  EXPECT_EQ(MetricRoute("/web/app.js"), "/web/{file}");
  EXPECT_EQ(MetricRoute("/metrics"), "/metrics");
  EXPECT_EQ(MetricRoute("/v1/chat/completions/x"), "other");
  EXPECT_EQ(MetricRoute("/openai/load/"), "other");
  EXPECT_EQ(MetricRoute(""), "other");
}

TEST(EscapeLabelValue, EscapesQuotesBackslashesNewlines) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(ServiceMetrics, RendersCountersHistogramsAndGauges) {
  ServiceMetrics m;
  RequestSample s;
  s.route = "/v1/chat/completions";
  s.status = 200;
  s.duration_s = 0.3;
  s.model = "smol";
  s.prompt_tokens = 30;
  s.cached_tokens = 12;
  s.completion_tokens = 8;
  s.time_to_first_token_s = 0.04;
  s.inter_token_s = 0.002;
  m.Record(s);
  m.Record(s);
  RequestSample refused;
  refused.route = "other";
  refused.status = 404;
  m.Record(refused);  // no duration, no model

  ServiceGauges g;
  g.models.push_back({"smol", 1234, 2, 3, 4});
  g.resident_bytes = 4096;
  const std::string text = m.Render(g);
  EXPECT_TRUE(Contains(text, "# TYPE foundry_requests_total counter"));
  EXPECT_TRUE(Contains(text,
                       "# HELP foundry_requests_total HTTP requests answered, by route "
                       "pattern and status code."));
  EXPECT_TRUE(
      Contains(text, R"(foundry_requests_total{route="/v1/chat/completions",status="200"} 2)"));
  EXPECT_TRUE(Contains(text, R"(foundry_requests_total{route="other",status="404"} 1)"));
  EXPECT_TRUE(Contains(text, R"(foundry_prompt_tokens_total{model="smol"} 60)"));
  EXPECT_TRUE(Contains(text, R"(foundry_prompt_cached_tokens_total{model="smol"} 24)"));
  EXPECT_TRUE(Contains(text, R"(foundry_generated_tokens_total{model="smol"} 16)"));
  EXPECT_TRUE(Contains(text, "# TYPE foundry_time_to_first_token_seconds histogram"));
  // Cumulative buckets: 0.04 is above 0.025, within 0.05.
  EXPECT_TRUE(
      Contains(text, R"(foundry_time_to_first_token_seconds_bucket{model="smol",le="0.025"} 0)"));
  EXPECT_TRUE(
      Contains(text, R"(foundry_time_to_first_token_seconds_bucket{model="smol",le="0.05"} 2)"));
  EXPECT_TRUE(
      Contains(text, R"(foundry_time_to_first_token_seconds_bucket{model="smol",le="+Inf"} 2)"));
  EXPECT_TRUE(Contains(text, R"(foundry_time_to_first_token_seconds_count{model="smol"} 2)"));
  EXPECT_TRUE(Contains(text, R"(foundry_time_to_first_token_seconds_sum{model="smol"} 0.08)"));
  EXPECT_TRUE(Contains(text, R"(foundry_inter_token_latency_seconds_count{model="smol"} 2)"));
  EXPECT_TRUE(
      Contains(text, R"(foundry_request_duration_seconds_count{route="/v1/chat/completions"} 2)"));
  EXPECT_FALSE(Contains(text, R"(foundry_request_duration_seconds_count{route="other"} 1)"));
  EXPECT_TRUE(Contains(text, R"(foundry_model_loaded_bytes{model="smol"} 1234)"));
  EXPECT_TRUE(Contains(text, R"(foundry_queue_depth{model="smol"} 2)"));
  EXPECT_TRUE(Contains(text, R"(foundry_busy_slots{model="smol"} 3)"));
  EXPECT_TRUE(Contains(text, R"(foundry_slots{model="smol"} 4)"));
  EXPECT_TRUE(Contains(text, "foundry_models_loaded 1"));
  EXPECT_TRUE(Contains(text, "foundry_draining 0"));
  EXPECT_TRUE(Contains(text, "process_resident_memory_bytes 4096"));
}

TEST(ServiceMetrics, ConcurrentRecordsAreAllCounted) {
  ServiceMetrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      RequestSample s;
      s.route = "/v1/completions";
      s.status = 200;
      s.duration_s = 0.01;
      s.model = "m";
      s.completion_tokens = 3;
      for (int i = 0; i < 250; ++i) m.Record(s);
    });
  }
  for (int i = 0; i < 20; ++i) m.Render({});  // scrapes while requests end
  for (auto& t : threads) t.join();
  const std::string text = m.Render({});
  EXPECT_TRUE(
      Contains(text, R"(foundry_requests_total{route="/v1/completions",status="200"} 1000)"));
  EXPECT_TRUE(Contains(text, R"(foundry_generated_tokens_total{model="m"} 3000)"));
}

httplib::Request MakeRequest(const std::string& method, const std::string& path) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.remote_addr = "127.0.0.1";
  return req;
}

// A request is counted once both its answer and its generation have ended, in either order.
TEST(RequestTracker, CountsAGenerationWhenItsAnswerAndGenerationHaveEnded) {
  ServiceMetrics m;
  RequestTracker tracker(m, nullptr);
  for (bool answer_first : {false, true}) {
    const httplib::Request req = MakeRequest("POST", "/v1/chat/completions");
    tracker.Begin(req);
    auto r = tracker.Find(req);
    ASSERT_NE(r, nullptr);
    tracker.SetModel(r.get(), "smol", "chatcmpl-1");
    tracker.GenerationStarted(r.get());
    GenerationResult result;
    result.prompt_tokens = 10;
    result.completion_tokens = 4;
    result.first_token_at = std::chrono::steady_clock::now();
    if (answer_first) tracker.End(req, 200);
    const std::string before = m.Render({});
    tracker.GenerationFinished(r, result);
    if (!answer_first) {
      EXPECT_EQ(before, m.Render({}));  // not counted before its answer ended
      tracker.End(req, 200);
    }
  }
  const std::string text = m.Render({});
  EXPECT_TRUE(
      Contains(text, R"(foundry_requests_total{route="/v1/chat/completions",status="200"} 2)"));
  EXPECT_TRUE(Contains(text, R"(foundry_prompt_tokens_total{model="smol"} 20)"));
  EXPECT_TRUE(Contains(text, R"(foundry_generated_tokens_total{model="smol"} 8)"));
  EXPECT_TRUE(Contains(text, R"(foundry_time_to_first_token_seconds_count{model="smol"} 2)"));
  EXPECT_TRUE(Contains(text, R"(foundry_inter_token_latency_seconds_count{model="smol"} 2)"));
}

TEST(RequestTracker, ARefusedGenerationIsCountedWithItsAnswer) {
  ServiceMetrics m;
  RequestTracker tracker(m, nullptr);
  const httplib::Request req = MakeRequest("POST", "/v1/completions");
  tracker.Begin(req);
  auto r = tracker.Find(req);
  tracker.GenerationStarted(r.get());
  tracker.GenerationRefused(r.get());
  tracker.End(req, 503);
  EXPECT_TRUE(
      Contains(m.Render({}), R"(foundry_requests_total{route="/v1/completions",status="503"} 1)"));
  // A request that never reached routing is still counted (without a duration).
  tracker.End(MakeRequest("GET", "/nowhere"), 400);
  EXPECT_TRUE(Contains(m.Render({}), R"(foundry_requests_total{route="other",status="400"} 1)"));
}

}  // namespace
}  // namespace foundry
