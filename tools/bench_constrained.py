#!/usr/bin/env python3
"""Constrained decoding cost: `foundry generate` tokens/s with and without a JSON schema on the
same model and prompt, runs alternating, medians compared; and the share of the constrained
generation time spent in the grammar, which `foundry generate --verbose` reports and which
does not depend on how loaded the machine is (docs/performance.md).

    tools/bench_constrained.py MODEL.gguf [--runs 5] [--threads 2] [--tokens 96]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string", "maxLength": 40},
    "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "city": {"type": "string", "maxLength": 40},
    "hobbies": {"type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": 4},
    "employed": {"type": "boolean"}},
    "required": ["name", "age", "city", "hobbies", "employed"], "additionalProperties": False}
PROMPT = ("Describe a fictional person as a JSON object with the keys name, age, city, "
          "hobbies (a list) and employed (a boolean). Reply with the JSON only.")


def run(binary, model, threads, tokens, schema_path, temperature):
    cmd = [binary, "generate", model, "-p", PROMPT, "--temperature", temperature, "--seed", "1", "-n", str(tokens),
           "-t", str(threads), "--verbose", "--json"]
    if schema_path:
        cmd += ["--json-schema", schema_path]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = re.search(r"generation:\s+(\d+) tokens, ([\d.]+) tokens/s", r.stderr)
    g = re.search(r"grammar:\s+([\d.]+) s, (\d+) full masks", r.stderr)
    gen_s = int(m.group(1)) / float(m.group(2))
    share = float(g.group(1)) / gen_s if g else 0.0
    masks = int(g.group(2)) if g else 0
    return int(m.group(1)), float(m.group(2)), json.loads(r.stdout)["text"], share, masks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "bin", "foundry"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--temperature", default="0")
    a = ap.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(SCHEMA, f)
    free, constrained, shares, masks = [], [], [], []
    try:
        for i in range(a.runs):
            for schema, out in ((None, free), (f.name, constrained)):
                n, tps, text, share, m = run(a.binary, a.model, a.threads, a.tokens, schema, a.temperature)
                out.append(tps)
                if schema:
                    shares.append(share)
                    masks.append(m)
                if i == 0:
                    print("%s: %d tokens: %r" % ("schema" if schema else "free", n, text[:200]))
    finally:
        os.unlink(f.name)
    mf, mc = statistics.median(free), statistics.median(constrained)
    print("unconstrained tokens/s: %s median %.2f" % (free, mf))
    print("constrained   tokens/s: %s median %.2f" % (constrained, mc))
    print("constrained / unconstrained: %.3f" % (mc / mf))
    print("time in the grammar (share of constrained generation time): %s median %.4f; "
          "full masks per run: %s" % (["%.4f" % x for x in shares], statistics.median(shares), masks))


if __name__ == "__main__":
    main()
