"""Oracle mode, shared by the Python SDK and CLI suites' conftest.py.

COMPAT_ORACLE_ADDRESS=host:port points the scenarios at an already running
server (e.g. a real Temporal dev server) instead of spawning errand. It exists
to check that the scenarios encode real Temporal behaviour; CI never sets it,
and then nothing is skipped. Tests that kill, stop or restart the server carry
the marker `needs_errand_process` and are skipped in that mode only.
COMPAT_ORACLE_HTTP=host:port names the oracle's HTTP API (the dev server's
--http-port) for the HTTP API tests, which are skipped in oracle mode without it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from errand_harness import ErrandProcess

ORACLE_ADDRESS = os.environ.get("COMPAT_ORACLE_ADDRESS", "").strip()
ORACLE_HTTP = os.environ.get("COMPAT_ORACLE_HTTP", "").strip()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_errand_process: the test kills, stops or restarts the server process; "
        "skipped in oracle mode (COMPAT_ORACLE_ADDRESS)")


def pytest_collection_modifyitems(config, items):
    if not ORACLE_ADDRESS:
        return
    skip = pytest.mark.skip(
        reason=f"oracle mode ({ORACLE_ADDRESS}): the server process is not ours to kill or restart")
    for item in items:
        if "needs_errand_process" in item.keywords:
            item.add_marker(skip)


class OracleServer:
    """Stands in for ErrandProcess when the scenarios run against an external server."""

    def __init__(self, address: str, http_address: str = ""):
        self.address = address
        self.http_address = http_address
        self.log = ""

    def _unsupported(self, *args, **kwargs):
        raise RuntimeError(
            "oracle mode cannot control the server process; "
            "mark the test with @pytest.mark.needs_errand_process")

    start = stop = kill = restart = _unsupported

    def cleanup(self) -> None:
        pass


def server_per_test() -> Iterator[ErrandProcess | OracleServer]:
    """The body of an `errand` fixture: a fresh errand (free port, empty data
    directory), or the oracle."""
    if ORACLE_ADDRESS:
        yield OracleServer(ORACLE_ADDRESS, ORACLE_HTTP)
        return
    server = ErrandProcess()
    server.start()
    yield server
    server.cleanup()
