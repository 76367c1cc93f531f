"""Standalone Activity timeout and retry scenarios with the Python SDK.

The reference is /work/shared/spec/temporal-semantics.md (Temporal Server
main after 1.32; §1.3-1.6, §1.10, §4.1), which errand implements. Oracle mode
(COMPAT_ORACLE_ADDRESS, see conftest.py) runs the same scenarios against a
real Temporal dev server (CLI 1.9.1, Server 1.32.0), which shares that
behaviour, so the assertions hold in both modes:
- Every terminal timeout failure carries timeout_failure_info.last_heartbeat_details
  = the last recorded heartbeat details (§1.5 table).
- The outcome's retry_state follows the retry-state table (§1.4, §1.5): S2S
  and S2C timeouts TIMEOUT; StartToClose/Heartbeat timeout with attempts
  exhausted MAXIMUM_ATTEMPTS_REACHED; non-retryable failure, or a timeout
  type listed in non_retryable_error_types (which is then not retried),
  NON_RETRYABLE_FAILURE; a retry that would pass the S2C deadline TIMEOUT.
- ScheduleToStart/ScheduleToClose timeout failures have cause = the previous
  attempt's failure, if any (§1.5 table). A retried timeout has no cause; a
  terminal StartToClose/Heartbeat timeout has cause = the previous attempt's
  failure, none on attempt 1 (§1.4 "Last failure").
- A StartToClose/Heartbeat timeout whose retry would not fit before the S2C
  deadline ends with a SCHEDULE_TO_CLOSE timeout failure "Not enough time to
  schedule next retry before activity ScheduleToClose timeout, giving up
  retrying" without a cause, retry_state TIMEOUT, and last_failure keeps the
  StartToClose/Heartbeat failure (§1.5 special case).
- A failed attempt that is retried leaves last_failure (the attempt's failure),
  last_attempt_complete_time, current_retry_interval and
  next_attempt_schedule_time = last_attempt_complete_time +
  current_retry_interval; attempt is already the next attempt's number and
  run_state is SCHEDULED while waiting. current_retry_interval and
  next_attempt_schedule_time are reported only while the activity waits in
  SCHEDULED for a future dispatch (§4.1).
- A retry is scheduled only if now + retry interval is before the
  schedule-to-close deadline; a schedule-to-close timer that fires while a
  retry is pending or running ends it TIMED_OUT/SCHEDULE_TO_CLOSE.
- Unset timeouts are filled in: start_to_close and schedule_to_start default
  to schedule_to_close; the retry policy's maximum_interval defaults to 100 x
  initial_interval.
- start_delay is honoured: execution_time and the first dispatch are
  schedule_time + start_delay, reported as next_attempt_schedule_time while
  waiting (§1.2 Scheduled, §1.10, §4.1).
- total_heartbeat_count counts heartbeats across attempts (§1.4, §4.1).

A retried StartToClose timeout failure (the last_failure while the retry
waits, the cause of a later timeout) is recorded without heartbeat details, as
Server 1.32.0 does; the details stay on the activity for the next attempt.

The older oracle (Server 1.31.2) predates most of the spec behaviour above
(it left retry_state UNSPECIFIED, recorded no heartbeat details or causes,
retried a listed TemporalTimeout type and dropped start_delay); these
scenarios no longer run against it.
"""
import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import RetryState
from temporalio.client import (
    ActivityExecutionStatus,
    ActivityFailureError,
    PendingActivityState,
)
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError, TimeoutError, TimeoutType
from temporalio.worker import Worker

ORACLE_ADDRESS = os.environ.get("COMPAT_ORACLE_ADDRESS", "").strip()
ORACLE_MODE = bool(ORACLE_ADDRESS)

STC_TIMEOUT = "activity StartToClose timeout"
S2S_TIMEOUT = "activity ScheduleToStart timeout"
S2C_TIMEOUT = "activity ScheduleToClose timeout"
HB_TIMEOUT = "activity Heartbeat timeout"
# Spec §1.5, special case: a StartToClose/Heartbeat timeout whose retry would
# not fit before the ScheduleToClose deadline.
NOT_ENOUGH_TIME = ("Not enough time to schedule next retry before activity "
                   "ScheduleToClose timeout, giving up retrying")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


async def describe_until(handle, predicate, what: str, timeout: float = 10.0, **include):
    """Describes the activity until predicate(description) holds."""
    deadline = time.monotonic() + timeout
    while True:
        desc = await handle.describe(**include)
        if predicate(desc):
            return desc
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {desc}")
        await asyncio.sleep(0.05)


def assert_timeout_failure(failure, timeout_type: TimeoutType, message: str, *,
                           spec_heartbeat_details=(), spec_cause=None) -> None:
    """The shape of a server-generated timeout failure.

    timeout_failure_info.last_heartbeat_details is the activity's last
    recorded heartbeat details (spec §1.5 table), given as
    spec_heartbeat_details. spec_cause, if given, checks the cause (the
    previous attempt's failure, spec §1.4 "Last failure" and §1.5 table);
    without it there must be no cause.
    """
    assert isinstance(failure, TimeoutError), f"got {failure!r}"
    assert failure.message == message
    assert failure.type == timeout_type
    assert failure.failure.HasField("timeout_failure_info")
    assert list(failure.last_heartbeat_details) == list(spec_heartbeat_details)
    if spec_cause is not None:
        assert failure.cause is not None, f"{failure!r} has no cause"
        spec_cause(failure.cause)
    else:
        assert failure.cause is None
        assert not failure.failure.HasField("cause")


def is_retried_start_to_close_timeout(failure) -> None:
    """A start-to-close timeout that was retried: no cause chain (spec §1.4)
    and, as Server 1.32.0 records it, no heartbeat details."""
    assert_timeout_failure(failure, TimeoutType.START_TO_CLOSE, STC_TIMEOUT,
                           spec_heartbeat_details=())


def assert_retry_state(desc, spec_retry_state: int) -> None:
    """The outcome's retry state, from the retry-state table (§1.5, §1.4)."""
    expected = spec_retry_state
    assert desc.raw_outcome.retry_state == expected, (
        f"{RetryState.Name(desc.raw_outcome.retry_state)} != {RetryState.Name(expected)}")


async def assert_outcome_is_timeout(desc, timeout_type: TimeoutType, message: str, *,
                                    spec_retry_state: int, **failure) -> None:
    assert desc.raw_outcome is not None and desc.raw_outcome.HasField("failure")
    assert_timeout_failure(await desc.outcome_failure(), timeout_type, message, **failure)
    assert_retry_state(desc, spec_retry_state)


# 1. A worker dies mid-activity ----------------------------------------------

# Worker A, run as a separate process so that it can really die (SIGKILL):
# its activity heartbeats the number 1 and then hangs.
WORKER_A = r'''
import asyncio, sys
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

@activity.defn(name="resumable")
async def resumable() -> str:
    activity.heartbeat(1)
    await asyncio.Event().wait()
    return "unreachable"

async def main():
    client = await Client.connect(sys.argv[1], namespace="default")
    async with Worker(client, task_queue=sys.argv[2], activities=[resumable],
                      identity=sys.argv[3]):
        await asyncio.Event().wait()

asyncio.run(main())
'''


async def test_dead_worker_start_to_close_timeout_retries_on_another_worker(errand, client):
    task_queue = unique("tq")
    activity_id = unique("dead-worker")
    identity_a, identity_b = unique("worker-a"), unique("worker-b")
    start_to_close = timedelta(seconds=3)
    backoff = timedelta(seconds=0.5)

    worker_a = subprocess.Popen(
        [sys.executable, "-c", WORKER_A, errand.address, task_queue, identity_a],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        handle = await client.start_activity(
            "resumable", id=activity_id, task_queue=task_queue,
            start_to_close_timeout=start_to_close,
            retry_policy=RetryPolicy(initial_interval=backoff))

        def heartbeated(desc):
            if worker_a.poll() is not None:
                pytest.fail(f"worker A exited early:\n{worker_a.stderr.read()}")
            return desc.has_heartbeat_details()

        desc = await describe_until(handle, heartbeated, "worker A's heartbeat",
                                    timeout=15, include_heartbeat_details=True)
        assert desc.status == ActivityExecutionStatus.RUNNING
        assert desc.run_state == PendingActivityState.STARTED
        assert desc.attempt == 1
        assert desc.last_worker_identity == identity_a
        assert await desc.heartbeat_details() == [1]
    finally:
        worker_a.kill()  # SIGKILL: no completion, no more heartbeats
        worker_a.wait()

    # Nobody polls the queue now. Attempt 1 times out start-to-close and
    # attempt 2 waits in SCHEDULED.
    desc = await describe_until(
        handle, lambda d: d.attempt == 2, "attempt 2 to be scheduled", timeout=10,
        include_heartbeat_details=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.RUNNING
    assert desc.run_state == PendingActivityState.SCHEDULED
    # The timeout was retried, so it has no cause (spec §1.4) and no
    # heartbeat details (worker A's heartbeat stays on the activity).
    is_retried_start_to_close_timeout(await desc.last_failure())
    # Attempt 2 waits for its dispatch 0.5 s after the timeout; describe_until
    # sees it well within that, while the retry interval is reported (spec §4.1).
    assert desc.current_retry_interval == backoff
    assert desc.last_started_time is not None  # attempt 1's
    assert desc.last_attempt_complete_time is not None
    timed_out_after = desc.last_attempt_complete_time - desc.last_started_time
    assert start_to_close <= timed_out_after < timedelta(seconds=10), timed_out_after
    assert desc.next_attempt_schedule_time == desc.last_attempt_complete_time + backoff
    assert desc.last_worker_identity == identity_a
    # The heartbeat of attempt 1 is kept for the next attempt.
    assert await desc.heartbeat_details() == [1]
    assert desc.close_time is None
    retry_scheduled_for = desc.next_attempt_schedule_time

    seen = []

    @activity.defn(name="resumable")
    async def resumable() -> str:
        seen.append(activity.info())
        return "recovered"

    async with Worker(client, task_queue=task_queue, activities=[resumable],
                      identity=identity_b):
        assert await asyncio.wait_for(handle.result(), 15) == "recovered"

    info = seen[0]
    assert info.attempt == 2
    assert list(info.heartbeat_details) == [1]
    assert info.current_attempt_scheduled_time == retry_scheduled_for
    assert info.started_time >= retry_scheduled_for

    desc = await handle.describe(include_heartbeat_details=True, include_last_failure=True,
                                 include_outcome=True)
    assert desc.status == ActivityExecutionStatus.COMPLETED
    assert desc.attempt == 2
    assert desc.last_worker_identity == identity_b
    assert desc.last_started_time >= retry_scheduled_for
    assert await desc.result() == "recovered"
    # Success keeps the last failed attempt's failure and the heartbeat.
    is_retried_start_to_close_timeout(await desc.last_failure())
    assert await desc.heartbeat_details() == [1]
    assert desc.raw_outcome.retry_state == RetryState.RETRY_STATE_UNSPECIFIED
    # Worker A's one heartbeat (spec §1.4, §4.1: counted across attempts).
    assert desc.total_heartbeat_count == 1


# 2. Heartbeat timeout --------------------------------------------------------

async def test_heartbeat_timeout_on_last_attempt_times_out(client):
    task_queue = unique("tq")
    heartbeated = asyncio.Event()

    @activity.defn
    async def goes_quiet() -> str:
        activity.heartbeat(1)
        heartbeated.set()
        await asyncio.sleep(30)  # cancelled when the worker shuts down
        return "too late"

    async with Worker(client, task_queue=task_queue, activities=[goes_quiet]):
        handle = await client.start_activity(
            goes_quiet, id=unique("heartbeat"), task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=10),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(maximum_attempts=1))
        await asyncio.wait_for(heartbeated.wait(), 10)
        with pytest.raises(ActivityFailureError) as err:
            await asyncio.wait_for(handle.result(), 15)
    # The heartbeat details ride along (spec §1.5 table); attempt 1 had no
    # previous attempt, so there is no cause (spec §1.4 "Last failure").
    assert_timeout_failure(err.value.cause, TimeoutType.HEARTBEAT, HB_TIMEOUT,
                           spec_heartbeat_details=[1])

    desc = await handle.describe(include_outcome=True, include_last_failure=True,
                                 include_heartbeat_details=True)
    assert desc.status == ActivityExecutionStatus.TIMED_OUT
    assert desc.run_state is None
    assert desc.attempt == 1
    # Heartbeat timeout with attempts exhausted -> MAXIMUM_ATTEMPTS_REACHED
    # (spec §1.5 retry-state table).
    await assert_outcome_is_timeout(
        desc, TimeoutType.HEARTBEAT, HB_TIMEOUT,
        spec_retry_state=RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED,
        spec_heartbeat_details=[1])
    assert_timeout_failure(await desc.last_failure(), TimeoutType.HEARTBEAT, HB_TIMEOUT,
                           spec_heartbeat_details=[1])
    assert await desc.heartbeat_details() == [1]
    assert desc.total_heartbeat_count == 1  # spec §1.4, §4.1
    assert desc.last_heartbeat_time is not None
    assert desc.close_time is not None
    assert timedelta(seconds=1) <= desc.close_time - desc.last_heartbeat_time < timedelta(seconds=10)
    assert desc.last_attempt_complete_time is not None
    # No retry was scheduled.
    assert desc.current_retry_interval is None
    assert desc.next_attempt_schedule_time is None


async def test_start_to_close_timeout_on_last_attempt_times_out(client):
    """Attempt 1 times out and is retried; attempt 2, the last, times out too."""
    task_queue = unique("tq")
    attempts = []

    @activity.defn
    async def too_slow() -> str:
        info = activity.info()
        attempts.append((info.attempt, list(info.heartbeat_details)))
        activity.heartbeat(info.attempt)
        await asyncio.sleep(30)  # past start-to-close; cancelled at worker shutdown
        return "too late"

    async with Worker(client, task_queue=task_queue, activities=[too_slow]):
        handle = await client.start_activity(
            too_slow, id=unique("stc-last"), task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=0.2), maximum_attempts=2))
        with pytest.raises(ActivityFailureError) as err:
            await asyncio.wait_for(handle.result(), 15)
    assert attempts == [(1, []), (2, [1])]

    def is_final_timeout(failure) -> None:
        # A terminal start-to-close timeout carries the last heartbeat (2) and
        # has cause = the previous attempt's failure, attempt 1's retried
        # timeout (spec §1.4 "Last failure", §1.5 table).
        assert_timeout_failure(
            failure, TimeoutType.START_TO_CLOSE, STC_TIMEOUT, spec_heartbeat_details=[2],
            spec_cause=is_retried_start_to_close_timeout)

    is_final_timeout(err.value.cause)
    desc = await handle.describe(include_outcome=True, include_last_failure=True,
                                 include_heartbeat_details=True)
    assert desc.status == ActivityExecutionStatus.TIMED_OUT
    assert desc.attempt == 2
    # Start-to-close timeout with attempts exhausted ->
    # MAXIMUM_ATTEMPTS_REACHED (spec §1.5 retry-state table).
    assert_retry_state(desc, RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED)
    is_final_timeout(await desc.outcome_failure())
    is_final_timeout(await desc.last_failure())
    assert await desc.heartbeat_details() == [2]
    assert desc.total_heartbeat_count == 2  # spec §1.4, §4.1
    assert desc.current_retry_interval is None
    assert desc.next_attempt_schedule_time is None


# 3. Schedule-to-start timeout with no worker ---------------------------------

async def test_schedule_to_start_timeout_without_worker(client):
    handle = await client.start_activity(
        "nobody_runs_this", id=unique("s2s"), task_queue=unique("tq-nobody"),
        schedule_to_start_timeout=timedelta(seconds=1),
        schedule_to_close_timeout=timedelta(seconds=10))
    desc = await handle.describe()
    assert desc.status == ActivityExecutionStatus.RUNNING
    assert desc.run_state == PendingActivityState.SCHEDULED
    # start-to-close was not given: the server uses schedule-to-close.
    assert desc.start_to_close_timeout == timedelta(seconds=10)
    assert desc.expiration_time == desc.schedule_time + timedelta(seconds=10)

    with pytest.raises(ActivityFailureError) as err:
        await asyncio.wait_for(handle.result(), 15)
    # No heartbeat and no earlier attempt: no details and no cause in both modes.
    assert_timeout_failure(err.value.cause, TimeoutType.SCHEDULE_TO_START, S2S_TIMEOUT)

    desc = await handle.describe(include_outcome=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.TIMED_OUT
    assert desc.run_state is None
    assert desc.attempt == 1
    # S2S timeout -> TIMEOUT (spec §1.5 table).
    await assert_outcome_is_timeout(desc, TimeoutType.SCHEDULE_TO_START, S2S_TIMEOUT,
                                    spec_retry_state=RetryState.RETRY_STATE_TIMEOUT)
    # No attempt ever started, so no attempt failed.
    assert desc.last_started_time is None
    assert not desc.has_last_failure()
    assert desc.last_attempt_complete_time is None
    assert desc.current_retry_interval is None
    assert desc.next_attempt_schedule_time is None
    assert timedelta(seconds=1) <= desc.close_time - desc.schedule_time < timedelta(seconds=10)


# 4. Schedule-to-close ---------------------------------------------------------

async def test_schedule_to_close_timeout_while_retrying(client):
    """Schedule-to-close fires while attempt 2 is pending or running."""
    task_queue = unique("tq")
    attempts = []

    @activity.defn
    async def too_slow() -> str:
        attempts.append(activity.info().attempt)
        await asyncio.sleep(30)  # past start-to-close; cancelled at worker shutdown
        return "too late"

    async with Worker(client, task_queue=task_queue, activities=[too_slow]):
        # Attempt 1 times out start-to-close after 2s; the 0.1s retry still
        # fits before the 3s deadline, so attempt 2 is scheduled, and
        # schedule-to-close ends it before attempt 2 could time out.
        handle = await client.start_activity(
            too_slow, id=unique("s2c"), task_queue=task_queue,
            schedule_to_close_timeout=timedelta(seconds=3),
            start_to_close_timeout=timedelta(seconds=2),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=0.1)))
        with pytest.raises(ActivityFailureError) as err:
            await asyncio.wait_for(handle.result(), 15)
    # The ScheduleToClose timeout's cause is the last attempt failure,
    # attempt 1's start-to-close timeout (spec §1.5 table).
    assert_timeout_failure(err.value.cause, TimeoutType.SCHEDULE_TO_CLOSE, S2C_TIMEOUT,
                           spec_cause=is_retried_start_to_close_timeout)
    assert attempts[0] == 1

    desc = await handle.describe(include_outcome=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.TIMED_OUT
    assert desc.run_state is None
    assert desc.attempt == 2
    # schedule-to-start was not given: the server uses schedule-to-close.
    assert desc.schedule_to_start_timeout == timedelta(seconds=3)
    assert desc.retry_policy.maximum_interval == timedelta(seconds=10)  # 100 x initial
    # S2C timeout -> TIMEOUT (spec §1.5 table).
    await assert_outcome_is_timeout(desc, TimeoutType.SCHEDULE_TO_CLOSE, S2C_TIMEOUT,
                                    spec_retry_state=RetryState.RETRY_STATE_TIMEOUT,
                                    spec_cause=is_retried_start_to_close_timeout)
    # The last failure stays attempt 1's start-to-close timeout (spec §1.4: an
    # S2C timeout does not overwrite it).
    is_retried_start_to_close_timeout(await desc.last_failure())
    assert desc.expiration_time == desc.schedule_time + timedelta(seconds=3)
    assert desc.close_time >= desc.expiration_time
    assert desc.close_time - desc.schedule_time < timedelta(seconds=10)


async def test_retry_that_would_pass_schedule_to_close_fails_with_attempt_failure(client):
    """No retry fits before the deadline: the attempt's failure is the outcome."""
    task_queue = unique("tq")
    attempts = []

    @activity.defn
    async def always_fails() -> str:
        attempts.append(activity.info().attempt)
        raise ApplicationError("nope", type="Flaky")

    async with Worker(client, task_queue=task_queue, activities=[always_fails]):
        handle = await client.start_activity(
            always_fails, id=unique("s2c-giveup"), task_queue=task_queue,
            schedule_to_close_timeout=timedelta(seconds=3),
            start_to_close_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5)))
        with pytest.raises(ActivityFailureError) as err:
            await asyncio.wait_for(handle.result(), 15)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError), f"got {cause!r}"
    assert cause.message == "nope"
    assert cause.type == "Flaky"
    assert not cause.non_retryable
    assert attempts == [1]

    desc = await handle.describe(include_outcome=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.FAILED
    assert desc.attempt == 1
    # Retryable failure whose backoff passes the S2C deadline -> TIMEOUT
    # (spec §1.5 table, §1.4 "Enough time").
    assert_retry_state(desc, RetryState.RETRY_STATE_TIMEOUT)
    failure = await desc.outcome_failure()
    assert isinstance(failure, ApplicationError)
    assert (failure.message, failure.type) == ("nope", "Flaky")
    last = await desc.last_failure()
    assert isinstance(last, ApplicationError)
    assert (last.message, last.type) == ("nope", "Flaky")
    assert desc.current_retry_interval is None
    assert desc.next_attempt_schedule_time is None
    assert desc.close_time < desc.expiration_time


async def test_start_to_close_timeout_with_no_time_to_retry_times_out(client):
    """A start-to-close timeout whose retry would pass the deadline ends it."""
    task_queue = unique("tq")

    @activity.defn
    async def too_slow() -> str:
        await asyncio.sleep(30)  # cancelled at worker shutdown
        return "too late"

    async with Worker(client, task_queue=task_queue, activities=[too_slow]):
        handle = await client.start_activity(
            too_slow, id=unique("s2c-stc"), task_queue=task_queue,
            schedule_to_close_timeout=timedelta(seconds=3),
            start_to_close_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5)))
        with pytest.raises(ActivityFailureError) as err:
            await asyncio.wait_for(handle.result(), 15)

    def assert_outcome(failure) -> None:
        # Spec §1.5 special case: the retry would not fit before the S2C
        # deadline, so the outcome is a SCHEDULE_TO_CLOSE timeout failure,
        # without a cause (Server 1.32.0; last_failure has the start-to-close
        # timeout).
        assert_timeout_failure(failure, TimeoutType.SCHEDULE_TO_CLOSE, NOT_ENOUGH_TIME)

    assert_outcome(err.value.cause)

    desc = await handle.describe(include_outcome=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.TIMED_OUT
    assert desc.attempt == 1
    assert desc.raw_outcome is not None and desc.raw_outcome.HasField("failure")
    assert_outcome(await desc.outcome_failure())
    # Start-to-close timeout whose retry cannot fit -> TIMEOUT (§1.5 table).
    assert_retry_state(desc, RetryState.RETRY_STATE_TIMEOUT)
    # last_failure is the start-to-close timeout in both (spec §1.5 special
    # case); attempt 1 had no previous failure, so no cause (spec §1.4).
    assert_timeout_failure(await desc.last_failure(), TimeoutType.START_TO_CLOSE, STC_TIMEOUT)
    assert desc.current_retry_interval is None
    assert desc.next_attempt_schedule_time is None
    assert desc.close_time < desc.expiration_time
    assert timedelta(seconds=1) <= desc.close_time - desc.last_started_time < timedelta(seconds=10)


# 5. Retries with backoff, then success ----------------------------------------

async def test_retry_with_backoff_then_success(client):
    task_queue = unique("tq")
    starts = []  # (attempt, monotonic time)

    @activity.defn
    async def flaky() -> str:
        attempt = activity.info().attempt
        starts.append((attempt, time.monotonic()))
        if attempt < 3:
            raise ApplicationError(f"fail {attempt}", type="Flaky")
        return f"ok on attempt {attempt}"

    async with Worker(client, task_queue=task_queue, activities=[flaky]):
        handle = await client.start_activity(
            flaky, id=unique("backoff"), task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=0.2),
                                     backoff_coefficient=2))
        assert await asyncio.wait_for(handle.result(), 15) == "ok on attempt 3"

    assert [a for a, _ in starts] == [1, 2, 3]
    gaps = [later - earlier for (_, earlier), (_, later) in zip(starts, starts[1:])]
    assert 0.2 <= gaps[0] < 10, gaps
    assert 0.4 <= gaps[1] < 10, gaps

    desc = await handle.describe(include_outcome=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.COMPLETED
    assert desc.attempt == 3
    assert desc.retry_policy == RetryPolicy(
        initial_interval=timedelta(seconds=0.2), backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=20), maximum_attempts=0)
    assert await desc.result() == "ok on attempt 3"
    # The failure of attempt 2 is still the last failure.
    last = await desc.last_failure()
    assert isinstance(last, ApplicationError)
    assert (last.message, last.type) == ("fail 2", "Flaky")
    assert desc.last_attempt_complete_time is not None


# 6. Non-retryable error type ---------------------------------------------------

async def test_non_retryable_error_type_fails_after_one_attempt(client):
    task_queue = unique("tq")
    attempts = []

    @activity.defn
    async def fatal() -> str:
        attempts.append(activity.info().attempt)
        raise ApplicationError("fatal!", type="MyFatal")  # retryable in itself

    async with Worker(client, task_queue=task_queue, activities=[fatal]):
        handle = await client.start_activity(
            fatal, id=unique("fatal"), task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=0.2),
                                     non_retryable_error_types=["MyFatal"]))
        with pytest.raises(ActivityFailureError) as err:
            await asyncio.wait_for(handle.result(), 15)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError), f"got {cause!r}"
    assert cause.message == "fatal!"
    assert cause.type == "MyFatal"
    assert not cause.non_retryable  # the failure as the worker reported it
    assert attempts == [1]

    desc = await handle.describe(include_outcome=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.FAILED
    assert desc.attempt == 1
    assert desc.retry_policy.non_retryable_error_types == ["MyFatal"]
    # Non-retryable failure -> NON_RETRYABLE_FAILURE (spec §1.5 table).
    assert_retry_state(desc, RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE)
    failure = await desc.outcome_failure()
    assert isinstance(failure, ApplicationError)
    assert (failure.message, failure.type) == ("fatal!", "MyFatal")
    last = await desc.last_failure()
    assert isinstance(last, ApplicationError)
    assert (last.message, last.type) == ("fatal!", "MyFatal")
    assert desc.current_retry_interval is None
    assert desc.next_attempt_schedule_time is None


async def test_timeout_type_listed_as_non_retryable(client):
    """non_retryable_error_types lists "TemporalTimeout:StartToClose"."""
    task_queue = unique("tq")
    attempts = []

    @activity.defn
    async def too_slow() -> str:
        attempts.append(activity.info().attempt)
        await asyncio.sleep(30)  # past start-to-close; cancelled at worker shutdown
        return "too late"

    async with Worker(client, task_queue=task_queue, activities=[too_slow]):
        handle = await client.start_activity(
            too_slow, id=unique("stc-fatal"), task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=0.2),
                                     non_retryable_error_types=["TemporalTimeout:StartToClose"]))
        # A StartToClose timeout is not retryable when
        # "TemporalTimeout:StartToClose" is listed (spec §1.4 IsRetryableFailure).
        with pytest.raises(ActivityFailureError) as err:
            await asyncio.wait_for(handle.result(), 15)
    assert_timeout_failure(err.value.cause, TimeoutType.START_TO_CLOSE, STC_TIMEOUT)
    assert attempts == [1]

    desc = await handle.describe(include_outcome=True, include_last_failure=True)
    assert desc.status == ActivityExecutionStatus.TIMED_OUT
    assert desc.attempt == 1
    # Timeout type listed in non_retryable_error_types -> NON_RETRYABLE_FAILURE
    # (spec §1.5 retry-state table).
    await assert_outcome_is_timeout(desc, TimeoutType.START_TO_CLOSE, STC_TIMEOUT,
                                    spec_retry_state=RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE)
    assert_timeout_failure(await desc.last_failure(), TimeoutType.START_TO_CLOSE, STC_TIMEOUT)
    assert desc.current_retry_interval is None
    assert desc.next_attempt_schedule_time is None


# 7. Start delay -----------------------------------------------------------------

async def test_start_delay_holds_back_the_first_attempt(client):
    # Spec §1.2 Scheduled, §1.3, §1.10, §4.1: the first attempt is dispatched
    # at schedule_time + start_delay, which is the execution_time, the
    # next_attempt_schedule_time while waiting and the attempt's scheduled
    # time. Server 1.31.2 had no start_delay for standalone activities (it
    # dropped the field and dispatched at once), so this skips itself against
    # such an oracle; in normal mode it always runs.
    task_queue = unique("tq")
    delay = timedelta(seconds=2)
    started = []

    @activity.defn
    async def delayed() -> str:
        started.append((time.monotonic(), activity.info()))
        return "on time"

    before = time.monotonic()
    handle = await client.start_activity(
        delayed, id=unique("delay"), task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=5), start_delay=delay)
    desc = await handle.describe()
    if ORACLE_MODE and desc.start_delay is None:
        await handle.terminate(reason="cleanup")
        pytest.skip("the oracle server does not support start_delay for standalone activities")
    assert desc.status == ActivityExecutionStatus.RUNNING
    assert desc.run_state == PendingActivityState.SCHEDULED
    assert desc.attempt == 1
    assert desc.start_delay == delay
    assert desc.execution_time == desc.schedule_time + delay
    # Reported while the first dispatch is pending (spec §4.1).
    assert desc.next_attempt_schedule_time == desc.schedule_time + delay
    assert desc.last_started_time is None

    async with Worker(client, task_queue=task_queue, activities=[delayed]):
        assert await asyncio.wait_for(handle.result(), 15) == "on time"

    started_at, info = started[0]
    assert started_at - before >= 1.95, started_at - before
    assert info.attempt == 1
    assert info.scheduled_time == desc.schedule_time
    assert info.current_attempt_scheduled_time == desc.schedule_time + delay
    assert info.started_time >= desc.schedule_time + delay

    desc = await handle.describe()
    assert desc.status == ActivityExecutionStatus.COMPLETED
    assert desc.attempt == 1
    assert desc.last_started_time >= desc.schedule_time + delay
