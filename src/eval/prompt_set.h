// The prompts of a quality sheet (`foundry eval --prompts FILE`), read from JSON Lines, CSV or
// plain text, with optional reference answers and categories.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "foundry/status.h"

namespace foundry::eval {

struct EvalPrompt {
  std::string id;  // the file's "id" field, else its 1-based position
  std::string prompt;
  std::string system;     // optional system message
  std::string reference;  // optional reference answer
  std::string category;   // optional
};

// By the file name's extension: .jsonl/.json: one JSON object a line with "prompt" (or
// "question") and optional "id", "system", "reference" (or "answer"/"expected"), "category";
// .csv: a header row naming those columns, RFC 4180 quoting; anything else: one prompt a line.
// Blank lines are skipped. Errors name the line.
StatusOr<std::vector<EvalPrompt>> ParsePromptSet(std::string_view file_name,
                                                 std::string_view content);

// One CSV record split into fields (RFC 4180: quoted fields may hold commas, quotes doubled,
// newlines); `pos` advances past the record's line end. False at the end of the text.
bool NextCsvRecord(std::string_view text, size_t* pos, std::vector<std::string>* fields,
                   Status* error);
// A field quoted for CSV when it needs it.
std::string CsvField(std::string_view value);

}  // namespace foundry::eval
