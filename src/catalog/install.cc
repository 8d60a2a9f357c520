#include "catalog/install.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <optional>
#include <system_error>

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

}  // namespace

StatusOr<InstallResult> InstallModel(const ModelCache& cache, const ModelVariant& v,
                                     const DownloadOptions& base) {
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
    if (s.kind != ModelSource::Kind::kUrl) {
      failures += "; PyPI source " + s.parts.front().package + ": not supported yet";
      continue;
    }
    DownloadOptions o = base;
    o.expected_size = s.size_bytes;
    o.expected_sha256 = s.sha256;
    const fs::path file = dir / (s.file_name.empty() ? v.file_name : s.file_name);
    auto r = DownloadFile(s.url, file, o);
    if (!r.ok()) {
      failures += "; " + r.status().message();
      continue;
    }
    FOUNDRY_RETURN_IF_ERROR(ModelCache::WriteInferenceModelJson(dir, v.id, v.prompt_template));
    fs::remove(dir / kDownloadMarker, ec);
    FOUNDRY_ASSIGN_OR_RETURN(cached, cache.Find(v.id));
    if (!cached) return Internal("downloaded model " + v.id + " is not found in the cache");
    result.model = std::move(*cached);
    result.downloaded = true;
    result.bytes_transferred = r->bytes_transferred;
    return result;
  }
  return IoError("cannot download " + v.id + " (the partial file is kept for resuming)" + failures);
}

}  // namespace foundry
