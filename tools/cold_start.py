#!/usr/bin/env python3
"""Start-up time: from launching the process to the first generated token, with the model file
out of the page cache (cold) and in it (warm), foundry beside llama.cpp.

* foundry: `foundry generate MODEL --prompt ... -n 4` timed from spawn to the first byte of
  generated text on stdout (the chat template and a short prompt: what a user waits for), with
  the file mapped (FOUNDRY_MMAP=1, the default) and copied into huge pages (FOUNDRY_MMAP=0).
* both engines alike: `foundry bench -p P -n 0 -r 1 --no-warmup` and `llama-bench -p P -n 0
  -r 1 --no-warmup` timed from spawn to exit: load, then one P-token prompt (the first token's
  logits). llama-cpp-python is not installed and llama-cli is not built by
  tools/build_llama_bench.sh, so llama-bench is the peer's process here.

Cold: before each cold run the file's pages are dropped from the page cache with
posix_fadvise(POSIX_FADV_DONTNEED) (no root needed; pages another process has mapped stay,
`fincore` shows what is left). Warm: one untimed run first, then the timed ones. Medians over
--rounds, alternating the engines.

  python3 tools/cold_start.py                                   # SmolLM2, Qwen2.5-Coder 0.5B/1.5B
  python3 tools/cold_start.py --only qwen-coder-0.5b --rounds 5 --threads 2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_side_by_side import MODELS, ROOT  # noqa: E402

DEFAULT_KEYS = "smollm2,qwen-coder-0.5b,qwen-coder-1.5b"


def drop_from_page_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def time_to_first_output(cmd, env=None):
    """Seconds from spawn until the process writes its first stdout byte; then stops it."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, env=env)
    first = p.stdout.read(1)
    dt = time.perf_counter() - t0
    p.kill()
    p.wait()
    if not first:
        raise RuntimeError("%s wrote nothing" % " ".join(cmd))
    return dt


def time_to_exit(cmd, env=None):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=DEFAULT_KEYS, help="bench-set keys (bench_side_by_side.py)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=8)
    ap.add_argument("--foundry", default=os.path.join(ROOT, "build", "bin", "foundry"))
    ap.add_argument("--llama-bench",
                    default=os.path.join(ROOT, ".cache/peer/build-0.3.36/bin/llama-bench"))
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "bench", "cold_start"))
    a = ap.parse_args()
    keys = a.only.split(",")
    models = [(name, os.path.join(ROOT, path)) for key, name, path in MODELS if key in keys]
    env = dict(os.environ, FOUNDRY_MMAP="1")
    copy_env = dict(os.environ, FOUNDRY_MMAP="0")
    t, p = str(a.threads), str(a.prompt_tokens)
    generate = [a.foundry, "generate", "MODEL", "--prompt", "Hi", "-n", "4", "-t", t,
                "--temperature", "0"]
    probes = {
        "foundry generate: first token": lambda m: time_to_first_output(
            [m if x == "MODEL" else x for x in generate], env),
        "same, FOUNDRY_MMAP=0 (copy)": lambda m: time_to_first_output(
            [m if x == "MODEL" else x for x in generate], copy_env),
        "foundry bench -p%s: exit" % p: lambda m: time_to_exit(
            [a.foundry, "bench", m, "-p", p, "-n", "0", "-r", "1", "--no-warmup", "-t", t], env),
        "llama-bench -p%s: exit" % p: lambda m: time_to_exit(
            [a.llama_bench, "-m", m, "-p", p, "-n", "0", "-r", "1", "--no-warmup", "-t", t]),
    }
    load_before = os.getloadavg()
    rows = []
    for name, path in models:
        for cache in ("cold", "warm"):
            samples = {k: [] for k in probes}
            order = list(probes)
            for r in range(a.rounds):
                for k in (order if r % 2 == 0 else order[::-1]):
                    if cache == "cold":
                        drop_from_page_cache(path)
                    elif r == 0:
                        probes[k](path)  # untimed: brings the file into the page cache
                    samples[k].append(probes[k](path))
                    print("%-26s %s %-32s %.2f s" % (name, cache, k, samples[k][-1]),
                          file=sys.stderr, flush=True)
            for k, v in samples.items():
                rows.append({"model": name, "cache": cache, "probe": k,
                             "median_s": statistics.median(v), "samples_s": v})
    la, lb = load_before, os.getloadavg()
    md = ["%d thread(s), medians of %d rounds; load average before %.2f/%.2f/%.2f, after "
          "%.2f/%.2f/%.2f." % (a.threads, a.rounds, *la, *lb),
          "", "| model | page cache | " + " | ".join(probes) + " |",
          "| --- | --- |" + " ---: |" * len(probes)]
    for name, _ in models:
        for cache in ("cold", "warm"):
            cells = [next(r["median_s"] for r in rows if r["model"] == name and
                          r["cache"] == cache and r["probe"] == k) for k in probes]
            md.append("| %s | %s | %s |" % (name, cache, " | ".join("%.2f s" % c for c in cells)))
    text = "\n".join(md) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out + ".md", "w") as f:
        f.write(text)
    with open(a.out + ".json", "w") as f:
        json.dump(rows, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
