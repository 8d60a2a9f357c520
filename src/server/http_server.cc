#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "server/http_reply.h"
#include "server/management_routes.h"
#include "server/metrics.h"
#include "server/openai_routes.h"
#include "server/process_memory.h"
#include "server/request_tracker.h"
#include "server/web_routes.h"

namespace foundry {

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
  Impl(const ServerOptions& o, ModelResolver resolver)
      : options(o),
        request_log(o.request_log),
        tracker(metrics, o.request_log.path.empty() ? nullptr : &request_log),
        models(o.models, ChooseResolver(o, std::move(resolver))),
        openai(o, models, tracker),
        gate(o.access),
        http(o.limits) {}

  static ModelResolver ChooseResolver(const ServerOptions& o, ModelResolver resolver) {
    if (resolver) return resolver;
    if (!o.catalog) {
      if (!o.confine_models) return nullptr;  // absolute paths (ResolveModelPath)
      return [](const std::string& name) -> StatusOr<ResolvedModel> {
        return NotFound("model \"" + name + "\" was not found");
      };
    }
    std::shared_ptr<const ServiceModels> catalog = o.catalog;
    const bool confined = o.confine_models;
    return
        [catalog, confined](const std::string& name) { return catalog->Resolve(name, confined); };
  }

  int InFlight() const {
    int n = 0;
    for (const LoadedModelInfo& m : models.Loaded()) n += m.in_flight;
    return n;
  }

  ServiceGauges Gauges() const {
    ServiceGauges g;
    for (const LoadedModelInfo& m : models.Loaded()) {
      g.models.push_back(
          {m.name, m.bytes, static_cast<int64_t>(m.queued), m.busy_slots, m.n_slots});
    }
    g.resident_bytes = ResidentMemoryBytes();
    g.draining = draining.load();
    return g;
  }

  void Configure();

  const ServerOptions& options;
  // Before the models: a scheduler that stops ends its requests, and they report here.
  ServiceMetrics metrics;
  RequestLog request_log;
  RequestTracker tracker;
  ModelManager models;
  OpenAiRoutes openai;
  RequestGate gate;
  std::atomic<bool> draining{false};
  GuardedHttpServer http;
};

HttpServer::HttpServer(ServerOptions options, ModelResolver resolver)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(options_, std::move(resolver))) {
  impl_->Configure();
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

void HttpServer::Stop() {
  impl_->http.BeginStop();
  impl_->http.stop();
}

bool HttpServer::draining() const { return impl_->draining.load(); }

// cpp-httplib ends every chunked answer at once when the server stops, so Stop() comes only
// when nothing is in flight: generations that run past the deadline are cancelled first (their
// streams end with an error event), and they finish within a step.
bool HttpServer::Drain(std::chrono::milliseconds deadline) {
  impl_->draining.store(true);
  const auto end = std::chrono::steady_clock::now() + deadline;
  // Idle twice in a row: a request that passed the gate just before draining began has had
  // time to take its model.
  auto wait_idle = [this](std::chrono::steady_clock::time_point until) {
    int idle = 0;
    while (idle < 2 && std::chrono::steady_clock::now() < until) {
      idle = impl_->InFlight() == 0 ? idle + 1 : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return idle >= 2;
  };
  const bool finished = wait_idle(end);
  if (!finished) {
    impl_->openai.CancelAll();
    wait_idle(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  }
  Stop();
  return finished;
}

// Connection limits, the access log, OpenAI-shaped answers for failures no route handled
// (unknown routes, oversized bodies, exceptions), then the routes.
void HttpServer::Impl::Configure() {
  http.set_payload_max_length(options.max_body_bytes);
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    tracker.Begin(req);
    return gate.Screen(req, res, draining.load()) ? httplib::Server::HandlerResponse::Handled
                                                  : httplib::Server::HandlerResponse::Unhandled;
  });
  // Open without a key: load balancers and orchestrators poll it.
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const bool ok = !draining.load();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? R"({"status":"ok"})" : R"({"status":"draining"})", "application/json");
  });
  // Behind the API key when keys are configured (as llama-server's); answered while draining.
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Render(Gauges()), std::string(kPrometheusContentType));
  });
  // After the answer's last byte (a stream's last event): the request's metrics and log line.
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    tracker.End(req, res.status);
    std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    std::fflush(stderr);
  });
  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        ReplyError(res, ServerError("internal error while handling the request"));
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
          case 400:
            e.message = "bad request (malformed, or its headers exceed the size limit)";
            break;
          default:
            e.message = "bad request";
            break;
        }
        if (res.status >= 500) e.type = "server_error";
        res.set_content(ErrorBody(e), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  openai.AddTo(http);
  AddManagementRoutes(http, options, models);
  AddWebRoutes(http);
}

}  // namespace foundry
