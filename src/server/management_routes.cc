#include "server/management_routes.h"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "server/api/foundry_request.h"
#include "server/api/json_text.h"
#include "server/http_reply.h"

namespace foundry {
namespace {

using json = nlohmann::json;

// `/v1/models`: the cached models, then loaded models that are not in the cache (GGUF paths).
json ModelList(const ServerOptions& options, const ModelManager& models) {
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
  auto find_loaded = [&](const std::string& id) -> const LoadedModelInfo* {
    for (const LoadedModelInfo& m : loaded) {
      if (m.name == id) return &m;
    }
    return nullptr;
  };
  auto loaded_ctx = [&](const std::string& id) -> json {
    const LoadedModelInfo* m = find_loaded(id);
    return m != nullptr ? json(m->n_ctx) : json(nullptr);
  };
  if (options.catalog) {
    auto cached = options.catalog->Cached();
    if (cached.ok()) {
      for (const CachedModel& m : *cached) {
        json ctx = loaded_ctx(m.id);
        const ModelVariant* v = options.catalog->Variant(m.id);
        if (ctx.is_null() && v != nullptr && v->context_length > 0) ctx = v->context_length;
        // A loaded model answers from its own template; else the catalog's word.
        const LoadedModelInfo* l = find_loaded(m.id);
        add(m.id, ctx, l != nullptr ? l->tool_calling : v != nullptr && v->supports_tool_calling);
      }
    }
  }
  for (const LoadedModelInfo& m : loaded) {
    if (listed.count(m.name) == 0) add(m.name, m.n_ctx, m.tool_calling);
  }
  return json{{"object", "list"}, {"data", data}};
}

// `POST /openai/download`: the answer is a text stream: progress lines
// "Total NN.NN% Downloading ID", then one JSON line {"success": bool, "errorMessage": null | text}.
// The download runs in the request's thread; a client that goes away does not stop it (the
// model still lands in the cache).
void HandleDownload(const ServerOptions& options, const httplib::Request& req,
                    httplib::Response& res) {
  std::string name;
  if (auto e = ParseDownloadRequest(req.body, &name)) return ReplyError(res, *e);
  if (!options.catalog) {
    return ReplyError(res, ErrorFromStatus(NotFound("this service has no model catalog")));
  }
  const ModelVariant* v = options.catalog->Variant(name);
  if (v == nullptr) {
    return ReplyError(res,
                      ErrorFromStatus(NotFound("model \"" + name + "\" is not in the catalog")));
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
        write(JsonText(done) + "\n");
        if (connected) sink.done();
        return connected;
      });
}

}  // namespace

void AddManagementRoutes(httplib::Server& http, const ServerOptions& options,
                         ModelManager& models) {
  http.Get("/v1/models",
           [&options = options, &models = models](const httplib::Request&, httplib::Response& res) {
             ReplyJson(res, JsonText(ModelList(options, models)));
           });
  http.Get("/openai/status", [&options = options](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res,
              JsonText(json{
                  {"endpoints", json::array({"http://127.0.0.1:" + std::to_string(options.port)})},
                  {"modelDirPath", options.cache_dir},
                  {"pipeName", "foundry"}}));
  });
  http.Get("/openai/models", [&options = options](const httplib::Request&, httplib::Response& res) {
    json ids = json::array();
    if (options.catalog) {
      auto cached = options.catalog->Cached();
      if (!cached.ok()) return ReplyError(res, ErrorFromStatus(cached.status()));
      for (const CachedModel& m : *cached) ids.push_back(m.id);
    }
    ReplyJson(res, JsonText(ids));
  });
  http.Get("/foundry/list", [&options = options](const httplib::Request&, httplib::Response& res) {
    if (!options.catalog) return ReplyJson(res, JsonText(json::array()));
    auto list = options.catalog->FoundryList();
    if (!list.ok()) return ReplyError(res, ErrorFromStatus(list.status()));
    ReplyJson(res, JsonText(*list));
  });
  http.Post("/openai/download",
            [&options = options](const httplib::Request& req, httplib::Response& res) {
              HandleDownload(options, req, res);
            });
  http.Get("/openai/loadedmodels",
           [&models = models](const httplib::Request&, httplib::Response& res) {
             json ids = json::array();
             for (const LoadedModelInfo& m : models.Loaded()) ids.push_back(m.name);
             ReplyJson(res, JsonText(ids));
           });
  http.Get(R"(/openai/load/(.+))",
           [&models = models](const httplib::Request& req, httplib::Response& res) {
             LoadQuery q;
             if (auto e = ParseLoadQuery(QueryParam(req, "ttl"), QueryParam(req, "unload"), &q)) {
               return ReplyError(res, *e);
             }
             int64_t n_ctx = 0;
             if (auto e = ParseLoadContext(QueryParam(req, "ctx"), &n_ctx)) {
               return ReplyError(res, *e);
             }
             auto lease =
                 models.Acquire(req.matches[1].str(), q.ttl_s, q.unload_when_idle, n_ctx);
             if (!lease.ok()) return ReplyError(res, ErrorFromStatus(lease.status()));
             res.status = 200;
           });
  http.Get(R"(/openai/unload/(.+))",
           [&models = models](const httplib::Request& req, httplib::Response& res) {
             if (auto e = CheckUnloadQuery(QueryParam(req, "force"))) return ReplyError(res, *e);
             const Status st = models.Unload(req.matches[1].str());
             if (!st.ok()) return ReplyError(res, ErrorFromStatus(st));
             res.status = 200;
           });
  http.Get("/openai/unloadall",
           [&models = models](const httplib::Request&, httplib::Response& res) {
             models.UnloadAll();
             res.status = 200;
           });
}

}  // namespace foundry
