// A download progress bar on stderr, redrawn in place when stderr is a terminal (silent
// otherwise): `foundry model download` and `foundry model run`.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace foundry::cli {

// "[#####.....]  45.2%  44.3 MB / 98.4 MB  5.1 MB/s  ETA 12s" on a terminal, redrawn in place.
class ProgressBar {
 public:
  ProgressBar() : tty_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}
  // `label` (e.g. the tensor being written) follows the numbers.
  void Update(int64_t done, int64_t total, bool final = false, const std::string& label = "") {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!final && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double speed = secs > 0 ? static_cast<double>(done) / secs : 0;
    char line[160];
    if (total > 0) {
      const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
      const int fill = static_cast<int>(frac * 30);
      const double eta = speed > 0 ? static_cast<double>(total - done) / speed : 0;
      std::snprintf(line, sizeof(line),
                    "\r[%s%s] %6.2f%%  %.1f MB / %.1f MB  %.1f MB/s  ETA %.0fs ",
                    std::string(fill, '#').c_str(), std::string(30 - fill, '.').c_str(), frac * 100,
                    done / 1e6, total / 1e6, speed / 1e6, eta);
    } else {
      std::snprintf(line, sizeof(line), "\r%.1f MB  %.1f MB/s ", done / 1e6, speed / 1e6);
    }
    std::fputs(line, stderr);
    if (!label.empty()) std::fprintf(stderr, "%-40.40s", label.c_str());
    if (final) std::fputs("\n", stderr);
    std::fflush(stderr);
  }

 private:
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace foundry::cli
