#!/usr/bin/env python3
"""Aggregate generation throughput of a running foundry service at 1 and N concurrent clients
(continuous batching should make N clients faster in total than one).

  foundry service start
  python3 tools/bench_service.py --model /abs/path/model.gguf [--url http://127.0.0.1:8000]
"""
import argparse
import concurrent.futures
import time

import requests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--model", required=True)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2, help="requests per client")
    a = ap.parse_args()

    def one(i):
        r = requests.post(a.url + "/v1/completions", timeout=600, json={
            "model": a.model, "prompt": "Story number %d: Once upon a time" % i,
            "max_tokens": a.max_tokens, "temperature": 0})
        r.raise_for_status()
        return r.json()["usage"]["completion_tokens"]

    one(0)  # load the model
    rates = {}
    for n in (1, a.clients):
        t = time.time()
        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            tokens = sum(ex.map(one, range(n * a.rounds)))
        rates[n] = tokens / (time.time() - t)
        print("%d client(s): %d tokens, %.1f tokens/s" % (n, tokens, rates[n]))
    print("speed-up at %d clients: %.2fx" % (a.clients, rates[a.clients] / rates[1]))


if __name__ == "__main__":
    main()
