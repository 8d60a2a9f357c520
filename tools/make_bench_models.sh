#!/usr/bin/env bash
# Models for the side-by-side benchmark (tools/bench_side_by_side.py) that no package ships:
# SmolLM2-135M Q8_0, requantized from the Q4_1 file with llama.cpp's llama-quantize (built by
# tools/build_llama_bench.sh), and a Qwen2.5-7B-shaped Q4_K_M model with random weights
# (tools/make_synthetic_model.py --shape qwen2.5-7b, 4.7 GB). Written to .cache/models/
# (git-ignored). Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="$(bash tools/build_llama_bench.sh)"
SRC=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
DST=.cache/models/SmolLM2-135M-Instruct.Q8_0.gguf
if [[ ! -f "$SRC" ]]; then
  echo "missing $SRC: run 'make models' first" >&2
  exit 1
fi
if [[ ! -f "$DST" ]]; then
  "$BIN/llama-quantize" --allow-requantize "$SRC" "$DST.tmp" Q8_0 >&2
  mv "$DST.tmp" "$DST"
fi
echo "$DST"
BIG=.cache/models/qwen2.5-7b-shaped-q4_k_m.gguf
if [[ ! -f "$BIG" ]]; then
  python3 tools/make_synthetic_model.py --shape qwen2.5-7b --out "$BIG" >&2
fi
echo "$BIG"
