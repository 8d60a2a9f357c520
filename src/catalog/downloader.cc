#include "catalog/downloader.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace foundry {
namespace fs = std::filesystem;

namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
struct CurlCleanup {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// State shared with libcurl's callbacks during one transfer.
struct Transfer {
  CURL* curl = nullptr;
  std::FILE* file = nullptr;
  fs::path partial;
  int64_t offset = 0;   // bytes on disk when the transfer started
  int64_t written = 0;  // bytes written by this transfer
  int64_t total = -1;
  bool checked_status = false;  // the first body chunk checks whether Range was honoured
  bool write_failed = false;
  const DownloadOptions* options = nullptr;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (!t->checked_status) {
    t->checked_status = true;
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (t->offset > 0 && code == 200) {
      // The server ignored Range and sends the whole file: start over.
      std::fflush(t->file);
      std::error_code ec;
      fs::resize_file(t->partial, 0, ec);
      std::fseek(t->file, 0, SEEK_SET);
      if (ec) {
        t->write_failed = true;
        return 0;
      }
      t->offset = 0;
    }
  }
  if (std::fwrite(data, 1, bytes, t->file) != bytes) {
    t->write_failed = true;
    return 0;
  }
  t->written += static_cast<int64_t>(bytes);
  if (t->options->progress) t->options->progress(t->offset + t->written, t->total);
  return bytes;
}

int64_t FileSize(const fs::path& p) {
  std::error_code ec;
  const auto s = fs::file_size(p, ec);
  return ec ? -1 : static_cast<int64_t>(s);
}

bool Retryable(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:  // DNS can fail transiently too
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// Verifies the complete partial file and renames it to dest; a mismatch deletes it.
StatusOr<DownloadResult> Finish(const std::string& url, const fs::path& partial,
                                const fs::path& dest, const DownloadOptions& o,
                                DownloadResult result) {
  std::error_code ec;
  result.size = FileSize(partial);
  if (o.expected_size && result.size != *o.expected_size) {
    fs::remove(partial, ec);
    return CorruptFile("download of " + url + " has " + std::to_string(result.size) +
                       " bytes, expected " + std::to_string(*o.expected_size) +
                       "; the partial file was deleted");
  }
  FOUNDRY_ASSIGN_OR_RETURN(result.sha256, Sha256File(partial));
  if (o.expected_sha256 && result.sha256 != *o.expected_sha256) {
    fs::remove(partial, ec);
    return CorruptFile("download of " + url + " has sha256 " + result.sha256 + ", expected " +
                       *o.expected_sha256 + "; the file was deleted");
  }
  fs::rename(partial, dest, ec);
  if (ec) return IoError("cannot rename " + partial.string() + ": " + ec.message());
  return result;
}

}  // namespace

fs::path PartialPath(const fs::path& dest) { return fs::path(dest.string() + ".partial"); }

StatusOr<std::string> Sha256File(const fs::path& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return IoError("cannot open " + path.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Internal("OpenSSL sha256 is unavailable");
  }
  std::vector<unsigned char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
  }
  if (std::ferror(f.get())) return IoError("cannot read " + path.string());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

StatusOr<DownloadResult> DownloadFile(const std::string& url, const fs::path& dest,
                                      const DownloadOptions& o) {
  GlobalInitOnce();
  const fs::path partial = PartialPath(dest);
  DownloadResult result;
  std::string last_error = "no attempt was made";
  double backoff = o.initial_backoff_s;
  for (int attempt = 0; attempt < std::max(1, o.max_attempts); ++attempt) {
    int64_t offset = std::max<int64_t>(0, FileSize(partial));
    if (o.expected_size && offset > *o.expected_size) {  // not this file: start over
      std::error_code ec;
      fs::remove(partial, ec);
      offset = 0;
    }
    if (o.expected_size && offset == *o.expected_size) {
      return Finish(url, partial, dest, o, result);  // complete already: verify only
    }
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
      backoff = std::min(backoff * 2, o.max_backoff_s);
    }
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(partial.c_str(), "ab"));
    if (!file) return IoError("cannot write " + partial.string());
    std::unique_ptr<CURL, CurlCleanup> curl(curl_easy_init());
    if (!curl) return Internal("curl_easy_init failed");
    Transfer t;
    t.curl = curl.get();
    t.file = file.get();
    t.partial = partial;
    t.offset = offset;
    t.total = o.expected_size.value_or(-1);
    t.options = &o;
    char errbuf[CURL_ERROR_SIZE] = {0};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o.stall_timeout_s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "foundry/0.1");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    // A Range request (not CURLOPT_RESUME_FROM, which fails outright on a server that ignores
    // ranges): a 206 appends, a 200 restarts the file in WriteBody.
    const std::string range = std::to_string(offset) + "-";
    if (offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    ++result.attempts;
    const CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    std::fflush(file.get());
    file.reset();
    result.bytes_transferred += t.written;
    if (t.write_failed) return IoError("cannot write " + partial.string() + " (disk full?)");
    if (rc == CURLE_OK) {
      if (o.expected_size && FileSize(partial) < *o.expected_size) {
        last_error = "the connection closed early";
        continue;  // resume
      }
      return Finish(url, partial, dest, o, result);
    }
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
      if (code == 416 && offset > 0) {
        // Nothing left to send from this offset: the partial file is complete (or wrong,
        // which verification catches).
        return Finish(url, partial, dest, o, result);
      }
      if (code == 404 || code == 410) {
        return NotFound("download of " + url + " failed: HTTP " + std::to_string(code));
      }
      if (code >= 400 && code < 500 && code != 408 && code != 429) {
        return InvalidArgument("download of " + url + " failed: HTTP " + std::to_string(code));
      }
      last_error = "HTTP " + std::to_string(code);
      continue;
    }
    last_error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) last_error = "timed out: " + last_error;
    if (!Retryable(rc)) return IoError("download of " + url + " failed: " + last_error);
  }
  return IoError("download of " + url + " failed after " + std::to_string(result.attempts) +
                 " attempts: " + last_error + " (the partial file is kept; run again to resume)");
}

}  // namespace foundry
