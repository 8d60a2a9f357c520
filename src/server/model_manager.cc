#include "server/model_manager.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "chat/chat_template_traits.h"
#include "engine/chat_prompt.h"
#include "foundry/engine.h"

namespace foundry {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t PhysicalMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return uint64_t{8} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

// An error message for HTTP: the model file's path replaced by "the model file".
std::string WithoutPath(std::string message, const std::string& path) {
  for (size_t at = message.find(path); !path.empty() && at != std::string::npos;
       at = message.find(path, at)) {
    message.replace(at, path.size(), "the model file");
  }
  return message;
}

}  // namespace

StatusOr<ResolvedModel> ResolveModelPath(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path p(name);
  std::error_code ec;
  const Status unknown = NotFound("model \"" + name +
                                  "\" was not found: name a model by the absolute path of a "
                                  "GGUF file");
  if (name.empty() || !p.is_absolute() || !fs::is_regular_file(p, ec)) return unknown;
  return ResolvedModel{name, name, unknown};
}

ModelManager::Lease::Lease(std::shared_ptr<Entry> e) : entry_(std::move(e)) {
  entry_->in_flight.fetch_add(1);
  entry_->last_used_ms.store(NowMs());
}

ModelManager::Lease::~Lease() {
  if (!entry_) return;
  entry_->last_used_ms.store(NowMs());
  entry_->in_flight.fetch_sub(1);
}

ModelManager::ModelManager(ModelManagerOptions options, ModelResolver resolver)
    : options_(std::move(options)), resolver_(std::move(resolver)) {
  if (!resolver_) resolver_ = ResolveModelPath;
  if (options_.memory_budget_bytes == 0) options_.memory_budget_bytes = PhysicalMemory() / 4 * 3;
  // A model loaded without a context size gets its training context, as far as a quarter of
  // the budget holds its slots' KV cache (pages become resident only as positions fill).
  if (options_.scheduler.kv_budget_bytes == 0) {
    options_.scheduler.kv_budget_bytes = options_.memory_budget_bytes / 4;
  }
  reaper_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(reaper_mu_);
    while (!stop_) {
      reaper_cv_.wait_for(lock, std::chrono::seconds(1));
      if (stop_) break;
      lock.unlock();
      ReapExpired();
      lock.lock();
    }
  });
}

ModelManager::~ModelManager() {
  {
    std::lock_guard<std::mutex> lock(reaper_mu_);
    stop_ = true;
  }
  reaper_cv_.notify_all();
  reaper_.join();
  UnloadAll();
}

StatusOr<ModelManager::Lease> ModelManager::Acquire(const std::string& name, int64_t ttl_s,
                                                    std::optional<bool> unload_when_idle,
                                                    int64_t n_ctx) {
  std::shared_ptr<Entry> replaced;  // released after the lock: its requests may still run
  std::lock_guard<std::mutex> lock(mu_);
  // A loaded model's own id needs no resolving (the cache is not scanned per request).
  // A model loaded with another context than the one asked for is loaded anew.
  auto find = [&](const std::string& id) {
    auto found = models_.find(id);
    if (found != models_.end() && n_ctx > 0 && found->second->scheduler->n_ctx() != n_ctx) {
      replaced = std::move(found->second);
      models_.erase(found);
      found = models_.end();
    }
    return found;
  };
  auto it = find(name);
  if (it == models_.end()) {
    FOUNDRY_ASSIGN_OR_RETURN(ResolvedModel resolved, resolver_(name));
    it = find(resolved.id);
    if (it == models_.end()) {
      FOUNDRY_ASSIGN_OR_RETURN(Lease lease, Load(resolved, ttl_s, n_ctx));
      if (unload_when_idle) lease->unload_when_idle = *unload_when_idle;
      return lease;
    }
  }
  if (ttl_s >= 0) it->second->ttl_s = ttl_s;
  if (unload_when_idle) it->second->unload_when_idle = *unload_when_idle;
  return Lease(it->second);
}

StatusOr<ModelManager::Lease> ModelManager::Load(const ResolvedModel& resolved, int64_t ttl_s,
                                                 int64_t n_ctx) {
  const std::string& path = resolved.path;
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  EvictFor(ec ? 0 : file_bytes);
  StatusOr<std::shared_ptr<LanguageModel>> loaded = LanguageModel::Load(path, options_.load);
  if (!loaded.ok()) {
    // The reason, with the file's path, is for the operator's log only.
    std::fprintf(stderr, "cannot load model %s from %s: %s\n", resolved.id.c_str(), path.c_str(),
                 loaded.status().message().c_str());
    std::fflush(stderr);
    if (resolved.if_unusable) return *resolved.if_unusable;
    return Status(loaded.status().code(), WithoutPath(loaded.status().message(), path));
  }
  std::shared_ptr<LanguageModel> lm = std::move(loaded).value();
  SchedulerOptions scheduler = options_.scheduler;
  if (n_ctx > 0) scheduler.n_ctx = n_ctx;
  FOUNDRY_ASSIGN_OR_RETURN(std::unique_ptr<Scheduler> sched,
                           Scheduler::Create(std::move(lm), scheduler));
  auto e = std::make_shared<Entry>();
  e->name = resolved.id;
  e->path = path;
  e->bytes = (ec ? 0 : file_bytes) + sched->kv_bytes();
  e->scheduler = std::move(sched);
  e->ttl_s = ttl_s >= 0 ? ttl_s : options_.default_ttl_s;
  e->last_used_ms.store(NowMs());
  models_[resolved.id] = e;
  return Lease(e);
}

void ModelManager::EvictFor(uint64_t bytes) {
  for (;;) {
    uint64_t used = 0;
    for (const auto& [n, e] : models_) used += e->bytes;
    if (used + bytes <= options_.memory_budget_bytes) return;
    // The least recently used model that nobody is using.
    std::string victim;
    int64_t oldest = 0;
    for (const auto& [n, e] : models_) {
      if (e->in_flight.load() > 0) continue;
      if (victim.empty() || e->last_used_ms.load() < oldest) {
        victim = n;
        oldest = e->last_used_ms.load();
      }
    }
    if (victim.empty()) return;  // everything is busy: load anyway
    models_.erase(victim);
  }
}

Status ModelManager::Unload(const std::string& name) {
  std::shared_ptr<Entry> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) {
      auto resolved = resolver_(name);
      if (resolved.ok()) it = models_.find(resolved->id);
    }
    if (it == models_.end()) return NotFound("model \"" + name + "\" is not loaded");
    gone = std::move(it->second);
    models_.erase(it);
  }
  return OkStatus();  // `gone` (and its scheduler) goes when its last request ends
}

void ModelManager::UnloadAll() {
  std::map<std::string, std::shared_ptr<Entry>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gone.swap(models_);
  }
}

std::vector<LoadedModelInfo> ModelManager::Loaded() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<LoadedModelInfo> out;
  for (const auto& [n, e] : models_) {
    LoadedModelInfo info;
    info.name = n;
    info.path = e->path;
    info.ttl_s = e->ttl_s;
    info.unload_when_idle = e->unload_when_idle;
    info.n_ctx = e->scheduler->n_ctx();
    info.tool_calling = TraitsOfTemplate(ChatTemplateSourceOf(e->scheduler->model())).renders_tools;
    info.bytes = e->bytes;
    info.in_flight = e->in_flight.load();
    const SchedulerStats stats = e->scheduler->stats();
    info.queued = stats.queued;
    info.busy_slots = stats.active;
    info.n_slots = e->scheduler->n_slots();
    out.push_back(std::move(info));
  }
  return out;
}

void ModelManager::ReapExpired() {
  std::vector<std::shared_ptr<Entry>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = NowMs();
    for (auto it = models_.begin(); it != models_.end();) {
      const Entry& e = *it->second;
      if (e.unload_when_idle && e.in_flight.load() == 0 &&
          now - e.last_used_ms.load() > e.ttl_s * 1000) {
        gone.push_back(std::move(it->second));
        it = models_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace foundry
