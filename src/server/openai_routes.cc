#include "server/openai_routes.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>

#include "chat/chat_template_traits.h"
#include "engine/chat_prompt.h"
#include "foundry/engine.h"
#include "server/api/assistant_output_parser.h"
#include "server/api/chat_prompt_plan.h"
#include "server/api/openai_request.h"
#include "server/api/openai_response.h"
#include "server/http_reply.h"

namespace foundry {
namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewId(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  return std::string(prefix) + std::to_string(UnixNow()) + "-" +
         std::to_string(counter.fetch_add(1));
}

TokenUsage UsageOf(const GenerationResult& r) {
  return {r.prompt_tokens, r.completion_tokens, r.cached_tokens};
}

// One streamed piece: a parser event with the logprobs of the tokens it completed.
struct StreamItem {
  OutputEvent event;
  std::vector<TokenLogprobs> logprobs;
};

// What the scheduler's thread hands to one HTTP request's thread. Chat answers go through the
// parser (content, reasoning, tool calls); completions are plain text.
struct StreamState {
  std::mutex mu;
  std::condition_variable cv;
  bool stream = false;
  bool parallel_tool_calls = true;
  std::unique_ptr<AssistantOutputParser> parser;  // chat only
  std::deque<StreamItem> items;                   // streamed answers: not yet sent
  AnswerMessage answer;                           // whole answers: everything
  std::vector<TokenLogprobs> logprobs;            // whole answers: every token's
  std::vector<TokenLogprobs> unsent_logprobs;     // streamed: not yet attached to an item
  bool done = false;
  GenerationResult result;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);

  // With mu held.
  void Add(std::vector<OutputEvent> events) {
    for (OutputEvent& e : events) {
      if (e.kind == OutputEvent::Kind::kToolCall && e.index > 0 && !parallel_tool_calls) continue;
      if (stream) {
        items.push_back({std::move(e), std::exchange(unsent_logprobs, {})});
      } else if (e.kind == OutputEvent::Kind::kContent) {
        answer.content += e.text;
      } else if (e.kind == OutputEvent::Kind::kReasoning) {
        answer.reasoning += e.text;
      } else {
        answer.tool_calls.push_back(std::move(e.call));
      }
    }
  }
  void AddText(std::string_view text) {
    if (parser) return Add(parser->Push(text));
    OutputEvent e;
    e.text = std::string(text);
    Add({std::move(e)});
  }
  // finish_reason: "tool_calls" (legacy: "function_call") for an answer that called tools.
  std::string FinishReason(bool legacy_functions) const {
    if (result.finish_reason == FinishReason::kStop && parser && parser->tool_calls() > 0) {
      return legacy_functions ? "function_call" : "tool_calls";
    }
    return std::string(FinishReasonName(result.finish_reason));
  }
};

// The prompt of a chat request: the template's render of the plan (tools, tool turns,
// fallbacks) plus its prefill; sets up the parser that reads the answer.
std::optional<ApiError> ChatPrompt(const CompletionRequest& r, const LanguageModel& lm,
                                   const std::string& call_id_prefix, StreamState* st,
                                   GenerationRequest* g) {
  ChatPromptPlan plan;
  const ChatTemplateTraits traits = TraitsOfTemplate(ChatTemplateSourceOf(lm));
  if (auto e = PlanChatPrompt(r.messages, r.tools, r.tool_choice, traits, &plan)) return e;
  auto text = RenderChat(lm, std::move(plan.context));
  if (!text.ok()) return ErrorFromStatus(text.status());
  text->append(plan.prefill);
  if (!plan.grammar.empty()) {
    if (!g->sampling.grammar.empty()) {
      return InvalidRequest("response_format",
                            "'response_format' and 'grammar' cannot be combined with a tool call "
                            "the service constrains (tool_choice required or a function, or "
                            "strict functions)");
    }
    g->sampling.grammar = std::move(plan.grammar);
    g->sampling.grammar_trigger = std::move(plan.grammar_trigger);
    if (g->sampling.grammar_trigger.empty()) g->sampling.grammar_prefill = plan.prefill;
  }
  g->prompt = lm.TokenizeChat(*text);
  g->render_special_tokens = plan.render_special_tokens;
  plan.parser.starts_in_reasoning = PromptEndsInReasoning(*text);
  plan.parser.id_prefix = call_id_prefix;
  st->parser = std::make_unique<AssistantOutputParser>(plan.parser);
  st->parser->Prime(plan.prefill);
  return std::nullopt;
}

// The generation request for the scheduler: the prompt's tokens and the callbacks that fill
// `st` (items when streaming, else the whole answer).
std::optional<ApiError> ToGeneration(const CompletionRequest& r, const LanguageModel& lm,
                                     const std::string& call_id_prefix,
                                     std::shared_ptr<StreamState> st, GenerationRequest* g) {
  st->stream = r.stream;
  st->parallel_tool_calls = r.parallel_tool_calls;
  g->sampling = r.sampling;  // first: a chat prompt may add the grammar of a forced tool call
  if (r.chat) {
    if (auto e = ChatPrompt(r, lm, call_id_prefix, st.get(), g)) return e;
  } else if (r.prompt_is_tokens) {
    g->prompt = r.prompt_tokens;
  } else {
    g->prompt = lm.Tokenize(r.prompt, true, false);
  }
  g->max_tokens = r.max_tokens;
  g->stop = r.stop;
  g->cancelled = st->cancelled;
  if (r.logprobs) {
    g->top_logprobs = r.top_logprobs;
    g->on_logprobs = [st](const TokenLogprobs& lp) {
      std::lock_guard<std::mutex> l(st->mu);
      (st->stream ? st->unsent_logprobs : st->logprobs).push_back(lp);
    };
  }
  g->on_text = [st](std::string_view text) {
    std::lock_guard<std::mutex> l(st->mu);
    st->AddText(text);
    st->cv.notify_all();
  };
  g->on_done = [st](const GenerationResult& result) {
    std::lock_guard<std::mutex> l(st->mu);
    if (st->parser) st->Add(st->parser->Finish());
    if (st->stream && !st->unsent_logprobs.empty()) st->Add({OutputEvent()});
    st->result = result;
    st->done = true;
    st->cv.notify_all();
  };
  return std::nullopt;
}

// Waits for a whole answer and writes it (or its error).
void ReplyWhole(httplib::Response& res, StreamState& st, const CompletionMeta& meta) {
  std::unique_lock<std::mutex> l(st.mu);
  st.cv.wait(l, [&] { return st.done; });
  const GenerationResult& result = st.result;
  if (result.finish_reason == FinishReason::kError) {
    ApiError e = ErrorFromStatus(result.status);
    e.http = 500;
    e.type = "server_error";
    return ReplyError(res, e);
  }
  if (result.finish_reason == FinishReason::kCancelled) {
    ApiError e = ServerError("the model was unloaded while generating; retry");
    e.http = 503;
    return ReplyError(res, e);
  }
  ReplyJson(res, CompletionBody(meta, st.answer, st.FinishReason(meta.legacy_functions),
                                UsageOf(result), st.logprobs));
}

// Streams the answer as server-sent events. Each call of the content provider sends what the
// scheduler produced since the last one (waiting at most 200 ms); closing the connection sets
// the cancellation flag the scheduler checks every step. The lease keeps the model loaded
// until the stream ends.
void ReplyStream(httplib::Response& res, std::shared_ptr<StreamState> st,
                 std::shared_ptr<const CompletionMeta> meta,
                 std::shared_ptr<ModelManager::Lease> lease) {
  auto sent_role = std::make_shared<bool>(false);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [st, meta, lease, sent_role](size_t, httplib::DataSink& sink) -> bool {
        std::deque<StreamItem> items;
        bool done = false;
        GenerationResult result;
        std::string finish_reason;
        {
          std::unique_lock<std::mutex> l(st->mu);
          st->cv.wait_for(l, std::chrono::milliseconds(200),
                          [&] { return !st->items.empty() || st->done; });
          items.swap(st->items);
          done = st->done;
          if (done) {
            result = st->result;
            finish_reason = st->FinishReason(meta->legacy_functions);
          }
        }
        auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
        if (meta->chat && !*sent_role) {
          *sent_role = true;
          if (!write(SseRoleChunk(*meta))) return false;
        }
        for (const StreamItem& item : items) {
          if (!write(SseEventChunks(*meta, item.event, item.logprobs))) return false;
        }
        if (!done) return true;
        if (result.finish_reason == FinishReason::kError) {
          write(SseError(ServerError(result.status.message())));
        } else if (result.finish_reason == FinishReason::kCancelled) {
          write(SseError(ServerError("the generation was cancelled (the model was unloaded)")));
        } else {
          if (!write(SseFinishChunk(*meta, finish_reason))) return false;
          if (meta->include_usage && !write(SseUsageChunk(*meta, UsageOf(result)))) return false;
        }
        write(std::string(kSseDone));
        sink.done();
        return true;
      },
      [st](bool) { st->cancelled->store(true); });
}

}  // namespace

void OpenAiRoutes::AddTo(httplib::Server& http) {
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    HandleGeneration(req, res, /*chat=*/true);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    HandleGeneration(req, res, /*chat=*/false);
  });
  http.Post(
      "/v1/chat/completions/tokenizer/encode/count",
      [this](const httplib::Request& req, httplib::Response& res) { HandleTokenCount(req, res); });
  http.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
    HandleEmbeddings(req, res);
  });
}

void OpenAiRoutes::HandleGeneration(const httplib::Request& req, httplib::Response& res,
                                    bool chat) {
  CompletionRequest r;
  if (auto e =
          chat ? ParseChatCompletionRequest(req.body, &r) : ParseCompletionRequest(req.body, &r)) {
    return ReplyError(res, *e);
  }
  auto lease_or = models_.Acquire(r.model, r.ttl_s, std::nullopt, r.n_ctx);
  if (!lease_or.ok()) return ReplyError(res, ErrorFromStatus(lease_or.status()));
  auto lease = std::make_shared<ModelManager::Lease>(std::move(lease_or).value());
  Scheduler& sched = lease->scheduler();

  auto meta = std::make_shared<CompletionMeta>();
  meta->id = NewId(chat ? "chatcmpl-" : "cmpl-");
  meta->model = r.model;
  meta->created = UnixNow();
  meta->chat = chat;
  meta->include_usage = r.include_usage;
  meta->logprobs = r.logprobs;
  meta->legacy_functions = r.legacy_functions;
  // Labelled by the loaded model's id: names that load nothing add no series.
  std::shared_ptr<TrackedRequest> tracked = tracker_.Find(req);
  tracker_.SetModel(tracked.get(), (*lease)->name, meta->id);

  auto st = std::make_shared<StreamState>();
  generations_.Add(st->cancelled);
  GenerationRequest g;
  const std::string call_id_prefix = "call_" + meta->id.substr(meta->id.find('-') + 1) + "_";
  if (auto e = ToGeneration(r, sched.model(), call_id_prefix, st, &g)) return ReplyError(res, *e);
  if (g.prompt.empty()) return ReplyError(res, InvalidRequest("prompt", "the prompt is empty"));
  // The tracker, not `this`: a scheduler that stops after the routes are gone still calls it.
  g.on_done = [&tracker = tracker_, tracked,
               reply = std::move(g.on_done)](const GenerationResult& result) {
    tracker.GenerationFinished(tracked, result);
    reply(result);
  };
  tracker_.GenerationStarted(tracked.get());
  SubmitResult sub = sched.Submit(std::move(g));
  if (!sub.ok()) tracker_.GenerationRefused(tracked.get());
  if (sub.queue_full) return ReplyError(res, ServerBusy(sub.status.message()));
  if (!sub.ok()) {
    ApiError e = ErrorFromStatus(sub.status);
    if (sub.status.code() == StatusCode::kOutOfRange) e.param = chat ? "messages" : "prompt";
    return ReplyError(res, e);
  }

  if (!r.stream) return ReplyWhole(res, *st, *meta);
  ReplyStream(res, st, meta, lease);
}

void OpenAiRoutes::HandleTokenCount(const httplib::Request& req, httplib::Response& res) {
  TokenCountRequest r;
  if (auto e = ParseTokenCountRequest(req.body, &r)) return ReplyError(res, *e);
  auto lease = models_.Acquire(r.model);
  if (!lease.ok()) return ReplyError(res, ErrorFromStatus(lease.status()));
  tracker_.SetModel(tracker_.Find(req).get(), (*lease)->name);
  const LanguageModel& lm = lease->scheduler().model();
  ChatPromptPlan plan;
  const ChatTemplateTraits traits = TraitsOfTemplate(ChatTemplateSourceOf(lm));
  if (auto e = PlanChatPrompt(r.messages, {}, ToolChoice(), traits, &plan)) {
    return ReplyError(res, *e);
  }
  auto text = RenderChat(lm, std::move(plan.context));
  if (!text.ok()) return ReplyError(res, ErrorFromStatus(text.status()));
  ReplyJson(res, TokenCountBody(static_cast<int64_t>(lm.TokenizeChat(*text).size())));
}

void OpenAiRoutes::HandleEmbeddings(const httplib::Request& req, httplib::Response& res) {
  EmbeddingRequest r;
  if (auto e = ParseEmbeddingRequest(req.body, &r)) return ReplyError(res, *e);
  auto lease = models_.Acquire(r.model);
  if (!lease.ok()) return ReplyError(res, ErrorFromStatus(lease.status()));
  const std::shared_ptr<TrackedRequest> tracked = tracker_.Find(req);
  tracker_.SetModel(tracked.get(), (*lease)->name);
  const Scheduler& sched = lease->scheduler();
  const LanguageModel& lm = sched.model();
  const int64_t n_embd = lm.n_embd();
  if (r.dimensions && *r.dimensions != n_embd) {
    return ReplyError(
        res, InvalidRequest("dimensions", "this model's embeddings have " + std::to_string(n_embd) +
                                              " dimensions"));
  }

  auto param_of = [&](size_t i) {
    return r.inputs.size() == 1 ? std::string("input") : "input[" + std::to_string(i) + "]";
  };
  int64_t total = 0;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    EmbeddingInput& in = r.inputs[i];
    if (!in.is_tokens) in.tokens = lm.Tokenize(in.text, true, false);
    const std::string param = param_of(i);
    if (in.tokens.empty())
      return ReplyError(res, InvalidRequest(param, "'" + param + "' is empty"));
    const int64_t n = static_cast<int64_t>(in.tokens.size());
    if (n > sched.n_ctx()) {
      ApiError e = InvalidRequest(param, "'" + param + "' has " + std::to_string(n) +
                                             " tokens but the context holds " +
                                             std::to_string(sched.n_ctx()));
      e.code = "context_length_exceeded";
      return ReplyError(res, e);
    }
    total += n;
  }

  std::lock_guard<std::mutex> l(embed_mu_);
  EngineOptions eo;
  eo.n_threads = options_.models.scheduler.n_threads;
  eo.n_ctx = sched.n_ctx();  // as for generation (Phi-3's LongRoPE factors depend on it)
  eo.n_batch = options_.models.scheduler.n_batch;
  auto session = Session::Create(sched.shared_model(), eo);
  if (!session.ok()) return ReplyError(res, ErrorFromStatus(session.status()));
  std::vector<std::vector<float>> vectors;
  for (size_t i = 0; i < r.inputs.size(); ++i) {
    auto v = (*session)->Embed(r.inputs[i].tokens);
    if (!v.ok()) {
      ApiError e = ErrorFromStatus(v.status());
      e.param = param_of(i);
      return ReplyError(res, e);
    }
    vectors.push_back(std::move(v).value());
  }
  tracker_.AddPromptTokens(tracked.get(), total);
  ReplyJson(res, EmbeddingsBody(r.model, vectors, r.base64, total));
}

}  // namespace foundry
