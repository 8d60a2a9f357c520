"""`foundry perplexity`: the estimate, the saved log-probabilities and the KL-divergence mode, and
its errors. (Agreement with llama-perplexity is tests/unit/eval_perplexity_test.cc.)"""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.environ.get("FOUNDRY_BIN", os.path.join(ROOT, "build", "bin", "foundry"))
MODEL = os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
TEXT = os.path.join(ROOT, "tests", "data", "perplexity", "gpl-3.0.txt")


def foundry(*args, env=None):
    return subprocess.run([FOUNDRY, "perplexity", *args], capture_output=True, text=True,
                          timeout=600, env=env)


def test_prints_running_and_final_estimate():
    r = foundry(MODEL, TEXT, "--ctx", "64", "--chunks", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("[") == 3 and "[3]" in r.stdout
    final = [line for line in r.stdout.splitlines() if line.startswith("Final estimate: PPL = ")]
    assert len(final) == 1
    assert 1.0 < float(final[0].split()[4]) < 1000.0


def test_kl_divergence_against_saved_logprobs(tmp_path):
    base = tmp_path / "smollm2.logp"
    r = foundry(MODEL, TEXT, "--ctx", "64", "--chunks", "2", "--save-logprobs", str(base),
                "--json")
    assert r.returncode == 0, r.stderr
    ref = json.loads(r.stdout)
    assert ref["tokens_scored"] == 2 * 31
    # 31 scored positions a chunk, one half-precision row of the vocabulary each.
    assert base.stat().st_size > ref["tokens_scored"] * 2 * 49152
    # The same model and kernels: the distributions agree but for the half-precision storage.
    r = foundry(MODEL, TEXT, "--ctx", "64", "--chunks", "2", "--kl-base", str(base), "--json")
    assert r.returncode == 0, r.stderr
    same = json.loads(r.stdout)["kl_divergence"]
    assert abs(same["mean"]) < 1e-4  # half-precision rounding either way
    assert same["top1_agreement"] == 1.0
    assert abs(same["reference_perplexity"] / ref["perplexity"] - 1) < 1e-3
    # The scalar reference kernels keep activations in float: a small, measurable divergence.
    r = foundry(MODEL, TEXT, "--ctx", "64", "--chunks", "2", "--kl-base", str(base), "--json",
                env=dict(os.environ, FOUNDRY_ISA="scalar"))
    assert r.returncode == 0, r.stderr
    scalar = json.loads(r.stdout)["kl_divergence"]
    assert abs(same["mean"]) < scalar["mean"] < 0.05
    assert scalar["top1_agreement"] > 0.8


def test_a_reference_from_other_tokens_is_refused(tmp_path):
    base = tmp_path / "base.logp"
    assert foundry(MODEL, TEXT, "--ctx", "64", "--chunks", "1", "--save-logprobs",
                   str(base)).returncode == 0
    other = tmp_path / "other.txt"
    other.write_text(open(TEXT).read()[1000:])
    r = foundry(MODEL, str(other), "--ctx", "64", "--chunks", "1", "--kl-base", str(base))
    assert r.returncode != 0
    assert "other tokens" in r.stderr
    r = foundry(MODEL, TEXT, "--ctx", "32", "--chunks", "1", "--kl-base", str(base))
    assert r.returncode != 0
    assert "same --ctx" in r.stderr


def test_errors_are_actionable(tmp_path):
    r = foundry(MODEL, str(tmp_path / "missing.txt"))
    assert r.returncode != 0 and "cannot read the text file" in r.stderr
    short = tmp_path / "short.txt"
    short.write_text("A short text.")
    r = foundry(MODEL, str(short))
    assert r.returncode != 0 and "needs at least 1024" in r.stderr
    r = foundry(MODEL, TEXT, "--save-logprobs", str(tmp_path / "a"), "--kl-base",
                str(tmp_path / "b"))
    assert r.returncode != 0 and "not both" in r.stderr
    r = foundry(MODEL, TEXT, "--kl-base", str(tmp_path / "absent.logp"))
    assert r.returncode != 0 and "cannot read" in r.stderr
