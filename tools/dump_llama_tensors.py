#!/usr/bin/env python3
"""Dump every f32/f16 tensor of llama.cpp's compute graph (the reference, through the pinned
llama-cpp-python) for one prompt, and optionally for single-token decode steps after it.

This is how the AVX2 numerics were made bit-exact (docs/architecture.md): dump the reference,
write the same intermediates from our forward pass (a temporary probe in src/model/arch/*.cc),
and compare tensor by tensor with numpy to find the first operation whose bits differ.

  python3 tools/dump_llama_tensors.py MODEL.gguf OUT_DIR --tokens 504,3575,282 [--decode 7042,30]

Files are OUT_DIR/<ggml tensor name>.<k>.npy, k counting the tensor's evaluations (llama.cpp
names them e.g. attn_norm-0, Qcur-0 (three per pass: matmul, reshape, rope), kq-0,
kq_soft_max-0, kqv_out-0, ffn_swiglu-0, l_out-0, result_norm, result_output). Arrays have
shape (ne3, ne2, ne1, ne0). Non-flash attention, 2 threads, n_ctx 512, as the goldens.
"""
import argparse
import ctypes
import os

import numpy as np
from llama_cpp import llama_cpp as L


class GgmlTensor(ctypes.Structure):  # ggml.h's struct ggml_tensor (ggml 0.25)
    _fields_ = [("type", ctypes.c_int), ("buffer", ctypes.c_void_p),
                ("ne", ctypes.c_int64 * 4), ("nb", ctypes.c_size_t * 4),
                ("op", ctypes.c_int), ("op_params", ctypes.c_int32 * 16),
                ("flags", ctypes.c_int32), ("src", ctypes.c_void_p * 10),
                ("view_src", ctypes.c_void_p), ("view_offs", ctypes.c_size_t),
                ("data", ctypes.c_void_p), ("name", ctypes.c_char * 64),
                ("extra", ctypes.c_void_p), ("padding", ctypes.c_char * 8)]


def read_tensor(t):
    dtype = np.float32 if t.type == 0 else np.float16
    esz = np.dtype(dtype).itemsize
    ne, nb = list(t.ne), list(t.nb)
    out = np.empty((ne[3], ne[2], ne[1], ne[0]), dtype=dtype)
    for i3 in range(ne[3]):
        for i2 in range(ne[2]):
            for i1 in range(ne[1]):
                row = t.data + i1 * nb[1] + i2 * nb[2] + i3 * nb[3]
                for i0 in range(ne[0]) if nb[0] != esz else [None]:
                    if i0 is None:
                        buf = (ctypes.c_char * (ne[0] * esz)).from_address(row)
                        out[i3, i2, i1] = np.frombuffer(bytes(buf), dtype=dtype)
                    else:
                        buf = (ctypes.c_char * esz).from_address(row + i0 * nb[0])
                        out[i3, i2, i1, i0] = np.frombuffer(bytes(buf), dtype=dtype)[0]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("out_dir")
    ap.add_argument("--tokens", required=True, help="prompt token ids, comma-separated")
    ap.add_argument("--decode", default="", help="token ids decoded one at a time afterwards")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    counts = {}

    def on_tensor(ptr, ask, _user):
        if ask:
            return True
        t = ctypes.cast(ptr, ctypes.POINTER(GgmlTensor)).contents
        if t.type not in (0, 1):  # f32, f16
            return True
        name = t.name.decode()
        k = counts.get(name, 0)
        counts[name] = k + 1
        np.save(os.path.join(a.out_dir, "%s.%d.npy" % (name, k)), read_tensor(t))
        return True

    callback = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_bool,
                                ctypes.c_void_p)(on_tensor)
    L.llama_backend_init()
    model = L.llama_model_load_from_file(a.model.encode(), L.llama_model_default_params())
    cp = L.llama_context_default_params()
    cp.n_ctx = cp.n_batch = cp.n_ubatch = 512
    cp.n_threads = cp.n_threads_batch = 2
    cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
    cp.cb_eval = ctypes.cast(callback, type(cp.cb_eval))
    ctx = L.llama_init_from_model(model, cp)

    def decode(ids, first_pos):
        batch = L.llama_batch_init(len(ids), 0, 1)
        for i, tok in enumerate(ids):
            batch.token[i], batch.pos[i] = tok, first_pos + i
            batch.n_seq_id[i], batch.seq_id[i][0], batch.logits[i] = 1, 0, True
        batch.n_tokens = len(ids)
        assert L.llama_decode(ctx, batch) == 0
        L.llama_batch_free(batch)

    prompt = [int(x) for x in a.tokens.split(",")]
    decode(prompt, 0)
    for j, tok in enumerate(int(x) for x in a.decode.split(",") if x):
        decode([tok], len(prompt) + j)
    print("%d tensors, %d files in %s" % (len(counts), sum(counts.values()), a.out_dir))


if __name__ == "__main__":
    main()
