// The service's loaded models: load on demand, several at once, idle ones unloaded after their
// TTL, and least-recently-used idle ones unloaded first when a new model would exceed the
// memory budget. Each loaded model has its own Scheduler (one inference thread).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "foundry/engine.h"
#include "runtime/scheduler.h"

namespace foundry {

// What a model name from a request stands for: the model's canonical id (the key it is loaded
// under, so an alias and its id share one loaded model) and its GGUF file.
struct ResolvedModel {
  std::string id;
  std::string path;
  // The answer when the file does not load. Set for a model named by its path, so that a file
  // that is not a usable model answers exactly as a name that does not exist (a caller learns
  // nothing about which files exist). Otherwise the answer names the model, not its file.
  std::optional<Status> if_unusable;
};
// Maps a model name from a request to a model (NotFound when unknown).
using ModelResolver = std::function<StatusOr<ResolvedModel>(const std::string& name)>;
// The default resolver: an absolute path to an existing regular file (its own id).
StatusOr<ResolvedModel> ResolveModelPath(const std::string& name);

struct ModelManagerOptions {
  LoadOptions load;  // how each model file is loaded (ISA, mapped or copied weights)
  SchedulerOptions scheduler;
  int64_t default_ttl_s = 600;
  uint64_t memory_budget_bytes = 0;  // 0: 75% of physical memory
  // scheduler.kv_budget_bytes 0 here: a quarter of memory_budget_bytes.
};

struct LoadedModelInfo {
  std::string name;
  std::string path;
  int64_t ttl_s = 0;
  bool unload_when_idle = true;  // false: kept loaded however long it is idle
  int64_t n_ctx = 0;
  bool tool_calling = false;  // its chat template renders the request's tools
  uint64_t bytes = 0;
  int in_flight = 0;
  size_t queued = 0;   // requests waiting for one of its slots
  int busy_slots = 0;  // slots generating
  int n_slots = 0;
};

class ModelManager {
 public:
  struct Entry {
    std::string name;
    std::string path;
    std::unique_ptr<Scheduler> scheduler;
    uint64_t bytes = 0;
    int64_t ttl_s = 0;
    bool unload_when_idle = true;  // false: ReapExpired leaves it loaded
    std::atomic<int> in_flight{0};
    std::atomic<int64_t> last_used_ms{0};
  };

  // Holds a model in use: it is neither unloaded by TTL nor evicted while a Lease lives.
  class Lease {
   public:
    Lease() = default;
    explicit Lease(std::shared_ptr<Entry> e);
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&& o) noexcept = default;
    ~Lease();
    Entry* operator->() const { return entry_.get(); }
    Scheduler& scheduler() const { return *entry_->scheduler; }

   private:
    std::shared_ptr<Entry> entry_;
  };

  ModelManager(ModelManagerOptions options, ModelResolver resolver);
  ~ModelManager();

  // The loaded model, loading it first if needed. ttl_s < 0: keep the current/default TTL.
  // unload_when_idle false keeps the model loaded past its TTL (Foundry Local's
  // /openai/load?unload=false); nullopt keeps the current setting (true for a new model).
  // n_ctx > 0: the context per slot the model must have (`model load --ctx-size`); a model
  // loaded with another one is loaded anew (requests running on the old one finish there).
  StatusOr<Lease> Acquire(const std::string& name, int64_t ttl_s = -1,
                          std::optional<bool> unload_when_idle = std::nullopt,
                          int64_t n_ctx = 0);
  // Unloads a model, named as for Acquire (running requests finish first: they hold the
  // scheduler). NotFound when it is not loaded.
  Status Unload(const std::string& name);
  void UnloadAll();
  std::vector<LoadedModelInfo> Loaded() const;
  // The resolver's answer for a name (for routes that only need the id or the file).
  StatusOr<ResolvedModel> Resolve(const std::string& name) const { return resolver_(name); }
  // Unloads models idle for longer than their TTL (the reaper thread calls it every second).
  void ReapExpired();

 private:
  StatusOr<Lease> Load(const ResolvedModel& resolved, int64_t ttl_s,
                       int64_t n_ctx);  // with mu_ held
  void EvictFor(uint64_t bytes);                                       // with mu_ held

  ModelManagerOptions options_;
  ModelResolver resolver_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> models_;
  std::mutex reaper_mu_;
  std::condition_variable reaper_cv_;
  bool stop_ = false;
  std::thread reaper_;
};

}  // namespace foundry
