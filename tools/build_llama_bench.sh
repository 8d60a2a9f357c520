#!/usr/bin/env bash
# Builds llama.cpp's llama-bench, llama-quantize and llama-server (the peers we benchmark against) from the
# source distribution of the pinned llama-cpp-python, with native CPU flags, into
# .cache/peer/ (git-ignored). Never linked into foundry. Idempotent.
#   --avx2: llama-bench alone, built for AVX2 without AVX-512 (into build-VERSION-avx2), the peer
#           of `FOUNDRY_ISA=avx2` runs that stand in for an AVX2-only host.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION="$(sed -n 's/^llama-cpp-python==//p' tools/requirements-tools.txt)"
PEER=.cache/peer
SRC="$PEER/llama_cpp_python-$VERSION"
BUILD="$PEER/build-$VERSION"
ISA_FLAGS=(-DGGML_NATIVE=ON)
TARGETS=(llama-bench llama-quantize llama-server)
if [[ "${1:-}" == "--avx2" ]]; then
  BUILD="$BUILD-avx2"
  ISA_FLAGS=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
             -DGGML_BMI2=ON -DGGML_AVX512=OFF)
  TARGETS=(llama-bench)
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--avx2]" >&2
  exit 2
fi
built=1
for t in "${TARGETS[@]}"; do [[ -x "$BUILD/bin/$t" ]] || built=0; done
if [[ $built == 1 ]]; then
  echo "$BUILD/bin"
  exit 0
fi
mkdir -p "$PEER"
if [[ ! -d "$SRC" ]]; then
  python3 -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$PEER" >&2
  tar -xzf "$PEER/llama_cpp_python-$VERSION.tar.gz" -C "$PEER"
fi
cmake -S "$SRC/vendor/llama.cpp" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "${ISA_FLAGS[@]}" -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$BUILD" -j "$(nproc)" --target "${TARGETS[@]}" >&2
echo "$BUILD/bin"
