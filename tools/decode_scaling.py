#!/usr/bin/env python3
"""The decode scaling table of docs/performance.md: for each model of the bench set, decode
tokens/s (`foundry bench -n N --json`), the bytes one generated token reads, the GB/s that
makes, and its share of this host's streaming-read bandwidth (build/bin/membw, same threads).

Bytes per token come from the GGUF's tensor sizes: every weight matrix is read once per token,
except the token embedding, of which one row is read (unless the output reuses it: tied
models read all of it as the LM head); plus the KV cache rows attention reads, averaged over
the generated tokens (f16 keys and values, every layer). Decoding a large model is
memory-bound, so that share is how close to the roof the engine runs.

  python3 tools/decode_scaling.py                          # bench set, tg128, 1 and 2 threads
  python3 tools/decode_scaling.py --only qwen-7b-shaped --threads 2 --rounds 3
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_side_by_side import MODELS, ROOT  # noqa: E402


def field(reader, key):
    f = reader.fields.get(key)
    if f is None:
        return None
    return f.parts[f.data[0]].tolist()[0] if f.types[0] != gguf.GGUFValueType.STRING else \
        bytes(f.parts[f.data[0]]).decode()


def bytes_per_token(path, n_gen):
    """(weight bytes one token reads, average KV-cache bytes it reads, parameter count)."""
    r = gguf.GGUFReader(path)
    arch = field(r, "general.architecture")
    tensors = {t.name: t for t in r.tensors}
    total = sum(int(t.n_bytes) for t in r.tensors)
    params = sum(int(t.n_elements) for t in r.tensors)
    embd = tensors["token_embd.weight"]
    tied = "output.weight" not in tensors
    weights = total if tied else total - int(embd.n_bytes) + int(embd.n_bytes) // int(embd.shape[1])
    n_layer = field(r, arch + ".block_count")
    n_head = field(r, arch + ".attention.head_count")
    n_head_kv = field(r, arch + ".attention.head_count_kv") or n_head
    head_dim = field(r, arch + ".attention.key_length") or \
        field(r, arch + ".embedding_length") // n_head
    kv = n_layer * 2 * n_head_kv * head_dim * 2 * (n_gen / 2)  # f16 K and V, mean position
    return weights, kv, params


def run_json(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated bench-set keys (tools/bench_side_by_side.py)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--n-gen", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3, help="foundry bench runs per cell (median)")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--foundry", default=os.path.join(ROOT, "build", "bin", "foundry"))
    ap.add_argument("--membw", default=os.path.join(ROOT, "build", "bin", "membw"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "bench", "decode_scaling"),
                    help="writes OUT.md and OUT.json")
    a = ap.parse_args()
    keys = [k for k in (a.only or "").split(",") if k]
    models = [(name, os.path.join(ROOT, path)) for key, name, path in MODELS
              if (not keys or key in keys) and key != "smollm2-q8"]
    threads = [int(t) for t in a.threads.split(",") if t]
    load_before = os.getloadavg()

    roof = {}

    def measure_roof():  # before and after the runs: the best counts (others share the host)
        for t in threads:
            gbs = run_json([a.membw, "--threads", str(t), "--json"])[0]["read_gb_per_s"]
            roof[t] = max(roof.get(t, 0.0), gbs)
            print("membw threads %d: %.2f GB/s" % (t, gbs), file=sys.stderr, flush=True)

    measure_roof()

    rows = []
    for name, path in models:
        weights, kv, params = bytes_per_token(path, a.n_gen)
        for t in threads:
            tps = []
            for _ in range(a.rounds):
                out = run_json([a.foundry, "bench", path, "-p", "0", "-n", str(a.n_gen), "-t",
                                str(t), "-r", str(a.repetitions), "--json"])
                tps.append(out[0]["tokens_per_second"])
            med = statistics.median(tps)
            gbs = med * (weights + kv) / 1e9
            row = {"model": name, "params": params, "threads": t, "tokens_per_second": med,
                   "samples": tps, "weight_bytes_per_token": weights, "kv_bytes_per_token": kv,
                   "gb_per_s": gbs, "membw_gb_per_s": roof[t], "share": gbs / roof[t],
                   "isa": out[0]["isa"]}
            rows.append(row)
            print("%-26s t=%d %8.2f t/s %7.1f MB/token %6.2f GB/s %5.1f%%" % (
                name, t, med, (weights + kv) / 1e6, gbs, 100 * row["share"]), file=sys.stderr,
                flush=True)

    measure_roof()
    for r in rows:
        r["membw_gb_per_s"] = roof[r["threads"]]
        r["share"] = r["gb_per_s"] / roof[r["threads"]]
    la, lb = load_before, os.getloadavg()
    md = ["%s UTC; foundry kernels %s; tg%d, median of %d runs (each the median of %d); "
          "bandwidth roof: build/bin/membw with the same threads, best of before and after (%s). Load average before "
          "%.2f/%.2f/%.2f, after %.2f/%.2f/%.2f." % (
              datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
              rows[0]["isa"] if rows else "?", a.n_gen, a.rounds, a.repetitions,
              ", ".join("%d thread%s %.1f GB/s" % (t, "s" if t > 1 else "", roof[t])
                        for t in threads), *la, *lb),
          "",
          "| model | params | threads | decode t/s | MB read per token | GB/s | share of "
          "measured bandwidth |",
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        md.append("| %s | %.2fB | %d | %.2f | %.1f | %.2f | %.0f%% |" % (
            r["model"], r["params"] / 1e9, r["threads"], r["tokens_per_second"],
            (r["weight_bytes_per_token"] + r["kv_bytes_per_token"]) / 1e6, r["gb_per_s"],
            100 * r["share"]))
    text = "\n".join(md) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out + ".md", "w") as f:
        f.write(text)
    with open(a.out + ".json", "w") as f:
        json.dump({"membw": roof, "rows": rows}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
