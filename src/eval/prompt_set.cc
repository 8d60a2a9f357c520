#include "eval/prompt_set.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

namespace foundry::eval {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// The first present of several names for one column or field.
const std::map<std::string, std::vector<std::string>> kFieldNames = {
    {"id", {"id"}},
    {"prompt", {"prompt", "question"}},
    {"system", {"system"}},
    {"reference", {"reference", "answer", "expected"}},
    {"category", {"category"}},
};

std::string JsonText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

StatusOr<std::vector<EvalPrompt>> ParseJsonLines(std::string_view content) {
  std::vector<EvalPrompt> out;
  size_t line_no = 0, pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (Blank(line)) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    const std::string where = "line " + std::to_string(line_no);
    if (!j.is_object()) return InvalidArgument(where + " is not a JSON object");
    EvalPrompt p;
    std::map<std::string, std::string*> fields = {{"id", &p.id},
                                                  {"prompt", &p.prompt},
                                                  {"system", &p.system},
                                                  {"reference", &p.reference},
                                                  {"category", &p.category}};
    for (const auto& [field, names] : kFieldNames) {
      for (const auto& name : names) {
        if (j.contains(name)) {
          *fields[field] = JsonText(j[name]);
          break;
        }
      }
    }
    if (p.prompt.empty()) return InvalidArgument(where + " has no \"prompt\"");
    out.push_back(std::move(p));
  }
  return out;
}

StatusOr<std::vector<EvalPrompt>> ParseCsv(std::string_view content) {
  size_t pos = 0;
  std::vector<std::string> header, fields;
  Status error;
  if (!NextCsvRecord(content, &pos, &header, &error)) {
    return error.ok() ? InvalidArgument("the CSV file is empty: give a header row and prompts")
                      : error;
  }
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name = Lower(header[i]);
    for (const auto& [field, names] : kFieldNames) {
      if (std::find(names.begin(), names.end(), name) != names.end() && !column.count(field)) {
        column[field] = i;
      }
    }
  }
  if (!column.count("prompt")) {
    return InvalidArgument(
        "the CSV header has no \"prompt\" column (columns: prompt, and "
        "optionally id, system, reference, category)");
  }
  std::vector<EvalPrompt> out;
  size_t record = 1;
  while (NextCsvRecord(content, &pos, &fields, &error)) {
    ++record;
    if (fields.size() == 1 && Blank(fields[0])) continue;
    auto get = [&](const char* field) -> std::string {
      const auto it = column.find(field);
      return it != column.end() && it->second < fields.size() ? fields[it->second] : "";
    };
    EvalPrompt p{get("id"), get("prompt"), get("system"), get("reference"), get("category")};
    if (Blank(p.prompt)) {
      return InvalidArgument("CSV record " + std::to_string(record) + " has an empty prompt");
    }
    out.push_back(std::move(p));
  }
  if (!error.ok()) return error;
  return out;
}

std::vector<EvalPrompt> ParseLines(std::string_view content) {
  std::vector<EvalPrompt> out;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!Blank(line)) out.push_back({"", std::string(line), "", "", ""});
  }
  return out;
}

}  // namespace

bool NextCsvRecord(std::string_view text, size_t* pos, std::vector<std::string>* fields,
                   Status* error) {
  fields->clear();
  size_t i = *pos;
  if (i >= text.size()) return false;
  std::string field;
  bool quoted = false;
  while (true) {
    if (i >= text.size()) {
      if (quoted) {
        *error = InvalidArgument("the CSV text ends inside a quoted field");
        return false;
      }
      fields->push_back(std::move(field));
      break;
    }
    const char c = text[i++];
    if (quoted) {
      if (c == '"') {
        if (i < text.size() && text[i] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i < text.size() && text[i] == '\n') ++i;
      fields->push_back(std::move(field));
      break;
    } else {
      field += c;
    }
  }
  *pos = i;
  return true;
}

std::string CsvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

StatusOr<std::vector<EvalPrompt>> ParsePromptSet(std::string_view file_name,
                                                 std::string_view content) {
  const std::string name = Lower(file_name);
  StatusOr<std::vector<EvalPrompt>> prompts = EndsWith(name, ".jsonl") || EndsWith(name, ".json")
                                                  ? ParseJsonLines(content)
                                              : EndsWith(name, ".csv") ? ParseCsv(content)
                                                                       : ParseLines(content);
  if (!prompts.ok()) return prompts.status();
  if (prompts->empty()) return InvalidArgument(std::string(file_name) + " holds no prompts");
  for (size_t i = 0; i < prompts->size(); ++i) {
    if ((*prompts)[i].id.empty()) (*prompts)[i].id = std::to_string(i + 1);
  }
  return prompts;
}

}  // namespace foundry::eval
