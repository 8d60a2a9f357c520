#!/usr/bin/env python3
"""Generate kernel test vectors from the reference `gguf` Python package (gguf-py).

Writes tests/data/kernels/<type>.bin, read by tests/unit/kernels_vectors_test.cc.
Our DequantizeRow* must reproduce gguf-py's dequantize() bit for bit, and, for the types
gguf-py can quantize (F16, BF16, Q4_0, Q4_1, Q8_0, Q5_1), our QuantizeRow* must reproduce its bytes.

File format (little endian):
  char[4]  magic "FKV1"
  u32      ggml type id
  u32      n (elements)
  u32      has_input (1: quantize vector, 0: dequantize-only vector)
  f32[n]   input                  (only if has_input)
  u32      nbytes
  u8[nbytes] quantized bytes      (gguf-py quantize(input), or synthetic blocks)
  f32[n]   gguf-py dequantize(quantized bytes)

Usage: python3 tools/gen_kernel_vectors.py [out_dir]   (default tests/data/kernels)
Deterministic: fixed seeds, so rerunning reproduces the committed files.
"""

import struct
import sys
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGML_QUANT_SIZES
from gguf import quants


def quantize_input(rng: np.random.Generator, n: int) -> np.ndarray:
    """Values with edge cases: gaussian blocks of different scales, a zero block, exact
    halves (rounding ties for Q8_0 and Q4_0), a block dominated by a negative outlier."""
    x = np.empty(n, dtype=np.float32)
    blocks = n // 32
    for b in range(blocks):
        kind = b % 8
        s = slice(32 * b, 32 * b + 32)
        if kind == 0:
            x[s] = rng.standard_normal(32)
        elif kind == 1:
            x[s] = rng.standard_normal(32) * 1e-3
        elif kind == 2:
            x[s] = 0.0
        elif kind == 3:
            # amax 127 makes Q8_0's d exactly 1: halves are exact ties for roundf.
            v = (rng.integers(-40, 40, 32) / 2.0).astype(np.float32)
            v[0] = 127.0
            v[31] = 0.75
            x[s] = v
        elif kind == 4:
            # A signed max of -8 makes Q4_0's d exactly 1: halves are exact ties.
            v = (rng.integers(-16, 16, 32) / 2.0).astype(np.float32)
            v[0] = -8.0
            x[s] = v
        elif kind == 5:
            v = rng.standard_normal(32).astype(np.float32)
            v[7] = -40.0
            x[s] = v
        elif kind == 6:
            x[s] = rng.uniform(-100.0, 100.0, 32)
        else:
            x[s] = rng.standard_normal(32) * 3.0 + 5.0  # all positive, large offset
    return x.astype(np.float32)


def f16_bytes(v: np.ndarray) -> np.ndarray:
    return np.asarray([v], dtype=np.float16).view(np.uint8)


def synthetic_kquant(rng: np.random.Generator, qtype: T, n_blocks: int) -> np.ndarray:
    """Random K-quant blocks: random quant bits and scales, realistic f16 super-scales."""
    _, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, (n_blocks, type_size), dtype=np.uint8)
    for b in range(n_blocks):
        d = f16_bytes(rng.uniform(1e-4, 5e-2) * (1 if b % 2 == 0 else -1))
        dmin = f16_bytes(rng.uniform(1e-4, 5e-2))
        if qtype in (T.Q4_K, T.Q5_K):
            raw[b, 0:2] = d
            raw[b, 2:4] = dmin
        elif qtype == T.Q6_K:
            raw[b, type_size - 2:type_size] = d
    return raw.reshape(-1)


def write(path: Path, type_id: int, n: int, inp, qbytes: np.ndarray, deq: np.ndarray) -> None:
    deq = np.asarray(deq, dtype=np.float32).reshape(-1)
    assert deq.size == n
    with open(path, "wb") as f:
        f.write(b"FKV1")
        f.write(struct.pack("<III", type_id, n, 1 if inp is not None else 0))
        if inp is not None:
            f.write(np.asarray(inp, dtype="<f4").tobytes())
        qb = np.asarray(qbytes, dtype=np.uint8).tobytes()
        f.write(struct.pack("<I", len(qb)))
        f.write(qb)
        f.write(deq.astype("<f4").tobytes())


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "tests/data/kernels"
    out.mkdir(parents=True, exist_ok=True)

    # Quantize + dequantize vectors.
    for seed, qtype in enumerate([T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q8_0]):
        rng = np.random.default_rng(1000 + seed)
        n = 256
        x = quantize_input(rng, n)
        q = quants.quantize(x.reshape(1, n), qtype)
        qb = np.asarray(q).view(np.uint8).reshape(-1)
        deq = quants.dequantize(qb.reshape(1, -1), qtype)
        write(out / f"{qtype.name.lower()}.bin", int(qtype), n, x, qb, deq)

    # Q5_1 (llama-quantize's fallback for Q5_K_M rows that are not whole 256-blocks), added
    # later with its own seed so the vectors above stay as they were.
    rng = np.random.default_rng(1100)
    n = 256
    x = quantize_input(rng, n)
    qb = np.asarray(quants.quantize(x.reshape(1, n), T.Q5_1)).view(np.uint8).reshape(-1)
    deq = quants.dequantize(qb.reshape(1, -1), T.Q5_1)
    write(out / "q5_1.bin", int(T.Q5_1), n, x, qb, deq)

    # Dequantize-only vectors for the K-quants (gguf-py has no K-quant quantizer).
    for seed, qtype in enumerate([T.Q4_K, T.Q5_K, T.Q6_K]):
        rng = np.random.default_rng(2000 + seed)
        n_blocks = 2
        qb = synthetic_kquant(rng, qtype, n_blocks)
        deq = quants.dequantize(qb.reshape(1, -1), qtype)
        write(out / f"{qtype.name.lower()}.bin", int(qtype), n_blocks * 256, None, qb, deq)


if __name__ == "__main__":
    main()
