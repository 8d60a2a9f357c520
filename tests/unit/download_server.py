#!/usr/bin/env python3
"""A local HTTP server that misbehaves on purpose, for tests/unit/downloader_test.cc.

Prints "PORT SHA256 SIZE" on stdout once listening on 127.0.0.1 (port chosen by the OS).
Every path serves the same deterministic body; the first path component picks the behaviour:
  /ok/...       200, honours Range
  /missing/...  404
  /flaky/...    500 for the first request of that path, then like /ok
  /cut/...      first request: full Content-Length, half the body, then the connection closes;
                later requests like /ok
  /stall/...    sends headers and 1000 bytes, then stalls for 30 s
  /norange/...  200 with the whole body, ignoring Range
  /slow/...     first request: honours Range but sends 64 KiB every 50 ms (about 2.5 s for the
                body), so a client can be interrupted mid-transfer; later requests like /ok
  /redirect/X   302 to /ok/X
  /stats        JSON: per path, the requests' Range headers and the body bytes sent
"""
import hashlib
import http.server
import json
import sys
import threading
import time

BODY = bytes((i * 7 + i // 251) % 256 for i in range(3 * 1024 * 1024 + 123))
LOCK = threading.Lock()
STATS = {}  # path -> {"ranges": [...], "sent": N}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, sent=0):
        with LOCK:
            s = STATS.setdefault(self.path, {"ranges": [], "sent": 0})
            s["sent"] += sent
            return s

    def do_GET(self):
        kind = self.path.split("/")[1]
        if kind == "stats":
            with LOCK:
                data = json.dumps(STATS).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        with LOCK:
            s = STATS.setdefault(self.path, {"ranges": [], "sent": 0})
            s["ranges"].append(self.headers.get("Range"))
            n = len(s["ranges"])
        if kind == "missing" or (kind == "flaky" and n == 1):
            code = 404 if kind == "missing" else 500
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", "/ok/" + self.path.split("/", 2)[2])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and kind != "norange":
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(BODY):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(BODY))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(BODY) - 1,
                                                                 len(BODY)))
        else:
            self.send_response(200)
        body = BODY[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "cut" and n == 1:
            half = body[:len(body) // 2]
            self.wfile.write(half)
            self.wfile.flush()
            self.record(len(half))
            self.close_connection = True
            return
        if kind == "slow" and n == 1:
            try:
                for i in range(0, len(body), 65536):
                    self.wfile.write(body[i:i + 65536])
                    self.wfile.flush()
                    self.record(len(body[i:i + 65536]))
                    time.sleep(0.05)
            except OSError:  # the client went away mid-transfer
                self.close_connection = True
            return
        if kind == "stall":
            self.wfile.write(body[:1000])
            self.wfile.flush()
            self.record(1000)
            time.sleep(30)
            return
        self.wfile.write(body)
        self.record(len(body))


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], hashlib.sha256(BODY).hexdigest(), len(BODY), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
