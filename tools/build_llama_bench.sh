#!/usr/bin/env bash
# Builds llama.cpp's llama-bench, llama-quantize and llama-server (the peers we benchmark against) from the
# source distribution of the pinned llama-cpp-python, with native CPU flags, into
# .cache/peer/ (git-ignored). Never linked into foundry. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION="$(sed -n 's/^llama-cpp-python==//p' tools/requirements-tools.txt)"
PEER=.cache/peer
SRC="$PEER/llama_cpp_python-$VERSION"
BUILD="$PEER/build-$VERSION"
if [[ -x "$BUILD/bin/llama-bench" && -x "$BUILD/bin/llama-quantize" &&
      -x "$BUILD/bin/llama-server" ]]; then
  echo "$BUILD/bin"
  exit 0
fi
mkdir -p "$PEER"
if [[ ! -d "$SRC" ]]; then
  python3 -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$PEER" >&2
  tar -xzf "$PEER/llama_cpp_python-$VERSION.tar.gz" -C "$PEER"
fi
cmake -S "$SRC/vendor/llama.cpp" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$BUILD" -j "$(nproc)" --target llama-bench llama-quantize llama-server >&2
echo "$BUILD/bin"
