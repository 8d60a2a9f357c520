// The runtime: one inference thread per loaded model that turns many generation requests into
// shared forward passes (continuous batching).
//
// A Scheduler owns one Context (src/engine/context.h) with n_slots sequences. Requests wait in
// a bounded queue; each step admits waiting requests into free slots, builds ONE batch holding
// a chunk of each new prompt plus one token per decoding slot, decodes it, steps every slot's
// own SequenceGenerator (sample, stop, limits, UTF-8), streams text, and frees finished or
// cancelled slots. A slot's tokens depend only on its own cells, and the forward pass is exact
// per token, so a request gives the same tokens alone or among others (for a given seed).
//
// Prompt caching: a slot keeps its KV cells after its request ends. A new request goes to the
// free slot whose cells share the longest prefix with its prompt (else the least recently used
// one), and only the rest of the prompt is computed. Only cells computed as prompt are reused,
// never those of sampled tokens (one token at a time sums in other orders), so a request's
// tokens are the same with and without the cache.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "engine/finish_reason.h"
#include "engine/token_logprobs.h"
#include "foundry/engine.h"
#include "foundry/sampling_params.h"
#include "model/batch.h"

namespace foundry {

class Context;

struct GenerationResult {
  Status status;  // OK unless finish_reason is kError
  FinishReason finish_reason = FinishReason::kStop;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;  // sampled tokens (an end-of-generation token is not counted)
  int64_t cached_tokens = 0;      // prompt tokens found in the cache, not computed again
  // When the first sampled token came out (the epoch when none did): the service's time to
  // first token and inter-token latency.
  std::chrono::steady_clock::time_point first_token_at{};
};

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids, not empty
  SamplingParams sampling;
  int64_t max_tokens = -1;        // < 0: until the context is full
  std::vector<std::string> stop;  // generation ends before the first of these; held back
  int top_logprobs = -1;          // >= 0: on_logprobs gets each token with this many alternatives
  bool render_special_tokens = false;  // stream control tokens' text (tool-call markup)
  // Set to true from any thread to stop the generation within one step.
  std::shared_ptr<std::atomic<bool>> cancelled;
  // Called on the scheduler thread: each piece of streamed text (whole UTF-8 characters), then
  // exactly once on_done. Must not block for long and must not call back into the Scheduler.
  std::function<void(std::string_view text)> on_text;
  // Called on the scheduler thread before the token's text (top_logprobs >= 0).
  std::function<void(const TokenLogprobs& logprobs)> on_logprobs;
  std::function<void(const GenerationResult& result)> on_done;
};

struct SchedulerOptions {
  int n_slots = 4;    // sequences decoded together
  int64_t n_ctx = 0;  // context per slot; 0: the model's training context, capped as below
  // With n_ctx 0: the most memory all slots' KV cache may take (engine/context.h's
  // DefaultContextLength); 0 caps the context at 4096 instead.
  uint64_t kv_budget_bytes = 0;
  int n_threads = 0;  // 0: one per core
  // The most tokens a step computes: one of every decoding slot, then prompt tokens up to this
  // many (at least one piece of a prompt per step).
  int64_t n_batch = 512;
  size_t max_queue = 64;     // requests waiting for a slot; more are refused (queue full)
  bool cache_prompt = true;  // keep each slot's KV after a request and reuse its prefix
  // Prompt tokens per step and prompt while other slots decode (0: up to n_batch), so that a
  // long prompt does not stall their tokens for a whole batch.
  int64_t n_interleave = 64;
};

struct SubmitResult {
  Status status;            // InvalidArgument / OutOfRange for a bad request
  bool queue_full = false;  // refused because the queue is full: retry later
  bool ok() const { return status.ok(); }
};

struct SchedulerStats {
  size_t queued = 0;
  int active = 0;
  int64_t steps = 0;            // forward passes run
  int64_t max_batch_slots = 0;  // most slots that shared one forward pass
  int64_t prompt_tokens = 0;    // prompt tokens of the requests admitted so far
  int64_t cached_tokens = 0;    // of which were found in the cache (not computed)
  int64_t shared_tokens = 0;    // of those, copied from cells another slot computed
};

class Scheduler {
 public:
  static StatusOr<std::unique_ptr<Scheduler>> Create(std::shared_ptr<const LanguageModel> lm,
                                                     const SchedulerOptions& options);
  // Stops the thread; requests still queued or running finish as kCancelled.
  ~Scheduler();

  // Validates the request and queues it. On success its callbacks will be called (on_done
  // exactly once); on failure they never are.
  SubmitResult Submit(GenerationRequest request);

  const LanguageModel& model() const { return *lm_; }
  std::shared_ptr<const LanguageModel> shared_model() const { return lm_; }
  int64_t n_ctx() const { return n_ctx_; }  // per slot
  int n_slots() const { return options_.n_slots; }
  size_t kv_bytes() const;
  SchedulerStats stats() const;

 private:
  struct Slot;
  struct Pending;
  Scheduler(std::shared_ptr<const LanguageModel> lm, const SchedulerOptions& options);
  void Loop();
  bool Step();  // one forward pass; false when there was nothing to do
  void Finish(Slot& slot, FinishReason reason, Status status = OkStatus());
  void Emit(Slot& slot, const std::string& text);
  void Admit(std::unique_ptr<Pending> p);  // into the best free slot (one must be free)
  // Leading tokens of `prompt` whose cells `slot` holds and that may be reused exactly.
  int64_t ReusableLength(const Slot& slot, const std::vector<int32_t>& prompt) const;
  // Copies into `slot` the cells of its prompt that another slot holds beyond its own.
  void ShareCells(Slot& slot);

  std::shared_ptr<const LanguageModel> lm_;
  SchedulerOptions options_;
  int64_t n_ctx_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  bool stop_ = false;
  std::atomic<int> active_{0};
  std::atomic<int64_t> steps_{0};
  std::atomic<int64_t> max_batch_slots_{0};
  std::atomic<int64_t> prompt_tokens_{0};
  std::atomic<int64_t> cached_tokens_{0};
  std::atomic<int64_t> shared_tokens_{0};

  // Owned by the inference thread.
  std::unique_ptr<Context> ctx_;
  Batch batch_;
  std::vector<std::unique_ptr<Slot>> slots_;
  uint64_t clock_ = 0;  // orders admissions (least recently used slot, prompts in FIFO order)
  std::thread thread_;
};

}  // namespace foundry
