"""The differential scenarios. Each runs against both servers at once.

A scenario only *records* what it sees (t.record / t.rec / t.describe / ...);
it asserts nothing. Observation names are stable: they are the first segment
of every difference path and of the allow-list patterns.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.batch.v1 import (
    BatchOperationCancelActivities,
    BatchOperationDeleteActivities,
    BatchOperationTerminateActivities,
)
from temporalio.api.common.v1 import Execution, Priority, RetryPolicy
from temporalio.api.enums.v1 import (
    ActivityIdConflictPolicy,
    ActivityIdReusePolicy,
    BatchOperationState,
    ExecutionType,
)
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    CountActivityExecutionsRequest,
    DeleteActivityExecutionRequest,
    DescribeActivityExecutionRequest,
    DescribeBatchOperationRequest,
    ListActivityExecutionsRequest,
    ListBatchOperationsRequest,
    PauseActivityExecutionRequest,
    PollActivityExecutionRequest,
    RequestCancelActivityExecutionRequest,
    ResetActivityExecutionRequest,
    StartBatchOperationRequest,
    StopBatchOperationRequest,
    TerminateActivityExecutionRequest,
    UnpauseActivityExecutionRequest,
    UpdateActivityExecutionOptionsRequest,
)

from target import (
    ACTIVITY_TYPE, CLIENT_IDENTITY, NS, Ids, Target, app_failure, dur, is_code, payloads,
)

ScenarioFn = Callable[[Target, Ids], Awaitable[None]]
SCENARIOS: dict[str, tuple[str, ScenarioFn]] = {}

GARBAGE_RUN_ID = "00000000-0000-4000-8000-000000000000"  # a valid UUID no run has


def scenario(name: str, about: str):
    def register(fn: ScenarioFn) -> ScenarioFn:
        SCENARIOS[name] = (about, fn)
        return fn
    return register


def retry(initial: float = 1, backoff: float | None = None, maximum: float | None = None,
          attempts: int | None = None, non_retryable: list[str] | None = None) -> RetryPolicy:
    p = RetryPolicy(initial_interval=dur(initial))
    if backoff is not None:
        p.backoff_coefficient = backoff
    if maximum is not None:
        p.maximum_interval.CopyFrom(dur(maximum))
    if attempts is not None:
        p.maximum_attempts = attempts
    if non_retryable:
        p.non_retryable_error_types.extend(non_retryable)
    return p


def terminate_req(activity_id: str, run_id: str = "", request_id: str = "term-1",
                  reason: str = "enough") -> TerminateActivityExecutionRequest:
    return TerminateActivityExecutionRequest(namespace=NS, activity_id=activity_id, run_id=run_id,
                                             identity=CLIENT_IDENTITY, request_id=request_id,
                                             reason=reason)


def cancel_req(activity_id: str, run_id: str = "", request_id: str = "cancel-1",
               reason: str = "stop please") -> RequestCancelActivityExecutionRequest:
    return RequestCancelActivityExecutionRequest(namespace=NS, activity_id=activity_id,
                                                 run_id=run_id, identity=CLIENT_IDENTITY,
                                                 request_id=request_id, reason=reason)


# ---------------------------------------------------------------------------
@scenario("complete", "start, poll, heartbeat, complete; describe at each step")
async def complete(t: Target, ids: Ids):
    aid, tq = ids.aid(), ids.tq()
    run = await t.start("start", t.start_request(aid, tq, stc=10, hb=5), label="run1")
    await t.describe("describe.scheduled", aid)
    task = await t.poll_task(tq, "poll.task")
    await t.describe("describe.started", aid)
    await t.heartbeat("heartbeat", task.task_token, "progress-1")
    await t.describe("describe.heartbeated", aid, run.run_id)
    await t.complete("respond.completed", task.task_token)
    await t.outcome("poll_execution", aid)
    await t.describe("describe.completed", aid)
    await t.describe("describe.completed.no_includes", aid, all_=False)
    await t.complete("respond.completed.again", task.task_token)
    await t.heartbeat("heartbeat.after_close", task.task_token, "late")


@scenario("retry_then_success", "retryable failure on attempt 1, success on attempt 2")
async def retry_then_success(t: Target, ids: Ids):
    aid, tq = ids.aid(), ids.tq()
    await t.start(None, t.start_request(aid, tq, stc=10, retry=retry(1, 2, 10, 3)), label="run1")
    task1 = await t.poll_task(tq)
    await t.heartbeat(None, task1.task_token, "hb-attempt-1")
    await t.fail("respond.failed.attempt1", task1.task_token, app_failure("attempt 1 broke"),
                 last_heartbeat_details="hb-at-failure")
    await t.describe("describe.backoff", aid)
    task2 = await t.poll_task(tq, "poll.task.attempt2")
    await t.describe("describe.attempt2_started", aid)
    await t.complete(None, task2.task_token)
    await t.outcome("poll_execution", aid)
    await t.describe("describe.completed", aid)
    # The attempt-1 token is stale now.
    await t.complete("respond.completed.stale_token", task1.task_token)


@scenario("non_retryable_failure", "non-retryable, listed-type, max-attempts and nil failures")
async def non_retryable_failure(t: Target, ids: Ids):
    # a: ApplicationFailure with non_retryable=true.
    aid, tq = ids.aid("nonretryable"), ids.tq("nonretryable")
    await t.start(None, t.start_request(aid, tq, retry=retry(1, attempts=5)), label="run_a")
    task = await t.poll_task(tq)
    await t.fail("a.respond.failed", task.task_token, app_failure("fatal", "Fatal", non_retryable=True))
    await t.outcome("a.poll_execution", aid)
    await t.describe("a.describe", aid)
    # b: failure type listed in non_retryable_error_types.
    aid, tq = ids.aid("listed"), ids.tq("listed")
    await t.start(None, t.start_request(aid, tq, retry=retry(1, attempts=5, non_retryable=["BadInput"])),
                  label="run_b")
    task = await t.poll_task(tq)
    await t.fail(None, task.task_token, app_failure("bad input", "BadInput"))
    await t.outcome("b.poll_execution", aid)
    await t.describe("b.describe", aid)
    # c: retryable failure with maximum_attempts=1.
    aid, tq = ids.aid("maxattempts"), ids.tq("maxattempts")
    await t.start(None, t.start_request(aid, tq, retry=retry(1, attempts=1)), label="run_c")
    task = await t.poll_task(tq)
    await t.fail(None, task.task_token, app_failure("flaky"))
    await t.outcome("c.poll_execution", aid)
    await t.describe("c.describe", aid)
    # d: RespondActivityTaskFailed without a failure, two attempts allowed.
    aid, tq = ids.aid("nilfailure"), ids.tq("nilfailure")
    await t.start(None, t.start_request(aid, tq, retry=retry(1, attempts=2)), label="run_d")
    task = await t.poll_task(tq)
    await t.fail("d.respond.failed", task.task_token, None)
    await t.describe("d.describe", aid)
    await t.call("terminate_activity_execution", terminate_req(aid))


@scenario("schedule_to_close_timeout", "S2C fires with no worker; S2C fires during retry backoff")
async def schedule_to_close_timeout(t: Target, ids: Ids):
    aid = ids.aid("noworker")
    await t.start(None, t.start_request(aid, ids.tq("noworker"), stc=None, s2c=2), label="run_a")
    await t.outcome("a.poll_execution", aid)
    await t.describe("a.describe", aid)
    # b: attempt 1 times out (StC 1s), retry due at ~2s is never polled, S2C at 3s.
    aid, tq = ids.aid("backoff"), ids.tq("backoff")
    await t.start(None, t.start_request(aid, tq, stc=1, s2c=3, retry=retry(1, 1)), label="run_b")
    await t.poll_task(tq)
    await t.outcome("b.poll_execution", aid)
    await t.describe("b.describe", aid)


@scenario("start_to_close_timeout", "StC timeout retried then exhausted; StC retry that cannot fit S2C")
async def start_to_close_timeout(t: Target, ids: Ids):
    aid, tq = ids.aid("exhausted"), ids.tq("exhausted")
    await t.start(None, t.start_request(aid, tq, stc=1, retry=retry(1, 1, attempts=2)), label="run_a")
    await t.poll_task(tq)
    await t.poll_task(tq, "a.poll.task.attempt2")
    await t.describe("a.describe.attempt2_started", aid)
    await t.outcome("a.poll_execution", aid)
    await t.describe("a.describe", aid)
    # b: StC 1s, retry interval 1.5s, S2C 2s: the retry cannot fit.
    aid, tq = ids.aid("nofit"), ids.tq("nofit")
    await t.start(None, t.start_request(aid, tq, stc=1, s2c=2, retry=retry(1.5, 1)), label="run_b")
    await t.poll_task(tq)
    await t.outcome("b.poll_execution", aid)
    await t.describe("b.describe", aid)


@scenario("heartbeat_timeout", "heartbeat once, then go silent past the heartbeat timeout")
async def heartbeat_timeout(t: Target, ids: Ids):
    aid, tq = ids.aid(), ids.tq()
    await t.start(None, t.start_request(aid, tq, stc=30, hb=1, retry=retry(1, attempts=1)), label="run1")
    task = await t.poll_task(tq)
    await t.heartbeat("heartbeat", task.task_token, "hb-details")
    await t.outcome("poll_execution", aid)
    await t.describe("describe", aid)
    await t.heartbeat("heartbeat.after_timeout", task.task_token, "late")


@scenario("schedule_to_start_timeout", "S2S fires with no worker")
async def schedule_to_start_timeout(t: Target, ids: Ids):
    aid = ids.aid()
    await t.start(None, t.start_request(aid, ids.tq(), stc=10, s2s=1), label="run1")
    await t.outcome("poll_execution", aid)
    await t.describe("describe", aid)


@scenario("cancel", "cancel a heartbeating activity, a scheduled one, and error cases")
async def cancel(t: Target, ids: Ids):
    # a: heartbeating worker acknowledges the cancel.
    aid, tq = ids.aid("heartbeating"), ids.tq("heartbeating")
    await t.start(None, t.start_request(aid, tq, stc=30, hb=10), label="run_a")
    task = await t.poll_task(tq)
    await t.heartbeat("a.heartbeat.before_cancel", task.task_token, "hb-1")
    await t.rec("a.request_cancel", "request_cancel_activity_execution", cancel_req(aid))
    await t.describe("a.describe.cancel_requested", aid)
    await t.rec("a.request_cancel.same_request_id", "request_cancel_activity_execution", cancel_req(aid))
    await t.rec("a.request_cancel.other_request_id", "request_cancel_activity_execution",
                cancel_req(aid, request_id="cancel-2"))
    await t.heartbeat("a.heartbeat.after_cancel", task.task_token, "hb-2")
    await t.canceled("a.respond.canceled", task.task_token, "cleaned up")
    await t.outcome("a.poll_execution", aid)
    await t.describe("a.describe", aid)
    await t.rec("a.request_cancel.after_close.same_request_id", "request_cancel_activity_execution",
                cancel_req(aid))
    # b: no attempt running: canceled at once.
    aid = ids.aid("scheduled")
    await t.start(None, t.start_request(aid, ids.tq("scheduled")), label="run_b")
    await t.rec("b.request_cancel", "request_cancel_activity_execution", cancel_req(aid, reason="not needed"))
    await t.outcome("b.poll_execution", aid)
    await t.describe("b.describe", aid)
    # c: RespondActivityTaskCanceled without a cancel request.
    aid, tq = ids.aid("unrequested"), ids.tq("unrequested")
    await t.start(None, t.start_request(aid, tq), label="run_c")
    task = await t.poll_task(tq)
    await t.canceled("c.respond.canceled", task.task_token, "unasked")
    await t.describe("c.describe", aid)
    await t.call("terminate_activity_execution", terminate_req(aid))
    # d: the worker fails after a cancel request: no retry.
    aid, tq = ids.aid("failafter"), ids.tq("failafter")
    await t.start(None, t.start_request(aid, tq, retry=retry(1, attempts=5)), label="run_d")
    task = await t.poll_task(tq)
    await t.rec("d.request_cancel", "request_cancel_activity_execution", cancel_req(aid))
    await t.fail("d.respond.failed", task.task_token, app_failure("gave up"))
    await t.outcome("d.poll_execution", aid)
    await t.describe("d.describe", aid)


@scenario("terminate", "terminate a started and a scheduled activity; repeat; stale worker calls")
async def terminate(t: Target, ids: Ids):
    aid, tq = ids.aid("started"), ids.tq("started")
    await t.start(None, t.start_request(aid, tq), label="run_a")
    task = await t.poll_task(tq)
    await t.rec("a.terminate", "terminate_activity_execution", terminate_req(aid))
    await t.outcome("a.poll_execution", aid)
    await t.describe("a.describe", aid)
    await t.rec("a.terminate.same_request_id", "terminate_activity_execution", terminate_req(aid))
    await t.rec("a.terminate.other_request_id", "terminate_activity_execution",
                terminate_req(aid, request_id="term-2"))
    await t.heartbeat("a.heartbeat.after_terminate", task.task_token, "late")
    await t.complete("a.respond.completed.after_terminate", task.task_token)
    await t.fail("a.respond.failed.after_terminate", task.task_token, app_failure("late"))
    aid = ids.aid("scheduled")
    await t.start(None, t.start_request(aid, ids.tq("scheduled")), label="run_b")
    await t.rec("b.terminate", "terminate_activity_execution",
                terminate_req(aid, request_id="", reason=""))
    await t.outcome("b.poll_execution", aid)
    await t.describe("b.describe", aid, all_=False)


@scenario("closed_run_ops", "terminate / cancel / describe with wrong run on a completed activity")
async def closed_run_ops(t: Target, ids: Ids):
    aid, tq = ids.aid(), ids.tq()
    run = await t.start(None, t.start_request(aid, tq), label="run1")
    task = await t.poll_task(tq)
    await t.complete(None, task.task_token)
    await t.wait_outcome(aid)
    await t.rec("terminate.closed", "terminate_activity_execution", terminate_req(aid))
    await t.rec("terminate.closed.with_run_id", "terminate_activity_execution",
                terminate_req(aid, run.run_id, request_id="term-2"))
    await t.rec("cancel.closed", "request_cancel_activity_execution", cancel_req(aid))
    await t.rec("cancel.closed.with_run_id", "request_cancel_activity_execution",
                cancel_req(aid, run.run_id, request_id="cancel-2"))
    await t.rec("terminate.wrong_run_id", "terminate_activity_execution",
                terminate_req(aid, GARBAGE_RUN_ID, request_id="term-3"))
    await t.rec("cancel.wrong_run_id", "request_cancel_activity_execution",
                cancel_req(aid, GARBAGE_RUN_ID, request_id="cancel-3"))
    await t.describe("describe.wrong_run_id", aid, GARBAGE_RUN_ID)
    await t.rec("poll_execution.wrong_run_id", "poll_activity_execution",
                PollActivityExecutionRequest(namespace=NS, activity_id=aid, run_id=GARBAGE_RUN_ID))
    await t.describe("describe.run_id", aid, run.run_id, all_=False)


@scenario("missing", "describe / poll / cancel / terminate / delete of an unknown activity ID")
async def missing(t: Target, ids: Ids):
    aid = ids.aid("nosuch")
    await t.describe("describe", aid)
    await t.describe("describe.with_run_id", aid, GARBAGE_RUN_ID)
    await t.rec("poll_execution", "poll_activity_execution",
                PollActivityExecutionRequest(namespace=NS, activity_id=aid))
    await t.rec("request_cancel", "request_cancel_activity_execution", cancel_req(aid))
    await t.rec("terminate", "terminate_activity_execution", terminate_req(aid))
    await t.rec("delete", "delete_activity_execution",
                DeleteActivityExecutionRequest(namespace=NS, activity_id=aid))


@scenario("id_conflict", "second start while the first run is running, per conflict policy")
async def id_conflict(t: Target, ids: Ids):
    aid, tq = ids.aid(), ids.tq()
    await t.start("start.first", t.start_request(aid, tq), label="run1")
    await t.start("start.default_policy", t.start_request(aid, tq, request_id="start-second"))
    await t.start("start.fail", t.start_request(
        aid, tq, request_id="start-third",
        id_conflict_policy=ActivityIdConflictPolicy.ACTIVITY_ID_CONFLICT_POLICY_FAIL))
    await t.start("start.same_request_id", t.start_request(aid, tq))
    await t.start("start.use_existing", t.start_request(
        aid, tq, request_id="start-fourth",
        id_conflict_policy=ActivityIdConflictPolicy.ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING))
    await t.start("start.reject_duplicate_while_running", t.start_request(
        aid, tq, request_id="start-fifth",
        id_reuse_policy=ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE))
    await t.start("start.unknown_conflict_policy", t.start_request(
        aid, tq, request_id="start-sixth", id_conflict_policy=3))
    await t.call("terminate_activity_execution", terminate_req(aid))


@scenario("id_reuse", "start after the run closed, per reuse policy")
async def id_reuse(t: Target, ids: Ids):
    R = ActivityIdReusePolicy
    # a: previous run completed.
    aid, tq = ids.aid("completed"), ids.tq("completed")
    await t.start(None, t.start_request(aid, tq), label="run_a1")
    task = await t.poll_task(tq)
    await t.complete(None, task.task_token)
    await t.wait_outcome(aid)
    await t.start("a.start.reject_duplicate", t.start_request(
        aid, tq, request_id="a-2", id_reuse_policy=R.ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE))
    await t.start("a.start.failed_only", t.start_request(
        aid, tq, request_id="a-3", id_reuse_policy=R.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY))
    await t.start("a.start.same_request_id", t.start_request(aid, tq))
    await t.start("a.start.unknown_reuse_policy", t.start_request(
        aid, tq, request_id="a-4", id_reuse_policy=4))
    await t.start("a.start.allow_duplicate", t.start_request(
        aid, tq, request_id="a-5", id_reuse_policy=R.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE),
        label="run_a2")
    await t.describe("a.describe.current", aid, all_=False)
    await t.call("terminate_activity_execution", terminate_req(aid))
    # b: previous run terminated: failed-only allows a new run.
    aid, tq = ids.aid("terminated"), ids.tq("terminated")
    await t.start(None, t.start_request(aid, tq), label="run_b1")
    await t.call("terminate_activity_execution", terminate_req(aid))
    await t.wait_outcome(aid)
    await t.start("b.start.failed_only", t.start_request(
        aid, tq, request_id="b-2", id_reuse_policy=R.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY),
        label="run_b2")
    await t.call("terminate_activity_execution", terminate_req(aid, request_id="term-b2"))
    # c: previous run closed, conflict policy USE_EXISTING does not apply.
    aid, tq = ids.aid("useexisting"), ids.tq("useexisting")
    await t.start(None, t.start_request(aid, tq), label="run_c1")
    await t.call("terminate_activity_execution", terminate_req(aid))
    await t.wait_outcome(aid)
    await t.start("c.start.use_existing", t.start_request(
        aid, tq, request_id="c-2",
        id_conflict_policy=ActivityIdConflictPolicy.ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING),
        label="run_c2")
    await t.call("terminate_activity_execution", terminate_req(aid, request_id="term-c2"))


@scenario("invalid_start", "StartActivityExecution validation errors")
async def invalid_start(t: Target, ids: Ids):
    aid, tq = ids.aid(), ids.tq()

    def req(**kw):
        r = t.start_request(aid, tq, request_id=f"bad-{len(t.obs)}")
        for k, v in kw.items():
            if v is None:
                r.ClearField(k)
            elif hasattr(v, "CopyFrom"):
                getattr(r, k).CopyFrom(v)
            else:
                setattr(r, k, v)
        return r

    cases = {
        "missing_activity_id": req(activity_id=""),
        "missing_activity_type": req(activity_type=None),
        "empty_activity_type_name": req(activity_type=type(t.start_request(aid, tq).activity_type)(name="")),
        "missing_task_queue": req(task_queue=None),
        "empty_task_queue_name": req(task_queue=TaskQueue(name="")),
        "reserved_task_queue": req(task_queue=TaskQueue(name="/_sys/foo")),
        "too_long_task_queue": req(task_queue=TaskQueue(name="q" * 1001)),
        "no_timeouts": req(start_to_close_timeout=None),
        "negative_s2c": req(schedule_to_close_timeout=dur(-1)),
        "negative_stc": req(start_to_close_timeout=dur(-1)),
        "negative_s2s": req(schedule_to_start_timeout=dur(-1)),
        "negative_heartbeat": req(heartbeat_timeout=dur(-1)),
        "too_long_activity_id": req(activity_id="x" * 1001),
        "too_long_activity_type": req(activity_type=type(t.start_request(aid, tq).activity_type)(name="T" * 1001)),
        "too_long_request_id": req(request_id="r" * 1001),
        "too_long_identity": req(identity="i" * 1001),
        "bad_namespace": req(namespace="no-such-namespace"),
        "empty_namespace": req(namespace=""),
        "retry_backoff_below_1": req(retry_policy=retry(1, 0.5)),
        "retry_negative_attempts": req(retry_policy=retry(1, attempts=-1)),
        "retry_max_below_initial": req(retry_policy=retry(5, maximum=1)),
        "retry_negative_initial": req(retry_policy=retry(-1)),
        "retry_bad_timeout_type": req(retry_policy=retry(1, non_retryable=["TemporalTimeout:Bogus"])),
        "negative_priority_key": req(priority=Priority(priority_key=-1)),
        "too_long_fairness_key": req(priority=Priority(fairness_key="f" * 65)),
        "negative_start_delay": req(start_delay=dur(-1)),
    }
    for name, r in cases.items():
        await t.start(name, r)


@scenario("invalid_other", "validation errors of Describe / Poll / Cancel / Terminate / Delete")
async def invalid_other(t: Target, ids: Ids):
    aid = ids.aid()
    await t.rec("describe.missing_id", "describe_activity_execution",
                DescribeActivityExecutionRequest(namespace=NS))
    await t.rec("describe.too_long_id", "describe_activity_execution",
                DescribeActivityExecutionRequest(namespace=NS, activity_id="x" * 1001))
    await t.rec("describe.bad_run_id", "describe_activity_execution",
                DescribeActivityExecutionRequest(namespace=NS, activity_id=aid, run_id="not-a-uuid"))
    await t.rec("describe.token_without_run_id", "describe_activity_execution",
                DescribeActivityExecutionRequest(namespace=NS, activity_id=aid, long_poll_token=b"xyz"))
    await t.rec("describe.bad_namespace", "describe_activity_execution",
                DescribeActivityExecutionRequest(namespace="no-such-namespace", activity_id=aid))
    await t.rec("poll_execution.missing_id", "poll_activity_execution",
                PollActivityExecutionRequest(namespace=NS))
    await t.rec("poll_execution.bad_run_id", "poll_activity_execution",
                PollActivityExecutionRequest(namespace=NS, activity_id=aid, run_id="not-a-uuid"))
    await t.rec("cancel.missing_id", "request_cancel_activity_execution", cancel_req(""))
    await t.rec("cancel.bad_run_id", "request_cancel_activity_execution", cancel_req(aid, "not-a-uuid"))
    await t.rec("cancel.too_long_request_id", "request_cancel_activity_execution",
                cancel_req(aid, request_id="r" * 1001))
    await t.rec("terminate.missing_id", "terminate_activity_execution", terminate_req(""))
    await t.rec("terminate.too_long_identity", "terminate_activity_execution",
                TerminateActivityExecutionRequest(namespace=NS, activity_id=aid, identity="i" * 1001))
    await t.rec("delete.missing_id", "delete_activity_execution",
                DeleteActivityExecutionRequest(namespace=NS))
    await t.rec("delete.bad_run_id", "delete_activity_execution",
                DeleteActivityExecutionRequest(namespace=NS, activity_id=aid, run_id="not-a-uuid"))


@scenario("describe_defaults", "describe of scheduled activities: derived timeouts, retry defaults")
async def describe_defaults(t: Target, ids: Ids):
    # a: only schedule_to_close.
    aid = ids.aid("s2conly")
    await t.start(None, t.start_request(aid, ids.tq("s2conly"), stc=None, s2c=30), label="run_a")
    await t.describe("a.describe", aid)
    # b: start_to_close only, heartbeat larger than it, partial retry policy, priority.
    aid = ids.aid("partial")
    await t.start(None, t.start_request(aid, ids.tq("partial"), stc=10, hb=20,
                                        retry=RetryPolicy(initial_interval=dur(2)),
                                        priority=Priority(priority_key=3)), label="run_b")
    await t.describe("b.describe", aid)
    # c: S2C smaller than StC and S2S.
    aid = ids.aid("capped")
    await t.start(None, t.start_request(aid, ids.tq("capped"), stc=20, s2c=10, s2s=30), label="run_c")
    await t.describe("c.describe", aid)
    # d: start_delay.
    aid = ids.aid("delayed")
    await t.start(None, t.start_request(aid, ids.tq("delayed"), stc=10, start_delay=dur(30)),
                  label="run_d")
    await t.describe("d.describe", aid)
    for name in ("s2conly", "partial", "capped", "delayed"):
        await t.call("terminate_activity_execution", terminate_req(ids.aid(name)))


@scenario("delete", "delete a running and a completed activity, then describe / delete again")
async def delete(t: Target, ids: Ids):
    for key in ("running", "completed"):
        aid, tq = ids.aid(key), ids.tq(key)
        await t.start(None, t.start_request(aid, tq), label=f"run_{key}")
        if key == "completed":
            task = await t.poll_task(tq)
            await t.complete(None, task.task_token)
            await t.wait_outcome(aid)
        await t.rec(f"{key}.delete", "delete_activity_execution",
                    DeleteActivityExecutionRequest(namespace=NS, activity_id=aid))
        # Deletion may be asynchronous: wait (bounded) for Describe to say NotFound.
        _, o = await t.eventually(
            lambda: t.call("describe_activity_execution", t.describe_request(aid, all_=False)),
            lambda r, o: is_code(o, "NOT_FOUND"))
        t.record(f"{key}.describe.after_delete", o)
        await t.rec(f"{key}.delete.again", "delete_activity_execution",
                    DeleteActivityExecutionRequest(namespace=NS, activity_id=aid))


@scenario("visibility", "list / count with filters, GROUP BY, and invalid queries")
async def visibility(t: Target, ids: Ids):
    tq = ids.tq("vis")
    # All on one task queue; the one left running is started last so that the
    # worker polls only pick up the activities they are meant to close.
    plan = [("completed", "TypeA", "complete"), ("failed", "TypeB", "fail"),
            ("terminated", "TypeB", "terminate"), ("running", "TypeA", None)]
    for key, type_name, end in plan:
        aid = ids.aid(key)
        req = t.start_request(aid, tq)
        req.activity_type.name = type_name
        await t.start(None, req, label=f"run_{key}")
        if end in ("complete", "fail"):
            task = await t.poll_task(tq)
            if end == "complete":
                await t.complete(None, task.task_token)
            else:
                await t.fail(None, task.task_token, app_failure("nope", non_retryable=True))
        elif end == "terminate":
            await t.call("terminate_activity_execution", terminate_req(aid))
        if end:
            await t.wait_outcome(aid)

    base = f"TaskQueue = '{tq}'"
    expected = {ids.aid("running"): "ACTIVITY_EXECUTION_STATUS_RUNNING",
                ids.aid("completed"): "ACTIVITY_EXECUTION_STATUS_COMPLETED",
                ids.aid("failed"): "ACTIVITY_EXECUTION_STATUS_FAILED",
                ids.aid("terminated"): "ACTIVITY_EXECUTION_STATUS_TERMINATED"}

    def list_call(query, page_size=0, ns=NS):
        return lambda: t.call("list_activity_executions", ListActivityExecutionsRequest(
            namespace=ns, query=query, page_size=page_size))

    from temporalio.api.enums.v1 import ActivityExecutionStatus

    def settled(resp, o):
        if resp is None:
            return False
        got = {e.activity_id: ActivityExecutionStatus.Name(e.status) for e in resp.executions}
        return got == expected

    resp, o = await t.eventually(list_call(base), settled)
    if "ok" in o:  # key the entries by activity name; record the server's order separately
        o["ok"]["executions"] = {e["activityId"].split("-")[1]: e
                                 for e in o["ok"].get("executions", [])}
    t.record("list.by_task_queue", o)
    t.record("list.by_task_queue.order",
             [e.activity_id.split("-")[1] for e in resp.executions] if resp else None)

    async def count(name, query, ns=NS):
        resp, o = await t.call("count_activity_executions",
                               CountActivityExecutionsRequest(namespace=ns, query=query))
        if "ok" in o and "groups" in o["ok"]:
            o["ok"]["groups"] = sorted(o["ok"]["groups"], key=lambda g: str(g.get("groupValues")))
        t.record(name, o)

    async def listing(name, query, ns=NS, page_size=0):
        resp, o = await list_call(query, page_size, ns)()
        if "ok" in o:
            o["ok"] = {"activityIds": sorted(e.activity_id.split("-")[1] for e in resp.executions),
                       "nextPageToken": "<present>" if resp.next_page_token else "<none>"}
        t.record(name, o)

    await count("count.by_task_queue", base)
    await count("count.group_by_status", f"{base} GROUP BY ExecutionStatus")
    await count("count.running", f"{base} AND ExecutionStatus = 'Running'")
    await listing("list.type_a", f"{base} AND ActivityType = 'TypeA'")
    await listing("list.closed", f"{base} AND ExecutionStatus != 'Running'")
    await listing("list.completed", f"{base} AND ExecutionStatus = 'Completed'")
    await listing("list.id_prefix", f"{base} AND ActivityId STARTS_WITH 'visibility-fail'")
    await listing("list.activity_id_eq", f"ActivityId = '{ids.aid('failed')}'")
    await listing("list.page_size_2", base, page_size=2)
    await listing("list.malformed", "TaskQueue = ")
    await listing("list.unknown_attribute", "NoSuchAttribute = 'x'")
    await listing("list.workflow_attribute", "WorkflowType = 'x'")
    await listing("list.bad_status_value", f"{base} AND ExecutionStatus = 'Bogus'")
    await listing("list.order_by", f"{base} ORDER BY StartTime DESC")
    await listing("list.bad_namespace", base, ns="no-such-namespace")
    await count("count.malformed", "TaskQueue = ")
    await count("count.unknown_attribute", "NoSuchAttribute = 'x'")
    await count("count.group_by_type", f"{base} GROUP BY ActivityType")
    await count("count.group_by_two", f"{base} GROUP BY ExecutionStatus, ActivityType")
    await count("count.bad_namespace", base, ns="no-such-namespace")
    await t.call("terminate_activity_execution", terminate_req(ids.aid("running")))


@scenario("by_id", "worker RPCs by activity ID, and bad task tokens")
async def by_id(t: Target, ids: Ids):
    from temporalio.api.failure.v1 import Failure, ServerFailureInfo, TimeoutFailureInfo
    from temporalio.api.enums.v1 import TimeoutType
    from temporalio.api.workflowservice.v1 import (
        RecordActivityTaskHeartbeatByIdRequest, RespondActivityTaskCanceledByIdRequest,
        RespondActivityTaskCompletedByIdRequest, RespondActivityTaskCompletedRequest,
        RespondActivityTaskFailedByIdRequest, RespondActivityTaskFailedRequest,
    )
    W = "diff-worker"

    def hb(aid, run_id="", *details):
        r = RecordActivityTaskHeartbeatByIdRequest(namespace=NS, activity_id=aid, run_id=run_id, identity=W)
        if details:
            r.details.CopyFrom(payloads(*details))
        return r

    def timeout_failure(tt):
        return Failure(message="timed out by id", timeout_failure_info=TimeoutFailureInfo(timeout_type=tt))

    # a: force completion by ID before any worker started it.
    aid = ids.aid("force")
    run = await t.start(None, t.start_request(aid, ids.tq("force")), label="run_a")
    await t.rec("a.complete_by_id", "respond_activity_task_completed_by_id",
                RespondActivityTaskCompletedByIdRequest(namespace=NS, activity_id=aid, run_id=run.run_id,
                                                        identity=W, result=payloads("forced")))
    await t.describe("a.describe", aid)
    await t.rec("a.complete_by_id.again", "respond_activity_task_completed_by_id",
                RespondActivityTaskCompletedByIdRequest(namespace=NS, activity_id=aid, identity=W))
    # b: heartbeat by ID, cancel, acknowledge by ID.
    aid, tq = ids.aid("cancel"), ids.tq("cancel")
    await t.start(None, t.start_request(aid, tq, hb=10), label="run_b")
    await t.rec("b.heartbeat_by_id.scheduled", "record_activity_task_heartbeat_by_id", hb(aid, "", "early"))
    await t.poll_task(tq)
    await t.rec("b.heartbeat_by_id", "record_activity_task_heartbeat_by_id", hb(aid, "", "hb-1"))
    await t.call("request_cancel_activity_execution", cancel_req(aid))
    await t.rec("b.heartbeat_by_id.cancel_requested", "record_activity_task_heartbeat_by_id", hb(aid, "", "hb-2"))
    await t.rec("b.canceled_by_id", "respond_activity_task_canceled_by_id",
                RespondActivityTaskCanceledByIdRequest(namespace=NS, activity_id=aid, identity=W,
                                                       details=payloads("bye")))
    await t.describe("b.describe", aid)
    # c: synthetic timeout failures by ID: StartToClose is retried, ScheduleToClose is final.
    aid, tq = ids.aid("timeouts"), ids.tq("timeouts")
    await t.start(None, t.start_request(aid, tq, retry=retry(1, 1, attempts=5)), label="run_c")
    await t.poll_task(tq)
    await t.rec("c.fail_by_id.start_to_close", "respond_activity_task_failed_by_id",
                RespondActivityTaskFailedByIdRequest(
                    namespace=NS, activity_id=aid, identity=W,
                    failure=timeout_failure(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)))
    await t.describe("c.describe.retrying", aid)
    await t.rec("c.fail_by_id.scheduled", "respond_activity_task_failed_by_id",
                RespondActivityTaskFailedByIdRequest(namespace=NS, activity_id=aid, identity=W,
                                                     failure=app_failure("no attempt")))
    await t.poll_task(tq)
    await t.rec("c.fail_by_id.schedule_to_close", "respond_activity_task_failed_by_id",
                RespondActivityTaskFailedByIdRequest(
                    namespace=NS, activity_id=aid, identity=W,
                    failure=timeout_failure(TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE)))
    await t.outcome("c.poll_execution", aid)
    await t.describe("c.describe", aid)
    # d: by-ID errors.
    await t.rec("d.heartbeat_by_id.missing_activity", "record_activity_task_heartbeat_by_id",
                hb(ids.aid("nosuch")))
    await t.rec("d.heartbeat_by_id.no_activity_id", "record_activity_task_heartbeat_by_id", hb(""))
    await t.rec("d.complete_by_id.bad_run_id", "respond_activity_task_completed_by_id",
                RespondActivityTaskCompletedByIdRequest(namespace=NS, activity_id=aid, run_id="not-a-uuid",
                                                        identity=W))
    await t.rec("d.complete_by_id.wrong_run_id", "respond_activity_task_completed_by_id",
                RespondActivityTaskCompletedByIdRequest(namespace=NS, activity_id=aid, run_id=GARBAGE_RUN_ID,
                                                        identity=W))
    # e: bad tokens and a non-application failure by token.
    await t.rec("e.complete.no_token", "respond_activity_task_completed",
                RespondActivityTaskCompletedRequest(namespace=NS, identity=W))
    await t.rec("e.complete.garbage_token", "respond_activity_task_completed",
                RespondActivityTaskCompletedRequest(namespace=NS, identity=W, task_token=b"\xff\x00garbage"))
    aid, tq = ids.aid("servfail"), ids.tq("servfail")
    await t.start(None, t.start_request(aid, tq), label="run_e")
    task = await t.poll_task(tq)
    await t.rec("e.fail.server_failure_by_token", "respond_activity_task_failed",
                RespondActivityTaskFailedRequest(
                    namespace=NS, identity=W, task_token=task.task_token,
                    failure=Failure(message="srv", server_failure_info=ServerFailureInfo())))
    await t.rec("e.fail.other_namespace", "respond_activity_task_failed",
                RespondActivityTaskFailedRequest(namespace="no-such-namespace", identity=W,
                                                 task_token=task.task_token, failure=app_failure("x")))
    await t.describe("e.describe", aid, all_=False)
    await t.call("terminate_activity_execution", terminate_req(aid))


@scenario("long_poll", "Describe long-poll and PollActivityExecution deadlines and tokens")
async def long_poll(t: Target, ids: Ids):
    from datetime import timedelta as td
    aid = ids.aid()
    run = await t.start(None, t.start_request(aid, ids.tq()), label="run1")
    other = await t.start(None, t.start_request(ids.aid("other"), ids.tq("other")), label="run_other")
    first = await t.svc.describe_activity_execution(t.describe_request(aid, all_=False))
    token = first.long_poll_token
    # No change within the caller's 3 s deadline: an empty, non-error response.
    await t.rec("describe.long_poll.no_change", "describe_activity_execution",
                t.describe_request(aid, run.run_id, all_=False, long_poll_token=token), timeout=3)
    await t.rec("poll_execution.running.deadline", "poll_activity_execution",
                PollActivityExecutionRequest(namespace=NS, activity_id=aid), timeout=3)
    # A change while waiting wakes the long poll.
    waiter = asyncio.ensure_future(t.call("describe_activity_execution", t.describe_request(
        aid, run.run_id, all_=False, long_poll_token=token), timeout=15))
    await asyncio.sleep(0.5)
    await t.call("terminate_activity_execution", terminate_req(aid))
    _, o = await waiter
    t.record("describe.long_poll.woken", o)
    other_desc = await t.svc.describe_activity_execution(t.describe_request(ids.aid("other"), all_=False))
    await t.rec("describe.long_poll.token_of_other_activity", "describe_activity_execution",
                t.describe_request(aid, run.run_id, all_=False, long_poll_token=other_desc.long_poll_token))
    await t.rec("describe.long_poll.garbage_token", "describe_activity_execution",
                t.describe_request(aid, run.run_id, all_=False, long_poll_token=b"garbage"))
    await t.call("terminate_activity_execution", terminate_req(ids.aid("other")))


# -- operator commands: pause, unpause, reset, update options ------------------
OP_IDENTITY = "diff-operator"


def pause_req(activity_id: str, request_id: str = "pause-1", reason: str = "hold on",
              run_id: str = "") -> PauseActivityExecutionRequest:
    return PauseActivityExecutionRequest(namespace=NS, activity_id=activity_id, run_id=run_id,
                                         identity=OP_IDENTITY, reason=reason, request_id=request_id)


def unpause_req(activity_id: str, request_id: str = "unpause-1", jitter: float | None = None,
                run_id: str = "") -> UnpauseActivityExecutionRequest:
    r = UnpauseActivityExecutionRequest(namespace=NS, activity_id=activity_id, run_id=run_id,
                                        identity=OP_IDENTITY, reason="go on", request_id=request_id)
    if jitter is not None:
        r.jitter.CopyFrom(dur(jitter))
    return r


def reset_req(activity_id: str, request_id: str = "reset-1", **kw) -> ResetActivityExecutionRequest:
    return ResetActivityExecutionRequest(namespace=NS, activity_id=activity_id, identity=OP_IDENTITY,
                                         request_id=request_id, **kw)


def update_req(activity_id: str, request_id: str, paths: list[str] | None,
               options: ActivityOptions | None = None,
               restore: bool = False) -> UpdateActivityExecutionOptionsRequest:
    r = UpdateActivityExecutionOptionsRequest(namespace=NS, activity_id=activity_id,
                                              identity=OP_IDENTITY, request_id=request_id,
                                              restore_original=restore)
    if options is not None:
        r.activity_options.CopyFrom(options)
    if paths is not None:
        r.update_mask.CopyFrom(FieldMask(paths=paths))
    return r


def full_start(t: Target, aid: str, tq: str, **kw):
    """A start request with every option set, so that updates and restores show."""
    return t.start_request(aid, tq, stc=10, s2c=120, s2s=60, hb=5,
                           retry=retry(1, 2, 10, 5),
                           priority=Priority(priority_key=2, fairness_key="fk", fairness_weight=1.5),
                           **kw)


@scenario("pause_scheduled", "pause a scheduled activity, dedup, second pause, unpause (plain, jitter), closed")
async def pause_scheduled(t: Target, ids: Ids):
    aid, tq = ids.aid(), ids.tq()
    await t.start(None, t.start_request(aid, tq, retry=retry(1, attempts=5)), label="run1")
    await t.rec("pause", "pause_activity_execution", pause_req(aid))
    await t.describe("describe.paused", aid)
    await t.rec("pause.same_request_id", "pause_activity_execution", pause_req(aid))
    await t.rec("pause.other_request_id", "pause_activity_execution", pause_req(aid, "pause-2"))
    await t.rec("unpause", "unpause_activity_execution", unpause_req(aid))
    await t.describe("describe.unpaused", aid)
    await t.rec("unpause.same_request_id", "unpause_activity_execution", unpause_req(aid))
    await t.rec("unpause.not_paused", "unpause_activity_execution", unpause_req(aid, "unpause-2"))
    # Pause dedup still works after an unpause.
    await t.rec("pause.first_request_id_after_unpause", "pause_activity_execution", pause_req(aid))
    await t.describe("describe.after_pause_dedup", aid, all_=False)
    await t.rec("pause.again", "pause_activity_execution", pause_req(aid, "pause-3"))
    await t.rec("unpause.jitter", "unpause_activity_execution", unpause_req(aid, "unpause-3", jitter=1))
    await t.describe("describe.unpaused_with_jitter", aid, all_=False)
    task = await t.poll_task(tq)
    t.record("poll.after_unpause.attempt", task.attempt)
    await t.complete(None, task.task_token)
    await t.outcome("poll_execution", aid)
    await t.rec("pause.closed", "pause_activity_execution", pause_req(aid, "pause-4"))
    await t.rec("unpause.closed", "unpause_activity_execution", unpause_req(aid, "unpause-4"))
    await t.rec("unpause.missing", "unpause_activity_execution", unpause_req(ids.aid("nosuch")))
    await t.rec("pause.missing", "pause_activity_execution", pause_req(ids.aid("nosuch")))
    await t.rec("pause.wrong_run_id", "pause_activity_execution",
                pause_req(aid, "pause-5", run_id=GARBAGE_RUN_ID))
    await t.rec("pause.missing_id", "pause_activity_execution", pause_req(""))
    await t.rec("unpause.negative_jitter", "unpause_activity_execution",
                unpause_req(aid, "unpause-5", jitter=-1))


@scenario("pause_started", "pause a started activity: heartbeat flag, fail into PAUSED, unpause; unpause while pause-requested")
async def pause_started(t: Target, ids: Ids):
    aid, tq = ids.aid("fail"), ids.tq("fail")
    await t.start(None, t.start_request(aid, tq, stc=30, hb=10, retry=retry(1, 2, 10, 5)), label="run_a")
    task = await t.poll_task(tq)
    await t.rec("a.pause", "pause_activity_execution", pause_req(aid))
    await t.describe("a.describe.pause_requested", aid)
    await t.rec("a.pause.other_request_id", "pause_activity_execution", pause_req(aid, "pause-2"))
    await t.heartbeat("a.heartbeat", task.task_token, "hb-1")
    await t.fail("a.respond.failed", task.task_token, app_failure("paused, giving up the attempt"))
    await t.describe("a.describe.paused_after_fail", aid)
    await t.rec("a.unpause", "unpause_activity_execution", unpause_req(aid))
    await t.describe("a.describe.unpaused", aid)
    task = await t.poll_task(tq)
    t.record("a.poll.after_unpause.attempt", task.attempt)
    await t.complete(None, task.task_token)
    await t.outcome("a.poll_execution", aid)
    await t.describe("a.describe.completed", aid, all_=False)
    # b: unpause while PAUSE_REQUESTED: back to STARTED, the worker goes on.
    aid, tq = ids.aid("resume"), ids.tq("resume")
    await t.start(None, t.start_request(aid, tq, stc=30, hb=10), label="run_b")
    task = await t.poll_task(tq)
    await t.rec("b.pause", "pause_activity_execution", pause_req(aid))
    await t.rec("b.unpause", "unpause_activity_execution", unpause_req(aid, jitter=5))
    await t.describe("b.describe.unpaused", aid)
    await t.heartbeat("b.heartbeat", task.task_token, "hb-1")
    await t.complete("b.respond.completed", task.task_token)
    await t.outcome("b.poll_execution", aid)
    # c: a non-retryable failure while PAUSE_REQUESTED closes the activity.
    aid, tq = ids.aid("fatal"), ids.tq("fatal")
    await t.start(None, t.start_request(aid, tq, retry=retry(1, attempts=5)), label="run_c")
    task = await t.poll_task(tq)
    await t.rec("c.pause", "pause_activity_execution", pause_req(aid))
    await t.fail("c.respond.failed", task.task_token, app_failure("fatal", "Fatal", non_retryable=True))
    await t.outcome("c.poll_execution", aid)
    await t.describe("c.describe", aid, all_=False)


@scenario("cancel_paused", "cancel a paused activity and a pause-requested one")
async def cancel_paused(t: Target, ids: Ids):
    aid = ids.aid("paused")
    await t.start(None, t.start_request(aid, ids.tq("paused")), label="run_a")
    await t.rec("a.pause", "pause_activity_execution", pause_req(aid))
    await t.rec("a.request_cancel", "request_cancel_activity_execution", cancel_req(aid))
    await t.outcome("a.poll_execution", aid)
    await t.describe("a.describe", aid)
    aid, tq = ids.aid("pauserequested"), ids.tq("pauserequested")
    await t.start(None, t.start_request(aid, tq, hb=10), label="run_b")
    task = await t.poll_task(tq)
    await t.rec("b.pause", "pause_activity_execution", pause_req(aid))
    await t.rec("b.request_cancel", "request_cancel_activity_execution", cancel_req(aid))
    await t.describe("b.describe.cancel_requested", aid)
    await t.rec("b.pause.cancel_requested", "pause_activity_execution", pause_req(aid, "pause-2"))
    await t.rec("b.unpause.cancel_requested", "unpause_activity_execution", unpause_req(aid))
    await t.rec("b.reset.cancel_requested", "reset_activity_execution", reset_req(aid))
    await t.rec("b.update.cancel_requested", "update_activity_execution_options",
                update_req(aid, "upd-1", ["start_to_close_timeout"],
                           ActivityOptions(start_to_close_timeout=dur(20))))
    await t.heartbeat("b.heartbeat", task.task_token, "hb")
    await t.canceled("b.respond.canceled", task.task_token, "bye")
    await t.outcome("b.poll_execution", aid)
    await t.describe("b.describe", aid, all_=False)


@scenario("reset", "reset in backoff, keep_paused, of a started activity, restore original options, errors")
async def reset(t: Target, ids: Ids):
    # a: scheduled in retry backoff: back to attempt 1 and dispatched now.
    aid, tq = ids.aid("backoff"), ids.tq("backoff")
    await t.start(None, t.start_request(aid, tq, retry=retry(60, attempts=5)), label="run_a")
    task = await t.poll_task(tq)
    await t.fail(None, task.task_token, app_failure("attempt 1 broke"))
    await t.describe("a.describe.backoff", aid)
    await t.rec("a.reset", "reset_activity_execution", reset_req(aid))
    await t.describe("a.describe.reset", aid, all_=False)
    await t.rec("a.reset.same_request_id", "reset_activity_execution", reset_req(aid))
    task = await t.poll_task(tq)
    t.record("a.poll.after_reset.attempt", task.attempt)
    await t.complete(None, task.task_token)
    await t.outcome("a.poll_execution", aid)
    await t.rec("a.reset.closed", "reset_activity_execution", reset_req(aid, "reset-2"))
    await t.rec("a.reset.closed.same_request_id", "reset_activity_execution", reset_req(aid))
    # b: paused in backoff, reset keep_paused: attempt 1, still paused; unpause dispatches.
    aid, tq = ids.aid("keeppaused"), ids.tq("keeppaused")
    await t.start(None, t.start_request(aid, tq, retry=retry(60, attempts=5)), label="run_b")
    task = await t.poll_task(tq)
    await t.heartbeat(None, task.task_token, "checkpoint")
    await t.fail(None, task.task_token, app_failure("attempt 1 broke"))
    await t.rec("b.pause", "pause_activity_execution", pause_req(aid))
    await t.rec("b.reset.keep_paused", "reset_activity_execution",
                reset_req(aid, keep_paused=True, reset_heartbeat=True))
    await t.describe("b.describe.reset_paused", aid)
    await t.rec("b.unpause", "unpause_activity_execution", unpause_req(aid))
    task = await t.poll_task(tq)
    t.record("b.poll.after_unpause.attempt", task.attempt)
    await t.describe("b.describe.started", aid)
    await t.call("terminate_activity_execution", terminate_req(aid))
    # c: started: deferred until the worker yields.
    aid, tq = ids.aid("started"), ids.tq("started")
    await t.start(None, t.start_request(aid, tq, stc=30, hb=10, retry=retry(1, 2, 10, 5)), label="run_c")
    task = await t.poll_task(tq)
    await t.heartbeat(None, task.task_token, "hb-1")
    await t.rec("c.reset", "reset_activity_execution", reset_req(aid))
    await t.describe("c.describe.reset_requested", aid)
    await t.rec("c.reset.other_request_id", "reset_activity_execution", reset_req(aid, "reset-2"))
    await t.rec("c.pause.reset_requested", "pause_activity_execution", pause_req(aid))
    await t.rec("c.update.reset_requested", "update_activity_execution_options",
                update_req(aid, "upd-1", ["start_to_close_timeout"],
                           ActivityOptions(start_to_close_timeout=dur(20))))
    await t.heartbeat("c.heartbeat", task.task_token, "hb-2")
    await t.fail("c.respond.failed", task.task_token, app_failure("reset, giving up the attempt"))
    await t.describe("c.describe.after_fail", aid)
    task = await t.poll_task(tq)
    t.record("c.poll.after_reset.attempt", task.attempt)
    await t.complete(None, task.task_token)
    await t.outcome("c.poll_execution", aid)
    # d: restore_original_options after an update.
    aid, tq = ids.aid("restore"), ids.tq("restore")
    await t.start(None, full_start(t, aid, tq), label="run_d")
    await t.rec("d.update", "update_activity_execution_options", update_req(
        aid, "upd-1", ["start_to_close_timeout", "task_queue.name", "retry_policy.maximum_attempts"],
        ActivityOptions(start_to_close_timeout=dur(20), task_queue=TaskQueue(name=ids.tq("moved")),
                        retry_policy=RetryPolicy(maximum_attempts=9))))
    await t.describe("d.describe.updated", aid, all_=False)
    await t.rec("d.reset.restore", "reset_activity_execution",
                reset_req(aid, restore_original_options=True))
    await t.describe("d.describe.restored", aid, all_=False)
    await t.call("terminate_activity_execution", terminate_req(aid))
    # f: pause-requested, reset keep_paused + restore: deferred; the failure lands in PAUSED
    # at attempt 1 with the original options.
    aid, tq = ids.aid("deferred"), ids.tq("deferred")
    await t.start(None, full_start(t, aid, tq), label="run_f")
    task = await t.poll_task(tq)
    await t.rec("f.update", "update_activity_execution_options", update_req(
        aid, "upd-1", ["start_to_close_timeout", "heartbeat_timeout"],
        ActivityOptions(start_to_close_timeout=dur(20), heartbeat_timeout=dur(8))))
    await t.rec("f.pause", "pause_activity_execution", pause_req(aid))
    await t.rec("f.reset", "reset_activity_execution",
                reset_req(aid, keep_paused=True, restore_original_options=True, reset_heartbeat=True))
    await t.describe("f.describe.reset_requested", aid, all_=False)
    await t.heartbeat("f.heartbeat", task.task_token, "hb")
    await t.fail("f.respond.failed", task.task_token, app_failure("non-retryable but reset",
                                                                  non_retryable=True))
    await t.describe("f.describe.after_fail", aid)
    # g: paused without keep_paused: reset at once, back to SCHEDULED.
    await t.rec("g.reset.paused", "reset_activity_execution", reset_req(aid, "reset-2"))
    await t.describe("g.describe", aid, all_=False)
    await t.call("terminate_activity_execution", terminate_req(aid))
    # e: errors.
    await t.rec("e.reset.bad_run_id", "reset_activity_execution",
                reset_req(aid, "reset-8", run_id="not-a-uuid"))
    await t.rec("e.reset.missing", "reset_activity_execution", reset_req(ids.aid("nosuch")))
    await t.rec("e.reset.missing_id", "reset_activity_execution", reset_req(""))
    await t.rec("e.reset.negative_jitter", "reset_activity_execution",
                reset_req(aid, "reset-9", jitter=dur(-1)))


@scenario("update_options", "UpdateActivityExecutionOptions: every mask path, dedup, mask errors, closed")
async def update_options(t: Target, ids: Ids):
    aid, tq = ids.aid(), ids.tq()
    await t.start(None, full_start(t, aid, tq), label="run1")
    O = ActivityOptions
    cases = [
        ("task_queue_name", ["task_queue.name"], O(task_queue=TaskQueue(name=ids.tq("moved")))),
        ("schedule_to_close", ["schedule_to_close_timeout"], O(schedule_to_close_timeout=dur(100))),
        ("schedule_to_start", ["schedule_to_start_timeout"], O(schedule_to_start_timeout=dur(50))),
        ("start_to_close", ["start_to_close_timeout"], O(start_to_close_timeout=dur(15))),
        ("heartbeat", ["heartbeat_timeout"], O(heartbeat_timeout=dur(3))),
        ("camel_case", ["startToCloseTimeout"], O(start_to_close_timeout=dur(12))),
        ("priority", ["priority"], O(priority=Priority(priority_key=4))),
        ("priority_key", ["priority.priority_key"], O(priority=Priority(priority_key=1))),
        ("fairness_key", ["priority.fairness_key"], O(priority=Priority(fairness_key="other"))),
        ("fairness_weight", ["priority.fairness_weight"], O(priority=Priority(fairness_weight=2.5))),
        ("retry_policy", ["retry_policy"], O(retry_policy=RetryPolicy(initial_interval=dur(2)))),
        ("retry_initial", ["retry_policy.initial_interval"], O(retry_policy=retry(3))),
        ("retry_backoff", ["retry_policy.backoff_coefficient"],
         O(retry_policy=RetryPolicy(backoff_coefficient=3))),
        ("retry_maximum", ["retry_policy.maximum_interval"],
         O(retry_policy=RetryPolicy(maximum_interval=dur(30)))),
        ("retry_attempts", ["retry_policy.maximum_attempts"],
         O(retry_policy=RetryPolicy(maximum_attempts=7))),
        ("two_paths", ["heartbeat_timeout", "schedule_to_start_timeout"],
         O(heartbeat_timeout=dur(4), schedule_to_start_timeout=dur(40))),
        ("clear_schedule_to_close", ["schedule_to_close_timeout"], O()),
        ("clear_start_to_close", ["start_to_close_timeout"], O()),
    ]
    for i, (name, paths, options) in enumerate(cases):
        await t.rec(f"update.{name}", "update_activity_execution_options",
                    update_req(aid, f"upd-{i}", paths, options))
    await t.describe("describe.updated", aid, all_=False)
    # Only the last successful request ID is remembered: "upd-16" (the last case failed).
    await t.rec("update.same_request_id", "update_activity_execution_options",
                update_req(aid, f"upd-{len(cases) - 2}", ["task_queue.name"],
                           O(task_queue=TaskQueue(name="ignored"))))
    await t.rec("update.older_request_id", "update_activity_execution_options",
                update_req(aid, "upd-0", ["start_to_close_timeout"], O(start_to_close_timeout=dur(11))))
    errors = {
        "empty_mask": (["x"][:0], O(start_to_close_timeout=dur(5))),
        "no_mask": (None, O(start_to_close_timeout=dur(5))),
        "no_options": (["start_to_close_timeout"], None),
        "unsupported_path": (["task_queue"], O(task_queue=TaskQueue(name="x"))),
        "star_path": (["*"], O()),
        "unknown_path": (["no_such_field"], O()),
        "negative_timeout": (["start_to_close_timeout"], O(start_to_close_timeout=dur(-1))),
        "max_below_initial": (["retry_policy.maximum_interval"],
                              O(retry_policy=RetryPolicy(maximum_interval=dur(1)))),
        "backoff_below_1": (["retry_policy.backoff_coefficient"],
                            O(retry_policy=RetryPolicy(backoff_coefficient=0.5))),
        "negative_attempts": (["retry_policy.maximum_attempts"],
                              O(retry_policy=RetryPolicy(maximum_attempts=-1))),
        "sub_path_without_parent": (["retry_policy.maximum_attempts"], O()),
        "empty_task_queue_name": (["task_queue.name"], O(task_queue=TaskQueue(name=""))),
        "negative_priority_key": (["priority.priority_key"], O(priority=Priority(priority_key=-1))),
    }
    for i, (name, (paths, options)) in enumerate(errors.items()):
        await t.rec(f"update.bad.{name}", "update_activity_execution_options",
                    update_req(aid, f"bad-{i}", paths, options))
    await t.rec("update.bad.mask_and_restore", "update_activity_execution_options",
                update_req(aid, "bad-restore", ["start_to_close_timeout"],
                           O(start_to_close_timeout=dur(5)), restore=True))
    await t.rec("update.restore_original", "update_activity_execution_options",
                update_req(aid, "restore-1", None, None, restore=True))
    await t.rec("update.missing", "update_activity_execution_options",
                update_req(ids.aid("nosuch"), "upd-x", ["start_to_close_timeout"],
                           O(start_to_close_timeout=dur(5))))
    await t.call("terminate_activity_execution", terminate_req(aid))
    await t.wait_outcome(aid)
    await t.rec("update.closed", "update_activity_execution_options",
                update_req(aid, "upd-closed", ["start_to_close_timeout"], O(start_to_close_timeout=dur(5))))
    await t.rec("update.closed.same_request_id", "update_activity_execution_options",
                update_req(aid, "restore-1", ["start_to_close_timeout"], O(start_to_close_timeout=dur(5))))


@scenario("update_start_delay", "start_delay updates: before the first dispatch, paused, after dispatch")
async def update_start_delay(t: Target, ids: Ids):
    O = ActivityOptions
    # a: first dispatch still in the future: longer, then zero (dispatch now).
    aid, tq = ids.aid("delayed"), ids.tq("delayed")
    await t.start(None, t.start_request(aid, tq, start_delay=dur(30)), label="run_a")
    await t.rec("a.update.longer", "update_activity_execution_options",
                update_req(aid, "upd-1", ["start_delay"], O(start_delay=dur(60))))
    await t.describe("a.describe.longer", aid, all_=False)
    await t.rec("a.update.negative", "update_activity_execution_options",
                update_req(aid, "upd-neg", ["start_delay"], O(start_delay=dur(-1))))
    await t.rec("a.update.zero", "update_activity_execution_options",
                update_req(aid, "upd-2", ["start_delay"], O()))
    task = await t.poll_task(tq)
    t.record("a.poll.after_zero.attempt", task.attempt)
    await t.rec("a.update.after_dispatch", "update_activity_execution_options",
                update_req(aid, "upd-3", ["start_delay"], O(start_delay=dur(10))))
    await t.complete(None, task.task_token)
    await t.wait_outcome(aid)
    # b: no delay, already dispatched (no worker yet): refused.
    aid = ids.aid("nodelay")
    await t.start(None, t.start_request(aid, ids.tq("nodelay")), label="run_b")
    await t.rec("b.update", "update_activity_execution_options",
                update_req(aid, "upd-1", ["start_delay"], O(start_delay=dur(10))))
    # c: paused and never started: allowed.
    await t.rec("b.pause", "pause_activity_execution", pause_req(aid))
    await t.rec("b.update.paused", "update_activity_execution_options",
                update_req(aid, "upd-2", ["start_delay"], O(start_delay=dur(10))))
    await t.describe("b.describe.paused", aid, all_=False)
    await t.call("terminate_activity_execution", terminate_req(aid))
    # d: paused after an attempt ran: refused.
    aid, tq = ids.aid("ran"), ids.tq("ran")
    await t.start(None, t.start_request(aid, tq, retry=retry(60, attempts=5)), label="run_d")
    task = await t.poll_task(tq)
    await t.fail(None, task.task_token, app_failure("broke"))
    await t.rec("d.pause", "pause_activity_execution", pause_req(aid))
    await t.rec("d.update.paused", "update_activity_execution_options",
                update_req(aid, "upd-1", ["start_delay"], O(start_delay=dur(10))))
    await t.call("terminate_activity_execution", terminate_req(aid))


# -- batch operations --------------------------------------------------------------
BATCH_IDENTITY = "diff-batch"


def batch_req(job_id: str, *, query: str = "", targets: list[str] | None = None,
              op: str = "terminate", reason: str = "batch reason",
              target_type: int = ExecutionType.EXECUTION_TYPE_ACTIVITY) -> StartBatchOperationRequest:
    r = StartBatchOperationRequest(namespace=NS, job_id=job_id, reason=reason, visibility_query=query)
    for aid in targets or []:
        r.target_executions.append(Execution(type=target_type, business_id=aid))
    if op == "terminate":
        r.terminate_activities_operation.CopyFrom(
            BatchOperationTerminateActivities(identity=BATCH_IDENTITY, reason="op reason"))
    elif op == "cancel":
        r.cancel_activities_operation.CopyFrom(
            BatchOperationCancelActivities(identity=BATCH_IDENTITY, reason="op reason"))
    elif op == "delete":
        r.delete_activities_operation.CopyFrom(BatchOperationDeleteActivities())
    return r


async def batch_start(t: Target, name: str, req: StartBatchOperationRequest) -> None:
    """Starts a batch, waiting (bounded) while the previous job still counts as
    running: Temporal counts running jobs through its visibility store, which
    can lag a moment behind the job's close."""
    _, o = await t.eventually(lambda: t.call("start_batch_operation", req),
                              lambda r, o: not is_code(o, "RESOURCE_EXHAUSTED"))
    t.record(name, o)


@scenario("batch_terminate", "batch terminate by query and by targets; cancel, delete; describe, list, stop")
async def batch_terminate(t: Target, ids: Ids):
    # a: by query over three running activities of one task queue.
    tq = ids.tq("byquery")
    for key in ("q1", "q2", "q3"):
        await t.start(None, t.start_request(ids.aid(key), tq), label=f"run_{key}")
    query = f"TaskQueue = '{tq}'"
    await t.eventually(
        lambda: t.call("count_activity_executions",
                       CountActivityExecutionsRequest(namespace=NS, query=query)),
        lambda r, o: r is not None and r.count == 3)
    job_a = f"batch-query-{ids.nonce}"
    await batch_start(t, "a.start_batch", batch_req(job_a, query=query))
    _, o = await t.wait_batch_done(job_a)
    t.record("a.describe_batch", o)
    await t.outcome("a.q1.poll_execution", ids.aid("q1"))
    await t.describe("a.q1.describe", ids.aid("q1"), all_=False)
    # b: by target executions: two running, one completed (a failure), one unknown (success).
    for key in ("t1", "t2", "done"):
        await t.start(None, t.start_request(ids.aid(key), ids.tq(key)), label=f"run_{key}")
    task = await t.poll_task(ids.tq("done"))
    await t.complete(None, task.task_token)
    await t.wait_outcome(ids.aid("done"))
    job_b = f"batch-list-{ids.nonce}"
    targets = [ids.aid("t1"), ids.aid("t2"), ids.aid("done"), ids.aid("nosuch")]
    await batch_start(t, "b.start_batch", batch_req(job_b, targets=targets))
    _, o = await t.wait_batch_done(job_b)
    t.record("b.describe_batch", o)
    await t.describe("b.t2.describe", ids.aid("t2"), all_=False)
    await t.rec_code("b.start_batch.duplicate_job_id", "start_batch_operation",
                     batch_req(job_b, targets=targets))
    # c: the jobs in the list (both closed; only this run's jobs are kept).
    mine = {job_a: "query", job_b: "list"}

    def listed(resp):
        return {mine[j.job_id]: j for j in resp.operation_info if j.job_id in mine} if resp else {}

    resp, o = await t.eventually(
        lambda: t.call("list_batch_operations", ListBatchOperationsRequest(namespace=NS)),
        lambda r, o: len(listed(r)) == 2 and all(
            j.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED for j in listed(r).values()))
    if "ok" in o:
        o["ok"]["operationInfo"] = {mine[e["jobId"]]: e for e in o["ok"].get("operationInfo", [])
                                    if e.get("jobId") in mine}
        o["ok"].pop("nextPageToken", None)
    t.record("c.list_batch", o)
    # e: batch cancel by target executions: a scheduled activity is canceled at
    # once, a started one gets a cancel request.
    for key in ("c1", "c2"):
        await t.start(None, t.start_request(ids.aid(key), ids.tq(key), hb=10), label=f"run_{key}")
    task = await t.poll_task(ids.tq("c2"))
    job_e = f"batch-cancel-{ids.nonce}"
    await batch_start(t, "e.start_batch", batch_req(job_e, targets=[ids.aid("c1"), ids.aid("c2")],
                                                    op="cancel"))
    _, o = await t.wait_batch_done(job_e)
    t.record("e.describe_batch", o)
    await t.outcome("e.c1.poll_execution", ids.aid("c1"))
    await t.heartbeat("e.c2.heartbeat", task.task_token, "hb")
    await t.describe("e.c2.describe", ids.aid("c2"), all_=False)
    await t.call("terminate_activity_execution", terminate_req(ids.aid("c2")))
    # f: batch delete by query: the three activities terminated in a.
    job_f = f"batch-delete-{ids.nonce}"
    await batch_start(t, "f.start_batch", batch_req(job_f, query=query, op="delete"))
    _, o = await t.wait_batch_done(job_f)
    t.record("f.describe_batch", o)
    _, o = await t.eventually(
        lambda: t.call("describe_activity_execution", t.describe_request(ids.aid("q1"), all_=False)),
        lambda r, o: is_code(o, "NOT_FOUND"))
    t.record("f.q1.describe", o)
    # d: stop a running job: many unknown targets keep it busy at 50 per second.
    job_d = f"batch-stop-{ids.nonce}"
    many = [ids.aid(f"ghost{i}") for i in range(300)]
    await batch_start(t, "d.start_batch", batch_req(job_d, targets=many))
    # One running job per namespace (Temporal's default limit).
    _, o = await t.eventually(
        lambda: t.call("start_batch_operation",
                       batch_req(f"batch-second-{ids.nonce}", targets=[ids.aid("ghost")])),
        lambda r, o: is_code(o, "RESOURCE_EXHAUSTED"), deadline=3)
    t.record("d.start_batch.second_while_running", o)
    await t.rec("d.stop_batch", "stop_batch_operation", StopBatchOperationRequest(
        namespace=NS, job_id=job_d, reason="stop it", identity=BATCH_IDENTITY))
    _, o = await t.wait_batch_done(job_d)
    t.record("d.describe_batch", o)
    await t.rec_code("d.stop_batch.again", "stop_batch_operation", StopBatchOperationRequest(
        namespace=NS, job_id=job_d, reason="stop it", identity=BATCH_IDENTITY))
    await t.rec_code("d.stop_batch.completed_job", "stop_batch_operation", StopBatchOperationRequest(
        namespace=NS, job_id=job_a, reason="stop it", identity=BATCH_IDENTITY))


@scenario("batch_invalid", "StartBatchOperation validation; Describe / Stop of an unknown job")
async def batch_invalid(t: Target, ids: Ids):
    aid = ids.aid()
    job = f"batch-invalid-{ids.nonce}"
    cases = {
        "missing_reason": batch_req(job, targets=[aid], reason=""),
        "missing_job_id": batch_req("", targets=[aid]),
        "missing_target": batch_req(job),
        "missing_operation": batch_req(job, targets=[aid], op=""),
        "query_and_targets": batch_req(job, query="ActivityId = 'x'", targets=[aid]),
        "workflow_target": batch_req(job, targets=[aid],
                                     target_type=ExecutionType.EXECUTION_TYPE_WORKFLOW),
        "unspecified_target": batch_req(job, targets=[aid],
                                        target_type=ExecutionType.EXECUTION_TYPE_UNSPECIFIED),
        "workflow_target_cancel": batch_req(job, targets=[aid], op="cancel",
                                            target_type=ExecutionType.EXECUTION_TYPE_WORKFLOW),
        "workflow_target_delete": batch_req(job, targets=[aid], op="delete",
                                            target_type=ExecutionType.EXECUTION_TYPE_WORKFLOW),
        "bad_query": batch_req(job, query="TaskQueue = "),
    }
    for name, req in cases.items():
        await t.rec(f"start_batch.{name}", "start_batch_operation", req)
    unknown = f"batch-nosuch-{ids.nonce}"
    await t.rec_code("describe_batch.unknown", "describe_batch_operation",
                     DescribeBatchOperationRequest(namespace=NS, job_id=unknown))
    await t.rec("describe_batch.missing_job_id", "describe_batch_operation",
                DescribeBatchOperationRequest(namespace=NS))
    await t.rec_code("stop_batch.unknown", "stop_batch_operation", StopBatchOperationRequest(
        namespace=NS, job_id=unknown, reason="stop", identity=BATCH_IDENTITY))
    await t.rec("stop_batch.missing_reason", "stop_batch_operation", StopBatchOperationRequest(
        namespace=NS, job_id=unknown, identity=BATCH_IDENTITY))
    await t.rec("stop_batch.missing_job_id", "stop_batch_operation", StopBatchOperationRequest(
        namespace=NS, reason="stop", identity=BATCH_IDENTITY))


async def run_both(fn: ScenarioFn, targets: list[Target], ids: Ids) -> None:
    await asyncio.gather(*(fn(t, ids) for t in targets))
