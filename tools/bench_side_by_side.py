#!/usr/bin/env python3
"""foundry bench beside llama.cpp's llama-bench on the same GGUF files, same tests, same threads.

For each round, model, test (ppN / tgN) and thread count, runs `foundry bench --json` and
`llama-bench -o json` once each (--repetitions R after the same warm-up; each engine's median of
its R), alternating which goes first, and records tokens/s and the child's peak resident memory
(wait4's ru_maxrss). On a shared VM single runs swing by 10 to 30%, so a round's value is a
median too. Prints and writes a markdown table of medians over the rounds with the ratios
foundry / llama.cpp, and a JSON
file with every sample and the machine (CPU model, cores, ISA path foundry used, load average
before and after, which tells whether other jobs shared the machine).

  python3 tools/bench_side_by_side.py                      # defaults: the bench set, pp512 tg128, 1,2
  python3 tools/bench_side_by_side.py --only qwen-coder-1.5b,qwen-7b-shaped --tests tg128
  python3 tools/bench_side_by_side.py --rounds 3 --models .cache/models/x.gguf --tests tg128
  python3 tools/bench_side_by_side.py --only qwen-coder-0.5b --tests pp512 --depth 4096

--depth N runs every test with N tokens already in the KV cache (llama-bench -d, foundry bench
-d); the table names such a test "pp512 @ d4096".

The peer is built by tools/build_llama_bench.sh; the Q8_0 SmolLM2 and the Qwen2.5-7B-shaped
model by tools/make_bench_models.sh (`make bench-models`); the others by `make models`.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The bench set: (key for --only, table name, file), smallest first.
MODELS = [
    ("smollm2", "SmolLM2-135M Q4_1", ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("smollm2-q8", "SmolLM2-135M Q8_0", ".cache/models/SmolLM2-135M-Instruct.Q8_0.gguf"),
    ("gemma3", "Gemma 3 270M Q4_K_M", ".cache/models/gemma-3-270m-Q4_K_M.gguf"),
    ("qwen-coder-0.5b", "Qwen2.5-Coder-0.5B", ".cache/models/qwen2.5-coder-0.5b-instruct.gguf"),
    ("qwen-coder-1.5b", "Qwen2.5-Coder-1.5B Q4_K_M",
     ".cache/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
    ("qwen-7b-shaped", "Qwen2.5-7B-shaped Q4_K_M",
     ".cache/models/qwen2.5-7b-shaped-q4_k_m.gguf"),
]


def run_child(cmd):
    """Runs cmd; returns (stdout, peak RSS bytes of that child). Raises on failure."""
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
        out = p.stdout.read()
        p.stdout.close()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                        err.read().decode(errors="replace")[-2000:]))
    return out.decode(), ru.ru_maxrss * 1024


def test_args(test):
    kind, n = test[:2], int(test[2:])
    if kind not in ("pp", "tg") or n <= 0:
        raise SystemExit("bad test %r: want ppN or tgN" % test)
    return (n, 0) if kind == "pp" else (0, n)


def run_foundry(foundry, model, test, threads, reps, depth):
    p, n = test_args(test)
    out, rss = run_child([foundry, "bench", model, "-p", str(p), "-n", str(n), "-d", str(depth),
                          "-t", str(threads), "-r", str(reps), "--json"])
    rows = json.loads(out)
    assert len(rows) == 1 and rows[0]["test"] == test and rows[0]["n_depth"] == depth, rows
    return {"tps": rows[0]["tokens_per_second"], "rss": rss, "isa": rows[0]["isa"],
            "quant": rows[0]["quant"]}


def run_llama(llama_bench, model, test, threads, reps, depth):
    p, n = test_args(test)
    out, rss = run_child([llama_bench, "-m", model, "-p", str(p), "-n", str(n), "-d", str(depth),
                          "-t", str(threads), "-r", str(reps), "-o", "json"])
    rows = json.loads(out)
    assert len(rows) == 1 and (rows[0]["n_prompt"], rows[0]["n_gen"]) == (p, n), rows
    assert rows[0].get("n_depth", 0) == depth, rows
    tps = median(rows[0].get("samples_ts") or [rows[0]["avg_ts"]])  # foundry reports its median
    return {"tps": tps, "rss": rss, "build": rows[0].get("build_commit"),
            "model_type": rows[0].get("model_type")}


def machine():
    cpu, flags = platform.processor() or "?", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    cpu = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    isa = sorted(f for f in flags if f in ("avx2", "fma", "f16c") or f.startswith("avx512"))
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "cpu_flags": isa,
            "kernel": platform.release()}


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", help="GGUF files (default: the bench set)")
    ap.add_argument("--only", help="comma-separated keys of the bench set to run: " +
                    ", ".join(key for key, _, _ in MODELS))
    ap.add_argument("--depth", default="0",
                    help="comma-separated KV-cache depths each test runs at (llama-bench -d)")
    ap.add_argument("--tests", default="pp512,tg128", help="comma-separated ppN / tgN")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repetitions", type=int, default=1,
                    help="repetitions per engine run (its median counts for the round)")
    ap.add_argument("--foundry", default=os.path.join(ROOT, "build", "bin", "foundry"))
    ap.add_argument("--llama-bench",
                    default=os.path.join(ROOT, ".cache/peer/build-0.3.36/bin/llama-bench"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "bench", "side_by_side"),
                    help="writes OUT.md and OUT.json")
    a = ap.parse_args()
    keys = [k for k in (a.only or "").split(",") if k]
    unknown = set(keys) - {key for key, _, _ in MODELS}
    if unknown:
        raise SystemExit("unknown --only key(s) %s; known: %s" % (
            ", ".join(sorted(unknown)), ", ".join(key for key, _, _ in MODELS)))
    models = [(os.path.basename(m), m) for m in a.models] if a.models else \
        [(name, os.path.join(ROOT, path)) for key, name, path in MODELS if not keys or key in keys]
    depths = [int(d) for d in a.depth.split(",") if d]
    tests = [t for t in a.tests.split(",") if t]
    for t in tests:
        test_args(t)
    threads = [int(t) for t in a.threads.split(",") if t]
    for exe in (a.foundry, a.llama_bench):
        if not os.access(exe, os.X_OK):
            raise SystemExit("not found: %s (make; bash tools/build_llama_bench.sh)" % exe)
    for _, path in models:
        if not os.path.isfile(path):
            raise SystemExit("missing model %s (make models bench-models)" % path)

    info = machine()
    info["load_before"] = os.getloadavg()
    info["started"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    samples = {}  # (model, test label, threads) -> {"foundry": [...], "llama.cpp": [...]}
    step = 0
    for r in range(a.rounds):
        for name, path in models:
            for test, d in [(test, d) for test in tests for d in depths]:
                label = "%s @ d%d" % (test, d) if d else test
                for t in threads:
                    s = samples.setdefault((name, label, t), {"foundry": [], "llama.cpp": []})
                    runners = [("foundry", lambda: run_foundry(a.foundry, path, test, t,
                                                               a.repetitions, d)),
                               ("llama.cpp", lambda: run_llama(a.llama_bench, path, test, t,
                                                               a.repetitions, d))]
                    if step % 2:
                        runners.reverse()  # alternate which engine goes first
                    step += 1
                    for engine, fn in runners:
                        res = fn()
                        s[engine].append(res)
                        print("round %d/%d %-22s %-6s t=%d %-9s %8.2f t/s %7.1f MiB" % (
                            r + 1, a.rounds, name, label, t, engine, res["tps"],
                            res["rss"] / 2**20), file=sys.stderr, flush=True)
    info["load_after"] = os.getloadavg()
    info["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    first = next(iter(samples.values()))
    info["foundry_isa"] = first["foundry"][0]["isa"]
    info["llama_cpp_build"] = first["llama.cpp"][0]["build"]

    rows = []
    for (name, test, t), s in samples.items():
        f_tps = median([x["tps"] for x in s["foundry"]])
        l_tps = median([x["tps"] for x in s["llama.cpp"]])
        f_rss = median([x["rss"] for x in s["foundry"]])
        l_rss = median([x["rss"] for x in s["llama.cpp"]])
        rows.append({"model": name, "test": test, "threads": t,
                     "llama_cpp_tps": l_tps, "foundry_tps": f_tps, "ratio": f_tps / l_tps,
                     "llama_cpp_rss_bytes": l_rss, "foundry_rss_bytes": f_rss,
                     "rss_ratio": f_rss / l_rss,
                     "foundry_samples": [x["tps"] for x in s["foundry"]],
                     "llama_cpp_samples": [x["tps"] for x in s["llama.cpp"]]})

    la, lb = info["load_before"], info["load_after"]
    md = ["Machine: %s, %d cores (%s); foundry kernels: %s; llama.cpp %s (llama-cpp-python "
          "0.3.36). %s to %s UTC, medians of %d alternating rounds, each the median of %d "
          "repetition(s) after a warm-up. Load average (1/5/15 min) before %.2f/%.2f/%.2f, after "
          "%.2f/%.2f/%.2f." % (
              info["cpu"], info["cores"], ", ".join(info["cpu_flags"]) or "no AVX2",
              info["foundry_isa"], info["llama_cpp_build"], info["started"][:16].replace("T", " "),
              info["finished"][11:16], a.rounds, a.repetitions, *la, *lb),
          "",
          "| model | test | threads | llama.cpp t/s | foundry t/s | foundry / llama.cpp "
          "| llama.cpp peak RSS MiB | foundry peak RSS MiB | RSS ratio |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        md.append("| %s | %s | %d | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f |" % (
            row["model"], row["test"], row["threads"], row["llama_cpp_tps"], row["foundry_tps"],
            row["ratio"], row["llama_cpp_rss_bytes"] / 2**20, row["foundry_rss_bytes"] / 2**20,
            row["rss_ratio"]))
    text = "\n".join(md) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out + ".md", "w") as f:
        f.write(text)
    with open(a.out + ".json", "w") as f:
        json.dump({"machine": info, "rounds": a.rounds, "repetitions": a.repetitions,
                   "depths": depths,
                   "rows": rows}, f, indent=2)
        f.write("\n")
    print("wrote %s.md and %s.json" % (a.out, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
