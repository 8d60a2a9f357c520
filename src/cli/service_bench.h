// `foundry bench --service`: the tutorial's bench_latency.py through the running service (started
// if needed), for several models loaded in turn, then a concurrency sweep, as tables and an SVG
// chart (eval/service_bench.h measures, eval/service_bench_report.h shows). bench_command.cc
// registers the options.
#pragma once

#include <cstdint>
#include <string>

#include "catalog/catalog_options.h"

namespace foundry::cli {

struct ServiceBenchArgs {
  std::string models;  // comma-separated aliases, ids or GGUF paths
  std::string prompt = "Explain what a large language model is in one sentence.";  // the tutorial's
  int runs = 10;            // the tutorial's default
  int64_t max_tokens = 32;  // the tutorial's MAX_TOKENS
  std::string concurrency = "1,2,4,8";
  int requests_per_stream = 3;
  std::string svg;  // empty: no chart
};

// The exit code: 0, or ReportError's for the first error.
int RunServiceBench(const CatalogOptions& options, const ServiceBenchArgs& args);

}  // namespace foundry::cli
