#!/usr/bin/env python3
"""Perplexity goldens from llama.cpp's llama-perplexity, for tests/unit/eval_perplexity_golden_test.cc.

Runs the pinned llama.cpp's llama-perplexity (the committed file came from the native build of
tools/build_llama_bench.sh; an AVX2-only build, below, gives numbers as close; the test holds
foundry's final estimate to 0.5% of either) on each model over the committed text
tests/data/perplexity/gpl-3.0.txt and writes tests/golden/data/perplexity.json: per model the
context size, batch size, chunk count, the running estimate after each chunk and the final
estimate with its error, as llama-perplexity prints them.

Build the peer (git-ignored, never linked into foundry):
  S=.cache/peer/llama_cpp_python-0.3.36/vendor/llama.cpp   # tools/build_llama_bench.sh fetches it
  cmake -S $S -B .cache/peer/build-avx2 -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
    -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DBUILD_SHARED_LIBS=OFF
  cmake --build .cache/peer/build-avx2 --target llama-perplexity

Usage:
  python3 tools/gen_perplexity_goldens.py [--llama-perplexity .cache/peer/build-avx2/bin/llama-perplexity]

Deterministic: the same models, text and llama.cpp build give the same file.
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = "tests/data/perplexity/gpl-3.0.txt"
OUT = "tests/golden/data/perplexity.json"
# (model file under .cache/models, context, batch, chunks): small enough for CI, long enough that
# every chunk scores a few hundred tokens.
RUNS = [
    ("SmolLM2-135M-Instruct.Q4_1.gguf", 512, 512, 8),
    ("qwen2.5-coder-0.5b-instruct.gguf", 256, 256, 8),
]


def run(binary, model, ctx, batch, chunks):
    cmd = [binary, "-m", os.path.join(ROOT, ".cache/models", model), "-f", os.path.join(ROOT, TEXT),
           "-c", str(ctx), "-b", str(batch), "--chunks", str(chunks), "-t", "2"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    log = p.stdout + p.stderr
    if p.returncode != 0:
        sys.exit("%s failed:\n%s" % (" ".join(cmd), log[-3000:]))
    running = [float(v) for v in re.findall(r"\[\d+\](\d+\.\d+),", log)]
    final = re.search(r"Final estimate: PPL = (\d+\.\d+) \+/- (\d+\.\d+)", log)
    system = re.search(r"system_info: (.*)", log)
    if not final or len(running) != chunks:
        sys.exit("could not read llama-perplexity's estimate:\n" + log[-3000:])
    return {"model": model, "ctx": ctx, "batch": batch, "chunks": chunks, "running": running,
            "ppl": float(final.group(1)), "ppl_stderr": float(final.group(2)),
            "system_info": system.group(1).strip() if system else ""}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llama-perplexity",
                    default=os.path.join(ROOT, ".cache/peer/build-avx2/bin/llama-perplexity"))
    args = ap.parse_args()
    results = [run(args.llama_perplexity, *r) for r in RUNS]
    doc = {"generator": "tools/gen_perplexity_goldens.py", "reference": "llama.cpp 0.3.36 "
           "(llama-cpp-python sdist) llama-perplexity", "text": TEXT, "runs": results}
    with open(os.path.join(ROOT, OUT), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
