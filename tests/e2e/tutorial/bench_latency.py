"""Measure request latency of a model served by Foundry Local.

Usage: python bench_latency.py [runs]     (runs defaults to 10)
"""
import statistics
import sys
import time

import requests

URL = "http://localhost:8000/v1/completions"
MODEL = "phi-4-mini"
PROMPT = "Explain what a large language model is in one sentence."
MAX_TOKENS = 32


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    latencies = []
    for i in range(runs):
        start = time.perf_counter()
        response = requests.post(URL, json={
            "model": MODEL,
            "prompt": PROMPT,
            "max_tokens": MAX_TOKENS,
        }, timeout=300)
        response.raise_for_status()
        elapsed = time.perf_counter() - start
        latencies.append(elapsed)
        print(f"Run {i + 1}: {elapsed * 1000:.1f} ms, "
              f"{response.json()['usage']['completion_tokens']} tokens")

    print(f"Mean latency: {statistics.mean(latencies) * 1000:.1f} ms")
    print(f"p50 latency: {statistics.median(latencies) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
