"""One server under test, as seen by a scenario, plus request/worker helpers.

Scenarios drive both servers with raw WorkflowService RPCs (client side and
worker side), so every step is deterministic and every response can be
compared field by field. Identities and request IDs are fixed strings; IDs
and task queue names are the same on both servers (they share a nonce).
"""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import ActivityType, Payload, Payloads, RetryPolicy
from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.api.failure.v1 import ApplicationFailureInfo, Failure
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeActivityExecutionRequest,
    PollActivityExecutionRequest,
    PollActivityTaskQueueRequest,
    RecordActivityTaskHeartbeatRequest,
    RespondActivityTaskCanceledRequest,
    RespondActivityTaskCompletedRequest,
    RespondActivityTaskFailedRequest,
    StartActivityExecutionRequest,
)
from temporalio.service import RPCError, RPCStatusCode

from diffcore import rpc_error, rpc_ok

NS = "default"
CLIENT_IDENTITY = "diff-client"
WORKER_IDENTITY = "diff-worker"
ACTIVITY_TYPE = "DiffActivity"


class ScenarioAbort(Exception):
    """The scenario cannot go on against this target (e.g. no task arrived)."""


def dur(seconds: float) -> Duration:
    d = Duration()
    d.FromTimedelta(timedelta(seconds=seconds))
    return d


def payloads(*values: str) -> Payloads:
    import json
    return Payloads(payloads=[
        Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(v).encode()) for v in values])


def app_failure(message: str, type_: str = "MyError", non_retryable: bool = False) -> Failure:
    return Failure(message=message, source="DiffHarness", stack_trace="at diff_harness",
                   application_failure_info=ApplicationFailureInfo(
                       type=type_, non_retryable=non_retryable, details=payloads("detail")))


class Ids:
    def __init__(self, scenario: str, nonce: str):
        self.scenario = scenario
        self.nonce = nonce

    def aid(self, name: str = "a") -> str:
        return f"{self.scenario}-{name}-{self.nonce}"

    def tq(self, name: str = "a") -> str:
        return f"tq-{self.scenario}-{name}-{self.nonce}"


class Target:
    def __init__(self, name: str, client):
        self.name = name
        self.client = client
        self.svc = client.workflow_service
        self.obs: dict[str, object] = {}
        self.aliases: dict[str, str] = {}

    # -- recording -----------------------------------------------------------
    def alias(self, raw: str, label: str) -> None:
        if raw:
            self.aliases.setdefault(raw, f"<{label}>")

    def record(self, name: str, value) -> None:
        if name in self.obs:
            raise RuntimeError(f"observation {name!r} recorded twice")
        self.obs[name] = value

    async def call(self, rpc: str, req, timeout: float = 10.0):
        try:
            resp = await getattr(self.svc, rpc)(req, timeout=timedelta(seconds=timeout))
            return resp, {"rpc": rpc, **rpc_ok(resp)}
        except RPCError as e:
            return None, {"rpc": rpc, **rpc_error(e)}

    async def rec(self, name: str, rpc: str, req, timeout: float = 10.0):
        resp, o = await self.call(rpc, req, timeout)
        self.record(name, o)
        return resp

    async def rec_code(self, name: str, rpc: str, req, timeout: float = 10.0):
        """Like rec, but an error is recorded by its code only: for errors whose
        message is an implementation detail (Temporal's names its internal
        batcher workflow)."""
        resp, o = await self.call(rpc, req, timeout)
        if "error" in o:
            o = {"rpc": rpc, "error": {"code": o["error"]["code"]}}
        self.record(name, o)
        return resp

    # -- client side -----------------------------------------------------------
    def start_request(self, activity_id: str, task_queue: str, *, stc: float | None = 10,
                      s2c: float | None = None, s2s: float | None = None,
                      hb: float | None = None, retry: RetryPolicy | None = None,
                      request_id: str | None = None, **kw) -> StartActivityExecutionRequest:
        req = StartActivityExecutionRequest(
            namespace=NS, identity=CLIENT_IDENTITY,
            request_id=request_id if request_id is not None else f"start-{activity_id}",
            activity_id=activity_id, activity_type=ActivityType(name=ACTIVITY_TYPE),
            task_queue=TaskQueue(name=task_queue), input=payloads("World"), **kw)
        if stc is not None:
            req.start_to_close_timeout.CopyFrom(dur(stc))
        if s2c is not None:
            req.schedule_to_close_timeout.CopyFrom(dur(s2c))
        if s2s is not None:
            req.schedule_to_start_timeout.CopyFrom(dur(s2s))
        if hb is not None:
            req.heartbeat_timeout.CopyFrom(dur(hb))
        if retry is not None:
            req.retry_policy.CopyFrom(retry)
        return req

    async def start(self, name: str | None, req: StartActivityExecutionRequest,
                    label: str | None = None):
        """Starts (recording the response if name is given); aliases the run ID."""
        resp, o = await self.call("start_activity_execution", req)
        if resp is not None and label:
            self.alias(resp.run_id, label)
        if name:
            self.record(name, o)
        if resp is None and not name:
            raise ScenarioAbort(f"start {req.activity_id} failed: {o}")
        return resp

    def describe_request(self, activity_id: str, run_id: str = "", *, all_: bool = True,
                         **kw) -> DescribeActivityExecutionRequest:
        if all_:
            kw = {"include_input": True, "include_outcome": True,
                  "include_heartbeat_details": True, "include_last_failure": True, **kw}
        return DescribeActivityExecutionRequest(namespace=NS, activity_id=activity_id,
                                                run_id=run_id, **kw)

    async def describe(self, name: str, activity_id: str, run_id: str = "", **kw):
        resp, o = await self.call("describe_activity_execution",
                                  self.describe_request(activity_id, run_id, **kw))
        if resp is not None and resp.HasField("info"):
            o["derived"] = info_relations(resp.info)
        self.record(name, o)
        return resp

    async def wait_outcome(self, activity_id: str, run_id: str = "", deadline: float = 30.0):
        """PollActivityExecution until the outcome is there; returns the response."""
        end = time.monotonic() + deadline
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise ScenarioAbort(f"{activity_id} did not close within {deadline}s")
            resp, o = await self.call("poll_activity_execution", PollActivityExecutionRequest(
                namespace=NS, activity_id=activity_id, run_id=run_id), timeout=min(left, 30))
            if resp is not None and resp.HasField("outcome"):
                return resp, o
            if resp is None and o["error"]["code"] != "DEADLINE_EXCEEDED":
                raise ScenarioAbort(f"poll_activity_execution({activity_id}) failed: {o}")

    async def outcome(self, name: str, activity_id: str, run_id: str = "", deadline: float = 30.0):
        resp, o = await self.wait_outcome(activity_id, run_id, deadline)
        self.record(name, o)
        return resp

    # -- worker side -------------------------------------------------------------
    async def poll_task(self, task_queue: str, name: str | None = None, deadline: float = 20.0):
        """Polls the task queue until a task arrives; records it if name is given."""
        end = time.monotonic() + deadline
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise ScenarioAbort(f"no activity task on {task_queue} within {deadline}s")
            resp, o = await self.call("poll_activity_task_queue", PollActivityTaskQueueRequest(
                namespace=NS, task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
                identity=WORKER_IDENTITY), timeout=max(min(left, 20), 2))
            if resp is not None and resp.task_token:
                if name and resp.attempt == 1:  # later attempts: depends on timing
                    o["derived"] = relations(resp, {
                        "currentAttemptScheduledMinusScheduled":
                            ("current_attempt_scheduled_time", "scheduled_time")})
                if name:
                    self.record(name, o)
                return resp
            if resp is None and o["error"]["code"] != "DEADLINE_EXCEEDED":
                raise ScenarioAbort(f"poll_activity_task_queue({task_queue}) failed: {o}")

    async def heartbeat(self, name: str | None, token: bytes, *details: str):
        req = RecordActivityTaskHeartbeatRequest(namespace=NS, task_token=token,
                                                 identity=WORKER_IDENTITY)
        if details:
            req.details.CopyFrom(payloads(*details))
        resp, o = await self.call("record_activity_task_heartbeat", req)
        if name:
            self.record(name, o)
        return resp

    async def complete(self, name: str | None, token: bytes, result: str = "Hello, World!"):
        resp, o = await self.call("respond_activity_task_completed", RespondActivityTaskCompletedRequest(
            namespace=NS, task_token=token, identity=WORKER_IDENTITY, result=payloads(result)))
        if name:
            self.record(name, o)
        elif resp is None:
            raise ScenarioAbort(f"complete failed: {o}")
        return resp

    async def fail(self, name: str | None, token: bytes, failure: Failure | None,
                   last_heartbeat_details: str | None = None):
        req = RespondActivityTaskFailedRequest(namespace=NS, task_token=token,
                                               identity=WORKER_IDENTITY)
        if failure is not None:
            req.failure.CopyFrom(failure)
        if last_heartbeat_details is not None:
            req.last_heartbeat_details.CopyFrom(payloads(last_heartbeat_details))
        resp, o = await self.call("respond_activity_task_failed", req)
        if name:
            self.record(name, o)
        elif resp is None:
            raise ScenarioAbort(f"fail failed: {o}")
        return resp

    async def canceled(self, name: str | None, token: bytes, details: str | None = None):
        req = RespondActivityTaskCanceledRequest(namespace=NS, task_token=token,
                                                 identity=WORKER_IDENTITY)
        if details is not None:
            req.details.CopyFrom(payloads(details))
        resp, o = await self.call("respond_activity_task_canceled", req)
        if name:
            self.record(name, o)
        return resp

    async def wait_batch_done(self, job_id: str, deadline: float = 30.0):
        """DescribeBatchOperation until the job left RUNNING; returns (resp, obs)."""
        from temporalio.api.enums.v1 import BatchOperationState
        from temporalio.api.workflowservice.v1 import DescribeBatchOperationRequest
        resp, o = await self.eventually(
            lambda: self.call("describe_batch_operation",
                              DescribeBatchOperationRequest(namespace=NS, job_id=job_id)),
            lambda r, o: r is not None and r.state not in (
                BatchOperationState.BATCH_OPERATION_STATE_RUNNING,
                BatchOperationState.BATCH_OPERATION_STATE_UNSPECIFIED),
            deadline=deadline)
        if resp is None or resp.state == BatchOperationState.BATCH_OPERATION_STATE_RUNNING:
            raise ScenarioAbort(f"batch {job_id} did not finish within {deadline}s: {o}")
        if "ok" in o:
            o["derived"] = relations(resp, {"closeNotBeforeStart": ("close_time", "start_time")})
            o["derived"] = {k: ("true" if not v.startswith("-") else "false")
                            for k, v in o["derived"].items()}
        return resp, o

    async def eventually(self, fetch, check, deadline: float = 15.0, interval: float = 0.25):
        """Calls fetch() (-> (resp, obs)) until check(resp, obs); returns the last (resp, obs)."""
        end = time.monotonic() + deadline
        while True:
            resp, o = await fetch()
            if check(resp, o) or time.monotonic() >= end:
                return resp, o
            await asyncio.sleep(interval)


def relations(msg, pairs: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Differences between two timestamps of msg, in seconds, for the pairs
    where both are set. Timestamps themselves are only compared for presence;
    these relations are deterministic (fixed offsets) and are compared exactly."""
    out = {}
    for label, (a, b) in pairs.items():
        if msg.HasField(a) and msg.HasField(b):
            delta = getattr(msg, a).ToDatetime() - getattr(msg, b).ToDatetime()
            out[label] = f"{delta.total_seconds():.3f}s"
    return out


def info_relations(info) -> dict[str, str]:
    out = relations(info, {
        "expirationMinusSchedule": ("expiration_time", "schedule_time"),
        "executionMinusSchedule": ("execution_time", "schedule_time"),
        "nextAttemptMinusLastAttemptComplete": ("next_attempt_schedule_time",
                                                "last_attempt_complete_time"),
    })
    if info.HasField("close_time") and info.HasField("last_started_time"):
        out["closeNotBeforeLastStarted"] = str(
            info.close_time.ToDatetime() >= info.last_started_time.ToDatetime())
    return out


def is_code(o: dict, code: str) -> bool:
    return "error" in o and o["error"]["code"] == code


__all__ = ["NS", "CLIENT_IDENTITY", "WORKER_IDENTITY", "ACTIVITY_TYPE", "ScenarioAbort", "dur",
           "payloads", "app_failure", "Ids", "Target", "is_code", "RetryPolicy", "RPCStatusCode"]
