"""Two `foundry service` replicas on loopback ports behind Debian's nginx, configured by
deploy/nginx/foundry.conf (its replica addresses and port rewritten to this test's): requests
spread over both, a conversation header sticks to one replica, a replica killed mid-run loses
no request that had not started streaming (nginx retries it on the other), and a draining
replica finishes its streams while nginx sends new requests elsewhere. nginx runs as the
current user from a temporary prefix, not as a system service."""
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import requests

from test_service import FOUNDRY, ROOT, SMOLLM2, T, env_for, free_port, kill_if_alive

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
CONF = os.path.join(ROOT, "deploy", "nginx", "foundry.conf")

pytestmark = [
    pytest.mark.skipif(NGINX is None, reason="needs nginx (scripts/setup.sh installs it)"),
    pytest.mark.skipif(not os.path.exists(SMOLLM2), reason="needs SmolLM2 (make models)"),
]


def start_replica(tmp, name):
    home = tmp / name
    home.mkdir()
    port = free_port()
    log = open(home / "run.log", "w")
    proc = subprocess.Popen([FOUNDRY, "service", "run", "--port", str(port), "--slots", "2",
                             "--threads", "1", "--drain-timeout", "30"],
                            env=env_for(home), stdout=log, stderr=subprocess.STDOUT)
    return {"name": name, "port": port, "proc": proc, "addr": "127.0.0.1:%d" % port}


def wait_healthy(port, proc):
    # Generous: under ASan, beside other tests on two cores, a replica can take long to come up.
    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None
        try:
            if requests.get("http://127.0.0.1:%d/health" % port, timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.05)
    raise AssertionError("port %d did not come up" % port)


def nginx_config(tmp, port, replicas):
    """deploy/nginx/foundry.conf inside a minimal nginx.conf that runs from `tmp`."""
    conf = open(CONF).read()
    servers = "".join("    server %s max_fails=1 fail_timeout=10s;\n" % r["addr"] for r in replicas)
    conf, n = re.subn(r"(    server foundry-\d+:8000[^\n]*\n)+", servers, conf)
    assert n == 1, "deploy/nginx/foundry.conf lost its replica lines"
    conf, n = re.subn(r"listen 8080;", "listen 127.0.0.1:%d;" % port, conf)
    assert n == 1
    temp = tmp / "nginx-temp"
    temp.mkdir()
    user = "user root root;\n" if os.getuid() == 0 else ""
    return (user + "worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log info;\n"
            "events { worker_connections 256; }\n"
            "http {\n  access_log %s/access.log;\n"
            "  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n"
            "  fastcgi_temp_path %s/fastcgi;\n  uwsgi_temp_path %s/uwsgi;\n"
            "  scgi_temp_path %s/scgi;\n%s\n}\n") % ((tmp, tmp, tmp) + (temp,) * 5 + (conf,))


@pytest.fixture
def cluster(tmp_path):
    replicas = [start_replica(tmp_path, "a"), start_replica(tmp_path, "b")]
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(tmp_path, port, replicas))
    nginx = None
    try:
        for r in replicas:
            wait_healthy(r["port"], r["proc"])
        test = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)],
                              capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf), "-g",
                                  "daemon off;"], stderr=subprocess.PIPE)
        url = "http://127.0.0.1:%d" % port
        deadline = time.time() + 10
        while True:
            try:
                if requests.get(url + "/nginx-health", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                assert time.time() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield {"url": url, "replicas": {r["addr"]: r for r in replicas}, "tmp": tmp_path}
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        for r in replicas:
            if r["proc"].poll() is None:
                r["proc"].send_signal(signal.SIGTERM)
                try:
                    r["proc"].wait(timeout=40)
                except subprocess.TimeoutExpired:
                    kill_if_alive(r["proc"].pid)


def chat(cluster, conversation=None, max_tokens=4, stream=False):
    headers = {"X-Conversation-Id": conversation} if conversation else {}
    # SmolLM2's end tokens banned: every answer runs to max_tokens, so how long a request is in
    # flight does not depend on what the model says.
    body = {"model": SMOLLM2, "max_tokens": max_tokens, "temperature": 0, "stream": stream,
            "logit_bias": {"0": -100, "2": -100},
            "messages": [{"role": "user", "content": "Name a colour."}]}
    return requests.post(cluster["url"] + "/v1/chat/completions", json=body, headers=headers,
                         timeout=T, stream=stream)


def replica_of(r):
    """The replica that answered (the last of those nginx tried)."""
    return r.headers["X-Foundry-Replica"].split(",")[-1].strip()


def conversations_by_replica(cluster, n=12):
    by = {}
    for i in range(n):
        r = chat(cluster, "conversation-%d" % i)
        assert r.status_code == 200, r.text
        by.setdefault(replica_of(r), []).append("conversation-%d" % i)
    return by


def test_requests_spread_and_conversations_stick(cluster):
    seen = set()
    for _ in range(10):  # both are chosen with probability 1 - 2**-9
        r = chat(cluster)
        assert r.status_code == 200, r.text
        seen.add(replica_of(r))
    assert seen == set(cluster["replicas"]), seen  # no header: spread over both
    by = conversations_by_replica(cluster)
    assert set(by) == set(cluster["replicas"]), by  # conversations land on both replicas
    for replica, conversations in by.items():
        for c in conversations[:2]:
            for _ in range(3):
                assert replica_of(chat(cluster, c)) == replica, c  # and stay there


def test_a_killed_replica_loses_no_request_that_had_not_started_streaming(cluster):
    by = conversations_by_replica(cluster)
    victim = sorted(by)[0]
    survivor = [a for a in cluster["replicas"] if a != victim][0]
    doomed = by[victim]
    # Requests pinned to the victim, in flight (not streaming: nothing sent yet) when it dies.
    # It has 2 slots, so most of them are still queued there at the kill whatever the speed
    # (48 tokens each also keeps the survivor's retries short under the sanitizers).
    def timed_chat(c):
        r = chat(cluster, c, 48)
        return r, time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(len(doomed)) as pool:
        futures = [pool.submit(timed_chat, c) for c in doomed]
        time.sleep(0.5)
        killed_at = time.monotonic()
        cluster["replicas"][victim]["proc"].send_signal(signal.SIGKILL)
        answers = [f.result() for f in futures]
    for r, _ in answers:
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"]
    assert any(victim in r.headers["X-Foundry-Replica"] for r, _ in answers)  # it had them
    # Only a request the victim had already answered may come from it; every other one was
    # retried on the survivor, and at least one was in flight at the kill.
    for r, done_at in answers:
        assert replica_of(r) == survivor or done_at < killed_at + 0.05, r.headers
    assert any(replica_of(r) == survivor for r, _ in answers)
    # New requests for its conversations go to the survivor too.
    for c in doomed[:4]:
        r = chat(cluster, c)
        assert r.status_code == 200 and replica_of(r) == survivor


def test_a_draining_replica_finishes_its_streams(cluster):
    by = conversations_by_replica(cluster)
    victim = sorted(by)[0]
    survivor = [a for a in cluster["replicas"] if a != victim][0]
    streams = []
    for c in by[victim][:2]:
        r = chat(cluster, c, max_tokens=48, stream=True)
        assert r.status_code == 200 and replica_of(r) == victim
        lines = r.iter_lines(decode_unicode=True)
        assert next(line for line in lines if line).startswith("data: ")
        streams.append(lines)
    proc = cluster["replicas"][victim]["proc"]
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # Meanwhile its conversations are answered by the other replica (the 503 is retried).
    r = chat(cluster, by[victim][0])
    assert r.status_code == 200, r.text
    assert replica_of(r) == survivor
    for lines in streams:
        events = [line[len("data: "):] for line in lines if line]
        assert events[-1] == "[DONE]", events[-3:]
        assert not any("error" in json.loads(e) for e in events[:-1])
    assert proc.wait(timeout=40) == 0
