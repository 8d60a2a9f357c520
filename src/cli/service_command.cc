// `foundry service start|stop|restart|status|ps|set|run`: one background service per user.
//
// `start` forks and execs `foundry service run --foreground` in a new session with its output
// in <home>/logs/service.log; the daemon writes <home>/service.pid ("<pid> <port>") once it
// listens and removes it when it exits (SIGTERM from `stop`). The lines that Foundry Local's
// SDKs parse are printed byte for byte (docs/cli.md).
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
#include "cli/commands.h"
#include "cli/service_control.h"
#include "cli/table.h"
#include "server/http_server.h"
#include "server/service_models.h"
#include "server/service_settings.h"

namespace foundry::cli {
namespace {

namespace fs = std::filesystem;

std::optional<RunningService> ReadPidFile(const fs::path& home) {
  auto path = ServicePidFile(home);
  if (!path.ok()) return std::nullopt;
  std::ifstream in(*path);
  RunningService s;
  if (!(in >> s.pid >> s.port) || s.pid <= 0 || s.port <= 0 || s.port > 65535) return std::nullopt;
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

bool StatusResponds(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  c.set_read_timeout(5, 0);
  auto r = c.Get("/openai/status");
  return r && r->status == 200;
}

std::optional<RunningService> FindRunning(const fs::path& home) {
  auto s = ReadPidFile(home);
  if (!s || !ProcessAlive(s->pid) || !StatusResponds(s->port)) return std::nullopt;
  return s;
}

std::string BaseUrl(int port) { return "http://127.0.0.1:" + std::to_string(port) + "/"; }

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
    std::printf("🟢 Service is already running on %s.\n", BaseUrl(running->port).c_str());
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
    if (s && s->pid == child && StatusResponds(s->port)) {
      std::printf("🟢 Service is Started on %s, PID %d!\n", BaseUrl(s->port).c_str(),
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

std::optional<RunningService> FindRunningService(const fs::path& home) { return FindRunning(home); }
int StartService(const fs::path& home) { return Start(home); }

namespace {

int Stop(const fs::path& home) {
  auto s = ReadPidFile(home);
  if (s && ProcessAlive(s->pid)) {
    kill(s->pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
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

int Status(const fs::path& home) {
  auto s = FindRunning(home);
  if (!s) {
    PrintNotRunning();
    return 1;
  }
  std::printf("🟢 Model management service is running on http://127.0.0.1:%d/openai/status\n",
              s->port);
  return 0;
}

int Ps(const CatalogOptions& options) {
  auto s = FindRunning(options.home);
  if (!s) {
    PrintNotRunning();
    return 1;
  }
  httplib::Client c("127.0.0.1", s->port);
  c.set_connection_timeout(1, 0);
  c.set_read_timeout(10, 0);
  auto r = c.Get("/openai/loadedmodels");
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
      running
          ? ("running, PID " + std::to_string(running->pid) + ", " + BaseUrl(running->port)).c_str()
          : "not running");
  std::printf("Foundry home:   %s\n",
              options.home.empty() ? "not found (set HOME or FOUNDRY_HOME)" : options.home.c_str());
  std::printf("Settings:       host %s, port %d, model TTL %lld s\n", settings->host.c_str(),
              settings->port, static_cast<long long>(settings->default_ttl_s));
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
    httplib::Client c("127.0.0.1", running->port);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(10, 0);
    auto r = c.Get("/openai/loadedmodels");
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
  std::string cachedir;
  bool show = false;
};

int Set(const fs::path& home, const SetArgs& a) {
  auto settings = LoadServiceSettings(home);
  if (!settings.ok()) return ReportError(settings.status());
  bool changed = false;
  if (a.port != 0) {
    settings->port = a.port;
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
  if (changed) {
    const foundry::Status st = SaveServiceSettings(home, *settings);
    if (!st.ok()) return ReportError(st);
    if (FindRunning(home)) std::printf("Restart the service to apply: foundry service restart\n");
  }
  if (a.show || !changed) std::printf("%s\n", ServiceSettingsJson(*settings).c_str());
  return 0;
}

struct RunArgs {
  int port = 0;
  int slots = 4;
  int threads = 0;
  int queue = 64;
  int64_t ctx = 0;
  bool foreground = false;
  bool no_prompt_cache = false;
};

int Run(const Environment& env, const RunArgs& a) {
  const CatalogOptions& options = env.catalog;
  auto settings = LoadServiceSettings(options.home);
  if (!settings.ok()) return ReportError(settings.status());
  auto pid_path = ServicePidFile(options.home);
  if (!pid_path.ok()) return ReportError(pid_path.status());
  // SIGTERM/SIGINT are taken by one thread (sigwait) that stops the server; every other thread
  // inherits the blocked mask.
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
  opts.host = "127.0.0.1";
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
    out << getpid() << " " << opts.port << "\n";
  }
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.Stop();
  });
  std::printf("foundry service listening on %s (PID %d)\n", BaseUrl(opts.port).c_str(),
              static_cast<int>(getpid()));
  std::fflush(stdout);
  const foundry::Status st = server.Run();
  kill(getpid(), SIGTERM);  // wakes the stopper if the server stopped by itself
  stopper.join();
  auto s = ReadPidFile(options.home);
  if (s && s->pid == getpid()) fs::remove(*pid_path, ec);
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
      ->callback([&home, &exit_code] { exit_code = Status(home); });
  svc->add_subcommand("diag", "Show diagnostics: service, settings, cache, machine, log")
      ->callback([&options, &exit_code] { exit_code = Diag(options); });
  svc->add_subcommand("ps", "List the models loaded in the service")
      ->callback([&options, &exit_code] { exit_code = Ps(options); });
  auto set_args = std::make_shared<SetArgs>();
  CLI::App* set = svc->add_subcommand("set", "Change or show the service settings");
  set->add_option("--port", set_args->port, "Port to listen on (127.0.0.1)")
      ->check(CLI::Range(1, 65535));
  set->add_option("--cachedir", set_args->cachedir, "Model cache directory");
  set->add_flag("--show", set_args->show, "Print the settings as JSON");
  set->callback([&home, set_args, &exit_code] { exit_code = Set(home, *set_args); });
  auto run_args = std::make_shared<RunArgs>();
  CLI::App* run = svc->add_subcommand("run", "Run the service in this process");
  run->add_flag("--foreground", run_args->foreground, "Stay in the foreground (the default)");
  run->add_option("--port", run_args->port, "Port (default: the settings')")
      ->check(CLI::Range(1, 65535));
  run->add_option("--slots", run_args->slots, "Requests decoded together per model")
      ->check(CLI::Range(1, 64));
  run->add_option("--threads", run_args->threads, "Threads per model (default: all cores)")
      ->check(CLI::Range(0, 512));
  run->add_option("--queue", run_args->queue, "Requests waiting per model before 503")
      ->check(CLI::Range(1, 100000));
  run->add_option("--ctx-size", run_args->ctx, "Context per request (default: model's, <= 4096)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  run->add_flag("--no-prompt-cache", run_args->no_prompt_cache,
                "Compute every prompt in full (do not reuse the KV of earlier requests)");
  run->callback([&env, run_args, &exit_code] { exit_code = Run(env, *run_args); });
}

}  // namespace foundry::cli
