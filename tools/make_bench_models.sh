#!/usr/bin/env bash
# Models for the side-by-side benchmark (tools/bench_side_by_side.py) that no package ships:
# SmolLM2-135M Q8_0, requantized from the Q4_1 file with llama.cpp's llama-quantize (built by
# tools/build_llama_bench.sh). Written to .cache/models/ (git-ignored). Idempotent.
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
