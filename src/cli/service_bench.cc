// `foundry bench --service` (service_bench.h): the requests, the models' loading and the output.
#include "cli/service_bench.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "cli/commands.h"
#include "cli/service_client.h"
#include "eval/service_bench.h"
#include "eval/service_bench_report.h"

namespace foundry::cli {
namespace {

using json = nlohmann::json;

// The concurrency levels: positive integers, at most 256 streams.
StatusOr<std::vector<int>> ParseLevels(const std::string& list) {
  std::vector<int> levels;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > 256) {
      return InvalidArgument("bad concurrency level '" + item +
                             "' in --concurrency: give whole numbers from 1 to 256, e.g. 1,2,4,8");
    }
    levels.push_back(static_cast<int>(v));
  }
  if (levels.empty()) return InvalidArgument("--concurrency needs at least one level, e.g. 1,2,4");
  return levels;
}

std::vector<std::string> ModelNames(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (const auto b = item.find_first_not_of(" \t"); b != std::string::npos)
      names.push_back(item.substr(b, item.find_last_not_of(" \t") - b + 1));
  }
  return names;
}

// The table's name of a model: a GGUF path's file name without ".gguf", else the name as given.
std::string DisplayName(const std::string& name) {
  const std::filesystem::path p(name);
  return p.is_absolute() ? p.stem().string() : name;
}

}  // namespace

int RunServiceBench(const CatalogOptions& options, const ServiceBenchArgs& a) {
  const std::vector<std::string> names = ModelNames(a.models);
  if (names.empty()) return ReportError(InvalidArgument("--service needs --models a,b (or MODEL)"));
  if (a.runs < 1) return ReportError(InvalidArgument("--runs must be at least 1"));
  if (a.requests_per_stream < 1)
    return ReportError(InvalidArgument("--requests-per-stream must be at least 1"));
  if (a.max_tokens < 1) return ReportError(InvalidArgument("--max-tokens must be at least 1"));
  if (a.prompt.empty()) return ReportError(InvalidArgument("--prompt must not be empty"));
  auto levels = ParseLevels(a.concurrency);
  if (!levels.ok()) return ReportError(levels.status());
  if (const auto dir = std::filesystem::path(a.svg).parent_path();
      !dir.empty() && !std::filesystem::is_directory(dir)) {
    return ReportError(NotFound("no such folder for --svg: " + dir.string()));
  }
  // Every model is found (or downloaded) before anything is measured.
  std::vector<std::string> ids;
  for (const auto& name : names) {
    auto id = EnsureCached(options, name);
    if (!id.ok()) return ReportError(id.status());
    ids.push_back(*id);
  }
  auto service = EnsureService(options.home);
  if (!service.ok()) return ReportError(service.status());
  // A client per stream: one httplib client serves one request at a time.
  std::vector<std::unique_ptr<httplib::Client>> clients;
  const int streams = *std::max_element(levels->begin(), levels->end());
  for (int s = 0; s < streams; ++s) clients.push_back(Client(*service));

  std::vector<eval::LatencyRow> latency;
  std::vector<eval::SweepRow> sweep;
  for (size_t m = 0; m < names.size(); ++m) {
    const std::string model = DisplayName(names[m]);
    const json body = {{"model", ids[m]},
                       {"messages", {{{"role", "user"}, {"content", a.prompt}}}},
                       {"max_tokens", a.max_tokens},
                       {"temperature", 0}};
    const eval::SendRequest send = [&](int stream) -> StatusOr<eval::RequestTiming> {
      FOUNDRY_ASSIGN_OR_RETURN(ChatReply reply, StreamChat(*clients[stream], body, nullptr));
      eval::RequestTiming t;
      t.latency_s = reply.total_s;
      t.ttft_s = reply.first_token_s < 0 ? reply.total_s : reply.first_token_s;
      t.completion_tokens = std::max<int64_t>(0, reply.completion_tokens);
      return t;
    };
    std::printf("Loading %s...\n", model.c_str());
    std::fflush(stdout);
    if (Status st = LoadInService(*clients[0], ids[m], -1); !st.ok()) return ReportError(st);
    // One untimed request first, as llama-bench warms up: the first pays for paging weights in.
    if (auto warm = send(0); !warm.ok()) return ReportError(warm.status());
    auto row = eval::MeasureLatency(model, a.runs, send, [](int i, const eval::RequestTiming& t) {
      std::printf("Run %d: %.1f ms, %lld tokens, TTFT %.1f ms\n", i + 1, t.latency_s * 1000,
                  static_cast<long long>(t.completion_tokens), t.ttft_s * 1000);
      std::fflush(stdout);
    });
    if (!row.ok()) return ReportError(row.status());
    std::printf("Mean latency: %.1f ms\np50 latency: %.1f ms\n", row->mean_latency_s * 1000,
                row->p50_latency_s * 1000);
    latency.push_back(*row);
    for (int level : *levels) {
      auto s = eval::MeasureConcurrency(model, level, a.requests_per_stream, send);
      if (!s.ok()) return ReportError(s.status());
      std::printf("%d concurrent: %.1f tokens/s, p95 latency %.1f ms\n", level,
                  s->tokens_per_second, s->p95_latency_s * 1000);
      std::fflush(stdout);
      sweep.push_back(*s);
    }
    clients[0]->Get(("/openai/unload/" + PathName(ids[m])).c_str());
  }
  std::printf("\nLatency (%d runs, max %lld tokens):\n%s", a.runs,
              static_cast<long long>(a.max_tokens), eval::LatencyTable(latency).c_str());
  std::printf("\nConcurrency sweep (%d requests per stream):\n%s", a.requests_per_stream,
              eval::SweepTable(sweep).c_str());
  if (!a.svg.empty()) {
    std::ofstream out(a.svg, std::ios::binary | std::ios::trunc);
    if (!(out << eval::BenchSvg(latency, sweep)))
      return ReportError(IoError("cannot write " + a.svg));
    std::printf("Chart: %s\n", a.svg.c_str());
  }
  return 0;
}

}  // namespace foundry::cli
