#!/usr/bin/env python3
"""Goldens for `foundry model compile --quant` from llama.cpp's llama-quantize (the pinned peer,
tools/build_llama_bench.sh): the tiny Qwen2 Hugging Face folder of tests/e2e/test_model_compile.py
(tools/make_hf_folder.py tests/data/models/tiny-qwen2.gguf --dtype bf16 --shards 2) compiled to
f32 by foundry (that step is checked on its own: its tensors are the folder's bf16 values,
test_f32_qwen2_compile_is_the_folder_bf16_values), then quantized by llama-quantize to each
type; per type, each tensor's GGML type name and the sha256 of its bytes go to
tests/golden/data/compile_quant_tiny_qwen2.json.

    bash tools/build_llama_bench.sh && make
    python3 tools/gen_compile_quant_goldens.py
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import gguf
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOUNDRY = os.path.join(ROOT, "build", "bin", "foundry")
QUANTIZE = os.path.join(ROOT, ".cache", "peer", "build-0.3.36", "bin", "llama-quantize")
QUANTS = ["q4_0", "q4_1", "q5_0", "q8_0", "q6_k", "q4_k_m"]
OUT = os.path.join(ROOT, "tests", "golden", "data", "compile_quant_tiny_qwen2.json")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "tiny-qwen2")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_hf_folder.py"),
                        os.path.join(ROOT, "tests", "data", "models", "tiny-qwen2.gguf"), folder,
                        "--dtype", "bf16", "--shards", "2"], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_")}
        env.update(HOME=tmp, FOUNDRY_HOME=tmp, FOUNDRY_CACHE_DIR=os.path.join(tmp, "cache"))
        subprocess.run([FOUNDRY, "model", "compile", folder, "--name", "qwen-f32", "--quant",
                        "f32"], check=True, env=env, stdin=subprocess.DEVNULL)
        f32 = os.path.join(tmp, "cache", "qwen-f32", "qwen-f32.gguf")
        golden = {"source": "tools/make_hf_folder.py tests/data/models/tiny-qwen2.gguf "
                            "--dtype bf16 --shards 2; foundry model compile --quant f32; "
                            "llama-quantize (llama.cpp 0.3.36)", "quants": {}}
        for q in QUANTS:
            out = os.path.join(tmp, q + ".gguf")
            subprocess.run([QUANTIZE, f32, out, q.upper()], check=True, capture_output=True)
            golden["quants"][q] = {
                t.name: [t.tensor_type.name, hashlib.sha256(np.array(t.data).tobytes()).hexdigest()]
                for t in gguf.GGUFReader(out).tensors}
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
