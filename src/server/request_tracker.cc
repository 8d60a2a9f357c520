#include "server/request_tracker.h"

namespace foundry {
namespace {

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double SecondsBetween(std::chrono::steady_clock::time_point a,
                      std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Polled by load balancers and Prometheus every few seconds: counted, not logged.
bool LoggedRoute(const std::string& route) { return route != "/health" && route != "/metrics"; }

}  // namespace

std::shared_ptr<TrackedRequest> RequestTracker::NewRecord(const httplib::Request& req) {
  auto r = std::make_shared<TrackedRequest>();
  r->entry.unix_ms = UnixMs();
  r->entry.id = "req-" + std::to_string(r->entry.unix_ms / 1000) + "-" +
                std::to_string(next_id_.fetch_add(1, std::memory_order_relaxed));
  r->entry.method = req.method;
  r->entry.route = MetricRoute(req.path);
  r->entry.client = req.remote_addr;
  return r;
}

void RequestTracker::Begin(const httplib::Request& req) {
  std::shared_ptr<TrackedRequest> r = NewRecord(req);
  r->start = std::chrono::steady_clock::now();
  r->timed = true;
  std::lock_guard<std::mutex> lock(mu_);
  requests_[&req] = std::move(r);
}

std::shared_ptr<TrackedRequest> RequestTracker::Find(const httplib::Request& req) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = requests_.find(&req);
  return it == requests_.end() ? nullptr : it->second;
}

void RequestTracker::SetModel(TrackedRequest* r, const std::string& model, const std::string& id) {
  if (r == nullptr) return;
  std::lock_guard<std::mutex> lock(r->mu);
  r->entry.model = model;
  if (!id.empty()) r->entry.id = id;
}

void RequestTracker::AddPromptTokens(TrackedRequest* r, int64_t n) {
  if (r == nullptr) return;
  std::lock_guard<std::mutex> lock(r->mu);
  r->entry.prompt_tokens += n;
}

void RequestTracker::GenerationStarted(TrackedRequest* r) {
  if (r == nullptr) return;
  std::lock_guard<std::mutex> lock(r->mu);
  r->generating = true;
}

void RequestTracker::GenerationRefused(TrackedRequest* r) {
  if (r == nullptr) return;
  std::lock_guard<std::mutex> lock(r->mu);
  r->generating = false;
}

void RequestTracker::GenerationFinished(const std::shared_ptr<TrackedRequest>& r,
                                        const GenerationResult& result) {
  if (r == nullptr) return;
  bool complete = false;
  {
    std::lock_guard<std::mutex> lock(r->mu);
    r->generating = false;
    r->generation_end = std::chrono::steady_clock::now();
    r->first_token_at = result.first_token_at;
    r->entry.prompt_tokens = result.prompt_tokens;
    r->entry.cached_tokens = result.cached_tokens;
    r->entry.completion_tokens = result.completion_tokens;
    r->entry.finish_reason = std::string(FinishReasonName(result.finish_reason));
    complete = r->answered;
  }
  if (complete) Complete(*r);
}

void RequestTracker::End(const httplib::Request& req, int status) {
  std::shared_ptr<TrackedRequest> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = requests_.find(&req);
    if (it != requests_.end()) {
      r = std::move(it->second);
      requests_.erase(it);
    }
  }
  // Refused before routing (malformed): no arrival time.
  if (r == nullptr) r = NewRecord(req);
  bool complete = false;
  {
    std::lock_guard<std::mutex> lock(r->mu);
    r->entry.status = status;
    if (r->timed) r->entry.duration_s = SecondsBetween(r->start, std::chrono::steady_clock::now());
    r->answered = true;
    complete = !r->generating;
  }
  if (complete) Complete(*r);
}

void RequestTracker::Complete(TrackedRequest& r) {
  RequestSample s;
  std::string line;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    const RequestLogEntry& e = r.entry;
    const bool generated = r.first_token_at != std::chrono::steady_clock::time_point{};
    r.entry.time_to_first_token_s =
        generated && r.timed ? SecondsBetween(r.start, r.first_token_at) : -1;
    s.route = e.route;
    s.status = e.status;
    s.duration_s = e.duration_s;
    s.model = e.model;
    s.prompt_tokens = e.prompt_tokens;
    s.cached_tokens = e.cached_tokens;
    s.completion_tokens = e.completion_tokens;
    s.time_to_first_token_s = e.time_to_first_token_s;
    if (generated && e.completion_tokens >= 2) {
      s.inter_token_s = SecondsBetween(r.first_token_at, r.generation_end) /
                        static_cast<double>(e.completion_tokens - 1);
    }
    if (log_ != nullptr && LoggedRoute(e.route)) line = RequestLogLine(e);
  }
  // The log line first: once the metrics count a request, its line is in the file.
  if (!line.empty()) log_->Append(line);
  metrics_.Record(s);
}

}  // namespace foundry
