"""Async helpers shared by the Python SDK and CLI scenarios (the CLI suite
puts this directory on its path)."""
from __future__ import annotations

import asyncio

import pytest
from temporalio import activity
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.worker import Worker


async def eventually(fetch, check, what: str, timeout: float = 10.0):
    """Calls `await fetch()` until check(result) holds; fails with the last
    result. The dev server's visibility store lags writes slightly; a
    read-your-writes server passes at the first call."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await fetch()
        if check(result):
            return result
        if asyncio.get_running_loop().time() >= deadline:
            pytest.fail(f"{what}: still not as expected after {timeout}s:\n{result!r}")
        await asyncio.sleep(0.1)


async def register_search_attributes(client, wanted: dict) -> None:
    """Registers the custom search attributes in `wanted` (name -> indexed
    value type) in the default namespace, unless already there."""
    have = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default"))
    missing = {k: v for k, v in wanted.items() if k not in have.custom_attributes}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace="default", search_attributes=missing))


async def dispatch_times(client, task_queue: str, count: int, worker_rate: float,
                         identity: str | None = None) -> list[float]:
    """Runs the queue's "record" tasks with a 20-slot worker that asks for
    `worker_rate` dispatches a second, until 5.5 s after the first started
    (or `count` ran); returns when each started."""
    started: list[float] = []

    @activity.defn(name="record")
    async def record(name: str) -> str:
        started.append(asyncio.get_running_loop().time())
        return name

    async with Worker(client, task_queue=task_queue, activities=[record],
                      max_concurrent_activities=20,
                      max_task_queue_activities_per_second=worker_rate,
                      **({"identity": identity} if identity else {})):
        give_up = asyncio.get_running_loop().time() + 15
        while ((not started or started[-1] - started[0] < 5.5)
               and len(started) < count
               and asyncio.get_running_loop().time() < give_up):
            await asyncio.sleep(0.1)
    return started


def assert_five_per_second(started: list[float]) -> None:
    """After the one-second burst (max(ceil(5), 1) = 5 at once), 4 s at 5/s
    start 20 tasks, within 20%."""
    assert started, "no task ran"
    first = started[0]
    in_window = [t for t in started if first + 1.0 <= t < first + 5.0]
    assert 16 <= len(in_window) <= 24, (len(in_window), [t - first for t in started])
