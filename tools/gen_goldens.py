#!/usr/bin/env python3
"""Generates golden reference data from llama.cpp (through llama-cpp-python) for a GGUF model.

For MODEL.gguf it writes tests/golden/data/MODEL.json (stem of the file name) with:
  tokenize          texts from tools/golden_corpus.py -> ids (no BOS, specials not parsed)
  tokenize_special  texts with special tokens -> ids (specials parsed, BOS per model metadata)
  prompts           per prompt: ids (BOS per metadata), top-10 logits at every prompt position
                    (whole prompt evaluated in one batch), and 32 greedy tokens (argmax of the
                    last logits, ties to the lowest id, one token fed at a time) with each
                    step's top-1/top-2 logit margin

Requirements: tools/requirements-tools.txt (llama-cpp-python==0.3.36, builds llama.cpp).

Usage:
  python3 tools/gen_goldens.py                         # default model set (see DEFAULT_MODELS)
  python3 tools/gen_goldens.py path/to/model.gguf ...  # specific models
  python3 tools/gen_goldens.py --out-dir DIR ...
  python3 tools/gen_goldens.py --n-ctx 1024 M.gguf     # another context size -> M-ctx1024.json
                                                       # (e.g. Phi-3 LongRoPE picks its long
                                                       # factors past the original context)

Deterministic: same model + same llama-cpp-python build -> byte-identical JSON.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import golden_corpus  # noqa: E402

REFERENCE_VERSION = "0.3.36"
# llama.cpp commit vendored by llama-cpp-python 0.3.36 (vendor/llama.cpp in its sdist).
LLAMA_CPP_COMMIT = "0c1e57098bba43ac29e6e3b677cdceebdd22334f"

DEFAULT_MODELS = [
    ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf",
    ".cache/models/gemma-3-270m-Q4_K_M.gguf",
    "tests/data/models/tiny-qwen2.gguf",
    "tests/data/models/tiny-llama.gguf",
    "tests/data/models/tiny-gemma3.gguf",
    "tests/data/models/tiny-phi3.gguf",
    "tests/data/models/tiny-llama3.gguf",
]
# Extra (model, n_ctx) goldens made by default besides the N_CTX ones.
DEFAULT_EXTRA_CONTEXTS = [("tests/data/models/tiny-phi3.gguf", 1024)]
# Models whose sliding window no other prompt reaches: they also get
# golden_corpus.PAST_WINDOW_PROMPT, at the context it needs (their golden keeps its name).
PAST_WINDOW_MODELS = {"gemma-3-270m-Q4_K_M.gguf": 1024}

N_CTX = 512
TOP_K = 10
N_GREEDY = 32
DECIMALS = 5


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_add_bos(llm):
    """Whether llama.cpp adds BOS for this model (its own reading of the metadata)."""
    import llama_cpp
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    return bool(llama_cpp.llama_vocab_get_add_bos(vocab))


def vocab_has(llm, text):
    ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
    return len(ids) == 1


def eval_all_logits(llm, ids):
    """Evaluates `ids` from an empty context in one batch; returns logits for every position."""
    llm.reset()
    llm.eval(ids)
    assert llm.n_tokens == len(ids)
    return np.array(llm.scores[:len(ids)], dtype=np.float32)


def top_logits(row):
    # Sort by logit descending, then by id ascending (stable tie order).
    order = np.lexsort((np.arange(row.shape[0]), -row.astype(np.float64)))[:TOP_K]
    return [[int(i), round(float(row[i]), DECIMALS)] for i in order]


def greedy(llm, ids, last_logits):
    """Returns (tokens, margins): argmax tokens and each step's top-1 minus top-2 logit."""
    out, margins = [], []
    logits = last_logits
    for _ in range(N_GREEDY):
        tok = int(np.argmax(logits))  # first maximum: ties go to the lowest id
        top2 = np.partition(logits.astype(np.float64), -2)[-2:]
        out.append(tok)
        margins.append(round(float(top2[1] - top2[0]), DECIMALS))
        llm.eval([tok])
        logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
    return out, margins


def generate(model_path, n_ctx=N_CTX, past_window=False):
    from llama_cpp import Llama
    import llama_cpp

    if llama_cpp.__version__ != REFERENCE_VERSION:
        sys.exit(f"gen_goldens: need llama-cpp-python=={REFERENCE_VERSION}, "
                 f"found {llama_cpp.__version__} (tools/requirements-tools.txt)")

    llm = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=2, n_batch=n_ctx,
                logits_all=True, seed=0, verbose=False)
    add_bos = model_add_bos(llm)

    def tok(text, bos, special):
        return [int(t) for t in llm.tokenize(text.encode("utf-8"), add_bos=bos, special=special)]

    data = {
        "generator": "tools/gen_goldens.py",
        "reference": f"llama-cpp-python {llama_cpp.__version__} (llama.cpp {LLAMA_CPP_COMMIT})",
        "model": os.path.basename(model_path),
        "model_sha256": sha256_of(model_path),
        "n_vocab": int(llm.n_vocab()),
        # llama.cpp context settings the logits were computed with (KV cache in F16, no flash
        # attention, prompt evaluated as one batch, then one token per decode call).
        "context": {"n_ctx": n_ctx, "n_batch": n_ctx, "n_threads": 2, "flash_attn": False,
                    "type_k": "f16", "type_v": "f16"},
        "add_bos": add_bos,
        "tokenize": [{"text": t, "ids": tok(t, False, False)} for t in golden_corpus.TOKENIZE],
        "tokenize_special": [{"text": t, "ids": tok(t, add_bos, True)}
                             for t in golden_corpus.TOKENIZE_SPECIAL],
        "prompts": [],
    }

    prompts = [(p, False) for p in golden_corpus.PROMPTS]
    for marker, chat in golden_corpus.CHAT_PROMPTS.items():
        if vocab_has(llm, marker):
            prompts.append((chat, True))
    if past_window:
        prompts.append((golden_corpus.PAST_WINDOW_PROMPT, False))

    for text, special in prompts:
        ids = tok(text, add_bos, special)
        if len(ids) + N_GREEDY > n_ctx:
            sys.exit(f"gen_goldens: prompt too long for n_ctx={n_ctx}: {text[:40]!r}")
        logits = eval_all_logits(llm, ids)
        greedy_ids, greedy_margins = greedy(llm, ids, logits[-1])
        entry = {
            "text": text,
            "add_bos": add_bos,
            "parse_special": special,
            "ids": ids,
            "top_logits": [top_logits(row) for row in logits],
            "greedy": greedy_ids,
            # Reference top-1 minus top-2 logit at each greedy step: where it is tiny, an
            # implementation with slightly different rounding may legitimately pick the other.
            "greedy_margin": greedy_margins,
        }
        data["prompts"].append(entry)
    del llm
    return data


def dump(data):
    """JSON with one line per record so diffs stay readable."""
    lines = ["{"]
    keys = list(data)
    for k_i, key in enumerate(keys):
        value = data[key]
        comma = "," if k_i + 1 < len(keys) else ""
        if isinstance(value, list):
            lines.append(f"  {json.dumps(key)}: [")
            for i, item in enumerate(value):
                item_comma = "," if i + 1 < len(value) else ""
                if isinstance(item, dict) and "top_logits" in item:
                    # Prompts: one line per field, one line per position for logits.
                    lines.append("    {")
                    fields = list(item)
                    for f_i, f in enumerate(fields):
                        f_comma = "," if f_i + 1 < len(fields) else ""
                        if f == "top_logits":
                            rows = item[f]
                            lines.append(f"      {json.dumps(f)}: [")
                            for r_i, row in enumerate(rows):
                                r_comma = "," if r_i + 1 < len(rows) else ""
                                lines.append("        " + json.dumps(row, separators=(",", ":")) +
                                             r_comma)
                            lines.append(f"      ]{f_comma}")
                        else:
                            lines.append(f"      {json.dumps(f)}: "
                                         f"{json.dumps(item[f], ensure_ascii=False)}{f_comma}")
                    lines.append(f"    }}{item_comma}")
                else:
                    lines.append("    " + json.dumps(item, ensure_ascii=False) + item_comma)
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help="GGUF files (default: the standard test set)")
    parser.add_argument("--out-dir", default=os.path.join(ROOT, "tests", "golden", "data"))
    parser.add_argument("--n-ctx", type=int, default=None,
                        help=f"context size (default {N_CTX}, or the model's in "
                        "PAST_WINDOW_MODELS; others add -ctxN to the name)")
    args = parser.parse_args(argv)

    if args.models:
        jobs = [(m, args.n_ctx) for m in args.models]
    else:
        jobs = ([(os.path.join(ROOT, m), None) for m in DEFAULT_MODELS] +
                [(os.path.join(ROOT, m), c) for m, c in DEFAULT_EXTRA_CONTEXTS])
    os.makedirs(args.out_dir, exist_ok=True)
    for path, n_ctx in jobs:
        if not os.path.exists(path):
            sys.exit(f"gen_goldens: {path} not found (run `make models` / "
                     f"tools/make_synthetic_model.py)")
        own_ctx = PAST_WINDOW_MODELS.get(os.path.basename(path))
        past_window = own_ctx is not None and n_ctx in (None, own_ctx)
        default_ctx = own_ctx if past_window else N_CTX
        n_ctx = n_ctx or default_ctx
        data = generate(path, n_ctx, past_window)
        text = dump(data)
        json.loads(text)  # self-check
        stem = os.path.splitext(os.path.basename(path))[0]
        if n_ctx != default_ctx:
            stem += f"-ctx{n_ctx}"
        out = os.path.join(args.out_dir, f"{stem}.json")
        tmp = f"{out}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, out)
        print(f"gen_goldens: wrote {out} ({len(text.encode('utf-8'))} bytes, "
              f"{len(data['prompts'])} prompts)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
