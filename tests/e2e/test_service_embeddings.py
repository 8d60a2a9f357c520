"""End-to-end tests of POST /v1/embeddings on the real service: the official `openai`
package's client.embeddings.create (float and its default base64 encoding), raw HTTP, and the
errors for bad input. Embeddings are mean-pooled over the prompt's tokens and unit length, and
must equal llama.cpp's (the goldens of tests/golden/embedding_golden_test.cc) when SmolLM2 is
fetched."""
import base64
import json
import math
import os
import struct
import sys

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_service import ROOT, SMOLLM2, T, TINY, assert_error, service  # noqa: E402,F401

try:
    import openai
except ImportError:
    openai = None

MODEL = SMOLLM2 if os.path.exists(SMOLLM2) else TINY
GOLDEN = os.path.join(ROOT, "tests", "golden", "data",
                      "SmolLM2-135M-Instruct.Q4_1-embeddings.json")


def embed(service, body):
    return requests.post(service["url"] + "/v1/embeddings", json=body, timeout=T)


def norm(v):
    return math.sqrt(sum(x * x for x in v))


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / (norm(a) * norm(b))


def test_embeddings_raw_http(service):
    r = embed(service, {"model": MODEL, "input": "Hello, world!"})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["object"] == "list" and j["model"] == MODEL
    assert len(j["data"]) == 1
    d = j["data"][0]
    assert d["object"] == "embedding" and d["index"] == 0
    v = d["embedding"]
    assert len(v) > 0 and all(isinstance(x, float) for x in v)
    assert abs(norm(v) - 1) < 1e-5
    assert j["usage"]["prompt_tokens"] == j["usage"]["total_tokens"] > 0

    # Same text, same vector; a batch gives each item's single vector, in order.
    texts = ["The quick brown fox jumps over the lazy dog.", "Hello, world!", "Bonjour"]
    again = embed(service, {"model": MODEL, "input": "Hello, world!"}).json()
    assert again["data"][0]["embedding"] == v
    batch = embed(service, {"model": MODEL, "input": texts, "encoding_format": "float"})
    assert batch.status_code == 200, batch.text
    bj = batch.json()
    assert [d["index"] for d in bj["data"]] == [0, 1, 2]
    singles = [embed(service, {"model": MODEL, "input": t}).json() for t in texts]
    for d, s in zip(bj["data"], singles):
        assert d["embedding"] == s["data"][0]["embedding"]
    assert bj["usage"]["prompt_tokens"] == sum(s["usage"]["prompt_tokens"] for s in singles)
    assert bj["data"][1]["embedding"] == v
    assert cosine(bj["data"][0]["embedding"], v) < 0.99

    # Token ids: the same vector as the text they encode.
    if MODEL == SMOLLM2:
        golden = json.load(open(GOLDEN))
        case = golden["cases"][0]
        by_ids = embed(service, {"model": MODEL, "input": case["ids"]}).json()
        assert by_ids["data"][0]["embedding"] == v
        nested = embed(service, {"model": MODEL, "input": [case["ids"], case["ids"]]}).json()
        assert [d["embedding"] for d in nested["data"]] == [v, v]


@pytest.mark.skipif(not os.path.exists(SMOLLM2), reason="SmolLM2 not fetched (make models)")
def test_embeddings_match_llama_cpp(service):
    golden = json.load(open(GOLDEN))
    texts = [c["text"] for c in golden["cases"]]
    r = embed(service, {"model": SMOLLM2, "input": texts})
    assert r.status_code == 200, r.text
    for d, c in zip(r.json()["data"], golden["cases"]):
        # Tolerance: see tests/golden/embedding_golden_test.cc.
        assert cosine(d["embedding"], c["embedding"]) >= 0.999, c["text"]


@pytest.mark.skipif(openai is None, reason="the openai package is not installed")
def test_embeddings_openai_client(service):
    client = openai.OpenAI(base_url=service["url"] + "/v1", api_key="unused")
    texts = ["Hello, world!", "The quick brown fox jumps over the lazy dog."]
    # The client asks for base64 by default and decodes it; float is asked for explicitly.
    default = client.embeddings.create(model=MODEL, input=texts)
    floats = client.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    assert len(default.data) == 2 and [d.index for d in default.data] == [0, 1]
    for a, b in zip(default.data, floats.data):
        assert a.embedding == b.embedding  # base64 carries the same float32 values exactly
        assert abs(norm(a.embedding) - 1) < 1e-5
    assert default.usage.prompt_tokens == default.usage.total_tokens > 0
    single = client.embeddings.create(model=MODEL, input=texts[1], encoding_format="float")
    assert single.data[0].embedding == floats.data[1].embedding

    raw = embed(service, {"model": MODEL, "input": texts[0], "encoding_format": "base64"}).json()
    blob = base64.b64decode(raw["data"][0]["embedding"])
    decoded = list(struct.unpack("<%df" % (len(blob) // 4), blob))
    assert decoded == floats.data[0].embedding

    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=MODEL, input="")


def test_embeddings_errors(service):
    for bad in [{"model": MODEL},
                {"model": MODEL, "input": ""},
                {"model": MODEL, "input": []},
                {"model": MODEL, "input": ["ok", ""]},
                {"model": MODEL, "input": ["ok", 3]},
                {"model": MODEL, "input": [1, "a"]},
                {"model": MODEL, "input": [[]]},
                {"model": MODEL, "input": [1.5]},
                {"model": MODEL, "input": [-1]},
                {"model": MODEL, "input": [1 << 30]},
                {"model": MODEL, "input": {"text": "x"}},
                {"model": MODEL, "input": None},
                {"model": MODEL, "input": "x", "encoding_format": "int8"},
                {"model": MODEL, "input": "x", "dimensions": 3},
                {"input": "x"},
                {"model": 5, "input": "x"}]:
        assert_error(embed(service, bad), 400)
    too_long = embed(service, {"model": MODEL, "input": "word " * 20000})
    assert_error(too_long, 400, "context_length_exceeded")
    assert "context" in too_long.json()["error"]["message"]
    assert_error(embed(service, {"model": "/no/such/model.gguf", "input": "x"}), 404)
    bad_json = requests.post(service["url"] + "/v1/embeddings", data="{not json",
                             headers={"Content-Type": "application/json"}, timeout=T)
    assert_error(bad_json, 400)
    # The service keeps serving.
    r = embed(service, {"model": MODEL, "input": "still here"})
    assert r.status_code == 200, r.text
