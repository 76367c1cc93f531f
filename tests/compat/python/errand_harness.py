"""Starts and stops a real errand process for the compatibility scenarios.

Each ErrandProcess gets a free port on loopback for gRPC and another for the
HTTP API (`--http-listen`, always passed: its default, 127.0.0.1:8233, would
clash between processes), and its own temporary data directory (or the one
it is given, which it then leaves in place); restart() keeps the directory
and both ports, kill() sends SIGKILL.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def errand_binary() -> str:
    path = os.environ.get("ERRAND_BIN") or str(REPO / "build" / "errand")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"errand binary not found at {path}; build it or set ERRAND_BIN")
    return path


def hash_key(key: str) -> str:
    """The hash for the config, from `errand hash-key` (as an operator makes it)."""
    done = subprocess.run([errand_binary(), "hash-key"], input=key + "\n",
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def key_principals_yaml(reader_key: str, writer_key: str) -> str:
    """An auth section with a reader and a writer of namespace default, by API key."""
    return f"""
auth:
  principals:
    - name: ci-reader
      api_key_sha256: {hash_key(reader_key)}
      roles: {{default: reader}}
    - name: ci-writer
      api_key_sha256: {hash_key(writer_key)}
      roles: {{default: writer}}
"""


@pytest.fixture
def pki():
    """A throwaway CA with server and client certificates (make_test_certs.sh)."""
    d = Path(tempfile.mkdtemp(prefix="errand-pki-"))
    subprocess.run([str(REPO / "tests/support/make_test_certs.sh"), str(d)], check=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class ErrandProcess:
    def __init__(self, extra_args: list[str] | None = None, data_dir: str | None = None):
        self._owns_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="errand-compat-")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.http_port = free_port()
        self.http_address = f"127.0.0.1:{self.http_port}"
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self._log: list[str] = []
        self._log_lock = threading.Lock()

    @property
    def log(self) -> str:
        with self._log_lock:
            return "".join(self._log)

    def start(self, timeout: float = 20.0) -> None:
        args = [errand_binary(), "serve", "--listen", self.address,
                "--http-listen", self.http_address,
                "--data-dir", self.data_dir, "--log-level", "debug", *self.extra_args]
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     text=True)
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"errand exited with {self.proc.returncode}:\n{self.log}")
            if all(_accepts(port) for port in (self.port, self.http_port)):
                return
            time.sleep(0.05)
        raise RuntimeError(
            f"errand did not listen on {self.address} and {self.http_address}:\n{self.log}")

    def _pump(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            with self._log_lock:
                self._log.append(line)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.kill()
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
