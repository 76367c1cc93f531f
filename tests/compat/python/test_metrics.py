"""Prometheus metrics, scraped after a known workload and read with the
Prometheus Python client's own parser: every count must equal what was run.

Errand serves /metrics on `--metrics-listen`. In oracle mode the test scrapes
the dev server's metrics port instead, when COMPAT_ORACLE_METRICS names it
(e.g. 127.0.0.1:7603), so that names and tags are checked against Temporal's.
"""
import asyncio
import os
import urllib.request
import uuid
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio import activity
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityAlreadyStartedError, ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from compat_helpers import eventually
from errand_harness import ErrandProcess, free_port
from oracle_mode import ORACLE_ADDRESS


@pytest.fixture
def served():
    """(gRPC address, metrics address) of the server under test."""
    if ORACLE_ADDRESS:
        metrics = os.environ.get("COMPAT_ORACLE_METRICS")
        if not metrics:
            pytest.skip("oracle mode without COMPAT_ORACLE_METRICS")
        yield ORACLE_ADDRESS, metrics
        return
    metrics = f"127.0.0.1:{free_port()}"
    server = ErrandProcess(extra_args=["--metrics-listen", metrics])
    server.start()
    yield server.address, metrics
    server.cleanup()


def scrape(address: str) -> dict:
    """{(name, frozenset(labels)): value} for every sample."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = s.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    """The sum over the series of `name` whose labels include `labels`. The
    parser names counter samples "<name>_total" whether or not the
    exposition does (Temporal's counters have no suffix), so both match."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items()
               if n in (name, f"{name}_total") and want <= ls)


def sanitized(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


@activity.defn
async def greet(name: str) -> str:
    activity.heartbeat("beat")
    return f"Hello, {name}!"


@activity.defn
async def broken(name: str) -> str:
    raise ApplicationError("no", "detail")


@activity.defn
async def hang(name: str) -> str:
    while True:
        activity.heartbeat()
        await asyncio.sleep(0.1)


async def test_counts_after_a_known_workload(served):
    address, metrics = served
    client = await Client.connect(address)
    tq = f"tq-metrics-{uuid.uuid4().hex[:8]}"
    short = dict(task_queue=tq, start_to_close_timeout=timedelta(seconds=10))
    # A backlog first: two starts no worker takes yet.
    idle_tq = f"tq-idle-{uuid.uuid4().hex[:8]}"
    idle = dict(task_queue=idle_tq, start_to_close_timeout=timedelta(seconds=10))
    idle_ids = [f"idle-{uuid.uuid4()}" for _ in range(2)]
    for idle_id in idle_ids:
        await client.start_activity(greet, "x", id=idle_id, **idle)
    async with Worker(client, task_queue=tq, activities=[greet, broken, hang]):
        for i in range(3):
            assert await client.execute_activity(
                greet, f"n{i}", id=f"ok-{uuid.uuid4()}", **short) == f"Hello, n{i}!"
        with pytest.raises(Exception):
            await client.execute_activity(
                broken, "x", id=f"fail-{uuid.uuid4()}", **short,
                retry_policy=RetryPolicy(maximum_attempts=2,
                                         initial_interval=timedelta(milliseconds=50)))
        running = await client.start_activity(
            hang, "x", id=f"term-{uuid.uuid4()}", **short,
            heartbeat_timeout=timedelta(seconds=5))
        await eventually(running.describe, lambda d: d.attempt == 1 and d.last_started_time,
                         "the activity to start")
        await running.terminate(reason="metrics test")
    with pytest.raises(RPCError):
        await client.get_activity_handle(f"missing-{uuid.uuid4()}").describe()
    with pytest.raises(ActivityAlreadyStartedError):  # the eighth start
        await client.start_activity(greet, "x", id=idle_ids[0], **idle)

    q = sanitized(tq)
    expected = {
        ("activity_success", "greet", "RespondActivityTaskCompleted"): 3,
        ("activity_task_fail", "broken", "RespondActivityTaskFailed"): 2,
        ("activity_fail", "broken", "RespondActivityTaskFailed"): 1,
        ("activity_terminate", "hang", "ActivityTerminated"): 1,
        ("activity_start_to_close_latency_count", "greet",
         "RespondActivityTaskCompleted"): 3,
        ("activity_schedule_to_close_latency_count", "greet",
         "RespondActivityTaskCompleted"): 3,
        ("activity_start_to_close_latency_count", "broken",
         "RespondActivityTaskFailed"): 2,
        ("activity_schedule_to_close_latency_count", "broken",
         "RespondActivityTaskFailed"): 1,
    }

    def check(samples):
        got = {k: value(samples, k[0], taskqueue=q, activityType=k[1],
                        operation=k[2], namespace="default",
                        workflowType="__temporal_standalone_activity__")
               for k in expected}
        # Six attempts were started on the queue: 3 + 2 + 1.
        got["task_schedule_to_start_latency_count"] = value(
            samples, "task_schedule_to_start_latency_count", taskqueue=q,
            operation="RecordActivityTaskStarted", task_type="Activity")
        return got

    want = dict(expected, task_schedule_to_start_latency_count=6)
    async def counted():
        return check(await asyncio.to_thread(scrape, metrics))
    assert await eventually(counted, lambda got: got == want,
                            "the metrics to count the workload") == want
    samples = await asyncio.to_thread(scrape, metrics)
    # Heartbeats: three from greet, and more from hang (at least one).
    assert value(samples, "activity_heartbeat_count", has_details="true",
                 namespace="default") >= 3
    assert value(samples, "activity_payload_size",
                 operation="RespondActivityTaskCompleted", namespace="default") > 0
    # RPCs: the eight starts, the failed describe and the refused start, by Temporal's names.
    assert value(samples, "service_requests", operation="StartActivityExecution",
                 namespace="default") >= 8
    assert value(samples, "service_error_with_type", operation="DescribeActivityExecution",
                 error_type="serviceerror_NotFound", namespace="default") >= 1
    assert value(samples, "service_error_with_type", operation="StartActivityExecution",
                 error_type="serviceerror_ActivityExecutionAlreadyStarted",
                 namespace="default") >= 1
    assert value(samples, "service_latency_count", operation="StartActivityExecution",
                 namespace="default") >= 8
    if not ORACLE_ADDRESS:
        # Exact on a server of our own: nothing else ran against it.
        assert value(samples, "service_requests",
                     operation="StartActivityExecution") == 8
        assert value(samples, "approximate_backlog_count",
                     taskqueue=sanitized(idle_tq)) == 2
        assert value(samples, "approximate_backlog_age_seconds",
                     taskqueue=sanitized(idle_tq)) > 0
        assert value(samples, "errand_store_write_latency_count") > 0
        assert value(samples, "errand_store_disk_bytes") > 0
        assert value(samples, "process_resident_memory_bytes") > 0
        assert value(samples, "process_cpu_seconds_total") > 0


@pytest.mark.needs_errand_process
def test_metrics_listen_in_use_is_refused():
    """A metrics address another process holds stops the start with a clear
    message, as the gRPC port does."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = f"127.0.0.1:{s.getsockname()[1]}"
        server = ErrandProcess(extra_args=["--metrics-listen", taken])
        try:
            with pytest.raises(Exception):
                server.start(timeout=10)
            assert f"cannot listen on {taken} for metrics" in server.log
        finally:
            server.cleanup()
