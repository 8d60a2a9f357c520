#include "eval/html_report.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "base/html_escape.h"
#include "eval/svg_chart.h"

namespace foundry::eval {
namespace {

std::string Escape(const std::string& s) { return HtmlEscape(s); }

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// One of the report's bar charts: a bar per model.
std::string ModelChart(const std::string& title, const std::string& unit,
                       const std::vector<ModelSummary>& models,
                       const std::function<double(const ModelSummary&)>& value, double max_value) {
  std::vector<ChartBar> bars;
  for (const auto& m : models) bars.push_back({m.model, value(m)});
  return "<figure>" + BarChart(title, unit, bars, max_value).markup + "</figure>\n";
}

}  // namespace

std::vector<ModelSummary> Summarize(const std::vector<SheetRow>& rows) {
  std::vector<ModelSummary> out;
  for (const auto& r : rows) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const ModelSummary& m) { return m.model == r.model; });
    if (it == out.end()) {
      out.push_back({});
      out.back().model = r.model;
      it = out.end() - 1;
    }
    ++it->rows;
    if (!r.done()) {
      ++it->failed;
      continue;
    }
    it->mean_latency_s += r.latency_s;
    it->mean_ttft_s += r.ttft_s;
    it->mean_tokens_per_second += r.tokens_per_second;
    if (r.rated()) {
      ++it->rated;
      it->mean_fluency += *r.fluency;
      it->mean_relevance += *r.relevance;
      it->mean_correctness += *r.correctness;
    }
  }
  for (auto& m : out) {
    const auto done = static_cast<double>(m.rows - m.failed);
    if (done > 0) {
      m.mean_latency_s /= done;
      m.mean_ttft_s /= done;
      m.mean_tokens_per_second /= done;
    }
    if (m.rated > 0) {
      const auto n = static_cast<double>(m.rated);
      m.mean_fluency /= n;
      m.mean_relevance /= n;
      m.mean_correctness /= n;
    }
  }
  return out;
}

std::string HtmlReport(const std::vector<SheetRow>& rows) {
  const std::vector<ModelSummary> models = Summarize(rows);
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>foundry eval report</title><style>"
      "body{font-family:system-ui,sans-serif;margin:2em;color:#1a1a1a;max-width:70em}"
      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.3em .6em;"
      "vertical-align:top;text-align:left}pre{white-space:pre-wrap;margin:0;max-width:40em}"
      "svg text{font-size:13px;fill:#1a1a1a}figure{margin:1em 0}</style></head><body>\n"
      "<h1>foundry eval report</h1>\n<h2>Per model</h2>\n<table><tr><th>model</th><th>rows</th>"
      "<th>failed</th><th>latency s</th><th>TTFT s</th><th>tokens/s</th><th>rated</th>"
      "<th>fluency</th><th>relevance</th><th>correctness</th></tr>\n";
  for (const auto& m : models) {
    auto rating = [&](double v) { return m.rated > 0 ? Fixed(v, 2) : std::string("–"); };
    h += "<tr><td>" + Escape(m.model) + "</td><td>" + std::to_string(m.rows) + "</td><td>" +
         std::to_string(m.failed) + "</td><td>" + Fixed(m.mean_latency_s, 3) + "</td><td>" +
         Fixed(m.mean_ttft_s, 3) + "</td><td>" + Fixed(m.mean_tokens_per_second, 1) + "</td><td>" +
         std::to_string(m.rated) + "</td><td>" + rating(m.mean_fluency) + "</td><td>" +
         rating(m.mean_relevance) + "</td><td>" + rating(m.mean_correctness) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Charts</h2>\n";
  h += ModelChart(
      "Mean latency", "s", models, [](const ModelSummary& m) { return m.mean_latency_s; }, 0);
  h += ModelChart(
      "Mean time to first token", "s", models, [](const ModelSummary& m) { return m.mean_ttft_s; },
      0);
  h += ModelChart(
      "Mean generation speed", "tokens/s", models,
      [](const ModelSummary& m) { return m.mean_tokens_per_second; }, 0);
  h += ModelChart(
      "Mean rating (fluency, relevance, correctness)", "/ 5", models,
      [](const ModelSummary& m) {
        return m.rated > 0 ? (m.mean_fluency + m.mean_relevance + m.mean_correctness) / 3 : 0.0;
      },
      5);
  h += "<h2>Rows</h2>\n<table><tr><th>model</th><th>prompt</th><th>output</th><th>latency s</th>"
       "<th>F</th><th>R</th><th>C</th></tr>\n";
  for (const auto& r : rows) {
    auto rating = [](const std::optional<int>& v) { return v ? std::to_string(*v) : ""; };
    h += "<tr><td>" + Escape(r.model) + "</td><td><pre>" + Escape(r.prompt.prompt) +
         "</pre></td><td><pre>" + Escape(r.done() ? r.output : "error: " + r.error) +
         "</pre></td><td>" + Fixed(r.latency_s, 3) + "</td><td>" + rating(r.fluency) + "</td><td>" +
         rating(r.relevance) + "</td><td>" + rating(r.correctness) + "</td></tr>\n";
  }
  return h + "</table>\n</body></html>\n";
}

}  // namespace foundry::eval
