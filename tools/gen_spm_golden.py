#!/usr/bin/env python3
"""Generates SentencePiece tokenizer goldens from llama.cpp (through llama-cpp-python).

For each vocabulary-only GGUF in tests/data/tokenizer (llama-spm, phi-3) it records, for
every text in TEXTS and every (add_special, parse_special) combination, the ids llama_tokenize
gives, and for those ids the text llama_detokenize gives (remove_special = false) with and
without unparse_special. This covers what the .inp/.out fixtures do not: the prefix space after
special tokens, Phi-3's rstrip attributes, BOS handling, and detokenization.

It also records llama_token_to_piece (with and without special) and llama_vocab_is_eog for a
sample of token ids (every 97th id, the first 600, every non-normal token except Gemma's
thousands of <unusedN>),
for the fixtures and for Gemma 3 (.cache/models/gemma-3-270m-Q4_K_M.gguf, `make models`).

Writes tests/data/tokenizer/spm_golden.json (texts as hex, so any bytes survive).

Requirements: tools/requirements-tools.txt (llama-cpp-python==0.3.36).
Usage: python3 tools/gen_spm_golden.py
"""

import ctypes
import json
import os

import llama_cpp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "data", "tokenizer")
OUT = os.path.join(ROOT, "tests", "data", "tokenizer", "spm_golden.json")
VOCABS = ["llama-spm", "phi-3"]
PIECE_MODELS = {
    "llama-spm": os.path.join(FIXTURES, "ggml-vocab-llama-spm.gguf"),
    "phi-3": os.path.join(FIXTURES, "ggml-vocab-phi-3.gguf"),
    "gemma-3-270m": os.path.join(ROOT, ".cache", "models", "gemma-3-270m-Q4_K_M.gguf"),
}
PIECE_STRIDE = 97

TEXTS = [
    b"",
    b" ",
    b"Hello world",
    b" Hello",
    b"  two leading spaces",
    b"<s>Hello",
    b"Hello<s>world",
    b"Hello </s> world",
    b"</s>",
    b"a</s>b",
    b"<unk> and <s> and </s>",
    b"<|user|>\n  Hi <|end|>\n<|assistant|>\nOk",
    b"<|system|>\tYou are nice.<|end|>\r\n<|user|> x",
    b"  <|end|>  x",
    b"<|endoftext|>  x<|endoftext|>",
    b"text <|placeholder1|>   \n\n more",
    b"<|end|><|end|> <|end|>",
    b"[PAD32011] pad",
    "\U0001f999 llama \u6211\u60f3 caf\u00e9 \u00a0nbsp".encode(),
    "\u1780\u17b6\u1793\u17cb".encode(),
    b"tab\tnew\nline\r\n",
    b"bad \xff\xfe utf8 \xe4\xbd",
    b"<0x41> is not a byte token in text",
    b"\xe2\x96\x81 already escaped",
]


def detokenize(vocab, ids, unparse_special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 64 + 64 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, False, unparse_special)
    assert n >= 0, n
    return buf.raw[:n]


def piece(vocab, token, special):
    buf = ctypes.create_string_buffer(512)
    n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, special)
    assert 0 <= n <= len(buf), n
    return buf.raw[:n]


def sample_pieces(path):
    llm = llama_cpp.Llama(path, vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n = llama_cpp.llama_vocab_n_tokens(vocab)
    normal = 1 << 2  # LLAMA_TOKEN_ATTR_NORMAL
    ids = set(range(0, n, PIECE_STRIDE)) | set(range(0, min(n, 600)))
    ids |= {i for i in range(n) if llama_cpp.llama_vocab_get_attr(vocab, i) != normal and
            b"unused" not in llama_cpp.llama_vocab_get_text(vocab, i)}
    rows = []
    for i in sorted(ids):
        # "id piece piece_with_special eog" (pieces in hex, "-" when empty)
        rows.append("%d %s %s %d" % (i, piece(vocab, i, False).hex() or "-",
                                      piece(vocab, i, True).hex() or "-",
                                      int(llama_cpp.llama_vocab_is_eog(vocab, i))))
    return {"n_vocab": n, "pieces": rows}


def main():
    out = {
        "generator": "tools/gen_spm_golden.py",
        "reference": "llama-cpp-python %s" % llama_cpp.__version__,
        "vocabs": {},
    }
    for name in VOCABS:
        path = os.path.join(FIXTURES, "ggml-vocab-%s.gguf" % name)
        llm = llama_cpp.Llama(path, vocab_only=True, verbose=False)
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        cases = []
        for text in TEXTS:
            for add_special in (False, True):
                for parse_special in (False, True):
                    ids = llm.tokenize(text, add_bos=add_special, special=parse_special)
                    cases.append({
                        "text_hex": text.hex(),
                        "add_special": add_special,
                        "parse_special": parse_special,
                        "ids": ids,
                        "decoded_hex": detokenize(vocab, ids, False).hex(),
                        "decoded_special_hex": detokenize(vocab, ids, True).hex(),
                    })
        out["vocabs"][name] = cases
    out["pieces"] = {}
    for name, path in PIECE_MODELS.items():
        if not os.path.exists(path):
            raise SystemExit("missing %s (run `make models`)" % path)
        out["pieces"][name] = sample_pieces(path)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
