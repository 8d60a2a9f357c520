#include "catalog/select.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "catalog/resolve.h"

namespace foundry {

StatusOr<std::vector<RegistryEntry>> ParseRegistry(std::string_view json_text,
                                                   const std::string& origin) {
  using nlohmann::json;
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("registry " + origin + " is not valid JSON");
  const json* list = &doc;
  if (doc.is_object()) {
    auto it = doc.find("models");
    if (it == doc.end()) {
      return InvalidArgument("registry " + origin +
                             " must be an array of {\"name\",\"task\",\"min_ram_gb\"} objects");
    }
    list = &*it;
  }
  if (!list->is_array()) {
    return InvalidArgument("registry " + origin +
                           " must be an array of {\"name\",\"task\",\"min_ram_gb\"} objects");
  }
  std::vector<RegistryEntry> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    const std::string where = "registry " + origin + ": entry " + std::to_string(i);
    if (!e.is_object()) return InvalidArgument(where + " must be an object");
    RegistryEntry r;
    auto name = e.find("name");
    auto task = e.find("task");
    auto ram = e.find("min_ram_gb");
    auto notes = e.find("notes");
    if (name == e.end() || !name->is_string() || name->get<std::string>().empty()) {
      return InvalidArgument(where + ": \"name\" must be a non-empty string");
    }
    r.name = name->get<std::string>();
    if (task == e.end() || !task->is_string()) {
      return InvalidArgument(where + " (" + r.name + "): \"task\" must be a string");
    }
    if (ram == e.end() || !ram->is_number() || !std::isfinite(ram->get<double>()) ||
        ram->get<double>() < 0) {
      return InvalidArgument(where + " (" + r.name + "): \"min_ram_gb\" must be a number >= 0");
    }
    if (notes != e.end() && !notes->is_null()) {
      if (!notes->is_string()) {
        return InvalidArgument(where + " (" + r.name + "): \"notes\" must be a string");
      }
      r.notes = notes->get<std::string>();
    }
    r.task = task->get<std::string>();
    r.min_ram_gb = ram->get<double>();
    out.push_back(std::move(r));
  }
  return out;
}

StatusOr<std::vector<RegistryEntry>> LoadRegistry(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open registry file \"" + path + "\"");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseRegistry(ss.str(), "\"" + path + "\"");
}

std::vector<RegistryEntry> CatalogCandidates(const Catalog& catalog, const MachineInfo& machine) {
  std::vector<RegistryEntry> out;
  for (const std::string& alias : catalog.Aliases()) {
    auto v = ResolveModel(catalog, alias, machine, {});
    if (!v.ok()) continue;
    RegistryEntry e;
    e.name = alias;
    e.task = ShortTask((*v)->task);
    e.min_ram_gb = (*v)->min_ram_gb;
    e.notes = (*v)->id + ", " + FormatParameterCount((*v)->parameter_count) + " parameters, " +
              (*v)->quantization;
    out.push_back(std::move(e));
  }
  std::stable_sort(out.begin(), out.end(), [](const RegistryEntry& a, const RegistryEntry& b) {
    return a.min_ram_gb > b.min_ram_gb;
  });
  return out;
}

Selection SelectModel(const std::vector<RegistryEntry>& candidates, std::string_view task,
                      double ram_gb) {
  Selection s;
  for (const RegistryEntry& e : candidates) {
    SelectionStep step;
    step.entry = &e;
    step.task_matches = e.task == task;
    step.fits = ram_gb >= e.min_ram_gb;
    if (step.kept() && !s.chosen) s.chosen = s.steps.size();
    s.steps.push_back(step);
  }
  return s;
}

}  // namespace foundry
