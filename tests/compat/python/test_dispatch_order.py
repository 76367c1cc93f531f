"""Dispatch order with the Python SDK: a task queue's backlog is handed out by
priority (1 first, unset in the middle), shared between fairness keys by
weight, and in the order tasks became ready within a level, also after a
crash and restart.

A worker with one activity slot takes one task at a time, so the order its
activity runs in is the server's dispatch order.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.common import Priority
from temporalio.worker import Worker

from errand_harness import ErrandProcess

pytestmark = pytest.mark.needs_errand_process

TIMEOUT = timedelta(seconds=60)


@pytest.fixture
def errand():
    server = ErrandProcess()
    server.start()
    yield server
    server.cleanup()


async def start_all(client: Client, task_queue: str,
                    tasks: list[tuple[str, Priority | None]]) -> list:
    handles = []
    for name, priority in tasks:
        handles.append(await client.start_activity(
            "record", name, id=f"{name}-{uuid.uuid4()}", task_queue=task_queue,
            start_to_close_timeout=TIMEOUT,
            **({"priority": priority} if priority else {})))
    return handles


async def run_one_at_a_time(client: Client, task_queue: str, count: int) -> list[str]:
    """Runs `count` tasks of the queue with a single-slot worker; returns
    their arguments in the order the activity ran them."""
    order: list[str] = []
    all_done = asyncio.Event()

    @activity.defn(name="record")
    async def record(name: str) -> str:
        order.append(name)
        if len(order) == count:
            all_done.set()
        return name

    async with Worker(client, task_queue=task_queue, activities=[record],
                      max_concurrent_activities=1):
        await asyncio.wait_for(all_done.wait(), timeout=60)
    return order


async def test_backlog_of_mixed_priorities_is_consumed_highest_first(errand):
    client = await Client.connect(errand.address)
    task_queue = f"priority-{uuid.uuid4()}"
    tasks = [("p5-a", Priority(priority_key=5)), ("unset-a", None),
             ("p1-a", Priority(priority_key=1)), ("p3-a", Priority(priority_key=3)),
             ("p2-a", Priority(priority_key=2)), ("p5-b", Priority(priority_key=5)),
             ("p1-b", Priority(priority_key=1)), ("unset-b", None)]
    await start_all(client, task_queue, tasks)
    order = await run_one_at_a_time(client, task_queue, len(tasks))
    # Unset is the middle level (3 of 5): with p3-a, in the order started.
    assert order == ["p1-a", "p1-b", "p2-a", "unset-a", "p3-a", "unset-b",
                     "p5-a", "p5-b"], order


async def test_two_tenants_with_weights_3_to_1_share_dispatches_3_to_1(errand):
    client = await Client.connect(errand.address)
    task_queue = f"fair-{uuid.uuid4()}"
    # Tenant a's whole burst is queued before any of tenant b's.
    tasks = [(f"a{i}", Priority(fairness_key="a", fairness_weight=3.0))
             for i in range(40)]
    tasks += [(f"b{i}", Priority(fairness_key="b", fairness_weight=1.0))
              for i in range(40)]
    await start_all(client, task_queue, tasks)
    order = await run_one_at_a_time(client, task_queue, len(tasks))
    first = order[:40]
    from_a = sum(1 for name in first if name.startswith("a"))
    # 3:1 of 40 is 30:10.
    assert 28 <= from_a <= 32, first
    # Within a tenant, the order tasks became ready.
    assert [n for n in order if n.startswith("a")] == [f"a{i}" for i in range(40)]
    assert [n for n in order if n.startswith("b")] == [f"b{i}" for i in range(40)]


async def test_ready_order_within_a_level_survives_a_restart(errand):
    client = await Client.connect(errand.address)
    task_queue = f"fifo-{uuid.uuid4()}"
    # IDs sort the other way round from the order they are started in, so a
    # rebuild in storage order would come out reversed.
    names = [f"{chr(ord('z') - i)}-{i}" for i in range(12)]
    for name in names:
        await client.start_activity(
            "record", name, id=name + str(uuid.uuid4()), task_queue=task_queue,
            start_to_close_timeout=TIMEOUT)
    errand.kill()
    errand.start()
    client = await Client.connect(errand.address)
    order = await run_one_at_a_time(client, task_queue, len(names))
    assert order == names, order


async def test_worker_task_queue_rate_limit_holds_within_20_percent(errand):
    """The worker's per-task-queue activity rate (sent on each poll as
    task_queue_metadata.max_tasks_per_second) spaces dispatches: after a
    one-second burst, 5 per second."""
    client = await Client.connect(errand.address)
    task_queue = f"rate-{uuid.uuid4()}"
    await start_all(client, task_queue, [(f"r{i}", None) for i in range(60)])
    started: list[float] = []

    @activity.defn(name="record")
    async def record(name: str) -> str:
        started.append(asyncio.get_running_loop().time())
        return name

    async with Worker(client, task_queue=task_queue, activities=[record],
                      max_concurrent_activities=20,
                      max_task_queue_activities_per_second=5):
        give_up = asyncio.get_running_loop().time() + 15
        while ((not started or started[-1] - started[0] < 5.5)
               and len(started) < 60
               and asyncio.get_running_loop().time() < give_up):
            await asyncio.sleep(0.1)
    first = started[0]
    # The burst is max(ceil(5), 1) = 5 at once; then 4 s at 5/s.
    in_window = [t for t in started if first + 1.0 <= t < first + 5.0]
    assert 16 <= len(in_window) <= 24, (len(in_window), [t - first for t in started])
