// `foundry bench MODEL.gguf`: prompt-processing and generation speed, in-process, in the
// manner of llama.cpp's llama-bench, so the two compare run for run: random tokens, one
// session per test reused across repetitions, the same warm-up (the whole prompt for ppN, one
// token for tgN), median of repetitions. With -d N each repetition starts with N random tokens
// already in the KV cache (evaluated once, untimed, and kept across repetitions as llama-bench
// restores its saved state), so attention over a long context is part of what is timed.
// `foundry bench --service` measures through the running service instead (service_bench.h).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/service_bench.h"
#include "engine/internal.h"
#include "format/gguf_file.h"
#include "foundry/engine.h"
#include "kernels/kernels.h"

namespace foundry::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::string prompts = "512";
  std::string gens = "128";
  std::string depths = "0";
  std::string threads;
  int reps = 5;
  bool json = false;
  bool no_warmup = false;
};

StatusOr<std::vector<int64_t>> ParseList(const std::string& s, const char* what, int64_t min) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || v < min || v > (1 << 24)) {
      return InvalidArgument(std::string("bad value '") + item + "' in " + what);
    }
    out.push_back(v);
  }
  return out;
}

int64_t PeakRssBytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

// What one generated token reads: every weight matrix once (the embedding lookup reads a row).
struct ModelFacts {
  std::string name, quant;
  uint64_t bytes = 0;
};

// general.file_type (llama.cpp's llama_ftype) as the quantization's usual name; "" if unknown.
std::string FileTypeName(uint64_t file_type) {
  static const std::map<uint64_t, std::string> kNames = {
      {0, "F32"},     {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},
      {8, "Q5_0"},    {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"},
      {13, "Q3_K_L"}, {14, "Q4_K_S"}, {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"},
      {18, "Q6_K"},   {32, "BF16"}};
  const auto it = kNames.find(file_type);
  return it == kNames.end() ? "" : it->second;
}

ModelFacts DescribeModel(const GgufFile& g) {
  ModelFacts f;
  auto name = g.FindString("general.name");
  f.name = name.ok() && name->has_value() ? std::string(**name) : g.path();
  std::map<std::string, uint64_t> by_type;
  for (const auto& t : g.tensors()) {
    f.bytes += t.nbytes;
    if (t.n_dims >= 2) by_type[std::string(QuantTypeName(t.type))] += t.nbytes;
  }
  uint64_t best = 0;
  for (const auto& [type, bytes] : by_type) {
    if (bytes > best) best = bytes, f.quant = type;
  }
  // The file's own label where it has one: a Q4_K_M file's largest tensor may well be Q8_0.
  auto file_type = g.FindUint("general.file_type");
  if (file_type.ok() && file_type->has_value()) {
    const std::string name = FileTypeName(**file_type);
    if (!name.empty()) f.quant = name;
  }
  return f;
}

struct Sample {
  std::string test;
  int threads;
  double median, stddev;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double StdDev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Tokens per second of one run on a session holding `depth` tokens (the first run fills them
// in; later runs keep them and forget the rest): a prompt of n tokens in batches, or n tokens
// one at a time.
StatusOr<double> RunOnce(Session& session, int32_t n_vocab, int64_t depth, int64_t n, bool prompt,
                         std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> dist(0, n_vocab - 1);
  std::vector<float> logits;
  if (session.position() < depth) {
    session.Reset();
    std::vector<int32_t> ids(static_cast<size_t>(depth));
    for (auto& id : ids) id = dist(rng);
    FOUNDRY_RETURN_IF_ERROR(session.Evaluate(ids, false, &logits));
  }
  session.Truncate(depth);
  const auto t0 = std::chrono::steady_clock::now();
  if (prompt) {
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (auto& id : ids) id = dist(rng);
    FOUNDRY_RETURN_IF_ERROR(session.Evaluate(ids, false, &logits));
  } else {
    for (int64_t i = 0; i < n; ++i)
      FOUNDRY_RETURN_IF_ERROR(session.Evaluate({dist(rng)}, false, &logits));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(n) / s;
}

int RunBench(const LoadOptions& load, const BenchArgs& a) {
  auto prompts = ParseList(a.prompts, "-p", 0);
  auto gens = ParseList(a.gens, "-n", 0);
  auto depths = ParseList(a.depths, "-d", 0);
  auto threads = ParseList(a.threads.empty()
                               ? std::to_string(std::max(1u, std::thread::hardware_concurrency()))
                               : a.threads,
                           "-t", 1);
  if (!prompts.ok()) return ReportError(prompts.status());
  if (!gens.ok()) return ReportError(gens.status());
  if (!depths.ok()) return ReportError(depths.status());
  if (!threads.ok()) return ReportError(threads.status());
  if (a.reps < 1) return ReportError(InvalidArgument("-r must be at least 1"));
  auto lm = LanguageModel::Load(a.model, load);
  if (!lm.ok()) return ReportError(lm.status());
  const ModelFacts facts = DescribeModel(GgufOf(**lm));

  std::mt19937 rng(1234);
  nlohmann::json out = nlohmann::json::array();
  if (!a.json) {
    std::printf("| %-28s | %-6s | %9s | %7s | %-7s | %16s | %8s |\n", "model", "quant", "size",
                "threads", "test", "t/s", "GB/s");
    std::printf("| %.28s | %.6s | %.9s | %.7s | %.7s | %.16s | %.8s |\n",
                "-----------------------------", "-------", "----------", "--------", "--------",
                "-----------------", "---------");
  }
  for (int64_t t : *threads) {
    struct Test {
      bool is_prompt;
      int64_t n, depth;
    };
    std::vector<Test> tests;  // llama-bench's order: prompts, then generations, each per depth
    for (int64_t p : *prompts)
      for (int64_t d : *depths)
        if (p > 0) tests.push_back({true, p, d});
    for (int64_t n : *gens)
      for (int64_t d : *depths)
        if (n > 0) tests.push_back({false, n, d});
    for (const auto& [is_prompt, n, depth] : tests) {
      const std::string name = (is_prompt ? "pp" : "tg") + std::to_string(n);
      const std::string label = depth > 0 ? name + " @ d" + std::to_string(depth) : name;
      EngineOptions opts;
      opts.n_threads = static_cast<int>(t);
      opts.n_ctx = n + depth;
      auto session = Session::Create(*lm, opts);
      if (!session.ok()) return ReportError(session.status());
      const auto n_vocab = static_cast<int32_t>((*lm)->n_vocab());
      if (!a.no_warmup) {  // as llama-bench: the warm-up runs without the depth
        auto warm = RunOnce(**session, n_vocab, 0, is_prompt ? n : 1, is_prompt, rng);
        if (!warm.ok()) return ReportError(warm.status());
      }
      std::vector<double> tps;
      for (int r = 0; r < a.reps; ++r) {
        auto v = RunOnce(**session, n_vocab, depth, n, is_prompt, rng);
        if (!v.ok()) return ReportError(v.status());
        tps.push_back(*v);
      }
      const double med = Median(tps), sd = StdDev(tps);
      if (a.json) {
        out.push_back({{"model", facts.name},
                       {"quant", facts.quant},
                       {"threads", t},
                       {"test", name},
                       {"n_prompt", is_prompt ? n : 0},
                       {"n_gen", is_prompt ? 0 : n},
                       {"n_depth", depth},
                       {"isa", std::string((*lm)->isa())},
                       {"repetitions", a.reps},
                       {"samples_tokens_per_second", tps},
                       {"tokens_per_second", med},
                       {"stddev", sd},
                       {"peak_rss_bytes", PeakRssBytes()}});
      } else {
        const double gbs = is_prompt ? 0.0 : med * static_cast<double>(facts.bytes) / 1e9;
        char size[32];
        std::snprintf(size, sizeof(size), "%.2f MiB", static_cast<double>(facts.bytes) / 1048576.0);
        char gb[32] = "";
        if (!is_prompt) std::snprintf(gb, sizeof(gb), "%.2f", gbs);
        std::printf("| %-28.28s | %-6s | %9s | %7lld | %-7s | %8.2f ± %5.2f | %8s |\n",
                    facts.name.c_str(), facts.quant.c_str(), size, static_cast<long long>(t),
                    label.c_str(), med, sd, gb);
        std::fflush(stdout);
      }
    }
  }
  if (a.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("peak resident memory: %.1f MiB; kernels: %s\n",
                static_cast<double>(PeakRssBytes()) / 1048576.0, std::string((*lm)->isa()).c_str());
  }
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App& app, const Environment& env, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  auto service = std::make_shared<ServiceBenchArgs>();
  auto through_service = std::make_shared<bool>(false);
  CLI::App* cmd =
      app.add_subcommand("bench",
                         "Measure prompt and generation speed of a GGUF model (or, with --service, "
                         "latency and throughput through the service)");
  cmd->add_option("model", args->model, "Path to a GGUF model file");
  cmd->add_option("-p,--n-prompt", args->prompts, "Prompt lengths, comma-separated (default 512)");
  cmd->add_option("-n,--n-gen", args->gens,
                  "Generated token counts, comma-separated (default 128)");
  cmd->add_option("-d,--n-depth", args->depths,
                  "Tokens already in the KV cache before each test, comma-separated (default 0)");
  cmd->add_option("-t,--threads", args->threads,
                  "Thread counts, comma-separated (default: all cores)");
  cmd->add_option("-r,--repetitions", args->reps, "Repetitions of each test (default 5)");
  cmd->add_flag("--json", args->json, "Print a JSON array, one object per test");
  cmd->add_flag("--no-warmup", args->no_warmup,
                "Skip the untimed warm-up run before each test (llama-bench's --no-warmup)");
  auto* svc = cmd->add_flag("--service", *through_service,
                            "Measure through the running service (started if needed): per-model "
                            "latency as the tutorial's bench_latency.py, then a concurrency sweep");
  cmd->add_option("--models", service->models,
                  "With --service: models to measure in turn, comma-separated (alias, id or path)")
      ->needs(svc);
  cmd->add_option("--runs", service->runs, "With --service: requests per model (default 10)")
      ->needs(svc);
  cmd->add_option("--prompt", service->prompt, "With --service: the prompt every request sends")
      ->needs(svc);
  cmd->add_option("--max-tokens", service->max_tokens,
                  "With --service: most tokens per answer (default 32)")
      ->needs(svc);
  cmd->add_option("--concurrency", service->concurrency,
                  "With --service: concurrent streams per sweep level (default 1,2,4,8)")
      ->needs(svc);
  cmd->add_option("--requests-per-stream", service->requests_per_stream,
                  "With --service: requests each stream sends at a sweep level (default 3)")
      ->needs(svc);
  cmd->add_option("--svg", service->svg,
                  "With --service: write an SVG chart (latency per model, throughput and p95 "
                  "latency against concurrency)")
      ->needs(svc);
  cmd->callback([&env, args, service, through_service, &exit_code] {
    if (*through_service) {
      if (service->models.empty()) service->models = args->model;
      exit_code = RunServiceBench(env.catalog, *service);
    } else if (args->model.empty()) {
      exit_code = ReportError(
          InvalidArgument("give a GGUF model file, or --service --models a,b to measure through "
                          "the service"));
    } else {
      exit_code = RunBench(ModelLoadOptions(env), *args);
    }
  });
}

}  // namespace foundry::cli
