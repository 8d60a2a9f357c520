#!/usr/bin/env bash
# Installs the system and Python packages the build and the tests need. Idempotent and fast when
# everything is already present (no apt-get update, no pip resolution).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build clang clang-format
  libclang-rt-14-dev  # libFuzzer + clang's sanitizer runtimes (make fuzz)
  libasan8 libubsan1 libtsan2  # GCC's sanitizer runtimes (make test-sanitize, make test-tsan)
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev
  python3 python3-pip
  chromium chromium-driver fonts-dejavu-core  # the chat page's browser test (tests/e2e/test_web_page.py)
  nginx  # the load balancer of the replica e2e test (tests/e2e/test_deploy_nginx.py)
)

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
  SUDO="sudo"
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages present"
fi

PYTHON="${PYTHON:-python3}"

# Exit 0 iff every pinned requirement is installed at exactly the pinned version.
requirements_satisfied() {
  "$PYTHON" - "$REQS" <<'PY'
import re, sys
from importlib import metadata
ok = True
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
    if not m:
        ok = False
        continue
    try:
        if metadata.version(m.group(1)) != m.group(2):
            ok = False
    except metadata.PackageNotFoundError:
        ok = False
sys.exit(0 if ok else 1)
PY
}

# install_requirements FILE [PIP ARGS...]: pip-installs FILE unless it is already satisfied.
install_requirements() {
  REQS="$1"
  shift
  if requirements_satisfied; then
    echo "setup: python packages of $REQS present"
    return
  fi
  echo "setup: installing python packages from $REQS"
  pip_args=(-m pip install --quiet --disable-pip-version-check -r "$REQS" "$@")
  if [[ "$(id -u)" -ne 0 && -z "${VIRTUAL_ENV:-}" ]]; then
    # Not root and no venv: a user install avoids touching the system site-packages.
    pip_args+=(--user)
  fi
  if ! "$PYTHON" "${pip_args[@]}" 2>/tmp/foundry-pip-err.$$; then
    if grep -q "externally-managed-environment" /tmp/foundry-pip-err.$$; then
      # Debian's system python refuses pip installs (PEP 668) unless told otherwise.
      "$PYTHON" "${pip_args[@]}" --break-system-packages
    else
      cat /tmp/foundry-pip-err.$$ >&2
      rm -f /tmp/foundry-pip-err.$$
      exit 1
    fi
  fi
  rm -f /tmp/foundry-pip-err.$$
}

install_requirements tools/requirements.txt
# onnxruntime-genai's model builder (tests/e2e/test_onnx_import.py builds its ONNX folder with
# it); it imports torch, installed first from PyPI.
install_requirements tools/requirements-torch.txt
install_requirements tools/requirements-onnx.txt

echo "setup: done"
