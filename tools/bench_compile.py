"""`foundry model compile` beside llama.cpp's route (convert_hf_to_gguf.py --outtype f16, then
llama-quantize) on one Hugging Face folder: wall time and peak RSS of each, alternated run by
run, medians and the ratio, the host named. The issue 16 acceptance line: a 1.5B-sized compile
to q4_k_m takes no longer than the peer's two steps, and its peak memory stays below the
checkpoint's size.

    python3 tools/bench_compile.py                      # Qwen2.5-Coder-1.5B, bf16, 2 shards
    python3 tools/bench_compile.py --folder HF_DIR --runs 5 --quant q4_k_m

Without --folder the checkpoint is written once to .cache/bench/qwen2.5-coder-1.5b-hf by
tools/make_hf_folder.py from the Q4_K_M GGUF (bf16, two shards, about 3.5 GB). The peer is the
pinned llama.cpp 0.3.36 (.cache/peer); the converter runs in PEER_PYTHON (default
.cache/peer/venv-hf/bin/python, which has torch).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_side_by_side import machine  # noqa: E402
from make_onnx_folder import copy_fixtures  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOUNDRY = os.path.join(ROOT, "build", "bin", "foundry")
LLAMA_CPP = os.path.join(ROOT, ".cache", "peer", "llama_cpp_python-0.3.36", "vendor", "llama.cpp")
QUANTIZE = os.path.join(ROOT, ".cache", "peer", "build-0.3.36", "bin", "llama-quantize")
PEER_PYTHON = os.path.join(ROOT, ".cache", "peer", "venv-hf", "bin", "python")
GGUF = os.path.join(ROOT, ".cache", "models", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
DEFAULT_FOLDER = os.path.join(ROOT, ".cache", "bench", "qwen2.5-coder-1.5b-hf")


def host():
    m = machine()
    isa = "AVX-512" if any(f.startswith("avx512") for f in m["cpu_flags"]) else \
        "AVX2" if "avx2" in m["cpu_flags"] else "no AVX2"
    return "%s, %d cores, %s" % (m["cpu"], m["cores"], isa)


def timed(argv, env=None):
    """(seconds, peak RSS in bytes) of one command, which must succeed."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("failed: %s\n%s" % (" ".join(argv), err[-2000:]))
    return seconds, usage.ru_maxrss * 1024


def ours(folder, quant, work):
    env = dict(os.environ, FOUNDRY_HOME=os.path.join(work, "home"),
               FOUNDRY_CACHE_DIR=os.path.join(work, "cache"))
    s, rss = timed([FOUNDRY, "model", "compile", folder, "--name", "bench", "--quant", quant], env)
    shutil.rmtree(os.path.join(work, "cache"))
    return s, rss


def peer(folder, quant, work):
    f16 = os.path.join(work, "f16.gguf")
    out = os.path.join(work, "out.gguf")
    s1, rss1 = timed([PEER_PYTHON, os.path.join(LLAMA_CPP, "convert_hf_to_gguf.py"), "--outtype", "f16",
                      "--outfile", f16, folder])
    s2, rss2 = timed([QUANTIZE, f16, out, quant.upper()])
    os.remove(f16)
    os.remove(out)
    return s1 + s2, max(rss1, rss2), s1, s2


def checkpoint_bytes(folder):
    return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder)
               if n.endswith(".safetensors"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", default=None, help="Hugging Face folder (default: Qwen2.5-Coder-1.5B)")
    ap.add_argument("--quant", default="q4_k_m")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    folder = a.folder or DEFAULT_FOLDER
    if a.folder is None and not os.path.exists(os.path.join(folder, "config.json")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_hf_folder.py"), GGUF, folder,
                        "--dtype", "bf16", "--shards", "2"], check=True, stdout=subprocess.DEVNULL)
        copy_fixtures(os.path.join(ROOT, "tests", "data", "hf", "qwen2.5-coder-0.5b-instruct"), folder,
                      tokenizer_only=True)  # the 1.5B has 0.5B's vocabulary (tools/gen_onnx_goldens.py)
    rows = {"foundry": [], "peer": []}
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, ".cache")) as work:
        for run in range(a.runs):
            load = os.getloadavg()[0]
            s, rss = ours(folder, a.quant, work)
            rows["foundry"].append((s, rss))
            ps, prss, s1, s2 = peer(folder, a.quant, work)
            rows["peer"].append((ps, prss))
            print("run %d (load %.1f): foundry %.1f s %.2f GB | convert %.1f s + quantize %.1f s = %.1f s %.2f GB"
                  % (run + 1, load, s, rss / 1e9, s1, s2, ps, prss / 1e9), flush=True)
    med = {k: (statistics.median(x[0] for x in v), max(x[1] for x in v)) for k, v in rows.items()}
    print("\nHost: %s; checkpoint %s, %.2f GB; --quant %s; %d alternated runs, medians"
          % (host(), os.path.basename(folder.rstrip("/")), checkpoint_bytes(folder) / 1e9, a.quant, a.runs))
    print("| route | median s | peak RSS GB |")
    print("|---|---|---|")
    print("| foundry model compile | %.1f | %.2f |" % (med["foundry"][0], med["foundry"][1] / 1e9))
    print("| convert_hf_to_gguf.py f16 + llama-quantize | %.1f | %.2f |" % (med["peer"][0], med["peer"][1] / 1e9))
    print("time ratio foundry/peer: %.2f" % (med["foundry"][0] / med["peer"][0]))


if __name__ == "__main__":
    main()
