// The service's view of the catalog and the model cache: which names it accepts for a model
// (an absolute GGUF path, a catalog alias or id, or the id of any cached model), what
// /foundry/list, /openai/models and /v1/models show, and downloads for /openai/download.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "catalog/catalog_options.h"
#include "catalog/machine.h"
#include "server/model_manager.h"

namespace foundry {

class ServiceModels {
 public:
  // Loads the catalog (options.catalog_file or the built-in one) and detects the machine
  // (options.ram_gb); downloads record digests in options.home.
  static StatusOr<std::unique_ptr<ServiceModels>> Create(std::filesystem::path cache_dir,
                                                         const CatalogOptions& options);

  const std::filesystem::path& cache_dir() const { return cache_.root(); }

  // An absolute path to a file is itself; an alias or id resolves to a catalog variant that
  // must be in the cache; other names are looked up among the cached ids. A catalog model
  // that is not cached is NotFound with Foundry Local's wording plus how to download it.
  // `confined` (a service that is exposed or has API keys): only files inside the cache, after
  // resolving `..` and symbolic links, whether named by path or found by id. A name that
  // fails any of this answers exactly as an unknown name.
  StatusOr<ResolvedModel> Resolve(const std::string& name, bool confined = false) const;

  // Cached models, sorted by id.
  StatusOr<std::vector<CachedModel>> Cached() const;
  // `GET /foundry/list`: the runnable catalog variants, each alias's variants best first.
  StatusOr<nlohmann::json> FoundryList() const;
  // The catalog variant with this id or alias, if any.
  const ModelVariant* Variant(const std::string& name) const;

  // Puts a catalog variant (by id or alias) into the cache. `progress` gets the percentage
  // done (0..100) while bytes arrive. Downloads of one model are one transfer (InstallModel's
  // lock).
  StatusOr<CachedModel> Download(const std::string& name,
                                 const std::function<void(double percent)>& progress) const;

 private:
  ServiceModels(Catalog catalog, MachineInfo machine, std::filesystem::path cache_dir,
                std::filesystem::path home, std::string pypi_index_url)
      : catalog_(std::move(catalog)),
        machine_(machine),
        cache_(std::move(cache_dir)),
        home_(std::move(home)),
        pypi_index_url_(std::move(pypi_index_url)) {}
  StatusOr<const ModelVariant*> ResolveVariant(const std::string& name) const;
  // Whether `file`, with links and `..` resolved, lies inside the cache directory.
  bool InsideCache(const std::filesystem::path& file) const;

  Catalog catalog_;
  MachineInfo machine_;
  ModelCache cache_;
  std::filesystem::path home_;
  std::string pypi_index_url_;
};

}  // namespace foundry
