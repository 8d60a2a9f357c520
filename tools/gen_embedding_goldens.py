#!/usr/bin/env python3
"""Generates embedding goldens from llama.cpp (through llama-cpp-python) for a GGUF model.

For MODEL.gguf it writes tests/golden/data/MODEL-embeddings.json with, for each of a few short
texts, llama.cpp's token ids and its sentence embedding: `Llama(embedding=True,
pooling_type=LLAMA_POOLING_TYPE_MEAN).embed(text, normalize=True)` — the mean over the tokens of
the final hidden state after the output norm, scaled to unit length. foundry's /v1/embeddings
and Session::Embed compute the same thing (tests/golden/embedding_golden_test.cc).

Requirements: tools/requirements-tools.txt (llama-cpp-python==0.3.36).

Usage:
  python3 tools/gen_embedding_goldens.py                       # SmolLM2 from .cache/models
  python3 tools/gen_embedding_goldens.py path/to/model.gguf ...

Deterministic: same model + same llama-cpp-python build -> the same JSON.
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE_VERSION = "0.3.36"
DEFAULT_MODELS = [os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")]
TEXTS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Embeddings map text to vectors; similar meanings land close together.",
]


def generate(model_path):
    import llama_cpp
    from llama_cpp import Llama

    if llama_cpp.__version__ != REFERENCE_VERSION:
        sys.exit("need llama-cpp-python %s, found %s" % (REFERENCE_VERSION, llama_cpp.__version__))
    llm = Llama(model_path=model_path, embedding=True,
                pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN, n_ctx=512, n_batch=512,
                n_threads=2, seed=0, verbose=False)
    cases = []
    for text in TEXTS:
        ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        vec = llm.embed(text, normalize=True)
        cases.append({"text": text, "ids": list(ids),
                      "embedding": [float("%.7g" % x) for x in vec]})
    return {"model": os.path.basename(model_path), "reference": "llama-cpp-python " +
            REFERENCE_VERSION, "pooling": "mean", "normalize": True, "cases": cases}


def main(argv):
    models = argv or DEFAULT_MODELS
    for path in models:
        data = generate(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        out = os.path.join(ROOT, "tests", "golden", "data", stem + "-embeddings.json")
        with open(out, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        print("wrote", out)


if __name__ == "__main__":
    main(sys.argv[1:])
