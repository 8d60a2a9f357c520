#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "foundry/engine.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace foundry {
namespace {

using json = nlohmann::json;

constexpr int kMaxJsonDepth = 64;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

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

struct ApiError {
  int http = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;
  std::string code;
};

ApiError Invalid(std::string param, std::string message) {
  ApiError e;
  e.param = std::move(param);
  e.message = std::move(message);
  return e;
}

ApiError FromStatus(const Status& st) {
  ApiError e;
  e.message = st.message();
  switch (st.code()) {
    case StatusCode::kOk:
    case StatusCode::kInvalidArgument:
    case StatusCode::kCorruptFile:
    case StatusCode::kUnimplemented:
      e.http = 400;
      break;
    case StatusCode::kNotFound:
      e.http = 404;
      e.code = "model_not_found";
      break;
    case StatusCode::kOutOfRange:
      e.http = 400;
      e.code = "context_length_exceeded";
      break;
    case StatusCode::kIoError:
    case StatusCode::kInternal:
      e.http = 500;
      e.type = "server_error";
      break;
  }
  return e;
}

json ErrorJson(const ApiError& e) {
  return json{{"error",
               {{"message", e.message},
                {"type", e.type},
                {"param", e.param.empty() ? json(nullptr) : json(e.param)},
                {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

void SendError(httplib::Response& res, const ApiError& e) {
  res.status = e.http;
  res.set_content(Dump(ErrorJson(e)), "application/json");
}

void SendJson(httplib::Response& res, const json& j) {
  res.status = 200;
  res.set_content(Dump(j), "application/json");
}

// Nesting depth of a JSON text (brackets outside strings), to refuse hostile documents before
// parsing them.
int JsonDepth(std::string_view s) {
  int depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

std::optional<ApiError> ParseBody(const httplib::Request& req, json* out) {
  if (JsonDepth(req.body) > kMaxJsonDepth) {
    return Invalid(
        "", "the request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid("", "the request body is not valid JSON");
  if (!j.is_object()) return Invalid("", "the request body must be a JSON object");
  *out = std::move(j);
  return std::nullopt;
}

// A generation request as parsed from JSON.
struct ApiRequest {
  std::string model;
  bool chat = true;
  std::vector<ChatTurn> messages;
  std::string prompt;
  std::vector<int32_t> prompt_tokens;  // /v1/completions with token ids
  bool prompt_is_tokens = false;
  SamplingParams sampling;
  int64_t max_tokens = -1;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  int64_t ttl_s = -1;
};

// Reads an optional number field in [lo, hi]; null counts as absent.
std::optional<ApiError> OptNumber(const json& j, const char* key, double lo, double hi,
                                  std::optional<double>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return Invalid(key, std::string("'") + key + "' must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return Invalid(key, std::string("'") + key + "' must be between " + json(lo).dump() + " and " +
                            json(hi).dump());
  }
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> OptInteger(const json& j, const char* key, int64_t lo, int64_t hi,
                                   std::optional<int64_t>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) {
    return Invalid(key, std::string("'") + key + "' must be an integer");
  }
  int64_t v = 0;
  if (it->is_number_unsigned()) {
    const uint64_t u = it->get<uint64_t>();
    v = u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  } else {
    v = it->get<int64_t>();
  }
  if (v < lo || v > hi) {
    return Invalid(key, std::string("'") + key + "' must be between " + std::to_string(lo) +
                            " and " + std::to_string(hi));
  }
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> ParseContent(const json& c, size_t index, std::string* out) {
  const std::string param = "messages[" + std::to_string(index) + "].content";
  if (c.is_null()) return std::nullopt;
  if (c.is_string()) {
    *out = c.get<std::string>();
    return std::nullopt;
  }
  if (!c.is_array()) return Invalid(param, "'" + param + "' must be a string or a list of parts");
  for (const json& part : c) {
    if (!part.is_object()) return Invalid(param, "each content part must be an object");
    auto type = part.find("type");
    auto text = part.find("text");
    if (type == part.end() || !type->is_string() || type->get<std::string>() != "text") {
      return Invalid(param, "only text content parts ({\"type\":\"text\"}) are supported");
    }
    if (text == part.end() || !text->is_string()) {
      return Invalid(param, "a text content part needs a string 'text'");
    }
    if (!out->empty()) *out += "\n";
    *out += text->get<std::string>();
  }
  return std::nullopt;
}

std::optional<ApiError> ParseMessages(const json& j, std::vector<ChatTurn>* out) {
  auto it = j.find("messages");
  if (it == j.end() || !it->is_array() || it->empty()) {
    return Invalid("messages", "'messages' must be a non-empty array");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return Invalid(param, "'" + param + "' must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) {
      return Invalid(param + ".role", "'" + param + ".role' must be a string");
    }
    ChatTurn msg;
    msg.role = role->get<std::string>();
    if (msg.role == "developer") msg.role = "system";
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant") {
      return Invalid(param + ".role",
                     "unsupported role '" + msg.role + "' (use system, user or assistant)");
    }
    auto content = m.find("content");
    if (content == m.end())
      return Invalid(param + ".content", "'" + param + ".content' is missing");
    if (auto e = ParseContent(*content, i, &msg.content)) return e;
    out->push_back(std::move(msg));
  }
  return std::nullopt;
}

std::optional<ApiError> ParseGeneration(const json& j, bool chat, ApiRequest* r) {
  r->chat = chat;
  auto model = j.find("model");
  if (model == j.end() || !model->is_string() || model->get<std::string>().empty()) {
    return Invalid("model", "'model' must be a non-empty string");
  }
  r->model = model->get<std::string>();
  if (chat) {
    if (auto e = ParseMessages(j, &r->messages)) return e;
  } else {
    auto p = j.find("prompt");
    if (p == j.end()) return Invalid("prompt", "'prompt' is required");
    if (p->is_string()) {
      r->prompt = p->get<std::string>();
    } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
      r->prompt = (*p)[0].get<std::string>();
    } else if (p->is_array() && !p->empty()) {
      r->prompt_is_tokens = true;
      for (const json& t : *p) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX) {
          return Invalid("prompt", "'prompt' must be a string, one string in a list, or token ids");
        }
        r->prompt_tokens.push_back(static_cast<int32_t>(t.get<int64_t>()));
      }
    } else {
      return Invalid("prompt", "'prompt' must be a string, one string in a list, or token ids");
    }
  }
  std::optional<int64_t> iv;
  std::optional<double> dv;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    iv.reset();
    if (auto e = OptInteger(j, key, 0, INT64_MAX, &iv)) return e;
    if (iv) r->max_tokens = *iv;
  }
  if (auto e = OptInteger(j, "n", 1, 1, &iv)) {
    e->message = "only n=1 is supported";
    return e;
  }
  SamplingParams& s = r->sampling;
  if (auto e = OptNumber(j, "temperature", 0, 100, &dv)) return e;
  if (dv) s.temperature = static_cast<float>(*dv);
  dv.reset();
  if (auto e = OptNumber(j, "top_p", 0, 1, &dv)) return e;
  if (dv) s.top_p = *dv <= 0 ? 1e-9f : static_cast<float>(*dv);
  dv.reset();
  if (auto e = OptNumber(j, "min_p", 0, 1, &dv)) return e;
  if (dv) s.min_p = static_cast<float>(*dv);
  dv.reset();
  if (auto e = OptNumber(j, "presence_penalty", -2, 2, &dv)) return e;
  if (dv) s.presence_penalty = static_cast<float>(*dv);
  dv.reset();
  if (auto e = OptNumber(j, "frequency_penalty", -2, 2, &dv)) return e;
  if (dv) s.frequency_penalty = static_cast<float>(*dv);
  dv.reset();
  if (auto e = OptNumber(j, "repeat_penalty", 1e-6, 100, &dv)) return e;
  if (dv) s.repeat_penalty = static_cast<float>(*dv);
  iv.reset();
  if (auto e = OptInteger(j, "top_k", 0, INT32_MAX, &iv)) return e;
  if (iv) s.top_k = static_cast<int32_t>(*iv);
  for (const char* key : {"seed", "random_seed"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer())
      return Invalid(key, std::string("'") + key + "' must be an integer");
    s.seed =
        it->is_number_unsigned() ? it->get<uint64_t>() : static_cast<uint64_t>(it->get<int64_t>());
  }
  if (auto it = j.find("logit_bias"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Invalid("logit_bias", "'logit_bias' must be an object");
    for (auto kv = it->begin(); kv != it->end(); ++kv) {
      const std::string& key = kv.key();
      char* end = nullptr;
      errno = 0;
      const long long id = std::strtoll(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || errno != 0 || id < 0 || id > INT32_MAX) {
        return Invalid("logit_bias", "'logit_bias' keys must be token ids");
      }
      if (!kv.value().is_number() || !std::isfinite(kv.value().get<double>()) ||
          std::fabs(kv.value().get<double>()) > 100) {
        return Invalid("logit_bias", "'logit_bias' values must be numbers between -100 and 100");
      }
      s.logit_bias.push_back({static_cast<int32_t>(id), kv.value().get<float>()});
    }
  }
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      r->stop.push_back(it->get<std::string>());
    } else if (it->is_array() && it->size() <= 16) {
      for (const json& x : *it) {
        if (!x.is_string()) return Invalid("stop", "'stop' must be a string or a list of strings");
        r->stop.push_back(x.get<std::string>());
      }
    } else {
      return Invalid("stop", "'stop' must be a string or a list of at most 16 strings");
    }
  }
  if (auto it = j.find("stream"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return Invalid("stream", "'stream' must be a boolean");
    r->stream = it->get<bool>();
  }
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Invalid("stream_options", "'stream_options' must be an object");
    if (auto u = it->find("include_usage"); u != it->end() && !u->is_null()) {
      if (!u->is_boolean()) {
        return Invalid("stream_options", "'stream_options.include_usage' must be a boolean");
      }
      r->include_usage = u->get<bool>();
    }
  }
  iv.reset();
  if (auto e = OptInteger(j, "ttl", 0, INT64_MAX / 1000, &iv)) return e;
  if (iv) r->ttl_s = *iv;
  const Status st = Sampler::Validate(s);
  if (!st.ok()) return Invalid("", st.message());
  return std::nullopt;
}

json Usage(const GenerationResult& r) {
  return json{{"prompt_tokens", r.prompt_tokens},
              {"completion_tokens", r.completion_tokens},
              {"total_tokens", r.prompt_tokens + r.completion_tokens}};
}

// What the scheduler streams to one HTTP request.
struct StreamState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> pieces;
  std::string text;  // everything, for non-streaming answers
  bool done = false;
  GenerationResult result;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
};

// Per-response bookkeeping of a streamed answer.
struct StreamMeta {
  std::string id;
  std::string model;
  int64_t created = 0;
  bool chat = true;
  bool include_usage = false;
  bool sent_role = false;
};

json Chunk(const StreamMeta& m, const json& delta_or_text, const json& finish) {
  json choice;
  if (m.chat) {
    choice = {
        {"index", 0}, {"delta", delta_or_text}, {"logprobs", nullptr}, {"finish_reason", finish}};
  } else {
    choice = {
        {"index", 0}, {"text", delta_or_text}, {"logprobs", nullptr}, {"finish_reason", finish}};
  }
  json c = {{"id", m.id},
            {"object", m.chat ? "chat.completion.chunk" : "text_completion"},
            {"created", m.created},
            {"model", m.model},
            {"choices", json::array({choice})}};
  if (m.include_usage) c["usage"] = nullptr;
  return c;
}

std::string Sse(const json& j) { return "data: " + Dump(j) + "\n\n"; }

// An embeddings `input`: a string, a list of strings, a list of token ids, or a list of lists
// of token ids. Each item is a string (tokenized later) or token ids.
struct EmbeddingInput {
  std::string text;
  std::vector<int32_t> tokens;
  bool is_tokens = false;
};

constexpr size_t kMaxEmbeddingInputs = 2048;  // OpenAI's limit per request

bool ParseTokenIds(const json& a, std::vector<int32_t>* out) {
  for (const json& t : a) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX) {
      return false;
    }
    out->push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return true;
}

std::optional<ApiError> ParseEmbeddingInput(const json& j, std::vector<EmbeddingInput>* out) {
  const char* kShape =
      "'input' must be a string, a list of strings, token ids or a list of token id lists";
  auto it = j.find("input");
  if (it == j.end() || it->is_null()) return Invalid("input", "'input' is required");
  if (it->is_string()) {
    out->push_back({it->get<std::string>(), {}, false});
  } else if (it->is_array() && !it->empty() && (*it)[0].is_number()) {
    EmbeddingInput in;
    in.is_tokens = true;
    if (!ParseTokenIds(*it, &in.tokens)) return Invalid("input", kShape);
    out->push_back(std::move(in));
  } else if (it->is_array()) {
    if (it->empty()) return Invalid("input", "'input' must not be an empty list");
    if (it->size() > kMaxEmbeddingInputs) {
      return Invalid("input",
                     "'input' holds more than " + std::to_string(kMaxEmbeddingInputs) + " items");
    }
    for (const json& item : *it) {
      EmbeddingInput in;
      if (item.is_string()) {
        in.text = item.get<std::string>();
      } else if (item.is_array() && !item.empty() && ParseTokenIds(item, &in.tokens)) {
        in.is_tokens = true;
      } else {
        return Invalid("input", kShape);
      }
      out->push_back(std::move(in));
    }
  } else {
    return Invalid("input", kShape);
  }
  return std::nullopt;
}

// Standard base64 of the vector's bytes (little-endian float32), as OpenAI's
// encoding_format=base64 answers.
std::string Base64Floats(const std::vector<float>& v) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size() * sizeof(float);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t b0 = p[i], b1 = i + 1 < n ? p[i + 1] : 0, b2 = i + 2 < n ? p[i + 2] : 0;
    const uint32_t w = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(w >> 18) & 63];
    out += kAlphabet[(w >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(w >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[w & 63] : '=';
  }
  return out;
}

}  // namespace

bool PortInUse(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return false;
  const sockaddr* sa = reinterpret_cast<const sockaddr*>(&addr);
  const int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe >= 0) {
    const bool listening = connect(probe, sa, sizeof(addr)) == 0;
    close(probe);
    if (listening) return true;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  const bool taken = bind(fd, sa, sizeof(addr)) != 0;
  close(fd);
  return taken;
}

struct HttpServer::Impl {
  explicit Impl(const ServerOptions& o, ModelResolver resolver)
      : options(o), models(o.models, ChooseResolver(o, std::move(resolver))) {}

  static ModelResolver ChooseResolver(const ServerOptions& o, ModelResolver resolver) {
    if (resolver || !o.catalog) return resolver;
    std::shared_ptr<const ServiceModels> catalog = o.catalog;
    return [catalog](const std::string& name) { return catalog->Resolve(name); };
  }

  void Routes();
  void HandleGeneration(const httplib::Request& req, httplib::Response& res, bool chat);
  void HandleTokenCount(const httplib::Request& req, httplib::Response& res);
  void HandleEmbeddings(const httplib::Request& req, httplib::Response& res);
  void HandleDownload(const httplib::Request& req, httplib::Response& res);
  json ModelList();

  ServerOptions options;
  ModelManager models;
  httplib::Server http;
  // Embeddings run one request at a time, beside (not inside) the generation schedulers.
  std::mutex embed_mu;
};

HttpServer::HttpServer(ServerOptions options, ModelResolver resolver)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(options_, std::move(resolver))) {
  impl_->Routes();
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind() {
  if (PortInUse(options_.host, options_.port) ||
      !impl_->http.bind_to_port(options_.host, options_.port)) {
    return IoError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                   ": the port is in use (choose another with: foundry service set --port N)");
  }
  return OkStatus();
}

Status HttpServer::Run() {
  if (!impl_->http.listen_after_bind()) return IoError("the HTTP server stopped with an error");
  return OkStatus();
}

void HttpServer::Stop() { impl_->http.stop(); }

void HttpServer::Impl::Routes() {
  const int threads = options.http_threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(options.max_body_bytes);
  http.set_read_timeout(30, 0);
  http.set_write_timeout(30, 0);
  http.set_keep_alive_timeout(5);
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    std::fflush(stderr);
  });

  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        ApiError e;
        e.http = 500;
        e.type = "server_error";
        e.message = "internal error while handling the request";
        SendError(res, e);
      });
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) -> httplib::Server::HandlerResponse {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        ApiError e;
        e.http = res.status;
        switch (res.status) {
          case 404:
            e.message = "no such route";
            break;
          case 413:
            e.message = "the request body is too large";
            break;
          default:
            e.message = "bad request";
            break;
        }
        if (res.status >= 500) e.type = "server_error";
        res.set_content(Dump(ErrorJson(e)), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));

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
  http.Get("/v1/models",
           [this](const httplib::Request&, httplib::Response& res) { SendJson(res, ModelList()); });
  http.Get("/openai/status", [this](const httplib::Request&, httplib::Response& res) {
    SendJson(res,
             json{{"endpoints", json::array({"http://127.0.0.1:" + std::to_string(options.port)})},
                  {"modelDirPath", options.cache_dir},
                  {"pipeName", "foundry"}});
  });
  http.Get("/openai/models", [this](const httplib::Request&, httplib::Response& res) {
    json ids = json::array();
    if (options.catalog) {
      auto cached = options.catalog->Cached();
      if (!cached.ok()) return SendError(res, FromStatus(cached.status()));
      for (const CachedModel& m : *cached) ids.push_back(m.id);
    }
    SendJson(res, ids);
  });
  http.Get("/foundry/list", [this](const httplib::Request&, httplib::Response& res) {
    if (!options.catalog) return SendJson(res, json::array());
    auto list = options.catalog->FoundryList();
    if (!list.ok()) return SendError(res, FromStatus(list.status()));
    SendJson(res, *list);
  });
  http.Post("/openai/download", [this](const httplib::Request& req, httplib::Response& res) {
    HandleDownload(req, res);
  });
  http.Get("/openai/loadedmodels", [this](const httplib::Request&, httplib::Response& res) {
    json ids = json::array();
    for (const LoadedModelInfo& m : models.Loaded()) ids.push_back(m.name);
    SendJson(res, ids);
  });
  http.Get(R"(/openai/load/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    int64_t ttl = -1;
    if (req.has_param("ttl")) {
      const std::string v = req.get_param_value("ttl");
      char* end = nullptr;
      errno = 0;
      const long long t = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || t < 0 || t > INT64_MAX / 1000) {
        SendError(res, Invalid("ttl", "'ttl' must be a non-negative number of seconds"));
        return;
      }
      ttl = t;
    }
    auto lease = models.Acquire(req.matches[1].str(), ttl);
    if (!lease.ok()) {
      SendError(res, FromStatus(lease.status()));
      return;
    }
    res.status = 200;
  });
  http.Get(R"(/openai/unload/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("force")) {
      const std::string f = req.get_param_value("force");
      if (f != "true" && f != "false" && f != "True" && f != "False" && f != "1" && f != "0") {
        return SendError(res, Invalid("force", "'force' must be true or false"));
      }
    }
    const Status st = models.Unload(req.matches[1].str());
    if (!st.ok()) {
      SendError(res, FromStatus(st));
      return;
    }
    res.status = 200;
  });
  http.Get("/openai/unloadall", [this](const httplib::Request&, httplib::Response& res) {
    models.UnloadAll();
    res.status = 200;
  });
}

// `/v1/models`: the cached models, then loaded models that are not in the cache (GGUF paths).
json HttpServer::Impl::ModelList() {
  json data = json::array();
  std::set<std::string> listed;
  const std::vector<LoadedModelInfo> loaded = models.Loaded();
  auto add = [&](const std::string& id, json max_tokens, bool tools) {
    listed.insert(id);
    data.push_back({{"id", id},
                    {"object", "model"},
                    {"created", 0},
                    {"owned_by", "foundry"},
                    {"maxInputTokens", max_tokens},
                    {"maxOutputTokens", max_tokens},
                    {"toolCalling", tools},
                    {"vision", false}});
  };
  auto loaded_ctx = [&](const std::string& id) -> json {
    for (const LoadedModelInfo& m : loaded) {
      if (m.name == id) return m.n_ctx;
    }
    return nullptr;
  };
  if (options.catalog) {
    auto cached = options.catalog->Cached();
    if (cached.ok()) {
      for (const CachedModel& m : *cached) {
        json ctx = loaded_ctx(m.id);
        const ModelVariant* v = options.catalog->Variant(m.id);
        if (ctx.is_null() && v != nullptr && v->context_length > 0) ctx = v->context_length;
        add(m.id, ctx, v != nullptr && v->supports_tool_calling);
      }
    }
  }
  for (const LoadedModelInfo& m : loaded) {
    if (listed.count(m.name) == 0) add(m.name, m.n_ctx, false);
  }
  return json{{"object", "list"}, {"data", data}};
}

// `POST /openai/download`: Foundry Local's body {"model": {"Name", "Uri", ...}}. The answer is
// a text stream: progress lines "Total NN.NN% Downloading ID", then one JSON line
// {"success": bool, "errorMessage": null | text}. The download runs in the request's thread;
// a client that goes away does not stop it (the model still lands in the cache).
void HttpServer::Impl::HandleDownload(const httplib::Request& req, httplib::Response& res) {
  json j;
  if (auto e = ParseBody(req, &j)) return SendError(res, *e);
  std::string name;
  if (auto m = j.find("model"); m != j.end() && m->is_object()) {
    if (auto n = m->find("Name"); n != m->end() && n->is_string()) name = n->get<std::string>();
  } else if (m != j.end() && m->is_string()) {
    name = m->get<std::string>();
  }
  if (name.empty()) {
    return SendError(res, Invalid("model", "'model' must be an object with a string 'Name'"));
  }
  if (!options.catalog) {
    return SendError(res, FromStatus(NotFound("this service has no model catalog")));
  }
  const ModelVariant* v = options.catalog->Variant(name);
  if (v == nullptr) {
    return SendError(res, FromStatus(NotFound("model \"" + name + "\" is not in the catalog")));
  }
  const std::string id = v->id;
  std::shared_ptr<const ServiceModels> catalog = options.catalog;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/plain; charset=utf-8", [catalog, name, id](size_t, httplib::DataSink& sink) -> bool {
        bool connected = true;
        auto write = [&](const std::string& s) {
          if (connected) connected = sink.write(s.data(), s.size());
        };
        double last_percent = -1;
        auto last_time = std::chrono::steady_clock::now();
        auto line = [&](double percent) {
          char buf[256];
          std::snprintf(buf, sizeof(buf), "Total %.2f%% Downloading %s\n", percent, id.c_str());
          write(buf);
        };
        line(0);
        auto r = catalog->Download(name, [&](double percent) {
          const auto now = std::chrono::steady_clock::now();
          if (percent - last_percent < 1.0 && now - last_time < std::chrono::milliseconds(500)) {
            return;
          }
          last_percent = percent;
          last_time = now;
          line(percent);
        });
        json done = {{"success", r.ok()},
                     {"errorMessage", r.ok() ? json(nullptr) : json(r.status().message())}};
        if (r.ok()) line(100);
        write(Dump(done) + "\n");
        if (connected) sink.done();
        return connected;
      });
}

void HttpServer::Impl::HandleTokenCount(const httplib::Request& req, httplib::Response& res) {
  json j;
  if (auto e = ParseBody(req, &j)) return SendError(res, *e);
  auto model = j.find("model");
  if (model == j.end() || !model->is_string()) {
    return SendError(res, Invalid("model", "'model' must be a non-empty string"));
  }
  std::vector<ChatTurn> messages;
  if (auto e = ParseMessages(j, &messages)) return SendError(res, *e);
  auto lease = models.Acquire(model->get<std::string>());
  if (!lease.ok()) return SendError(res, FromStatus(lease.status()));
  const LanguageModel& lm = lease->scheduler().model();
  auto text = lm.FormatChat(messages);
  if (!text.ok()) return SendError(res, FromStatus(text.status()));
  SendJson(res, json{{"tokenCount", lm.TokenizeChat(*text).size()}});
}

void HttpServer::Impl::HandleEmbeddings(const httplib::Request& req, httplib::Response& res) {
  json j;
  if (auto e = ParseBody(req, &j)) return SendError(res, *e);
  auto model = j.find("model");
  if (model == j.end() || !model->is_string() || model->get<std::string>().empty()) {
    return SendError(res, Invalid("model", "'model' must be a non-empty string"));
  }
  std::vector<EmbeddingInput> inputs;
  if (auto e = ParseEmbeddingInput(j, &inputs)) return SendError(res, *e);
  bool base64 = false;
  auto format = j.find("encoding_format");
  if (format != j.end() && !format->is_null()) {
    if (!format->is_string() ||
        (format->get<std::string>() != "float" && format->get<std::string>() != "base64")) {
      return SendError(res,
                       Invalid("encoding_format", "'encoding_format' must be float or base64"));
    }
    base64 = format->get<std::string>() == "base64";
  }
  auto lease = models.Acquire(model->get<std::string>());
  if (!lease.ok()) return SendError(res, FromStatus(lease.status()));
  const Scheduler& sched = lease->scheduler();
  const LanguageModel& lm = sched.model();
  const int64_t n_embd = lm.n_embd();
  std::optional<int64_t> dims;
  if (auto e = OptInteger(j, "dimensions", 1, INT64_MAX, &dims)) return SendError(res, *e);
  if (dims && *dims != n_embd) {
    return SendError(res, Invalid("dimensions", "this model's embeddings have " +
                                                    std::to_string(n_embd) + " dimensions"));
  }

  int64_t total = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EmbeddingInput& in = inputs[i];
    if (!in.is_tokens) in.tokens = lm.Tokenize(in.text, true, false);
    const std::string param = inputs.size() == 1 ? "input" : "input[" + std::to_string(i) + "]";
    if (in.tokens.empty()) return SendError(res, Invalid(param, "'" + param + "' is empty"));
    const int64_t n = static_cast<int64_t>(in.tokens.size());
    if (n > sched.n_ctx()) {
      ApiError e =
          Invalid(param, "'" + param + "' has " + std::to_string(n) +
                             " tokens but the context holds " + std::to_string(sched.n_ctx()));
      e.code = "context_length_exceeded";
      return SendError(res, e);
    }
    total += n;
  }

  std::lock_guard<std::mutex> l(embed_mu);
  EngineOptions eo;
  eo.n_threads = options.models.scheduler.n_threads;
  eo.n_ctx = sched.n_ctx();  // as for generation (Phi-3's LongRoPE factors depend on it)
  eo.n_batch = options.models.scheduler.n_batch;
  auto session = Session::Create(sched.shared_model(), eo);
  if (!session.ok()) return SendError(res, FromStatus(session.status()));
  json data = json::array();
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto v = (*session)->Embed(inputs[i].tokens);
    if (!v.ok()) {
      ApiError e = FromStatus(v.status());
      e.param = inputs.size() == 1 ? "input" : "input[" + std::to_string(i) + "]";
      return SendError(res, e);
    }
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", base64 ? json(Base64Floats(*v)) : json(*v)}});
  }
  SendJson(res, json{{"object", "list"},
                     {"data", std::move(data)},
                     {"model", model->get<std::string>()},
                     {"usage", {{"prompt_tokens", total}, {"total_tokens", total}}}});
}

void HttpServer::Impl::HandleGeneration(const httplib::Request& req, httplib::Response& res,
                                        bool chat) {
  json j;
  if (auto e = ParseBody(req, &j)) return SendError(res, *e);
  ApiRequest r;
  if (auto e = ParseGeneration(j, chat, &r)) return SendError(res, *e);
  auto lease_or = models.Acquire(r.model, r.ttl_s);
  if (!lease_or.ok()) return SendError(res, FromStatus(lease_or.status()));
  auto lease = std::make_shared<ModelManager::Lease>(std::move(lease_or).value());
  Scheduler& sched = lease->scheduler();
  const LanguageModel& lm = sched.model();

  GenerationRequest g;
  if (chat) {
    auto text = lm.FormatChat(r.messages);
    if (!text.ok()) return SendError(res, FromStatus(text.status()));
    g.prompt = lm.TokenizeChat(*text);
  } else if (r.prompt_is_tokens) {
    g.prompt = r.prompt_tokens;
  } else {
    g.prompt = lm.Tokenize(r.prompt, true, false);
  }
  if (g.prompt.empty()) return SendError(res, Invalid("prompt", "the prompt is empty"));
  g.sampling = r.sampling;
  g.max_tokens = r.max_tokens;
  g.stop = r.stop;
  auto st = std::make_shared<StreamState>();
  g.cancelled = st->cancelled;
  const bool stream = r.stream;
  g.on_text = [st, stream](std::string_view text) {
    std::lock_guard<std::mutex> l(st->mu);
    if (stream) {
      st->pieces.emplace_back(text);
    } else {
      st->text.append(text);
    }
    st->cv.notify_all();
  };
  g.on_done = [st](const GenerationResult& result) {
    std::lock_guard<std::mutex> l(st->mu);
    st->result = result;
    st->done = true;
    st->cv.notify_all();
  };
  SubmitResult sub = sched.Submit(std::move(g));
  if (sub.queue_full) {
    ApiError e;
    e.http = 503;
    e.type = "server_error";
    e.code = "server_busy";
    e.message = sub.status.message();
    res.set_header("Retry-After", "1");
    return SendError(res, e);
  }
  if (!sub.ok()) {
    ApiError e = FromStatus(sub.status);
    if (sub.status.code() == StatusCode::kOutOfRange) e.param = chat ? "messages" : "prompt";
    return SendError(res, e);
  }

  auto meta = std::make_shared<StreamMeta>();
  meta->id = NewId(chat ? "chatcmpl-" : "cmpl-");
  meta->model = r.model;
  meta->created = UnixNow();
  meta->chat = chat;
  meta->include_usage = r.include_usage;

  if (!stream) {
    std::unique_lock<std::mutex> l(st->mu);
    st->cv.wait(l, [&] { return st->done; });
    const GenerationResult& result = st->result;
    if (result.finish_reason == FinishReason::kError) {
      ApiError e = FromStatus(result.status);
      e.http = 500;
      e.type = "server_error";
      return SendError(res, e);
    }
    if (result.finish_reason == FinishReason::kCancelled) {
      ApiError e;
      e.http = 503;
      e.type = "server_error";
      e.message = "the model was unloaded while generating; retry";
      res.set_header("Retry-After", "1");
      return SendError(res, e);
    }
    json choice;
    if (chat) {
      choice = {{"index", 0},
                {"message", {{"role", "assistant"}, {"content", st->text}}},
                {"logprobs", nullptr},
                {"finish_reason", FinishReasonName(result.finish_reason)}};
    } else {
      choice = {{"index", 0},
                {"text", st->text},
                {"logprobs", nullptr},
                {"finish_reason", FinishReasonName(result.finish_reason)}};
    }
    return SendJson(res, json{{"id", meta->id},
                              {"object", chat ? "chat.completion" : "text_completion"},
                              {"created", meta->created},
                              {"model", meta->model},
                              {"choices", json::array({choice})},
                              {"usage", Usage(result)}});
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [st, meta, lease](size_t, httplib::DataSink& sink) -> bool {
        std::deque<std::string> pieces;
        bool done = false;
        GenerationResult result;
        {
          std::unique_lock<std::mutex> l(st->mu);
          st->cv.wait_for(l, std::chrono::milliseconds(200),
                          [&] { return !st->pieces.empty() || st->done; });
          pieces.swap(st->pieces);
          done = st->done;
          if (done) result = st->result;
        }
        auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
        if (meta->chat && !meta->sent_role) {
          meta->sent_role = true;
          if (!write(Sse(Chunk(*meta, json{{"role", "assistant"}, {"content", ""}}, nullptr)))) {
            return false;
          }
        }
        for (const std::string& p : pieces) {
          const json delta = meta->chat ? json{{"content", p}} : json(p);
          if (!write(Sse(Chunk(*meta, delta, nullptr)))) return false;
        }
        if (!done) return true;
        if (result.finish_reason == FinishReason::kError ||
            result.finish_reason == FinishReason::kCancelled) {
          ApiError e;
          e.http = 500;
          e.type = "server_error";
          e.message = result.finish_reason == FinishReason::kError
                          ? result.status.message()
                          : "the generation was cancelled (the model was unloaded)";
          write(Sse(ErrorJson(e)));
        } else {
          const json last = meta->chat ? json::object() : json("");
          if (!write(Sse(Chunk(*meta, last, FinishReasonName(result.finish_reason))))) {
            return false;
          }
          if (meta->include_usage) {
            json u = {{"id", meta->id},
                      {"object", meta->chat ? "chat.completion.chunk" : "text_completion"},
                      {"created", meta->created},
                      {"model", meta->model},
                      {"choices", json::array()},
                      {"usage", Usage(result)}};
            if (!write(Sse(u))) return false;
          }
        }
        write("data: [DONE]\n\n");
        sink.done();
        return true;
      },
      [st](bool) { st->cancelled->store(true); });
}

}  // namespace foundry
