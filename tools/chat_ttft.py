#!/usr/bin/env python3
"""Time to first token of every turn of one multi-turn chat against a running service.

Each turn adds a user message of about --words words to the conversation and streams the
answer (greedy, --max-tokens); the client resends the whole conversation every turn, as chat
clients do. Prints one line per turn: prompt tokens, cached tokens (when the server reports
usage.prompt_tokens_details.cached_tokens) and TTFT in seconds.

  python3 tools/chat_ttft.py --url http://127.0.0.1:PORT --model /abs/path/model.gguf
"""
import argparse
import json
import time
import urllib.request

WORDS = ("the quick brown fox jumps over a lazy dog while seven clever engineers write fast "
         "code for small local language models on busy shared machines every single day").split()


def user_message(turn, words):
    body = " ".join(WORDS[(turn * 7 + i) % len(WORDS)] for i in range(words))
    return f"Turn {turn + 1}. Summarize this in one sentence: {body}"


def stream_turn(url, model, messages, max_tokens):
    body = json.dumps({"model": model, "messages": messages, "max_tokens": max_tokens,
                       "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}}).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    start = time.monotonic()
    ttft, text, usage = None, "", None
    with urllib.request.urlopen(req, timeout=3600) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                usage = chunk["usage"]
            for c in chunk.get("choices", []):
                piece = c.get("delta", {}).get("content")
                if piece:
                    if ttft is None:
                        ttft = time.monotonic() - start
                    text += piece
    return ttft, text, usage


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--words", type=int, default=70, help="words per user message (~100 tokens)")
    ap.add_argument("--max-tokens", type=int, default=32)
    a = ap.parse_args()
    messages = [{"role": "system", "content": "You are a concise assistant."}]
    for turn in range(a.turns):
        messages.append({"role": "user", "content": user_message(turn, a.words)})
        ttft, text, usage = stream_turn(a.url, a.model, messages, a.max_tokens)
        messages.append({"role": "assistant", "content": text})
        details = (usage or {}).get("prompt_tokens_details") or {}
        print(f"turn {turn + 1}: prompt_tokens {(usage or {}).get('prompt_tokens')} "
              f"cached {details.get('cached_tokens')} ttft {ttft:.3f} s", flush=True)


if __name__ == "__main__":
    main()
