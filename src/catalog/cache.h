// The model cache, with Foundry Local's layout and rules:
//   <cache>/<Publisher>/<id with ':N' written '-N'>/<model>.gguf + inference_model.json
// A folder is a model when it holds a .gguf file and inference_model.json
// ({"Name": "<id>", "PromptTemplate": null | {...}}) and no in-progress marker download.tmp.
// Folders the user places anywhere up to two levels below the cache root follow the same
// rule (bring-your-own models); so do ONNX Runtime GenAI folders (genai_config.json), whose
// inference_model.json is optional.
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "catalog/catalog_options.h"

namespace foundry {

inline constexpr char kInferenceModelJson[] = "inference_model.json";
inline constexpr char kDownloadMarker[] = "download.tmp";

struct CachedModel {
  std::string id;                    // inference_model.json's Name (folder name if absent)
  std::filesystem::path dir;         // the model's folder
  std::filesystem::path model_file;  // the .gguf inside it
  // An ONNX Runtime GenAI folder (genai_config.json; Olive's output): model_file is where its
  // import into GGUF lives (kOnnxImportFile in the folder), made on first use.
  bool onnx = false;
};

inline constexpr char kOnnxImportFile[] = "foundry-import.gguf";

// "Phi-4-mini-instruct-generic-cpu:1" -> "Phi-4-mini-instruct-generic-cpu-1".
std::string IdToDirName(std::string_view id);

// The cache directory: options.cache_dir (FOUNDRY_CACHE_DIR), else the settings'
// cacheDirectoryPath, else <home>/cache/models.
StatusOr<std::filesystem::path> CacheDirectory(const CatalogOptions& options);
// `foundry cache cd DIR`: an existing directory, stored (absolute) in <home>/settings.json.
StatusOr<std::filesystem::path> SetCacheDirectory(const std::filesystem::path& home,
                                                  const std::filesystem::path& dir);

class ModelCache {
 public:
  explicit ModelCache(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }

  // Every model folder, sorted by id. A missing root is an empty cache.
  StatusOr<std::vector<CachedModel>> List() const;
  // The cached model with this id (case-insensitive), if any.
  StatusOr<std::optional<CachedModel>> Find(std::string_view id) const;
  // Lowercase ids of all cached models (for ResolveModel).
  StatusOr<std::set<std::string>> CachedIds() const;
  // Where a catalog variant lives in the cache.
  std::filesystem::path DirFor(const ModelVariant& v) const;
  // Deletes a cached model's folder (it must lie inside the cache).
  Status Remove(const CachedModel& m) const;

  // Writes inference_model.json for `id` into `dir` (temporary file + rename).
  static Status WriteInferenceModelJson(const std::filesystem::path& dir, std::string_view id,
                                        const std::optional<std::string>& prompt_template);

 private:
  std::filesystem::path root_;
};

}  // namespace foundry
