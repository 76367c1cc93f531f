"""The differential scenarios. Each runs against both servers at once.

A scenario only *records* what it sees (t.record / t.rec / t.describe / ...);
it asserts nothing. Observation names are stable: they are the first segment
of every difference path and of the allow-list patterns.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from temporalio.api.common.v1 import Priority, RetryPolicy
from temporalio.api.enums.v1 import ActivityIdConflictPolicy, ActivityIdReusePolicy
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    CountActivityExecutionsRequest,
    DeleteActivityExecutionRequest,
    DescribeActivityExecutionRequest,
    ListActivityExecutionsRequest,
    PollActivityExecutionRequest,
    RequestCancelActivityExecutionRequest,
    TerminateActivityExecutionRequest,
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


async def run_both(fn: ScenarioFn, targets: list[Target], ids: Ids) -> None:
    await asyncio.gather(*(fn(t, ids) for t in targets))
