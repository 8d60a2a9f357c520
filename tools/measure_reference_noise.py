#!/usr/bin/env python3
"""How much llama.cpp disagrees with itself: logits of each golden prompt evaluated in one
batch (as the goldens were made) versus one token at a time with one thread.

This is the floor for any tolerance our golden tests use: two equally valid evaluation
orders of the reference differ by this much. Also reported: the same after removing each
position's mean difference over its top logits (logits matter only up to a constant per
position; golden_util.h's shift_invariant), and the reference margins at which top-1 flips.
Usage: measure_reference_noise.py GOLDEN.json
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
    worst_centered, sum_centered, n_centered = 0.0, 0.0, 0
    flip_margins = []
    for p in g["prompts"]:
        ids = p["ids"]
        llm.reset()
        llm.eval(ids)
        seq = np.array(llm.scores[: len(ids)])
        tid = np.array([[x[0] for x in t] for t in p["top_logits"]])
        ref = np.array([[x[1] for x in t] for t in p["top_logits"]])
        diff = np.take_along_axis(seq, tid, 1) - ref
        d = np.abs(diff)
        c = np.abs(diff - diff.mean(axis=1, keepdims=True))
        worst = max(worst, float(d.max()))
        worst_centered = max(worst_centered, float(c.max()))
        sum_centered += float(c.sum())
        n_centered += c.size
        flipped = seq.argmax(axis=1) != tid[:, 0]
        flip_margins += [round(float(ref[i, 0] - ref[i, 1]), 3) for i in np.nonzero(flipped)[0]]
        print(f"{len(ids):4d} tokens: max |batch - sequential| = {d.max():.4f}, "
              f"less the mean shift {c.max():.4f}")
    print(f"overall max {worst:.4f}; less each position's mean shift: max {worst_centered:.4f}, "
          f"mean {sum_centered / max(1, n_centered):.4f}; top-1 flips {len(flip_margins)} "
          f"at reference margins {sorted(flip_margins)}")

if __name__ == "__main__":
    main()
