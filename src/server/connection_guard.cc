#include "server/connection_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace foundry {
namespace {

using Clock = std::chrono::steady_clock;

// A fixed pool of threads whose queue holds at most `capacity` connections, served and waiting
// together: enqueue (the accept loop) blocks while it is full.
class BoundedThreadPool : public httplib::TaskQueue {
 public:
  BoundedThreadPool(int threads, int capacity, const std::atomic<bool>& stopping)
      : capacity_(static_cast<size_t>(std::max(capacity, 1))), stopping_(stopping) {
    const int n = std::max(1, std::min(threads, capacity));
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { Work(); });
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    // Polls `stopping_` so that a stop() while full still ends the accept loop.
    while (jobs_.size() + busy_ >= capacity_ && !stopping_.load()) {
      space_.wait_for(lock, std::chrono::milliseconds(100));
    }
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // shut down and drained
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        ++busy_;
      }
      fn();
      {
        std::lock_guard<std::mutex> lock(mu_);
        --busy_;
      }
      space_.notify_one();
    }
  }

  const size_t capacity_;
  const std::atomic<bool>& stopping_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<std::function<void()>> jobs_;
  size_t busy_ = 0;
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
};

// One connection's socket as cpp-httplib's Stream, as its own SocketStream behaves (buffered
// reads, writes that fail once the peer is gone), plus the request deadline and header cap.
class GuardedStream : public httplib::Stream {
 public:
  GuardedStream(socket_t sock, const ConnectionLimits& limits) : sock_(sock), limits_(limits) {}

  // Waits up to the keep-alive timeout for the next request's first byte.
  bool WaitForRequest() {
    if (off_ < end_) return true;
    return Poll(POLLIN, std::chrono::seconds(limits_.keep_alive_timeout_s)) > 0;
  }
  // A request starts: its bytes must all arrive before the deadline, and until its headers
  // are parsed at most max_header_bytes are read.
  void BeginRequest() {
    deadline_ = Clock::now() + std::chrono::seconds(limits_.request_timeout_s);
    read_ = 0;
    read_cap_ = limits_.max_header_bytes;
  }
  // The headers are parsed: the body may follow (cpp-httplib enforces the payload limit).
  void HeadersDone() { read_cap_ = SIZE_MAX; }

  bool is_readable() const override { return ReadWait() > 0; }

  bool is_writable() const override {
    return Poll(POLLOUT, std::chrono::seconds(limits_.write_timeout_s)) > 0 && PeerAlive();
  }

  ssize_t read(char* ptr, size_t size) override {
    if (read_ >= read_cap_) return -1;  // headers too large: the request fails (400)
    size = std::min(size, read_cap_ - read_);
    if (off_ >= end_) {
      if (ReadWait() <= 0) return -1;  // no byte within the read timeout or the deadline
      ssize_t n;
      do {
        n = recv(sock_, buf_, sizeof(buf_), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      off_ = 0;
      end_ = static_cast<size_t>(n);
    }
    const size_t take = std::min(size, end_ - off_);
    std::copy(buf_ + off_, buf_ + off_ + take, ptr);
    off_ += take;
    read_ += take;
    return static_cast<ssize_t>(take);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      Describe(addr, len, ip, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      Describe(addr, len, ip, port);
  }

  socket_t socket() const override { return sock_; }

 private:
  static void Describe(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
    char host[NI_MAXHOST];
    char serv[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof(host), serv,
                    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
      ip = host;
      port = std::atoi(serv);
    }
  }

  // > 0: readable; 0: the read timeout or the request's deadline passed; < 0: error.
  int ReadWait() const {
    if (off_ < end_) return 1;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    wait = std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(limits_.read_timeout_s));
    if (wait.count() <= 0) return 0;
    return Poll(POLLIN, wait);
  }

  int Poll(short events, std::chrono::milliseconds wait) const {
    pollfd p{sock_, events, 0};
    int r;
    do {
      r = poll(&p, 1, static_cast<int>(wait.count()));
    } while (r < 0 && errno == EINTR);
    return r;
  }

  // A peer that closed its end shows as readable with nothing to read.
  bool PeerAlive() const {
    pollfd p{sock_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return true;
    if (p.revents & (POLLERR | POLLNVAL)) return false;
    char c;
    return recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }

  socket_t sock_;
  const ConnectionLimits& limits_;
  Clock::time_point deadline_ = Clock::now();
  size_t read_ = 0;
  size_t read_cap_ = 0;
  char buf_[4096];
  size_t off_ = 0;
  size_t end_ = 0;
};

}  // namespace

GuardedHttpServer::GuardedHttpServer(const ConnectionLimits& limits) : limits_(limits) {
  new_task_queue = [this] {
    return new BoundedThreadPool(limits_.threads, limits_.max_connections, stopping_);
  };
  set_read_timeout(limits_.read_timeout_s, 0);
  set_write_timeout(limits_.write_timeout_s, 0);
  set_keep_alive_timeout(limits_.keep_alive_timeout_s);
}

// cpp-httplib's keep-alive loop over a GuardedStream: each request gets the deadline and the
// header cap, and the header cap lifts once process_request has parsed the headers.
bool GuardedHttpServer::process_and_close_socket(socket_t sock) {
  bool ret = false;
  {
    GuardedStream stream(sock, limits_);
    for (size_t left = keep_alive_max_count_; left > 0; --left) {
      if (svr_sock_ == INVALID_SOCKET || !stream.WaitForRequest()) break;
      stream.BeginRequest();
      bool closed = false;
      ret = process_request(stream, left == 1, closed,
                            [&stream](httplib::Request&) { stream.HeadersDone(); });
      if (!ret || closed) break;
    }
  }
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ret;
}

}  // namespace foundry
