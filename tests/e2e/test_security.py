"""Hostile requests against the real daemon (`foundry service run`): binding rules, API keys
(and the time their comparison takes), model names that try to leave the cache, huge and slow
requests, a connection cap, rate limits, CORS from foreign origins, and the graceful drain on
SIGTERM. Each service runs in its own temporary FOUNDRY_HOME on a free loopback port."""
import json
import os
import shutil
import signal
import socket
import statistics
import sys
import subprocess
import time

import pytest
import requests

from test_service import FOUNDRY, SMOLLM2, T, TINY, cli, env_for, free_port, kill_if_alive

KEY1 = "k1-" + "a" * 40
KEY2 = "k2-" + "b" * 40
ENV_KEY = "env-" + "c" * 40


class Service:
    """A `foundry service run` daemon in the foreground of a subprocess."""

    def __init__(self, home, env, port, proc, host="127.0.0.1"):
        self.home, self.env, self.port, self.proc = home, env, port, proc
        self.url = "http://%s:%d" % (host, port)

    def get(self, path, key=None, **kw):
        return requests.get(self.url + path, headers=auth(key, kw.pop("headers", None)),
                            timeout=T, **kw)

    def post(self, path, body, key=None, **kw):
        return requests.post(self.url + path, json=body, headers=auth(key, kw.pop("headers", None)),
                             timeout=T, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                kill_if_alive(self.proc.pid)
        return self.proc.wait()


def auth(key, headers=None):
    h = dict(headers or {})
    if key is not None:
        h["Authorization"] = "Bearer " + key
    return h


def make_home(tmp_path, *set_args, port=None):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = env_for(home)
    port = port or free_port()
    r = cli(env, "service", "set", "--port", str(port), "--cachedir", str(make_cache(home)),
            *set_args)
    assert r.returncode == 0, r.stderr
    return home, env, port


def make_cache(home):
    """A cache holding the tiny model under the id `tiny-local`."""
    cache = home / "cache"
    model = cache / "mine" / "tiny-local"
    if not model.exists():
        model.mkdir(parents=True)
        shutil.copy(TINY, model / "tiny.gguf")
        (model / "inference_model.json").write_text(json.dumps({"Name": "tiny-local"}))
    return cache


def start(home, env, port, *run_args, host="127.0.0.1", expect_up=True):
    log = open(os.path.join(home, "run.log"), "w")
    proc = subprocess.Popen([FOUNDRY, "service", "run", *run_args], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    svc = Service(home, env, port, proc, host)
    if not expect_up:
        proc.wait(timeout=30)
        return svc
    deadline = time.time() + 120  # generous: under ASan, beside other tests on two cores
    while time.time() < deadline:
        assert proc.poll() is None, open(os.path.join(home, "run.log")).read()
        try:
            if requests.get(svc.url + "/health", timeout=2).status_code == 200:
                return svc
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.05)
    svc.stop()
    raise AssertionError("the service did not come up")


def run_log(svc):
    return open(os.path.join(svc.home, "run.log")).read()


def error_of(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    return err


@pytest.fixture
def keyed(tmp_path):
    home, env, port = make_home(tmp_path, "--api-key", KEY1, "--api-key", KEY2)
    env["FOUNDRY_API_KEY"] = ENV_KEY
    svc = start(home, env, port)
    yield svc
    svc.stop()


@pytest.fixture
def local(tmp_path):
    home, env, port = make_home(tmp_path)
    svc = start(home, env, port)
    yield svc
    svc.stop()


def chat(model, content="Hi", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}],
            "temperature": 0, "max_tokens": 4}
    body.update(extra)
    return body


# --- binding ---------------------------------------------------------------------------------

def test_an_exposed_address_needs_a_key_or_an_explicit_opt_out(tmp_path):
    home, env, port = make_home(tmp_path, "--host", "0.0.0.0")
    settings = json.load(open(home / "settings.json"))
    assert settings["host"] == "0.0.0.0"
    svc = start(home, env, port, expect_up=False)
    assert svc.proc.returncode != 0
    assert "--api-key" in run_log(svc)
    r = cli(env, "service", "start")
    assert r.returncode != 0 and "--api-key" in r.stderr, r.stderr
    svc = start(home, env, port, "--allow-unauthenticated")
    try:
        assert "warning" in run_log(svc) and "without an API key" in run_log(svc)
        assert svc.get("/v1/models").status_code == 200
    finally:
        svc.stop()


def test_service_set_checks_and_shows_access_settings(tmp_path):
    home, env, port = make_home(tmp_path)
    assert cli(env, "service", "set", "--host", "example.com").returncode != 0
    assert cli(env, "service", "set", "--api-key", "short").returncode != 0
    assert cli(env, "service", "set", "--origins", "ftp://x").returncode != 0
    r = cli(env, "service", "set", "--host", "0.0.0.0", "--allow-unauthenticated")
    assert r.returncode == 0 and "without an API key" in r.stderr, r.stderr
    r = cli(env, "service", "set", "--allow-unauthenticated", "false", "--api-key", KEY1,
            "--origins", "https://a.example,https://b.example", "--rate-limit", "60", "--show")
    shown = json.loads(r.stdout)
    assert shown["host"] == "0.0.0.0" and shown["apiKeys"] == 1
    assert shown["allowUnauthenticated"] is False and shown["rateLimitPerMinute"] == 60
    assert shown["corsOrigins"] == ["https://a.example", "https://b.example"]
    assert KEY1 not in r.stdout
    r = cli(env, "service", "set", "--clear-api-keys", "--clear-origins", "--show")
    shown = json.loads(r.stdout)
    assert shown["apiKeys"] == 0 and shown["corsOrigins"] == []
    assert "will not start" in r.stderr  # 0.0.0.0 without a key any more


def test_the_host_setting_is_where_it_listens(tmp_path):
    home, env, port = make_home(tmp_path, "--host", "127.0.0.2")
    r = cli(env, "service", "start")
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        assert "http://127.0.0.2:%d/" % port in r.stdout
        assert requests.get("http://127.0.0.2:%d/health" % port, timeout=T).status_code == 200
        with pytest.raises(requests.ConnectionError):
            requests.get("http://127.0.0.1:%d/health" % port, timeout=T)
        assert cli(env, "service", "status").returncode == 0
    finally:
        pid = open(home / "service.pid").read().split()[0]
        cli(env, "service", "stop")
        kill_if_alive(int(pid))


# --- API keys --------------------------------------------------------------------------------

CLOSED_ROUTES = [
    ("GET", "/v1/models"), ("GET", "/openai/status"), ("GET", "/openai/models"),
    ("GET", "/foundry/list"), ("GET", "/openai/loadedmodels"), ("GET", "/openai/load/tiny-local"),
    ("GET", "/openai/unload/tiny-local"), ("GET", "/openai/unloadall"),
    ("POST", "/v1/chat/completions"), ("POST", "/v1/completions"), ("POST", "/v1/embeddings"),
    ("POST", "/v1/chat/completions/tokenizer/encode/count"), ("POST", "/openai/download"),
    ("GET", "/no/such/route"), ("DELETE", "/v1/models"),
]


def test_health_is_the_only_open_route(keyed):
    r = keyed.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    for method, path in CLOSED_ROUTES:
        r = requests.request(method, keyed.url + path, json=chat("tiny-local"), timeout=T)
        err = error_of(r, 401)
        assert r.headers.get("WWW-Authenticate") == "Bearer", path
        assert "API key" in err["message"], path


def test_the_chat_page_loads_without_a_key_and_asks_for_it(keyed):
    # The page and its files are open (it asks for the key itself); everything it calls is not.
    for path in ("/", "/web/app.js", "/web/style.css", "/web/favicon.svg"):
        assert requests.get(keyed.url + path, timeout=T).status_code == 200, path
    assert requests.get(keyed.url + "/web/absent.js", timeout=T).status_code == 404
    error_of(requests.get(keyed.url + "/v1/models", timeout=T), 401)


def test_bad_keys_are_refused_and_never_echoed(keyed):
    for bad in ["wrong", KEY1[:-1], KEY1 + "x", KEY1.upper(), "Bearer " + KEY1, ""]:
        r = keyed.post("/v1/chat/completions", chat("tiny-local"), key=bad)
        err = error_of(r, 401)
        if bad:
            assert bad not in r.text
            assert err["code"] == "invalid_api_key"
    for scheme in ["Basic " + KEY1, KEY1, "Token " + KEY1]:
        r = keyed.get("/v1/models", headers={"Authorization": scheme})
        error_of(r, 401)


def test_every_configured_key_works_and_none_is_stored(keyed):
    for key in (KEY1, KEY2, ENV_KEY):
        r = keyed.post("/v1/chat/completions", chat("tiny-local"), key=key)
        assert r.status_code == 200, (key, r.text)
    settings = open(keyed.home / "settings.json").read()
    assert KEY1 not in settings and KEY2 not in settings and ENV_KEY not in settings
    assert len(json.loads(settings)["apiKeySha256"]) == 2
    assert oct(os.stat(keyed.home / "service.key").st_mode & 0o777) == "0o600"


def test_the_cli_sends_the_key(keyed):
    r = cli(keyed.env, "service", "status")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(keyed.env, "service", "ps")
    assert r.returncode == 0 and "No models are currently loaded" in r.stdout, r.stdout + r.stderr


def test_the_openai_client_works_with_api_key(keyed):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=keyed.url + "/v1", api_key=KEY1)
    reply = client.chat.completions.create(model="tiny-local", max_tokens=4,
                                           messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].message.content is not None
    bad = openai.OpenAI(base_url=keyed.url + "/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_key_comparison_time_does_not_depend_on_where_a_key_differs(keyed):
    """Wrong keys that share a long prefix with a real key against ones that differ at once:
    medians of interleaved timings must agree within noise (the server compares SHA-256
    digests with CRYPTO_memcmp, see tests/unit/server_auth_test.cc)."""
    near = KEY1[:-1] + "z"   # differs in the last character
    far = "z" + KEY1[1:]     # differs in the first
    session = requests.Session()

    def once(key):
        t = time.perf_counter()
        r = session.get(keyed.url + "/v1/models", headers=auth(key), timeout=T)
        dt = time.perf_counter() - t
        assert r.status_code == 401
        return dt

    for _ in range(20):
        once(near), once(far)
    ratios = []
    for _ in range(3):
        a, b = [], []
        for _ in range(150):
            a.append(once(near))
            b.append(once(far))
        ratios.append(statistics.median(a) / statistics.median(b))
    assert 0.75 < statistics.median(ratios) < 1.33, ratios


# --- model names and paths -------------------------------------------------------------------

def unknown_message(svc, name, key):
    r = svc.post("/v1/chat/completions", chat(name), key=key)
    err = error_of(r, 404)
    assert err["code"] == "model_not_found"
    return err["message"].replace(name, "NAME")


def test_names_cannot_leave_the_cache(keyed):
    cache = keyed.home / "cache"
    link_dir = cache / "mine" / "escape"
    link_dir.mkdir()
    os.symlink(TINY, link_dir / "tiny.gguf")  # a symbolic link out of the cache
    (link_dir / "inference_model.json").write_text(json.dumps({"Name": "escape"}))
    expected = unknown_message(keyed, "no-such-model", KEY1)
    for name in [TINY, "/etc/passwd", "../../../../etc/passwd", str(cache / ".." / "settings.json"),
                 str(cache / "mine" / ".." / ".." / "settings.json"), "escape",
                 str(link_dir / "tiny.gguf"), "/no/such/file.gguf", str(cache)]:
        assert unknown_message(keyed, name, KEY1) == expected, name
        r = keyed.get("/openai/load/" + name, key=KEY1)
        assert r.status_code == 404, (name, r.text)
    # A model file inside the cache, named by its path, still loads.
    inside = str(cache / "mine" / "tiny-local" / "tiny.gguf")
    assert keyed.post("/v1/chat/completions", chat(inside), key=KEY1).status_code == 200
    assert keyed.post("/v1/chat/completions", chat("tiny-local"), key=KEY1).status_code == 200


def test_a_loopback_service_without_keys_loads_the_users_files(local):
    assert local.post("/v1/chat/completions", chat(TINY)).status_code == 200
    # A file that is not a model answers exactly like a name that does not exist.
    expected = unknown_message(local, "/no/such/file.gguf", None)
    for name in ["/etc/passwd", os.path.abspath(__file__), "/etc", "/proc/self/environ"]:
        assert unknown_message(local, name, None) == expected, name
    assert "bad magic" not in local.post("/v1/chat/completions", chat("/etc/passwd")).text


def test_errors_carry_no_file_paths(local):
    broken = local.home / "cache" / "mine" / "broken"
    broken.mkdir()
    (broken / "model.gguf").write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    (broken / "inference_model.json").write_text(json.dumps({"Name": "broken"}))
    r = local.post("/v1/chat/completions", chat("broken"))
    assert 400 <= r.status_code < 600 and r.status_code != 404, r.text
    assert str(local.home) not in r.text and "model.gguf" not in r.text, r.text
    assert "Traceback" not in r.text and "terminate" not in r.text
    assert str(broken) in run_log(local)  # the operator's log has the detail


# --- sizes, slow clients, connections, rates ------------------------------------------------

def raw_request(port, data, read=True, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        return s.recv(65536) if read else b""
    finally:
        s.close()


def test_huge_headers_and_bodies_are_refused(local):
    big = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 4000 + b"\r\n"
    answer = raw_request(local.port, big * 1 + b"X-More: 1\r\n" * 20000 + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:100]
    r = requests.post(local.url + "/v1/chat/completions", data=b"x" * (9 << 20), timeout=T)
    error_of(r, 413)
    assert local.get("/health").status_code == 200


def slow_client(port, stop_after):
    """Sends a request's headers one byte every 0.2 s; returns seconds until the server hung
    up (or None when it kept listening for `stop_after` seconds)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    t0 = time.time()
    try:
        s.sendall(b"GET /health HTTP/1.1\r\n")
        while time.time() - t0 < stop_after:
            try:
                s.sendall(b"X")
            except OSError:
                return time.time() - t0
            s.settimeout(0.2)
            try:
                if s.recv(1024) == b"":
                    return time.time() - t0
            except socket.timeout:
                pass
        return None
    finally:
        s.close()


def test_slow_clients_are_cut_off(tmp_path):
    home, env, port = make_home(tmp_path)
    svc = start(home, env, port, "--request-timeout", "2")
    try:
        took = slow_client(port, stop_after=15)
        assert took is not None and took < 6, took
        assert svc.get("/health").status_code == 200
    finally:
        svc.stop()


def test_connections_are_capped_and_recover(tmp_path):
    home, env, port = make_home(tmp_path)
    svc = start(home, env, port, "--max-connections", "3", "--request-timeout", "3")
    hogs = []
    try:
        for _ in range(3):  # three connections that never finish their request
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"GET /health HTTP/1.1\r\nX-Slow: ")
            hogs.append(s)
        time.sleep(0.3)
        t0 = time.time()
        r = requests.get(svc.url + "/health", timeout=30)
        waited = time.time() - t0
        assert r.status_code == 200
        assert waited > 1.5, waited  # it waited for a slot: the hogs were cut at 3 s
        for s in hogs:  # each was answered 400 (its request never completed) and closed
            s.settimeout(5)
            answer = s.recv(1024)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer
    finally:
        for s in hogs:
            s.close()
        svc.stop()


def test_rate_limits_per_key(tmp_path):
    home, env, port = make_home(tmp_path, "--api-key", KEY1, "--api-key", KEY2,
                                "--rate-limit", "3")
    svc = start(home, env, port)
    try:
        codes = [svc.get("/v1/models", key=KEY1).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429], codes
        r = svc.get("/v1/models", key=KEY1)
        err = error_of(r, 429)
        assert err["code"] == "rate_limit_exceeded"
        assert int(r.headers["Retry-After"]) >= 1
        assert svc.get("/v1/models", key=KEY2).status_code == 200  # its own allowance
        assert svc.get("/health").status_code == 200  # never limited
    finally:
        svc.stop()


# --- CORS ------------------------------------------------------------------------------------

def test_foreign_origins_are_refused_by_default(local):
    evil = {"Origin": "https://evil.example"}
    r = local.post("/v1/chat/completions", chat(TINY), headers=evil)
    error_of(r, 403)
    assert "Access-Control-Allow-Origin" not in r.headers
    # A "simple" cross-site form post is refused too, not just left unreadable.
    r = requests.post(local.url + "/openai/unloadall", data="x", timeout=T,
                      headers=dict(evil, **{"Content-Type": "text/plain"}))
    assert r.status_code == 403
    r = requests.options(local.url + "/v1/chat/completions", timeout=T,
                         headers=dict(evil, **{"Access-Control-Request-Method": "POST"}))
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    # The service's own page (same origin) is allowed.
    own = {"Origin": "http://127.0.0.1:%d" % local.port}
    assert local.get("/v1/models", headers=own).status_code == 200
    # A DNS name rebound to this machine is not the service's own page.
    rebound = {"Origin": "http://evil.example:%d" % local.port,
               "Host": "evil.example:%d" % local.port}
    assert local.get("/v1/models", headers=rebound).status_code == 403


def test_listed_origins_get_cors_answers(tmp_path):
    app = "https://app.example.com"
    home, env, port = make_home(tmp_path, "--api-key", KEY1, "--origins", app + ",http://x.test:1")
    svc = start(home, env, port)
    try:
        r = requests.options(svc.url + "/v1/chat/completions", timeout=T, headers={
            "Origin": app, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert r.status_code == 204, r.text  # a preflight carries no key
        assert r.headers["Access-Control-Allow-Origin"] == app
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert "authorization" in r.headers["Access-Control-Allow-Headers"].lower()
        r = svc.get("/v1/models", key=KEY1, headers={"Origin": app})
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == app
        r = svc.get("/v1/models", headers={"Origin": app})  # still needs its key
        error_of(r, 401)
        assert r.headers["Access-Control-Allow-Origin"] == app  # so the page can read why
        r = svc.get("/v1/models", key=KEY1, headers={"Origin": "https://evil.example"})
        error_of(r, 403)
    finally:
        svc.stop()


# --- graceful drain --------------------------------------------------------------------------

def open_stream(svc, max_tokens, key=None):
    r = requests.post(svc.url + "/v1/chat/completions", stream=True, timeout=T,
                      headers=auth(key),
                      json={"model": SMOLLM2, "stream": True, "max_tokens": max_tokens,
                            "temperature": 0,
                            # SmolLM2's end tokens banned: the stream runs until max_tokens,
                            # whatever the model would say (a drain test needs it running).
                            "logit_bias": {"0": -100, "2": -100},
                            "messages": [{"role": "user", "content": "Count to one thousand."}]})
    assert r.status_code == 200, r.text
    lines = r.iter_lines(decode_unicode=True)
    first = next(line for line in lines if line)
    assert first.startswith("data: ")
    return r, lines


def rest_of_stream(lines):
    events = [line[len("data: "):] for line in lines if line]
    return events


@pytest.mark.skipif(not os.path.exists(SMOLLM2), reason="needs SmolLM2 (make models)")
def test_sigterm_drains_running_streams(tmp_path):
    # 200 tokens keep the stream running well past the /health check below (48 could end within
    # the 0.2 s on a fast host, and the service then exits before it is asked); the long drain
    # deadline lets the sanitizer builds finish them.
    home, env, port = make_home(tmp_path)
    local = start(home, env, port, "--drain-timeout", "600")
    try:
        r, lines = open_stream(local, 200)
        local.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        h = local.get("/health")
        assert h.status_code == 503 and h.json() == {"status": "draining"}
        busy = local.post("/v1/chat/completions", chat(TINY))
        assert error_of(busy, 503)["code"] == "server_shutting_down"
        assert busy.headers["Retry-After"]
        events = rest_of_stream(lines)
        assert events[-1] == "[DONE]"
        finishes = [json.loads(e)["choices"][0]["finish_reason"] for e in events[:-1]
                    if json.loads(e).get("choices")]
        assert finishes[-1] in ("length", "stop"), events[-3:]
        assert local.proc.wait(timeout=30) == 0
    finally:
        if local.proc.poll() is None:
            kill_if_alive(local.proc.pid)


@pytest.mark.skipif(not os.path.exists(SMOLLM2), reason="needs SmolLM2 (make models)")
def test_the_drain_deadline_ends_streams_that_run_too_long(tmp_path):
    home, env, port = make_home(tmp_path)
    svc = start(home, env, port, "--drain-timeout", "1", "--ctx-size", "4096")
    r, lines = open_stream(svc, 3000)
    t0 = time.time()
    svc.proc.send_signal(signal.SIGTERM)
    try:
        events = rest_of_stream(lines)
    except requests.exceptions.ChunkedEncodingError as e:
        svc.proc.wait(timeout=30)
        raise AssertionError("the stream broke (exit %s): %s\n%s" %
                             (svc.proc.returncode, e, run_log(svc))) from None
    assert any("error" in json.loads(e) for e in events if e != "[DONE]"), events[-3:]
    assert svc.proc.wait(timeout=30) == 0
    assert time.time() - t0 < 10


@pytest.mark.skipif(not os.path.exists(SMOLLM2), reason="needs SmolLM2 (make models)")
def test_service_stop_drains(tmp_path):
    home, env, port = make_home(tmp_path)
    r = cli(env, "service", "start")
    assert r.returncode == 0, r.stdout + r.stderr
    svc = Service(home, env, port, None)
    pid = int(open(home / "service.pid").read().split()[0])
    try:
        r, lines = open_stream(svc, 48)
        stop = subprocess.Popen([FOUNDRY, "service", "stop"], env=env, stdout=subprocess.PIPE,
                                text=True)
        events = rest_of_stream(lines)
        assert events[-1] == "[DONE]" and not any("error" in e for e in events[:-1])
        assert stop.wait(timeout=60) == 0
    finally:
        kill_if_alive(pid)


def test_the_foundry_local_sdk_works_with_a_key(tmp_path):
    """foundry-local-sdk 0.5.1 unchanged: its openai client takes api_key (OPENAI_API_KEY,
    as the SDK reads it); its own management client needs the header added (docs/security.md)."""
    pytest.importorskip("foundry_local")
    home, env, port = make_home(tmp_path)
    env["FOUNDRY_API_KEY"] = KEY1
    env["OPENAI_API_KEY"] = KEY1
    env["PATH"] = os.path.dirname(os.path.abspath(FOUNDRY)) + os.pathsep + env["PATH"]
    script = r'''
import json
import openai
from foundry_local import FoundryLocalManager
m = FoundryLocalManager()  # finds (or starts) the service through `foundry service status`
m.httpx_client._client.headers["Authorization"] = "Bearer " + m.api_key
catalog = len(m.list_catalog_models())  # /foundry/list
cached = m.httpx_client.get("/openai/models")
client = openai.OpenAI(base_url=m.endpoint, api_key=m.api_key)
r = client.chat.completions.create(model="tiny-local", max_tokens=4,
                                   messages=[{"role": "user", "content": "Hi"}])
print(json.dumps({"catalog": catalog > 0, "cached": cached, "answered": r.choices[0].message.content is not None}))
'''
    r = cli(env, "service", "start")
    pid = open(home / "service.pid").read().split()[0] if (home / "service.pid").exists() else None
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        assert requests.get("http://127.0.0.1:%d/v1/models" % port, timeout=T).status_code == 401
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert result == {"catalog": True, "cached": ["tiny-local"], "answered": True}
    finally:
        cli(env, "service", "stop")
        kill_if_alive(int(pid) if pid else None)
