#include "catalog/catalog.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace foundry {
namespace {

using nlohmann::json;

// Reads fields of one JSON object, collecting the first error with its location.
class FieldReader {
 public:
  FieldReader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  const Status& status() const { return status_; }

  std::string String(const char* key, bool required = true) {
    const json* v = Find(key, required);
    if (v == nullptr) return "";
    if (!v->is_string()) return Fail(key, "must be a string"), "";
    return v->get<std::string>();
  }
  std::optional<std::string> NullableString(const char* key) {
    const json* v = Find(key, false);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_string()) return Fail(key, "must be a string or null"), std::nullopt;
    return v->get<std::string>();
  }
  int64_t Int(const char* key, int64_t min, bool required = true) {
    const json* v = Find(key, required);
    if (v == nullptr) return 0;
    if (!v->is_number_integer() || v->get<int64_t>() < min) {
      return Fail(key, "must be an integer >= " + std::to_string(min)), 0;
    }
    return v->get<int64_t>();
  }
  std::optional<int64_t> NullableSize(const char* key) {
    const json* v = Find(key, false);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() <= 0) {
      return Fail(key, "must be a positive integer or null"), std::nullopt;
    }
    return v->get<int64_t>();
  }
  std::optional<std::string> NullableSha256(const char* key) {
    std::optional<std::string> s = NullableString(key);
    if (!s) return s;
    const bool hex = s->size() == 64 && std::all_of(s->begin(), s->end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (!hex) return Fail(key, "must be 64 lowercase hex digits"), std::nullopt;
    return s;
  }
  double Number(const char* key, double min, bool required = true) {
    const json* v = Find(key, required);
    if (v == nullptr) return 0;
    if (!v->is_number() || !(v->get<double>() >= min) || !std::isfinite(v->get<double>())) {
      return Fail(key, "must be a number >= " + FormatMin(min)), 0;
    }
    return v->get<double>();
  }
  bool Bool(const char* key) {
    const json* v = Find(key, false);
    if (v == nullptr) return false;
    if (!v->is_boolean()) return Fail(key, "must be true or false"), false;
    return v->get<bool>();
  }
  const json* Array(const char* key, bool required = true) {
    const json* v = Find(key, required);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) return Fail(key, "must be an array"), nullptr;
    return v;
  }
  const json* Object(const char* key) {
    const json* v = Find(key, true);
    if (v == nullptr) return nullptr;
    if (!v->is_object()) return Fail(key, "must be an object"), nullptr;
    return v;
  }
  void Fail(const std::string& key, const std::string& what) {
    if (status_.ok()) status_ = InvalidArgument(where_ + ": \"" + key + "\" " + what);
  }
  const std::string& where() const { return where_; }

 private:
  static std::string FormatMin(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", v);
    return buf;
  }
  const json* Find(const char* key, bool required) {
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      if (required) Fail(key, "is missing");
      return nullptr;
    }
    return &*it;
  }

  const json& obj_;
  std::string where_;
  Status status_;
};

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

Status ParseSource(const json& j, const std::string& where, ModelSource* out) {
  if (!j.is_object()) return InvalidArgument(where + " must be an object");
  FieldReader r(j, where);
  const std::string type = r.String("type");
  out->file_name = r.String("fileName", false);
  out->size_bytes = r.NullableSize("sizeBytes");
  out->sha256 = r.NullableSha256("sha256");
  FOUNDRY_RETURN_IF_ERROR(r.status());
  if (!out->file_name.empty() && !ValidName(out->file_name)) {
    return InvalidArgument(where + ": \"fileName\" must be a plain file name");
  }
  if (type == "url") {
    out->kind = ModelSource::Kind::kUrl;
    out->url = r.String("url");
    FOUNDRY_RETURN_IF_ERROR(r.status());
    if (out->url.rfind("https://", 0) != 0 && out->url.rfind("http://", 0) != 0) {
      return InvalidArgument(where + ": \"url\" must start with https:// or http://");
    }
  } else if (type == "pypi") {
    out->kind = ModelSource::Kind::kPypi;
    const json* parts = r.Array("parts");
    FOUNDRY_RETURN_IF_ERROR(r.status());
    if (parts->empty()) return InvalidArgument(where + ": \"parts\" must not be empty");
    for (size_t i = 0; i < parts->size(); ++i) {
      const std::string pw = where + ".parts[" + std::to_string(i) + "]";
      if (!(*parts)[i].is_object()) return InvalidArgument(pw + " must be an object");
      FieldReader pr((*parts)[i], pw);
      PypiPart p;
      p.package = pr.String("package");
      p.version = pr.String("version");
      p.member = pr.String("member");
      p.size_bytes = pr.NullableSize("sizeBytes");
      p.sha256 = pr.NullableSha256("sha256");
      FOUNDRY_RETURN_IF_ERROR(pr.status());
      if (p.package.empty() || p.version.empty() || p.member.empty()) {
        return InvalidArgument(pw + ": package, version and member must not be empty");
      }
      out->parts.push_back(std::move(p));
    }
  } else {
    return InvalidArgument(where + ": \"type\" must be \"url\" or \"pypi\", not \"" + type + "\"");
  }
  return OkStatus();
}

Status ParseVariant(const json& j, const std::string& where, ModelVariant* v) {
  if (!j.is_object()) return InvalidArgument(where + " must be an object");
  FieldReader r(j, where);
  v->id = r.String("name");
  v->display_name = r.String("displayName", false);
  v->alias = r.String("alias");
  v->publisher = r.String("publisher");
  v->task = r.String("task");
  v->license = r.String("license");
  v->license_description = r.String("licenseDescription", false);
  v->description = r.String("description", false);
  v->context_length = r.Int("contextLength", 1);
  v->parameter_count = r.Int("parameterCount", 0, false);
  v->quantization = r.String("quantization", false);
  v->file_name = r.String("fileName");
  v->file_size_mb = r.Number("fileSizeMb", 0);
  v->min_ram_gb = r.Number("minRamGb", 0);
  v->supports_tool_calling = r.Bool("supportsToolCalling");
  v->prompt_template = r.NullableString("promptTemplate");
  const json* aliases = r.Array("aliases", false);
  const json* runtime = r.Object("runtime");
  const json* sources = r.Array("sources");
  FOUNDRY_RETURN_IF_ERROR(r.status());

  // Id: NAME:VERSION with a positive integer version.
  const size_t colon = v->id.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == v->id.size()) {
    return InvalidArgument(where + ": \"name\" must look like NAME:VERSION, not \"" + v->id + "\"");
  }
  const std::string base = v->id.substr(0, colon);
  const std::string ver = v->id.substr(colon + 1);
  if (!ValidName(base) || ver.size() > 6 ||
      !std::all_of(ver.begin(), ver.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::atoi(ver.c_str()) < 1) {
    return InvalidArgument(where + ": \"name\" must look like NAME:VERSION, not \"" + v->id + "\"");
  }
  v->version = std::atoi(ver.c_str());
  if (v->display_name.empty()) v->display_name = base;
  if (!ValidName(v->alias)) return InvalidArgument(where + ": \"alias\" is not a valid name");
  if (aliases != nullptr) {
    for (const json& a : *aliases) {
      if (!a.is_string() || !ValidName(a.get<std::string>())) {
        return InvalidArgument(where + ": \"aliases\" must hold valid names");
      }
      v->aliases.push_back(a.get<std::string>());
    }
  }
  if (!ValidName(v->file_name) || v->file_name == "." || v->file_name == "..") {
    return InvalidArgument(where + ": \"fileName\" must be a plain file name");
  }
  if (v->publisher.empty() || v->publisher.find('/') != std::string::npos || v->publisher == "." ||
      v->publisher == "..") {
    return InvalidArgument(where + ": \"publisher\" must be a non-empty name without '/'");
  }
  if (v->task.empty()) return InvalidArgument(where + ": \"task\" must not be empty");

  FieldReader rr(*runtime, where + ".runtime");
  v->device = rr.String("deviceType");
  v->execution_provider = rr.String("executionProvider");
  FOUNDRY_RETURN_IF_ERROR(rr.status());
  if (v->device != "CPU" && v->device != "GPU" && v->device != "NPU") {
    return InvalidArgument(where + ".runtime: \"deviceType\" must be CPU, GPU or NPU");
  }
  if (sources->empty()) return InvalidArgument(where + ": \"sources\" must not be empty");
  for (size_t i = 0; i < sources->size(); ++i) {
    ModelSource s;
    FOUNDRY_RETURN_IF_ERROR(
        ParseSource((*sources)[i], where + ".sources[" + std::to_string(i) + "]", &s));
    v->sources.push_back(std::move(s));
  }
  return OkStatus();
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && AsciiLower(a) == AsciiLower(b);
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

StatusOr<Catalog> Catalog::Parse(std::string_view json_text, const std::string& origin) {
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InvalidArgument("catalog " + origin + " is not valid JSON");
  }
  if (!doc.is_object()) return InvalidArgument("catalog " + origin + " must be a JSON object");
  FieldReader r(doc, "catalog " + origin);
  const int64_t schema = r.Int("schemaVersion", 1);
  const json* models = r.Array("models");
  FOUNDRY_RETURN_IF_ERROR(r.status());
  if (schema != 1) {
    return InvalidArgument("catalog " + origin + ": schemaVersion " + std::to_string(schema) +
                           " is not supported (expected 1)");
  }
  Catalog cat;
  std::set<std::string> ids;
  for (size_t i = 0; i < models->size(); ++i) {
    ModelVariant v;
    FOUNDRY_RETURN_IF_ERROR(ParseVariant(
        (*models)[i], "catalog " + origin + ": models[" + std::to_string(i) + "]", &v));
    if (!ids.insert(AsciiLower(v.id)).second) {
      return InvalidArgument("catalog " + origin + ": duplicate model id \"" + v.id + "\"");
    }
    cat.variants_.push_back(std::move(v));
  }
  // An extra alias must not name a different group's alias.
  for (const ModelVariant& v : cat.variants_) {
    for (const std::string& a : v.aliases) {
      for (const ModelVariant& w : cat.variants_) {
        if (IEquals(w.alias, a) && !IEquals(w.alias, v.alias)) {
          return InvalidArgument("catalog " + origin + ": alias \"" + a + "\" of " + v.id +
                                 " is already the alias of " + w.id);
        }
      }
    }
  }
  return cat;
}

StatusOr<Catalog> Catalog::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open catalog file \"" + path + "\"");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read catalog file \"" + path + "\"");
  return Parse(ss.str(), "\"" + path + "\"");
}

StatusOr<Catalog> Catalog::Builtin() { return Parse(BuiltinCatalogJson(), "(built-in)"); }

StatusOr<Catalog> Catalog::Load(const std::filesystem::path& file) {
  return file.empty() ? Builtin() : LoadFile(file.string());
}

std::vector<std::string> Catalog::Aliases() const {
  std::vector<std::string> out;
  for (const ModelVariant& v : variants_) {
    if (std::find(out.begin(), out.end(), v.alias) == out.end()) out.push_back(v.alias);
  }
  return out;
}

std::vector<const ModelVariant*> Catalog::ByAlias(std::string_view name) const {
  std::vector<const ModelVariant*> out;
  for (const ModelVariant& v : variants_) {
    bool match = IEquals(v.alias, name);
    for (const std::string& a : v.aliases) match = match || IEquals(a, name);
    if (match) out.push_back(&v);
  }
  return out;
}

const ModelVariant* Catalog::ById(std::string_view id) const {
  const bool has_version = id.find(':') != std::string_view::npos;
  const ModelVariant* best = nullptr;
  for (const ModelVariant& v : variants_) {
    if (has_version ? IEquals(v.id, id) : IEquals(v.display_name, id)) {
      if (best == nullptr || v.version > best->version) best = &v;
    }
  }
  return best;
}

std::string DisplayAlias(const Catalog* catalog, std::string_view id) {
  if (catalog != nullptr) {
    if (const ModelVariant* v = catalog->ById(id); v != nullptr && IEquals(v->id, id)) {
      return v->alias;
    }
  }
  if (id.find('/') == std::string_view::npos) return std::string(id);
  // Only the ".gguf" suffix goes: "qwen2.5-coder-0.5b-instruct" has no extension to strip.
  std::string_view name = id.substr(id.rfind('/') + 1);
  constexpr std::string_view kGguf = ".gguf";
  if (name.size() > kGguf.size() && name.substr(name.size() - kGguf.size()) == kGguf) {
    name.remove_suffix(kGguf.size());
  }
  return std::string(name);
}

std::string ShortTask(std::string_view task) {
  constexpr std::string_view kSuffix = "-completion";
  if (task.size() > kSuffix.size() && task.substr(task.size() - kSuffix.size()) == kSuffix) {
    return std::string(task.substr(0, task.size() - kSuffix.size()));
  }
  return std::string(task);
}

std::string FormatFileSize(double size_mb) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GB", size_mb / 1024.0);
  return buf;
}

std::string FormatParameterCount(int64_t count) {
  char buf[32];
  if (count >= 1000000000) {
    std::snprintf(buf, sizeof(buf), "%.1fB", static_cast<double>(count) / 1e9);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0fM", static_cast<double>(count) / 1e6);
  }
  return buf;
}

nlohmann::json ToFoundryJson(const ModelVariant& v) {
  json j;
  j["name"] = v.id;
  j["displayName"] = v.display_name;
  j["alias"] = v.alias;
  j["aliases"] = v.aliases;
  j["uri"] = v.sources.empty() ? ""
                               : (v.sources[0].kind == ModelSource::Kind::kUrl
                                      ? v.sources[0].url
                                      : "pypi:" + v.sources[0].parts[0].package);
  j["version"] = std::to_string(v.version);
  j["modelType"] = "GGUF";
  j["providerType"] = "FoundryLocal";
  j["publisher"] = v.publisher;
  j["task"] = v.task;
  j["runtime"] = {{"deviceType", v.device}, {"executionProvider", v.execution_provider}};
  j["fileSizeMb"] = static_cast<int64_t>(std::llround(v.file_size_mb));
  j["license"] = v.license;
  j["licenseDescription"] = v.license_description;
  j["promptTemplate"] = v.prompt_template ? json(*v.prompt_template) : json(nullptr);
  j["supportsToolCalling"] = v.supports_tool_calling;
  j["maxOutputTokens"] = v.context_length;
  j["parentModelUri"] = "";
  j["modelSettings"] = {{"parameters", json::array()}};
  // foundry's own fields.
  j["description"] = v.description;
  j["contextLength"] = v.context_length;
  j["parameterCount"] = v.parameter_count;
  j["quantization"] = v.quantization;
  j["fileName"] = v.file_name;
  j["minRamGb"] = v.min_ram_gb;
  json sources = json::array();
  for (const ModelSource& s : v.sources) {
    json sj;
    if (s.kind == ModelSource::Kind::kUrl) {
      sj["type"] = "url";
      sj["url"] = s.url;
    } else {
      sj["type"] = "pypi";
      json parts = json::array();
      for (const PypiPart& p : s.parts) {
        parts.push_back({{"package", p.package},
                         {"version", p.version},
                         {"member", p.member},
                         {"sizeBytes", p.size_bytes ? json(*p.size_bytes) : json(nullptr)},
                         {"sha256", p.sha256 ? json(*p.sha256) : json(nullptr)}});
      }
      sj["parts"] = parts;
    }
    sj["fileName"] = s.file_name.empty() ? v.file_name : s.file_name;
    sj["sizeBytes"] = s.size_bytes ? json(*s.size_bytes) : json(nullptr);
    sj["sha256"] = s.sha256 ? json(*s.sha256) : json(nullptr);
    sources.push_back(sj);
  }
  j["sources"] = sources;
  return j;
}

}  // namespace foundry
