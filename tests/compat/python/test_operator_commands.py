"""Operator commands on standalone activities with the Python SDK 1.35:
pause, unpause, update options and restore them (the handle's methods), reset
(no handle method in 1.35: the raw ResetActivityExecution RPC), the
Paused status in visibility, and batch operations over standalone activities
(raw StartBatchOperation, DescribeBatchOperation, ListBatchOperations).

Checked against a real Temporal dev server (CLI 1.9.1, Server 1.32.0, with
history.enableStandaloneActivityOperatorCommands=true) in oracle mode
(COMPAT_ORACLE_ADDRESS); the messages asserted are that server's.

What the SDK does on pause and reset (temporalio 1.35): the server's heartbeat
response carries activity_paused / activity_reset; the worker cancels the
running activity (asyncio.CancelledError) with activity.cancellation_details()
.paused / .reset set, and if the activity lets the cancellation escape, reports
the attempt as a retryable ApplicationError of type "ActivityPause" /
"ActivityReset".
"""
import asyncio
import uuid
from datetime import timedelta

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask
from temporalio import activity
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.batch.v1 import (
    BatchOperationCancelActivities,
    BatchOperationDeleteActivities,
    BatchOperationTerminateActivities,
)
from temporalio.api.common.v1 import Execution
from temporalio.api.enums.v1 import BatchOperationState, BatchOperationType, ExecutionType
from temporalio.api.workflowservice.v1 import (
    DescribeBatchOperationRequest,
    DescribeBatchOperationResponse,
    ListBatchOperationsRequest,
    PauseActivityExecutionRequest,
    ResetActivityExecutionRequest,
    StartBatchOperationRequest,
    UpdateActivityExecutionOptionsRequest,
)
from temporalio.client import (
    ActivityExecutionStatus,
    ActivityOptionsKeys,
    PendingActivityState,
)
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError, TerminatedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from compat_helpers import eventually

TIMEOUT = timedelta(seconds=10)
Status = ActivityExecutionStatus
RunState = PendingActivityState

# How long a worker polls a paused activity's queue to show it is not
# dispatched. A bound on the check, not a speed assertion: an unpaused
# activity on an idle queue would be dispatched well within it.
NOT_DISPATCHED_WINDOW = 2.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


async def assert_failed_precondition(call, message: str) -> None:
    with pytest.raises(RPCError) as err:
        await call()
    assert err.value.status == RPCStatusCode.FAILED_PRECONDITION, err.value
    assert err.value.message == message


async def wait_for_status(handle, status: Status, what: str, timeout: float = 10.0):
    return await eventually(
        lambda: handle.describe(include_last_failure=True, include_heartbeat_details=True),
        lambda d: d.status == status, what, timeout)


# 1. Pause a scheduled activity, unpause it --------------------------------------

async def test_pause_scheduled_activity_then_unpause_runs_it(client):
    task_queue = unique("tq-pause")
    runs = []

    @activity.defn(name="compose_greeting")
    async def compose_greeting(name: str) -> str:
        runs.append(activity.info().attempt)
        return f"Hello, {name}!"

    handle = await client.start_activity(
        compose_greeting, "World", id=unique("pause"), task_queue=task_queue,
        start_to_close_timeout=TIMEOUT)
    await handle.pause(reason="downstream is down")
    desc = await handle.describe()
    assert desc.status == Status.PAUSED
    assert desc.raw_info.status == Status.PAUSED  # ACTIVITY_EXECUTION_STATUS_PAUSED
    assert desc.run_state == RunState.PAUSED
    assert desc.attempt == 1
    assert desc.last_started_time is None
    assert desc.close_time is None
    # A paused activity has no pending dispatch to report.
    assert desc.next_attempt_schedule_time is None

    # Pausing it again (a new request ID) is refused.
    await assert_failed_precondition(
        lambda: handle.pause(reason="again"), "activity is in non-pausable state Paused")

    async with Worker(client, task_queue=task_queue, activities=[compose_greeting]):
        # A worker polling the queue does not get the paused activity.
        await asyncio.sleep(NOT_DISPATCHED_WINDOW)
        assert runs == []
        desc = await handle.describe()
        assert (desc.status, desc.run_state, desc.attempt) == (Status.PAUSED, RunState.PAUSED, 1)

        await handle.unpause(reason="downstream is back")
        assert await asyncio.wait_for(handle.result(), 15) == "Hello, World!"
    assert runs == [1]
    desc = await handle.describe()
    assert desc.status == Status.COMPLETED
    assert desc.run_state is None
    assert desc.attempt == 1

    # A closed activity can be neither unpaused nor paused.
    await assert_failed_precondition(
        lambda: handle.unpause(), "activity is in terminal state Completed")
    await assert_failed_precondition(
        lambda: handle.pause(), "activity is in non-pausable state Completed")


async def test_unpause_of_an_unpaused_activity_is_refused_and_pause_request_id_dedups(client):
    """Unpause needs a paused activity; a repeated pause request ID is a no-op
    even after the activity was unpaused (the SDK makes a new request ID per
    call, so the repeat goes through the raw RPC)."""
    handle = await client.start_activity(
        "compose_greeting", "World", id=unique("pause-dedup"), task_queue=unique("tq-nobody"),
        start_to_close_timeout=TIMEOUT)
    await assert_failed_precondition(
        lambda: handle.unpause(), "activity is in non-unpausable state Scheduled")

    request = PauseActivityExecutionRequest(
        namespace="default", activity_id=handle.id, identity="compat-test",
        request_id=str(uuid.uuid4()), reason="first")
    await client.workflow_service.pause_activity_execution(request)
    await client.workflow_service.pause_activity_execution(request)  # same ID: no-op
    assert (await handle.describe()).status == Status.PAUSED
    await handle.unpause()
    await client.workflow_service.pause_activity_execution(request)  # still a no-op
    desc = await handle.describe()
    assert (desc.status, desc.run_state) == (Status.RUNNING, RunState.SCHEDULED)
    await handle.terminate(reason="cleanup")


# 2. Pause a heartbeating activity --------------------------------------------

async def test_pause_heartbeating_activity_raises_paused_in_worker_and_retries_after_unpause(
        client):
    task_queue = unique("tq-pause-hb")
    running = asyncio.Event()
    attempts: list[int] = []
    seen: list[tuple[type, activity.ActivityCancellationDetails | None]] = []

    @activity.defn
    async def heartbeater() -> str:
        attempt = activity.info().attempt
        attempts.append(attempt)
        if attempt > 1:
            return f"done on attempt {attempt}"
        running.set()
        try:
            while True:
                activity.heartbeat(attempt)
                await asyncio.sleep(0.2)
        except BaseException as err:
            seen.append((type(err), activity.cancellation_details()))
            raise

    handle = await client.start_activity(
        heartbeater, id=unique("pause-hb"), task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=30), heartbeat_timeout=timedelta(seconds=5),
        retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)))
    # Heartbeats reach the server at least every 0.5 s (not every 4 s, 80%
    # of the heartbeat timeout), so the worker learns of the pause soon.
    async with Worker(client, task_queue=task_queue, activities=[heartbeater],
                      max_heartbeat_throttle_interval=timedelta(milliseconds=500)):
        await asyncio.wait_for(running.wait(), 10)
        await handle.pause(reason="maintenance")
        desc = await handle.describe()
        # Only requested until the worker yields the attempt.
        if desc.status == Status.RUNNING:
            assert desc.run_state == RunState.PAUSE_REQUESTED
            assert desc.attempt == 1
        else:
            assert desc.status == Status.PAUSED

        # The worker sees the pause as a cancellation with `paused` set; the
        # attempt it gives up is a retryable failure, and the run is PAUSED
        # with the next attempt counted but not dispatched.
        desc = await wait_for_status(handle, Status.PAUSED, "paused after the worker yielded")
        assert len(seen) == 1
        err_type, details = seen[0]
        assert issubclass(err_type, asyncio.CancelledError)
        assert details is not None and details.paused
        assert not details.cancel_requested and not details.reset
        assert desc.run_state == RunState.PAUSED
        assert desc.attempt == 2
        last = await desc.last_failure()
        assert isinstance(last, ApplicationError)
        assert last.type == "ActivityPause"
        assert last.message == "Unhandled activity cancel error produced by activity pause"
        assert not last.non_retryable

        await asyncio.sleep(NOT_DISPATCHED_WINDOW)
        assert attempts == [1]
        assert (await handle.describe()).status == Status.PAUSED

        await handle.unpause()
        assert await asyncio.wait_for(handle.result(), 15) == "done on attempt 2"
    assert attempts == [1, 2]
    desc = await handle.describe()
    assert (desc.status, desc.attempt) == (Status.COMPLETED, 2)


# 3. Update options, restore the originals --------------------------------------

async def test_update_options_then_restore_original_options(client):
    task_queue = unique("tq-opts")
    moved_to = unique("tq-opts-moved")
    original_retry = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                                 maximum_interval=timedelta(seconds=10), maximum_attempts=5)
    handle = await client.start_activity(
        "compose_greeting", "World", id=unique("opts"), task_queue=task_queue,
        start_to_close_timeout=TIMEOUT, retry_policy=original_retry, result_type=str)

    def current(desc):
        return (desc.task_queue, desc.start_to_close_timeout, desc.heartbeat_timeout,
                desc.schedule_to_start_timeout, desc.retry_policy)

    original = current(await handle.describe())
    assert original == (task_queue, TIMEOUT, timedelta(0), timedelta(0), original_retry)

    new_retry = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=3.0,
                            maximum_interval=timedelta(seconds=20), maximum_attempts=3)
    options = await handle.update_options([
        ActivityOptionsKeys.task_queue.value_set(moved_to),
        ActivityOptionsKeys.start_to_close_timeout.value_set(timedelta(seconds=30)),
        ActivityOptionsKeys.heartbeat_timeout.value_set(timedelta(seconds=4)),
        ActivityOptionsKeys.retry_policy.value_set(new_retry),
    ])
    # The answer is the whole resolved option set, not just what changed.
    assert options.task_queue == moved_to
    assert options.start_to_close_timeout == timedelta(seconds=30)
    assert options.heartbeat_timeout == timedelta(seconds=4)
    assert options.schedule_to_start_timeout == timedelta(0)
    assert options.retry_policy == new_retry
    desc = await handle.describe()
    assert current(desc) == (moved_to, timedelta(seconds=30), timedelta(seconds=4), timedelta(0),
                             new_retry)
    assert (desc.status, desc.run_state) == (Status.RUNNING, RunState.SCHEDULED)

    # A partial change leaves the other options alone.
    options = await handle.update_options([
        ActivityOptionsKeys.schedule_to_start_timeout.value_set(timedelta(seconds=40))])
    assert options.start_to_close_timeout == timedelta(seconds=30)
    assert options.retry_policy == new_retry
    assert options.schedule_to_start_timeout == timedelta(seconds=40)

    options = await handle.restore_original_options()
    assert options.task_queue == task_queue
    assert options.start_to_close_timeout == TIMEOUT
    assert options.heartbeat_timeout == timedelta(0)
    assert options.schedule_to_start_timeout == timedelta(0)
    assert options.retry_policy == original_retry
    assert current(await handle.describe()) == original

    # The task queue update decides where the activity is dispatched: moved
    # again, only a worker on the new queue runs it.
    await handle.update_options([ActivityOptionsKeys.task_queue.value_set(moved_to)])

    @activity.defn(name="compose_greeting")
    async def compose_greeting(name: str) -> str:
        return f"Hello from {activity.info().task_queue}, {name}!"

    async with Worker(client, task_queue=moved_to, activities=[compose_greeting]):
        assert await asyncio.wait_for(handle.result(), 15) == f"Hello from {moved_to}, World!"
    desc = await handle.describe()
    assert (desc.status, desc.task_queue) == (Status.COMPLETED, moved_to)

    # A closed activity's options cannot change.
    await assert_failed_precondition(
        lambda: handle.update_options(
            [ActivityOptionsKeys.start_to_close_timeout.value_set(timedelta(seconds=3))]),
        "Cannot update options for activity in state Completed")
    await assert_failed_precondition(
        handle.restore_original_options, "Cannot update options for activity in state Completed")


async def test_update_options_mask_validation(client):
    """The update mask as the raw RPC sends it: the SDK always sends a valid
    one, so the server's checks on it are reached only this way."""
    handle = await client.start_activity(
        "compose_greeting", "World", id=unique("opts-mask"), task_queue=unique("tq-nobody"),
        start_to_close_timeout=TIMEOUT)

    async def update(paths, **extra):
        return await client.workflow_service.update_activity_execution_options(
            UpdateActivityExecutionOptionsRequest(
                namespace="default", activity_id=handle.id, request_id=str(uuid.uuid4()),
                update_mask=FieldMask(paths=paths),
                activity_options=ActivityOptions(start_to_close_timeout=Duration(seconds=7)),
                **extra))

    cases = {
        (): "UpdateMask must specify at least one path",
        ("task_queue",): 'unsupported update_mask path: "task_queue"',
        ("*",): 'unsupported update_mask path: "*"',
        ("bogus",): 'unsupported update_mask path: "bogus"',
    }
    for paths, message in cases.items():
        with pytest.raises(RPCError) as err:
            await update(list(paths))
        assert err.value.status == RPCStatusCode.INVALID_ARGUMENT, paths
        assert err.value.message == message
    with pytest.raises(RPCError) as err:
        await update(["start_to_close_timeout"], restore_original=True)
    assert err.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert err.value.message == "Both UpdateMask and RestoreOriginal are provided"

    # camelCase paths are accepted too.
    resp = await update(["startToCloseTimeout"])
    assert resp.activity_options.start_to_close_timeout == Duration(seconds=7)
    assert (await handle.describe()).start_to_close_timeout == timedelta(seconds=7)
    await handle.terminate(reason="cleanup")


# 4. Reset ----------------------------------------------------------------------

def reset_request(activity_id: str, **fields) -> ResetActivityExecutionRequest:
    return ResetActivityExecutionRequest(
        namespace="default", activity_id=activity_id, identity="compat-test",
        request_id=str(uuid.uuid4()), **fields)


async def test_reset_running_attempt_restarts_at_attempt_one_without_heartbeat(client):
    task_queue = unique("tq-reset")
    running = asyncio.Event()
    quiet = asyncio.Event()
    runs: list[tuple[int, list]] = []  # (attempt, heartbeat details it started with)
    seen: list[activity.ActivityCancellationDetails | None] = []

    @activity.defn
    async def checkpointed() -> str:
        info = activity.info()
        runs.append((info.attempt, list(info.heartbeat_details)))
        if len(runs) == 1:  # checkpoint, then fail: retried as attempt 2
            activity.heartbeat("cp-1")
            await asyncio.sleep(0.1)
            raise ApplicationError("transient")
        if len(runs) == 2:  # heartbeat (unless told to keep quiet) until reset
            running.set()
            try:
                while True:
                    if not quiet.is_set():
                        activity.heartbeat("cp-2")
                    await asyncio.sleep(0.2)
            except asyncio.CancelledError:
                seen.append(activity.cancellation_details())
                raise
        return f"done on attempt {info.attempt}"

    handle = await client.start_activity(
        checkpointed, id=unique("reset"), task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=30), heartbeat_timeout=timedelta(seconds=5),
        retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)))
    async with Worker(client, task_queue=task_queue, activities=[checkpointed],
                      max_heartbeat_throttle_interval=timedelta(milliseconds=500)):
        await asyncio.wait_for(running.wait(), 10)
        desc = await handle.describe()
        assert (desc.status, desc.run_state, desc.attempt) == (Status.RUNNING, RunState.STARTED, 2)

        # The worker learns of a reset only from a heartbeat response: while
        # it sends none (after the last throttled one has gone out), the reset
        # stays pending.
        quiet.set()
        await asyncio.sleep(1.0)
        await client.workflow_service.reset_activity_execution(
            reset_request(handle.id, reset_heartbeat=True))
        # Deferred while the attempt runs: still STARTED on attempt 2.
        desc = await handle.describe()
        assert (desc.status, desc.run_state, desc.attempt) == (Status.RUNNING, RunState.STARTED, 2)
        # A second reset while the first is pending is refused.
        await assert_failed_precondition(
            lambda: client.workflow_service.reset_activity_execution(reset_request(handle.id)),
            "cannot reset an activity with a pending reset")
        quiet.clear()
        assert await asyncio.wait_for(handle.result(), 15) == "done on attempt 1"

    # The worker saw the reset as a cancellation with `reset` set; the next
    # run is attempt 1 again, dispatched at once, without the checkpoint.
    assert len(seen) == 1 and seen[0] is not None and seen[0].reset
    assert not seen[0].paused and not seen[0].cancel_requested
    assert runs == [(1, []), (2, ["cp-1"]), (1, [])]
    desc = await handle.describe(include_last_failure=True)
    assert (desc.status, desc.attempt) == (Status.COMPLETED, 1)
    last = await desc.last_failure()
    assert isinstance(last, ApplicationError)
    assert (last.type, last.message) == (
        "ActivityReset", "Unhandled activity cancel error produced by activity reset")

    await assert_failed_precondition(
        lambda: client.workflow_service.reset_activity_execution(reset_request(handle.id)),
        "activity execution is not running")


async def test_reset_paused_activity_keep_paused_then_reset_dispatches_at_once(client):
    task_queue = unique("tq-reset-paused")
    attempts: list[int] = []

    @activity.defn
    async def fail_once() -> str:
        attempts.append(activity.info().attempt)
        if len(attempts) == 1:
            raise ApplicationError("transient")
        return f"done on attempt {activity.info().attempt}"

    # A one-hour retry backoff: attempt 2 would not run within the test
    # unless the reset drops the backoff.
    handle = await client.start_activity(
        fail_once, id=unique("reset-paused"), task_queue=task_queue,
        start_to_close_timeout=TIMEOUT,
        retry_policy=RetryPolicy(initial_interval=timedelta(hours=1)))
    async with Worker(client, task_queue=task_queue, activities=[fail_once]):
        desc = await eventually(handle.describe, lambda d: d.attempt == 2, "the retry backoff")
        assert (desc.status, desc.run_state) == (Status.RUNNING, RunState.SCHEDULED)
        assert desc.current_retry_interval == timedelta(hours=1)

        await handle.pause()
        desc = await handle.describe()
        assert (desc.status, desc.run_state, desc.attempt) == (Status.PAUSED, RunState.PAUSED, 2)

        await client.workflow_service.reset_activity_execution(
            reset_request(handle.id, keep_paused=True))
        desc = await handle.describe()
        assert (desc.status, desc.run_state, desc.attempt) == (Status.PAUSED, RunState.PAUSED, 1)
        await asyncio.sleep(NOT_DISPATCHED_WINDOW)
        assert attempts == [1]

        await client.workflow_service.reset_activity_execution(reset_request(handle.id))
        assert await asyncio.wait_for(handle.result(), 15) == "done on attempt 1"
    assert attempts == [1, 1]
    desc = await handle.describe()
    assert (desc.status, desc.attempt) == (Status.COMPLETED, 1)


# 5. Paused in visibility -------------------------------------------------------

async def test_paused_in_list_count_and_group_by(client):
    task_queue = unique("tq-vis-paused")  # nobody polls it
    handles = [
        await client.start_activity(
            "compose_greeting", "World", id=unique("vis-paused"), task_queue=task_queue,
            start_to_close_timeout=TIMEOUT)
        for _ in range(3)
    ]
    await handles[0].pause()
    await handles[1].pause()
    paused = {handles[0].id, handles[1].id}
    tq = f"TaskQueue = '{task_queue}'"

    listed = await eventually(
        lambda: collect(client.list_activities(f"{tq} AND ExecutionStatus = 'Paused'")),
        lambda got: {a.activity_id for a in got} == paused, "list ExecutionStatus = 'Paused'")
    assert all(a.status == Status.PAUSED for a in listed)
    running = await eventually(
        lambda: collect(client.list_activities(f"{tq} AND ExecutionStatus = 'Running'")),
        lambda got: {a.activity_id for a in got} == {handles[2].id},
        "list ExecutionStatus = 'Running'")
    assert running[0].status == Status.RUNNING
    counted = await client.count_activities(f"{tq} AND ExecutionStatus = 'Paused'")
    assert counted.count == 2
    assert list(counted.groups) == []

    grouped = await client.count_activities(f"{tq} GROUP BY ExecutionStatus")
    assert grouped.count == 3
    assert {tuple(g.group_values): g.count for g in grouped.groups} == {
        ("Paused",): 2, ("Running",): 1}

    # Unpaused, it is Running again in visibility.
    await handles[0].unpause()
    await eventually(
        lambda: client.count_activities(f"{tq} GROUP BY ExecutionStatus"),
        lambda r: {tuple(g.group_values): g.count for g in r.groups} == {
            ("Paused",): 1, ("Running",): 2},
        "GROUP BY ExecutionStatus after unpause")
    for handle in handles:
        await handle.terminate(reason="cleanup")


async def collect(iterator) -> list:
    return [item async for item in iterator]


# 6. Batch operations over standalone activities ---------------------------------
# No handle method: the raw StartBatchOperation, DescribeBatchOperation and
# ListBatchOperations RPCs, as the CLI's `activity cancel|terminate|delete
# --query` sends them.

async def start_scheduled(client, task_queue: str, count: int, prefix: str) -> list:
    handles = [
        await client.start_activity(
            "compose_greeting", "World", id=unique(prefix), task_queue=task_queue,
            start_to_close_timeout=TIMEOUT)
        for _ in range(count)
    ]
    # The batch selects by visibility, which may lag the starts.
    await eventually(
        lambda: client.count_activities(f"TaskQueue = '{task_queue}'"),
        lambda r: r.count == count, f"{count} activities visible on {task_queue}")
    return handles


async def run_batch(client, **fields) -> DescribeBatchOperationResponse:
    job_id = str(uuid.uuid4())

    async def start() -> bool:
        try:
            await client.workflow_service.start_batch_operation(StartBatchOperationRequest(
                namespace="default", job_id=job_id, **fields))
            return True
        except RPCError as err:
            # Temporal runs a limited number of batches per namespace at once
            # ("Max concurrent batch operations is reached"); another suite's
            # batch on a shared server may hold the slot for a moment.
            if err.status != RPCStatusCode.RESOURCE_EXHAUSTED:
                raise
            return False

    await eventually(start, bool, "a batch slot", timeout=20)
    desc = await eventually(
        lambda: client.workflow_service.describe_batch_operation(
            DescribeBatchOperationRequest(namespace="default", job_id=job_id)),
        lambda d: d.state != BatchOperationState.BATCH_OPERATION_STATE_RUNNING,
        f"batch {job_id} to finish", timeout=20)
    assert desc.job_id == job_id
    return desc


async def describe_until_gone(handle) -> None:
    async def gone():
        try:
            await handle.describe()
            return False
        except RPCError as err:
            assert err.status == RPCStatusCode.NOT_FOUND, err
            return True
    await eventually(gone, bool, f"{handle.id} deleted")


async def test_batch_cancel_terminate_and_delete_by_query(client):
    to_cancel = unique("tq-batch-cancel")
    to_terminate = unique("tq-batch-term")
    cancelled = await start_scheduled(client, to_cancel, 3, "batch-cancel")
    terminated = await start_scheduled(client, to_terminate, 3, "batch-term")

    query = f"TaskQueue = '{to_cancel}'"
    desc = await run_batch(
        client, visibility_query=query, reason="bulk cancel",
        cancel_activities_operation=BatchOperationCancelActivities(
            identity="compat-batch", reason="downstream gone"))
    assert desc.operation_type == BatchOperationType.BATCH_OPERATION_TYPE_CANCEL_ACTIVITY
    assert desc.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
    assert (desc.total_operation_count, desc.complete_operation_count,
            desc.failure_operation_count) == (3, 3, 0)
    assert (desc.query, desc.reason) == (query, "bulk cancel")
    assert desc.HasField("start_time") and desc.HasField("close_time")
    for handle in cancelled:  # scheduled, so cancelled at once
        d = await handle.describe()
        assert (d.status, d.canceled_reason) == (Status.CANCELED, "downstream gone")

    desc = await run_batch(
        client, visibility_query=f"TaskQueue = '{to_terminate}'", reason="bulk terminate",
        terminate_activities_operation=BatchOperationTerminateActivities(
            identity="compat-batch", reason="bulk terminate"))
    assert desc.operation_type == BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY
    assert desc.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
    assert (desc.total_operation_count, desc.complete_operation_count,
            desc.failure_operation_count) == (3, 3, 0)
    for handle in terminated:
        d = await handle.describe(include_outcome=True)
        assert d.status == Status.TERMINATED
        failure = await d.outcome_failure()
        assert isinstance(failure, TerminatedError)
        assert failure.message == "bulk terminate"

    # Delete by an explicit list of activities (each typed as an activity),
    # then the rest by query.
    listed = [Execution(type=ExecutionType.EXECUTION_TYPE_ACTIVITY, business_id=h.id)
              for h in cancelled[:2]]
    desc = await run_batch(
        client, target_executions=listed, reason="bulk delete",
        delete_activities_operation=BatchOperationDeleteActivities())
    assert desc.operation_type == BatchOperationType.BATCH_OPERATION_TYPE_DELETE_ACTIVITY
    assert desc.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
    assert (desc.total_operation_count, desc.complete_operation_count) == (2, 2)
    for handle in cancelled[:2]:
        await describe_until_gone(handle)
    assert (await cancelled[2].describe()).status == Status.CANCELED

    desc = await run_batch(
        client, visibility_query=f"TaskQueue = '{to_terminate}'", reason="bulk delete",
        delete_activities_operation=BatchOperationDeleteActivities())
    assert (desc.total_operation_count, desc.complete_operation_count) == (3, 3)
    for handle in terminated:
        await describe_until_gone(handle)


async def test_batch_operations_are_described_and_listed(client):
    task_queue = unique("tq-batch-list")
    await start_scheduled(client, task_queue, 2, "batch-list")
    desc = await run_batch(
        client, visibility_query=f"TaskQueue = '{task_queue}'", reason="listed",
        terminate_activities_operation=BatchOperationTerminateActivities(
            identity="compat-batch", reason="listed"))
    assert desc.identity == "compat-batch"

    async def find() -> list:
        found, token = [], b""
        while True:
            page = await client.workflow_service.list_batch_operations(
                ListBatchOperationsRequest(namespace="default", page_size=50,
                                           next_page_token=token))
            found += [op for op in page.operation_info if op.job_id == desc.job_id]
            token = page.next_page_token
            if found or not token:
                return found

    [info] = await eventually(find, lambda ops: len(ops) == 1, "the batch in the list")
    assert info.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
    assert info.operation_type == BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY
    # Visibility keeps microseconds.
    assert abs(info.start_time.ToDatetime() - desc.start_time.ToDatetime()) < timedelta(
        milliseconds=1)
    assert info.HasField("close_time")

    # An unknown job ID is NOT_FOUND (the dev server's message names its
    # batch workflow, so only the code is asserted).
    with pytest.raises(RPCError) as err:
        await client.workflow_service.describe_batch_operation(
            DescribeBatchOperationRequest(namespace="default", job_id=unique("no-such-job")))
    assert err.value.status == RPCStatusCode.NOT_FOUND
