"""End-to-end tests of the service's observability: GET /metrics parsed with the official
Prometheus text parser (counters move by exactly the requests and tokens of a scripted run),
the request log (one JSON line per request with the same tokens), and /health."""
import json
import os
import signal
import time

import pytest
import requests

from test_security import (KEY1, keyed, kill_if_alive, local, make_home, open_stream,  # noqa: F401
                           rest_of_stream, start)
from test_service import SMOLLM2, T, TINY, chat_body, post, service, stream_text  # noqa: F401

parser = pytest.importorskip("prometheus_client.parser")

MODEL = SMOLLM2 if os.path.exists(SMOLLM2) else TINY
CHAT = "/v1/chat/completions"


def scrape(service):
    r = requests.get(service["url"] + "/metrics", timeout=T)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {f.name: f for f in parser.text_string_to_metric_families(r.text)}


def value(families, family, sample_name, **labels):
    """The value of one sample (0 when the series does not exist yet)."""
    f = families.get(family)
    if f is None:
        return 0
    for s in f.samples:
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0


def chat_requests_done(families):
    return value(families, "foundry_requests", "foundry_requests_total", route=CHAT, status="200")


def wait_for_chat_count(service, expected):
    """A request is counted when its answer's last byte is out: poll briefly past that."""
    deadline = time.time() + 10
    while True:
        families = scrape(service)
        if chat_requests_done(families) >= expected or time.time() > deadline:
            return families
        time.sleep(0.05)


def log_lines(service):
    path = os.path.join(service["home"], "logs", "requests.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_metrics_move_by_exactly_the_scripted_run(service):
    url = service["url"]
    # Load the model first so that its load is not part of what the run measures.
    assert requests.get(url + "/openai/load/" + MODEL, timeout=T).status_code == 200
    before = scrape(service)
    logged_before = len(log_lines(service))
    model = MODEL  # a model named by its path is loaded under that id

    usages = []
    for prompt in ("Name a color.", "Count to five.", "Name a fruit."):
        r = post(service, CHAT, chat_body(MODEL, prompt, max_tokens=12))
        assert r.status_code == 200, r.text
        usages.append(r.json()["usage"])
    # A streamed request is counted (and logged) when its stream ends.
    _, _, usage, _ = stream_text(service, CHAT, chat_body(
        MODEL, "Say hello.", max_tokens=10, stream_options={"include_usage": True}))
    usages.append(usage)
    n = len(usages)

    after = wait_for_chat_count(service, chat_requests_done(before) + n)
    assert chat_requests_done(after) - chat_requests_done(before) == n

    def delta(family, sample_name, **labels):
        return (value(after, family, sample_name, **labels) -
                value(before, family, sample_name, **labels))

    assert delta("foundry_prompt_tokens", "foundry_prompt_tokens_total", model=model) == \
        sum(u["prompt_tokens"] for u in usages)
    assert delta("foundry_generated_tokens", "foundry_generated_tokens_total", model=model) == \
        sum(u["completion_tokens"] for u in usages)
    cached = sum((u.get("prompt_tokens_details") or {}).get("cached_tokens", 0) for u in usages)
    assert delta("foundry_prompt_cached_tokens", "foundry_prompt_cached_tokens_total",
                 model=model) == cached
    with_token = sum(1 for u in usages if u["completion_tokens"] >= 1)
    with_two = sum(1 for u in usages if u["completion_tokens"] >= 2)
    assert delta("foundry_time_to_first_token_seconds",
                 "foundry_time_to_first_token_seconds_count", model=model) == with_token
    assert delta("foundry_inter_token_latency_seconds",
                 "foundry_inter_token_latency_seconds_count", model=model) == with_two
    assert delta("foundry_request_duration_seconds", "foundry_request_duration_seconds_count",
                 route=CHAT) == n
    # Buckets are cumulative and end in +Inf == _count.
    ttft = [s for s in after["foundry_time_to_first_token_seconds"].samples
            if s.name.endswith("_bucket") and s.labels["model"] == model]
    assert [s.value for s in ttft] == sorted(s.value for s in ttft)
    assert ttft[-1].labels["le"] == "+Inf"
    assert ttft[-1].value == value(after, "foundry_time_to_first_token_seconds",
                                   "foundry_time_to_first_token_seconds_count", model=model)

    # Gauges: the loaded model and its memory, idle slots, the process's memory.
    assert value(after, "foundry_model_loaded_bytes", "foundry_model_loaded_bytes",
                 model=model) > 0
    assert value(after, "foundry_busy_slots", "foundry_busy_slots", model=model) == 0
    assert value(after, "foundry_queue_depth", "foundry_queue_depth", model=model) == 0
    assert value(after, "foundry_slots", "foundry_slots", model=model) >= 1
    assert value(after, "foundry_draining", "foundry_draining") == 0
    assert value(after, "process_resident_memory_bytes", "process_resident_memory_bytes") > 1e6
    # Routes are patterns: no label holds the model's path.
    for f in after.values():
        for s in f.samples:
            assert "route" not in s.labels or MODEL not in s.labels["route"], s

    # The request log: one line per request, with the usage its answer reported.
    lines = [j for j in log_lines(service)[logged_before:] if j["route"] == CHAT]
    assert len(lines) == n, lines
    for j, u in zip(lines, usages):
        assert j["status"] == 200 and j["method"] == "POST" and j["model"] == model
        assert j["id"].startswith("chatcmpl-")
        assert (j["prompt_tokens"], j["completion_tokens"]) == \
            (u["prompt_tokens"], u["completion_tokens"])
        assert j["finish_reason"] in ("stop", "length")
        assert j["client"] == "127.0.0.1"
        assert 0 <= j["ttft_s"] <= j["duration_s"]


def test_routes_are_labelled_by_pattern_and_failures_counted(service):
    url = service["url"]
    before = scrape(service)
    assert requests.get(url + "/no/such/route", timeout=T).status_code == 404
    r = requests.get(url + "/openai/unload/not-a-loaded-model", timeout=T)
    assert r.status_code == 404
    r = post(service, CHAT, chat_body("no-such-model", "hi"))
    assert r.status_code == 404
    deadline = time.time() + 10
    while True:
        after = scrape(service)
        moved = value(after, "foundry_requests", "foundry_requests_total", route=CHAT,
                      status="404") - value(before, "foundry_requests", "foundry_requests_total",
                                            route=CHAT, status="404")
        if moved >= 1 or time.time() > deadline:
            break
        time.sleep(0.05)

    def moved(route, status):
        return (value(after, "foundry_requests", "foundry_requests_total", route=route,
                      status=status) -
                value(before, "foundry_requests", "foundry_requests_total", route=route,
                      status=status))

    assert moved("other", "404") == 1
    assert moved("/openai/unload/{model}", "404") == 1
    assert moved(CHAT, "404") == 1
    # A name that loads nothing makes no model series.
    assert all(s.labels.get("model") != "no-such-model"
               for f in after.values() for s in f.samples)


def test_health_is_open_and_ok_while_serving(service):
    r = requests.get(service["url"] + "/health", timeout=T)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_metrics_need_the_api_key_when_keys_are_set(keyed):  # noqa: F811
    assert keyed.get("/metrics").status_code == 401
    r = keyed.get("/metrics", key=KEY1)
    assert r.status_code == 200
    families = {f.name for f in parser.text_string_to_metric_families(r.text)}
    assert {"foundry_requests", "process_resident_memory_bytes"} <= families
    assert keyed.get("/health").status_code == 200


@pytest.mark.skipif(not os.path.exists(SMOLLM2), reason="needs SmolLM2 (make models)")
def test_metrics_show_a_drain_and_its_busy_slot(tmp_path):
    # 200 tokens keep the stream running past the checks (48 could end within the 0.2 s on a fast
    # host); the long drain deadline lets the sanitizer builds finish them.
    home, env, port = make_home(tmp_path)
    local = start(home, env, port, "--drain-timeout", "600")
    try:
        r, lines = open_stream(local, 200)
        busy = {f.name: f for f in parser.text_string_to_metric_families(local.get("/metrics").text)}
        # Admitted to a slot, or still waiting for one.
        assert (value(busy, "foundry_busy_slots", "foundry_busy_slots", model=SMOLLM2) +
                value(busy, "foundry_queue_depth", "foundry_queue_depth", model=SMOLLM2)) == 1
        local.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert local.get("/health").status_code == 503
        m = local.get("/metrics")  # still answered: a scraper watches the drain
        assert m.status_code == 200
        families = {f.name: f for f in parser.text_string_to_metric_families(m.text)}
        assert value(families, "foundry_draining", "foundry_draining") == 1
        assert rest_of_stream(lines)[-1] == "[DONE]"
        assert local.proc.wait(timeout=30) == 0
    finally:
        if local.proc.poll() is None:
            kill_if_alive(local.proc.pid)
