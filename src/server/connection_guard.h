// Limits on connections that cpp-httplib 0.11 lacks, so one client cannot hold the service:
// a cap on the connections open at once (the accept loop waits while it is reached, leaving
// newcomers in the kernel's backlog), a deadline for each whole request to arrive (a client
// that trickles its headers or body, "slowloris", is cut off however often it sends a byte),
// and a cap on the bytes of a request's headers. Everything else is cpp-httplib's request
// handling (Server::process_request), run over our socket stream.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>

namespace foundry {

struct ConnectionLimits {
  int threads = 32;            // requests served at once
  int max_connections = 128;   // connections open at once: served plus waiting for a thread
  int request_timeout_s = 30;  // from a request's first byte to its last (headers and body)
  int read_timeout_s = 30;     // one read or write without progress
  int write_timeout_s = 30;
  int keep_alive_timeout_s = 5;  // an idle connection waits this long for its next request
  size_t max_header_bytes = size_t{64} << 10;  // request line and headers
};

class GuardedHttpServer : public httplib::Server {
 public:
  explicit GuardedHttpServer(const ConnectionLimits& limits);
  // Wakes an accept loop that waits for a free connection slot, so stop() can end it.
  void BeginStop() { stopping_.store(true); }

 private:
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  std::atomic<bool> stopping_{false};
};

}  // namespace foundry
