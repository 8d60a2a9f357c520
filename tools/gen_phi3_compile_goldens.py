#!/usr/bin/env python3
"""Goldens for `foundry model compile` on Phi-3 folders, from llama.cpp's own converter
(convert_hf_to_gguf.py of the pinned llama-cpp-python 0.3.36 source tree, Phi3MiniModel):

* tiny-phi4-mini: tools/make_hf_folder.py tests/data/models/tiny-phi3.gguf --dtype bf16
  (Phi-4-mini's layout: tied embeddings, partial rotary, LongRoPE factors, GPT2Tokenizer with
  GPT-4o's regex). The tiny vocabulary's hash is unknown to the converter's
  get_vocab_base_pre, so it is told "gpt-4o", the pre-tokenizer the folder's regex is.
* tiny-phi3-mini: the same weights with Phi-3-mini's real SentencePiece vocabulary
  (--vocab tests/data/tokenizer/ggml-vocab-phi-3.gguf: tokenizer.model, added_tokens.json,
  added_tokens_decoder, 32064 ids), an untied lm_head, no rope scaling, two shards.

For f16 and q8_0: every tensor's type and sha256, and every metadata key but general.* (lists
as the sha256 of their JSON). Writes tests/golden/data/hf_compile_phi3.json.

    python3 -m pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d .cache/peer
    (then untar it there, as tools/build_llama_bench.sh does; needs torch, gguf, sentencepiece)
    python3 tools/gen_phi3_compile_goldens.py
"""
import hashlib
import json
import os
import runpy
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LLAMA_CPP = os.path.join(ROOT, ".cache", "peer", "llama_cpp_python-0.3.36", "vendor", "llama.cpp")
OUT = os.path.join(ROOT, "tests", "golden", "data", "hf_compile_phi3.json")
# folder name -> make_hf_folder.py arguments after the GGUF and the output folder
FOLDERS = {
    "tiny-phi4-mini": ["--dtype", "bf16"],
    "tiny-phi3-mini": ["--dtype", "bf16", "--vocab", "tests/data/tokenizer/ggml-vocab-phi-3.gguf",
                       "--untie", "--no-rope-scaling", "--shards", "2"],
}
SOURCE = "tests/data/models/tiny-phi3.gguf"


def gguf_table(path):
    import gguf
    import numpy as np

    r = gguf.GGUFReader(path)
    keys = {}
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key.startswith("general."):
            continue
        value = field.contents()
        if isinstance(value, list):
            value = hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()
        keys[key] = value
    tensors = {t.name: [t.tensor_type.name, hashlib.sha256(np.array(t.data).tobytes()).hexdigest()]
               for t in r.tensors}
    return {"keys": keys, "tensors": tensors}


def convert_main(pre):
    """Runs convert_hf_to_gguf.py in this process (sys.argv already set), with `pre` as the
    BPE pre-tokenizer when it is not empty."""
    sys.path[:0] = [LLAMA_CPP, os.path.join(LLAMA_CPP, "gguf-py")]
    if pre:
        import conversion.base as base
        base.TextModel.get_vocab_base_pre = lambda self, tokenizer: pre
    runpy.run_path(os.path.join(LLAMA_CPP, "convert_hf_to_gguf.py"), run_name="__main__")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--convert":  # internal: one converter run
        pre = sys.argv[2]
        sys.argv = [os.path.join(LLAMA_CPP, "convert_hf_to_gguf.py")] + sys.argv[3:]
        convert_main(pre)
        return
    golden = {"generator": "tools/gen_phi3_compile_goldens.py (llama-cpp-python 0.3.36 "
                           "convert_hf_to_gguf.py)", "source": SOURCE, "folders": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in FOLDERS.items():
            folder = os.path.join(tmp, name)
            subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_hf_folder.py"),
                            os.path.join(ROOT, SOURCE), folder,
                            *[os.path.join(ROOT, a) if a.startswith("tests/") else a for a in args]],
                           check=True)
            pre = "gpt-4o" if name == "tiny-phi4-mini" else ""
            entry = {"make_hf_folder_args": args, "quants": {}}
            for outtype in ["f16", "q8_0"]:
                out = os.path.join(tmp, f"{name}-{outtype}.gguf")
                subprocess.run([sys.executable, os.path.abspath(__file__), "--convert", pre,
                                "--outtype", outtype, "--outfile", out, folder],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                entry["quants"][outtype] = gguf_table(out)
            golden["folders"][name] = entry
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
