"""Standalone Activity scenarios with the Python SDK.

Every scenario here was checked against a real Temporal dev server (CLI 1.8.2,
Server 1.31.2, and again CLI 1.9.1, Server 1.32.0) in oracle mode
(COMPAT_ORACLE_ADDRESS); see conftest.py. The exact messages asserted (e.g.
"activity not found for ID: <id>") are the real server's; where 1.32.0
answers differently from 1.31.2, they are 1.32.0's.
"""
import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio import activity
from temporalio.api.common.v1 import ActivityType
from temporalio.api.errordetails.v1 import (
    ActivityExecutionAlreadyStartedFailure,
    NotFoundFailure,
)
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    CountActivityExecutionsRequest,
    DeleteActivityExecutionRequest,
    ListActivityExecutionsRequest,
    StartActivityExecutionRequest,
)
from temporalio.client import (
    ActivityExecutionStatus,
    ActivityFailureError,
    AsyncActivityCancelledError,
    Client,
    PendingActivityState,
)
from temporalio.common import ActivityIDConflictPolicy, ActivityIDReusePolicy, RetryPolicy
from temporalio.exceptions import (
    ActivityAlreadyStartedError,
    ApplicationError,
    CancelledError,
    TerminatedError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

TIMEOUT = timedelta(seconds=10)
TIMEOUT_PB = Duration(seconds=10)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


@activity.defn
async def compose_greeting(name: str) -> str:
    return f"Hello, {name}!"


# 1. Greeting flow ----------------------------------------------------------

async def test_execute_activity_returns_greeting(client):
    task_queue = unique("tq")
    async with Worker(client, task_queue=task_queue, activities=[compose_greeting]):
        result = await client.execute_activity(
            compose_greeting,
            "World",
            id=unique("greet"),
            task_queue=task_queue,
            start_to_close_timeout=TIMEOUT,
        )
    assert result == "Hello, World!"


# 2. start, handle by ID, describe -------------------------------------------

async def test_start_then_handle_by_id_and_describe(client):
    task_queue = unique("tq")
    activity_id = unique("greet")
    started = asyncio.Event()
    release = asyncio.Event()

    @activity.defn(name="compose_greeting")
    async def gated_greeting(name: str) -> str:
        started.set()
        await release.wait()
        return f"Hello, {name}!"

    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    handle = await client.start_activity(
        gated_greeting,
        "World",
        id=activity_id,
        task_queue=task_queue,
        start_to_close_timeout=TIMEOUT,
    )
    assert handle.id == activity_id
    assert handle.run_id

    # Not picked up yet: scheduled, no attempt started.
    desc = await handle.describe()
    assert desc.activity_id == activity_id
    assert desc.activity_run_id == handle.run_id
    assert desc.activity_type == "compose_greeting"
    assert desc.status == ActivityExecutionStatus.RUNNING
    assert desc.run_state == PendingActivityState.SCHEDULED
    assert desc.task_queue == task_queue
    assert desc.namespace == "default"
    assert desc.attempt == 1
    assert desc.schedule_time >= before
    assert desc.last_started_time is None
    assert desc.close_time is None
    assert desc.last_worker_identity is None
    assert desc.start_to_close_timeout == TIMEOUT
    # Unset timeouts come back as zero durations (present, not absent), and
    # the server fills in its default retry policy.
    assert desc.schedule_to_close_timeout == timedelta(0)
    assert desc.schedule_to_start_timeout == timedelta(0)
    assert desc.heartbeat_timeout == timedelta(0)
    assert desc.retry_policy == RetryPolicy(
        initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=100), maximum_attempts=0)
    assert desc.canceled_reason is None

    async with Worker(client, task_queue=task_queue, activities=[gated_greeting]):
        await asyncio.wait_for(started.wait(), 10)
        by_id = client.get_activity_handle(activity_id)
        assert by_id.run_id is None
        desc = await by_id.describe()
        assert desc.status == ActivityExecutionStatus.RUNNING
        assert desc.run_state == PendingActivityState.STARTED
        assert desc.activity_run_id == handle.run_id
        assert desc.attempt == 1
        assert desc.last_started_time is not None
        assert desc.last_started_time >= desc.schedule_time
        assert desc.close_time is None
        assert desc.last_worker_identity == client.identity
        assert desc.task_queue == task_queue

        release.set()
        assert await by_id.result() == "Hello, World!"

    # A handle pinned to the run ID gives the same answer.
    pinned = client.get_activity_handle(activity_id, run_id=handle.run_id)
    assert await pinned.result() == "Hello, World!"
    desc = await pinned.describe()
    assert desc.status == ActivityExecutionStatus.COMPLETED
    assert desc.run_state is None
    assert desc.attempt == 1
    assert desc.close_time is not None
    assert desc.close_time >= desc.last_started_time >= desc.schedule_time
    assert desc.last_worker_identity == client.identity
    assert desc.task_queue == task_queue
    assert desc.execution_duration is not None
    desc = await pinned.describe(include_outcome=True, include_input=True)
    assert await desc.result() == "Hello, World!"
    assert await desc.input() == ["World"]


# 3. ID conflicts, request IDs and ID reuse ---------------------------------

async def test_second_start_with_same_id_is_already_started(client):
    task_queue = unique("tq")  # no worker: the activity stays running
    activity_id = unique("dup")
    first = await client.start_activity(
        compose_greeting, "World", id=activity_id, task_queue=task_queue,
        start_to_close_timeout=TIMEOUT)

    with pytest.raises(ActivityAlreadyStartedError) as err:
        await client.start_activity(
            compose_greeting, "World", id=activity_id, task_queue=task_queue,
            start_to_close_timeout=TIMEOUT)
    assert err.value.activity_id == activity_id
    assert err.value.activity_type == "compose_greeting"
    assert err.value.run_id == first.run_id
    assert str(err.value) == "Activity execution already started"

    # The raw gRPC status behind it.
    with pytest.raises(RPCError) as raw:
        await client.workflow_service.start_activity_execution(StartActivityExecutionRequest(
            namespace="default", activity_id=activity_id, request_id=str(uuid.uuid4()),
            activity_type=ActivityType(name="compose_greeting"),
            task_queue=TaskQueue(name=task_queue),
            start_to_close_timeout=TIMEOUT_PB))
    assert raw.value.status == RPCStatusCode.ALREADY_EXISTS
    assert raw.value.message == "activity execution already started"
    detail = ActivityExecutionAlreadyStartedFailure()
    assert raw.value.grpc_status.details[0].Unpack(detail)
    assert detail.run_id == first.run_id
    assert detail.start_request_id  # the request ID of the first start

    existing = await client.start_activity(
        compose_greeting, "World", id=activity_id, task_queue=task_queue,
        start_to_close_timeout=TIMEOUT,
        id_conflict_policy=ActivityIDConflictPolicy.USE_EXISTING)
    assert existing.run_id == first.run_id


async def test_same_request_id_returns_existing_run(client):
    task_queue = unique("tq")
    activity_id = unique("req")
    request_id = str(uuid.uuid4())

    def request() -> StartActivityExecutionRequest:
        return StartActivityExecutionRequest(
            namespace="default", identity="compat-test", request_id=request_id,
            activity_id=activity_id, activity_type=ActivityType(name="compose_greeting"),
            task_queue=TaskQueue(name=task_queue), start_to_close_timeout=TIMEOUT_PB)

    first = await client.workflow_service.start_activity_execution(request())
    assert first.started is True
    assert first.run_id
    again = await client.workflow_service.start_activity_execution(request())
    assert again.started is False
    assert again.run_id == first.run_id

    # The request ID still maps to that run after it closed: no new run.
    await client.get_activity_handle(activity_id).terminate(reason="closed")
    after_close = await client.workflow_service.start_activity_execution(request())
    assert after_close.started is False
    assert after_close.run_id == first.run_id


async def test_id_reuse_policy_after_the_run_closes(client):
    task_queue = unique("tq")
    ok_id, failed_id = unique("reuse-ok"), unique("reuse-failed")

    @activity.defn
    async def explode() -> str:
        raise ApplicationError("boom", non_retryable=True)

    async def start(activity_id, policy=None, fn=compose_greeting, *args):
        extra = {} if policy is None else {"id_reuse_policy": policy}
        return await client.start_activity(
            fn, *args, id=activity_id, task_queue=task_queue,
            start_to_close_timeout=TIMEOUT, **extra)

    async def assert_rejected(activity_id, policy, closed_run_id):
        with pytest.raises(ActivityAlreadyStartedError) as err:
            await start(activity_id, policy, compose_greeting, "again")
        assert err.value.activity_id == activity_id
        assert err.value.run_id == closed_run_id
        assert str(err.value) == "Activity execution already started"

    async with Worker(client, task_queue=task_queue, activities=[compose_greeting, explode]):
        completed = await start(ok_id, None, compose_greeting, "World")
        assert await completed.result() == "Hello, World!"
        failed = await start(failed_id, None, explode)
        with pytest.raises(ActivityFailureError):
            await failed.result()

        # After a COMPLETED run: REJECT_DUPLICATE and ALLOW_DUPLICATE_FAILED_ONLY
        # refuse the ID, naming the closed run.
        await assert_rejected(ok_id, ActivityIDReusePolicy.REJECT_DUPLICATE, completed.run_id)
        await assert_rejected(ok_id, ActivityIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                              completed.run_id)
        # ALLOW_DUPLICATE starts a new run, and so does the default policy.
        second = await start(ok_id, ActivityIDReusePolicy.ALLOW_DUPLICATE, compose_greeting, "again")
        assert second.run_id != completed.run_id
        assert await second.result() == "Hello, again!"
        third = await start(ok_id, None, compose_greeting, "third")
        assert third.run_id not in (completed.run_id, second.run_id)
        assert await third.result() == "Hello, third!"

        # After a FAILED run: REJECT_DUPLICATE still refuses,
        # ALLOW_DUPLICATE_FAILED_ONLY starts a new run.
        await assert_rejected(failed_id, ActivityIDReusePolicy.REJECT_DUPLICATE, failed.run_id)
        retried = await start(failed_id, ActivityIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                              compose_greeting, "again")
        assert retried.run_id != failed.run_id
        assert await retried.result() == "Hello, again!"

    # A handle by ID alone follows the latest run; the older runs stay
    # readable by run ID.
    desc = await client.get_activity_handle(ok_id).describe()
    assert desc.activity_run_id == third.run_id
    assert desc.status == ActivityExecutionStatus.COMPLETED
    assert await client.get_activity_handle(ok_id, run_id=completed.run_id).result() \
        == "Hello, World!"
    desc = await client.get_activity_handle(failed_id).describe()
    assert desc.activity_run_id == retried.run_id
    assert (await client.get_activity_handle(failed_id, run_id=failed.run_id).describe()).status \
        == ActivityExecutionStatus.FAILED


# 4. Cancellation -------------------------------------------------------------

async def test_cancel_heartbeating_activity(client):
    task_queue = unique("tq")
    activity_id = unique("cancel")
    started = asyncio.Event()
    seen_cancel = asyncio.Event()
    details = []

    @activity.defn
    async def heartbeater() -> str:
        started.set()
        try:
            while True:
                activity.heartbeat("tick")
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            details.append(activity.cancellation_details())
            seen_cancel.set()
            raise

    handle = await client.start_activity(
        heartbeater, id=activity_id, task_queue=task_queue,
        start_to_close_timeout=TIMEOUT, heartbeat_timeout=timedelta(seconds=2))
    async with Worker(client, task_queue=task_queue, activities=[heartbeater]):
        await asyncio.wait_for(started.wait(), 10)
        await handle.cancel(reason="enough")
        desc = await handle.describe()
        # Cancellation is only a request until the worker reports it (the
        # worker learns of it on its next heartbeat, throttled to ~1.6s here).
        if desc.status == ActivityExecutionStatus.RUNNING:
            assert desc.run_state == PendingActivityState.CANCEL_REQUESTED
        else:
            assert desc.status == ActivityExecutionStatus.CANCELED
        assert desc.canceled_reason == "enough"
        await asyncio.wait_for(seen_cancel.wait(), 10)
        with pytest.raises(ActivityFailureError) as err:
            await handle.result()
    assert details[0].cancel_requested
    cause = err.value.cause
    assert isinstance(cause, CancelledError)
    assert cause.message == "Activity canceled"
    assert cause.failure.canceled_failure_info.identity == client.identity  # the worker
    desc = await handle.describe()
    assert desc.status == ActivityExecutionStatus.CANCELED
    assert desc.run_state is None
    assert desc.close_time is not None
    assert desc.canceled_reason == "enough"


async def test_cancel_before_any_worker_cancels_at_once(client):
    task_queue = unique("tq")  # nobody polls it
    handle = await client.start_activity(
        compose_greeting, "World", id=unique("cancel"), task_queue=task_queue,
        start_to_close_timeout=TIMEOUT)
    await handle.cancel(reason="never mind")
    desc = await handle.describe()
    assert desc.status == ActivityExecutionStatus.CANCELED
    assert desc.run_state is None
    assert desc.close_time is not None
    assert desc.last_started_time is None
    assert desc.canceled_reason == "never mind"
    with pytest.raises(ActivityFailureError) as err:
        await handle.result()
    cause = err.value.cause
    assert isinstance(cause, CancelledError)
    assert cause.message == "Activity canceled"
    # The server records the reason as the failure's details, and the
    # requester's identity.
    assert cause.details == ("never mind",)
    assert cause.failure.canceled_failure_info.identity == client.identity

    # A closed activity cannot be cancelled or terminated again (spec §1.7,
    # §1.8; Server 1.31.2 answered both with "invalid transition from ...").
    for again, message in ((handle.cancel, "activity is in terminal state Canceled"),
                           (handle.terminate, "invalid transition from Canceled")):
        with pytest.raises(RPCError) as rpc:
            await again(reason="again")
        assert rpc.value.status == RPCStatusCode.FAILED_PRECONDITION
        assert rpc.value.message == message


# 5. Terminate, delete, unknown IDs -------------------------------------------

async def test_terminate(client):
    task_queue = unique("tq")
    handle = await client.start_activity(
        compose_greeting, "World", id=unique("term"), task_queue=task_queue,
        start_to_close_timeout=TIMEOUT)
    await handle.terminate(reason="stop it")
    desc = await handle.describe()
    assert desc.status == ActivityExecutionStatus.TERMINATED
    assert desc.run_state is None
    assert desc.close_time is not None
    assert desc.canceled_reason is None
    with pytest.raises(ActivityFailureError) as err:
        await handle.result()
    cause = err.value.cause
    assert isinstance(cause, TerminatedError)
    assert cause.message == "stop it"
    assert cause.failure.terminated_failure_info.identity == client.identity


def assert_not_found(err: RPCError, activity_id: str) -> None:
    assert err.status == RPCStatusCode.NOT_FOUND
    assert err.message == f"activity not found for ID: {activity_id}"
    assert err.grpc_status.details[0].Is(NotFoundFailure.DESCRIPTOR)


async def describe_until_deleted(handle, closed_status: ActivityExecutionStatus):
    """Describe until NOT_FOUND; returns the last description seen before that.

    The real server removes the execution with an asynchronous delete task
    (tens of milliseconds on the dev server); until then describe shows it
    closed.
    """
    last = None
    deadline = asyncio.get_running_loop().time() + 5
    while asyncio.get_running_loop().time() < deadline:
        try:
            last = await handle.describe(include_outcome=True)
        except RPCError as err:
            assert_not_found(err, handle.id)
            return last
        assert last.status == closed_status
        await asyncio.sleep(0.02)
    pytest.fail(f"activity {handle.id} still visible 5s after delete")


async def list_until_gone(client, activity_id: str) -> None:
    """Lists and counts by activity ID until the execution is no longer there."""
    query = f"ActivityId = '{activity_id}'"
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        listed = await client.workflow_service.list_activity_executions(
            ListActivityExecutionsRequest(namespace="default", query=query))
        counted = await client.workflow_service.count_activity_executions(
            CountActivityExecutionsRequest(namespace="default", query=query))
        if not listed.executions and counted.count == 0:
            return
        if asyncio.get_running_loop().time() >= deadline:
            pytest.fail(f"{activity_id} still listed ({len(listed.executions)}) or counted "
                        f"({counted.count}) 10s after delete")
        await asyncio.sleep(0.1)


async def test_delete(client):
    task_queue = unique("tq")
    activity_id = unique("del")
    async with Worker(client, task_queue=task_queue, activities=[compose_greeting]):
        handle = await client.start_activity(
            compose_greeting, "World", id=activity_id, task_queue=task_queue,
            start_to_close_timeout=TIMEOUT)
        assert await handle.result() == "Hello, World!"
    resp = await client.workflow_service.delete_activity_execution(DeleteActivityExecutionRequest(
        namespace="default", activity_id=activity_id, run_id=handle.run_id))
    assert resp.ByteSize() == 0
    await describe_until_deleted(handle, ActivityExecutionStatus.COMPLETED)
    with pytest.raises(RPCError) as err:
        await client.get_activity_handle(activity_id).result()
    assert_not_found(err.value, activity_id)
    with pytest.raises(RPCError) as err:
        await client.workflow_service.delete_activity_execution(DeleteActivityExecutionRequest(
            namespace="default", activity_id=activity_id))
    assert_not_found(err.value, activity_id)
    # It is gone from visibility too (the real server's store may lag).
    await list_until_gone(client, activity_id)


async def test_delete_running_activity_terminates_it(client):
    running = await client.start_activity(
        compose_greeting, "World", id=unique("del"), task_queue=unique("tq"),
        start_to_close_timeout=TIMEOUT)
    await client.workflow_service.delete_activity_execution(DeleteActivityExecutionRequest(
        namespace="default", activity_id=running.id))  # by ID alone: latest run
    last = await describe_until_deleted(running, ActivityExecutionStatus.TERMINATED)
    if last is not None:  # caught before the delete task ran
        failure = await last.outcome_failure()
        assert isinstance(failure, TerminatedError)
        assert failure.message == "Delete activity execution"


async def test_unknown_activity_is_not_found(client):
    """Every call on an activity ID that was never used is NOT_FOUND, with
    Temporal's message and a NotFoundFailure detail."""
    missing = unique("missing")
    handle = client.get_activity_handle(missing)
    calls = {
        "describe": handle.describe,
        "result": handle.result,
        "cancel": lambda: handle.cancel(reason="nothing there"),
        "terminate": lambda: handle.terminate(reason="nothing there"),
        "heartbeat": lambda: client.get_async_activity_handle(activity_id=missing).heartbeat(),
        "complete": lambda: client.get_async_activity_handle(activity_id=missing).complete("x"),
        "delete": lambda: client.workflow_service.delete_activity_execution(
            DeleteActivityExecutionRequest(namespace="default", activity_id=missing)),
    }
    for name, call in calls.items():
        with pytest.raises(RPCError) as err:
            await call()
        assert err.value.status == RPCStatusCode.NOT_FOUND, name
        assert_not_found(err.value, missing)

    # A known activity ID with a run ID that is not one of its runs.
    known = await client.start_activity(
        compose_greeting, "World", id=unique("known"), task_queue=unique("tq"),
        start_to_close_timeout=TIMEOUT)
    with pytest.raises(RPCError) as err:
        await client.get_activity_handle(known.id, run_id=str(uuid.uuid4())).describe()
    assert_not_found(err.value, known.id)
    await known.terminate(reason="cleanup")


# 6. Asynchronous completion by activity ID ---------------------------------

async def test_async_completion_by_activity_id(client):
    task_queue = unique("tq")
    activity_id = unique("async")
    started = asyncio.Event()

    @activity.defn
    async def finish_later() -> str:
        started.set()
        activity.raise_complete_async()

    async with Worker(client, task_queue=task_queue, activities=[finish_later]):
        handle = await client.start_activity(
            finish_later, id=activity_id, task_queue=task_queue,
            start_to_close_timeout=TIMEOUT)
        await asyncio.wait_for(started.wait(), 10)

        # A standalone activity is addressed by activity ID (and optionally
        # run ID) with an empty workflow ID.
        async_handle = client.get_async_activity_handle(activity_id=activity_id)
        await async_handle.heartbeat("halfway")
        desc = await handle.describe(include_heartbeat_details=True)
        assert desc.status == ActivityExecutionStatus.RUNNING
        assert desc.run_state == PendingActivityState.STARTED
        assert desc.last_heartbeat_time is not None
        assert await desc.heartbeat_details() == ["halfway"]

        with pytest.raises(RPCError) as err:
            await client.get_async_activity_handle(
                activity_id=activity_id, run_id=str(uuid.uuid4())).heartbeat("wrong run")
        assert_not_found(err.value, activity_id)

        await async_handle.complete("done later")
        assert await handle.result() == "done later"
    desc = await handle.describe()
    assert desc.status == ActivityExecutionStatus.COMPLETED
    assert desc.close_time is not None

    # Completing a closed activity again: a by-ID completion needs no attempt
    # in progress, so it is the transition that is refused (Server 1.32.0;
    # 1.31.2 said NOT_FOUND).
    for run_id in (handle.run_id, None):
        with pytest.raises(RPCError) as err:
            await client.get_async_activity_handle(
                activity_id=activity_id, run_id=run_id).complete("again")
        assert err.value.status == RPCStatusCode.FAILED_PRECONDITION
        assert err.value.message == "invalid transition from Completed"


async def test_async_heartbeat_reports_cancel_request(client):
    task_queue = unique("tq")
    activity_id = unique("async")
    started = asyncio.Event()

    @activity.defn
    async def finish_later() -> str:
        started.set()
        activity.raise_complete_async()

    async with Worker(client, task_queue=task_queue, activities=[finish_later]):
        handle = await client.start_activity(
            finish_later, id=activity_id, task_queue=task_queue,
            start_to_close_timeout=TIMEOUT)
        await asyncio.wait_for(started.wait(), 10)
        await handle.cancel(reason="stop")
        async_handle = client.get_async_activity_handle(activity_id=activity_id)
        with pytest.raises(AsyncActivityCancelledError) as err:
            await async_handle.heartbeat("still here")
        assert err.value.details.cancel_requested
        await async_handle.report_cancellation("bye")
        with pytest.raises(ActivityFailureError) as failure:
            await handle.result()
    cause = failure.value.cause
    assert isinstance(cause, CancelledError)
    assert cause.message == "Activity canceled"
    assert cause.details == ("bye",)
    assert (await handle.describe()).status == ActivityExecutionStatus.CANCELED


async def test_async_failure_by_activity_id(client):
    task_queue = unique("tq")
    activity_id = unique("async-fail")
    attempts = []
    started = asyncio.Event()

    @activity.defn
    async def fail_later() -> str:
        attempts.append(activity.info().attempt)
        started.set()
        activity.raise_complete_async()

    async with Worker(client, task_queue=task_queue, activities=[fail_later]):
        handle = await client.start_activity(
            fail_later, id=activity_id, task_queue=task_queue,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200)))
        await asyncio.wait_for(started.wait(), 10)
        started.clear()
        async_handle = client.get_async_activity_handle(activity_id=activity_id)

        # A retryable failure from outside the worker is retried like any
        # other attempt failure.
        await async_handle.fail(ApplicationError("try again", type="Transient"))
        await asyncio.wait_for(started.wait(), 10)
        desc = await handle.describe(include_last_failure=True)
        assert desc.status == ActivityExecutionStatus.RUNNING
        assert desc.attempt == 2
        last = await desc.last_failure()
        assert isinstance(last, ApplicationError)
        assert (last.message, last.type) == ("try again", "Transient")

        # A non-retryable one ends the run.
        await async_handle.fail(ApplicationError("given up", type="External", non_retryable=True))
        with pytest.raises(ActivityFailureError) as err:
            await handle.result()
    assert attempts == [1, 2]
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.message, cause.type, cause.non_retryable) == ("given up", "External", True)
    desc = await handle.describe(include_outcome=True)
    assert desc.status == ActivityExecutionStatus.FAILED
    assert desc.attempt == 2
    failure = await desc.outcome_failure()
    assert isinstance(failure, ApplicationError)
    assert (failure.message, failure.type) == ("given up", "External")

    # Failing it again finds no running attempt.
    with pytest.raises(RPCError) as again:
        await client.get_async_activity_handle(activity_id=activity_id).fail(
            ApplicationError("twice"))
    assert_not_found(again.value, activity_id)


# 7. Non-retryable application failure ---------------------------------------

async def test_non_retryable_application_error_fails(client):
    task_queue = unique("tq")

    @activity.defn
    async def explode() -> str:
        raise ApplicationError("boom", type="MyError", non_retryable=True)

    async with Worker(client, task_queue=task_queue, activities=[explode]):
        handle = await client.start_activity(
            explode, id=unique("fail"), task_queue=task_queue,
            start_to_close_timeout=TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=5))
        with pytest.raises(ActivityFailureError) as err:
            await handle.result()
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message == "boom"
    assert cause.type == "MyError"
    assert cause.non_retryable
    desc = await handle.describe(include_outcome=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.FAILED
    assert desc.run_state is None
    assert desc.attempt == 1
    assert desc.close_time is not None
    assert desc.last_attempt_complete_time is not None
    assert desc.last_worker_identity == client.identity
    assert desc.retry_policy.maximum_attempts == 5
    failure = await desc.outcome_failure()
    assert isinstance(failure, ApplicationError)
    assert failure.message == "boom"
    assert failure.type == "MyError"
    last = await desc.last_failure()
    assert isinstance(last, ApplicationError)
    assert last.message == "boom"


# 8. Durability across SIGKILL -------------------------------------------------

@pytest.mark.needs_errand_process
async def test_activity_survives_sigkill_before_poll(errand, client):
    # Skipped in oracle mode; the same steps were checked by hand against the
    # dev server (kill -9, restart on the same --db-filename): it completes.
    task_queue = unique("tq")
    activity_id = unique("durable")
    handle = await client.start_activity(
        compose_greeting, "World", id=activity_id, task_queue=task_queue,
        start_to_close_timeout=TIMEOUT)
    run_id = handle.run_id

    errand.kill()
    errand.start()

    client = await Client.connect(errand.address, namespace="default")
    async with Worker(client, task_queue=task_queue, activities=[compose_greeting]):
        handle = client.get_activity_handle(activity_id, run_id=run_id)
        assert await handle.result() == "Hello, World!"
    desc = await handle.describe()
    assert desc.status == ActivityExecutionStatus.COMPLETED
