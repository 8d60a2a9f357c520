#include "eval/results_sheet.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace foundry::eval {
namespace {

using nlohmann::json;

bool IsJsonName(std::string_view name) {
  return name.size() >= 5 && name.substr(name.size() - 5) == ".json";
}

// Microseconds: a small model's first token can come in under a millisecond, which three
// decimals wrote as 0.
std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", v);
  return buf;
}

// Every column's text for one row.
std::vector<std::string> Cells(const SheetRow& r) {
  auto rating = [](const std::optional<int>& v) { return v ? std::to_string(*v) : ""; };
  return {r.model,
          r.prompt.id,
          r.prompt.category,
          r.prompt.system,
          r.prompt.prompt,
          r.prompt.reference,
          r.output,
          r.error,
          Number(r.latency_s),
          Number(r.ttft_s),
          std::to_string(r.prompt_tokens),
          std::to_string(r.completion_tokens),
          Number(r.tokens_per_second),
          rating(r.fluency),
          rating(r.relevance),
          rating(r.correctness)};
}

Status ParseNumber(const std::string& text, double* out) {
  if (text.empty()) return OkStatus();
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return *end == '\0' ? OkStatus() : InvalidArgument("'" + text + "' is not a number");
}

Status ParseRating(const std::string& text, std::optional<int>* out) {
  if (text.empty()) return OkStatus();
  if (text.size() != 1 || text[0] < '1' || text[0] > '5') {
    return InvalidArgument("rating '" + text + "' is not a whole number from 1 to 5");
  }
  *out = text[0] - '0';
  return OkStatus();
}

// A row from its cells by column name.
StatusOr<SheetRow> RowFrom(const std::map<std::string, std::string>& cell) {
  auto get = [&](const char* name) {
    const auto it = cell.find(name);
    return it == cell.end() ? std::string() : it->second;
  };
  SheetRow r;
  r.model = get("model");
  r.prompt = {get("prompt_id"), get("prompt"), get("system"), get("reference"), get("category")};
  r.output = get("output");
  r.error = get("error");
  double pt = 0, ct = 0;
  FOUNDRY_RETURN_IF_ERROR(ParseNumber(get("latency_s"), &r.latency_s));
  FOUNDRY_RETURN_IF_ERROR(ParseNumber(get("ttft_s"), &r.ttft_s));
  FOUNDRY_RETURN_IF_ERROR(ParseNumber(get("prompt_tokens"), &pt));
  FOUNDRY_RETURN_IF_ERROR(ParseNumber(get("completion_tokens"), &ct));
  FOUNDRY_RETURN_IF_ERROR(ParseNumber(get("tokens_per_second"), &r.tokens_per_second));
  r.prompt_tokens = static_cast<int64_t>(pt);
  r.completion_tokens = static_cast<int64_t>(ct);
  FOUNDRY_RETURN_IF_ERROR(ParseRating(get("fluency"), &r.fluency));
  FOUNDRY_RETURN_IF_ERROR(ParseRating(get("relevance"), &r.relevance));
  FOUNDRY_RETURN_IF_ERROR(ParseRating(get("correctness"), &r.correctness));
  if (r.model.empty() || r.prompt.prompt.empty()) {
    return InvalidArgument("a row has no model or no prompt");
  }
  return r;
}

}  // namespace

const std::vector<std::string>& SheetColumns() {
  static const std::vector<std::string> kColumns = {"model",
                                                    "prompt_id",
                                                    "category",
                                                    "system",
                                                    "prompt",
                                                    "reference",
                                                    "output",
                                                    "error",
                                                    "latency_s",
                                                    "ttft_s",
                                                    "prompt_tokens",
                                                    "completion_tokens",
                                                    "tokens_per_second",
                                                    "fluency",
                                                    "relevance",
                                                    "correctness"};
  return kColumns;
}

std::string SheetToCsv(const std::vector<SheetRow>& rows) {
  std::string out;
  auto line = [&out](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += CsvField(cells[i]);
    }
    out += "\r\n";
  };
  line(SheetColumns());
  for (const auto& r : rows) line(Cells(r));
  return out;
}

std::string SheetToJson(const std::vector<SheetRow>& rows) {
  // Keys in the sheet's column order.
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    nlohmann::ordered_json row = nlohmann::ordered_json::object();
    const std::vector<std::string> cells = Cells(r);
    for (size_t i = 0; i < cells.size(); ++i) row[SheetColumns()[i]] = cells[i];
    // Numbers and ratings as JSON numbers (null until rated).
    row["latency_s"] = r.latency_s;
    row["ttft_s"] = r.ttft_s;
    row["prompt_tokens"] = r.prompt_tokens;
    row["completion_tokens"] = r.completion_tokens;
    row["tokens_per_second"] = r.tokens_per_second;
    row["fluency"] = r.fluency ? nlohmann::ordered_json(*r.fluency) : nlohmann::ordered_json();
    row["relevance"] =
        r.relevance ? nlohmann::ordered_json(*r.relevance) : nlohmann::ordered_json();
    row["correctness"] =
        r.correctness ? nlohmann::ordered_json(*r.correctness) : nlohmann::ordered_json();
    out.push_back(std::move(row));
  }
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

StatusOr<std::vector<SheetRow>> ParseSheet(std::string_view file_name, std::string_view content) {
  std::vector<SheetRow> rows;
  if (IsJsonName(file_name)) {
    const json j = json::parse(content, nullptr, false);
    if (!j.is_array()) return InvalidArgument(std::string(file_name) + " is not a JSON array");
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_object())
        return InvalidArgument("row " + std::to_string(i + 1) + " is not an object");
      std::map<std::string, std::string> cell;
      for (const auto& [k, v] : j[i].items()) {
        cell[k] = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
      }
      auto row = RowFrom(cell);
      if (!row.ok())
        return InvalidArgument("row " + std::to_string(i + 1) + ": " + row.status().message());
      rows.push_back(std::move(*row));
    }
    return rows;
  }
  size_t pos = 0;
  std::vector<std::string> header, fields;
  Status error;
  if (!NextCsvRecord(content, &pos, &header, &error)) {
    return error.ok() ? StatusOr<std::vector<SheetRow>>(rows) : error;
  }
  size_t record = 1;
  while (NextCsvRecord(content, &pos, &fields, &error)) {
    ++record;
    if (fields.size() == 1 && fields[0].empty()) continue;
    std::map<std::string, std::string> cell;
    for (size_t i = 0; i < header.size() && i < fields.size(); ++i) cell[header[i]] = fields[i];
    auto row = RowFrom(cell);
    if (!row.ok()) {
      return InvalidArgument("record " + std::to_string(record) + ": " + row.status().message());
    }
    rows.push_back(std::move(*row));
  }
  if (!error.ok()) return error;
  return rows;
}

Status SaveSheet(const std::string& path, const std::vector<SheetRow>& rows) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IoError("cannot write " + tmp + ": " + std::strerror(errno));
    out << (IsJsonName(path) ? SheetToJson(rows) : SheetToCsv(rows));
    if (!out.flush()) return IoError("writing " + tmp + " failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IoError("cannot replace " + path + ": " + ec.message());
  return OkStatus();
}

StatusOr<std::vector<SheetRow>> LoadSheet(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::vector<SheetRow>{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  auto rows = ParseSheet(path, s.str());
  if (!rows.ok()) return InvalidArgument(path + ": " + rows.status().message());
  return rows;
}

}  // namespace foundry::eval
