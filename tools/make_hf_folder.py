#!/usr/bin/env python3
"""Writes a Hugging Face model folder (config.json, *.safetensors, tokenizer.json,
tokenizer_config.json, generation_config.json) from a llama/qwen2 GGUF: the test input of
`foundry model compile` (tests/e2e/test_model_compile.py). numpy and gguf only; safetensors
are written by hand (an 8-byte little-endian header length, a JSON header, the data).

* weights: the GGUF's tensors dequantized to float32 (stored as --dtype), renamed to HF names,
  llama's Q/K rows un-permuted back to HF's rotate-half layout (the inverse of
  convert_hf_to_gguf.py's LlamaModel.permute); `--random` replaces them by random ones.
* tokenizer.json: a byte-level BPE with the GGUF's tokens and merges, the pre-tokenizer of
  tokenizer.ggml.pre (llama-bpe: Llama 3's; qwen2: Qwen2's), control tokens as added tokens.
* gemma3 with a SentencePiece vocabulary (tokenizer.ggml.model "llama"): tokenizer.model
  instead of tokenizer.json, its special and user-defined tokens in tokenizer_config.json.
* Llama 3.1 RoPE (a rope_freqs tensor): --llama3-rope FACTOR,LOW,HIGH,ORIGINAL_CONTEXT writes
  rope_scaling instead (the tensor is recomputed by the compiler).
* phi3: a Phi3ForCausalLM folder (fused qkv_proj and gate_up_proj, partial_rotary_factor, the
  LongRoPE factor tensors as rope_scaling long_factor / short_factor unless --no-rope-scaling).
  A BPE vocabulary is written as Phi-4-mini's (GPT2Tokenizer, GPT-4o's regex); a SentencePiece
  one (e.g. --vocab tests/data/tokenizer/ggml-vocab-phi-3.gguf) as Phi-3-mini's: tokenizer.model
  with the pieces before the added tokens, added_tokens.json and added_tokens_decoder.
* --vocab GGUF takes the vocabulary from another (vocabulary-only) GGUF; the embedding rows
  are then random (seeded). --untie writes a random lm_head.

    python3 tools/make_hf_folder.py tests/data/models/tiny-llama.gguf OUT [--dtype bf16] [--shards 2]
"""
import argparse
import json
import os

import numpy as np
import gguf

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+"
                r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
O200K_SPLIT = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
               r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"
               r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| "
               r"?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+"
               r"[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

BLOCK = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
         "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
         "ffn_norm": "post_attention_layernorm", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
         "ffn_down": "mlp.down_proj"}
GLOBAL = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
# Gemma 3's names where they differ from llama's (its norms are stored as 1 + w in GGUF).
GEMMA3_BLOCK = dict(BLOCK, attn_q_norm="self_attn.q_norm", attn_k_norm="self_attn.k_norm",
                    post_attention_norm="post_attention_layernorm",
                    ffn_norm="pre_feedforward_layernorm", post_ffw_norm="post_feedforward_layernorm")

PHI3_BLOCK = dict(BLOCK, attn_qkv="self_attn.qkv_proj", ffn_up="mlp.gate_up_proj")
ARCH_BLOCK = {"gemma3": GEMMA3_BLOCK, "phi3": PHI3_BLOCK}


def field(r, key, default=None):
    f = r.fields.get(key)
    return default if f is None else f.contents()


def hf_name(name, arch="llama"):
    parts = name.split(".")
    if parts[0] == "blk":
        block = ARCH_BLOCK.get(arch, BLOCK)
        return "model.layers.%s.%s.%s" % (parts[1], block[parts[2]], parts[3])
    return "%s.%s" % (GLOBAL[parts[0]], parts[1])


def unpermute(w, n_head):
    """HF rows from GGUF rows: the inverse of LlamaModel.permute."""
    shape = w.shape
    return w.reshape(n_head, shape[0] // n_head // 2, 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


def to_bytes(a, dtype):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.tobytes()
    if dtype == "F16":
        return a.astype(np.float16).tobytes()
    bits = a.view(np.uint32).astype(np.uint64)  # BF16: round to nearest even
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return bits.astype(np.uint16).tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, a in tensors:
        b = to_bytes(a, dtype)
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h)
        for b in blobs:
            f.write(b)


def pb_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_field(number, wire, payload):
    if wire == 0:
        return pb_varint(number << 3) + pb_varint(payload)
    if wire == 5:
        return pb_varint(number << 3 | 5) + np.float32(payload).tobytes()
    return pb_varint(number << 3 | 2) + pb_varint(len(payload)) + payload


def phi3_piece_count(r):
    """The SentencePiece model's share of a Phi-3 vocabulary: the ids before the first added
    (control, user-defined or padding) token after <unk>, <s>, </s>."""
    types = field(r, "tokenizer.ggml.token_type")
    return next((i for i in range(3, len(types)) if types[i] not in (1, 6)), len(types))


def sentencepiece_model(r, phi3=False):
    """tokenizer.model (a sentencepiece.ModelProto) from a SentencePiece GGUF vocabulary: pieces
    with their scores and types (the unknown token as UNKNOWN, the GGUF's other types kept),
    a BPE trainer spec with byte fallback, an identity normalizer without a dummy prefix.
    phi3: only the pieces before the added tokens, and the converter's overrides undone (the
    control and user-defined pieces there are CONTROL with score 0 in the model; the folder's
    added_tokens_decoder makes them what the GGUF says)."""
    tokens = field(r, "tokenizer.ggml.tokens")
    scores = field(r, "tokenizer.ggml.scores")
    types = field(r, "tokenizer.ggml.token_type")
    unk = field(r, "tokenizer.ggml.unknown_token_id", 0)
    n = phi3_piece_count(r) if phi3 else len(tokens)
    out = bytearray()
    for i, (t, sc, ty) in enumerate(zip(tokens[:n], scores, types)):
        if phi3 and ty in (3, 4):
            ty, sc = 3, 0.0
        ty = 2 if i == unk else ty
        piece = pb_field(1, 2, t.encode("utf-8")) + pb_field(2, 5, sc) + pb_field(3, 0, ty)
        out += pb_field(1, 2, piece)
    if phi3:
        ids = [(40, unk), (41, 1), (42, 2), (43, (1 << 64) - 1)]
    else:
        ids = [(40, unk), (41, field(r, "tokenizer.ggml.bos_token_id", 1)),
               (42, field(r, "tokenizer.ggml.eos_token_id", 2)),
               (43, field(r, "tokenizer.ggml.padding_token_id", -1) % (1 << 64))]
    trainer = pb_field(3, 0, 2) + pb_field(4, 0, n) + pb_field(35, 0, 1)
    for number, value in ids:
        trainer += pb_field(number, 0, value)
    normalizer = pb_field(1, 2, b"identity") + pb_field(3, 0, 0) + pb_field(4, 0, 0)
    return bytes(out + pb_field(2, 2, trainer) + pb_field(3, 2, normalizer))


def tokenizer_json(r):
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type") or [1] * len(tokens)
    merges = field(r, "tokenizer.ggml.merges") or []
    pre = field(r, "tokenizer.ggml.pre", "llama-bpe")
    add_bos = bool(field(r, "tokenizer.ggml.add_bos_token", False))
    bos = field(r, "tokenizer.ggml.bos_token_id")
    split = {"qwen2": QWEN2_SPLIT, "gpt-4o": O200K_SPLIT}.get(pre, LLAMA3_SPLIT)
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True}
             for i, (t, ty) in enumerate(zip(tokens, types)) if ty in (3, 4)]
    post = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}
    if add_bos and bos is not None:
        b = tokens[bos]
        post = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": b, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": b, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": b, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {b: {"id": b, "ids": [bos], "tokens": [b]}}}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"} if pre == "qwen2" else None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": pre != "qwen2",
             "use_regex": False}]},
        "post_processor": post,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": pre != "qwen2",
                  "vocab": {t: i for i, t in enumerate(tokens) if types[i] not in (3, 4)},
                  "merges": list(merges)},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gguf")
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    ap.add_argument("--shards", type=int, default=1, help="split the weights over N files + index")
    ap.add_argument("--random", type=int, metavar="SEED", help="random weights instead of the GGUF's")
    ap.add_argument("--llama3-rope", metavar="F,LOW,HIGH,CTX",
                    help="write Llama 3.1 rope_scaling instead of the rope_freqs tensor")
    ap.add_argument("--vocab", metavar="GGUF", help="the vocabulary of this GGUF instead")
    ap.add_argument("--untie", action="store_true", help="write a random lm_head")
    ap.add_argument("--no-rope-scaling", action="store_true",
                    help="phi3: leave the LongRoPE factors out (Phi-3-mini-4k)")
    a = ap.parse_args()
    r = gguf.GGUFReader(a.gguf)
    arch = field(r, "general.architecture")
    if arch not in ("llama", "qwen2", "gemma3", "phi3"):
        raise SystemExit("only llama, qwen2, gemma3 and phi3 GGUFs")
    v = gguf.GGUFReader(a.vocab) if a.vocab else r  # the vocabulary's GGUF
    spm = field(v, "tokenizer.ggml.model") == "llama"
    p = arch + "."
    n_head, n_head_kv = field(r, p + "attention.head_count"), field(r, p + "attention.head_count_kv")
    n_embd = field(r, p + "embedding_length")
    n_vocab = len(field(v, "tokenizer.ggml.tokens"))
    rng = np.random.default_rng(a.random) if a.random is not None else None
    fresh = np.random.default_rng(1234)  # rows the source GGUF has not got
    tensors, has_output, rope_factors = [], False, {}
    for t in r.tensors:
        if t.name in ("rope_factors_long.weight", "rope_factors_short.weight"):
            rope_factors[t.name.split("_")[2].split(".")[0]] = [float(x) for x in t.data]
            continue
        if t.name in ("rope_freqs.weight",):
            continue
        if a.vocab and t.name in ("token_embd.weight", "output.weight"):
            tensors.append((hf_name(t.name, arch), fresh.standard_normal((n_vocab, n_embd)).astype(np.float32)))
            has_output |= t.name == "output.weight"
            continue
        w = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        w = w.reshape([int(d) for d in reversed(t.shape)]) if len(t.shape) > 1 else w.reshape(-1)
        if rng is not None:
            w = (rng.standard_normal(w.shape) * (0.02 if w.ndim > 1 else 0.1) +
                 (1.0 if t.name.endswith("norm.weight") else 0.0)).astype(np.float32)
        if arch == "gemma3" and t.name.endswith("norm.weight"):
            w = w - np.float32(1)  # Gemma3RMSNorm multiplies by 1 + w
        if arch == "llama" and t.name.split(".")[-2] in ("attn_q", "attn_k"):
            w = unpermute(w, n_head if ".attn_q." in t.name else n_head_kv)
        has_output |= t.name == "output.weight"
        tensors.append((hf_name(t.name, arch), w))
    if a.untie and not has_output:
        tensors.append(("lm_head.weight", (fresh.standard_normal((n_vocab, n_embd)) * 0.1).astype(np.float32)))
        has_output = True
    tensors.sort()
    os.makedirs(a.out, exist_ok=True)
    dtype = {"f32": "F32", "f16": "F16", "bf16": "BF16"}[a.dtype]
    if a.shards == 1:
        write_safetensors(os.path.join(a.out, "model.safetensors"), tensors, dtype)
    else:
        weight_map = {}
        for s in range(a.shards):
            name = "model-%05d-of-%05d.safetensors" % (s + 1, a.shards)
            part = tensors[s::a.shards]
            write_safetensors(os.path.join(a.out, name), part, dtype)
            weight_map.update({n: name for n, _ in part})
        with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)

    tokens = field(v, "tokenizer.ggml.tokens")
    bos, eos = field(v, "tokenizer.ggml.bos_token_id"), field(v, "tokenizer.ggml.eos_token_id")
    config = {
        "architectures": [{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
                           "gemma3": "Gemma3ForCausalLM", "phi3": "Phi3ForCausalLM"}[arch]],
        "_name_or_path": os.path.abspath(a.gguf),  # provenance
        "model_type": arch, "hidden_act": "silu",
        "hidden_size": field(r, p + "embedding_length"),
        "intermediate_size": field(r, p + "feed_forward_length"),
        "num_hidden_layers": field(r, p + "block_count"),
        "num_attention_heads": n_head, "num_key_value_heads": n_head_kv,
        "max_position_embeddings": field(r, p + "context_length"),
        "rms_norm_eps": float(np.float32(field(r, p + "attention.layer_norm_rms_epsilon"))),
        "rope_theta": float(field(r, p + "rope.freq_base", 10000.0)),
        "vocab_size": len(tokens), "tie_word_embeddings": not has_output,
        "torch_dtype": {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[a.dtype],
        "bos_token_id": bos, "eos_token_id": eos,
    }
    if arch == "gemma3":
        config.update({
            "model_type": "gemma3_text", "hidden_activation": "gelu_pytorch_tanh",
            "head_dim": field(r, p + "attention.key_length"),
            "query_pre_attn_scalar": field(r, p + "attention.key_length"),
            "sliding_window": field(r, p + "attention.sliding_window"),
            "rope_local_base_freq": float(field(r, p + "rope.freq_base_swa", 10000.0)),
            "pad_token_id": field(r, "tokenizer.ggml.padding_token_id")})
        del config["hidden_act"]
    if arch == "phi3":
        n_ctx = field(r, p + "context_length")
        head_dim = n_embd // n_head
        config.update({
            "partial_rotary_factor": field(r, p + "rope.dimension_count") / head_dim,
            "original_max_position_embeddings": n_ctx,
            "sliding_window": field(r, p + "attention.sliding_window"),
            "pad_token_id": field(v, "tokenizer.ggml.padding_token_id"), "rope_scaling": None})
        if rope_factors and not a.no_rope_scaling:
            config["original_max_position_embeddings"] = field(r, p + "rope.scaling.original_context_length")
            config["rope_scaling"] = {"type": "longrope", "long_factor": rope_factors["long"],
                                      "short_factor": rope_factors["short"]}
    if a.llama3_rope:
        f, lo, hi, ctx = (float(x) for x in a.llama3_rope.split(","))
        config["rope_scaling"] = {"rope_type": "llama3", "factor": f, "low_freq_factor": lo,
                                  "high_freq_factor": hi, "original_max_position_embeddings": int(ctx)}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    phi3_spm = arch == "phi3" and spm
    if spm:
        with open(os.path.join(a.out, "tokenizer.model"), "wb") as f:
            f.write(sentencepiece_model(v, phi3=phi3_spm))
    else:
        with open(os.path.join(a.out, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer_json(v), f, ensure_ascii=False, indent=1)
    if phi3_spm:  # Phi-3's added tokens, also listed in added_tokens.json
        types = field(v, "tokenizer.ggml.token_type")
        with open(os.path.join(a.out, "added_tokens.json"), "w", encoding="utf-8") as f:
            json.dump({tokens[i]: i for i in range(phi3_piece_count(v), len(tokens)) if types[i] in (3, 4)},
                      f, ensure_ascii=False, indent=2)
    tok_config = {"add_bos_token": bool(field(v, "tokenizer.ggml.add_bos_token", False)),
                  "add_eos_token": False, "clean_up_tokenization_spaces": False,
                  "bos_token": tokens[bos] if bos is not None else None,
                  "eos_token": tokens[eos] if eos is not None else None,
                  "model_max_length": config["max_position_embeddings"],
                  "tokenizer_class": "PreTrainedTokenizerFast"}
    if arch == "phi3" and not spm:
        tok_config["tokenizer_class"] = "GPT2Tokenizer"  # Phi-4-mini's
    if spm:  # the special and user-defined tokens, as Hugging Face lists them
        types = field(v, "tokenizer.ggml.token_type")
        tok_config["tokenizer_class"] = "LlamaTokenizer" if phi3_spm else "GemmaTokenizer"
        tok_config["add_bos_token"] = bool(field(v, "tokenizer.ggml.add_bos_token", True))
        tok_config["added_tokens_decoder"] = {
            str(i): {"content": tokens[i], "lstrip": False, "normalized": False, "rstrip": False,
                     "single_word": False, "special": types[i] == 3}
            for i in range(len(tokens)) if types[i] in (3, 4)}
    if (tmpl := field(v, "tokenizer.chat_template")) is not None:
        tok_config["chat_template"] = tmpl
    with open(os.path.join(a.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_config, f, ensure_ascii=False, indent=2)
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": bos, "eos_token_id": eos}, f, indent=2)


if __name__ == "__main__":
    main()
