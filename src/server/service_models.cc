#include "server/service_models.h"

#include <algorithm>
#include <set>

#include "catalog/install.h"
#include "catalog/resolve.h"
#include "convert/onnx_import.h"

namespace foundry {
namespace fs = std::filesystem;

StatusOr<std::unique_ptr<ServiceModels>> ServiceModels::Create(fs::path cache_dir,
                                                               const CatalogOptions& options) {
  FOUNDRY_ASSIGN_OR_RETURN(Catalog catalog, Catalog::Load(options.catalog_file));
  FOUNDRY_ASSIGN_OR_RETURN(MachineInfo machine, DetectMachine(options.ram_gb));
  return std::unique_ptr<ServiceModels>(new ServiceModels(
      std::move(catalog), machine, std::move(cache_dir), options.home, options.pypi_index_url));
}

StatusOr<std::vector<CachedModel>> ServiceModels::Cached() const { return cache_.List(); }

StatusOr<const ModelVariant*> ServiceModels::ResolveVariant(const std::string& name) const {
  FOUNDRY_ASSIGN_OR_RETURN(std::set<std::string> cached_ids, cache_.CachedIds());
  return ResolveModel(catalog_, name, machine_, cached_ids);
}

const ModelVariant* ServiceModels::Variant(const std::string& name) const {
  auto v = ResolveVariant(name);
  return v.ok() ? *v : nullptr;
}

bool ServiceModels::InsideCache(const fs::path& file) const {
  std::error_code ec;
  const fs::path root = fs::canonical(cache_.root(), ec);
  if (ec) return false;
  const fs::path real = fs::canonical(file, ec);
  if (ec) return false;
  const fs::path rel = real.lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && rel.is_relative();
}

StatusOr<ResolvedModel> ServiceModels::Resolve(const std::string& name, bool confined) const {
  const Status unknown = NotFound("model \"" + name +
                                  "\" is neither in the catalog nor in the cache (run `foundry "
                                  "model list` or `foundry cache ls`), nor a GGUF file the "
                                  "service may load");
  std::error_code ec;
  if (fs::path(name).is_absolute()) {
    if (!fs::is_regular_file(name, ec) || (confined && !InsideCache(name))) return unknown;
    return ResolvedModel{name, name, unknown};
  }
  auto in_cache = [&](const CachedModel& m) -> StatusOr<ResolvedModel> {
    // An ONNX folder runs from its GGUF import, made on first use and kept in the folder.
    if (m.onnx) FOUNDRY_RETURN_IF_ERROR(convert::ImportOnnxFolderOnce(m.dir, m.model_file, m.id));
    if (confined && !InsideCache(m.model_file)) return unknown;
    return ResolvedModel{m.id, m.model_file.string(), std::nullopt};
  };
  // Any cached model by its id (catalog downloads and the user's own folders).
  FOUNDRY_ASSIGN_OR_RETURN(std::optional<CachedModel> cached, cache_.Find(name));
  if (cached) return in_cache(*cached);
  auto variant = ResolveVariant(name);
  if (!variant.ok()) {
    if (variant.status().code() != StatusCode::kNotFound) return variant.status();
    return unknown;
  }
  const ModelVariant& v = **variant;
  FOUNDRY_ASSIGN_OR_RETURN(cached, cache_.Find(v.id));
  if (cached) return in_cache(*cached);
  // Foundry Local's SDKs look for this phrase to tell "not downloaded" apart.
  return NotFound("No OpenAIService provider found for modelName " + v.id + ": model \"" + name +
                  "\" is not in the cache; download it first with: foundry model download " + name);
}

StatusOr<nlohmann::json> ServiceModels::FoundryList() const {
  FOUNDRY_ASSIGN_OR_RETURN(std::set<std::string> cached_ids, cache_.CachedIds());
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& alias : catalog_.Aliases()) {
    std::vector<const ModelVariant*> group;
    for (const ModelVariant& v : catalog_.variants()) {
      if (v.alias == alias && Runnable(v, machine_)) group.push_back(&v);
    }
    for (const ModelVariant* v : OrderVariants(group, cached_ids)) {
      out.push_back(ToFoundryJson(*v));
    }
  }
  return out;
}

StatusOr<CachedModel> ServiceModels::Download(
    const std::string& name, const std::function<void(double percent)>& progress) const {
  FOUNDRY_ASSIGN_OR_RETURN(const ModelVariant* v, ResolveVariant(name));
  DownloadOptions opts;
  opts.progress = [&progress](int64_t done, int64_t total) {
    if (progress && total > 0) {
      progress(100.0 * static_cast<double>(done) / static_cast<double>(total));
    }
  };
  FOUNDRY_ASSIGN_OR_RETURN(InstallResult r, InstallModel(cache_, *v, opts, home_, pypi_index_url_));
  return r.model;
}

}  // namespace foundry
