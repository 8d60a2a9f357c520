#include "server/request_log.h"

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace foundry {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // fields in the documented order

std::string IsoTime(int64_t unix_ms) {
  const std::time_t s = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[96];  // room for any int fields (the compiler checks the worst case)
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

json Seconds(double s) { return s < 0 ? json(nullptr) : json(s); }
json TextOrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

std::string RequestLogLine(const RequestLogEntry& e) {
  const json j = {{"id", e.id},
                  {"time", IsoTime(e.unix_ms)},
                  {"method", e.method},
                  {"route", e.route},
                  {"model", TextOrNull(e.model)},
                  {"status", e.status},
                  {"prompt_tokens", e.prompt_tokens},
                  {"cached_tokens", e.cached_tokens},
                  {"completion_tokens", e.completion_tokens},
                  {"finish_reason", TextOrNull(e.finish_reason)},
                  {"ttft_s", Seconds(e.time_to_first_token_s)},
                  {"duration_s", Seconds(e.duration_s)},
                  {"client", e.client}};
  // Invalid UTF-8 (a model name is the client's text) is replaced, never thrown on.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

RequestLog::RequestLog(RequestLogOptions options) : options_(std::move(options)) {}

RequestLog::~RequestLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void RequestLog::Rotate() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  const std::string& p = options_.path;
  if (options_.keep_files < 1) {
    fs::remove(p, ec);
    return;
  }
  fs::remove(p + "." + std::to_string(options_.keep_files), ec);
  for (int i = options_.keep_files - 1; i >= 1; --i) {
    fs::rename(p + "." + std::to_string(i), p + "." + std::to_string(i + 1), ec);
  }
  fs::rename(p, p + ".1", ec);
}

void RequestLog::Append(const std::string& line) {
  if (options_.path.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t n = line.size() + 1;
  if (file_ == nullptr) {
    std::error_code ec;
    fs::create_directories(fs::path(options_.path).parent_path(), ec);
    const uint64_t existing = fs::file_size(options_.path, ec);
    size_ = ec ? 0 : existing;
  }
  if (size_ > 0 && size_ + n > options_.max_bytes) {
    Rotate();
    size_ = 0;
  }
  if (file_ == nullptr) file_ = std::fopen(options_.path.c_str(), "ae");
  if (file_ == nullptr) {
    if (!reported_) {
      std::fprintf(stderr, "cannot write the request log %s\n", options_.path.c_str());
      reported_ = true;
    }
    return;
  }
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);  // a reader (tail -f, a test) sees each request as it ends
  size_ += n;
}

}  // namespace foundry
