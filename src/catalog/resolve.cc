#include "catalog/resolve.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace foundry {

VariantClass ClassOf(const ModelVariant& v) {
  const std::string ep = AsciiLower(v.execution_provider);
  if (v.device == "NPU") return VariantClass::kNpu;
  if (v.device == "GPU") {
    if (ep == "cudaexecutionprovider") return VariantClass::kCudaGpu;
    if (ep == "dmlexecutionprovider" || ep == "webgpuexecutionprovider") {
      return VariantClass::kGenericGpu;
    }
    return VariantClass::kVendorGpu;
  }
  return ep == "cpuexecutionprovider" ? VariantClass::kGenericCpu : VariantClass::kVendorCpu;
}

bool Runnable(const ModelVariant& v, const MachineInfo& /*machine*/) {
  return ClassOf(v) == VariantClass::kGenericCpu;
}

std::vector<const ModelVariant*> OrderVariants(std::vector<const ModelVariant*> variants,
                                               const std::set<std::string>& cached_ids) {
  std::stable_sort(variants.begin(), variants.end(),
                   [&](const ModelVariant* a, const ModelVariant* b) {
                     const bool ca = cached_ids.count(AsciiLower(a->id)) > 0;
                     const bool cb = cached_ids.count(AsciiLower(b->id)) > 0;
                     if (ca != cb) return ca;
                     if (ClassOf(*a) != ClassOf(*b)) return ClassOf(*a) < ClassOf(*b);
                     return a->version > b->version;
                   });
  return variants;
}

StatusOr<const ModelVariant*> ResolveModel(const Catalog& catalog, std::string_view name,
                                           const MachineInfo& machine,
                                           const std::set<std::string>& cached_ids) {
  std::vector<const ModelVariant*> group = catalog.ByAlias(name);
  if (group.empty()) {
    const ModelVariant* v = catalog.ById(name);
    if (v == nullptr) {
      return NotFound("model \"" + std::string(name) +
                      "\" is not in the catalog; run `foundry model list` to see the models");
    }
    if (!Runnable(*v, machine)) {
      return Unimplemented(v->id + " needs a " + v->device + " with " + v->execution_provider +
                           "; foundry runs CPU variants only");
    }
    return v;
  }
  std::vector<const ModelVariant*> runnable;
  for (const ModelVariant* v : group) {
    if (Runnable(*v, machine)) runnable.push_back(v);
  }
  if (runnable.empty()) {
    return Unimplemented("no variant of \"" + std::string(name) +
                         "\" runs on this machine (foundry runs CPU variants only)");
  }
  return OrderVariants(std::move(runnable), cached_ids).front();
}

Status CheckFits(const Catalog& catalog, const ModelVariant& v, const MachineInfo& machine) {
  if (v.min_ram_gb <= machine.total_ram_gb) return OkStatus();
  const std::string task = ShortTask(v.task);
  const ModelVariant* best = nullptr;
  for (const std::string& alias : catalog.Aliases()) {
    auto r = ResolveModel(catalog, alias, machine, {});
    if (!r.ok()) continue;
    const ModelVariant* c = *r;
    if (ShortTask(c->task) != task || c->min_ram_gb > machine.total_ram_gb) continue;
    // The largest that fits; among equals, one from the same publisher (the same family),
    // then the one with more parameters.
    const auto rank = [&](const ModelVariant* x) {
      return std::make_tuple(x->min_ram_gb, x->publisher == v.publisher, x->parameter_count);
    };
    if (best == nullptr || rank(c) > rank(best)) best = c;
  }
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s (%s) needs %g GB of RAM and this machine has %.1f GB",
                v.alias.c_str(), v.id.c_str(), v.min_ram_gb, machine.total_ram_gb);
  std::string msg = buf;
  if (best != nullptr) {
    std::snprintf(buf, sizeof(buf), "; try the smaller %s model %s (needs %g GB)", task.c_str(),
                  best->alias.c_str(), best->min_ram_gb);
    msg += buf;
  } else {
    msg += "; no " + task + " model in the catalog fits";
  }
  return OutOfRange(msg);
}

StatusOr<ModelFilter> ParseModelFilter(std::string_view spec) {
  const size_t eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return InvalidArgument("filter \"" + std::string(spec) +
                           "\" must look like KEY=VALUE (keys: device, provider, task, alias)");
  }
  ModelFilter f;
  std::string_view key = spec.substr(0, eq);
  std::string_view value = spec.substr(eq + 1);
  if (key.back() == '!') {
    f.negate = true;
    key.remove_suffix(1);
  }
  if (!value.empty() && value.front() == '!') {
    f.negate = !f.negate;
    value.remove_prefix(1);
  }
  if (!value.empty() && value.back() == '*') {
    f.prefix = true;
    value.remove_suffix(1);
  }
  f.key = AsciiLower(key);
  f.value = AsciiLower(value);
  if (f.key != "device" && f.key != "provider" && f.key != "task" && f.key != "alias") {
    return InvalidArgument("unknown filter key \"" + std::string(key) +
                           "\" (keys: device, provider, task, alias)");
  }
  if (f.value.empty() && !f.prefix) {
    return InvalidArgument("filter \"" + std::string(spec) + "\" has an empty value");
  }
  return f;
}

namespace {

bool ValueMatches(const ModelFilter& f, const std::string& candidate) {
  const std::string c = AsciiLower(candidate);
  return f.prefix ? c.rfind(f.value, 0) == 0 : c == f.value;
}

}  // namespace

bool FilterMatches(const ModelFilter& f, const ModelVariant& v) {
  bool m = false;
  if (f.key == "device") {
    m = ValueMatches(f, v.device);
  } else if (f.key == "provider") {
    std::string ep = v.execution_provider;
    const std::string suffix = "ExecutionProvider";
    std::string short_ep = ep;
    if (ep.size() > suffix.size() && ep.substr(ep.size() - suffix.size()) == suffix) {
      short_ep = ep.substr(0, ep.size() - suffix.size());
    }
    m = ValueMatches(f, ep) || ValueMatches(f, short_ep);
  } else if (f.key == "task") {
    m = ValueMatches(f, v.task) || ValueMatches(f, ShortTask(v.task));
  } else if (f.key == "alias") {
    m = ValueMatches(f, v.alias);
    for (const std::string& a : v.aliases) m = m || ValueMatches(f, a);
  }
  return m != f.negate;
}

}  // namespace foundry
