// Follows each request from its arrival (the pre-routing handler) through its route (the model,
// the generation's tokens) to the end of its answer (the logger, which cpp-httplib calls after a
// stream's last event), then counts it in the metrics and writes its request-log line. A
// generation still running when its answer ended (the client went away) is counted when it
// finishes, so that token counters stay exact.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/scheduler.h"
#include "server/metrics.h"
#include "server/request_log.h"

namespace foundry {

// One request in progress. Its routes fill it through RequestTracker's methods.
struct TrackedRequest {
  std::chrono::steady_clock::time_point start;
  std::mutex mu;
  RequestLogEntry entry;  // with mu held
  bool timed = false;     // start is the arrival (false: the request skipped routing)
  bool generating = false;
  bool answered = false;
  std::chrono::steady_clock::time_point first_token_at{};
  std::chrono::steady_clock::time_point generation_end{};
};

class RequestTracker {
 public:
  // `metrics` and `log` (null: no request log) must outlive the tracker.
  RequestTracker(ServiceMetrics& metrics, RequestLog* log) : metrics_(metrics), log_(log) {}

  // A request has arrived (before its route).
  void Begin(const httplib::Request& req);
  // The request in progress (null when Begin was not called for it).
  std::shared_ptr<TrackedRequest> Find(const httplib::Request& req);
  // Its model (the name the request gave) and id (empty: keep the tracker's).
  void SetModel(TrackedRequest* r, const std::string& model, const std::string& id = "");
  // Prompt tokens of a request that generates nothing (embeddings).
  void AddPromptTokens(TrackedRequest* r, int64_t n);
  // A generation was queued: the request is counted only once it finishes too.
  void GenerationStarted(TrackedRequest* r);
  // The scheduler refused it (its callbacks will never come).
  void GenerationRefused(TrackedRequest* r);
  // Called from the generation's on_done (the scheduler's thread).
  void GenerationFinished(const std::shared_ptr<TrackedRequest>& r, const GenerationResult& result);
  // The answer was sent (cpp-httplib's logger): `status` is its HTTP status.
  void End(const httplib::Request& req, int status);

 private:
  std::shared_ptr<TrackedRequest> NewRecord(const httplib::Request& req);  // not yet timed
  void Complete(TrackedRequest& r);  // counts and logs; without r.mu held

  ServiceMetrics& metrics_;
  RequestLog* log_;
  std::atomic<uint64_t> next_id_{0};
  std::mutex mu_;
  // Keyed by the request object's address: cpp-httplib keeps one Request from the
  // pre-routing handler to the logger, on one thread.
  std::map<const httplib::Request*, std::shared_ptr<TrackedRequest>> requests_;
};

}  // namespace foundry
