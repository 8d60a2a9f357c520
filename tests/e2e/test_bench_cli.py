"""`foundry bench`: the JSON shape the side-by-side script relies on."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.environ.get("FOUNDRY_BIN", os.path.join(ROOT, "build", "bin", "foundry"))
TINY = os.path.join(ROOT, "tests", "data", "models", "tiny-qwen2.gguf")


def test_bench_json_has_one_object_per_test():
    r = subprocess.run([FOUNDRY, "bench", TINY, "-p", "16,32", "-n", "8", "-t", "1,2", "-r", "2",
                        "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(row["threads"], row["test"]) for row in rows] == [
        (1, "pp16"), (1, "pp32"), (1, "tg8"), (2, "pp16"), (2, "pp32"), (2, "tg8")]
    for row in rows:
        assert set(row) == {"model", "quant", "threads", "test", "tokens_per_second", "stddev",
                            "peak_rss_bytes", "n_prompt", "n_gen", "n_depth", "isa",
                            "repetitions", "samples_tokens_per_second"}
        assert row["n_depth"] == 0
        assert row["tokens_per_second"] > 0 and row["stddev"] >= 0
        assert row["peak_rss_bytes"] > 1 << 20
        n = int(row["test"][2:])
        assert (row["n_prompt"], row["n_gen"]) == ((n, 0) if row["test"][:2] == "pp" else (0, n))
        assert row["isa"] in ("scalar", "avx2", "avx512")
        samples = sorted(row["samples_tokens_per_second"])
        assert row["repetitions"] == len(samples) == 2
        assert row["tokens_per_second"] == (samples[0] + samples[1]) / 2


def test_bench_at_depth():
    # As llama-bench -d: each depth is its own test, prompts first, then generations.
    r = subprocess.run([FOUNDRY, "bench", TINY, "-p", "16", "-n", "4", "-d", "0,64", "-t", "1",
                        "-r", "2", "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(row["test"], row["n_depth"]) for row in rows] == [
        ("pp16", 0), ("pp16", 64), ("tg4", 0), ("tg4", 64)]
    assert all(row["tokens_per_second"] > 0 for row in rows)
    r = subprocess.run([FOUNDRY, "bench", TINY, "-p", "16", "-n", "0", "-d", "64", "-t", "1",
                        "-r", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "pp16 @ d64" in r.stdout
    r = subprocess.run([FOUNDRY, "bench", TINY, "-p", "16", "-n", "0", "-d", "1x"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "1x" in r.stderr


def test_bench_isa_and_no_warmup():
    env = dict(os.environ, FOUNDRY_ISA="scalar")
    r = subprocess.run([FOUNDRY, "bench", TINY, "-p", "8", "-n", "4", "-t", "1", "-r", "1",
                        "--json", "--no-warmup"], capture_output=True, text=True, timeout=300,
                       env=env)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["isa"] for row in rows] == ["scalar", "scalar"]


def test_bench_rejects_bad_lists():
    r = subprocess.run([FOUNDRY, "bench", TINY, "-p", "12x"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "12x" in r.stderr


def test_bench_names_the_file_quantization():
    # Gemma 3 270M Q4_K_M keeps its 262k-token embedding in Q8_0, its largest tensor; the label
    # must still be the file's (general.file_type), as llama-bench prints it.
    gemma = os.path.join(ROOT, ".cache", "models", "gemma-3-270m-Q4_K_M.gguf")
    r = subprocess.run([FOUNDRY, "bench", gemma, "-p", "8", "-n", "0", "-t", "1", "-r", "1",
                        "--json", "--no-warmup"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert [row["quant"] for row in json.loads(r.stdout)] == ["Q4_K_M"]
