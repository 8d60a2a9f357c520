// `foundry eval`: the tutorial's quality sheet, built for you. Every model answers every prompt
// of a file through the service (models loaded and unloaded in turn); the sheet records each
// output with its latency, time to first token, token counts and speed, and has fluency,
// relevance and correctness columns (1-5) that a person fills in (`foundry eval --rate`) or a
// local judge model does (`--judge`). The sheet is saved after every row, so an interrupted run
// resumes where it stopped; `--html` writes a report with charts.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/service_client.h"
#include "eval/html_report.h"
#include "eval/prompt_set.h"
#include "eval/results_sheet.h"

namespace foundry::cli {
namespace {

using json = nlohmann::json;
using eval::SheetRow;

struct EvalArgs {
  std::string models, prompts, out = "eval-results.csv", html, judge, rate;
  int64_t max_tokens = 256;
  double temperature = 0;
};

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

json Messages(const eval::EvalPrompt& p) {
  json messages = json::array();
  if (!p.system.empty()) messages.push_back({{"role", "system"}, {"content", p.system}});
  messages.push_back({{"role", "user"}, {"content", p.prompt}});
  return messages;
}

// One answer of `id` (the service's name of `model`) to one prompt, with its measurements.
SheetRow Answer(httplib::Client& c, const std::string& model, const std::string& id,
                const eval::EvalPrompt& p, const EvalArgs& a) {
  SheetRow row;
  row.model = model;
  row.prompt = p;
  json body = {{"model", id},
               {"messages", Messages(p)},
               {"max_tokens", a.max_tokens},
               {"temperature", a.temperature}};
  auto reply = StreamChat(c, body, nullptr);
  if (!reply.ok()) {
    row.error = reply.status().message();
    return row;
  }
  row.output = reply->text;
  row.latency_s = reply->total_s;
  row.ttft_s = std::max(0.0, reply->first_token_s);
  row.prompt_tokens = std::max<int64_t>(0, reply->prompt_tokens);
  row.completion_tokens = std::max<int64_t>(0, reply->completion_tokens);
  const double decode_s = reply->total_s - row.ttft_s;
  if (row.completion_tokens > 1 && decode_s > 0) {
    row.tokens_per_second = static_cast<double>(row.completion_tokens - 1) / decode_s;
  }
  return row;
}

// The judge's rubric (docs/evaluate.md) and the JSON its answer must be.
constexpr char kJudgeRubric[] =
    "You rate an AI assistant's answer to a user's prompt. Give three whole-number ratings from "
    "1 (very poor) to 5 (excellent):\n"
    "- fluency: is the answer well-formed, grammatical, readable text?\n"
    "- relevance: does it address what the prompt asks, without digressing?\n"
    "- correctness: is it factually and logically right (compare with the reference answer when "
    "one is given)?\n"
    "Answer with only a JSON object: {\"fluency\": N, \"relevance\": N, \"correctness\": N}.";

json RatingSchema() {
  const json rating = {{"type", "integer"}, {"minimum", 1}, {"maximum", 5}};
  return {{"type", "object"},
          {"properties", {{"fluency", rating}, {"relevance", rating}, {"correctness", rating}}},
          {"required", {"fluency", "relevance", "correctness"}},
          {"additionalProperties", false}};
}

// The judge's ratings of one row; an answer that is not the rating JSON leaves it unrated.
Status Judge(httplib::Client& c, const std::string& judge_id, SheetRow* row) {
  std::string user = "Prompt:\n" + row->prompt.prompt + "\n\n";
  if (!row->prompt.reference.empty())
    user += "Reference answer:\n" + row->prompt.reference + "\n\n";
  user += "Answer to rate:\n" + row->output;
  json body = {
      {"model", judge_id},
      {"messages",
       {{{"role", "system"}, {"content", kJudgeRubric}}, {{"role", "user"}, {"content", user}}}},
      {"max_tokens", 64},
      {"temperature", 0},
      {"response_format",
       {{"type", "json_schema"},
        {"json_schema", {{"name", "ratings"}, {"strict", true}, {"schema", RatingSchema()}}}}}};
  FOUNDRY_ASSIGN_OR_RETURN(ChatReply reply, StreamChat(c, body, nullptr));
  const json j = json::parse(reply.text, nullptr, false);
  auto rating = [&](const char* k) -> std::optional<int> {
    if (!j.is_object() || !j.contains(k) || !j[k].is_number_integer()) return std::nullopt;
    const int v = j[k].get<int>();
    return v >= 1 && v <= 5 ? std::optional<int>(v) : std::nullopt;
  };
  const auto f = rating("fluency"), r = rating("relevance"), k = rating("correctness");
  if (!f || !r || !k) {
    return InvalidArgument("the judge did not answer with the rating JSON: " + reply.text);
  }
  row->fluency = f;
  row->relevance = r;
  row->correctness = k;
  return OkStatus();
}

void Progress(const std::string& what, size_t done, size_t total) {
  if (!isatty(STDERR_FILENO)) return;
  std::fprintf(stderr, "\r%s %zu/%zu ", what.c_str(), done, total);
  if (done == total) std::fputs("\n", stderr);
  std::fflush(stderr);
}

void PrintSummary(const std::vector<SheetRow>& rows) {
  std::printf("%-32s %5s %6s %10s %8s %9s %7s\n", "model", "rows", "failed", "latency s", "TTFT s",
              "tokens/s", "rating");
  for (const auto& m : eval::Summarize(rows)) {
    std::string rating = "-";
    if (m.rated > 0) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "%.2f",
                    (m.mean_fluency + m.mean_relevance + m.mean_correctness) / 3);
      rating = buf;
    }
    std::printf("%-32s %5lld %6lld %10.3f %8.3f %9.1f %7s\n", m.model.c_str(),
                static_cast<long long>(m.rows), static_cast<long long>(m.failed), m.mean_latency_s,
                m.mean_ttft_s, m.mean_tokens_per_second, rating.c_str());
  }
}

int RunEval(const CatalogOptions& options, const EvalArgs& a) {
  const std::vector<std::string> models = SplitList(a.models);
  if (models.empty()) return ReportError(InvalidArgument("--models needs at least one model"));
  auto text = ReadFile(a.prompts);
  if (!text.ok()) return ReportError(text.status());
  auto prompts = eval::ParsePromptSet(a.prompts, *text);
  if (!prompts.ok())
    return ReportError(InvalidArgument(a.prompts + ": " + prompts.status().message()));
  auto saved = eval::LoadSheet(a.out);
  if (!saved.ok()) return ReportError(saved.status());

  // The sheet in model x prompt order, finished rows taken from the saved sheet.
  std::vector<SheetRow> rows;
  size_t resumed = 0;
  for (const auto& model : models) {
    for (const auto& p : *prompts) {
      auto it = std::find_if(saved->begin(), saved->end(), [&](const SheetRow& r) {
        return r.model == model && r.prompt.id == p.id && r.prompt.prompt == p.prompt && r.done();
      });
      if (it != saved->end()) {
        rows.push_back(*it);
        ++resumed;
      } else {
        rows.push_back({model, p});
        rows.back().error = "not run";
      }
    }
  }
  if (resumed > 0) {
    std::printf("Resuming %s: %zu of %zu rows already done\n", a.out.c_str(), resumed, rows.size());
  }
  auto service = EnsureService(options.home);
  if (!service.ok()) return ReportError(service.status());
  auto client = Client(*service);

  size_t done = resumed;
  for (const auto& model : models) {
    const bool pending = std::any_of(
        rows.begin(), rows.end(), [&](const SheetRow& r) { return r.model == model && !r.done(); });
    if (!pending) continue;
    auto id = EnsureCached(options, model);
    if (!id.ok()) return ReportError(id.status());
    std::printf("Loading %s...\n", model.c_str());
    std::fflush(stdout);
    if (Status st = LoadInService(*client, *id, -1); !st.ok()) return ReportError(st);
    for (auto& row : rows) {
      if (row.model != model || row.done()) continue;
      row = Answer(*client, model, *id, row.prompt, a);
      if (!row.done()) std::fprintf(stderr, "warning: %s: %s\n", model.c_str(), row.error.c_str());
      if (Status st = eval::SaveSheet(a.out, rows); !st.ok()) return ReportError(st);
      Progress("answers", ++done, rows.size());
    }
    client->Get(("/openai/unload/" + PathName(*id)).c_str());
  }

  if (!a.judge.empty()) {
    auto judge_id = EnsureCached(options, a.judge);
    if (!judge_id.ok()) return ReportError(judge_id.status());
    std::printf("Rating with %s...\n", a.judge.c_str());
    std::fflush(stdout);
    if (Status st = LoadInService(*client, *judge_id, -1); !st.ok()) return ReportError(st);
    size_t judged = 0;
    for (auto& row : rows) {
      if (!row.done() || row.rated()) continue;
      if (Status st = Judge(*client, *judge_id, &row); !st.ok()) {
        std::fprintf(stderr, "warning: row %s of %s left unrated: %s\n", row.prompt.id.c_str(),
                     row.model.c_str(), st.message().c_str());
      }
      if (Status st = eval::SaveSheet(a.out, rows); !st.ok()) return ReportError(st);
      Progress("ratings", ++judged, rows.size());
    }
  }
  if (!a.html.empty()) {
    std::ofstream html(a.html, std::ios::binary | std::ios::trunc);
    if (!(html << eval::HtmlReport(rows))) return ReportError(IoError("cannot write " + a.html));
  }
  PrintSummary(rows);
  std::printf("Results: %s%s%s\n", a.out.c_str(),
              a.html.empty() ? "" : ", report: ", a.html.c_str());
  const bool failed =
      std::any_of(rows.begin(), rows.end(), [](const SheetRow& r) { return !r.done(); });
  return failed ? ReportError(
                      IoError("some requests failed; run the same command again to retry them"))
                : 0;
}

// Asks for one rating; false when the person quits. Empty input or 's' skips.
bool AskRating(const char* name, std::optional<int>* out, bool* quit) {
  for (;;) {
    std::printf("  %s (1-5, Enter to skip, q to quit): ", name);
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) {
      *quit = true;
      return false;
    }
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line == "q") {
      *quit = true;
      return false;
    }
    if (line.empty() || line == "s") return true;
    if (line.size() == 1 && line[0] >= '1' && line[0] <= '5') {
      *out = line[0] - '0';
      return true;
    }
    std::printf("  please type a number from 1 to 5\n");
  }
}

int RunRate(const EvalArgs& a) {
  auto rows = eval::LoadSheet(a.rate);
  if (!rows.ok()) return ReportError(rows.status());
  if (rows->empty()) return ReportError(NotFound("no results in " + a.rate));
  const size_t todo = std::count_if(rows->begin(), rows->end(),
                                    [](const SheetRow& r) { return r.done() && !r.rated(); });
  std::printf("%zu of %zu rows to rate. Ratings are saved after each row.\n", todo, rows->size());
  bool quit = false;
  size_t n = 0;
  for (auto& row : *rows) {
    if (!row.done() || row.rated()) continue;
    std::printf("\n--- %zu/%zu  model: %s  prompt %s%s\n", ++n, todo, row.model.c_str(),
                row.prompt.id.c_str(),
                row.prompt.category.empty() ? "" : (" (" + row.prompt.category + ")").c_str());
    std::printf("Prompt:\n%s\n", row.prompt.prompt.c_str());
    if (!row.prompt.reference.empty())
      std::printf("Reference:\n%s\n", row.prompt.reference.c_str());
    std::printf("Answer:\n%s\n\n", row.output.c_str());
    if (!row.fluency && !AskRating("fluency", &row.fluency, &quit)) break;
    if (!row.relevance && !AskRating("relevance", &row.relevance, &quit)) break;
    if (!row.correctness && !AskRating("correctness", &row.correctness, &quit)) break;
    if (Status st = eval::SaveSheet(a.rate, *rows); !st.ok()) return ReportError(st);
  }
  if (Status st = eval::SaveSheet(a.rate, *rows); !st.ok()) return ReportError(st);
  std::printf("\n%s saved.%s\n", a.rate.c_str(), quit ? " Run the same command to go on." : "");
  return 0;
}

}  // namespace

void AddEvalCommand(CLI::App& app, const Environment& env, int& exit_code) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Answer a file of prompts with several models into a quality sheet (CSV/JSON)");
  cmd->add_option("--models", args->models,
                  "Models to compare, comma-separated (alias, id or path)");
  cmd->add_option("--prompts", args->prompts, "Prompts: JSON Lines, CSV or one prompt a line");
  cmd->add_option("--out", args->out, "The sheet: .csv or .json (default eval-results.csv)");
  cmd->add_option("--html", args->html, "Also write an HTML report with charts");
  cmd->add_option("--judge", args->judge, "Fill the ratings with this local model as judge");
  cmd->add_option("--rate", args->rate, "Rate a saved sheet by hand, in the terminal");
  cmd->add_option("--max-tokens", args->max_tokens, "Most tokens per answer (default 256)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--temperature", args->temperature, "Sampling temperature (default 0: greedy)")
      ->check(CLI::Range(0.0, 2.0));
  cmd->callback([&env, args, &exit_code] {
    if (!args->rate.empty()) {
      exit_code = RunRate(*args);
    } else if (args->models.empty() || args->prompts.empty()) {
      exit_code = ReportError(
          InvalidArgument("give --models and --prompts (or --rate SHEET to rate a saved sheet)"));
    } else {
      exit_code = RunEval(env.catalog, *args);
    }
  });
}

}  // namespace foundry::cli
