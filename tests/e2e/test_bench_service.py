"""`foundry bench --service` end to end: the tutorial's per-model latency table, the concurrency
sweep and the SVG chart, measured through a real service on SmolLM2 and a tiny model with tiny
settings; bad input fails with a message.

The daemon runs with FOUNDRY_HOME, HOME and FOUNDRY_CACHE_DIR in a temporary folder on a free
loopback port, and is stopped (or killed, if it is still ours) at the end.
"""
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from isolated_home import isolated_home

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.environ.get("FOUNDRY_BIN", os.path.join(ROOT, "build", "bin", "foundry"))
MODELS = [os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf"),
          os.path.join(ROOT, "tests", "data", "models", "tiny-qwen2.gguf")]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with isolated_home(FOUNDRY, tmp_path_factory.mktemp("foundry-bench")) as e:
        yield e


def bench(env, *args):
    return subprocess.run([FOUNDRY, "bench", "--service", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def table(stdout, title):
    """The rows of the table printed under the line starting with `title`, as dicts."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    header, body = rows[0], rows[2:]
    assert set(rows[1][0]) == {"-"}
    return [dict(zip(header, row)) for row in body]


def test_latency_table_sweep_and_svg(env, tmp_path):
    svg = tmp_path / "bench.svg"
    r = bench(env, "--models", ",".join(MODELS), "--runs", "3", "--max-tokens", "6",
              "--concurrency", "1,2,4", "--requests-per-stream", "1", "--svg", str(svg))
    assert r.returncode == 0, r.stdout + r.stderr
    names = [os.path.basename(m)[:-len(".gguf")] for m in MODELS]
    # The tutorial's per-run lines and summary, once per model.
    assert r.stdout.count("Run 3: ") == 2 and r.stdout.count("p50 latency: ") == 2

    latency = table(r.stdout, "Latency (3 runs, max 6 tokens)")
    assert [row["model"] for row in latency] == names
    for row in latency:
        assert list(row) == ["model", "runs", "mean latency ms", "p50 latency ms", "tokens",
                             "TTFT ms", "tokens/s"]
        assert row["runs"] == "3"
        assert float(row["mean latency ms"]) > 0 and float(row["p50 latency ms"]) > 0
        assert 0 < float(row["TTFT ms"]) <= float(row["mean latency ms"]) * 3
        assert 1 <= float(row["tokens"]) <= 6
        assert float(row["tokens/s"]) >= 0

    sweep = table(r.stdout, "Concurrency sweep (1 requests per stream)")
    assert [(row["model"], row["streams"]) for row in sweep] == [
        (n, level) for n in names for level in ("1", "2", "4")]
    for row in sweep:
        assert int(row["requests"]) == int(row["streams"])
        assert float(row["tokens/s"]) > 0
        assert 0 < float(row["p50 latency ms"]) <= float(row["p95 latency ms"])
        assert float(row["TTFT ms"]) > 0

    root = ET.parse(svg).getroot()
    assert root.tag == SVG + "svg"
    charts = root.findall(SVG + "g/" + SVG + "svg")
    assert [c.get("aria-label") for c in charts] == [
        "Mean latency per request", "Mean time to first token",
        "Aggregate throughput vs concurrency", "p95 latency vs concurrency"]
    for bars in charts[:2]:  # a bar per model, labelled with its name
        assert len(bars.findall(SVG + "rect")) == 2
        assert all(int(b.get("width")) >= 0 for b in bars.findall(SVG + "rect"))
        assert {t.text for t in bars.findall(SVG + "text")} >= set(names)
    for lines in charts[2:]:  # a line per model with a point per level
        polylines = lines.findall(SVG + "polyline")
        assert len(polylines) == 2
        assert all(len(p.get("points").split()) == 3 for p in polylines)
        assert len(lines.findall(SVG + "circle")) == 6


def test_a_model_given_as_the_argument(env):
    r = bench(env, MODELS[1], "--runs", "1", "--max-tokens", "2", "--concurrency", "2",
              "--requests-per-stream", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    sweep = table(r.stdout, "Concurrency sweep (2 requests per stream)")
    assert [(row["streams"], row["requests"]) for row in sweep] == [("2", "4")]


def test_bad_input_is_a_clear_error(env, tmp_path):
    r = bench(env, "--models", MODELS[1], "--concurrency", "1,x")
    assert r.returncode == 2 and "bad concurrency level 'x'" in r.stderr
    r = bench(env, "--models", MODELS[1], "--concurrency", "0")
    assert r.returncode == 2 and "bad concurrency level '0'" in r.stderr
    r = bench(env, "--models", MODELS[1], "--runs", "0")
    assert r.returncode == 2 and "--runs must be at least 1" in r.stderr
    r = bench(env)
    assert r.returncode == 2 and "--models" in r.stderr
    r = bench(env, "--models", "no-such-model-anywhere")
    assert r.returncode != 0 and "no-such-model-anywhere" in r.stderr
    missing = str(tmp_path / "absent.gguf")
    r = bench(env, "--models", missing)
    assert r.returncode == 3 and "no such GGUF file" in r.stderr
    r = bench(env, "--models", MODELS[1], "--svg", str(tmp_path / "no" / "chart.svg"))
    assert r.returncode == 3 and "no such folder for --svg" in r.stderr
    r = subprocess.run([FOUNDRY, "bench"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "--service" in r.stderr
    r = subprocess.run([FOUNDRY, "bench", MODELS[1], "--runs", "2"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode != 0 and "--service" in r.stderr
