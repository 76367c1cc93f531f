"""Retention with the Python SDK: closed activities are deleted once their
namespace's retention has passed, including those closed before a restart,
and a shorter retention set later applies to runs already closed.

Errand runs with `--retention-jitter 0s --retention-sweep-interval 200ms` so
that deletions happen within a second of being due (the defaults, 30m of
jitter as in Temporal and a sweep every 10s, would make this slow).
"""
import asyncio
import uuid
from datetime import timedelta

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio import activity
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import (
    RegisterNamespaceRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import ActivityExecutionStatus, Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from compat_helpers import eventually
from errand_harness import ErrandProcess

pytestmark = pytest.mark.needs_errand_process

FAST_SWEEP = ["--retention-jitter", "0s", "--retention-sweep-interval", "200ms"]


@pytest.fixture
def errand():
    server = ErrandProcess(extra_args=FAST_SWEEP)
    server.start()
    yield server
    server.cleanup()


@activity.defn
async def echo(text: str) -> str:
    return text


async def register(errand, name: str, retention: timedelta) -> Client:
    client = await Client.connect(errand.address)
    await client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=name,
        workflow_execution_retention_period=Duration(
            seconds=int(retention.total_seconds()))))
    return await Client.connect(errand.address, namespace=name)


async def run_to_completion(client: Client, ids: list[str]) -> None:
    task_queue = f"tq-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, activities=[echo]):
        for activity_id in ids:
            handle = await client.start_activity(
                echo, activity_id, id=activity_id, task_queue=task_queue,
                start_to_close_timeout=timedelta(seconds=10))
            assert await handle.result() == activity_id


async def gone(client: Client, activity_id: str) -> bool:
    try:
        await client.get_activity_handle(activity_id).describe()
    except RPCError as err:
        assert err.status == RPCStatusCode.NOT_FOUND, err
        return True
    return False


async def test_runs_closed_before_a_restart_are_deleted_after_retention(errand):
    client = await register(errand, "short", timedelta(seconds=3))
    ids = [f"closed-{i}" for i in range(5)]
    await run_to_completion(client, ids)
    still_open = await client.start_activity(
        "nobody-polls", "x", id="open", task_queue="idle",
        start_to_close_timeout=timedelta(seconds=10))
    assert (await client.count_activities()).count == 6

    # Restart before the retention is over: nothing about the closed runs is
    # kept in memory, so the store alone must bring them to their end.
    assert errand.stop() == 0
    errand.start()
    client = await Client.connect(errand.address, namespace="short")
    for activity_id in ids:
        assert not await gone(client, activity_id)

    async def closed_left():
        return [i for i in ids if not await gone(client, i)]
    await eventually(closed_left, lambda left: left == [],
                     "closed runs deleted after retention", timeout=15)
    count = await client.count_activities()
    assert count.count == 1
    # An open run is never retention's.
    desc = await client.get_activity_handle(
        "open", run_id=still_open.run_id).describe()
    assert desc.activity_id == "open"


async def test_shorter_retention_applies_to_runs_already_closed(errand):
    client = await register(errand, "long", timedelta(days=1))
    ids = [f"closed-{i}" for i in range(3)]
    await run_to_completion(client, ids)
    await asyncio.sleep(1.0)  # a sweep or more runs: nothing is due
    for activity_id in ids:
        assert not await gone(client, activity_id)

    await client.workflow_service.update_namespace(UpdateNamespaceRequest(
        namespace="long",
        config=NamespaceConfig(workflow_execution_retention_ttl=Duration(seconds=1))))

    async def closed_left():
        return [i for i in ids if not await gone(client, i)]
    await eventually(closed_left, lambda left: left == [],
                     "closed runs deleted under the new retention", timeout=15)
    assert (await client.count_activities()).count == 0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def test_retention_removes_closed_executions_from_list_and_count(errand, client):
    """A namespace with a short retention: closed runs disappear from describe,
    list and count once it has passed; open runs stay."""
    from google.protobuf.duration_pb2 import Duration
    from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
    from temporalio.service import RPCError, RPCStatusCode

    namespace = unique("short-retention")
    await client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=namespace, workflow_execution_retention_period=Duration(seconds=2)))
    ns_client = await Client.connect(errand.address, namespace=namespace)
    task_queue = unique("tq")
    closed = await ns_client.start_activity(
        "retention_probe", id=unique("closed"), task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=30))
    await closed.terminate(reason="done with it")
    still_open = await ns_client.start_activity(
        "retention_probe", id=unique("open"), task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=30))
    query = f"TaskQueue = '{task_queue}'"
    assert (await ns_client.count_activities(query)).count == 2

    deadline = asyncio.get_running_loop().time() + 15
    while True:
        try:
            await closed.describe()
        except RPCError as err:
            assert err.status == RPCStatusCode.NOT_FOUND
            break
        assert asyncio.get_running_loop().time() < deadline, "not deleted after retention"
        await asyncio.sleep(0.2)
    listed = [a.activity_id async for a in ns_client.list_activities(query)]
    assert listed == [still_open.id]
    assert (await ns_client.count_activities(query)).count == 1
    desc = await still_open.describe()
    assert desc.status == ActivityExecutionStatus.RUNNING
