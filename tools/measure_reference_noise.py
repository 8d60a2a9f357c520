#!/usr/bin/env python3
"""How much llama.cpp disagrees with itself: logits of each golden prompt evaluated in one
batch (as the goldens were made) versus one token at a time with one thread.

This is the floor for any tolerance our golden tests use: two equally valid evaluation
orders of the reference differ by this much. Usage: measure_reference_noise.py GOLDEN.json
"""
import json
import os
import sys

import numpy as np
from llama_cpp import Llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def model_path(name):
    for d in ("tests/data/models", ".cache/models"):
        p = os.path.join(ROOT, d, name)
        if os.path.exists(p):
            return p
    raise SystemExit(f"model {name} not found")


def main():
    g = json.load(open(sys.argv[1]))
    llm = Llama(model_path(g["model"]), n_ctx=512, n_batch=1, n_ubatch=1, n_threads=1,
                logits_all=True, verbose=False, flash_attn=False)
    worst = 0.0
    flips = 0
    for p in g["prompts"]:
        ids = p["ids"]
        llm.reset()
        llm.eval(ids)
        seq = np.array(llm.scores[: len(ids)])
        tid = np.array([[x[0] for x in t] for t in p["top_logits"]])
        ref = np.array([[x[1] for x in t] for t in p["top_logits"]])
        d = np.abs(np.take_along_axis(seq, tid, 1) - ref)
        worst = max(worst, float(d.max()))
        flips += int((seq.argmax(axis=1) != tid[:, 0]).sum())
        print(f"{len(ids):4d} tokens: max |batch - sequential| = {d.max():.4f}")
    print(f"overall max {worst:.4f}; top-1 flips {flips}")


if __name__ == "__main__":
    main()
