#include "runtime/scheduler.h"

#include <algorithm>
#include <optional>

#include "engine/context.h"
#include "engine/sequence_generator.h"

namespace foundry {
namespace {

// A slot waits a step for another computing its prompt's next tokens only if they share at
// least this many: copying fewer is not worth the wait.
constexpr size_t kMinSharedRun = 16;

// A prompt chunk a step computes: tokens [start, end) of `prompt`.
struct ChunkInStep {
  const std::vector<int32_t>* prompt;
  size_t start, end;
};

// Whether a slot that has computed `done` tokens of `prompt` would compute what one of the
// chunks computes (the same tokens from position 0 on): it then waits, and the next step copies
// those cells (Scheduler::ShareCells) instead of computing them twice.
bool ComputedAlongside(const std::vector<int32_t>& prompt, size_t done,
                       const std::vector<ChunkInStep>& chunks) {
  const size_t shared = done + kMinSharedRun;
  if (prompt.size() <= shared) return false;
  for (const ChunkInStep& c : chunks) {
    if (c.start == done && c.end >= shared &&
        std::equal(prompt.begin(), prompt.begin() + static_cast<ptrdiff_t>(shared),
                   c.prompt->begin())) {
      return true;
    }
  }
  return false;
}

}  // namespace

// A validated request waiting for a slot.
struct Scheduler::Pending {
  GenerationRequest req;
  std::optional<SequenceGenerator> gen;
};

struct Scheduler::Slot {
  int id = 0;
  bool active = false;
  GenerationRequest req;
  std::optional<SequenceGenerator> gen;  // sampling, stop strings, limits, UTF-8
  size_t prompt_done = 0;                // prompt tokens already in the cache
  int32_t next_token = -1;               // sampled, to be fed in the next step
  int logits_row = -1;                   // row of this step's logits, -1 when none
  int64_t cached_prompt = 0;             // prompt tokens this request found in the cache
  std::chrono::steady_clock::time_point first_token_at{};  // of the current request
  // The tokens whose KV the slot's cells hold, prompt and sampled tokens alike (kept after the
  // request for the next one).
  std::vector<int32_t> cached;
  uint64_t last_used = 0;  // admission clock of its latest request
};

Scheduler::Scheduler(std::shared_ptr<const LanguageModel> lm, const SchedulerOptions& options)
    : lm_(std::move(lm)), options_(options) {}

StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(std::shared_ptr<const LanguageModel> lm,
                                                       const SchedulerOptions& options) {
  if (options.n_slots < 1 || options.n_slots > 256) {
    return InvalidArgument("the number of slots must be between 1 and 256");
  }
  if (options.n_ctx < 0 || options.n_batch < 1 || options.max_queue < 1) {
    return InvalidArgument("context, batch and queue sizes must be positive");
  }
  if (options.n_interleave < 0) {
    return InvalidArgument("the interleaved prompt piece must be 0 or positive");
  }
  std::unique_ptr<Scheduler> s(new Scheduler(std::move(lm), options));
  ContextOptions co;  // checks the thread count
  co.n_seq = options.n_slots;
  co.n_ctx = options.n_ctx;
  co.kv_budget_bytes = options.kv_budget_bytes;
  co.n_threads = options.n_threads;
  FOUNDRY_ASSIGN_OR_RETURN(s->ctx_, Context::Create(s->lm_, co));
  s->n_ctx_ = s->ctx_->n_ctx();
  for (int i = 0; i < options.n_slots; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->id = i;
    s->slots_.push_back(std::move(slot));
  }
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t Scheduler::kv_bytes() const { return ctx_->kv_bytes(); }

SchedulerStats Scheduler::stats() const {
  SchedulerStats st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st.queued = queue_.size();
  }
  st.active = active_.load();
  st.steps = steps_.load();
  st.max_batch_slots = max_batch_slots_.load();
  st.prompt_tokens = prompt_tokens_.load();
  st.cached_tokens = cached_tokens_.load();
  st.shared_tokens = shared_tokens_.load();
  return st;
}

SubmitResult Scheduler::Submit(GenerationRequest request) {
  SubmitResult r;
  if (request.prompt.empty()) {
    r.status = InvalidArgument("the prompt is empty");
    return r;
  }
  const int64_t n_prompt = static_cast<int64_t>(request.prompt.size());
  if (n_prompt > n_ctx_) {
    r.status = OutOfRange("the prompt has " + std::to_string(n_prompt) +
                          " tokens but the model's context holds " + std::to_string(n_ctx_));
    return r;
  }
  const int64_t n_vocab = lm_->n_vocab();
  for (int32_t t : request.prompt) {
    if (t < 0 || t >= n_vocab) {
      r.status = InvalidArgument("prompt token id " + std::to_string(t) + " is out of range");
      return r;
    }
  }
  auto gen = SequenceGenerator::Create(*lm_, request.sampling, request.max_tokens, request.stop);
  if (!gen.ok()) {
    r.status = gen.status();
    return r;
  }
  auto p = std::make_unique<Pending>();
  p->req = std::move(request);
  if (!p->req.cancelled) p->req.cancelled = std::make_shared<std::atomic<bool>>(false);
  p->gen.emplace(std::move(gen).value());
  if (p->req.top_logprobs >= 0) p->gen->EnableLogprobs(p->req.top_logprobs);
  if (p->req.render_special_tokens) p->gen->RenderSpecialTokens();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      r.status = Internal("the model is being unloaded");
      return r;
    }
    if (queue_.size() >= options_.max_queue) {
      r.queue_full = true;
      r.status = OutOfRange("the server is busy: " + std::to_string(queue_.size()) +
                            " requests are waiting; retry later");
      return r;
    }
    queue_.push_back(std::move(p));
  }
  cv_.notify_one();
  return r;
}

void Scheduler::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty() || active_.load() > 0; });
      if (stop_) break;
      // Admit waiting requests into free slots (first come, first served).
      while (!queue_.empty() && active_.load() < options_.n_slots) {
        std::unique_ptr<Pending> p = std::move(queue_.front());
        queue_.pop_front();
        Admit(std::move(p));
      }
    }
    Step();
  }
  // Shutting down: everything still running or waiting ends as cancelled.
  for (auto& slot : slots_) {
    if (slot->active) Finish(*slot, FinishReason::kCancelled);
  }
  std::deque<std::unique_ptr<Pending>> rest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rest.swap(queue_);
  }
  for (auto& p : rest) {
    GenerationResult res;
    res.finish_reason = FinishReason::kCancelled;
    res.prompt_tokens = static_cast<int64_t>(p->req.prompt.size());
    if (p->req.on_done) p->req.on_done(res);
  }
}

// How many of a slot's cached cells a prompt may reuse: the tokens they hold that begin the
// prompt. Every token's cells are what any batch would compute for it (the forward pass is
// batch-invariant: kernels/kernels.h), so prompt tokens and sampled tokens alike are reused and
// the rest of the prompt computes exactly what it computes without the cache.
int64_t Scheduler::ReusableLength(const Slot& slot, const std::vector<int32_t>& prompt) const {
  if (!options_.cache_prompt) return 0;
  // At least the prompt's last token is computed: its logits give the first sampled token. A
  // chunk added to the batch being built counts once it is computed (in the cache).
  const size_t in_cache = static_cast<size_t>(ctx_->SeqLength(slot.id));
  const size_t limit = std::min({slot.cached.size(), in_cache, prompt.size() - 1});
  size_t n = 0;
  while (n < limit && slot.cached[n] == prompt[n]) ++n;
  return static_cast<int64_t>(n);
}

void Scheduler::ShareCells(Slot& slot) {
  const Slot* donor = nullptr;
  int64_t best = static_cast<int64_t>(slot.prompt_done);
  for (const auto& other : slots_) {
    if (other.get() == &slot) continue;
    const int64_t len = ReusableLength(*other, slot.req.prompt);
    if (len > best) {
      donor = other.get();
      best = len;
    }
  }
  if (donor == nullptr) return;
  const int64_t from = static_cast<int64_t>(slot.prompt_done);
  ctx_->CopyCells(donor->id, slot.id, from, best);
  slot.cached.assign(donor->cached.begin(), donor->cached.begin() + best);
  slot.prompt_done = static_cast<size_t>(best);
  slot.cached_prompt += best - from;
  cached_tokens_.fetch_add(best - from);
  shared_tokens_.fetch_add(best - from);
}

void Scheduler::Admit(std::unique_ptr<Pending> p) {
  // The free slot that holds the longest prefix of the prompt; among equals the least recently
  // used, so that the caches of recent conversations survive longest.
  Slot* best = nullptr;
  int64_t best_len = -1;
  for (auto& slot : slots_) {
    if (slot->active) continue;
    const int64_t len = ReusableLength(*slot, p->req.prompt);
    if (len > best_len || (len == best_len && slot->last_used < best->last_used)) {
      best = slot.get();
      best_len = len;
    }
  }
  FOUNDRY_CHECK(best != nullptr);
  Slot& s = *best;
  s.active = true;
  s.req = std::move(p->req);
  s.gen = std::move(p->gen);
  s.gen->AcceptPrompt(s.req.prompt);
  s.prompt_done = static_cast<size_t>(best_len);
  s.cached_prompt = best_len;
  s.first_token_at = {};
  s.next_token = -1;
  s.logits_row = -1;
  s.last_used = ++clock_;
  ctx_->Truncate(s.id, best_len);
  s.cached.resize(static_cast<size_t>(best_len));
  prompt_tokens_.fetch_add(static_cast<int64_t>(s.req.prompt.size()));
  cached_tokens_.fetch_add(best_len);
  active_.fetch_add(1);
}

void Scheduler::Emit(Slot& slot, const std::string& text) {
  if (!text.empty() && slot.req.on_text) slot.req.on_text(text);
}

void Scheduler::Finish(Slot& slot, FinishReason reason, Status status) {
  if (reason == FinishReason::kStop || reason == FinishReason::kLength) {
    // Bytes of an unfinished character and text held back for stop strings.
    bool stopped = false;
    const std::string tail = slot.gen->Flush(&stopped);
    if (stopped) reason = FinishReason::kStop;
    Emit(slot, tail);
  }
  GenerationResult res;
  res.status = std::move(status);
  res.finish_reason = reason;
  res.prompt_tokens = static_cast<int64_t>(slot.req.prompt.size());
  res.completion_tokens = slot.gen->generated();
  res.cached_tokens = slot.cached_prompt;
  res.first_token_at = slot.first_token_at;
  auto on_done = std::move(slot.req.on_done);
  slot.req = GenerationRequest();
  slot.gen.reset();
  slot.active = false;
  if (reason == FinishReason::kError || !options_.cache_prompt) {
    ctx_->Truncate(slot.id, 0);
    slot.cached.clear();
  }
  active_.fetch_sub(1);
  if (on_done) on_done(res);
}

bool Scheduler::Step() {
  Context& ctx = *ctx_;
  for (auto& slot : slots_) {
    if (!slot->active) continue;
    if (slot->req.cancelled->load()) {
      Finish(*slot, FinishReason::kCancelled);
    } else if (slot->gen->LimitReached()) {
      Finish(*slot, FinishReason::kLength);  // max_tokens 0
    }
  }
  Batch& b = batch_;
  b.Clear();
  int64_t budget = options_.n_batch;
  int rows = 0;
  int slots_in_batch = 0;
  // Decoding slots first: one token each.
  for (auto& slot : slots_) {
    Slot& s = *slot;
    s.logits_row = -1;
    if (!s.active || s.prompt_done < s.req.prompt.size()) continue;
    b.Add(s.next_token, static_cast<int32_t>(ctx.SeqLength(s.id)), s.id, true);
    s.cached.push_back(s.next_token);
    s.logits_row = rows++;
    --budget;
    ++slots_in_batch;
  }
  // Then prompt pieces while the batch budget lasts (at least one piece per step). Where a prompt
  // is cut does not change its results (batch invariance), so a piece is cut to the budget, and
  // to n_interleave tokens while others decode so that their tokens are not held up.
  const int decoding = slots_in_batch;
  bool chunk_added = false;
  std::vector<ChunkInStep> computing;
  for (auto& slot : slots_) {
    Slot& s = *slot;
    if (!s.active || s.prompt_done >= s.req.prompt.size()) continue;
    if (budget <= 0 && chunk_added) break;
    if (options_.cache_prompt) {
      // A prefix shared with other requests (a system prompt, tool definitions) is computed
      // once: cells another slot holds are copied, and a slot about to compute what another
      // computes in this step waits for it and copies it in the next.
      ShareCells(s);
      if (ComputedAlongside(s.req.prompt, s.prompt_done, computing)) continue;
    }
    size_t n = std::min(s.req.prompt.size() - s.prompt_done,
                        static_cast<size_t>(std::max<int64_t>(budget, 1)));
    if (decoding > 0 && options_.n_interleave > 0) {
      n = std::min(n, static_cast<size_t>(options_.n_interleave));
    }
    chunk_added = true;
    const int64_t start = ctx.SeqLength(s.id);
    for (size_t i = 0; i < n; ++i) {
      const bool last = s.prompt_done + i + 1 == s.req.prompt.size();
      b.Add(s.req.prompt[s.prompt_done + i], static_cast<int32_t>(start + i), s.id, last);
      if (last) s.logits_row = rows++;
    }
    s.cached.insert(s.cached.end(), s.req.prompt.begin() + static_cast<ptrdiff_t>(s.prompt_done),
                    s.req.prompt.begin() + static_cast<ptrdiff_t>(s.prompt_done + n));
    computing.push_back({&s.req.prompt, s.prompt_done, s.prompt_done + n});
    s.prompt_done += n;
    budget -= static_cast<int64_t>(n);
    ++slots_in_batch;
  }
  if (b.size() == 0) return false;
  const Status st = ctx.Decode(b);
  steps_.fetch_add(1);
  if (slots_in_batch > max_batch_slots_.load()) max_batch_slots_.store(slots_in_batch);
  if (!st.ok()) {
    for (auto& slot : slots_) {
      if (!slot->active) continue;
      bool in_batch = false;
      for (int32_t seq : b.seq_ids) in_batch = in_batch || seq == slot->id;
      if (in_batch) Finish(*slot, FinishReason::kError, st);
    }
    return true;
  }
  for (auto& slot : slots_) {
    Slot& s = *slot;
    if (!s.active || s.logits_row < 0) continue;
    if (s.req.cancelled->load()) {
      Finish(s, FinishReason::kCancelled);
      continue;
    }
    const TokenStep step = s.gen->Next(ctx.Logits(s.logits_row), ctx.SeqLength(s.id) >= n_ctx_);
    if (s.gen->generated() > 0 && s.first_token_at == std::chrono::steady_clock::time_point{}) {
      s.first_token_at = std::chrono::steady_clock::now();
    }
    if (step.logprobs && s.req.on_logprobs) s.req.on_logprobs(*step.logprobs);
    Emit(s, step.text);
    if (step.finished) {
      Finish(s, step.reason);
    } else {
      s.next_token = step.token;
    }
  }
  return true;
}

}  // namespace foundry
