// `foundry model list|info|select`: the catalog, Foundry Local's way.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "catalog/install.h"
#include "catalog/machine.h"
#include "catalog/resolve.h"
#include "catalog/select.h"
#include "cli/commands.h"
#include "cli/install_with_progress.h"
#include "cli/table.h"

namespace foundry::cli {
namespace {

struct ModelArgs {
  std::vector<std::string> filters;
  std::string output = "text";
  std::string name;
  bool license = false;
  std::string task;
  std::string registry;
  std::string sha256;         // model download URL --sha256
  std::string download_name;  // model download URL --name
};

void PrintJson(const nlohmann::json& j) {
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// Catalog, machine and the ids in the cache: what every model command needs.
struct Context {
  Catalog catalog;
  MachineInfo machine;
  std::filesystem::path cache_dir;
  std::set<std::string> cached_ids;
  std::vector<CachedModel> cached;
};

StatusOr<Context> LoadContext(const CatalogOptions& options) {
  FOUNDRY_ASSIGN_OR_RETURN(Catalog catalog, Catalog::Load(options.catalog_file));
  FOUNDRY_ASSIGN_OR_RETURN(MachineInfo machine, DetectMachine(options.ram_gb));
  FOUNDRY_ASSIGN_OR_RETURN(std::filesystem::path dir, CacheDirectory(options));
  ModelCache cache(dir);
  FOUNDRY_ASSIGN_OR_RETURN(std::vector<CachedModel> cached, cache.List());
  Context c{std::move(catalog), machine, dir, {}, std::move(cached)};
  for (const CachedModel& m : c.cached) c.cached_ids.insert(AsciiLower(m.id));
  return c;
}

// Foundry Local's `model list` columns: Alias, Device, Task, File Size and License widths; the
// Model ID runs to the end of the line.
constexpr size_t kListWidths[] = {31, 11, 19, 13, 13};

std::string ListLine(const std::string& alias, const std::string& device, const std::string& task,
                     const std::string& size, const std::string& license, const std::string& id) {
  return Pad(alias, kListWidths[0]) + Pad(device, kListWidths[1]) + Pad(task, kListWidths[2]) +
         Pad(size, kListWidths[3]) + Pad(license, kListWidths[4]) + id;
}

int RunList(const CatalogOptions& options, const ModelArgs& a) {
  std::vector<ModelFilter> filters;
  for (const std::string& spec : a.filters) {
    auto f = ParseModelFilter(spec);
    if (!f.ok()) return ReportError(f.status());
    filters.push_back(*f);
  }
  auto ctx = LoadContext(options);
  if (!ctx.ok()) return ReportError(ctx.status());

  // One group per alias, its variants best first (the first is what the alias runs).
  std::vector<std::vector<const ModelVariant*>> groups;
  for (const std::string& alias : ctx->catalog.Aliases()) {
    std::vector<const ModelVariant*> group;
    for (const ModelVariant& v : ctx->catalog.variants()) {
      if (v.alias == alias && Runnable(v, ctx->machine)) group.push_back(&v);
    }
    std::vector<const ModelVariant*> kept;
    for (const ModelVariant* v : OrderVariants(group, ctx->cached_ids)) {
      if (std::all_of(filters.begin(), filters.end(),
                      [&](const ModelFilter& f) { return FilterMatches(f, *v); })) {
        kept.push_back(v);
      }
    }
    if (!kept.empty()) groups.push_back(std::move(kept));
  }
  if (a.output == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& group : groups) {
      for (const ModelVariant* v : group) {
        nlohmann::json j = ToFoundryJson(*v);
        j["cached"] = ctx->cached_ids.count(AsciiLower(v->id)) > 0;
        out.push_back(std::move(j));
      }
    }
    PrintJson(out);
    return 0;
  }
  if (groups.empty()) {
    std::printf("No models match the filter.\n");
    return 0;
  }
  // Foundry Local's table: the header and a rule as long as it; the alias on the first row of
  // its group only; between groups, a rule as long as the longest row of the group above.
  const std::string header =
      ListLine("Alias", "Device", "Task", "File Size", "License", "Model ID");
  std::printf("%s\n%s\n", header.c_str(), std::string(header.size(), '-').c_str());
  for (size_t g = 0; g < groups.size(); ++g) {
    size_t longest = 0;
    for (size_t i = 0; i < groups[g].size(); ++i) {
      const ModelVariant& v = *groups[g][i];
      const std::string line = ListLine(i == 0 ? v.alias : "", v.device, v.task,
                                        FormatFileSize(v.file_size_mb), v.license, v.id);
      longest = std::max(longest, line.size());
      std::printf("%s\n", line.c_str());
    }
    if (g + 1 < groups.size()) std::printf("%s\n", std::string(longest, '-').c_str());
  }
  return 0;
}

std::string SourceText(const ModelVariant& v, const ModelSource& s) {
  std::string t;
  if (s.kind == ModelSource::Kind::kUrl) {
    t = s.url;
  } else {
    t = "PyPI";
    for (size_t i = 0; i < s.parts.size(); ++i) {
      t += (i == 0 ? " " : " + ") + s.parts[i].package + "==" + s.parts[i].version + " (" +
           s.parts[i].member + ")";
    }
    const std::string file = s.file_name.empty() ? v.file_name : s.file_name;
    if (file != v.file_name) t += " -> " + file;
  }
  if (s.size_bytes) t += ", " + std::to_string(*s.size_bytes) + " bytes";
  t += s.sha256 ? ", sha256 " + *s.sha256 : ", sha256 recorded at first download";
  return t;
}

int RunInfo(const CatalogOptions& options, const ModelArgs& a) {
  auto ctx = LoadContext(options);
  if (!ctx.ok()) return ReportError(ctx.status());
  auto resolved = ResolveModel(ctx->catalog, a.name, ctx->machine, ctx->cached_ids);
  if (!resolved.ok()) return ReportError(resolved.status());
  const ModelVariant& v = **resolved;
  const CachedModel* cached = nullptr;
  for (const CachedModel& m : ctx->cached) {
    if (AsciiLower(m.id) == AsciiLower(v.id)) cached = &m;
  }
  const Status fit = CheckFits(ctx->catalog, v, ctx->machine);
  if (a.output == "json") {
    nlohmann::json j = ToFoundryJson(v);
    j["cached"] = cached != nullptr;
    j["fitsMachine"] = fit.ok();
    j["fitMessage"] = fit.ok() ? nlohmann::json(nullptr) : nlohmann::json(fit.message());
    j["path"] = cached ? nlohmann::json(cached->model_file.string()) : nlohmann::json(nullptr);
    PrintJson(j);
    return 0;
  }
  if (a.license) {
    std::printf("%s\n%s\n", v.license.c_str(), v.license_description.c_str());
    return 0;
  }
  std::string aliases = v.alias;
  for (const std::string& al : v.aliases) aliases += ", " + al;
  std::printf("Model:          %s\n", v.id.c_str());
  std::printf("Alias:          %s\n", aliases.c_str());
  std::printf("Publisher:      %s\n", v.publisher.c_str());
  std::printf("Task:           %s\n", v.task.c_str());
  std::printf("Device:         %s (%s)\n", v.device.c_str(), v.execution_provider.c_str());
  std::printf("Parameters:     %s\n", FormatParameterCount(v.parameter_count).c_str());
  std::printf("Quantization:   %s\n", v.quantization.c_str());
  std::printf("Context length: %lld tokens\n", static_cast<long long>(v.context_length));
  std::printf("File:           %s (%s)\n", v.file_name.c_str(),
              FormatFileSize(v.file_size_mb).c_str());
  if (fit.ok()) {
    std::printf("Minimum RAM:    %g GB (this machine: %.1f GB)\n", v.min_ram_gb,
                ctx->machine.total_ram_gb);
  } else {
    std::printf("Minimum RAM:    %g GB: %s\n", v.min_ram_gb, fit.message().c_str());
  }
  std::printf("Tool calling:   %s\n", v.supports_tool_calling ? "yes" : "no");
  std::printf("License:        %s\n", v.license.c_str());
  std::printf("Cached:         %s\n", cached ? cached->model_file.string().c_str() : "no");
  std::printf("Sources:\n");
  for (size_t i = 0; i < v.sources.size(); ++i) {
    std::printf("  %zu. %s\n", i + 1, SourceText(v, v.sources[i]).c_str());
  }
  if (!v.description.empty()) std::printf("%s\n", v.description.c_str());
  return 0;
}

int RunSelect(const CatalogOptions& options, const ModelArgs& a) {
  auto machine = DetectMachine(options.ram_gb);
  if (!machine.ok()) return ReportError(machine.status());
  std::vector<RegistryEntry> candidates;
  std::string origin;
  if (!a.registry.empty()) {
    auto r = LoadRegistry(a.registry);
    if (!r.ok()) return ReportError(r.status());
    candidates = std::move(*r);
    origin = a.registry;
  } else {
    auto catalog = Catalog::Load(options.catalog_file);
    if (!catalog.ok()) return ReportError(catalog.status());
    candidates = CatalogCandidates(*catalog, *machine);
    origin = "the catalog (largest first)";
  }
  const double ram = machine->total_ram_gb;
  const Selection sel = SelectModel(candidates, a.task, ram);
  if (a.output == "json") {
    nlohmann::json j;
    j["task"] = a.task;
    j["ramGb"] = ram;
    j["selected"] = sel.chosen ? nlohmann::json(candidates[*sel.chosen].name) : nullptr;
    nlohmann::json steps = nlohmann::json::array();
    for (const SelectionStep& s : sel.steps) {
      steps.push_back({{"name", s.entry->name},
                       {"task", s.entry->task},
                       {"min_ram_gb", s.entry->min_ram_gb},
                       {"notes", s.entry->notes},
                       {"taskMatches", s.task_matches},
                       {"fits", s.fits},
                       {"kept", s.kept()}});
    }
    j["candidates"] = steps;
    PrintJson(j);
    return sel.chosen ? 0 : 3;
  }
  std::printf("RAM: %.1f GB%s\n", ram, machine->ram_overridden ? " (FOUNDRY_RAM_GB)" : "");
  std::printf("Candidates from %s, task \"%s\" (first match wins):\n", origin.c_str(),
              a.task.c_str());
  for (size_t i = 0; i < sel.steps.size(); ++i) {
    const SelectionStep& s = sel.steps[i];
    std::string why;
    char buf[160];
    if (!s.task_matches) {
      why = "dropped: task is \"" + s.entry->task + "\"";
    } else if (!s.fits) {
      std::snprintf(buf, sizeof(buf), "dropped: needs %g GB of RAM, more than %.1f GB",
                    s.entry->min_ram_gb, ram);
      why = buf;
    } else {
      std::snprintf(buf, sizeof(buf), "kept: task matches, needs %g GB <= %.1f GB",
                    s.entry->min_ram_gb, ram);
      why = buf;
      if (sel.chosen && *sel.chosen != i) why += " (an earlier candidate was chosen)";
    }
    std::printf("  %s %s %s\n", s.kept() ? "+" : "-", Pad(s.entry->name, 32).c_str(), why.c_str());
  }
  if (!sel.chosen) {
    std::printf("No model for task \"%s\" fits in %.1f GB of RAM.\n", a.task.c_str(), ram);
    return 3;
  }
  std::printf("Selected: %s\n", candidates[*sel.chosen].name.c_str());
  return 0;
}

// `model download URL [--sha256 HEX] [--name NAME]`: any GGUF URL as a cache entry
// <cache>/Custom/<NAME>/ with id NAME (default: the file name without .gguf).
StatusOr<ModelVariant> VariantForUrl(const ModelArgs& a) {
  std::string path = a.name.substr(0, a.name.find_first_of("?#"));
  const std::string file = path.substr(path.rfind('/') + 1);
  if (file.size() < 6 || file.substr(file.size() - 5) != ".gguf") {
    return InvalidArgument("URL " + a.name + " does not name a .gguf file");
  }
  ModelVariant v;
  v.id = a.download_name.empty() ? file.substr(0, file.size() - 5) : a.download_name;
  const bool valid =
      !v.id.empty() && v.id != "." && v.id != ".." &&
      std::all_of(v.id.begin(), v.id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!valid) return InvalidArgument("invalid model name \"" + v.id + "\" (letters, digits, -_.)");
  const bool hex = a.sha256.empty() || (a.sha256.size() == 64 &&
                                        std::all_of(a.sha256.begin(), a.sha256.end(), [](char c) {
                                          return std::isxdigit(static_cast<unsigned char>(c));
                                        }));
  if (!hex) return InvalidArgument("--sha256 must be 64 hex digits");
  v.display_name = v.alias = v.id;
  v.publisher = "Custom";
  v.task = "chat-completion";
  v.file_name = file;
  v.device = "CPU";
  v.execution_provider = "CPUExecutionProvider";
  ModelSource src;
  src.url = a.name;
  if (!a.sha256.empty()) src.sha256 = AsciiLower(a.sha256);
  v.sources.push_back(src);
  return v;
}

int RunDownload(const CatalogOptions& options, const ModelArgs& a) {
  auto ctx = LoadContext(options);
  if (!ctx.ok()) return ReportError(ctx.status());
  const bool is_url = a.name.rfind("https://", 0) == 0 || a.name.rfind("http://", 0) == 0;
  if (!is_url && (!a.sha256.empty() || !a.download_name.empty())) {
    return ReportError(InvalidArgument("--sha256 and --name apply to a URL only"));
  }
  StatusOr<ModelVariant> custom =
      is_url ? VariantForUrl(a) : StatusOr<ModelVariant>(ModelVariant());
  if (!custom.ok()) return ReportError(custom.status());
  StatusOr<const ModelVariant*> resolved =
      is_url ? StatusOr<const ModelVariant*>(&*custom)
             : ResolveModel(ctx->catalog, a.name, ctx->machine, ctx->cached_ids);
  if (!resolved.ok()) return ReportError(resolved.status());
  const ModelVariant& v = **resolved;
  if (Status fit = is_url ? OkStatus() : CheckFits(ctx->catalog, v, ctx->machine); !fit.ok()) {
    std::fprintf(stderr, "warning: %s\n", fit.message().c_str());
  }
  ModelCache cache(ctx->cache_dir);
  if (ctx->cached_ids.count(AsciiLower(v.id)) == 0) {
    std::printf("Downloading %s...\n", v.id.c_str());
    std::fflush(stdout);
  }
  auto r = InstallWithProgress(cache, v, options);
  if (!r.ok()) return ReportError(r.status());
  if (r->downloaded) {
    std::printf("Model %s was downloaded to %s\n", v.id.c_str(), r->model.dir.c_str());
  } else {
    std::printf("Model %s is in the cache: %s\n", v.id.c_str(), r->model.dir.c_str());
  }
  return 0;
}

void AddOutputOption(CLI::App* cmd, ModelArgs* args) {
  cmd->add_option("--output", args->output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
}

}  // namespace

void AddModelCommand(CLI::App& app, const Environment& env, int& exit_code) {
  const CatalogOptions& options = env.catalog;
  auto args = std::make_shared<ModelArgs>();
  CLI::App* model = app.add_subcommand("model", "Discover, inspect and choose models");
  model->require_subcommand(1);

  CLI::App* list = model->add_subcommand("list", "List the models in the catalog");
  list->alias("ls");
  list->add_option("--filter", args->filters,
                   "KEY=VALUE (device, provider, task, alias); '!' negates, trailing '*' "
                   "matches a prefix; repeatable")
      ->allow_extra_args(false);
  AddOutputOption(list, args.get());
  list->callback([&options, args, &exit_code] { exit_code = RunList(options, *args); });

  CLI::App* info = model->add_subcommand("info", "Show a model's details");
  info->add_option("model", args->name, "Alias or model id")->required();
  info->add_flag("--license", args->license, "Show the license only");
  AddOutputOption(info, args.get());
  info->callback([&options, args, &exit_code] { exit_code = RunInfo(options, *args); });

  CLI::App* download = model->add_subcommand("download", "Download a model into the cache");
  download->add_option("model", args->name, "Alias, model id, or the URL of a GGUF file")
      ->required();
  download->add_option("--sha256", args->sha256, "With a URL: the file's expected sha256");
  download->add_option("--name", args->download_name,
                       "With a URL: the model's name in the cache (default: the file name)");
  download->callback([&options, args, &exit_code] { exit_code = RunDownload(options, *args); });

  CLI::App* select = model->add_subcommand(
      "select", "Choose a model by task and installed RAM (the tutorial's select_model.py)");
  select->add_option("--task", args->task, "Task: chat, code, ...")->required();
  select->add_option("--registry", args->registry,
                     "models.json of {name, task, min_ram_gb, notes} (default: the catalog)");
  AddOutputOption(select, args.get());
  select->callback([&options, args, &exit_code] { exit_code = RunSelect(options, *args); });

  AddModelServiceCommands(*model, env, exit_code);
  AddCompileCommand(*model, env, exit_code);
}

}  // namespace foundry::cli
