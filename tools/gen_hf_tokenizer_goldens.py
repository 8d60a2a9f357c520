#!/usr/bin/env python3
"""Golden vocabularies for the Hugging Face tokenizer reader (src/convert/hf_tokenizer.cc).

Runs llama.cpp's own converter (convert_hf_to_gguf.py --vocab-only, from the pinned
llama-cpp-python 0.3.36 source tree) on the reference folders written by
tools/make_hf_reference_folders.py and records what it wrote for tokenizer.ggml.* and
tokenizer.chat_template into tests/golden/data/hf_tokenizer.json: tokens and merges as counts,
sha256 of the list joined with "\\n", and samples; everything else verbatim.
tests/unit/convert_hf_tokenizer_test.cc must reproduce it exactly from the committed fixtures
(tests/data/hf/<model>/).

  .cache/peer/venv-hf/bin/python tools/gen_hf_tokenizer_goldens.py
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LLAMA_CPP = os.path.join(ROOT, ".cache", "peer", "llama_cpp_python-0.3.36", "vendor", "llama.cpp")
MODELS = ["SmolLM2-135M-Instruct", "qwen2.5-coder-0.5b-instruct"]
SAMPLE_IDS = [0, 1, 2, 100, 1000, 10000, 49151]


def sha256_lines(items):
    return hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()


def read_vocab(gguf_path):
    sys.path.insert(0, os.path.join(LLAMA_CPP, "gguf-py"))
    import gguf  # the converter's own copy, so the reader matches the writer

    reader = gguf.GGUFReader(gguf_path)
    out = {}
    for name, field in reader.fields.items():
        if not (name.startswith("tokenizer.") or name == "general.name"):
            continue
        out[name] = field.contents()
    return out


def summarize(kv):
    tokens = kv.pop("tokenizer.ggml.tokens")
    merges = kv.pop("tokenizer.ggml.merges", [])
    types = kv.pop("tokenizer.ggml.token_type", [])
    scores = kv.pop("tokenizer.ggml.scores", None)
    g = {
        "token_count": len(tokens),
        "tokens_sha256": sha256_lines(tokens),
        "token_samples": {str(i): tokens[i] for i in SAMPLE_IDS if i < len(tokens)},
        "merge_count": len(merges),
        "merges_sha256": sha256_lines(merges),
        "merge_samples": {str(i): merges[i] for i in [0, 1, 100, len(merges) - 1]
                          if 0 <= i < len(merges)},
        # Types as runs [type, first id, count]: short for the usual all-normal stretches.
        "token_type_runs": [],
    }
    for i, t in enumerate(types):
        runs = g["token_type_runs"]
        if runs and runs[-1][0] == t and runs[-1][1] + runs[-1][2] == i:
            runs[-1][2] += 1
        else:
            runs.append([t, i, 1])
    if scores is not None:
        g["scores_sha256"] = hashlib.sha256(
            "\n".join(repr(float(s)) for s in scores).encode()).hexdigest()
    g["chat_template"] = kv.pop("tokenizer.chat_template", None)
    g["other_keys"] = {k: v for k, v in sorted(kv.items())}
    return g


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folders", default=os.path.join(ROOT, ".cache", "hf"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "data",
                                                  "hf_tokenizer.json"))
    args = ap.parse_args()
    goldens = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            out = os.path.join(tmp, name + ".gguf")
            subprocess.run([sys.executable, os.path.join(LLAMA_CPP, "convert_hf_to_gguf.py"),
                            "--vocab-only", "--outfile", out, os.path.join(args.folders, name)],
                           check=True)
            goldens[name] = summarize(read_vocab(out))
    with open(args.out, "w") as f:
        json.dump({"generator": "tools/gen_hf_tokenizer_goldens.py (llama.cpp convert_hf_to_gguf.py "
                                "--vocab-only, llama-cpp-python 0.3.36)",
                   "models": goldens}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
