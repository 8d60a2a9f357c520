// `foundry service start|stop|restart|status|ps|set|run`: one background service per user.
//
// `start` forks and execs `foundry service run --foreground` in a new session with its output
// in <home>/logs/service.log; the daemon writes <home>/service.pid ("<pid> <port> <host>") once
// it listens and removes it when it exits (SIGTERM from `stop`: it drains first). With API keys
// it also writes <home>/service.key (mode 0600), a key of its own that this user's CLI sends.
// The lines that Foundry Local's SDKs parse are printed byte for byte (docs/cli.md).
#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "catalog/cache.h"
#include "catalog/catalog.h"
#include "catalog/machine.h"
#include "catalog/settings.h"
#include "cli/commands.h"
#include "cli/service_control.h"
#include "cli/table.h"
#include "server/auth.h"
#include "server/bind_address.h"
#include "server/cors.h"
#include "server/http_server.h"
#include "server/service_models.h"
#include "server/service_settings.h"

namespace foundry::cli {
namespace {

namespace fs = std::filesystem;

// How long `service stop` lets the daemon drain before it kills it.
constexpr int kDefaultDrainSeconds = 20;

StatusOr<fs::path> ServiceKeyFile(const fs::path& home) {
  return FoundryHomeFile(home, "service.key");
}

std::optional<RunningService> ReadPidFile(const fs::path& home) {
  auto path = ServicePidFile(home);
  if (!path.ok()) return std::nullopt;
  std::ifstream in(*path);
  RunningService s;
  if (!(in >> s.pid >> s.port) || s.pid <= 0 || s.port <= 0 || s.port > 65535) return std::nullopt;
  std::string host;
  if (in >> host) s.address = LocalClientAddress(host);
  if (auto key_path = ServiceKeyFile(home); key_path.ok()) {
    std::ifstream key(*key_path);
    key >> s.api_key;
  }
  return s;
}

// A zombie (exited, not yet reaped by its new parent) counts as gone.
bool ProcessAlive(pid_t pid) {
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

bool StatusResponds(const RunningService& s) {
  auto c = ServiceClient(s);
  c->set_connection_timeout(1, 0);
  c->set_read_timeout(5, 0);
  auto r = c->Get("/openai/status");
  return r && r->status == 200;
}

std::optional<RunningService> FindRunning(const fs::path& home) {
  auto s = ReadPidFile(home);
  if (!s || !ProcessAlive(s->pid) || !StatusResponds(*s)) return std::nullopt;
  return s;
}

std::string BaseUrl(const std::string& address, int port) {
  const bool v6 = address.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port) + "/";
}
std::string BaseUrl(const RunningService& s) { return BaseUrl(s.address, s.port); }

void PrintNotRunning() {
  std::printf("🔴 Model management service is not running!\n");
  std::printf("To start the service, run the following command: foundry service start\n");
  std::fflush(stdout);
}

void PrintPortTaken(int port) {
  std::fprintf(stderr,
               "🔴 Port %d is already in use by another program. Choose another port with: "
               "foundry service set --port N\n",
               port);
}

int Start(const fs::path& home) {
  auto settings = LoadServiceSettings(home);
  if (!settings.ok()) return ReportError(settings.status());
  if (auto running = FindRunning(home)) {
    std::printf("🟢 Service is already running on %s.\n", BaseUrl(*running).c_str());
    return 0;
  }
  const int port = settings->port;
  if (PortInUse(settings->host, port)) {
    PrintPortTaken(port);
    return 8;
  }
  auto log_path = ServiceLogFile(home);
  if (!log_path.ok()) return ReportError(log_path.status());
  std::error_code ec;
  fs::create_directories(log_path->parent_path(), ec);
  const int log_fd = open(log_path->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ReportError(IoError("cannot open the log file " + log_path->string()));
  const off_t log_start = lseek(log_fd, 0, SEEK_END);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  if (child < 0) return ReportError(IoError("cannot start the service: fork failed"));
  if (child == 0) {
    setsid();
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execl("/proc/self/exe", "foundry", "service", "run", "--foreground",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log_fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (waitpid(child, &wstatus, WNOHANG) == child) {
      std::ifstream in(*log_path, std::ios::binary);
      in.seekg(log_start);
      std::string line, last;
      while (std::getline(in, line)) {
        if (!line.empty()) last = line;
      }
      std::fprintf(stderr, "%s\n",
                   last.empty() ? "error: the service exited at start" : last.c_str());
      return 8;
    }
    auto s = ReadPidFile(home);
    if (s && s->pid == child && StatusResponds(*s)) {
      std::printf("🟢 Service is Started on %s, PID %d!\n", BaseUrl(*s).c_str(),
                  static_cast<int>(child));
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fprintf(stderr, "error: the service did not answer within 60 s; see %s\n",
               log_path->c_str());
  return 8;
}

}  // namespace

std::unique_ptr<httplib::Client> ServiceClient(const RunningService& service) {
  auto c = std::make_unique<httplib::Client>(service.address, service.port);
  if (!service.api_key.empty()) c->set_bearer_token_auth(service.api_key);
  return c;
}

std::optional<RunningService> FindRunningService(const fs::path& home) { return FindRunning(home); }
int StartService(const fs::path& home) { return Start(home); }

namespace {

int Stop(const fs::path& home) {
  auto s = ReadPidFile(home);
  if (s && ProcessAlive(s->pid)) {
    kill(s->pid, SIGTERM);  // the daemon drains: running generations finish first
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(kDefaultDrainSeconds + 10);
    while (ProcessAlive(s->pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (ProcessAlive(s->pid)) kill(s->pid, SIGKILL);
  }
  if (auto path = ServicePidFile(home); path.ok()) {
    std::error_code ec;
    fs::remove(*path, ec);
  }
  std::printf("🔴 Service is stopped.\n");
  return 0;
}

int PrintStatus(const fs::path& home) {
  auto s = FindRunning(home);
  if (!s) {
    PrintNotRunning();
    return 1;
  }
  std::printf("🟢 Model management service is running on %sopenai/status\n", BaseUrl(*s).c_str());
  return 0;
}

int Ps(const CatalogOptions& options) {
  auto s = FindRunning(options.home);
  if (!s) {
    PrintNotRunning();
    return 1;
  }
  auto c = ServiceClient(*s);
  c->set_connection_timeout(1, 0);
  c->set_read_timeout(10, 0);
  auto r = c->Get("/openai/loadedmodels");
  if (!r || r->status != 200) return ReportError(IoError("the service did not answer"));
  nlohmann::json ids = nlohmann::json::parse(r->body, nullptr, false);
  if (!ids.is_array() || ids.empty()) {
    std::printf("No models are currently loaded in the service\n");
    return 0;
  }
  // Foundry Local's layout: the alias column is 31 wide and starts under the model's name, after
  // "🟢  " (two columns wide on a terminal, then two spaces).
  constexpr size_t kAliasWidth = 31;
  const StatusOr<Catalog> catalog = Catalog::Load(options.catalog_file);
  std::printf("Models running in service:\n");
  std::printf("    %sModel ID\n", Pad("Alias", kAliasWidth).c_str());
  for (const auto& id : ids) {
    if (!id.is_string()) continue;
    const std::string name = id.get<std::string>();
    const std::string alias = DisplayAlias(catalog.ok() ? &*catalog : nullptr, name);
    std::printf("🟢  %s%s\n", Pad(alias, kAliasWidth).c_str(), name.c_str());
  }
  return 0;
}

// `service diag`: what someone debugging a setup needs in one place. Exit code 1 when the
// service is not running (everything else is still printed).
int Diag(const CatalogOptions& options) {
  const auto running = FindRunning(options.home);
  auto settings = LoadServiceSettings(options.home);
  if (!settings.ok()) return ReportError(settings.status());
  auto log = ServiceLogFile(options.home);
  auto cache = CacheDirectory(options);
  auto machine = DetectMachine(options.ram_gb);
  auto catalog = Catalog::Load(options.catalog_file);
  std::printf(
      "Service:        %s\n",
      running ? ("running, PID " + std::to_string(running->pid) + ", " + BaseUrl(*running)).c_str()
              : "not running");
  std::printf("Foundry home:   %s\n",
              options.home.empty() ? "not found (set HOME or FOUNDRY_HOME)" : options.home.c_str());
  std::printf("Settings:       host %s, port %d, model TTL %lld s, %zu API key(s)\n",
              settings->host.c_str(), settings->port,
              static_cast<long long>(settings->default_ttl_s), settings->api_key_sha256.size());
  std::printf("Cache:          %s\n",
              cache.ok() ? cache->c_str() : cache.status().message().c_str());
  std::printf("Catalog:        %s, %s\n",
              options.catalog_file.empty() ? "built in" : options.catalog_file.c_str(),
              catalog.ok() ? (std::to_string(catalog->variants().size()) + " variants").c_str()
                           : catalog.status().message().c_str());
  if (machine.ok()) {
    std::printf("Machine:        %.1f GB RAM (%.1f GB available)%s, %d CPU threads, %s\n",
                machine->total_ram_gb, machine->available_ram_gb,
                machine->ram_overridden ? " (FOUNDRY_RAM_GB)" : "", machine->cpu_threads,
                machine->avx512 ? "AVX-512" : (machine->avx2 ? "AVX2" : "no AVX2"));
  }
  if (cache.ok()) {
    auto cached = ModelCache(*cache).List();
    std::printf("Cached models:  %s\n", cached.ok() ? std::to_string(cached->size()).c_str()
                                                    : cached.status().message().c_str());
  }
  if (running) {
    auto c = ServiceClient(*running);
    c->set_connection_timeout(1, 0);
    c->set_read_timeout(10, 0);
    auto r = c->Get("/openai/loadedmodels");
    std::printf("Loaded models:  %s\n",
                r && r->status == 200 ? r->body.c_str() : "(the service did not answer)");
  }
  if (log.ok()) {
    std::printf("Log:            %s\n", log->c_str());
    std::ifstream in(*log);
    std::vector<std::string> tail;
    std::string line;
    while (std::getline(in, line)) {
      tail.push_back(line);
      if (tail.size() > 10) tail.erase(tail.begin());
    }
    for (const std::string& l : tail) std::printf("  | %s\n", l.c_str());
  }
  return running ? 0 : 1;
}

struct SetArgs {
  int port = 0;
  std::string host;
  std::string cachedir;
  std::vector<std::string> api_keys;
  bool clear_api_keys = false;
  std::optional<bool> allow_unauthenticated;
  std::vector<std::string> origins;
  bool clear_origins = false;
  std::optional<int> rate_limit;
  std::optional<int> request_log_mib;
  bool show = false;
};

// The access settings of `service set`: API keys (stored as SHA-256 digests), origins, the rate
// limit. Sets *changed when one was given.
foundry::Status ApplyAccessSettings(const SetArgs& a, ServiceSettings* s, bool* changed) {
  if (a.clear_api_keys || !a.api_keys.empty()) {
    s->api_key_sha256.clear();
    for (const std::string& key : a.api_keys) {
      if (key.size() < 16) {
        return InvalidArgument(
            "an API key must have at least 16 characters (e.g. from: openssl "
            "rand -hex 32)");
      }
      s->api_key_sha256.push_back(DigestHex(DigestApiKey(key)));
    }
    *changed = true;
  }
  if (a.clear_origins || !a.origins.empty()) {
    for (const std::string& o : a.origins) {
      if (!IsOrigin(o)) {
        return InvalidArgument("\"" + o +
                               "\" is not a web origin: give scheme, host and port only, e.g. "
                               "https://app.example.com or http://localhost:3000");
      }
    }
    s->cors_origins = a.origins;
    *changed = true;
  }
  if (a.allow_unauthenticated) {
    s->allow_unauthenticated = *a.allow_unauthenticated;
    *changed = true;
  }
  if (a.rate_limit) {
    s->rate_limit_per_minute = *a.rate_limit;
    *changed = true;
  }
  if (a.request_log_mib) {
    s->request_log_max_mib = *a.request_log_mib;
    *changed = true;
  }
  return OkStatus();
}

int Set(const fs::path& home, const SetArgs& a) {
  auto settings = LoadServiceSettings(home);
  if (!settings.ok()) return ReportError(settings.status());
  bool changed = false;
  if (a.port != 0) {
    settings->port = a.port;
    changed = true;
  }
  if (!a.host.empty()) {
    if (const foundry::Status st = CheckBindAddress(a.host); !st.ok()) return ReportError(st);
    settings->host = a.host;
    changed = true;
  }
  if (!a.cachedir.empty()) {
    std::error_code ec;
    const fs::path dir = fs::absolute(a.cachedir, ec);
    if (ec || !fs::is_directory(dir, ec)) {
      return ReportError(NotFound("\"" + a.cachedir + "\" is not a directory"));
    }
    settings->cache_dir = dir.string();
    changed = true;
  }
  if (const foundry::Status st = ApplyAccessSettings(a, &*settings, &changed); !st.ok()) {
    return ReportError(st);
  }
  if (changed) {
    const foundry::Status st = SaveServiceSettings(home, *settings);
    if (!st.ok()) return ReportError(st);
    std::string warning;
    const foundry::Status exposure =
        CheckExposure(settings->host, !settings->api_key_sha256.empty(),
                      settings->allow_unauthenticated, &warning);
    if (!exposure.ok())
      std::fprintf(stderr, "warning: the service will not start: %s\n", exposure.message().c_str());
    if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
    if (FindRunning(home)) std::printf("Restart the service to apply: foundry service restart\n");
  }
  if (a.show || !changed) std::printf("%s\n", ServiceSettingsJson(*settings).c_str());
  return 0;
}

struct RunArgs {
  int port = 0;
  std::string host;
  bool allow_unauthenticated = false;
  int slots = 4;
  int threads = 0;
  int queue = 64;
  int64_t ctx = 0;
  int max_connections = ConnectionLimits{}.max_connections;
  int request_timeout_s = ConnectionLimits{}.request_timeout_s;
  int drain_s = kDefaultDrainSeconds;
  bool foreground = false;
  bool no_prompt_cache = false;
};

// Who may call the service: the stored key digests, FOUNDRY_API_KEY and, when any key is
// required, a fresh key of the daemon's own written to <home>/service.key for this user's CLI.
StatusOr<AccessOptions> ServiceAccess(const Environment& env, const ServiceSettings& settings) {
  AccessOptions access;
  for (const std::string& hex : settings.api_key_sha256) {
    FOUNDRY_ASSIGN_OR_RETURN(ApiKeyDigest d, ParseDigestHex(hex));
    access.api_keys.push_back(d);
  }
  if (!env.api_key.empty()) access.api_keys.push_back(DigestApiKey(env.api_key));
  access.cors.origins = settings.cors_origins;
  access.rate_limit_per_minute = settings.rate_limit_per_minute;
  FOUNDRY_ASSIGN_OR_RETURN(fs::path key_path, ServiceKeyFile(env.catalog.home));
  std::error_code ec;
  fs::remove(key_path, ec);
  if (access.api_keys.empty()) return access;
  FOUNDRY_ASSIGN_OR_RETURN(std::string own, RandomApiKey());
  access.api_keys.push_back(DigestApiKey(own));
  fs::create_directories(key_path.parent_path(), ec);
  const int fd = open(key_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, own.data(), own.size()) != static_cast<ssize_t>(own.size())) {
    if (fd >= 0) close(fd);
    return IoError("cannot write " + key_path.string());
  }
  close(fd);
  return access;
}

int Run(const Environment& env, const RunArgs& a) {
  const CatalogOptions& options = env.catalog;
  auto settings = LoadServiceSettings(options.home);
  if (!settings.ok()) return ReportError(settings.status());
  auto pid_path = ServicePidFile(options.home);
  if (!pid_path.ok()) return ReportError(pid_path.status());
  const std::string host = a.host.empty() ? settings->host : a.host;
  // SIGTERM/SIGINT are taken by one thread (sigwait) that drains and stops the server; every
  // other thread inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // The cache as every command sees it (FOUNDRY_CACHE_DIR, else the settings' directory).
  auto cache_dir = CacheDirectory(options);
  if (!cache_dir.ok()) return ReportError(cache_dir.status());
  auto catalog = ServiceModels::Create(*cache_dir, options);
  if (!catalog.ok()) return ReportError(catalog.status());

  ServerOptions opts;
  opts.host = host;
  opts.port = a.port != 0 ? a.port : settings->port;
  opts.cache_dir = cache_dir->string();
  opts.catalog = std::move(*catalog);
  opts.models.default_ttl_s = settings->default_ttl_s;
  opts.models.load = ModelLoadOptions(env);
  opts.models.scheduler.n_slots = a.slots;
  opts.models.scheduler.n_threads = a.threads;
  opts.models.scheduler.max_queue = static_cast<size_t>(a.queue);
  opts.models.scheduler.n_ctx = a.ctx;
  opts.models.scheduler.cache_prompt = !a.no_prompt_cache;
  opts.limits.max_connections = a.max_connections;
  opts.limits.request_timeout_s = a.request_timeout_s;
  if (settings->request_log_max_mib > 0) {
    auto request_log = ServiceRequestLogFile(options.home);
    if (!request_log.ok()) return ReportError(request_log.status());
    opts.request_log.path = request_log->string();
    opts.request_log.max_bytes = static_cast<uint64_t>(settings->request_log_max_mib) << 20;
  }
  auto access = ServiceAccess(env, *settings);
  if (!access.ok()) return ReportError(access.status());
  opts.access = std::move(*access);
  std::string warning;
  const foundry::Status exposure =
      CheckExposure(host, !opts.access.api_keys.empty(),
                    a.allow_unauthenticated || settings->allow_unauthenticated, &warning);
  if (!exposure.ok()) return ReportError(exposure);
  if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
  opts.confine_models = !IsLoopbackAddress(host) || !opts.access.api_keys.empty();
  HttpServer server(opts);
  const foundry::Status bound = server.Bind();
  if (!bound.ok()) {
    std::fprintf(stderr, "🔴 %s\n", bound.message().c_str());
    return 8;
  }
  std::error_code ec;
  fs::create_directories(pid_path->parent_path(), ec);
  {
    std::ofstream out(*pid_path, std::ios::trunc);
    out << getpid() << " " << opts.port << " " << host << "\n";
  }
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (server.draining()) return;  // the server stopped by itself
    std::printf("draining: finishing running requests (at most %d s)\n", a.drain_s);
    std::fflush(stdout);
    const bool finished = server.Drain(std::chrono::seconds(a.drain_s));
    if (!finished) std::printf("drain deadline passed: cancelled the remaining requests\n");
    std::fflush(stdout);
  });
  std::printf("foundry service listening on %s (PID %d)\n",
              BaseUrl(LocalClientAddress(host), opts.port).c_str(), static_cast<int>(getpid()));
  std::fflush(stdout);
  const foundry::Status st = server.Run();
  kill(getpid(), SIGTERM);  // wakes the stopper if the server stopped by itself
  stopper.join();
  auto s = ReadPidFile(options.home);
  if (s && s->pid == getpid()) {
    fs::remove(*pid_path, ec);
    if (auto key_path = ServiceKeyFile(options.home); key_path.ok()) fs::remove(*key_path, ec);
  }
  std::printf("foundry service stopped\n");
  return st.ok() ? 0 : ReportError(st);
}

}  // namespace

void AddServiceCommand(CLI::App& app, const Environment& env, int& exit_code) {
  const CatalogOptions& options = env.catalog;
  const fs::path& home = options.home;
  CLI::App* svc = app.add_subcommand("service", "Manage the foundry service");
  svc->require_subcommand(1);
  svc->add_subcommand("start", "Start the service in the background")
      ->callback([&home, &exit_code] { exit_code = Start(home); });
  svc->add_subcommand("stop", "Stop the service")->callback([&home, &exit_code] {
    exit_code = Stop(home);
  });
  svc->add_subcommand("restart", "Restart the service")->callback([&home, &exit_code] {
    Stop(home);
    exit_code = Start(home);
  });
  svc->add_subcommand("status", "Show whether the service is running")
      ->callback([&home, &exit_code] { exit_code = PrintStatus(home); });
  svc->add_subcommand("diag", "Show diagnostics: service, settings, cache, machine, log")
      ->callback([&options, &exit_code] { exit_code = Diag(options); });
  svc->add_subcommand("ps", "List the models loaded in the service")
      ->callback([&options, &exit_code] { exit_code = Ps(options); });
  auto set_args = std::make_shared<SetArgs>();
  CLI::App* set = svc->add_subcommand("set", "Change or show the service settings");
  set->add_option("--port", set_args->port, "Port to listen on")->check(CLI::Range(1, 65535));
  set->add_option("--host", set_args->host,
                  "Address to listen on (default 127.0.0.1: this machine only; another address "
                  "needs --api-key)");
  set->add_option("--cachedir", set_args->cachedir, "Model cache directory");
  set->add_option("--api-key", set_args->api_keys,
                  "API key clients must send (Authorization: Bearer KEY); repeat for several. "
                  "Replaces the stored keys; only their SHA-256 is stored");
  set->add_flag("--clear-api-keys", set_args->clear_api_keys, "Remove every stored API key");
  set->add_option("--allow-unauthenticated", set_args->allow_unauthenticated,
                  "true: listen on a non-loopback address without an API key (anyone who can "
                  "reach it can use it)")
      ->expected(0, 1)
      ->default_str("true");
  set->add_option("--origins", set_args->origins,
                  "Web origins whose pages may call the service (https://app.example.com); "
                  "comma-separated or repeated; replaces the stored list")
      ->delimiter(',');
  set->add_flag("--clear-origins", set_args->clear_origins, "Allow no other web origin");
  set->add_option("--rate-limit", set_args->rate_limit,
                  "Requests per minute per API key (or client address); 0: no limit")
      ->check(CLI::Range(0, 1000000));
  set->add_option("--request-log-mib", set_args->request_log_mib,
                  "Size in MiB past which logs/requests.jsonl is rotated (3 old files kept); 0: "
                  "no request log")
      ->check(CLI::Range(0, 1 << 20));
  set->add_flag("--show", set_args->show, "Print the settings as JSON");
  set->callback([&home, set_args, &exit_code] { exit_code = Set(home, *set_args); });
  auto run_args = std::make_shared<RunArgs>();
  CLI::App* run = svc->add_subcommand("run", "Run the service in this process");
  run->add_flag("--foreground", run_args->foreground, "Stay in the foreground (the default)");
  run->add_option("--port", run_args->port, "Port (default: the settings')")
      ->check(CLI::Range(1, 65535));
  run->add_option("--host", run_args->host, "Address to listen on (default: the settings')");
  run->add_flag("--allow-unauthenticated", run_args->allow_unauthenticated,
                "Listen on a non-loopback address without an API key");
  run->add_option("--max-connections", run_args->max_connections,
                  "Connections open at once (served and waiting); more wait to be accepted")
      ->check(CLI::Range(1, 100000));
  run->add_option("--request-timeout", run_args->request_timeout_s,
                  "Seconds a client has to send a whole request (headers and body)")
      ->check(CLI::Range(1, 3600));
  run->add_option("--drain-timeout", run_args->drain_s,
                  "Seconds running requests get to finish after SIGTERM")
      ->check(CLI::Range(0, 3600));
  run->add_option("--slots", run_args->slots, "Requests decoded together per model")
      ->check(CLI::Range(1, 64));
  run->add_option("--threads", run_args->threads, "Threads per model (default: all cores)")
      ->check(CLI::Range(0, 512));
  run->add_option("--queue", run_args->queue, "Requests waiting per model before 503")
      ->check(CLI::Range(1, 100000));
  run->add_option("--ctx-size", run_args->ctx, "Context per request (default: the model's training context, as far as a quarter of the "
                  "memory budget holds its KV cache)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  run->add_flag("--no-prompt-cache", run_args->no_prompt_cache,
                "Compute every prompt in full (do not reuse the KV of earlier requests)");
  run->callback([&env, run_args, &exit_code] { exit_code = Run(env, *run_args); });
}

}  // namespace foundry::cli
