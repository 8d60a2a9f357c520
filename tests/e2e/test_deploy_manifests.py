"""deploy/ stays valid: yamllint over every YAML file (compose included), kubernetes-validate
over the Kubernetes manifests (both from PyPI, tools/requirements.txt), and the Dockerfile
builds with the same scripts/setup.sh and `make` that CI runs on a clean clone."""
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          cwd=DEPLOY, timeout=300)


def test_yaml_is_clean():
    r = run("yamllint", "--strict", "-c", os.path.join(DEPLOY, ".yamllint"), ".")
    assert r.returncode == 0, r.stdout + r.stderr
    assert glob.glob(os.path.join(DEPLOY, "*.yaml")) and glob.glob(
        os.path.join(DEPLOY, "kubernetes", "*.yaml"))


def test_kubernetes_manifests_validate():
    manifests = sorted(glob.glob(os.path.join(DEPLOY, "kubernetes", "*.yaml")))
    r = run("kubernetes_validate", "--strict", *manifests)
    assert r.returncode == 0, r.stdout + r.stderr
    kinds = open(os.path.join(DEPLOY, "kubernetes", "deployment.yaml")).read()
    assert "readinessProbe" in kinds and "path: /health" in kinds and "requests:" in kinds


def test_dockerfile_builds_as_ci_does():
    text = open(os.path.join(DEPLOY, "Dockerfile")).read()
    assert "FROM debian:" in text and text.count("FROM ") >= 2  # multi-stage, Debian
    assert "bash scripts/setup.sh" in text and "make " in text
    assert "USER foundry" in text and 'VOLUME ["/models"]' in text
