// The HTML report of a quality sheet: per-model latency, time to first token, speed and mean
// ratings as inline SVG bar charts, and every row below. One self-contained file: no script, no
// network, opens offline in any browser.
#pragma once

#include <string>
#include <vector>

#include "eval/results_sheet.h"

namespace foundry::eval {

struct ModelSummary {
  std::string model;
  int64_t rows = 0, failed = 0, rated = 0;
  double mean_latency_s = 0, mean_ttft_s = 0, mean_tokens_per_second = 0;
  double mean_fluency = 0, mean_relevance = 0, mean_correctness = 0;  // over rated rows
};

// One summary per model, in the order the models first appear.
std::vector<ModelSummary> Summarize(const std::vector<SheetRow>& rows);

std::string HtmlReport(const std::vector<SheetRow>& rows);

}  // namespace foundry::eval
