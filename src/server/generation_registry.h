// The cancellation flags of the generations in progress, so that a draining service can end
// the ones still running at its deadline (their streams then close with an error event).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace foundry {

class GenerationRegistry {
 public:
  void Add(const std::shared_ptr<std::atomic<bool>>& cancelled) {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(flags_, [](const auto& w) { return w.expired(); });
    flags_.push_back(cancelled);
  }

  void CancelAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& w : flags_) {
      if (auto flag = w.lock()) flag->store(true);
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<std::atomic<bool>>> flags_;
};

}  // namespace foundry
