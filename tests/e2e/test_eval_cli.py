"""`foundry eval` end to end: three models x ten prompts through a real service, the CSV and JSON
sheets with every column, an interrupted run that resumes, rating by hand in the terminal, and
the HTML report opened in headless Chromium.

The daemon runs with FOUNDRY_HOME, HOME and FOUNDRY_CACHE_DIR in a temporary folder on a free
loopback port, and is stopped (or killed, if it is still ours) at the end.
"""
import csv
import json
import os
import shutil
import subprocess
import time

import pytest

from isolated_home import isolated_home

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.environ.get("FOUNDRY_BIN", os.path.join(ROOT, "build", "bin", "foundry"))
MODELS = [os.path.join(ROOT, ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf"),
          os.path.join(ROOT, "tests", "data", "models", "tiny-qwen2.gguf"),
          os.path.join(ROOT, "tests", "data", "models", "tiny-llama.gguf")]
COLUMNS = ["model", "prompt_id", "category", "system", "prompt", "reference", "output", "error",
           "latency_s", "ttft_s", "prompt_tokens", "completion_tokens", "tokens_per_second",
           "fluency", "relevance", "correctness"]
PROMPTS = [{"id": "p%d" % i, "prompt": "Name a colour, number %d." % i, "category": "colours",
            "reference": "blue"} for i in range(10)]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with isolated_home(FOUNDRY, tmp_path_factory.mktemp("foundry-eval")) as e:
        yield e


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompts") / "prompts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROMPTS))
    return str(path)


def run_eval(env, *args, **kw):
    return subprocess.run([FOUNDRY, "eval", *args], capture_output=True, text=True, env=env,
                          timeout=900, **kw)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_three_models_ten_prompts_csv_json_and_html(env, prompts, tmp_path):
    out, html = tmp_path / "results.csv", tmp_path / "report.html"
    r = run_eval(env, "--models", ",".join(MODELS), "--prompts", prompts, "--out", str(out),
                 "--html", str(html), "--max-tokens", "8")
    assert r.returncode == 0, r.stdout + r.stderr
    rows = read_csv(out)
    assert len(rows) == 30 and list(rows[0]) == COLUMNS
    assert [row["model"] for row in rows] == [m for m in MODELS for _ in PROMPTS]
    for row in rows:
        assert row["error"] == ""
        assert float(row["latency_s"]) > 0 and 0 < float(row["ttft_s"]) <= float(row["latency_s"])
        assert int(row["prompt_tokens"]) > 5 and 1 <= int(row["completion_tokens"]) <= 8
        assert row["reference"] == "blue" and row["category"] == "colours"
        assert row["fluency"] == row["relevance"] == row["correctness"] == ""
    assert "<svg" in html.read_text()

    js = tmp_path / "results.json"
    r = run_eval(env, "--models", MODELS[0], "--prompts", prompts, "--out", str(js),
                 "--max-tokens", "4")
    assert r.returncode == 0, r.stderr
    data = json.loads(js.read_text())
    assert len(data) == 10 and list(data[0]) == COLUMNS
    assert data[0]["fluency"] is None and isinstance(data[0]["completion_tokens"], int)


def test_an_interrupted_run_resumes_without_redoing_rows(env, prompts, tmp_path):
    out = tmp_path / "resume.csv"
    args = [FOUNDRY, "eval", "--models", ",".join(MODELS[:2]), "--prompts", prompts, "--out",
            str(out), "--max-tokens", "16"]
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    done = []
    while time.time() < deadline and p.poll() is None:
        try:
            done = [row for row in read_csv(out) if row["error"] == ""]
        except (OSError, csv.Error, KeyError):
            done = []
        if len(done) >= 4:
            break
        time.sleep(0.05)
    p.kill()
    p.wait()
    done = [row for row in read_csv(out) if row["error"] == ""]
    assert 4 <= len(done) < 20, "the run finished before it could be interrupted"
    r = run_eval(env, *args[2:])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Resuming %s: %d of 20 rows already done" % (out, len(done)) in r.stdout
    rows = read_csv(out)
    assert len(rows) == 20 and all(row["error"] == "" for row in rows)
    for before in done:  # finished rows are kept as they were, not run again
        after = [row for row in rows if row["model"] == before["model"]
                 and row["prompt_id"] == before["prompt_id"]]
        assert after == [before]


def test_rating_by_hand_in_the_terminal(env, prompts, tmp_path):
    out = tmp_path / "rate.csv"
    r = run_eval(env, "--models", MODELS[1], "--prompts", prompts, "--out", str(out),
                 "--max-tokens", "4")
    assert r.returncode == 0, r.stderr
    # Row 1: 5, 4, 3. Row 2: a bad answer, then 2, skip, 1. Then quit.
    r = run_eval(env, "--rate", str(out), input="5\n4\n3\n9\n2\n\n1\nq\n")
    assert r.returncode == 0, r.stderr
    assert "please type a number from 1 to 5" in r.stdout
    rows = read_csv(out)
    assert (rows[0]["fluency"], rows[0]["relevance"], rows[0]["correctness"]) == ("5", "4", "3")
    assert (rows[1]["fluency"], rows[1]["relevance"], rows[1]["correctness"]) == ("2", "", "1")
    assert all(row["fluency"] == "" for row in rows[2:])
    r = run_eval(env, "--rate", str(out), input="")  # end of input: saved, nothing lost
    assert r.returncode == 0 and read_csv(out)[0]["fluency"] == "5"


def test_a_judge_model_fills_the_ratings(env, tmp_path):
    # SmolLM2 judges 2 models x 2 prompts; its answer is constrained to the rating JSON, so every
    # row gets three whole numbers from 1 to 5, in the CSV and in the JSON sheet alike.
    two = tmp_path / "two.jsonl"
    two.write_text("".join(json.dumps(p) + "\n" for p in PROMPTS[:2]))
    for name in ("judged.csv", "judged.json"):
        out = tmp_path / name
        r = run_eval(env, "--models", ",".join(MODELS[:2]), "--prompts", str(two), "--out",
                     str(out), "--max-tokens", "8", "--judge", MODELS[0])
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Rating with %s" % MODELS[0] in r.stdout and "left unrated" not in r.stderr
        if name.endswith(".csv"):
            rows = read_csv(out)
            ratings = [int(row[k]) for row in rows for k in ("fluency", "relevance", "correctness")]
        else:
            rows = json.loads(out.read_text())
            ratings = [row[k] for row in rows for k in ("fluency", "relevance", "correctness")]
            assert all(isinstance(v, int) for v in ratings)
        assert [(row["model"], row["prompt_id"]) for row in rows] == [
            (m, p["id"]) for m in MODELS[:2] for p in PROMPTS[:2]]
        assert len(ratings) == 12 and all(1 <= v <= 5 for v in ratings)
    # The summary shows the mean rating instead of "-".
    last = r.stdout.splitlines()
    assert any(line.startswith(MODELS[0]) and not line.endswith(" -") for line in last)


def test_errors_are_actionable(env, prompts, tmp_path):
    r = run_eval(env, "--prompts", prompts)
    assert r.returncode == 2 and "give --models and --prompts" in r.stderr
    r = run_eval(env, "--models", MODELS[0], "--prompts", str(tmp_path / "absent.jsonl"))
    assert r.returncode == 3 and "cannot read" in r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"no": "prompt"}\n')
    r = run_eval(env, "--models", MODELS[0], "--prompts", str(bad))
    assert r.returncode == 2 and "line 2 has no \"prompt\"" in r.stderr
    r = run_eval(env, "--models", "no-such-model-anywhere", "--prompts", prompts, "--out",
                 str(tmp_path / "x.csv"))
    assert r.returncode != 0 and "no-such-model-anywhere" in r.stderr


def test_html_report_opens_in_headless_chromium(env, prompts, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    if not chromium or not driver_bin:
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh installs them)")
    out, html = tmp_path / "r.csv", tmp_path / "report.html"
    r = run_eval(env, "--models", ",".join(MODELS[1:]), "--prompts", prompts, "--out", str(out),
                 "--html", str(html), "--max-tokens", "4")
    assert r.returncode == 0, r.stderr
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(driver_bin), options=opts)
    try:
        driver.get("file://" + str(html))
        assert driver.title == "foundry eval report"
        charts = driver.find_elements("css selector", "svg")
        assert len(charts) == 4
        bars = driver.find_elements("css selector", "svg rect")
        assert len(bars) == 4 * 2 and all(b.size["height"] > 0 for b in bars)
        rows = driver.find_elements("css selector", "table tr")
        assert len(rows) == 1 + 2 + 1 + 20  # two tables: per model, then every row
    finally:
        driver.quit()
