#include "eval/html_report.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "base/html_escape.h"

namespace foundry::eval {
namespace {

std::string Escape(const std::string& s) { return HtmlEscape(s); }

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// A horizontal bar chart: one labelled bar per model, scaled to the largest value (or to
// `max_value` when it is positive, as for ratings out of 5).
std::string BarChart(const std::string& title, const std::string& unit,
                     const std::vector<ModelSummary>& models,
                     const std::function<double(const ModelSummary&)>& value, double max_value) {
  const int label_w = 220, bar_w = 360, row_h = 26, top = 30;
  double top_value = max_value;
  for (const auto& m : models) top_value = std::max(top_value, value(m));
  if (top_value <= 0) top_value = 1;
  const int height = top + row_h * static_cast<int>(models.size()) + 10;
  std::string svg = "<figure><svg role=\"img\" aria-label=\"" + Escape(title) + "\" width=\"" +
                    std::to_string(label_w + bar_w + 90) + "\" height=\"" + std::to_string(height) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\">";
  svg += "<text x=\"0\" y=\"18\" font-weight=\"bold\">" + Escape(title) + "</text>";
  for (size_t i = 0; i < models.size(); ++i) {
    const double v = value(models[i]);
    const int y = top + row_h * static_cast<int>(i);
    const int w = static_cast<int>(bar_w * std::max(0.0, v) / top_value);
    svg +=
        "<text x=\"0\" y=\"" + std::to_string(y + 16) + "\">" + Escape(models[i].model) + "</text>";
    svg += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 3) +
           "\" width=\"" + std::to_string(w) + "\" height=\"18\" fill=\"#2f6fb3\"/>";
    svg += "<text x=\"" + std::to_string(label_w + w + 6) + "\" y=\"" + std::to_string(y + 16) +
           "\">" + Fixed(v, 2) + " " + Escape(unit) + "</text>";
  }
  return svg + "</svg></figure>\n";
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
  h += BarChart(
      "Mean latency", "s", models, [](const ModelSummary& m) { return m.mean_latency_s; }, 0);
  h += BarChart(
      "Mean time to first token", "s", models, [](const ModelSummary& m) { return m.mean_ttft_s; },
      0);
  h += BarChart(
      "Mean generation speed", "tokens/s", models,
      [](const ModelSummary& m) { return m.mean_tokens_per_second; }, 0);
  h += BarChart(
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
