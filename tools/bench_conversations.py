#!/usr/bin/env python3
"""Conversations under load, against one or more running OpenAI-compatible servers in turn
(foundry's service beside llama-server, same model file, same workload).

N clients start together; each runs a multi-turn chat that begins with the same long system
prompt (a shared prefix: tool definitions, a persona, few-shot examples) and adds a user
message of about --words words per turn, resending the whole conversation each turn as chat
clients do, streaming greedy answers of --max-tokens tokens. Reported per server: time to first
token (all requests, turn 1, last turn), inter-token latency, aggregate completion tokens/s
over the wall time, and the prompt cache's hit rate (cached prompt tokens over prompt tokens,
from usage.prompt_tokens_details.cached_tokens or llama-server's timings.cache_n).

  foundry service run --port 8101 --threads 2 &
  llama-server -m MODEL.gguf --port 8102 -t 2 --parallel 4 -c 32768 --cache-reuse 256 &
  python3 tools/bench_conversations.py \\
      --server foundry=http://127.0.0.1:8101,/abs/MODEL.gguf \\
      --server llama.cpp=http://127.0.0.1:8102,any --clients 4 --turns 3 --rounds 2

--ban TOKEN_ID (repeatable) sets logit_bias -100 on end tokens so that every answer has
--max-tokens tokens on both servers (Qwen2.5: --ban 151645 --ban 151643).
"""
import argparse
import json
import random
import statistics
import threading
import time
import urllib.request

WORDS = ("the quick brown fox jumps over a lazy dog while seven clever engineers write fast "
         "code for small local language models on busy shared machines every single day near "
         "old harbours green valleys quiet libraries and crowded markets after long rainy "
         "winters").split()


def text(seed, n):
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n))


def percentile(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def stream(url, model, messages, max_tokens, ban):
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0,
            "stream": True, "stream_options": {"include_usage": True}}
    if ban:
        body["logit_bias"] = {str(t): -100 for t in ban}
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.time()
    arrivals, answer, usage, timings = [], [], None, None
    with urllib.request.urlopen(req, timeout=1800) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            ev = json.loads(line[5:])
            usage = ev.get("usage") or usage
            timings = ev.get("timings") or timings
            for ch in ev.get("choices") or []:
                piece = (ch.get("delta") or {}).get("content")
                if piece:
                    arrivals.append(time.time())
                    answer.append(piece)
    prompt = (usage or {}).get("prompt_tokens", 0)
    cached = ((usage or {}).get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is None and timings:
        cached = timings.get("cache_n", 0)
    return {"ttft": arrivals[0] - t0 if arrivals else float("nan"),
            "itl": [b - a for a, b in zip(arrivals, arrivals[1:])],
            "tokens": (usage or {}).get("completion_tokens", len(arrivals)),
            "prompt": prompt, "cached": cached or 0, "answer": "".join(answer)}


def run_level(url, model, a, round_no):
    system = ("You are a careful assistant. Reference notes follow. " +
              text(a.seed * 1000 + round_no, a.system_words))
    results = [[] for _ in range(a.clients)]
    errors = []
    start = threading.Barrier(a.clients)

    def client(c):
        messages = [{"role": "system", "content": system}]
        try:
            start.wait()
            for t in range(a.turns):
                messages.append({"role": "user", "content": "Client %d, turn %d: summarize %s"
                                 % (c, t + 1, text(c * 31 + t + round_no * 101, a.words))})
                r = stream(url, model, messages, a.max_tokens, a.ban)
                results[c].append(r)
                messages.append({"role": "assistant", "content": r["answer"]})
        except Exception as e:  # a failed request fails the measurement
            errors.append("client %d: %r" % (c, e))

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(a.clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.time() - t0
    if errors:
        raise SystemExit("; ".join(errors))
    return results, wall


def summarize(name, levels):
    flat = [r for results, _ in levels for rs in results for r in rs]
    first = [rs[0]["ttft"] for results, _ in levels for rs in results]
    last = [rs[-1]["ttft"] for results, _ in levels for rs in results]
    itl = [x for r in flat for x in r["itl"]]
    tokens = sum(r["tokens"] for r in flat)
    wall = sum(w for _, w in levels)
    prompt = sum(r["prompt"] for r in flat)
    cached = sum(r["cached"] for r in flat)
    return {"server": name, "requests": len(flat), "tokens_per_s": tokens / wall,
            "ttft_p50": percentile([r["ttft"] for r in flat], 50),
            "ttft_p95": percentile([r["ttft"] for r in flat], 95),
            "ttft_turn1_p50": statistics.median(first), "ttft_last_p50": statistics.median(last),
            "itl_p50": percentile(itl, 50), "itl_p95": percentile(itl, 95),
            "prompt_tokens": prompt, "cache_hit": cached / prompt if prompt else 0.0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", action="append", required=True,
                    help="NAME=URL,MODEL (repeat for each server)")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2,
                    help="rounds per server, alternating servers; each round a new system prompt")
    ap.add_argument("--system-words", type=int, default=1100, help="~1500 tokens")
    ap.add_argument("--words", type=int, default=75, help="per user turn, ~100 tokens")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--ban", type=int, action="append", default=[])
    ap.add_argument("--seed", type=int, default=0,
                    help="varies the system prompts (a server may still cache earlier ones)")
    ap.add_argument("--verbose", action="store_true", help="print every request's TTFT")
    ap.add_argument("--json", help="write the rows here too")
    a = ap.parse_args()
    servers = []
    for s in a.server:
        name, rest = s.split("=", 1)
        url, model = rest.rsplit(",", 1)
        servers.append((name, url.rstrip("/"), model))
    for name, url, model in servers:  # load the model before timing anything
        stream(url, model, [{"role": "user", "content": "Hello"}], 4, a.ban)
    levels = {name: [] for name, _, _ in servers}
    for round_no in range(a.rounds):
        for name, url, model in servers:
            levels[name].append(run_level(url, model, a, round_no))
            if a.verbose:
                for c, rs in enumerate(levels[name][-1][0]):
                    print("  client %d: TTFT %s, cached %s" % (
                        c, " ".join("%.2f" % r["ttft"] for r in rs),
                        " ".join("%d/%d" % (r["cached"], r["prompt"]) for r in rs)))
            print("round %d %s done" % (round_no + 1, name), flush=True)
    rows = [summarize(name, levels[name]) for name, _, _ in servers]
    print("\n%d clients x %d turns, system prompt ~%d words, %d tokens per answer, %d rounds\n"
          % (a.clients, a.turns, a.system_words, a.max_tokens, a.rounds))
    print("| server | tokens/s | TTFT p50 | TTFT p95 | TTFT turn 1 | TTFT turn %d | ITL p50 | "
          "ITL p95 | cache hit |" % a.turns)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print("| %s | %.1f | %.3f s | %.3f s | %.3f s | %.3f s | %.1f ms | %.1f ms | %.0f%% |"
              % (r["server"], r["tokens_per_s"], r["ttft_p50"], r["ttft_p95"],
                 r["ttft_turn1_p50"], r["ttft_last_p50"], 1000 * r["itl_p50"],
                 1000 * r["itl_p95"], 100 * r["cache_hit"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
