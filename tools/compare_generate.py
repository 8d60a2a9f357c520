#!/usr/bin/env python3
"""Greedy `foundry generate --raw --json` against llama.cpp (llama-cpp-python) on prompts
neither side has seen before: same prompt ids, same completion ids, or a divergence at a
near-tie between llama.cpp's two best tokens (which is reported with its margin).

Usage: compare_generate.py MODEL.gguf [--foundry build/bin/foundry] [--max-tokens 32]
"""
import argparse
import json
import subprocess

import llama_cpp
import numpy as np
from llama_cpp import Llama

PROMPTS = [
    "The three primary colors are",
    "In 1969, the first humans to walk on the Moon were",
    "def is_prime(n):\n    ",
    "A recipe for pancakes needs flour, eggs and",
    "Le chat est sur la",
    "The quick brown fox",
    "List of planets: Mercury, Venus,",
    "Water boils at 100 degrees",
    "My favourite programming language is Python because",
    "import numpy as np\nx = np.",
    "Once there was a dragon who",
    "The opposite of hot is",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--foundry", default="build/bin/foundry")
    ap.add_argument("--max-tokens", type=int, default=32)
    a = ap.parse_args()
    llm = Llama(a.model, n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    same = 0
    for text in PROMPTS:
        out = subprocess.run([a.foundry, "generate", a.model, "--raw", "--temperature", "0",
                              "--max-tokens", str(a.max_tokens), "--json", "--prompt", text],
                             capture_output=True, text=True, check=True)
        ours = json.loads(out.stdout)
        ids = llm.tokenize(text.encode(), add_bos=llm._model.add_bos_token(), special=False)
        llm.reset()
        llm.eval(ids)
        ref, margins = [], []
        for _ in range(a.max_tokens):
            logits = np.array(llm.scores[llm.n_tokens - 1])
            order = np.argsort(-logits, kind="stable")
            tok = int(order[0])
            margins.append(float(logits[order[0]] - logits[order[1]]))
            if llama_cpp.llama_vocab_is_eog(vocab, tok):
                break
            ref.append(tok)
            llm.eval([tok])
        prompt_ok = ours["prompt_tokens"] == ids
        comp = ours["completion_tokens"]
        if prompt_ok and comp == ref:
            same += 1
            print(f"same      {text!r}")
            continue
        k = next((i for i, (x, y) in enumerate(zip(comp, ref)) if x != y), min(len(comp), len(ref)))
        m = margins[k] if k < len(margins) else float("nan")
        print(f"DIFFERENT {text!r}: prompt ids equal={prompt_ok}, first difference at step {k}, "
              f"llama.cpp margin there {m:.3f}")
    print(f"{same} of {len(PROMPTS)} identical")


if __name__ == "__main__":
    main()
