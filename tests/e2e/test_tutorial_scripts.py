"""The Foundry Local tutorial's two Python scripts (tests/e2e/tutorial/, written as the
tutorial describes them: select_model.py and bench_latency.py) run against the real service on
the tutorial's port, 8000, with nothing changed but the model names: the tutorial's models
cannot be downloaded here, so SmolLM2 (by its GGUF path) stands in for them.

Port 8000 must be free: the scripts hard-code it. When it is taken the test fails and says so
(it never silently moves to another port)."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_service import (FOUNDRY, SMOLLM2, TINY, cli, env_for, kill_if_alive,  # noqa: E402
                          read_pid)

TUTORIAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tutorial")
PORT = 8000
MODEL = SMOLLM2 if os.path.exists(SMOLLM2) else TINY


def port_taken(port):
    """As the service judges it (PortInUse): a listener, or a bind that fails even with the
    service's SO_REUSEADDR/SO_REUSEPORT (TIME_WAIT leftovers do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    if port_taken(PORT):
        pytest.fail("port %d is in use: the tutorial's scripts talk to http://localhost:%d, so "
                    "this test needs it free (stop whatever listens there, e.g. a running "
                    "`foundry service`, and rerun)" % (PORT, PORT))
    home = tmp_path_factory.mktemp("foundry-home")
    env = env_for(home)
    r = cli(env, "service", "start")  # default settings: the tutorial's port
    pid = read_pid(home)
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        assert "http://127.0.0.1:%d/" % PORT in r.stdout, r.stdout
        yield {"home": home, "env": env}
    finally:
        latest = read_pid(home)
        cli(env, "service", "stop")
        kill_if_alive(pid)
        kill_if_alive(latest)


def run_script(path, cwd, *args):
    return subprocess.run([sys.executable, path, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_select_model_script(service, tmp_path):
    # The tutorial's registry shape; only the names are ours. The first chat entry needs more
    # RAM than any machine here has, so the choice depends on the RAM check, and the code entry
    # must be skipped for task "chat".
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    models = [
        {"name": "huge-model-not-here", "task": "chat", "min_ram_gb": 100000,
         "notes": "Best quality; needs a very large machine"},
        {"name": TINY, "task": "code", "min_ram_gb": 1, "notes": "Code"},
        {"name": MODEL, "task": "chat", "min_ram_gb": 1, "notes": "Small and fast"},
    ]
    (tmp_path / "models.json").write_text(json.dumps(models, indent=2))
    script = shutil.copy(os.path.join(TUTORIAL, "select_model.py"), tmp_path)
    r = run_script(script, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Installed RAM: %.1f GB" % ram_gb
    assert lines[1] == "Selected model: %s (Small and fast)" % MODEL
    # The chat answered (raise_for_status passed); sampled, so its text is not checked.
    assert lines[2].startswith("Reply:"), r.stdout

    r = run_script(script, tmp_path, "code")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[1] == "Selected model: %s (Code)" % TINY

    r = run_script(script, tmp_path, "translation")
    assert r.returncode == 1
    assert "No model for task 'translation'" in r.stdout


def test_bench_latency_script(service, tmp_path):
    source = open(os.path.join(TUTORIAL, "bench_latency.py")).read()
    changed = source.replace('MODEL = "phi-4-mini"', "MODEL = %r" % MODEL)
    assert changed != source  # only the model name differs
    script = tmp_path / "bench_latency.py"
    script.write_text(changed)
    r = run_script(str(script), tmp_path, "3")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 5, r.stdout
    runs = []
    for i, line in enumerate(lines[:3]):
        m = re.fullmatch(r"Run %d: (\d+\.\d) ms, (\d+) tokens" % (i + 1), line)
        assert m, line
        # Sampled at the service's default temperature: an immediate end of text is 0 tokens.
        assert 0 <= int(m.group(2)) <= 32
        runs.append(float(m.group(1)))
    mean = re.fullmatch(r"Mean latency: (\d+\.\d) ms", lines[3])
    p50 = re.fullmatch(r"p50 latency: (\d+\.\d) ms", lines[4])
    assert mean and p50, r.stdout
    assert abs(float(mean.group(1)) - sum(runs) / 3) <= 0.2
    assert abs(float(p50.group(1)) - sorted(runs)[1]) <= 0.11
