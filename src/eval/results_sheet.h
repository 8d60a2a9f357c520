// The quality sheet of `foundry eval`: one row per model and prompt with the output, its
// timings and token counts, and the three ratings (1-5) a person or a judge model fills in.
// Saved as CSV or JSON (by the file name) after every row, so an interrupted run resumes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eval/prompt_set.h"
#include "foundry/status.h"

namespace foundry::eval {

struct SheetRow {
  std::string model;
  EvalPrompt prompt;
  std::string output;
  std::string error;  // empty: the request succeeded
  double latency_s = 0;
  double ttft_s = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double tokens_per_second = 0;
  // 1-5 each; unset until rated.
  std::optional<int> fluency, relevance, correctness;

  bool done() const { return error.empty(); }
  bool rated() const { return fluency && relevance && correctness; }
};

// The column names, in order (CSV header; JSON keys).
const std::vector<std::string>& SheetColumns();

std::string SheetToCsv(const std::vector<SheetRow>& rows);
std::string SheetToJson(const std::vector<SheetRow>& rows);
// Either format, by the file name; ratings outside 1-5 are an error naming the row.
StatusOr<std::vector<SheetRow>> ParseSheet(std::string_view file_name, std::string_view content);

// Writes to a temporary file beside `path` and renames it into place.
Status SaveSheet(const std::string& path, const std::vector<SheetRow>& rows);
// The saved rows, or none when the file does not exist.
StatusOr<std::vector<SheetRow>> LoadSheet(const std::string& path);

}  // namespace foundry::eval
