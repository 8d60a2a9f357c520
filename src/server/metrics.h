// The service's Prometheus metrics (GET /metrics, text exposition format 0.0.4): counters and
// histograms fed as requests end, gauges read from the loaded models when scraped. Labels are
// bounded: a route is its pattern (never the raw path with model names), a model is a loaded
// model's id. Thread-safe: one mutex, held briefly by each update and by each scrape.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace foundry {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Observations counted into buckets of fixed upper bounds (ascending); +Inf is implied.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<uint64_t>& counts() const { return counts_; }  // per bucket, not cumulative
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // bounds_.size() + 1 (the last: above every bound)
  uint64_t count_ = 0;
  double sum_ = 0;
};

// One finished request, as the metrics count it.
struct RequestSample {
  std::string route;  // MetricRoute()
  int status = 0;
  double duration_s = -1;  // < 0: unknown (a request refused before routing)
  std::string model;       // empty: the request used no model
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t completion_tokens = 0;
  double time_to_first_token_s = -1;  // < 0: no token was generated
  double inter_token_s = -1;          // mean gap between generated tokens; < 0: under two tokens
};

// What a scrape reads from the service at that moment.
struct ModelGauge {
  std::string model;
  uint64_t bytes = 0;  // weights and KV cache
  int64_t queued = 0;  // requests waiting for a slot
  int64_t busy_slots = 0;
  int64_t slots = 0;
};
struct ServiceGauges {
  std::vector<ModelGauge> models;
  uint64_t resident_bytes = 0;  // the process's resident memory
  bool draining = false;
};

// The route pattern of a request path, for labels: "/v1/chat/completions",
// "/openai/load/{model}", "/web/{file}"; "other" for a path no route serves.
std::string MetricRoute(std::string_view path);

// A label value escaped for the text format (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view value);

class ServiceMetrics {
 public:
  void Record(const RequestSample& sample);
  // Every metric as Prometheus text, with # HELP and # TYPE lines.
  std::string Render(const ServiceGauges& gauges) const;

 private:
  struct ModelSeries {
    int64_t prompt_tokens = 0;
    int64_t cached_tokens = 0;
    int64_t generated_tokens = 0;
    Histogram time_to_first_token;
    Histogram inter_token;
    ModelSeries();
  };

  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status)
  std::map<std::string, Histogram> durations_;                // by route
  std::map<std::string, ModelSeries> models_;
};

}  // namespace foundry
