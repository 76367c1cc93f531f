"""Crash safety: SIGKILL at random moments under load loses nothing acknowledged.

The requirement: with the default sync mode, a SIGKILL at any moment loses no
acknowledged start, heartbeat, completion or cancellation, and never hands a
completed activity out again.

The scenario runs a few hundred activities through one errand process while
it is killed with SIGKILL (and restarted on the same port and data directory)
several times at random moments, one in each slot of the load window; most
kills wait for a state-changing call to be in flight and then strike within
about two milliseconds, so that some land between a call's arrival, its
commit and its reply:

- starters send StartActivityExecution with a fixed request ID per activity;
  a start counts as acknowledged once a call returns OK. A call lost in a
  crash is re-sent with the same request ID after the restart (which must
  return the same run if the lost call had been stored);
- hand-written workers (raw PollActivityTaskQueue, RecordActivityTaskHeartbeat,
  RespondActivityTaskCompleted) return f"done-{n}" for input n, heartbeat an
  increasing sequence number on most attempts, and record every task
  delivery. A completion lost in a crash is re-sent after the restart;
  NOT_FOUND then means the attempt is gone (completed or timed out);
- half of the attempts a crash interrupts are abandoned by their worker, and
  the answers of polls cut off by a crash never arrive: such attempts time
  out after the 3 s start-to-close timeout (the server rebuilds its timers
  from the store) and are retried 0.2 s later;
- a few activities on a task queue nobody polls are cancelled around the
  kill points; a cancel lost in a crash is re-sent with its request ID;
- a few activities on the work queue start with a 60 s start delay and go
  through the operator commands around the kill points: pause, reset
  (keeping them paused), an options update that drops the start delay, and
  unpause. Each call lost in a crash is re-sent with its request ID, which
  must then be answered OK (a repeat is a no-op). They must complete, and
  never be delivered before their unpause was sent.

After the last restart every acknowledged activity must reach exactly one
terminal outcome: COMPLETED with the right result (or CANCELED for the
cancelled ones), on the acknowledged run; the paused-and-reset ones are at
attempt 1 unless a crash cut an attempt short. Nothing may be delivered again
after its completion was acknowledged, no attempt is handed out twice, a
delivery carries at least the last acknowledged heartbeat of earlier
attempts, and re-sending a start with its request ID returns the same run.
An activity may run more than once (at-least-once) if the server died before
it acknowledged the completion.

CRASH_SEED, CRASH_ACTIVITIES and CRASH_CYCLES override the defaults. The seed
is printed; it fixes the kill slots, down times and the load's pacing, though
not the exact interleaving (aimed kills depend on timing).
"""
from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.common.v1 import ActivityType, Payloads, RetryPolicy
from temporalio.api.enums.v1 import ActivityExecutionStatus
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeActivityExecutionRequest,
    PauseActivityExecutionRequest,
    PollActivityTaskQueueRequest,
    RecordActivityTaskHeartbeatRequest,
    RequestCancelActivityExecutionRequest,
    ResetActivityExecutionRequest,
    RespondActivityTaskCompletedRequest,
    StartActivityExecutionRequest,
    UnpauseActivityExecutionRequest,
    UpdateActivityExecutionOptionsRequest,
)
from temporalio.client import Client
from temporalio.converter import PayloadConverter
from temporalio.service import RPCError, RPCStatusCode

from errand_harness import ErrandProcess

NAMESPACE = "default"
ACTIVITY_TYPE = "crash_work"
WORK_COUNT = int(os.environ.get("CRASH_ACTIVITIES", "300"))
CANCEL_COUNT = 20
OPS_COUNT = 20
OPS_START_DELAY = Duration(seconds=60)
CYCLES = int(os.environ.get("CRASH_CYCLES", "4"))
POLLERS = 12
START_WINDOW = 12.0  # seconds over which the starts are spread
FINAL_DEADLINE = 45.0  # seconds after the last restart for everything to close
START_TO_CLOSE = Duration(seconds=3)
RETRY = RetryPolicy(initial_interval=Duration(nanos=200_000_000),
                    backoff_coefficient=2.0, maximum_interval=Duration(seconds=1))
CONVERTER = PayloadConverter.default


def to_payloads(*values) -> Payloads:
    return Payloads(payloads=CONVERTER.to_payloads(list(values)))


def from_payloads(payloads: Payloads) -> list:
    return CONVERTER.from_payloads(list(payloads.payloads)) if payloads.payloads else []


class Lost(Exception):
    """The call failed because the server died under it (or had died)."""


class Link:
    """The current client, and whether the server is up.

    The crash controller clears `up` before each SIGKILL and sets it again
    once the restarted server has a fresh client, so a failure observed while
    `up` is clear, or from an earlier generation's client, is the crash's.
    """

    def __init__(self, errand: ErrandProcess):
        self.errand = errand
        self.client: Client | None = None
        self.generation = 0
        self.up = asyncio.Event()
        self.lost_errors: collections.Counter[str] = collections.Counter()
        # Calls that change state, in flight right now; `busy` is set while
        # there is at least one, so that some kills can aim at them.
        self.in_flight = 0
        self.busy = asyncio.Event()

    async def connect(self) -> None:
        self.client = await Client.connect(self.errand.address, namespace=NAMESPACE,
                                           identity="crash-test")
        self.generation += 1
        self.up.set()

    async def once(self, rpc: str, req, timeout: float = 5.0, mutating: bool = True):
        await self.up.wait()
        client, generation = self.client, self.generation
        if mutating:
            self.in_flight += 1
            self.busy.set()
        try:
            return await getattr(client.workflow_service, rpc)(
                req, retry=False, timeout=timedelta(seconds=timeout))
        except Exception as err:
            if not self.up.is_set() or self.generation != generation:
                name = err.status.name if isinstance(err, RPCError) else type(err).__name__
                self.lost_errors[f"{rpc}:{name}"] += 1
                raise Lost() from err
            raise
        finally:
            if mutating:
                self.in_flight -= 1
                if self.in_flight == 0:
                    self.busy.clear()


@dataclass
class Delivery:
    attempt: int
    at: float
    run_id: str
    heartbeat: int | None  # heartbeat details the task carried
    poller: int


@dataclass
class Spec:
    """One activity and everything the test saw happen to it."""
    n: int
    activity_id: str
    request_id: str
    task_queue: str
    cancel: bool
    run_id: str | None = None
    start_calls: list[str] = field(default_factory=list)  # outcome of each call
    acked_at: float | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    redeliveries: list[Delivery] = field(default_factory=list)
    heartbeats_sent: list[tuple[int, int]] = field(default_factory=list)  # (attempt, seq)
    heartbeats_acked: list[tuple[int, int]] = field(default_factory=list)
    next_seq: int = 1
    completion_calls: list[str] = field(default_factory=list)  # "attempt:outcome"
    completion_acks: list[tuple[int, float]] = field(default_factory=list)  # (attempt, at)
    cancel_request_id: str = ""
    cancel_calls: list[str] = field(default_factory=list)
    cancel_acked_at: float | None = None
    ops: bool = False  # goes through pause, reset, update and unpause
    op_calls: list[str] = field(default_factory=list)  # "rpc:outcome"
    unpause_sent_at: float | None = None

    @property
    def result(self) -> str:
        return f"done-{self.n}"

    def history(self, t0: float) -> str:
        rel = lambda t: f"{t - t0:.3f}" if t is not None else None  # noqa: E731
        return json.dumps({
            "activity_id": self.activity_id, "n": self.n, "run_id": self.run_id,
            "cancel": self.cancel, "start_calls": self.start_calls,
            "acked_at": rel(self.acked_at),
            "deliveries": [{**d.__dict__, "at": rel(d.at)} for d in self.deliveries],
            "heartbeats_sent": self.heartbeats_sent,
            "heartbeats_acked": self.heartbeats_acked,
            "completion_calls": self.completion_calls,
            "completion_acks": [(a, rel(t)) for a, t in self.completion_acks],
            "cancel_calls": self.cancel_calls, "cancel_acked_at": rel(self.cancel_acked_at),
            "ops": self.ops, "op_calls": self.op_calls,
            "unpause_sent_at": rel(self.unpause_sent_at),
        })


class Scenario:
    def __init__(self, errand: ErrandProcess, seed: int):
        self.errand = errand
        self.link = Link(errand)
        self.kill_rng = random.Random(seed)
        self.load_rng = random.Random(seed + 1)
        self.work_queue = f"crash-work-{uuid.uuid4()}"
        self.cancel_queue = f"crash-idle-{uuid.uuid4()}"  # nobody polls it
        self.specs: dict[str, Spec] = {}
        self.problems: list[str] = []
        self.kills: list[tuple[float, float]] = []  # (killed at, serving again at)
        self.t0 = time.monotonic()
        self.t0_utc = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        self.stop_workers = asyncio.Event()

    def now(self) -> float:
        return time.monotonic()

    def problem(self, spec: Spec | None, text: str) -> None:
        where = f"{spec.activity_id}: " if spec else ""
        self.problems.append(f"[t={self.now() - self.t0:.3f}] {where}{text}")

    # Load -------------------------------------------------------------------

    def make_specs(self) -> list[Spec]:
        specs = []
        for n in range(WORK_COUNT + CANCEL_COUNT + OPS_COUNT):
            cancel = WORK_COUNT <= n < WORK_COUNT + CANCEL_COUNT
            ops = n >= WORK_COUNT + CANCEL_COUNT
            kind = "cancel" if cancel else "ops" if ops else "work"
            spec = Spec(n=n, activity_id=f"crash-{kind}-{n}-{uuid.uuid4()}",
                        request_id=str(uuid.uuid4()),
                        task_queue=self.cancel_queue if cancel else self.work_queue,
                        cancel=cancel, cancel_request_id=str(uuid.uuid4()), ops=ops)
            self.specs[spec.activity_id] = spec
            specs.append(spec)
        self.load_rng.shuffle(specs)
        return specs

    def start_request(self, spec: Spec) -> StartActivityExecutionRequest:
        return StartActivityExecutionRequest(
            namespace=NAMESPACE, identity="crash-starter", request_id=spec.request_id,
            activity_id=spec.activity_id, activity_type=ActivityType(name=ACTIVITY_TYPE),
            task_queue=TaskQueue(name=spec.task_queue), input=to_payloads(spec.n),
            start_to_close_timeout=START_TO_CLOSE, retry_policy=RETRY,
            start_delay=OPS_START_DELAY if spec.ops else None)

    async def start(self, spec: Spec) -> None:
        """Starts until a call is answered; re-sends keep the request ID."""
        req = self.start_request(spec)
        while True:
            try:
                resp = await self.link.once("start_activity_execution", req)
            except Lost:
                spec.start_calls.append("lost")
                continue
            except RPCError as err:
                spec.start_calls.append(f"{err.status.name}: {err.message}")
                self.problem(spec, f"start answered {err.status.name}: {err.message}")
                return
            spec.start_calls.append(f"ok started={resp.started} run={resp.run_id}")
            if not resp.started and len(spec.start_calls) == 1:
                self.problem(spec, "the first start call returned started=false")
            spec.run_id = resp.run_id
            spec.acked_at = self.now()
            return

    async def cancel_later(self, spec: Spec, at: float) -> None:
        await self.start(spec)
        if spec.run_id is None:
            return
        await asyncio.sleep(max(0.0, at - (self.now() - self.t0)))
        req = RequestCancelActivityExecutionRequest(
            namespace=NAMESPACE, activity_id=spec.activity_id, run_id=spec.run_id,
            identity="crash-canceller", request_id=spec.cancel_request_id, reason="crash test")
        while True:
            try:
                await self.link.once("request_cancel_activity_execution", req)
            except Lost:
                spec.cancel_calls.append("lost")
                continue
            except RPCError as err:
                spec.cancel_calls.append(f"{err.status.name}: {err.message}")
                self.problem(spec, f"cancel answered {err.status.name}: {err.message}")
                return
            spec.cancel_calls.append("ok")
            spec.cancel_acked_at = self.now()
            return

    async def operate_later(self, spec: Spec, times: list[float]) -> None:
        """Pause, reset (kept paused), drop the start delay, unpause: each at
        its time, each re-sent with its request ID until answered."""
        await self.start(spec)
        if spec.run_id is None:
            return
        ids = dict(namespace=NAMESPACE, activity_id=spec.activity_id, run_id=spec.run_id,
                   identity="crash-operator")
        steps = [
            ("pause_activity_execution", PauseActivityExecutionRequest(
                **ids, reason="crash test", request_id=str(uuid.uuid4()))),
            ("reset_activity_execution", ResetActivityExecutionRequest(
                **ids, keep_paused=True, request_id=str(uuid.uuid4()))),
            ("update_activity_execution_options", UpdateActivityExecutionOptionsRequest(
                **ids, activity_options=ActivityOptions(start_delay=Duration()),
                update_mask=FieldMask(paths=["start_delay"]), request_id=str(uuid.uuid4()))),
            ("unpause_activity_execution", UnpauseActivityExecutionRequest(
                **ids, request_id=str(uuid.uuid4()))),
        ]
        for (rpc, req), at in zip(steps, times):
            await asyncio.sleep(max(0.0, at - (self.now() - self.t0)))
            if rpc == "unpause_activity_execution":
                spec.unpause_sent_at = self.now()
            while True:
                try:
                    await self.link.once(rpc, req)
                except Lost:
                    spec.op_calls.append(f"{rpc}:lost")
                    continue
                except RPCError as err:
                    spec.op_calls.append(f"{rpc}:{err.status.name}: {err.message}")
                    self.problem(spec, f"{rpc} answered {err.status.name}: {err.message}")
                    return
                spec.op_calls.append(f"{rpc}:ok")
                break

    async def run_starts(self) -> None:
        tasks = []
        specs = self.make_specs()
        # Bursts of 1 to 8 starts at once (4.5 on average), spread over
        # START_WINDOW seconds.
        gap = 2 * START_WINDOW / (len(specs) / 4.5)
        # The cancels go out in a few volleys, so that a kill can catch some.
        volleys = [self.load_rng.uniform(1.0, START_WINDOW + 2) for _ in range(5)]
        while specs:
            size = self.load_rng.randint(1, 8)
            burst, specs = specs[:size], specs[size:]
            for spec in burst:
                if spec.cancel:
                    at = self.load_rng.choice(volleys)
                    tasks.append(asyncio.create_task(self.cancel_later(spec, at)))
                elif spec.ops:
                    times = sorted(self.load_rng.choice(volleys) for _ in range(4))
                    tasks.append(asyncio.create_task(self.operate_later(spec, times)))
                else:
                    tasks.append(asyncio.create_task(self.start(spec)))
            await asyncio.sleep(self.load_rng.uniform(0, gap))
        await asyncio.gather(*tasks)

    # Workers ----------------------------------------------------------------

    async def poller(self, index: int) -> None:
        req = PollActivityTaskQueueRequest(
            namespace=NAMESPACE, task_queue=TaskQueue(name=self.work_queue),
            identity=f"crash-worker-{index}")
        while not self.stop_workers.is_set():
            try:
                task = await self.link.once("poll_activity_task_queue", req, timeout=5.0,
                                             mutating=False)
            except Lost:
                continue
            except RPCError as err:
                self.problem(None, f"poll answered {err.status.name}: {err.message}")
                await asyncio.sleep(0.5)
                continue
            if not task.task_token:
                continue
            await self.execute(task, index)

    async def execute(self, task, poller: int) -> None:
        spec = self.specs.get(task.activity_id)
        if spec is None:
            self.problem(None, f"task for unknown activity {task.activity_id!r}")
            return
        details = from_payloads(task.heartbeat_details)
        delivery = Delivery(attempt=task.attempt, at=self.now(), run_id=task.activity_run_id,
                            heartbeat=details[0] if details else None, poller=poller)
        spec.deliveries.append(delivery)
        if spec.completion_acks:
            spec.redeliveries.append(delivery)
        (n,) = from_payloads(task.input)
        rng = self.load_rng
        generation = self.link.generation
        # Half the workers give up a task that a crash interrupted (as if the
        # worker had died with the server): that attempt can only end by its
        # start-to-close timeout, after which the server must retry it.
        gives_up = rng.random() < 0.5

        async def give_up() -> bool:
            await self.link.up.wait()
            if gives_up and self.link.generation != generation:
                spec.completion_calls.append(f"{task.attempt}:abandoned")
                return True
            return False

        await asyncio.sleep(rng.uniform(0, 0.25))
        if await give_up():
            return
        if rng.random() < 0.7:
            seq = spec.next_seq
            spec.next_seq += 1
            spec.heartbeats_sent.append((task.attempt, seq))
            try:
                await self.link.once("record_activity_task_heartbeat", RecordActivityTaskHeartbeatRequest(
                    namespace=NAMESPACE, task_token=task.task_token, details=to_payloads(seq),
                    identity=f"crash-worker-{poller}"))
                spec.heartbeats_acked.append((task.attempt, seq))
            except Lost:
                pass  # not acknowledged; may or may not have been stored
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    self.problem(spec, f"heartbeat answered {err.status.name}: {err.message}")
                return  # the attempt is gone: a worker would give up too
            await asyncio.sleep(rng.uniform(0, 0.25))
            if await give_up():
                return
        req = RespondActivityTaskCompletedRequest(
            namespace=NAMESPACE, task_token=task.task_token, result=to_payloads(f"done-{n}"),
            identity=f"crash-worker-{poller}")
        while True:
            try:
                await self.link.once("respond_activity_task_completed", req)
            except Lost:
                spec.completion_calls.append(f"{task.attempt}:lost")
                continue
            except RPCError as err:
                spec.completion_calls.append(f"{task.attempt}:{err.status.name}")
                if err.status != RPCStatusCode.NOT_FOUND:
                    self.problem(spec, f"completion answered {err.status.name}: {err.message}")
                return
            spec.completion_calls.append(f"{task.attempt}:ok")
            spec.completion_acks.append((task.attempt, self.now()))
            return

    # Crashes ----------------------------------------------------------------

    async def crash_cycles(self) -> None:
        # One kill at a random moment in each of CYCLES equal slots of the
        # load window, so that every kill lands while work is in progress.
        slot = (START_WINDOW - 1.0) / CYCLES
        for cycle in range(CYCLES):
            kill_at = 1.0 + cycle * slot + self.kill_rng.uniform(0, slot)
            # At least 0.3 s of serving between a restart and the next kill.
            await asyncio.sleep(max(0.3, kill_at - (self.now() - self.t0)))
            down_for = self.kill_rng.uniform(0.05, 0.8)
            aim = self.kill_rng.random() < 0.75
            nudge = self.kill_rng.choice([0.0, self.kill_rng.uniform(0, 0.002)])
            aimed = ""
            if aim:
                # Most kills aim at a state-changing call in flight (a start,
                # heartbeat, completion or cancel somewhere between the
                # client, the commit and the reply); the rest land anywhere.
                try:
                    await asyncio.wait_for(self.link.busy.wait(), timeout=1.0)
                    await asyncio.sleep(nudge)
                    aimed = f" with {self.link.in_flight} call(s) in flight"
                except asyncio.TimeoutError:
                    pass
            self.link.up.clear()
            self.errand.kill()  # SIGKILL, then reap: a few milliseconds at most
            killed_at = self.now()
            await asyncio.sleep(down_for)
            await asyncio.to_thread(self.errand.start)
            await self.link.connect()
            self.kills.append((killed_at, self.now()))
            print(f"  SIGKILL at t={killed_at - self.t0:.3f}s{aimed}, serving again at "
                  f"t={self.now() - self.t0:.3f}s", flush=True)

    # Final checks -----------------------------------------------------------

    async def describe(self, spec: Spec):
        req = DescribeActivityExecutionRequest(
            namespace=NAMESPACE, activity_id=spec.activity_id, run_id=spec.run_id or "",
            include_outcome=True, include_heartbeat_details=True)
        while True:
            try:
                return await self.link.once("describe_activity_execution", req, mutating=False)
            except Lost:
                continue

    async def wait_all_closed(self, deadline: float) -> dict[str, object]:
        """Describes every acknowledged activity until all are closed."""
        final: dict[str, object] = {}
        pending = [s for s in self.specs.values() if s.run_id is not None]
        while pending and self.now() < deadline:
            answers = await asyncio.gather(*(self.describe(s) for s in pending),
                                           return_exceptions=True)
            still = []
            for spec, answer in zip(pending, answers):
                final[spec.activity_id] = answer
                if (not isinstance(answer, Exception)
                        and answer.info.status in (
                            ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_RUNNING,
                            ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_PAUSED)):
                    still.append(spec)
            pending = still
            if pending:
                await asyncio.sleep(0.5)
        return final

    def check(self, final: dict[str, object]) -> collections.Counter:
        stats = collections.Counter()
        for spec in self.specs.values():
            if spec.run_id is None:
                self.problem(spec, f"start never acknowledged: {spec.start_calls}")
                continue
            answer = final.get(spec.activity_id)
            if isinstance(answer, RPCError):
                what = "lost start" if answer.status == RPCStatusCode.NOT_FOUND else "describe failed"
                self.problem(spec, f"{what}: {answer.status.name}: {answer.message}")
                continue
            if isinstance(answer, Exception) or answer is None:
                self.problem(spec, f"describe failed: {answer!r}")
                continue
            info = answer.info
            status = ActivityExecutionStatus.Name(info.status)
            if info.run_id != spec.run_id:
                self.problem(spec, f"describe shows run {info.run_id}, the start acknowledged {spec.run_id}")
            if spec.cancel:
                if status != "ACTIVITY_EXECUTION_STATUS_CANCELED":
                    self.problem(spec, f"expected CANCELED, got {status}")
                if spec.deliveries:
                    self.problem(spec, "an activity on the unpolled queue was delivered")
                continue
            if status != "ACTIVITY_EXECUTION_STATUS_COMPLETED":
                self.problem(spec, f"expected COMPLETED, got {status} (attempt {info.attempt})")
                continue
            if spec.ops:
                early = [d for d in spec.deliveries
                         if spec.unpause_sent_at is None or d.at < spec.unpause_sent_at]
                if early:
                    self.problem(spec, f"delivered before its unpause was sent: {early}")
            result = from_payloads(answer.outcome.result)
            if result != [spec.result]:
                self.problem(spec, f"result {result!r}, expected {[spec.result]!r}")
            self.check_deliveries(spec, info)
            self.check_heartbeats(spec, info)
            stats["executions"] += len(spec.deliveries)
            stats["re-executions"] += max(0, len(spec.deliveries) - 1)
            stats["redeliveries"] += len(spec.redeliveries)
            # Attempts started whose task never reached a worker (the poll's
            # answer died with the server) and that timed out.
            stats["undelivered-attempts"] += max(
                0, info.attempt - len({d.attempt for d in spec.deliveries}))
            stats["heartbeat-resumes"] += sum(
                1 for d in spec.deliveries if d.attempt > 1 and d.heartbeat is not None)
        return stats

    def check_deliveries(self, spec: Spec, info) -> None:
        if len(spec.completion_acks) > 1:
            self.problem(spec, f"completion acknowledged more than once: {spec.completion_acks}")
        if spec.redeliveries:
            self.problem(spec, f"{len(spec.redeliveries)} task deliveries after the completion was "
                               f"acknowledged: {spec.redeliveries}")
        attempts = [d.attempt for d in spec.deliveries]
        duplicates = [a for a, c in collections.Counter(attempts).items() if c > 1]
        if duplicates:
            self.problem(spec, f"attempt(s) {duplicates} handed out more than once")
        if any(d.run_id != spec.run_id for d in spec.deliveries):
            self.problem(spec, "a task carried another run ID than the acknowledged start")
        if not attempts:
            self.problem(spec, "completed without ever being handed to a worker")
            return
        if max(attempts) != info.attempt:
            self.problem(spec, f"closed at attempt {info.attempt}, but attempt {max(attempts)} was "
                               f"handed out")
        if spec.completion_acks and spec.completion_acks[0][0] != info.attempt:
            self.problem(spec, f"attempt {spec.completion_acks[0][0]}'s completion was acknowledged "
                               f"but the activity closed at attempt {info.attempt}")

    def check_heartbeats(self, spec: Spec, info) -> None:
        sent = {seq for _, seq in spec.heartbeats_sent}
        for d in spec.deliveries:
            acked = [seq for attempt, seq in spec.heartbeats_acked if attempt < d.attempt]
            if acked and (d.heartbeat is None or d.heartbeat < max(acked)):
                self.problem(spec, f"attempt {d.attempt} carried heartbeat {d.heartbeat}, but "
                                   f"heartbeat {max(acked)} of an earlier attempt was acknowledged")
            if d.heartbeat is not None and d.heartbeat not in sent:
                self.problem(spec, f"attempt {d.attempt} carried heartbeat {d.heartbeat}, never sent")
        details = from_payloads(info.heartbeat_details)
        stored = details[0] if details else None
        acked = [seq for _, seq in spec.heartbeats_acked]
        if acked and (stored is None or stored < max(acked)):
            self.problem(spec, f"describe shows heartbeat {stored}, but {max(acked)} was acknowledged")

    async def check_request_id_replay(self) -> None:
        """Re-sending every start with its request ID returns the same run."""
        async def replay(spec: Spec):
            while True:
                try:
                    return await self.link.once("start_activity_execution", self.start_request(spec))
                except Lost:
                    continue

        acked = [s for s in self.specs.values() if s.run_id is not None]
        answers = await asyncio.gather(*(replay(s) for s in acked), return_exceptions=True)
        for spec, answer in zip(acked, answers):
            if isinstance(answer, Exception):
                self.problem(spec, f"start replay failed: {answer!r}")
            elif answer.started or answer.run_id != spec.run_id:
                self.problem(spec, f"start replay returned started={answer.started} "
                                   f"run={answer.run_id}, acknowledged run {spec.run_id}")


def server_log_excerpt(log: str, activity_ids: list[str], limit: int = 60) -> str:
    """Log lines naming the activities, and everything but routine poll lines."""
    lines = [line.rstrip() for line in log.splitlines()
             if any(i in line for i in activity_ids) or " poll on task queue " not in line]
    return "\n".join(lines[-limit:]) or "(empty)"


@pytest.mark.needs_errand_process
async def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path):
    seed = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"\ncrash test seed {seed} (CRASH_SEED={seed} reuses it)", flush=True)
    errand = ErrandProcess()
    errand.start()
    scenario = Scenario(errand, seed)
    workers: list[asyncio.Task] = []
    try:
        await scenario.link.connect()
        workers = [asyncio.create_task(scenario.poller(i)) for i in range(POLLERS)]
        starts = asyncio.create_task(scenario.run_starts())
        await scenario.crash_cycles()
        await asyncio.wait_for(starts, timeout=FINAL_DEADLINE)
        final = await scenario.wait_all_closed(scenario.now() + FINAL_DEADLINE)
        scenario.stop_workers.set()
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        stats = scenario.check(final)
        await scenario.check_request_id_replay()
    finally:
        for w in workers:
            w.cancel()
        errand.cleanup()
        log = errand.log
        (tmp_path / "errand.log").write_text(log)
        print(f"server log: {tmp_path / 'errand.log'}", flush=True)

    specs = scenario.specs.values()
    elapsed = time.monotonic() - scenario.t0
    lost_starts = sum(s.start_calls.count("lost") for s in specs)
    stored_unacked = sum(1 for s in specs if len(s.start_calls) > 1 and "started=False" in s.start_calls[-1])
    lost_completions = sum(1 for s in specs for c in s.completion_calls if c.endswith(":lost"))
    abandoned = sum(1 for s in specs for c in s.completion_calls if c.endswith(":abandoned"))
    stale_completions = sum(1 for s in specs for c in s.completion_calls if c.endswith(":NOT_FOUND"))
    hb_acked = sum(len(s.heartbeats_acked) for s in specs)
    cancels = sum(1 for s in specs if s.cancel_acked_at is not None)
    lost_cancels = sum(s.cancel_calls.count("lost") for s in specs)
    lost_ops = sum(1 for s in specs for c in s.op_calls if c.endswith(":lost"))
    recovered = re.findall(r"recovered (\d+) open activity executions", log)
    print(f"crash summary: seed={seed} cycles={len(scenario.kills)} "
          f"activities={WORK_COUNT}+{CANCEL_COUNT}+{OPS_COUNT} executions={stats['executions']} "
          f"re-executions={stats['re-executions']} redeliveries={stats['redeliveries']} "
          f"undelivered-attempts={stats['undelivered-attempts']} "
          f"heartbeat-resumes={stats['heartbeat-resumes']} "
          f"lost-start-calls={lost_starts} stored-but-unacked-starts={stored_unacked} "
          f"lost-completion-calls={lost_completions} stale-completions={stale_completions} "
          f"abandoned-attempts={abandoned} "
          f"heartbeats-acked={hb_acked} cancels-acked={cancels} lost-cancel-calls={lost_cancels} "
          f"lost-operator-calls={lost_ops} "
          f"recovered-open={'/'.join(recovered)} lost-errors={dict(scenario.link.lost_errors)} "
          f"elapsed={elapsed:.1f}s", flush=True)

    if scenario.problems:
        ids = []
        for p in scenario.problems:
            m = re.search(r"(crash-(?:work|cancel|ops)-\d+-[0-9a-f-]{36})", p)
            if m and m.group(1) not in ids:
                ids.append(m.group(1))
        histories = "\n".join(scenario.specs[i].history(scenario.t0) for i in ids[:5])
        kills = ", ".join(f"{k - scenario.t0:.3f}-{u - scenario.t0:.3f}" for k, u in scenario.kills)
        pytest.fail(
            f"{len(scenario.problems)} problem(s) (seed {seed}; kills at {kills}; "
            f"t=0 is {scenario.t0_utc}; server log in {tmp_path / 'errand.log'}):\n"
            + "\n".join(scenario.problems[:30]) + "\n\nhistories:\n" + histories
            + "\n\nserver log excerpt:\n" + server_log_excerpt(log, ids[:5]))
