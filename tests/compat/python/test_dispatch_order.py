"""Dispatch order with the Python SDK: a task queue's backlog is handed out by
priority (1 first, unset in the middle), shared between fairness keys by
weight, and in the order tasks became ready within a level, also after a
crash and restart; rate limits from the worker and from the task queue's
config; DescribeTaskQueue's view of the backlog and the pollers.

A worker with one activity slot takes one task at a time, so the order its
activity runs in is the server's dispatch order.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import RateLimit, TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    DescribeTaskQueueResponse,
    UpdateTaskQueueConfigRequest,
)
from temporalio.client import Client
from temporalio.common import Priority
from temporalio.worker import Worker

from compat_helpers import assert_five_per_second, dispatch_times
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
    assert_five_per_second(await dispatch_times(client, task_queue, 60, 5))


async def test_config_rate_limit_overrides_the_workers_and_survives_a_restart(errand):
    """UpdateTaskQueueConfig's queue rate limit (5/s) wins over a worker that
    asks for 1,000/s, and is still in force after a crash and restart."""
    client = await Client.connect(errand.address)
    task_queue = f"config-rate-{uuid.uuid4()}"
    updated = await client.workflow_service.update_task_queue_config(
        UpdateTaskQueueConfigRequest(
            namespace="default", identity="ops", task_queue=task_queue,
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            update_queue_rate_limit=UpdateTaskQueueConfigRequest.RateLimitUpdate(
                rate_limit=RateLimit(requests_per_second=5),
                reason="downstream is slow")))
    assert updated.config.queue_rate_limit.rate_limit.requests_per_second == 5
    assert updated.config.queue_rate_limit.metadata.update_identity == "ops"
    errand.kill()
    errand.start()
    client = await Client.connect(errand.address)
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace="default", task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            report_config=True))
    limit = described.config.queue_rate_limit
    assert limit.rate_limit.requests_per_second == 5, described
    assert limit.metadata.reason == "downstream is slow"
    await start_all(client, task_queue, [(f"r{i}", None) for i in range(60)])
    assert_five_per_second(await dispatch_times(client, task_queue, 60, 1000))


async def test_describe_task_queue_shows_the_backlog_and_the_poller(errand):
    """DescribeTaskQueue reports a backlog while no worker polls, then the
    worker that drained it, with its identity and rate limit."""
    client = await Client.connect(errand.address)
    task_queue = f"describe-{uuid.uuid4()}"
    await start_all(client, task_queue, [(f"d{i}", None) for i in range(5)])

    async def describe() -> DescribeTaskQueueResponse:
        return await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace="default", task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
                report_stats=True))

    before = await describe()
    assert before.stats.approximate_backlog_count == 5, before
    assert before.stats.approximate_backlog_age.ToTimedelta() > timedelta(0)
    assert before.stats.tasks_add_rate > 0
    assert list(before.pollers) == []

    done = asyncio.Event()
    ran: list[str] = []

    @activity.defn(name="record")
    async def record(name: str) -> str:
        ran.append(name)
        if len(ran) == 5:
            done.set()
        return name

    async with Worker(client, task_queue=task_queue, activities=[record],
                      identity="describe-worker",
                      max_task_queue_activities_per_second=50):
        await asyncio.wait_for(done.wait(), 30)
        after = await describe()
    assert after.stats.approximate_backlog_count == 0, after
    assert after.stats.tasks_dispatch_rate > 0
    pollers = {p.identity: p for p in after.pollers}
    assert "describe-worker" in pollers, after
    assert pollers["describe-worker"].rate_per_second == 50
    assert pollers["describe-worker"].last_access_time.seconds > 0
