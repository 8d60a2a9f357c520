#!/usr/bin/env python3
"""A mixed soak of the service: for --minutes, --clients threads send chat requests of varying
prompt length (a shared system prompt or none, 5 to ~1500 words), streamed or not, some
cancelled mid-stream by closing the connection, with random max_tokens; more clients than
slots and a short queue make some requests meet a full queue (503 server_busy, deliberate).
Starts its own service (isolated home, free port) and samples its resident memory.

Reports requests by outcome; every outcome other than ok, cancelled-on-purpose and a
deliberate 503 is a failure (the exit status is 1). RSS: first sample after --warmup
seconds, last, min and max, so growth after warm-up shows.

  python3 tools/soak.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --minutes 20
"""
import argparse
import collections
import json
import os
import random
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

WORDS = ("river merchant mill neighbour library farmer mountain harbour painter choir autumn "
         "market bridge garden lighthouse valley oak bells apples boats map logbook").split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def one_request(url, model, rng, system):
    n = rng.choice([5, 20, 80, 300, 1000])
    messages = [{"role": "user", "content": "Summarize: " + words(rng, n)}]
    if rng.random() < 0.5:
        messages.insert(0, {"role": "system", "content": system})
    stream = rng.random() < 0.6
    cancel_after = rng.choice([1, 3, 8]) if stream and rng.random() < 0.25 else None
    body = {"model": model, "messages": messages, "max_tokens": rng.choice([1, 16, 64, 128]),
            "temperature": rng.choice([0, 0.8]), "stream": stream}
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            if not stream:
                res = json.load(r)
                return "ok" if res["choices"][0]["finish_reason"] in ("stop", "length") \
                    else "bad finish: %s" % res["choices"][0]["finish_reason"]
            chunks = 0
            for raw in r:
                line = raw.decode().strip()
                if line == "data: [DONE]":
                    return "ok"
                if line.startswith("data:"):
                    ev = json.loads(line[5:])
                    if "error" in ev:
                        return "stream error: %s" % ev["error"].get("message")
                    chunks += 1
                    if cancel_after and chunks >= cancel_after:
                        return "cancelled"  # closing the connection cancels the request
            return "stream ended without [DONE]"
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        if e.code == 503 and "server_busy" in text:
            return "503 busy"
        return "HTTP %d: %s" % (e.code, text[:120])
    except Exception as e:  # a dropped connection or a timeout is a failure
        return "exception: %r" % e


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--queue", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=float, default=120, help="seconds before RSS counts")
    ap.add_argument("--foundry", default="build/bin/foundry")
    ap.add_argument("--csv", help="write the RSS samples here")
    a = ap.parse_args()
    model = os.path.abspath(a.model)
    system = "You are a helpful assistant for a small town. " + words(random.Random(7), 400)
    outcomes = collections.Counter()
    failures = []
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_")}
        env.update(HOME=home, FOUNDRY_HOME=home, FOUNDRY_CACHE_DIR=os.path.join(home, "cache"))
        port = free_port()
        url = "http://127.0.0.1:%d" % port
        proc = subprocess.Popen([a.foundry, "service", "run", "--port", str(port), "--slots",
                                 str(a.slots), "--queue", str(a.queue), "--threads",
                                 str(a.threads)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(url + "/v1/models", timeout=5).read()
                    break
                except OSError:
                    time.sleep(0.5)
            start = time.time()
            end = start + 60 * a.minutes

            def client(i):
                rng = random.Random(1000 + i)
                while time.time() < end:
                    outcome = one_request(url, model, rng, system)
                    with lock:
                        key = outcome if outcome in ("ok", "cancelled", "503 busy") else "failed"
                        outcomes[key] += 1
                        if key == "failed":
                            failures.append(outcome)
                    if outcome == "503 busy":
                        time.sleep(1)  # Retry-After

            threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
            for t in threads:
                t.start()
            samples = []
            while any(t.is_alive() for t in threads):
                if proc.poll() is not None:
                    failures.append("the service exited with %d" % proc.returncode)
                    break
                samples.append((time.time() - start, rss_mib(proc.pid)))
                time.sleep(10)
            for t in threads:
                t.join()
            alive = proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    after = [m for s, m in samples if s >= a.warmup]
    print("requests: %s" % dict(outcomes))
    print("service alive at the end: %s" % alive)
    if after:
        print("RSS after %.0f s warm-up: first %.0f MiB, last %.0f MiB, min %.0f, max %.0f "
              "(%d samples)" % (a.warmup, after[0], after[-1], min(after), max(after),
                                len(after)))
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("seconds,rss_mib\n")
            for s, m in samples:
                f.write("%.0f,%.1f\n" % (s, m))
    for f in failures[:20]:
        print("FAILED:", f)
    raise SystemExit(1 if failures or not alive else 0)


if __name__ == "__main__":
    main()
