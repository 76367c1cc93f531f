"""Fixtures for the Temporal CLI compatibility scenarios.

Every test drives the pinned Temporal CLI (tests/compat/cli/temporal-cli.lock)
as a subprocess against a server and checks what it prints and its exit code.
The CLI binary is $TEMPORAL_CLI if set, else whatever
scripts/install_temporal_cli.sh prints (it installs the pinned release into
the cache on first use); it is looked up once per session.

Oracle mode: COMPAT_ORACLE_ADDRESS=host:port points the scenarios at an
already running server (e.g. a Temporal dev server with standalone activities
enabled) instead of spawning errand, to check that the scenarios encode real
Temporal behaviour. Its data persists between runs, so every test uses fresh
activity IDs, task queues and namespace names.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))  # errand_harness

from errand_harness import REPO  # noqa: E402

from oracle_mode import (  # noqa: E402,F401 (pytest hooks)
    ORACLE_ADDRESS,
    pytest_collection_modifyitems,
    pytest_configure,
    server_per_test,
)

# Long enough for `activity result` / `execute` waits in these scenarios; a
# command that takes longer is a hang, and the test fails with its output.
CLI_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def temporal_cli() -> str:
    path = os.environ.get("TEMPORAL_CLI", "").strip()
    if not path:
        script = REPO / "scripts" / "install_temporal_cli.sh"
        done = subprocess.run([str(script)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{script} failed ({done.returncode}):\n{done.stderr}")
        path = done.stdout.strip().splitlines()[-1]
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"Temporal CLI not found at {path}")
    return path


@pytest.fixture
def errand():
    """A fresh errand per test: free port, empty data directory."""
    yield from server_per_test()


@pytest_asyncio.fixture
async def client(errand):
    """A Python SDK client, for workers that run the activities the CLI starts."""
    return await Client.connect(errand.address, namespace="default")


@dataclass
class CliResult:
    args: list[str]
    rc: int
    out: str
    err: str

    def json(self):
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as e:
            raise AssertionError(f"not JSON ({e}):\n{self}") from None

    def jsonl(self) -> list:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def __str__(self) -> str:
        return (f"$ temporal {' '.join(self.args)}\n[exit {self.rc}]\n"
                f"--- stdout ---\n{self.out}--- stderr ---\n{self.err}")

    __repr__ = __str__


class Cli:
    """Runs `temporal <args> --address <server>` without blocking the event loop,
    so an SDK worker in the same loop keeps serving while the CLI waits."""

    def __init__(self, binary: str, address: str):
        self.binary = binary
        self.address = address
        # Only our flags decide the target: no TEMPORAL_* variables, no config file.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        self.env["TEMPORAL_CONFIG_FILE"] = str(HERE / "no-such-temporal-config.toml")
        self.env["NO_COLOR"] = "1"

    async def __call__(self, *args: str, stdin: str | None = None,
                       timeout: float = CLI_TIMEOUT) -> CliResult:
        proc = await self.spawn(*args, stdin=stdin is not None)
        return await self.finish(proc, args, stdin=stdin, timeout=timeout)

    async def spawn(self, *args: str, stdin: bool = False) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            self.binary, *args, "--address", self.address,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.env)

    async def finish(self, proc: asyncio.subprocess.Process, args, stdin: str | None = None,
                     timeout: float = CLI_TIMEOUT) -> CliResult:
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(stdin.encode() if stdin is not None else None), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
            raise AssertionError(
                f"temporal {' '.join(args)} did not finish in {timeout}s\n"
                f"--- stdout ---\n{out.decode()}--- stderr ---\n{err.decode()}") from None
        return CliResult(list(args), proc.returncode, out.decode(), err.decode())


@pytest.fixture
def cli(temporal_cli, errand) -> Cli:
    return Cli(temporal_cli, errand.address)
