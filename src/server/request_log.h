// The service's request log: one JSON line per request (id, time, route, model, tokens,
// timings, status, client) appended to <home>/logs/requests.jsonl. When the file would grow past
// its size limit it is rotated: requests.jsonl -> requests.jsonl.1 -> .2 ..., the oldest beyond
// `keep_files` deleted. Thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace foundry {

struct RequestLogOptions {
  std::string path;                         // empty: no request log
  uint64_t max_bytes = uint64_t{16} << 20;  // a file is rotated before it grows past this
  int keep_files = 3;                       // rotated files kept beside the current one
};

struct RequestLogEntry {
  std::string id;
  int64_t unix_ms = 0;  // when the request arrived
  std::string method;
  std::string route;  // the route pattern (metrics.h MetricRoute)
  std::string model;  // empty: none
  int status = 0;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t completion_tokens = 0;
  std::string finish_reason;          // empty: not a generation
  double time_to_first_token_s = -1;  // < 0: none (written as null)
  double duration_s = -1;             // < 0: unknown (written as null)
  std::string client;                 // the peer's address
};

// The entry as one line of JSON (no newline). The time is ISO 8601 UTC with milliseconds.
std::string RequestLogLine(const RequestLogEntry& entry);

class RequestLog {
 public:
  explicit RequestLog(RequestLogOptions options);
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Appends `line` and a newline, rotating first when the file would pass max_bytes. A file
  // that cannot be written loses the line (once reported on stderr), never the request.
  void Append(const std::string& line);

 private:
  void Rotate();  // with mu_ held

  RequestLogOptions options_;
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
  bool reported_ = false;
};

}  // namespace foundry
