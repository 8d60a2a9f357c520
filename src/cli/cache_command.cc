// `foundry cache location|list|ls|cd|remove|rm`: the model cache, Foundry Local's way.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/table.h"

namespace foundry::cli {
namespace {

struct CacheArgs {
  std::string output = "text";
  std::string dir;
  std::string model;
  bool yes = false;
};

// Foundry Local's `cache ls` column: "💾 " then the alias padded to this width.
constexpr size_t kAliasWidth = 50;

int RunLocation(const CatalogOptions& options) {
  auto dir = CacheDirectory(options);
  if (!dir.ok()) return ReportError(dir.status());
  std::printf("💾 Cache directory path: %s\n", dir->string().c_str());
  return 0;
}

int RunList(const CatalogOptions& options, const CacheArgs& a) {
  auto dir = CacheDirectory(options);
  if (!dir.ok()) return ReportError(dir.status());
  auto models = ModelCache(*dir).List();
  if (!models.ok()) return ReportError(models.status());
  auto catalog = Catalog::Load(options.catalog_file);
  if (!catalog.ok()) return ReportError(catalog.status());
  if (a.output == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const CachedModel& m : *models) {
      out.push_back({{"alias", DisplayAlias(&*catalog, m.id)},
                     {"id", m.id},
                     {"path", m.dir.string()},
                     {"modelFile", m.model_file.string()}});
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  // Foundry Local's lines: one line for an empty cache, else a title, a header and rows.
  if (models->empty()) {
    std::printf("No models cached on device\n");
    return 0;
  }
  std::printf("Models cached on device:\n");
  std::printf("   %sModel ID\n", Pad("Alias", kAliasWidth).c_str());
  for (const CachedModel& m : *models) {
    std::printf("💾 %s%s\n", Pad(DisplayAlias(&*catalog, m.id), kAliasWidth).c_str(), m.id.c_str());
  }
  return 0;
}

int RunCd(const CatalogOptions& options, const CacheArgs& a) {
  auto dir = SetCacheDirectory(options.home, a.dir);
  if (!dir.ok()) return ReportError(dir.status());
  std::printf("💾 Cache directory path: %s\n", dir->string().c_str());
  return 0;
}

int RunRemove(const CatalogOptions& options, const CacheArgs& a) {
  auto dir = CacheDirectory(options);
  if (!dir.ok()) return ReportError(dir.status());
  ModelCache cache(*dir);
  auto models = cache.List();
  if (!models.ok()) return ReportError(models.status());
  // An id (with or without ":N"), or a catalog alias: every cached variant of it.
  std::vector<const CachedModel*> targets;
  const std::string want = AsciiLower(a.model);
  for (const CachedModel& m : *models) {
    const std::string id = AsciiLower(m.id);
    if (id == want || id.substr(0, id.rfind(':')) == want) targets.push_back(&m);
  }
  if (targets.empty()) {
    auto catalog = Catalog::Load(options.catalog_file);
    if (!catalog.ok()) return ReportError(catalog.status());
    for (const ModelVariant* v : catalog->ByAlias(a.model)) {
      for (const CachedModel& m : *models) {
        if (AsciiLower(m.id) == AsciiLower(v->id)) targets.push_back(&m);
      }
    }
  }
  if (targets.empty()) {
    return ReportError(NotFound("model \"" + a.model + "\" is not in the cache " + dir->string() +
                                "; run `foundry cache ls` to see what is"));
  }
  // Nobody can answer the question: a script must say --yes rather than delete silently.
  const bool ask = !a.yes;
  if (ask && !isatty(STDIN_FILENO)) {
    return ReportError(InvalidArgument("removing " + targets.front()->id +
                                       " needs confirmation and stdin is not a terminal; "
                                       "run `foundry cache remove " +
                                       a.model + " --yes`"));
  }
  for (const CachedModel* m : targets) {
    if (ask) {
      std::printf("Remove %s (%s) from the cache? [y/N] ", m->id.c_str(), m->dir.c_str());
      std::fflush(stdout);
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "Y" && answer != "yes") {
        std::printf("Kept %s.\n", m->id.c_str());
        continue;
      }
    }
    const Status st = cache.Remove(*m);
    if (!st.ok()) return ReportError(st);
    std::printf("Model %s was removed from the cache.\n", m->id.c_str());
  }
  return 0;
}

}  // namespace

void AddCacheCommand(CLI::App& app, const Environment& env, int& exit_code) {
  const CatalogOptions& options = env.catalog;
  auto args = std::make_shared<CacheArgs>();
  CLI::App* cache = app.add_subcommand("cache", "Manage the local model cache");
  cache->require_subcommand(1);

  cache->add_subcommand("location", "Show the cache directory")->callback([&options, &exit_code] {
    exit_code = RunLocation(options);
  });

  CLI::App* list = cache->add_subcommand("list", "List the models in the cache");
  list->alias("ls");
  list->add_option("--output", args->output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  list->callback([&options, args, &exit_code] { exit_code = RunList(options, *args); });

  CLI::App* cd = cache->add_subcommand("cd", "Change the cache directory (persists)");
  cd->add_option("dir", args->dir, "An existing directory")->required();
  cd->callback([&options, args, &exit_code] { exit_code = RunCd(options, *args); });

  CLI::App* remove = cache->add_subcommand("remove", "Remove a model from the cache");
  remove->alias("rm");
  remove->add_option("model", args->model, "Model id or alias")->required();
  remove->add_flag("-y,--yes", args->yes,
                   "Do not ask for confirmation (required when stdin is not a terminal)");
  remove->callback([&options, args, &exit_code] { exit_code = RunRemove(options, *args); });
}

}  // namespace foundry::cli
