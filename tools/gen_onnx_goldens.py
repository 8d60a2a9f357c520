"""Goldens for tests/e2e/test_onnx_import.py: onnxruntime-genai's greedy continuations (32
tokens) of 8 plain-text prompts on the ONNX folder tools/make_onnx_folder.py builds from a GGUF.
Run with a python that has tools/requirements-onnx.txt (e.g. .cache/peer/venv-hf):

    .cache/peer/venv-hf/bin/python tools/gen_onnx_goldens.py smollm2   # the committed golden
    .cache/peer/venv-hf/bin/python tools/gen_onnx_goldens.py qwen2.5-coder-1.5b  # committed too
    .cache/peer/venv-hf/bin/python tools/gen_onnx_goldens.py qwen2.5-coder-0.5b OUT.json
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_onnx_folder import ROOT, make_onnx_folder  # noqa: E402

# name: (GGUF in .cache/models, tokenizer fixtures in tests/data/hf, take only their tokenizer
# files). Qwen2.5-Coder-1.5B has 0.5B's vocabulary, merges and pre-tokenizer (checked equal in
# the two GGUFs); its config comes from its own GGUF.
MODELS = {
    "smollm2": ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct", False),
    "qwen2.5-coder-0.5b": ("qwen2.5-coder-0.5b-instruct.gguf", "qwen2.5-coder-0.5b-instruct", False),
    "qwen2.5-coder-1.5b": ("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "qwen2.5-coder-0.5b-instruct",
                           True),
}
PROMPTS = [
    "The capital city of France is",
    "def fibonacci(n):",
    "Once upon a time, in a small village,",
    "The three primary colors are",
    "To make a cup of tea, first",
    "Water boils at a temperature of",
    "The largest planet in our solar system",
    "import numpy as np\n\ndef mean(values):",
]
TOKENS = 32


def main():
    which = sys.argv[1]
    gguf, fixtures, tokenizer_only = MODELS[which]
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        ROOT, "tests", "golden", "data", "onnx_import_%s.json" % which)
    import onnxruntime_genai as og
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_onnx_folder(os.path.join(ROOT, ".cache", "models", gguf),
                                  os.path.join(ROOT, "tests", "data", "hf", fixtures), tmp,
                                  tokenizer_only=tokenizer_only)
        model = og.Model(folder)
        tok = og.Tokenizer(model)
        cases = []
        for prompt in PROMPTS:
            ids = [int(i) for i in tok.encode(prompt)]
            params = og.GeneratorParams(model)
            params.set_search_options(do_sample=False, max_length=len(ids) + TOKENS)
            gen = og.Generator(model, params)
            gen.append_tokens(ids)
            greedy = []
            while not gen.is_done() and len(greedy) < TOKENS:
                gen.generate_next_token()
                greedy.append(int(gen.get_next_tokens()[0]))
            cases.append({"prompt": prompt, "input_ids": ids, "greedy": greedy})
    with open(out_path, "w") as f:
        json.dump({"generator": "tools/gen_onnx_goldens.py " + which,
                   "onnxruntime_genai": og.__version__, "gguf": gguf, "cases": cases}, f, indent=1)
        f.write("\n")
    print(out_path)


if __name__ == "__main__":
    main()
