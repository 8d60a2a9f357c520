// HTTP(S) downloads for the model cache, through libcurl: redirects, resume with Range after an
// interruption, retries with exponential backoff, connect and stall timeouts, size and sha256
// checks, and a temporary name renamed into place only when the file is complete and verified.
//
// The bytes arrive in `<dest>.partial`; an interrupted download (error, crash, Ctrl+C) leaves
// that file behind and the next call resumes from its end. A file that fails verification is
// deleted, so nothing that looks complete is ever left.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"

namespace foundry {

struct DownloadOptions {
  int max_attempts = 5;            // transfers tried before giving up
  double initial_backoff_s = 1.0;  // wait before the 2nd attempt; doubles after each failure
  double max_backoff_s = 30.0;
  long connect_timeout_s = 30;
  long stall_timeout_s = 60;  // abort a transfer that moves no data for this long
  std::optional<int64_t> expected_size;
  std::optional<std::string> expected_sha256;  // lowercase hex
  // Called during transfers: bytes of the file on disk so far, and the total (-1: unknown).
  std::function<void(int64_t done, int64_t total)> progress;
};

struct DownloadResult {
  int64_t size = 0;
  std::string sha256;             // of the final file
  int attempts = 0;               // transfers started (0 when the partial file was complete)
  int64_t bytes_transferred = 0;  // body bytes received over the network by this call
};

// Downloads `url` to `dest`. Errors: NotFound for 404/410, InvalidArgument for other 4xx,
// CorruptFile for a size or digest mismatch, IoError when the retries run out (the message
// names the last failure, e.g. a timeout).
StatusOr<DownloadResult> DownloadFile(const std::string& url, const std::filesystem::path& dest,
                                      const DownloadOptions& options);

// The partial file DownloadFile writes for `dest`.
std::filesystem::path PartialPath(const std::filesystem::path& dest);

// sha256 of a file, lowercase hex (OpenSSL EVP).
StatusOr<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace foundry
