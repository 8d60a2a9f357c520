#include "server/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace foundry {
namespace {

// Seconds, from a local model's first token (tens of ms) to a long prompt on a slow machine.
std::vector<double> FirstTokenBounds() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}
// Seconds per generated token: about 1 ms (a tiny model) to 1 s (a large one under load).
std::vector<double> InterTokenBounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};
}
// Seconds per request: management routes answer in ms, long generations in minutes.
std::vector<double> DurationBounds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
}

// Shortest text that reads back as the same double ("0.005", "12", "+Inf" for infinity).
std::string Number(double v) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf.data(), end);
}

// Appends "# HELP" and "# TYPE" of one metric family.
void Family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void Sample(std::string& out, std::string_view name, const std::string& labels,
            const std::string& value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(value).append("\n");
}

std::string Label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + EscapeLabelValue(value) + "\"";
}

// The _bucket (cumulative, le="+Inf" last), _sum and _count series of one histogram.
void HistogramSamples(std::string& out, std::string_view name, const std::string& labels,
                      const Histogram& h) {
  const std::string bucket = std::string(name) + "_bucket";
  const std::string prefix = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds().size(); ++i) {
    cumulative += h.counts()[i];
    Sample(out, bucket, prefix + Label("le", Number(h.bounds()[i])), std::to_string(cumulative));
  }
  Sample(out, bucket, prefix + Label("le", "+Inf"), std::to_string(h.count()));
  Sample(out, std::string(name) + "_sum", labels, Number(h.sum()));
  Sample(out, std::string(name) + "_count", labels, std::to_string(h.count()));
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  // The first bucket whose upper bound holds the value (le: less than or equal).
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                       bounds_.begin());
  ++counts_[i];
  ++count_;
  sum_ += value;
}

std::string MetricRoute(std::string_view path) {
  static constexpr std::array<std::string_view, 14> kExact = {
      "/v1/chat/completions",
      "/v1/completions",
      "/v1/chat/completions/tokenizer/encode/count",
      "/v1/embeddings",
      "/v1/models",
      "/openai/status",
      "/openai/models",
      "/openai/loadedmodels",
      "/openai/download",
      "/openai/unloadall",
      "/foundry/list",
      "/health",
      "/metrics",
      "/"};
  if (std::find(kExact.begin(), kExact.end(), path) != kExact.end()) return std::string(path);
  if (path == "/favicon.ico") return "/favicon.ico";
  // Routes with a model name or a file in the path: one label value for all of them.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kPrefixes = {{
      {"/openai/load/", "/openai/load/{model}"},
      {"/openai/unload/", "/openai/unload/{model}"},
      {"/web/", "/web/{file}"},
  }};
  for (const auto& [prefix, route] : kPrefixes) {
    if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix) {
      return std::string(route);
    }
  }
  return "other";
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

ServiceMetrics::ModelSeries::ModelSeries()
    : time_to_first_token(FirstTokenBounds()), inter_token(InterTokenBounds()) {}

void ServiceMetrics::Record(const RequestSample& s) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{s.route, s.status}];
  if (s.duration_s >= 0) {
    auto it = durations_.try_emplace(s.route, DurationBounds()).first;
    it->second.Observe(s.duration_s);
  }
  if (s.model.empty()) return;
  ModelSeries& m = models_[s.model];
  m.prompt_tokens += s.prompt_tokens;
  m.cached_tokens += s.cached_tokens;
  m.generated_tokens += s.completion_tokens;
  if (s.time_to_first_token_s >= 0) m.time_to_first_token.Observe(s.time_to_first_token_s);
  if (s.inter_token_s >= 0) m.inter_token.Observe(s.inter_token_s);
}

std::string ServiceMetrics::Render(const ServiceGauges& gauges) const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);

  Family(out, "foundry_requests_total", "counter",
         "HTTP requests answered, by route pattern and status code.");
  for (const auto& [key, n] : requests_) {
    Sample(out, "foundry_requests_total",
           Label("route", key.first) + "," + Label("status", std::to_string(key.second)),
           std::to_string(n));
  }
  Family(out, "foundry_request_duration_seconds", "histogram",
         "Seconds from a request's arrival to the end of its answer (streams: the last event).");
  for (const auto& [route, h] : durations_) {
    HistogramSamples(out, "foundry_request_duration_seconds", Label("route", route), h);
  }

  auto counter = [&](std::string_view name, std::string_view help, auto field) {
    Family(out, name, "counter", help);
    for (const auto& [model, m] : models_) {
      Sample(out, name, Label("model", model), std::to_string(m.*field));
    }
  };
  counter("foundry_prompt_tokens_total", "Prompt tokens of finished requests, by model.",
          &ModelSeries::prompt_tokens);
  counter("foundry_prompt_cached_tokens_total",
          "Prompt tokens found in the prompt cache (not computed again), by model.",
          &ModelSeries::cached_tokens);
  counter("foundry_generated_tokens_total", "Tokens generated by finished requests, by model.",
          &ModelSeries::generated_tokens);
  auto histogram = [&](std::string_view name, std::string_view help, auto field) {
    Family(out, name, "histogram", help);
    for (const auto& [model, m] : models_) {
      HistogramSamples(out, name, Label("model", model), m.*field);
    }
  };
  histogram("foundry_time_to_first_token_seconds",
            "Seconds from a generation request's arrival to its first generated token.",
            &ModelSeries::time_to_first_token);
  histogram("foundry_inter_token_latency_seconds",
            "Mean seconds between a request's generated tokens (one observation per request "
            "with two or more tokens).",
            &ModelSeries::inter_token);

  auto gauge = [&](std::string_view name, std::string_view help, auto value) {
    Family(out, name, "gauge", help);
    for (const ModelGauge& g : gauges.models) {
      Sample(out, name, Label("model", g.model), std::to_string(g.*value));
    }
  };
  gauge("foundry_model_loaded_bytes", "Memory of each loaded model (weights and KV cache).",
        &ModelGauge::bytes);
  gauge("foundry_queue_depth", "Requests waiting for a free slot, by loaded model.",
        &ModelGauge::queued);
  gauge("foundry_busy_slots", "Slots generating now, by loaded model.", &ModelGauge::busy_slots);
  gauge("foundry_slots", "Slots (sequences decoded together), by loaded model.",
        &ModelGauge::slots);
  Family(out, "foundry_models_loaded", "gauge", "Models loaded now.");
  Sample(out, "foundry_models_loaded", "", std::to_string(gauges.models.size()));
  Family(out, "foundry_draining", "gauge",
         "1 while the service drains (refuses new requests) before it stops, else 0.");
  Sample(out, "foundry_draining", "", gauges.draining ? "1" : "0");
  Family(out, "process_resident_memory_bytes", "gauge", "Resident memory of the process.");
  Sample(out, "process_resident_memory_bytes", "", std::to_string(gauges.resident_bytes));
  return out;
}

}  // namespace foundry
