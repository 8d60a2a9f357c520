"""End-to-end test of `foundry service ps` against the real daemon: Foundry Local's layout, and
the alias a loaded model is shown under (a cached model whose id has dots in it keeps them).

The daemon runs with FOUNDRY_HOME, HOME and FOUNDRY_CACHE_DIR in a temporary folder on a free
loopback port, and is stopped (or killed, if it is still ours) at the end.
"""
import json
import os
import shutil
import subprocess

import pytest
import requests

from isolated_home import free_port, isolated_home

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.environ.get("FOUNDRY_BIN", os.path.join(ROOT, "build", "bin", "foundry"))
TINY = os.path.join(ROOT, "tests", "data", "models", "tiny-qwen2.gguf")
CODER_ID = "qwen2.5-coder-0.5b-instruct"  # not a catalog id: shown under its own name
T = 120


def cli(env, *args):
    return subprocess.run([FOUNDRY, *args], capture_output=True, text=True, timeout=90, env=env)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("foundry-ps")
    port = free_port()
    with isolated_home(FOUNDRY, home, port) as env:
        # A bring-your-own model folder in the cache, named like the Foundry Local model.
        model = home / "cache" / CODER_ID
        model.mkdir(parents=True)
        shutil.copy(TINY, model / "model.gguf")
        (model / "inference_model.json").write_text(json.dumps({"Name": CODER_ID,
                                                                "PromptTemplate": None}))
        r = cli(env, "service", "start")
        assert r.returncode == 0, r.stdout + r.stderr
        yield {"env": env, "url": "http://127.0.0.1:%d" % port}


def test_ps_shows_foundry_layout_and_full_alias(service):
    env, url = service["env"], service["url"]
    assert requests.get(url + "/openai/unloadall", timeout=T).status_code == 200
    assert cli(env, "service", "ps").stdout == "No models are currently loaded in the service\n"
    r = requests.get(url + "/openai/load/" + CODER_ID, params={"ttl": 300}, timeout=T)
    assert r.status_code == 200, r.text
    r = requests.get(url + "/openai/load/" + TINY, params={"ttl": 300}, timeout=T)
    assert r.status_code == 200, r.text
    loaded = requests.get(url + "/openai/loadedmodels", timeout=T).json()
    assert sorted(loaded) == sorted([CODER_ID, TINY])
    r = cli(env, "service", "ps")
    assert r.returncode == 0, r.stderr
    alias = {CODER_ID: CODER_ID, TINY: "tiny-qwen2"}  # a path: its file name without .gguf
    # Foundry Local's lines: the alias column 31 wide, under the model's name after "🟢  ".
    assert r.stdout.splitlines() == (
        ["Models running in service:", "    Alias                          Model ID"] +
        ["🟢  " + alias[i].ljust(31) + i for i in loaded])
    assert requests.get(url + "/openai/unloadall", timeout=T).status_code == 200
