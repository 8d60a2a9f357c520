#!/usr/bin/env python3
"""Writes tiny synthetic GGUF models with random weights for tests.

The models keep the *shape* of real architectures (grouped-query attention, SwiGLU FFN, RMSNorm,
RoPE, Qwen2's QKV biases; Gemma 3's QK-norm, post-norms, GeGLU and sliding-window layers) at toy
sizes, and mix tensor types (F32, F16, Q8_0, Q4_0, Q4_1, Q5_0) so those load and matmul paths
get exercised. `phi3` has Phi-4-mini's layout (fused QKV and gate/up tensors, partial rotary
dimensions, LongRoPE long/short factors); `llama3` is a `llama` model with Llama 3.1 RoPE scaling
(`rope_freqs`). Reference logits for them come from llama.cpp
(tools/gen_goldens.py), never from our own code.

The tokenizer is a byte-level BPE ("gpt2") vocabulary built here: the 256 GPT-2 byte-alphabet
tokens, merges learned deterministically from the English text below, and ChatML special tokens
as control tokens.

`--shape qwen2.5-7b` writes a full-size benchmark model instead: Qwen2.5-7B-Instruct's shapes
(28 layers, 3584 hidden, 18944 FFN, 28 query / 4 KV heads of 128, 152064 vocabulary, qwen2
with QKV biases, untied output) in the per-tensor type layout llama-quantize writes for Q4_K_M
(Q4_K everywhere, token_embd included; Q6_K for output.weight and for attn_v and ffn_down in
the layers llama.cpp's use_more_bits picks). Its quantized blocks are random bytes with fixed
small scales: for speed measurements only, its text is noise.

Usage:
  python3 tools/make_synthetic_model.py                 # tests/data/models/tiny-qwen2.gguf
  python3 tools/make_synthetic_model.py --shape qwen2.5-7b  # .cache/models/qwen2.5-7b-shaped-q4_k_m.gguf
  python3 tools/make_synthetic_model.py --arch llama    # tests/data/models/tiny-llama.gguf
  python3 tools/make_synthetic_model.py --arch gemma3   # tests/data/models/tiny-gemma3.gguf
  python3 tools/make_synthetic_model.py --arch phi3     # tests/data/models/tiny-phi3.gguf
  python3 tools/make_synthetic_model.py --arch llama3   # tests/data/models/tiny-llama3.gguf
  python3 tools/make_synthetic_model.py --out PATH

Output is deterministic (fixed seed, fixed corpus): rerunning gives a byte-identical file.
"""

import argparse
import collections
import math
import os
import re
import sys

import gguf
import numpy as np
from gguf import GGMLQuantizationType as QT
from gguf import quants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Text the BPE merges are learned from. Plain English prose plus a little code and numbers.
MERGE_CORPUS = """
The quick brown fox jumps over the lazy dog. The dog was not amused, and the fox ran into the
forest where the trees were tall and the air was cool. In the morning the sun rose over the
hills, and the birds began to sing. People in the village woke up, made their breakfast, and
went to work in the fields. There is nothing quite like the smell of fresh bread in the morning.

Once upon a time there was a little girl who lived in a house at the edge of a great forest.
Every day she would walk to the river to fetch water for her mother. One day she met an old man
who asked her for a drink. She gave him the water, and he told her a story about a king who had
lost his crown. The king searched for it in every room of his castle, but he could not find it.

What is the capital of France? The capital of France is Paris. What is the capital of Germany?
The capital of Germany is Berlin. How many days are there in a week? There are seven days in a
week. How many hours are there in a day? There are twenty four hours in a day. Can you help me
write a short poem about the sea? Of course, here is a short poem about the sea and the wind.

You are a helpful assistant. Please answer the question as clearly as you can, and explain your
reasoning step by step. If you do not know the answer, say that you do not know. The assistant
should be polite, honest and helpful to the user at all times.

Machine learning models are trained on large amounts of text. A language model predicts the next
token given the previous tokens. The model is made of layers, and each layer has attention and a
feed forward network. Attention lets every token look at the tokens that came before it.

def add(a, b):
    return a + b

for i in range(10):
    print(i, add(i, i * 2))

int main(void) { return 0; }

The numbers 1, 2, 3, 10, 100, 2024 and 3.14159 appear here. The year 1999 was before 2000.
"""

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Phi-3 / Phi-4-mini chat tokens (tiny-phi3 only); <|end|> ends a turn.
PHI3_SPECIAL_TOKENS = ["<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

PHI3_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}")

# Approximation of the GPT-2 / Qwen2 pre-tokenizer, only used to split the corpus into words for
# learning merges (any split gives a consistent vocabulary).
PRETOKENIZE = re.compile(r"'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+| ?\d| ?[^\s\w]+|\s+(?!\S)|\s+")


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable unicode characters."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
          list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def learn_merges(text, n_merges):
    """Plain BPE: repeatedly merge the most frequent adjacent pair (ties: smallest pair).

    Merges of pairs seen once are allowed, so the vocabulary also gets some whole words.
    """
    byte_map = bytes_to_unicode()
    word_counts = collections.Counter(
        "".join(byte_map[b] for b in w.encode("utf-8")) for w in PRETOKENIZE.findall(text))
    words = [[list(w), c] for w, c in sorted(word_counts.items())]
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for symbols, count in words:
            for a, b in zip(symbols, symbols[1:]):
                pairs[(a, b)] += count
        if not pairs:
            break
        best_count = max(pairs.values())
        best = min(p for p, c in pairs.items() if c == best_count)
        merges.append(best)
        merged = best[0] + best[1]
        for entry in words:
            symbols = entry[0]
            out = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == best[0] and symbols[i + 1] == best[1]:
                    out.append(merged)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            entry[0] = out
    return merges


def build_vocab(n_merges, extra_special=()):
    byte_map = bytes_to_unicode()
    tokens = [byte_map[b] for b in range(256)]
    types = [gguf.TokenType.NORMAL] * 256
    merges = learn_merges(MERGE_CORPUS, n_merges)
    seen = set(tokens)
    for a, b in merges:
        assert a in seen and b in seen, (a, b)
        t = a + b
        if t not in seen:
            seen.add(t)
            tokens.append(t)
            types.append(gguf.TokenType.NORMAL)
    special_ids = {}
    for s in SPECIAL_TOKENS + list(extra_special):
        special_ids[s] = len(tokens)
        tokens.append(s)
        types.append(gguf.TokenType.CONTROL)
    return tokens, types, [f"{a} {b}" for a, b in merges], special_ids


class Config:

    def __init__(self, arch):
        self.arch = arch
        self.n_embd = 128
        self.n_head = 4
        self.n_head_kv = 2
        self.head_dim = self.n_embd // self.n_head  # 32
        self.n_layer = 2
        self.n_ff = 256
        self.n_ctx = 512
        self.rms_eps = 1e-6
        if arch == "qwen2":
            self.rope_base = 1000000.0
            self.qkv_bias = True
            self.tied_output = False
            self.pre = "qwen2"
            self.add_bos = False
        elif arch == "llama":
            self.rope_base = 10000.0
            self.qkv_bias = False
            self.tied_output = True  # no output.weight: the LM head reuses token_embd
            self.pre = "llama-bpe"
            self.add_bos = True
        elif arch == "llama3":
            # Llama 3.1 RoPE scaling (factor 8, low/high frequency factors 1 and 4) with the
            # original context scaled down like the model: 8192 of 131072 there, 64 of 512
            # here, so that the scaled frequencies turn visibly within the golden prompts.
            self.rope_base = 10000.0
            self.qkv_bias = False
            self.tied_output = False
            self.pre = "llama-bpe"
            self.add_bos = True
            self.rope_scaling = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_context": 64}
        elif arch == "phi3":
            # Phi-4-mini's shape at toy size: GQA, 3/4 of each head rotated, LongRoPE with an
            # original context of 512 (the golden context) out of 4096, tied output, GPT-4o
            # pre-tokenizer, no BOS. The sliding window is recorded as Phi-3 GGUFs do; llama.cpp
            # does not apply it.
            self.n_rot = 24
            self.n_ctx = 4096
            self.n_ctx_orig = 512
            self.n_swa = 64
            self.rope_base = 10000.0
            self.qkv_bias = False
            self.tied_output = True
            self.pre = "gpt-4o"
            self.add_bos = False
        elif arch == "gemma3":
            # Gemma 3 shape: head size independent of n_embd / n_head, a sliding window much
            # shorter than the golden prompts, and 7 layers so that layer 5 is the global one
            # (llama.cpp's default pattern: every 6th layer) with sliding layers on both sides.
            self.n_embd = 64
            self.head_dim = 32
            self.n_layer = 7
            self.n_ff = 128
            self.n_swa = 8
            self.rope_base = 1000000.0
            self.qkv_bias = False
            self.tied_output = True
            self.pre = "llama-bpe"
            self.add_bos = True
        else:
            raise ValueError(arch)


# Tensor type per (layer, tensor) so every supported type shows up in a matmul somewhere.
LAYER_TYPES = [
    {"attn_q": QT.Q4_0, "attn_k": QT.Q4_1, "attn_v": QT.Q8_0, "attn_output": QT.F16,
     "ffn_gate": QT.Q4_0, "ffn_up": QT.Q4_1, "ffn_down": QT.Q8_0},
    {"attn_q": QT.Q8_0, "attn_k": QT.F32, "attn_v": QT.Q4_0, "attn_output": QT.Q4_1,
     "ffn_gate": QT.F16, "ffn_up": QT.Q8_0, "ffn_down": QT.Q4_0},
]


GEMMA3_LAYER_TYPES = [
    {"attn_q": QT.Q5_0, "attn_k": QT.Q5_0, "attn_v": QT.Q8_0, "attn_output": QT.Q4_0,
     "ffn_gate": QT.Q5_0, "ffn_up": QT.Q5_0, "ffn_down": QT.Q8_0},
    {"attn_q": QT.Q8_0, "attn_k": QT.F16, "attn_v": QT.Q5_0, "attn_output": QT.Q5_0,
     "ffn_gate": QT.Q4_1, "ffn_up": QT.F32, "ffn_down": QT.Q5_0},
]


def add_matrix(writer, name, w, qtype):
    """w has numpy shape (rows, cols) = ggml ne (cols, rows)."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    if qtype == QT.F32:
        writer.add_tensor(name, w)
    elif qtype == QT.F16:
        writer.add_tensor(name, w.astype(np.float16))
    else:
        writer.add_tensor(name, quants.quantize(w, qtype), raw_dtype=qtype)


def write_gemma3_tensors(writer, cfg, rng, n_vocab):
    """Gemma 3 tensors; norm weights are stored with Gemma's +1 already added, as the GGUF
    converter does."""

    def normal(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm_weight(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    q_dim = cfg.n_head * cfg.head_dim
    kv_dim = cfg.n_head_kv * cfg.head_dim
    writer.add_tensor("token_embd.weight", normal((n_vocab, cfg.n_embd), 0.5).astype(np.float16))
    for il in range(cfg.n_layer):
        t = GEMMA3_LAYER_TYPES[il % len(GEMMA3_LAYER_TYPES)]
        p = f"blk.{il}."
        writer.add_tensor(p + "attn_norm.weight", norm_weight(cfg.n_embd))
        add_matrix(writer, p + "attn_q.weight", normal((q_dim, cfg.n_embd), 0.2), t["attn_q"])
        add_matrix(writer, p + "attn_k.weight", normal((kv_dim, cfg.n_embd), 0.2), t["attn_k"])
        add_matrix(writer, p + "attn_v.weight", normal((kv_dim, cfg.n_embd), 0.2), t["attn_v"])
        writer.add_tensor(p + "attn_q_norm.weight", norm_weight(cfg.head_dim))
        writer.add_tensor(p + "attn_k_norm.weight", norm_weight(cfg.head_dim))
        add_matrix(writer, p + "attn_output.weight", normal((cfg.n_embd, q_dim), 0.1),
                   t["attn_output"])
        writer.add_tensor(p + "post_attention_norm.weight", norm_weight(cfg.n_embd))
        writer.add_tensor(p + "ffn_norm.weight", norm_weight(cfg.n_embd))
        add_matrix(writer, p + "ffn_gate.weight", normal((cfg.n_ff, cfg.n_embd), 0.2),
                   t["ffn_gate"])
        add_matrix(writer, p + "ffn_up.weight", normal((cfg.n_ff, cfg.n_embd), 0.2), t["ffn_up"])
        add_matrix(writer, p + "ffn_down.weight", normal((cfg.n_embd, cfg.n_ff), 0.1),
                   t["ffn_down"])
        writer.add_tensor(p + "post_ffw_norm.weight", norm_weight(cfg.n_embd))
    writer.add_tensor("output_norm.weight", norm_weight(cfg.n_embd))


def llama3_rope_freqs(cfg):
    """Llama 3.1's per-dimension RoPE divisors, as convert_hf_to_gguf.py computes them."""
    sc = cfg.rope_scaling
    freqs = 1.0 / (cfg.rope_base**(np.arange(0, cfg.head_dim, 2, dtype=np.float64) / cfg.head_dim))
    low_wavelen = sc["original_context"] / sc["low_freq_factor"]
    high_wavelen = sc["original_context"] / sc["high_freq_factor"]
    factors = []
    for freq in freqs:
        wavelen = 2 * np.pi / freq
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(sc["factor"])
        else:
            smooth = ((sc["original_context"] / wavelen - sc["low_freq_factor"]) /
                      (sc["high_freq_factor"] - sc["low_freq_factor"]))
            factors.append(1.0 / ((1 - smooth) / sc["factor"] + smooth))
    return np.array(factors, dtype=np.float32)


def write_phi3_tensors(writer, cfg, rng, n_vocab):
    """Phi-3 tensors: fused attn_qkv (Q, K, V rows) and ffn_up (gate rows, then up rows)."""

    def normal(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm_weight(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    q_dim = cfg.n_head * cfg.head_dim
    kv_dim = cfg.n_head_kv * cfg.head_dim
    writer.add_tensor("token_embd.weight", normal((n_vocab, cfg.n_embd), 1.0).astype(np.float16))
    # LongRoPE divisors rising over the dimensions like Phi-3.5's (short near 1, long up to ~40).
    n_half = cfg.n_rot // 2
    ramp = np.linspace(0.0, 1.0, n_half)
    writer.add_tensor("rope_factors_long.weight", (1.0 + 39.0 * ramp**2).astype(np.float32))
    writer.add_tensor("rope_factors_short.weight", (1.0 + 1.5 * ramp**3).astype(np.float32))
    for il in range(cfg.n_layer):
        t = LAYER_TYPES[il]
        p = f"blk.{il}."
        writer.add_tensor(p + "attn_norm.weight", norm_weight(cfg.n_embd))
        add_matrix(writer, p + "attn_qkv.weight", normal((q_dim + 2 * kv_dim, cfg.n_embd), 0.15),
                   t["attn_q"])
        add_matrix(writer, p + "attn_output.weight", normal((cfg.n_embd, q_dim), 0.1),
                   t["attn_output"])
        writer.add_tensor(p + "ffn_norm.weight", norm_weight(cfg.n_embd))
        add_matrix(writer, p + "ffn_up.weight", normal((2 * cfg.n_ff, cfg.n_embd), 0.15),
                   t["ffn_up"])
        add_matrix(writer, p + "ffn_down.weight", normal((cfg.n_embd, cfg.n_ff), 0.1),
                   t["ffn_down"])
    writer.add_tensor("output_norm.weight", norm_weight(cfg.n_embd))


def write_model(path, arch, seed, n_merges):
    cfg = Config(arch)
    rng = np.random.default_rng(seed)
    extra = PHI3_SPECIAL_TOKENS if arch == "phi3" else ()
    tokens, types, merges, special = build_vocab(n_merges, extra)
    n_vocab = len(tokens)

    gguf_arch = "llama" if arch == "llama3" else arch
    writer = gguf.GGUFWriter(path, gguf_arch)
    # Not "phi3" in the name: llama.cpp then applies Phi-3 SentencePiece token attributes
    # (real Phi GGUFs are named e.g. "Phi 4 Mini Instruct").
    writer.add_name("tiny Phi 4 mini synthetic" if arch == "phi3" else f"tiny-{arch}-synthetic")
    writer.add_description("Random weights for tests (tools/make_synthetic_model.py)")
    writer.add_context_length(cfg.n_ctx)
    writer.add_embedding_length(cfg.n_embd)
    writer.add_block_count(cfg.n_layer)
    writer.add_feed_forward_length(cfg.n_ff)
    writer.add_head_count(cfg.n_head)
    writer.add_head_count_kv(cfg.n_head_kv)
    writer.add_rope_freq_base(cfg.rope_base)
    writer.add_rope_dimension_count(getattr(cfg, "n_rot", cfg.head_dim))
    writer.add_layer_norm_rms_eps(cfg.rms_eps)
    if arch == "phi3":
        writer.add_rope_scaling_orig_ctx_len(cfg.n_ctx_orig)
        scale = cfg.n_ctx / cfg.n_ctx_orig
        writer.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(scale) / math.log(cfg.n_ctx_orig)))
        writer.add_sliding_window(cfg.n_swa)
    if arch == "gemma3":
        writer.add_key_length(cfg.head_dim)
        writer.add_value_length(cfg.head_dim)
        writer.add_sliding_window(cfg.n_swa)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(cfg.pre)
    writer.add_token_list(tokens)
    writer.add_token_types([int(t) for t in types])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(special["<|endoftext|>"])
    if arch == "phi3":
        writer.add_eos_token_id(special["<|endoftext|>"])
    else:
        writer.add_eos_token_id(special["<|im_end|>"])
    writer.add_pad_token_id(special["<|endoftext|>"])
    writer.add_add_bos_token(cfg.add_bos)
    writer.add_chat_template(PHI3_TEMPLATE if arch == "phi3" else CHATML_TEMPLATE)

    if arch in ("gemma3", "phi3"):
        if arch == "gemma3":
            write_gemma3_tensors(writer, cfg, rng, n_vocab)
        else:
            write_phi3_tensors(writer, cfg, rng, n_vocab)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return n_vocab, len(merges)

    def normal(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm_weight():
        return (1.0 + 0.1 * rng.standard_normal(cfg.n_embd)).astype(np.float32)

    kv_dim = cfg.n_head_kv * cfg.head_dim
    writer.add_tensor("token_embd.weight", normal((n_vocab, cfg.n_embd), 1.0).astype(np.float16))
    if arch == "llama3":
        writer.add_tensor("rope_freqs.weight", llama3_rope_freqs(cfg))
    for il in range(cfg.n_layer):
        t = LAYER_TYPES[il]
        p = f"blk.{il}."
        writer.add_tensor(p + "attn_norm.weight", norm_weight())
        add_matrix(writer, p + "attn_q.weight", normal((cfg.n_embd, cfg.n_embd), 0.15), t["attn_q"])
        add_matrix(writer, p + "attn_k.weight", normal((kv_dim, cfg.n_embd), 0.15), t["attn_k"])
        add_matrix(writer, p + "attn_v.weight", normal((kv_dim, cfg.n_embd), 0.15), t["attn_v"])
        if cfg.qkv_bias:
            writer.add_tensor(p + "attn_q.bias", normal(cfg.n_embd, 0.5))
            writer.add_tensor(p + "attn_k.bias", normal(kv_dim, 0.5))
            writer.add_tensor(p + "attn_v.bias", normal(kv_dim, 0.1))
        add_matrix(writer, p + "attn_output.weight", normal((cfg.n_embd, cfg.n_embd), 0.1),
                   t["attn_output"])
        writer.add_tensor(p + "ffn_norm.weight", norm_weight())
        add_matrix(writer, p + "ffn_gate.weight", normal((cfg.n_ff, cfg.n_embd), 0.15),
                   t["ffn_gate"])
        add_matrix(writer, p + "ffn_up.weight", normal((cfg.n_ff, cfg.n_embd), 0.15), t["ffn_up"])
        add_matrix(writer, p + "ffn_down.weight", normal((cfg.n_embd, cfg.n_ff), 0.1),
                   t["ffn_down"])
    writer.add_tensor("output_norm.weight", norm_weight())
    if not cfg.tied_output:
        add_matrix(writer, "output.weight", normal((n_vocab, cfg.n_embd), 0.3), QT.Q8_0)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return n_vocab, len(merges)


# Block layouts of the k-quants the 7B-shaped model uses: bytes per 256 weights, and where the
# float16 scales sit (set to small finite values; every other byte is random).
KQUANT_BLOCKS = {QT.Q4_K: (144, (0, 2)), QT.Q6_K: (210, (208,))}
BENCH_SHAPES = {
    "qwen2.5-7b": {"n_embd": 3584, "n_ff": 18944, "n_layer": 28, "n_head": 28, "n_head_kv": 4,
                   "n_vocab": 152064, "n_ctx": 32768, "rope_base": 1000000.0,
                   "name": "Qwen2.5-7B-Instruct-shaped synthetic Q4_K_M"},
}


def use_more_bits(i_layer, n_layer):
    """llama.cpp's choice of the layers whose attn_v and ffn_down get Q6_K in Q4_K_M."""
    return i_layer < n_layer // 8 or i_layer >= 7 * n_layer // 8 or (i_layer - n_layer // 8) % 3 == 2


def random_kquant(rng, rows, cols, qtype):
    """`rows` x `cols` weights of `qtype` as random blocks with scales d (and dmin) = 1e-4."""
    block_bytes, scale_offsets = KQUANT_BLOCKS[qtype]
    assert cols % 256 == 0, cols
    blocks = rng.integers(0, 256, size=(rows * (cols // 256), block_bytes), dtype=np.uint8)
    scale = np.frombuffer(np.float16(1e-4).tobytes(), dtype=np.uint8)
    for off in scale_offsets:
        blocks[:, off:off + 2] = scale
    return blocks.reshape(rows, -1)


def write_bench_model(path, shape, seed):
    """A full-size qwen2 model with Q4_K_M's tensor types, streamed tensor by tensor (the whole
    file never sits in memory)."""
    c = BENCH_SHAPES[shape]
    rng = np.random.default_rng(seed)
    tokens, types, merges, special = build_vocab(400)
    n_real = len(tokens)
    tokens += [f"<|unused_{i}|>" for i in range(c["n_vocab"] - n_real)]
    types += [gguf.TokenType.UNUSED] * (c["n_vocab"] - n_real)
    head_dim = c["n_embd"] // c["n_head"]
    kv_dim = c["n_head_kv"] * head_dim
    n_layer = c["n_layer"]

    writer = gguf.GGUFWriter(path, "qwen2")
    writer.add_name(c["name"])
    writer.add_description("Random weights for speed measurements (tools/make_synthetic_model.py)")
    writer.add_context_length(c["n_ctx"])
    writer.add_embedding_length(c["n_embd"])
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(c["n_ff"])
    writer.add_head_count(c["n_head"])
    writer.add_head_count_kv(c["n_head_kv"])
    writer.add_rope_freq_base(c["rope_base"])
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types([int(t) for t in types])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(special["<|endoftext|>"])
    writer.add_eos_token_id(special["<|im_end|>"])
    writer.add_pad_token_id(special["<|endoftext|>"])
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML_TEMPLATE)

    # (name, producer) in the order llama.cpp's converter writes them; producers run only when
    # their tensor's turn comes to be written.
    plan = []

    def matrix(name, rows, cols, qtype):
        nbytes = rows * (cols // 256) * KQUANT_BLOCKS[qtype][0]
        writer.add_tensor_info(name, (rows, nbytes // rows), np.dtype(np.uint8), nbytes, qtype)
        plan.append(lambda: random_kquant(rng, rows, cols, qtype))

    def vector(name, n, scale, offset=0.0):
        writer.add_tensor_info(name, (n,), np.dtype(np.float32), 4 * n)
        plan.append(lambda: (offset + scale * rng.standard_normal(n)).astype(np.float32))

    d, ff = c["n_embd"], c["n_ff"]
    matrix("token_embd.weight", c["n_vocab"], d, QT.Q4_K)
    for il in range(n_layer):
        p = f"blk.{il}."
        more = QT.Q6_K if use_more_bits(il, n_layer) else QT.Q4_K
        vector(p + "attn_norm.weight", d, 0.1, 1.0)
        matrix(p + "attn_q.weight", d, d, QT.Q4_K)
        vector(p + "attn_q.bias", d, 0.1)
        matrix(p + "attn_k.weight", kv_dim, d, QT.Q4_K)
        vector(p + "attn_k.bias", kv_dim, 0.1)
        matrix(p + "attn_v.weight", kv_dim, d, more)
        vector(p + "attn_v.bias", kv_dim, 0.1)
        matrix(p + "attn_output.weight", d, d, QT.Q4_K)
        vector(p + "ffn_norm.weight", d, 0.1, 1.0)
        matrix(p + "ffn_gate.weight", ff, d, QT.Q4_K)
        matrix(p + "ffn_up.weight", ff, d, QT.Q4_K)
        matrix(p + "ffn_down.weight", d, ff, more)
    vector("output_norm.weight", d, 0.1, 1.0)
    matrix("output.weight", c["n_vocab"], d, QT.Q6_K)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for produce in plan:
        writer.write_tensor_data(produce())
    writer.close()
    return c["n_vocab"], len(merges)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=["qwen2", "llama", "gemma3", "phi3", "llama3"], default="qwen2")
    parser.add_argument("--shape", choices=sorted(BENCH_SHAPES),
                        help="write a full-size benchmark model of these shapes (random Q4_K_M "
                        "blocks) instead of a tiny test model")
    parser.add_argument("--out", help="output path (default tests/data/models/tiny-<arch>.gguf, "
                        "or .cache/models/<shape>-shaped-q4_k_m.gguf with --shape)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--merges", type=int, default=400, help="number of BPE merges to learn")
    args = parser.parse_args(argv)
    if args.shape:
        default = os.path.join(ROOT, ".cache", "models", f"{args.shape}-shaped-q4_k_m.gguf")
    else:
        default = os.path.join(ROOT, "tests", "data", "models", f"tiny-{args.arch}.gguf")
    out = args.out or default
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = f"{out}.tmp.{os.getpid()}"
    try:
        if args.shape:
            n_vocab, n_merges = write_bench_model(tmp, args.shape, args.seed)
        else:
            n_vocab, n_merges = write_model(tmp, args.arch, args.seed, args.merges)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"wrote {out}: {os.path.getsize(out)} bytes, vocab {n_vocab}, {n_merges} merges")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
