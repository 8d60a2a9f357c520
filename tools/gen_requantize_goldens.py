#!/usr/bin/env python3
"""Golden data for `foundry model compile MODEL.gguf --quant Q` (re-quantizing a GGUF): the
pinned llama-quantize (llama-cpp-python 0.3.36, .cache/peer/build-0.3.36) run with
--allow-requantize on the same file, and for every tensor of its output the name, type, shape
and sha256 of its bytes. foundry's output must be byte-identical, tensor by tensor.

Writes tests/golden/data/requantize_smollm2.json (source: SmolLM2-135M-Instruct.Q4_1.gguf,
what `make models` fetches).

  python3 tools/gen_requantize_goldens.py
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUANTIZE = os.path.join(ROOT, ".cache", "peer", "build-0.3.36", "bin", "llama-quantize")
SOURCE = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
QUANTS = ["q8_0", "q4_0", "q5_0", "q6_k", "q4_k_m", "q5_k_m"]
OUT = os.path.join(ROOT, "tests", "golden", "data", "requantize_smollm2.json")


def tensor_table(path):
    sys.path.insert(0, os.path.join(ROOT, ".cache", "peer", "llama_cpp_python-0.3.36", "vendor",
                                    "llama.cpp", "gguf-py"))
    import gguf

    return [{"name": t.name, "type": t.tensor_type.name, "shape": [int(x) for x in t.shape],
             "sha256": hashlib.sha256(t.data.tobytes()).hexdigest()}
            for t in gguf.GGUFReader(path).tensors]


def main():
    golden = {"generator": "tools/gen_requantize_goldens.py (llama-quantize --allow-requantize, "
                           "llama-cpp-python 0.3.36)",
              "source": os.path.basename(SOURCE),
              "source_sha256": hashlib.sha256(open(SOURCE, "rb").read()).hexdigest(),
              "tensors": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for q in QUANTS:
            out = os.path.join(tmp, q + ".gguf")
            subprocess.run([QUANTIZE, "--allow-requantize", SOURCE, out, q.upper()], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            golden["tensors"][q] = tensor_table(out)
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
