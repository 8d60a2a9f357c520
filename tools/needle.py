#!/usr/bin/env python3
"""Needle in a haystack at long context, with peak memory: a fact placed early in a prompt of
about --tokens tokens is asked for at the end. Starts each server itself on a free port (one
slot, --threads), sends the one chat request (greedy), and reports prompt tokens, time to the
answer, whether the answer holds the fact, and the server's peak resident memory (VmHWM).

  python3 tools/needle.py --model .cache/models/qwen2.5-coder-0.5b-instruct.gguf --tokens 30000
  python3 tools/needle.py ... --llama-server .cache/peer/build-0.3.36/bin/llama-server
"""
import argparse
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

SUBJECTS = ["The river", "A merchant", "The old mill", "Our neighbour", "The library", "A farmer",
            "The mountain road", "The harbour master", "A young painter", "The village choir"]
VERBS = ["described", "repaired", "counted", "painted", "visited", "measured", "remembered",
         "carried", "studied", "announced"]
OBJECTS = ["the autumn fair", "forty baskets of apples", "the broken bridge", "a quiet garden",
           "the winter market", "seven blue boats", "the northern lighthouse keeper's logbook",
           "a map of the valley", "the tallest oak", "three silver bells"]
NEEDLE = "Important: the access code for the lighthouse is 7319. "
QUESTION = "What is the access code for the lighthouse? Answer with the number only."


def haystack(words):
    out, i = [], 0
    while sum(len(s.split()) for s in out) < words:
        out.append("%s %s %s on day %d. " % (SUBJECTS[i % 10], VERBS[(i * 3) % 10],
                                             OBJECTS[(i * 7) % 10], i + 1))
        i += 1
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit("server exited with %d" % proc.returncode)
        try:
            urllib.request.urlopen(url + "/v1/models", timeout=5).read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("server did not start")


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def ask(url, model, prompt):
    body = {"model": model, "temperature": 0, "max_tokens": 16,
            "messages": [{"role": "user", "content": prompt}]}
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.time()
    with urllib.request.urlopen(req, timeout=7200) as r:
        res = json.load(r)
    return res, time.time() - t0


def run(name, cmd, env, url, model, prompt):
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(url, proc)
        res, secs = ask(url, model, prompt)
        answer = res["choices"][0]["message"]["content"]
        return {"server": name, "prompt_tokens": res["usage"]["prompt_tokens"],
                "seconds": secs, "found": "7319" in answer, "answer": answer.strip(),
                "peak_rss_mib": peak_rss_mib(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", type=int, default=30000, help="about this many prompt tokens")
    ap.add_argument("--depth", type=float, default=0.05, help="where the fact goes (0-1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--foundry", default="build/bin/foundry")
    ap.add_argument("--llama-server", help="also run this llama-server binary")
    ap.add_argument("--ctx", type=int, default=32768)
    a = ap.parse_args()
    model = os.path.abspath(a.model)
    sentences = haystack(int(a.tokens / 1.45))  # ~1.45 tokens per word in this filler
    at = int(len(sentences) * a.depth)
    prompt = "".join(sentences[:at]) + NEEDLE + "".join(sentences[at:]) + "\n\n" + QUESTION
    rows = []
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_")}
        env.update(HOME=home, FOUNDRY_HOME=home, FOUNDRY_CACHE_DIR=os.path.join(home, "cache"))
        port = free_port()
        url = "http://127.0.0.1:%d" % port
        rows.append(run("foundry", [a.foundry, "service", "run", "--port", str(port), "--slots",
                                    "1", "--threads", str(a.threads)], env, url, model, prompt))
    if a.llama_server:
        port = free_port()
        url = "http://127.0.0.1:%d" % port
        rows.append(run("llama.cpp", [a.llama_server, "-m", model, "--port", str(port), "-t",
                                      str(a.threads), "-c", str(a.ctx), "--parallel", "1"],
                        dict(os.environ), url, model, prompt))
    print("| server | prompt tokens | time to answer | fact found | answer | peak RSS |")
    print("| --- | ---: | ---: | --- | --- | ---: |")
    for r in rows:
        print("| %s | %d | %.1f s | %s | %s | %.0f MiB |" % (
            r["server"], r["prompt_tokens"], r["seconds"], "yes" if r["found"] else "no",
            r["answer"].replace("|", "/")[:40], r["peak_rss_mib"]))


if __name__ == "__main__":
    main()
