"""A foundry home of its own for a CLI e2e test: FOUNDRY_HOME, HOME and FOUNDRY_CACHE_DIR in a
temporary folder (no FOUNDRY_* setting of the caller leaks in), the service set to a free
loopback port, and at the end the service stopped, or killed if it is still ours."""
import contextlib
import os
import signal
import socket
import subprocess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def isolated_home(foundry, home, port=None):
    """Yields the environment to run `foundry` with in `home` (a pathlib.Path); the service
    listens on `port` (a free one when None)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_")}
    env.update(HOME=str(home), FOUNDRY_HOME=str(home), FOUNDRY_CACHE_DIR=str(home / "cache"))
    port = port or free_port()
    assert subprocess.run([foundry, "service", "set", "--port", str(port)], env=env,
                          capture_output=True, timeout=60).returncode == 0
    try:
        yield env
    finally:
        subprocess.run([foundry, "service", "stop"], env=env, capture_output=True, timeout=60)
        try:
            pid = int(open(home / "service.pid").read().split()[0])
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"service\0run" in f.read():
                    os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass
