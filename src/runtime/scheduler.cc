#include "runtime/scheduler.h"

#include <algorithm>
#include <optional>

#include "base/thread_pool.h"
#include "model/model.h"
#include "runtime/stop_matcher.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"

namespace foundry {

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kError:
      return "error";
  }
  return "error";
}

// A validated request waiting for a slot.
struct Scheduler::Pending {
  GenerationRequest req;
  std::optional<Sampler> sampler;
};

struct Scheduler::Slot {
  int id = 0;
  bool active = false;
  GenerationRequest req;
  std::optional<Sampler> sampler;
  std::optional<StopMatcher> stops;
  Utf8StreamDecoder decoder;
  size_t prompt_done = 0;   // prompt tokens already in the cache
  int32_t next_token = -1;  // sampled, to be fed in the next step
  int64_t generated = 0;
  int logits_row = -1;  // row of this step's logits, -1 when none
};

struct Scheduler::Engine {
  std::unique_ptr<KvCache> kv;
  Workspace ws;
  std::unique_ptr<ThreadPool> pool;
  Batch batch;
  std::vector<float> logits;
};

Scheduler::Scheduler(std::shared_ptr<const LanguageModel> lm, const SchedulerOptions& options)
    : lm_(std::move(lm)), options_(options) {}

StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(std::shared_ptr<const LanguageModel> lm,
                                                       const SchedulerOptions& options) {
  if (options.n_slots < 1 || options.n_slots > 256) {
    return InvalidArgument("the number of slots must be between 1 and 256");
  }
  if (options.n_threads < 0 || options.n_threads > 512) {
    return InvalidArgument("thread count must be between 1 and 512");
  }
  if (options.n_ctx < 0 || options.n_batch < 1 || options.max_queue < 1) {
    return InvalidArgument("context, batch and queue sizes must be positive");
  }
  std::unique_ptr<Scheduler> s(new Scheduler(std::move(lm), options));
  s->n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min<int64_t>(s->lm_->n_ctx_train(), 4096);
  if (s->n_ctx_ < 1) s->n_ctx_ = 4096;
  int threads = options.n_threads;
  if (threads == 0) {
    const unsigned hc = std::thread::hardware_concurrency();
    threads = hc == 0 ? 1 : static_cast<int>(hc);
  }
  s->engine_ = std::make_unique<Engine>();
  s->engine_->kv = s->lm_->model().NewKvCache(options.n_slots, s->n_ctx_);
  s->engine_->pool = std::make_unique<ThreadPool>(threads);
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

size_t Scheduler::kv_bytes() const { return engine_->kv->bytes(); }

SchedulerStats Scheduler::stats() const {
  SchedulerStats st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st.queued = queue_.size();
  }
  st.active = active_.load();
  st.steps = steps_.load();
  st.max_batch_slots = max_batch_slots_.load();
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
  auto sampler = Sampler::Create(request.sampling, static_cast<int32_t>(n_vocab));
  if (!sampler.ok()) {
    r.status = sampler.status();
    return r;
  }
  auto p = std::make_unique<Pending>();
  p->req = std::move(request);
  if (!p->req.cancelled) p->req.cancelled = std::make_shared<std::atomic<bool>>(false);
  p->sampler.emplace(std::move(sampler).value());
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
      for (auto& slot : slots_) {
        if (queue_.empty()) break;
        if (slot->active) continue;
        std::unique_ptr<Pending> p = std::move(queue_.front());
        queue_.pop_front();
        Slot& s = *slot;
        s.active = true;
        s.req = std::move(p->req);
        s.sampler = std::move(p->sampler);
        for (int32_t t : s.req.prompt) s.sampler->Accept(t);
        s.stops.emplace(s.req.stop);
        s.decoder.Reset();
        s.prompt_done = 0;
        s.next_token = -1;
        s.generated = 0;
        s.logits_row = -1;
        engine_->kv->Truncate(s.id, 0);
        active_.fetch_add(1);
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

void Scheduler::Emit(Slot& slot, const std::string& text) {
  if (!text.empty() && slot.req.on_text) slot.req.on_text(text);
}

void Scheduler::Finish(Slot& slot, FinishReason reason, Status status) {
  if (reason == FinishReason::kStop || reason == FinishReason::kLength) {
    // Bytes of an unfinished character and text held back for stop strings.
    bool stopped = false;
    std::string tail = slot.stops->Push(slot.decoder.Flush(), &stopped);
    if (!stopped) tail += slot.stops->Flush();
    if (stopped) reason = FinishReason::kStop;
    Emit(slot, tail);
  }
  GenerationResult res;
  res.status = std::move(status);
  res.finish_reason = reason;
  res.prompt_tokens = static_cast<int64_t>(slot.req.prompt.size());
  res.completion_tokens = slot.generated;
  auto on_done = std::move(slot.req.on_done);
  slot.req = GenerationRequest();
  slot.sampler.reset();
  slot.stops.reset();
  slot.active = false;
  engine_->kv->Truncate(slot.id, 0);
  active_.fetch_sub(1);
  if (on_done) on_done(res);
}

bool Scheduler::Step() {
  Engine& e = *engine_;
  KvCache& kv = *e.kv;
  for (auto& slot : slots_) {
    if (!slot->active) continue;
    if (slot->req.cancelled->load()) {
      Finish(*slot, FinishReason::kCancelled);
    } else if (slot->req.max_tokens == 0) {
      Finish(*slot, FinishReason::kLength);
    }
  }
  Batch& b = e.batch;
  b.Clear();
  int64_t budget = options_.n_batch;
  int rows = 0;
  int slots_in_batch = 0;
  // Decoding slots first: one token each.
  for (auto& slot : slots_) {
    Slot& s = *slot;
    s.logits_row = -1;
    if (!s.active || s.prompt_done < s.req.prompt.size()) continue;
    b.Add(s.next_token, static_cast<int32_t>(kv.SeqLength(s.id)), s.id, true);
    s.logits_row = rows++;
    --budget;
    ++slots_in_batch;
  }
  // Then prompt chunks, within what is left of the batch budget (at least one token).
  for (auto& slot : slots_) {
    Slot& s = *slot;
    if (!s.active || s.prompt_done >= s.req.prompt.size()) continue;
    if (budget <= 0) break;
    const size_t n = std::min<size_t>(s.req.prompt.size() - s.prompt_done, budget);
    const int64_t start = kv.SeqLength(s.id);
    for (size_t i = 0; i < n; ++i) {
      const bool last = s.prompt_done + i + 1 == s.req.prompt.size();
      b.Add(s.req.prompt[s.prompt_done + i], static_cast<int32_t>(start + i), s.id, last);
      if (last) s.logits_row = rows++;
    }
    s.prompt_done += n;
    budget -= static_cast<int64_t>(n);
    ++slots_in_batch;
  }
  if (b.size() == 0) return false;
  const int64_t n_vocab = lm_->n_vocab();
  e.logits.resize(static_cast<size_t>(rows) * n_vocab);
  const Status st = lm_->model().Forward(b, kv, e.ws, *e.pool, e.logits.data());
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
  const Tokenizer& tok = lm_->tokenizer();
  for (auto& slot : slots_) {
    Slot& s = *slot;
    if (!s.active || s.logits_row < 0) continue;
    if (s.req.cancelled->load()) {
      Finish(s, FinishReason::kCancelled);
      continue;
    }
    const float* row = e.logits.data() + static_cast<size_t>(s.logits_row) * n_vocab;
    const int32_t next = s.sampler->Sample(row);
    if (tok.IsEndOfGeneration(next)) {
      Finish(s, FinishReason::kStop);
      continue;
    }
    s.sampler->Accept(next);
    ++s.generated;
    bool stopped = false;
    Emit(s, s.stops->Push(s.decoder.Push(tok.TokenToPiece(next)), &stopped));
    if (stopped) {
      Finish(s, FinishReason::kStop);
    } else if (s.req.max_tokens >= 0 && s.generated >= s.req.max_tokens) {
      Finish(s, FinishReason::kLength);
    } else if (kv.SeqLength(s.id) >= n_ctx_) {
      Finish(s, FinishReason::kLength);  // the context is full
    } else {
      s.next_token = next;
    }
  }
  return true;
}

}  // namespace foundry
