// `foundry bench --service`: the measurements of the Foundry Local tutorial's bench_latency.py,
// grown up. A fixed prompt is sent several times to each model in turn (latency, time to first
// token, generation speed), then by 1, 2, 4... concurrent streams at once (aggregate tokens/s
// and latency percentiles per level). How a request reaches the service is the caller's
// (a function per stream), so the measuring here needs no HTTP and is tested without a service.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "foundry/status.h"

namespace foundry::eval {

// What one request took.
struct RequestTiming {
  double latency_s = 0;  // from sending the request to the end of the answer
  double ttft_s = 0;     // from sending the request to the first piece of the answer
  int64_t completion_tokens = 0;
};

// Sends the benchmark's request on stream `stream` (0 <= stream < the level's streams; calls
// for different streams run at the same time, on different threads).
using SendRequest = std::function<StatusOr<RequestTiming>(int stream)>;

// Generation speed of one request: tokens after the first over the time after the first.
double GenerationSpeed(const RequestTiming& t);

// The p-th percentile (0-100) of `values`, interpolated between the closest ranks (numpy's
// default; p=50 is the median that bench_latency.py prints); 0 for no values.
double Percentile(std::vector<double> values, double p);

// The tutorial's numbers for one model: `runs` requests one after another.
struct LatencyRow {
  std::string model;
  int runs = 0;
  double mean_latency_s = 0, p50_latency_s = 0;
  double mean_completion_tokens = 0;
  double mean_ttft_s = 0;
  double tokens_per_second = 0;  // mean generation speed of the runs
};

// Measures one model; on_run sees each run as it ends (the tutorial prints "Run i: ...").
StatusOr<LatencyRow> MeasureLatency(
    const std::string& model, int runs, const SendRequest& send,
    const std::function<void(int run, const RequestTiming&)>& on_run = nullptr);

// One level of the concurrency sweep: `streams` clients each sending `requests_per_stream`
// requests back to back, all at once.
struct SweepRow {
  std::string model;
  int streams = 0;
  int64_t requests = 0, completion_tokens = 0;
  double wall_s = 0;
  double tokens_per_second = 0;  // every stream's completion tokens over the level's wall time
  double p50_latency_s = 0, p95_latency_s = 0, mean_ttft_s = 0;
};

// Measures one level; the first failed request's error fails the level.
StatusOr<SweepRow> MeasureConcurrency(const std::string& model, int streams,
                                      int requests_per_stream, const SendRequest& send);

}  // namespace foundry::eval
