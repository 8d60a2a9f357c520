#!/usr/bin/env python3
"""Writes the GGUF reader's test corpus: tests/data/gguf-corpus/{valid,invalid}/*.gguf + manifest.

Deterministic (no randomness, no timestamps): running it twice gives identical bytes.

* valid/: files every GGUF reader must accept. `writer-v3.gguf` and `writer-align64.gguf` come
  from the `gguf` Python package (GGUFWriter), the reference implementation; `hand-*.gguf` are
  packed by hand here, and the generator asserts that the hand packer reproduces GGUFWriter's
  bytes exactly for the same content and that gguf.GGUFReader reads every valid file back.
* invalid/: corrupt variants of the hand-packed file. manifest.json maps each invalid file name
  to a substring that the reader's error message must contain, and records the values the
  valid files hold (checked by tests/unit/gguf_corpus_test.cc).

Usage: python3 tools/make_gguf_corpus.py [OUT_DIR]   (default tests/data/gguf-corpus)
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

import gguf
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V

# ---------------------------------------------------------------------------------------------
# Hand packer.

SCALAR_FMT = {
    V.UINT8: "<B", V.INT8: "<b", V.UINT16: "<H", V.INT16: "<h", V.UINT32: "<I", V.INT32: "<i",
    V.FLOAT32: "<f", V.BOOL: "<B", V.UINT64: "<Q", V.INT64: "<q", V.FLOAT64: "<d",
}
# (elements per block, bytes per block) for the tensor types the corpus uses.
BLOCK = {Q.F32: (1, 4), Q.F16: (1, 2), Q.Q8_0: (32, 34), Q.Q4_K: (256, 144)}


def u32(x: int) -> bytes:
    return struct.pack("<I", x)


def u64(x: int) -> bytes:
    return struct.pack("<Q", x)


def gstr(s: str | bytes) -> bytes:
    b = s.encode("utf-8") if isinstance(s, str) else s
    return u64(len(b)) + b


def pack_value(vtype: int, val, sub=None) -> bytes:
    """Value body (no type tag). Arrays: val is a list; sub the element type (nested: a tuple
    (V.ARRAY, inner_sub))."""
    if vtype == V.STRING:
        return gstr(val)
    if vtype == V.ARRAY:
        inner_sub = None
        if isinstance(sub, tuple):
            sub, inner_sub = sub
        return u32(sub) + u64(len(val)) + b"".join(pack_value(sub, v, inner_sub) for v in val)
    return struct.pack(SCALAR_FMT[V(vtype)], val)


@dataclass
class Kv:
    key: str | bytes
    vtype: int
    val: object
    sub: object = None
    raw: bytes | None = None  # replaces the packed value body (type tag kept)


@dataclass
class Tensor:
    name: str | bytes
    dims: list[int]  # ggml order: dims[0] is the row
    ttype: int
    data: bytes
    offset: int | None = None  # None: next aligned offset


@dataclass
class Built:
    data: bytes
    marks: dict[str, int] = field(default_factory=dict)


def patch(data: bytes, pos: int, new: bytes) -> bytes:
    return data[:pos] + new + data[pos + len(new):]


def tensor_bytes(dims: list[int], ttype: int) -> int:
    be, bb = BLOCK[Q(ttype)]
    n = 1
    for d in dims:
        n *= d
    return n // be * bb


def build(kvs: list[Kv], tensors: list[Tensor], version: int = 3, alignment: int = 32,
          magic: bytes = b"GGUF", n_tensors: int | None = None, n_kv: int | None = None) -> Built:
    marks: dict[str, int] = {}
    out = bytearray()
    out += magic + u32(version)
    out += u64(len(tensors) if n_tensors is None else n_tensors)
    out += u64(len(kvs) if n_kv is None else n_kv)
    marks["header_end"] = len(out)
    for k, kv in enumerate(kvs):
        marks[f"kv{k}"] = len(out)
        out += gstr(kv.key)
        marks[f"kv{k}_type"] = len(out)
        out += u32(kv.vtype)
        marks[f"kv{k}_value"] = len(out)
        out += kv.raw if kv.raw is not None else pack_value(kv.vtype, kv.val, kv.sub)
        marks[f"kv{k}_end"] = len(out)
    marks["tinfo"] = len(out)
    offset = 0
    offsets = []
    for k, t in enumerate(tensors):
        off = offset if t.offset is None else t.offset
        offsets.append(off)
        marks[f"t{k}"] = len(out)
        out += gstr(t.name)
        marks[f"t{k}_dims"] = len(out)
        out += u32(len(t.dims)) + b"".join(u64(d) for d in t.dims)
        marks[f"t{k}_type"] = len(out)
        out += u32(t.ttype)
        marks[f"t{k}_offset"] = len(out)
        out += u64(off)
        marks[f"t{k}_data"] = off
        offset = max(offset, off + len(t.data))
        offset = (offset + alignment - 1) // alignment * alignment
    marks["tinfo_end"] = len(out)
    out += b"\0" * (-len(out) % alignment)
    marks["data"] = len(out)
    data = bytearray()
    for t, off in zip(tensors, offsets):
        if off + len(t.data) > 1 << 16:
            continue  # an out-of-range offset: the data is simply absent
        if len(data) < off + len(t.data):
            data += b"\0" * (off + len(t.data) - len(data))
        data[off:off + len(t.data)] = t.data
    data += b"\0" * (-len(data) % alignment)
    out += data
    marks["end"] = len(out)
    return Built(bytes(out), marks)


# ---------------------------------------------------------------------------------------------
# Content of the valid files.

def pattern(n: int, seed: int) -> bytes:
    # A fixed byte pattern (a small LCG), so every tensor's bytes differ and are reproducible.
    x = seed
    out = bytearray()
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


def base_kvs() -> list[Kv]:
    # Every value type, arrays of every element kind, nested arrays (GGUFWriter infers nested
    # element types: ints -> int32, strings -> string).
    return [
        Kv("general.architecture", V.STRING, "llama"),
        Kv("general.name", V.STRING, "foundry gguf corpus"),
        Kv("test.u8", V.UINT8, 200),
        Kv("test.i8", V.INT8, -100),
        Kv("test.u16", V.UINT16, 60000),
        Kv("test.i16", V.INT16, -30000),
        Kv("test.u32", V.UINT32, 4000000000),
        Kv("test.i32", V.INT32, -2000000000),
        Kv("test.f32", V.FLOAT32, 0.5),
        Kv("test.bool_true", V.BOOL, True),
        Kv("test.bool_false", V.BOOL, False),
        Kv("test.u64", V.UINT64, 2**63 + 5),
        Kv("test.i64", V.INT64, -(2**62)),
        Kv("test.f64", V.FLOAT64, 3.141592653589793),
        Kv("test.str_empty", V.STRING, ""),
        Kv("test.str_utf8", V.STRING, "h\u00e9llo \u2713"),
        Kv("test.arr_str", V.ARRAY, ["a", "bc", "", "d\u00e9f"], V.STRING),
        Kv("test.arr_u8", V.ARRAY, [0, 1, 255], V.UINT8),
        Kv("test.arr_i8", V.ARRAY, [-128, 127], V.INT8),
        Kv("test.arr_u16", V.ARRAY, [65535], V.UINT16),
        Kv("test.arr_i16", V.ARRAY, [-2, 3], V.INT16),
        Kv("test.arr_u32", V.ARRAY, [7, 8, 9], V.UINT32),
        Kv("test.arr_i32", V.ARRAY, [1, -2, 3], V.INT32),
        Kv("test.arr_f32", V.ARRAY, [0.25, -1.5], V.FLOAT32),
        Kv("test.arr_bool", V.ARRAY, [True, False, True], V.BOOL),
        Kv("test.arr_u64", V.ARRAY, [2**64 - 1, 1], V.UINT64),
        Kv("test.arr_i64", V.ARRAY, [-(2**63), 5], V.INT64),
        Kv("test.arr_f64", V.ARRAY, [1e300, -0.125], V.FLOAT64),
        Kv("test.arr_nested_i32", V.ARRAY, [[1, 2], [3]], (V.ARRAY, V.INT32)),
        Kv("test.arr_nested_str", V.ARRAY, [["x"], ["y", "z"]], (V.ARRAY, V.STRING)),
        Kv("test.last", V.UINT32, 42),
    ]


def base_tensors() -> list[Tensor]:
    f32 = np.arange(16, dtype=np.float32) * np.float32(0.5)
    f16 = (np.arange(16, dtype=np.float16) - np.float16(8)) / np.float16(4)
    return [
        Tensor("token_embd.weight", [8, 2], Q.F32, f32.tobytes()),
        Tensor("output_norm.weight", [16], Q.F16, f16.tobytes()),
        Tensor("blk.0.attn_q.weight", [32, 2], Q.Q8_0, pattern(68, 1)),
        Tensor("blk.0.ffn_down.weight", [256, 1], Q.Q4_K, pattern(144, 2)),
    ]


def write_with_gguf_writer(path: str, kvs: list[Kv], tensors: list[Tensor], alignment: int | None):
    w = gguf.GGUFWriter(path, arch=None)  # arch None: the kvs carry general.architecture
    for kv in kvs:
        if kv.key == "general.alignment":
            continue
        sub = kv.sub[0] if isinstance(kv.sub, tuple) else kv.sub
        w.add_key_value(kv.key, kv.val, V(kv.vtype), sub_type=None if sub is None else V(sub))
    if alignment is not None:
        w.add_custom_alignment(alignment)
    for t in tensors:
        arr = np.frombuffer(t.data, dtype=np.uint8)
        if t.ttype == Q.F32:
            arr = arr.view(np.float32).reshape(list(reversed(t.dims)))
            w.add_tensor(t.name, arr)
        elif t.ttype == Q.F16:
            arr = arr.view(np.float16).reshape(list(reversed(t.dims)))
            w.add_tensor(t.name, arr)
        else:
            be, bb = BLOCK[Q(t.ttype)]
            byte_shape = list(reversed(t.dims))
            byte_shape[-1] = byte_shape[-1] // be * bb
            w.add_tensor(t.name, arr.reshape(byte_shape), raw_dtype=Q(t.ttype))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def check_with_gguf_reader(path: str, kvs: list[Kv], tensors: list[Tensor]):
    r = gguf.GGUFReader(path)
    keys = [f.name for f in r.fields.values() if not f.name.startswith("GGUF.")]
    assert keys == [k.key for k in kvs], (path, keys)
    assert [t.name for t in r.tensors] == [t.name for t in tensors], path
    for got, want in zip(r.tensors, tensors):
        assert list(got.shape) == want.dims, (path, got.name, got.shape)
        assert int(got.tensor_type) == want.ttype, (path, got.name)
        assert bytes(got.data.tobytes()) == want.data, (path, got.name)


# ---------------------------------------------------------------------------------------------
# Invalid variants.

def invalid_cases() -> dict[str, tuple[bytes, str]]:
    kvs = base_kvs()
    ts = base_tensors()
    good = build(kvs, ts)
    m = good.marks
    g = good.data
    idx = {kv.key: k for k, kv in enumerate(kvs)}
    cases: dict[str, tuple[bytes, str]] = {}

    def add(name: str, data: bytes, expect: str):
        assert name not in cases, name
        assert data != g, name
        cases[name] = (data, expect)

    def with_kv(key: str, **changes) -> list[Kv]:
        out = [Kv(kv.key, kv.vtype, kv.val, kv.sub, kv.raw) for kv in kvs]
        for kv in out:
            if kv.key == key:
                for a, b in changes.items():
                    setattr(kv, a, b)
        return out

    def with_tensor(k: int, **changes) -> list[Tensor]:
        out = [Tensor(t.name, list(t.dims), t.ttype, t.data, t.offset) for t in ts]
        for a, b in changes.items():
            setattr(out[k], a, b)
        return out

    # --- truncation at every section boundary and in the middle of each field. The field cut
    # is moved to the end of its section first, so that the earlier "count cannot fit" checks
    # (which see most of the file) pass and the cut itself is what the reader reports.
    def last_kv(key: str) -> Built:
        return build([kv for kv in kvs if kv.key != key] + [kv for kv in kvs if kv.key == key], ts)

    def cut_kv(key: str, field: str, extra: int) -> bytes:
        b = last_kv(key)
        k = len(kvs) - 1
        pos = {"key": b.marks[f"kv{k}"], "type": b.marks[f"kv{k}_type"],
               "value": b.marks[f"kv{k}_value"]}[field]
        return b.data[:pos + extra]

    trunc = {
        "trunc-empty": (g[:0], "truncated while reading the header"),
        "trunc-header-magic": (g[:2], "truncated while reading the header"),
        "trunc-header-version": (g[:6], "truncated while reading the header"),
        "trunc-header-n-tensors": (g[:12], "truncated while reading the header"),
        "trunc-header-n-kv": (g[:20], "truncated while reading the header"),
        # After the header the counts no longer fit in what is left.
        "trunc-after-header": (g[:m["header_end"]], "metadata count 31 cannot fit in the file"),
        "trunc-in-metadata": (g[:m["kv3"]], "metadata count 31 cannot fit in the file"),
        "trunc-kv-key-length": (cut_kv("test.u64", "key", 3),
                                "truncated while reading a metadata key"),
        "trunc-kv-key-bytes": (cut_kv("test.u64", "key", 10),
                               "a metadata key: string length 8 runs past the end"),
        "trunc-kv-type": (cut_kv("test.u64", "type", 2),
                          "truncated while reading metadata 'test.u64'"),
        "trunc-kv-value-u64": (cut_kv("test.u64", "value", 5),
                               "truncated while reading metadata 'test.u64'"),
        "trunc-kv-value-string-length": (cut_kv("general.name", "value", 4),
                                         "truncated while reading metadata 'general.name'"),
        "trunc-kv-value-string-bytes": (cut_kv("general.name", "value", 12),
                                        "metadata 'general.name': string length 19 runs past"),
        "trunc-array-type": (cut_kv("test.arr_u32", "value", 2),
                             "truncated while reading metadata 'test.arr_u32'"),
        "trunc-array-count": (cut_kv("test.arr_u32", "value", 6),
                              "truncated while reading metadata 'test.arr_u32'"),
        "trunc-array-payload": (cut_kv("test.arr_u32", "value", 12 + 5),
                                "metadata 'test.arr_u32': array of 3 elements runs past"),
        "trunc-array-strings": (cut_kv("test.arr_str", "value", 12 + 8 + 1 + 4),
                                "metadata 'test.arr_str': array of 4 strings cannot fit"),
        "trunc-array-string-bytes": (cut_kv("test.arr_str", "value", 12 + 9 + 10 + 8 + 8 + 2),
                                     "metadata 'test.arr_str': string length 4 runs past"),
        "trunc-array-nested-count": (cut_kv("test.arr_nested_i32", "value", 12 + 12 + 4),
                                     "metadata 'test.arr_nested_i32': array of 2 arrays cannot"),
        "trunc-array-nested-payload": (cut_kv("test.arr_nested_i32", "value", 12 + 20 + 12 + 2),
                                       "metadata 'test.arr_nested_i32': array of 1 elements"),
        "trunc-before-tensor-infos": (g[:m["tinfo"]], "tensor count 4 cannot fit in the file"),
        "trunc-tensor-name-length": (g[:m["t3"] + 4], "truncated while reading a tensor name"),
        "trunc-tensor-name": (g[:m["t3"] + 12],
                              "a tensor name: string length 21 runs past the end"),
        "trunc-tensor-n-dims": (g[:m["t3_dims"] + 2],
                                "truncated while reading tensor 'blk.0.ffn_down.weight'"),
        "trunc-tensor-dims": (g[:m["t3_dims"] + 6 + 8],
                              "truncated while reading tensor 'blk.0.ffn_down.weight'"),
        "trunc-tensor-type": (g[:m["t3_type"] + 1],
                              "truncated while reading tensor 'blk.0.ffn_down.weight'"),
        "trunc-tensor-offset": (g[:m["t3_offset"] + 7],
                                "truncated while reading tensor 'blk.0.ffn_down.weight'"),
        "trunc-before-data": (g[:m["tinfo_end"]], "truncated before the tensor data section"),
        "trunc-data-first-tensor": (g[:m["data"] + 30],
                                    "tensor 'token_embd.weight' (64 bytes at data offset 0) runs"),
        "trunc-data-last-byte": (g[:m["data"] + m["t3_data"] + 144 - 1],
                                 "tensor 'blk.0.ffn_down.weight' (144 bytes at data offset 192)"),
    }
    for name, (data, expect) in trunc.items():
        add(name, data, expect)

    # --- header.
    add("bad-magic", build(kvs, ts, magic=b"GGUX").data, "bad magic")
    add("bad-magic-ggml", b"lmgg" + g[4:], "bad magic")
    add("version-1", build(kvs, ts, version=1).data, "unsupported GGUF version 1")
    add("version-4", build(kvs, ts, version=4).data, "unsupported GGUF version 4")
    add("version-big-endian-3", build(kvs, ts, version=3 << 24).data, "unsupported GGUF version")
    add("n-tensors-2p60", build(kvs, ts, n_tensors=2**60).data, "absurd tensor count")
    add("n-kv-2p60", build(kvs, ts, n_kv=2**60).data, "absurd metadata count")
    # One entry more than written: the reader runs on into the tensor infos and fails there.
    add("n-kv-one-too-many", build(kvs, ts, n_kv=len(kvs) + 1).data,
        "a tensor name: string length")
    # --- metadata values.
    add("array-count-2p62", build(with_kv("test.arr_u32", raw=u32(V.UINT32) + u64(2**62)), ts).data,
        "array of 4611686018427387904 elements runs past the end")
    add("array-strings-2p60",
        build(with_kv("test.arr_str", raw=u32(V.STRING) + u64(2**60) + gstr("a")), ts).data,
        "array of 1152921504606846976 strings cannot fit")
    add("array-nested-2p60",
        build(with_kv("test.arr_nested_i32", raw=u32(V.ARRAY) + u64(2**60)), ts).data,
        "arrays cannot fit")
    add("string-length-2p63", build(with_kv("general.name", raw=u64(2**63) + b"x"), ts).data,
        "string length 9223372036854775808")
    add("key-length-2p63", patch(g, m["kv2"], u64(2**63)),
        "a metadata key: string length 9223372036854775808")
    add("unknown-value-type", build(with_kv("test.u32", vtype=13, raw=u32(0)), ts).data,
        "metadata 'test.u32': unknown value type 13")
    add("unknown-value-type-huge", build(with_kv("test.u32", vtype=0xFFFFFFFF, raw=u32(0)), ts).data,
        "unknown value type 4294967295")
    add("unknown-array-element-type",
        build(with_kv("test.arr_u32", raw=u32(99) + u64(1) + u32(0)), ts).data,
        "unknown array element type 99")
    add("array-nested-too-deep",
        build(with_kv("test.arr_u32", raw=(u32(V.ARRAY) + u64(1)) * 8 + u32(V.UINT8) + u64(0)), ts)
        .data, "nested too deep")
    add("bool-value-2", build(with_kv("test.bool_true", raw=b"\x02"), ts).data,
        "metadata 'test.bool_true': bool value 2")
    add("bool-array-value-2",
        build(with_kv("test.arr_bool", raw=u32(V.BOOL) + u64(3) + b"\x01\x02\x00"), ts).data,
        "bool array value out of range")
    add("duplicate-key", build(kvs + [Kv("test.u8", V.UINT8, 1)], ts).data,
        "duplicate metadata key 'test.u8'")
    # A key with control bytes must still give a one-line message.
    add("duplicate-key-newline",
        build(kvs + [Kv("bad\nkey", V.UINT8, 1), Kv("bad\nkey", V.UINT8, 2)], ts).data,
        "duplicate metadata key 'bad\\x0akey'")
    # --- alignment.
    add("alignment-0", build(kvs + [Kv("general.alignment", V.UINT32, 0)], ts).data,
        "general.alignment must be a power of two")
    add("alignment-3", build(kvs + [Kv("general.alignment", V.UINT32, 3)], ts).data,
        "general.alignment must be a power of two")
    add("alignment-2p40", build(kvs + [Kv("general.alignment", V.UINT64, 2**40)], ts).data,
        "general.alignment must be a power of two")
    add("alignment-string", build(kvs + [Kv("general.alignment", V.STRING, "32")], ts).data,
        "metadata 'general.alignment' is string, expected an integer")
    add("alignment-negative", build(kvs + [Kv("general.alignment", V.INT32, -32)], ts).data,
        "metadata 'general.alignment' is negative")
    # --- tensor infos.
    add("tensor-unknown-type", build(kvs, with_tensor(1, ttype=4)).data,
        "tensor 'output_norm.weight': unknown tensor type 4")
    add("tensor-unknown-type-huge", build(kvs, with_tensor(1, ttype=0xFFFFFFFF)).data,
        "unknown tensor type 4294967295")
    add("tensor-0-dims", build(kvs, with_tensor(1, dims=[])).data,
        "tensor 'output_norm.weight': 0 dimensions")
    add("tensor-5-dims", build(kvs, with_tensor(1, dims=[16, 1, 1, 1, 1])).data,
        "tensor 'output_norm.weight': 5 dimensions")
    add("tensor-n-dims-huge", patch(g, m["t1_dims"], u32(2**31)), "2147483648 dimensions")
    add("tensor-dim-0", build(kvs, with_tensor(0, dims=[8, 0])).data,
        "tensor 'token_embd.weight': invalid shape (dimension 1 = 0)")
    add("tensor-dims-overflow", build(kvs, with_tensor(0, dims=[2**32, 2**32, 2])).data,
        "tensor 'token_embd.weight': invalid shape")
    add("tensor-dims-overflow-wrap", build(kvs, with_tensor(0, dims=[2**63, 2])).data,
        "invalid shape")
    add("tensor-row-not-block-multiple", build(kvs, with_tensor(2, dims=[48, 1])).data,
        "tensor 'blk.0.attn_q.weight': row of 48 elements is not a multiple of the Q8_0 block")
    add("tensor-unaligned-offset", build(kvs, with_tensor(1, offset=64 + 16)).data,
        "tensor 'output_norm.weight': data offset 80 is not aligned to 32")
    add("tensor-offset-out-of-range", build(kvs, with_tensor(3, offset=1 << 20)).data,
        "tensor 'blk.0.ffn_down.weight' (144 bytes at data offset 1048576) runs past the end")
    add("tensor-offset-2p63", build(kvs, with_tensor(3, offset=2**63)).data,
        "runs past the end of the file")
    add("tensor-overlap", build(kvs, with_tensor(1, offset=32)).data,
        "tensors 'token_embd.weight' and 'output_norm.weight' overlap")
    add("tensor-same-offset", build(kvs, with_tensor(3, offset=0)).data, "overlap")
    add("tensor-duplicate-name", build(kvs, with_tensor(2, name="output_norm.weight")).data,
        "duplicate tensor name 'output_norm.weight'")
    add("tensor-name-length-2p63", patch(g, m["t2"], u64(2**63)),
        "a tensor name: string length 9223372036854775808")
    # A huge tensor (2^48 bytes) in a small file: the size must be checked, not trusted.
    add("tensor-huge", build(kvs, with_tensor(0, dims=[2**24, 2**24])).data,
        "runs past the end of the file")
    # Alignment 64 declared, but offsets laid out for 32.
    a64_kvs = kvs + [Kv("general.alignment", V.UINT32, 64)]
    add("alignment-64-offsets-32", build(a64_kvs, ts, alignment=32).data, "is not aligned to 64")
    return cases


# ---------------------------------------------------------------------------------------------

def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "data", "gguf-corpus")
    valid_dir = os.path.join(out, "valid")
    invalid_dir = os.path.join(out, "invalid")
    # Keep fuzz reproducers (committed by hand); regenerate everything else.
    kept = {}
    if os.path.isdir(invalid_dir):
        for n in os.listdir(invalid_dir):
            if n.startswith("fuzz-"):
                with open(os.path.join(invalid_dir, n), "rb") as f:
                    kept[n] = f.read()
    old_manifest = {}
    if os.path.exists(os.path.join(out, "manifest.json")):
        with open(os.path.join(out, "manifest.json")) as f:
            old_manifest = json.load(f).get("invalid", {})
    for d in (valid_dir, invalid_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    kvs = base_kvs()
    ts = base_tensors()
    valid: dict[str, dict] = {}

    def put_valid(name: str, data: bytes, kv_list: list[Kv], t_list: list[Tensor], version: int,
                  alignment: int, check_ref: bool = True):
        path = os.path.join(valid_dir, name + ".gguf")
        with open(path, "wb") as f:
            f.write(data)
        if version == 3 and check_ref:
            check_with_gguf_reader(path, kv_list, t_list)
        valid[name] = {"version": version, "alignment": alignment, "n_kv": len(kv_list),
                       "tensors": [t.name for t in t_list]}

    with tempfile.TemporaryDirectory() as tmp:
        for name, align in (("writer-v3", None), ("writer-align64", 64)):
            path = os.path.join(tmp, name + ".gguf")
            kv_list = kvs + ([Kv("general.alignment", V.UINT32, align)] if align else [])
            write_with_gguf_writer(path, kv_list, ts, align)
            with open(path, "rb") as f:
                ref = f.read()
            hand = build(kv_list, ts, alignment=align or 32).data
            assert hand == ref, f"hand packer disagrees with GGUFWriter for {name}"
            put_valid(name, ref, kv_list, ts, 3, align or 32)

    put_valid("hand-v2", build(kvs, ts, version=2).data, kvs, ts, 2, 32)
    empty_arr = kvs + [Kv("test.arr_empty", V.ARRAY, [], V.UINT32),
                       Kv("test.arr_empty_str", V.ARRAY, [], V.STRING)]
    put_valid("hand-empty-arrays", build(empty_arr, ts).data, empty_arr, ts, 3, 32)
    put_valid("header-only", build([], []).data, [], [], 3, 32)
    put_valid("header-only-unpadded", build([], []).data[:24], [], [], 3, 32)
    put_valid("metadata-only", build(kvs, []).data, kvs, [], 3, 32)
    # Tensors stored out of order in the data section, with a gap: legal.
    shuffled = [Tensor(t.name, t.dims, t.ttype, t.data, off)
                for t, off in zip(ts, [512, 0, 256, 64])]
    put_valid("tensors-out-of-order", build(kvs, shuffled).data, kvs, shuffled, 3, 32)
    # Signed-integer alignment is accepted when non-negative (GGUFReader and llama.cpp insist
    # on uint32; foundry is deliberately lenient here, so no reference check).
    a16 = kvs + [Kv("general.alignment", V.INT32, 16)]
    put_valid("alignment-16-int32", build(a16, ts, alignment=16).data, a16, ts, 3, 16,
              check_ref=False)

    invalid = {}
    for name, (data, expect) in invalid_cases().items():
        with open(os.path.join(invalid_dir, name + ".gguf"), "wb") as f:
            f.write(data)
        invalid[name + ".gguf"] = expect
    for n, data in kept.items():
        with open(os.path.join(invalid_dir, n), "wb") as f:
            f.write(data)
        invalid[n] = old_manifest.get(n, "")

    manifest = {
        "comment": "Generated by tools/make_gguf_corpus.py. invalid: file -> substring the error "
                   "message must contain. valid: file -> facts the reader must report.",
        "valid": {k + ".gguf": v for k, v in sorted(valid.items())},
        "invalid": dict(sorted(invalid.items())),
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(d, n)) for d in (valid_dir, invalid_dir)
                for n in os.listdir(d))
    print(f"wrote {len(valid)} valid and {len(invalid)} invalid files ({total} bytes) to {out}")
    assert total < 200_000, "corpus too large"
    return 0


if __name__ == "__main__":
    sys.exit(main())
