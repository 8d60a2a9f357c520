#!/usr/bin/env python3
"""Writes the per-tensor types llama.cpp picks for a model (name, ne, type) plus the
hyper-parameters llama-quantize's rules read, as JSON: the fixtures of
tests/unit/convert_quant_plan_test.cc, which checks that `foundry model compile --quant Q`
gives every tensor the type llama.cpp gives it.

    # llama-quantize's choice (the pinned peer build; --dry-run writes nothing):
    python3 tools/dump_tensor_types.py MODEL.gguf q4_k_m --llama-quantize BIN > tests/data/convert/X.json
    # the types already in a file (e.g. one convert_hf_to_gguf.py wrote with --outtype q8_0):
    python3 tools/dump_tensor_types.py MODEL.gguf q8_0 > tests/data/convert/X.json
"""
import argparse
import json
import os
import re
import subprocess
import sys

import gguf

# "[  3/291] token_embd.weight - [ 896, 151936, 1, 1], type = q8_0, size = 137.9 MiB -> 89.3 MiB (q5_0)"
# (no "-> ... (type)" when the tensor keeps its type)
LINE = re.compile(r"^\[\s*\d+/\s*\d+\]\s+(\S+)\s+- \[([\d,\s]+)\], type =\s+(\S+),.*?(?:\((\w+)\))?$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("quant")
    ap.add_argument("--llama-quantize")
    a = ap.parse_args()
    r = gguf.GGUFReader(a.model)
    arch = r.fields["general.architecture"].contents()
    out = {
        "source": os.path.basename(a.model),
        "quant": a.quant,
        "arch": arch,
        "n_layer": r.fields[arch + ".block_count"].contents(),
        "n_head": r.fields[arch + ".attention.head_count"].contents(),
        "n_head_kv": r.fields[arch + ".attention.head_count_kv"].contents(),
    }
    if a.llama_quantize:
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(a.llama_quantize))
        p = subprocess.run([a.llama_quantize, "--dry-run", "--allow-requantize", a.model,
                            a.quant.upper()], capture_output=True, text=True, env=env, check=True)
        tensors = []
        for line in (p.stdout + p.stderr).splitlines():
            m = LINE.match(line)
            if m:
                ne = [int(x) for x in m.group(2).split(",")]
                while len(ne) > 1 and ne[-1] == 1:
                    ne.pop()
                tensors.append({"name": m.group(1), "ne": ne,
                                "type": (m.group(4) or m.group(3)).upper()})
        out["by"] = "llama-quantize --dry-run (llama.cpp " + (
            re.search(r"commit (\w+)", p.stdout + p.stderr) or re.search("(.*)", "?")).group(1) + ")"
    else:
        tensors = [{"name": t.name, "ne": [int(d) for d in t.shape], "type": t.tensor_type.name}
                   for t in r.tensors]
        out["by"] = "the file's own types"
    out["tensors"] = tensors
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
