#include "catalog/cache.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "catalog/settings.h"

namespace foundry {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxDepth = 2;  // <cache>/<Publisher>/<model>/

// The folder as a model, or nullopt when it is not one (no .gguf, no inference_model.json,
// or a download in progress).
std::optional<CachedModel> ReadModelFolder(const fs::path& dir) {
  std::error_code ec;
  const bool onnx = fs::is_regular_file(dir / "genai_config.json", ec);
  if (!onnx && !fs::is_regular_file(dir / kInferenceModelJson, ec)) return std::nullopt;
  if (fs::exists(dir / kDownloadMarker, ec)) return std::nullopt;
  std::vector<fs::path> ggufs;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".gguf" && it->is_regular_file(ec)) ggufs.push_back(p);
  }
  if (ggufs.empty() && !onnx) return std::nullopt;
  std::sort(ggufs.begin(), ggufs.end());
  CachedModel m;
  m.dir = dir;
  m.onnx = onnx;
  m.model_file = onnx ? dir / kOnnxImportFile : ggufs.front();
  std::ifstream in(dir / kInferenceModelJson, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    auto it = j.find("Name");
    if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
      m.id = it->get<std::string>();
    }
  }
  if (m.id.empty()) m.id = dir.filename().string();
  return m;
}

void Scan(const fs::path& dir, int depth, std::vector<CachedModel>* out) {
  std::error_code ec;
  std::vector<fs::path> subdirs;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) subdirs.push_back(it->path());
  }
  std::sort(subdirs.begin(), subdirs.end());
  for (const fs::path& sub : subdirs) {
    if (std::optional<CachedModel> m = ReadModelFolder(sub)) {
      out->push_back(std::move(*m));
    } else if (depth < kMaxDepth) {
      Scan(sub, depth + 1, out);
    }
  }
}

}  // namespace

std::string IdToDirName(std::string_view id) {
  const size_t colon = id.rfind(':');
  if (colon == std::string_view::npos) return std::string(id);
  std::string s(id.substr(0, colon));
  s += '-';
  s += id.substr(colon + 1);
  return s;
}

StatusOr<fs::path> CacheDirectory(const CatalogOptions& options) {
  if (!options.cache_dir.empty()) return options.cache_dir;
  FOUNDRY_ASSIGN_OR_RETURN(nlohmann::json settings, ReadSettings(options.home));
  auto it = settings.find("cacheDirectoryPath");
  if (it != settings.end() && it->is_string() && !it->get<std::string>().empty()) {
    return fs::path(it->get<std::string>());
  }
  return FoundryHomeFile(options.home, fs::path("cache") / "models");
}

StatusOr<fs::path> SetCacheDirectory(const fs::path& home, const fs::path& dir) {
  std::error_code ec;
  fs::path abs = fs::absolute(dir, ec);
  if (ec) return InvalidArgument("invalid directory \"" + dir.string() + "\"");
  abs = abs.lexically_normal();
  if (!abs.has_filename() && abs != abs.root_path()) abs = abs.parent_path();  // "dir/"
  if (!fs::is_directory(abs, ec)) {
    return NotFound("directory \"" + abs.string() + "\" does not exist; create it first");
  }
  FOUNDRY_ASSIGN_OR_RETURN(nlohmann::json settings, ReadSettings(home));
  settings["cacheDirectoryPath"] = abs.string();
  FOUNDRY_RETURN_IF_ERROR(WriteSettings(home, settings));
  return abs;
}

StatusOr<std::vector<CachedModel>> ModelCache::List() const {
  std::vector<CachedModel> out;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return out;
  if (!fs::is_directory(root_, ec)) {
    return InvalidArgument("cache path \"" + root_.string() + "\" is not a directory");
  }
  Scan(root_, 1, &out);
  std::stable_sort(out.begin(), out.end(), [](const CachedModel& a, const CachedModel& b) {
    return AsciiLower(a.id) < AsciiLower(b.id);
  });
  return out;
}

StatusOr<std::optional<CachedModel>> ModelCache::Find(std::string_view id) const {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<CachedModel> all, List());
  const std::string want = AsciiLower(id);
  for (CachedModel& m : all) {
    if (AsciiLower(m.id) == want) return std::optional<CachedModel>(std::move(m));
  }
  return std::optional<CachedModel>();
}

StatusOr<std::set<std::string>> ModelCache::CachedIds() const {
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<CachedModel> all, List());
  std::set<std::string> ids;
  for (const CachedModel& m : all) ids.insert(AsciiLower(m.id));
  return ids;
}

fs::path ModelCache::DirFor(const ModelVariant& v) const {
  return root_ / v.publisher / IdToDirName(v.id);
}

Status ModelCache::Remove(const CachedModel& m) const {
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(root_, ec);
  const fs::path dir = fs::weakly_canonical(m.dir, ec);
  const std::string r = root.string() + "/";
  if (ec || dir.string().rfind(r, 0) != 0) {
    return InvalidArgument("refusing to remove \"" + m.dir.string() +
                           "\": it is not inside the cache " + root_.string());
  }
  fs::remove_all(dir, ec);
  if (ec) return IoError("cannot remove \"" + dir.string() + "\": " + ec.message());
  // Drop the publisher folder when it became empty.
  const fs::path parent = dir.parent_path();
  if (parent != root && fs::is_empty(parent, ec) && !ec) fs::remove(parent, ec);
  return OkStatus();
}

Status ModelCache::WriteInferenceModelJson(const fs::path& dir, std::string_view id,
                                           const std::optional<std::string>& prompt_template) {
  nlohmann::json j;
  j["Name"] = std::string(id);
  if (prompt_template) {
    nlohmann::json t = nlohmann::json::parse(*prompt_template, nullptr, false);
    j["PromptTemplate"] = t.is_discarded() ? nlohmann::json(*prompt_template) : t;
  } else {
    j["PromptTemplate"] = nullptr;
  }
  const fs::path tmp = dir / (std::string(kInferenceModelJson) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) return IoError("cannot write \"" + tmp.string() + "\"");
  }
  std::error_code ec;
  fs::rename(tmp, dir / kInferenceModelJson, ec);
  if (ec) return IoError("cannot write \"" + (dir / kInferenceModelJson).string() + "\"");
  return OkStatus();
}

}  // namespace foundry
