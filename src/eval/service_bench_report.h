// What `foundry bench --service` shows: the tutorial's per-model latency table (mean and p50
// latency, completion tokens, plus TTFT and tokens/s), the concurrency sweep's table, and an SVG
// chart of both (latency per model; aggregate throughput against concurrency, a line a model).
#pragma once

#include <string>
#include <vector>

#include "eval/service_bench.h"

namespace foundry::eval {

std::string LatencyTable(const std::vector<LatencyRow>& rows);
std::string SweepTable(const std::vector<SweepRow>& rows);
// A standalone SVG file (xml declaration, one root <svg>).
std::string BenchSvg(const std::vector<LatencyRow>& latency, const std::vector<SweepRow>& sweep);

}  // namespace foundry::eval
