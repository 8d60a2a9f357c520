#!/usr/bin/env python3
"""Generates llama.cpp's token log-probabilities for the golden prompts.

For each model it evaluates tools/golden_corpus.py's prompts as tools/gen_goldens.py does (same
tokenization, one batch, same context) and writes, for every prompt position, the top-5 tokens
with their log-probabilities: llama-cpp-python's own Llama.logits_to_logprobs over llama.cpp's
logits (the log-softmax it reports as `logprobs` in its OpenAI-style completions), rounded to 6
decimals. tests/unit/engine_token_logprobs_test.cc holds ours to them (1e-4).

Requirements: llama-cpp-python 0.3.36 built for AVX2 only (docs/development.md).

Usage:
  python3 tools/gen_logprob_goldens.py [--out tests/golden/data/logprobs.json] [MODEL.gguf ...]

Deterministic: same models + same llama-cpp-python build -> byte-identical JSON.
"""

import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import gen_goldens  # noqa: E402
import golden_corpus  # noqa: E402

DEFAULT_MODELS = [
    ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf",
    ".cache/models/gemma-3-270m-Q4_K_M.gguf",
]
TOP = 5
DECIMALS = 6


def model_logprobs(path):
    from llama_cpp import Llama
    import llama_cpp

    if llama_cpp.__version__ != gen_goldens.REFERENCE_VERSION:
        sys.exit(f"gen_logprob_goldens: need llama-cpp-python=={gen_goldens.REFERENCE_VERSION}, "
                 f"found {llama_cpp.__version__}")
    n_ctx = gen_goldens.N_CTX
    llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=2, n_batch=n_ctx, logits_all=True,
                seed=0, verbose=False)
    add_bos = gen_goldens.model_add_bos(llm)
    prompts = []
    for text in golden_corpus.PROMPTS:
        ids = [int(t) for t in llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=False)]
        logits = gen_goldens.eval_all_logits(llm, ids)
        logprobs = Llama.logits_to_logprobs(logits, axis=-1)
        positions = []
        for row, lp in zip(logits, logprobs):
            # Ranked by logit, ties to the lower id (as gen_goldens ranks them).
            order = np.lexsort((np.arange(row.shape[0]), -row.astype(np.float64)))[:TOP]
            positions.append([[int(i), round(float(lp[i]), DECIMALS)] for i in order])
        prompts.append({"text": text, "ids": ids, "top_logprobs": positions})
    entry = {
        "model": os.path.basename(path),
        "model_sha256": gen_goldens.sha256_of(path),
        "context": {"n_ctx": n_ctx, "n_batch": n_ctx, "n_threads": 2},
        "add_bos": add_bos,
        "prompts": prompts,
    }
    del llm
    return entry, llama_cpp.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", default=DEFAULT_MODELS)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/golden/data/logprobs.json"))
    args = ap.parse_args()
    models, version = [], None
    for m in args.models:
        entry, version = model_logprobs(os.path.join(ROOT, m) if not os.path.isabs(m) else m)
        models.append(entry)
    data = {
        "generator": "tools/gen_logprob_goldens.py",
        "reference": f"llama-cpp-python {version} (llama.cpp {gen_goldens.LLAMA_CPP_COMMIT}), "
                     "Llama.logits_to_logprobs",
        "models": models,
    }
    with open(args.out, "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
