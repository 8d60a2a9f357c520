#!/usr/bin/env python3
"""Writes Hugging Face model folders from the real GGUF files (test oracles, never shipped).

transformers dequantizes a GGUF on load (`from_pretrained(dir, gguf_file=...)`) and, with the
GGUF quantization marker removed, `save_pretrained` writes an ordinary bf16 safetensors
checkpoint, config.json, generation_config.json and a fast tokenizer (tokenizer.json,
tokenizer_config.json). Those folders look like what users download from the Hub, so the
compile route (`foundry model compile`) and its oracles (tools/gen_hf_tokenizer_goldens.py,
tools/gen_hf_compile_goldens.py) run on them.

  .cache/peer/venv-hf/bin/python tools/make_hf_reference_folders.py [--out .cache/hf]

Needs torch, transformers, gguf (tools/requirements-hf.txt). Writes .cache/hf/<name>/
(git-ignored) and, with --fixtures, the tokenizer files gzipped into tests/data/hf/<name>/.
"""

import argparse
import gzip
import hashlib
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> GGUF file under .cache/models
MODELS = {
    "SmolLM2-135M-Instruct": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "qwen2.5-coder-0.5b-instruct": "qwen2.5-coder-0.5b-instruct.gguf",
}

# The files of a folder that the vocabulary comes from: what llama.cpp's converter reads
# (config.json for vocab_size and *_token_id; transformers 5 writes the chat template to
# chat_template.jinja instead of tokenizer_config.json).
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "generation_config.json",
                   "special_tokens_map.json", "chat_template.jinja", "config.json"]


def write_folder(gguf_path, out_dir):
    import torch  # noqa: F401  (transformers needs it; fail early with a clear import error)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_dir, gguf_file = os.path.split(gguf_path)
    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file,
                                                 dtype="bfloat16")
    # The weights are dequantized already; without this save_pretrained refuses the model as
    # "quantized with gguf and not serializable".
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def copy_fixtures(folder, fixture_dir, name, gguf_file):
    os.makedirs(fixture_dir, exist_ok=True)
    lines = [
        f"# {name}: Hugging Face tokenizer files (test fixtures)",
        "",
        f"Written by tools/make_hf_reference_folders.py --fixtures from .cache/models/{gguf_file}",
        "(transformers `AutoTokenizer.from_pretrained(..., gguf_file=...)` + `save_pretrained`;",
        "the model's `generation_config.json` from `save_pretrained` of the GGUF-loaded model),",
        "gzipped with mtime 0. The original model's license applies (Apache-2.0).",
        "",
        "| file | bytes | sha256 (uncompressed) |",
        "|---|---|---|",
    ]
    for f in TOKENIZER_FILES:
        src = os.path.join(folder, f)
        if not os.path.exists(src):
            continue
        with open(src, "rb") as fh:
            data = fh.read()
        with open(os.path.join(fixture_dir, f + ".gz"), "wb") as out:
            with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
                gz.write(data)
        lines.append(f"| {f} | {len(data)} | {hashlib.sha256(data).hexdigest()} |")
    with open(os.path.join(fixture_dir, "PROVENANCE.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=os.path.join(ROOT, ".cache", "models"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "hf"))
    ap.add_argument("--only", action="append", help="model name (repeatable); default: all")
    ap.add_argument("--fixtures", action="store_true",
                    help="also copy the tokenizer files gzipped into tests/data/hf/<name>/")
    ap.add_argument("--fixtures-only", action="store_true",
                    help="only copy the fixtures from folders written before")
    args = ap.parse_args()
    for name, gguf_file in MODELS.items():
        if args.only and name not in args.only:
            continue
        out_dir = os.path.join(args.out, name)
        print(f"{name}: {gguf_file} -> {out_dir}", file=sys.stderr)
        if not args.fixtures_only:
            write_folder(os.path.join(args.models, gguf_file), out_dir)
        if args.fixtures or args.fixtures_only:
            copy_fixtures(out_dir, os.path.join(ROOT, "tests", "data", "hf", name), name,
                          gguf_file)


if __name__ == "__main__":
    main()
