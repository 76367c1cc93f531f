"""`temporal activity ...` scenarios for standalone activities: start, execute,
result, describe, cancel, terminate, delete, complete, fail, the ID policies
and the errors for missing or closed activities.

Activities run on a Python SDK worker in the test's event loop (the CLI runs
as an asyncio subprocess, so the worker keeps serving while the CLI waits), or
are completed and failed from the CLI itself.

What is asserted was checked against a Temporal dev server (CLI 1.9.1,
Server 1.32.0) in oracle mode (COMPAT_ORACLE_ADDRESS; see conftest.py). The
messages are the real server's, as the CLI prints them.
"""
import asyncio
import re
from dataclasses import dataclass

import temporalio
from temporalio import activity
from temporalio.worker import Worker

from clitools import UUID_RE, assert_same, card, eventually, normalise, unique

WORKER_IDENTITY = "cli-compat-worker"
DEFAULT_RETRY_POLICY = {"initialInterval": "1s", "backoffCoefficient": 2, "maximumInterval": "100s"}


@dataclass
class ComposeGreetingInput:
    greeting: str
    name: str


# The activity of the Python SDK guide, which the docs' CLI examples start.
@activity.defn
async def compose_greeting(input: ComposeGreetingInput) -> str:
    return f"{input.greeting}, {input.name}!"


def worker(client, task_queue, *activities):
    return Worker(client, task_queue=task_queue, activities=list(activities),
                  identity=WORKER_IDENTITY)


def start_args(activity_id, task_queue, type_name="compose_greeting", *extra):
    return ("activity", "start", "--type", type_name, "--activity-id", activity_id,
            "--task-queue", task_queue, "--start-to-close-timeout", "10s", *extra)


async def start(cli, activity_id, task_queue, type_name="compose_greeting", *extra) -> str:
    """Starts an activity with the CLI; returns its run ID."""
    r = await cli(*start_args(activity_id, task_queue, type_name, *extra), "-o", "json")
    assert r.rc == 0, r
    return r.json()["runId"]


async def describe(cli, activity_id, *extra) -> dict:
    r = await cli("activity", "describe", "--activity-id", activity_id, *extra, "-o", "json")
    assert r.rc == 0, r
    return r.json()


async def wait_for_run_state(cli, activity_id, run_state, timeout=10.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        desc = await describe(cli, activity_id)
        if desc["info"].get("runState") == run_state:
            return desc
        assert asyncio.get_running_loop().time() < deadline, f"never reached {run_state}: {desc}"
        await asyncio.sleep(0.1)


def failed_result(activity_id, failure, run_id=""):
    return {"activityId": activity_id, "runId": run_id, "status": "FAILED", "failure": failure}


# greeting ------------------------------------------------------------------------

async def test_execute_greeting(cli, client):
    """The docs' `temporal activity execute` example, against a Python worker."""
    task_queue = unique("tq")
    activity_id = unique("greet")
    async with worker(client, task_queue, compose_greeting):
        r = await cli("activity", "execute", "--type", "compose_greeting",
                      "--activity-id", activity_id, "--task-queue", task_queue,
                      "--start-to-close-timeout", "10s",
                      "--input", '{"greeting": "Hello", "name": "World"}')
        assert (r.rc, r.err) == (0, ""), r
        lines = r.out.splitlines()
        assert lines[0] == "Running execution:", r
        assert "Results:" in lines, r
        fields = card(r.out)
        assert fields["ActivityId"] == activity_id
        assert UUID_RE.match(fields["RunId"]), r
        assert fields["Namespace"] == "default"
        assert fields["Status"] == "COMPLETED"
        assert fields["Result"] == '"Hello, World!"'

        activity_id2 = unique("greet")
        r = await cli("activity", "execute", "--type", "compose_greeting",
                      "-a", activity_id2, "-t", task_queue,
                      "--schedule-to-close-timeout", "20s",
                      "-i", '{"greeting": "Hi", "name": "CLI"}', "-o", "json")
        assert (r.rc, r.err) == (0, ""), r
        assert normalise(r.json()) == {"activityId": activity_id2, "runId": "<run-id>",
                                       "status": "COMPLETED", "result": "Hi, CLI!"}


# start-result-handle ---------------------------------------------------------

async def test_start_then_result_by_id(cli, client):
    task_queue = unique("tq")
    activity_id = unique("greet")
    r = await cli("activity", "start", "--type", "compose_greeting",
                  "--activity-id", activity_id, "--task-queue", task_queue,
                  "--start-to-close-timeout", "10s",
                  "--input", '{"greeting": "Hello", "name": "World"}')
    assert (r.rc, r.err) == (0, ""), r
    assert r.out.splitlines()[0] == "Running execution:", r
    fields = card(r.out)
    assert fields["ActivityId"] == activity_id
    assert fields["Namespace"] == "default"
    run_id = fields["RunId"]
    assert UUID_RE.match(run_id), r

    # `result` waits while no worker runs the activity...
    args = ("activity", "result", "--activity-id", activity_id)
    waiting = await cli.spawn(*args)
    await asyncio.sleep(1.0)
    assert waiting.returncode is None, "activity result returned before the activity ran"

    # ...and prints the result once a worker has run it.
    async with worker(client, task_queue, compose_greeting):
        r = await cli.finish(waiting, args)
    assert (r.rc, r.err) == (0, ""), r
    assert r.out.splitlines()[0] == "Results:", r
    fields = card(r.out)
    assert fields["Status"] == "COMPLETED"
    assert fields["Result"] == '"Hello, World!"'

    # JSON, by ID and by ID and run ID.
    r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 0, r
    assert r.json() == {"activityId": activity_id, "runId": "", "status": "COMPLETED",
                        "result": "Hello, World!"}
    r = await cli("activity", "result", "-a", activity_id, "--run-id", run_id, "-o", "json")
    assert r.rc == 0, r
    assert r.json() == {"activityId": activity_id, "runId": run_id, "status": "COMPLETED",
                        "result": "Hello, World!"}


# describe ----------------------------------------------------------------------

async def test_describe_scheduled_activity(cli):
    task_queue = unique("tq")
    activity_id = unique("desc")
    run_id = await start(cli, activity_id, task_queue, "compose_greeting",
                         "--schedule-to-close-timeout", "60s",
                         "--heartbeat-timeout", "5s",
                         "--retry-maximum-attempts", "3",
                         "--input", '{"greeting": "Hello", "name": "World"}')

    desc = await describe(cli, activity_id)
    assert desc["runId"] == run_id and desc["info"]["runId"] == run_id
    assert_same(normalise(desc), {
        "runId": "<run-id>",
        "info": {
            "activityId": activity_id,
            "runId": "<run-id>",
            "activityType": {"name": "compose_greeting"},
            "status": "ACTIVITY_EXECUTION_STATUS_RUNNING",
            "runState": "PENDING_ACTIVITY_STATE_SCHEDULED",
            "taskQueue": task_queue,
            "scheduleToCloseTimeout": "60s",
            # An unset schedule-to-start timeout takes the schedule-to-close one.
            "scheduleToStartTimeout": "60s",
            "startToCloseTimeout": "10s",
            "heartbeatTimeout": "5s",
            "retryPolicy": {**DEFAULT_RETRY_POLICY, "maximumAttempts": 3},
            "attempt": 1,
            "scheduleTime": "<time>",
            "expirationTime": "<time>",
            "stateTransitionCount": "1",
            "stateSizeBytes": "<bytes>",
            "searchAttributes": {},
            "header": {},
            "startDelay": "0s",
            "executionTime": "<time>",
        },
        "input": [{"greeting": "Hello", "name": "World"}],
        "longPollToken": "<token>",
    })

    r = await cli("activity", "describe", "--activity-id", activity_id)
    assert (r.rc, r.err) == (0, ""), r
    assert r.out.splitlines()[0] == "Activity Execution Info:", r
    fields = card(r.out)
    assert fields["ActivityId"] == activity_id
    assert fields["RunId"] == run_id
    assert fields["Type"] == "compose_greeting"
    assert fields["Namespace"] == "default"
    assert fields["Status"] == "Running"
    assert fields["RunState"] == "Scheduled"
    assert fields["TaskQueue"] == task_queue
    assert fields["StartToCloseTimeout"] == "10s"
    assert fields["ScheduleToCloseTimeout"] == "1m0s"
    assert fields["HeartbeatTimeout"] == "5s"
    assert fields["Attempt"] == "1"
    assert fields["StateTransitionCount"] == "1"
    for absent in ("CloseTime", "LastStartedTime", "LastWorkerIdentity", "ExecutionDuration"):
        assert absent not in fields, r

    # By run ID.
    r = await cli("activity", "describe", "-a", activity_id, "-r", run_id, "-o", "json")
    assert r.rc == 0, r
    assert r.json()["info"]["runId"] == run_id


async def test_describe_completed_activity(cli, client):
    task_queue = unique("tq")
    activity_id = unique("desc")
    async with worker(client, task_queue, compose_greeting):
        r = await cli("activity", "execute", *start_args(activity_id, task_queue)[2:],
                      "--input", '{"greeting": "Hello", "name": "World"}', "-o", "json")
        assert r.rc == 0, r

    desc = await describe(cli, activity_id)
    assert_same(normalise(desc), {
        "runId": "<run-id>",
        "info": {
            "activityId": activity_id,
            "runId": "<run-id>",
            "activityType": {"name": "compose_greeting"},
            "status": "ACTIVITY_EXECUTION_STATUS_COMPLETED",
            "taskQueue": task_queue,
            "scheduleToCloseTimeout": "0s",
            "scheduleToStartTimeout": "0s",
            "startToCloseTimeout": "10s",
            "heartbeatTimeout": "0s",
            "retryPolicy": DEFAULT_RETRY_POLICY,
            "lastStartedTime": "<time>",
            "attempt": 1,
            "executionDuration": "<duration>",
            "scheduleTime": "<time>",
            "closeTime": "<time>",
            "lastWorkerIdentity": WORKER_IDENTITY,
            "lastAttemptCompleteTime": "<time>",
            "stateTransitionCount": "3",
            "stateSizeBytes": "<bytes>",
            "searchAttributes": {},
            "header": {},
            "sdkName": "temporal-python",
            "sdkVersion": temporalio.__version__,
            "startDelay": "0s",
            "executionTime": "<time>",
        },
        "input": [{"greeting": "Hello", "name": "World"}],
        "outcome": {"result": ["Hello, World!"]},
        "longPollToken": "<token>",
    })

    r = await cli("activity", "describe", "--activity-id", activity_id)
    assert r.rc == 0, r
    fields = card(r.out)
    assert fields["Status"] == "Completed"
    assert fields["LastWorkerIdentity"] == WORKER_IDENTITY
    assert fields["Attempt"] == "1"
    assert fields["StateTransitionCount"] == "3"
    for present in ("LastStartedTime", "CloseTime", "ExecutionDuration", "LastAttemptCompleteTime"):
        assert present in fields, r
    assert "RunState" not in fields, r


async def test_describe_activity_without_input(cli):
    """An activity started without --input has no input payloads at all (not
    an empty list), while it runs and after it closed."""
    task_queue = unique("tq")
    activity_id = unique("desc")
    await start(cli, activity_id, task_queue)
    desc = await describe(cli, activity_id)
    assert "input" not in desc, desc
    r = await cli("activity", "complete", "-a", activity_id, "--result", '"done"')
    assert r.rc == 0, r
    desc = await describe(cli, activity_id)
    assert desc["outcome"] == {"result": ["done"]}
    assert "input" not in desc, desc


# id-conflict-policy / id-reuse-policy ------------------------------------------

ALREADY_STARTED = "Error: failed starting activity: activity execution already started\n"


async def test_id_conflict_policy(cli):
    task_queue = unique("tq")
    activity_id = unique("dup")
    run_id = await start(cli, activity_id, task_queue)

    # Default policy, and Fail: the second start is refused.
    for extra in ((), ("--id-conflict-policy", "Fail")):
        r = await cli(*start_args(activity_id, task_queue, "compose_greeting", *extra))
        assert (r.rc, r.out, r.err) == (1, "", ALREADY_STARTED), r
    r = await cli("activity", "execute", *start_args(activity_id, task_queue)[2:])
    assert (r.rc, r.out, r.err) == (1, "", ALREADY_STARTED), r

    # UseExisting hands back the running run.
    r = await cli(*start_args(activity_id, task_queue, "compose_greeting",
                              "--id-conflict-policy", "UseExisting"), "-o", "json")
    assert r.rc == 0, r
    assert r.json() == {"activityId": activity_id, "runId": run_id, "namespace": "default"}
    r = await cli(*start_args(activity_id, task_queue, "compose_greeting",
                              "--id-conflict-policy", "UseExisting"))
    assert r.rc == 0, r
    assert card(r.out)["RunId"] == run_id

    # Still one run.
    desc = await describe(cli, activity_id)
    assert desc["info"]["runId"] == run_id
    assert desc["info"]["stateTransitionCount"] == "1"

    # The CLI itself rejects an unknown policy name.
    r = await cli(*start_args(activity_id, task_queue, "compose_greeting",
                              "--id-conflict-policy", "Bogus"))
    assert r.rc == 1, r
    assert r.err.startswith('Error: invalid argument "Bogus" for "--id-conflict-policy" flag: '
                            "Bogus is not one of required values of Fail, UseExisting\n"), r


async def test_id_reuse_policy(cli):
    task_queue = unique("tq")
    activity_id = unique("reuse")
    run1 = await start(cli, activity_id, task_queue)
    r = await cli("activity", "complete", "--activity-id", activity_id, "--result", '"first"')
    assert r.rc == 0, r

    # A completed run blocks RejectDuplicate and AllowDuplicateFailedOnly...
    for policy in ("RejectDuplicate", "AllowDuplicateFailedOnly"):
        r = await cli(*start_args(activity_id, task_queue, "compose_greeting",
                                  "--id-reuse-policy", policy))
        assert (r.rc, r.out, r.err) == (1, "", ALREADY_STARTED), (policy, r)
    # ...but not AllowDuplicate.
    run2 = await start(cli, activity_id, task_queue, "compose_greeting",
                       "--id-reuse-policy", "AllowDuplicate")
    assert run2 != run1

    # A terminated run counts as failed for AllowDuplicateFailedOnly.
    r = await cli("activity", "terminate", "--activity-id", activity_id, "--reason", "make room")
    assert r.rc == 0, r
    run3 = await start(cli, activity_id, task_queue, "compose_greeting",
                       "--id-reuse-policy", "AllowDuplicateFailedOnly")
    assert run3 not in (run1, run2)

    # The default policy allows a new run once the last one closed.
    r = await cli("activity", "cancel", "--activity-id", activity_id)
    assert r.rc == 0, r
    run4 = await start(cli, activity_id, task_queue)
    assert run4 not in (run1, run2, run3)

    # The ID now names the newest run; older runs stay reachable by run ID.
    assert (await describe(cli, activity_id))["info"]["runId"] == run4
    desc = await describe(cli, activity_id, "--run-id", run1)
    assert desc["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_COMPLETED"
    r = await cli("activity", "result", "-a", activity_id, "-r", run1, "-o", "json")
    assert r.rc == 0, r
    assert r.json() == {"activityId": activity_id, "runId": run1, "status": "COMPLETED",
                        "result": "first"}
    desc = await describe(cli, activity_id, "--run-id", run2)
    assert desc["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_TERMINATED"


# cancel-heartbeat ----------------------------------------------------------------

async def test_cancel_heartbeating_activity(cli, client):
    task_queue = unique("tq")
    activity_id = unique("hb")
    started = asyncio.Event()
    cancelled = asyncio.Event()

    @activity.defn(name="heartbeater")
    async def heartbeater() -> str:
        started.set()
        try:
            while True:
                activity.heartbeat("tick")
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with worker(client, task_queue, heartbeater):
        await start(cli, activity_id, task_queue, "heartbeater", "--heartbeat-timeout", "2s")
        await asyncio.wait_for(started.wait(), 10)
        r = await cli("activity", "cancel", "--activity-id", activity_id,
                      "--reason", "no longer needed", "--identity", "cli-canceller")
        assert (r.rc, r.out, r.err) == (0, "Cancellation requested\n", ""), r
        r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert cancelled.is_set(), "the heartbeating activity was not cancelled"
    assert r.rc == 1 and r.err == "Error: activity failed\n", r
    assert r.json() == failed_result(activity_id, {
        "message": "Activity canceled",
        "canceledFailureInfo": {"identity": "cli-canceller"},
    })

    r = await cli("activity", "result", "--activity-id", activity_id)
    assert r.rc == 1 and r.err == "Error: activity failed\n", r
    fields = card(r.out)
    assert fields["Status"] == "FAILED"
    assert "    Message: Activity canceled" in r.out.splitlines(), r

    desc = await describe(cli, activity_id)
    info = desc["info"]
    assert info["status"] == "ACTIVITY_EXECUTION_STATUS_CANCELED"
    assert info["canceledReason"] == "no longer needed"
    assert info["lastWorkerIdentity"] == WORKER_IDENTITY
    assert info["attempt"] == 1
    assert "runState" not in info
    # The run ended because the worker reported the cancellation; that is not
    # a completed attempt.
    assert "lastAttemptCompleteTime" not in info, info
    assert desc["outcome"] == {"failure": {
        "message": "Activity canceled",
        "canceledFailureInfo": {"identity": "cli-canceller"},
    }}


async def test_cancel_scheduled_activity(cli):
    """Nobody polls the task queue: the cancel request closes the run at once."""
    task_queue = unique("tq")
    activity_id = unique("cancel")
    await start(cli, activity_id, task_queue)
    r = await cli("activity", "cancel", "--activity-id", activity_id, "--reason", "stop please")
    assert (r.rc, r.out, r.err) == (0, "Cancellation requested\n", ""), r

    r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 1 and r.err == "Error: activity failed\n", r
    result = r.json()
    identity = result["failure"]["canceledFailureInfo"]["identity"]
    assert re.match(r"^temporal-cli:.+@.+$", identity), identity  # the CLI's default identity
    assert result == failed_result(activity_id, {
        "message": "Activity canceled",
        "canceledFailureInfo": {"details": ["stop please"], "identity": identity},
    })
    desc = await describe(cli, activity_id)
    assert desc["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_CANCELED"
    assert desc["info"]["canceledReason"] == "stop please"
    assert desc["info"]["stateTransitionCount"] == "2"
    r = await cli("activity", "describe", "--activity-id", activity_id)
    assert card(r.out)["Status"] == "Canceled", r


# terminate -------------------------------------------------------------------------

async def test_terminate_running_activity(cli, client):
    task_queue = unique("tq")
    activity_id = unique("term")
    started = asyncio.Event()
    release = asyncio.Event()

    @activity.defn(name="slow")
    async def slow() -> str:
        started.set()
        await release.wait()
        return "too late"

    async with worker(client, task_queue, slow):
        await start(cli, activity_id, task_queue, "slow")
        await asyncio.wait_for(started.wait(), 10)
        r = await cli("activity", "terminate", "--activity-id", activity_id,
                      "--reason", "bye", "--identity", "cli-terminator")
        assert (r.rc, r.out, r.err) == (0, "Activity terminated\n", ""), r
        release.set()

    r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 1 and r.err == "Error: activity failed\n", r
    assert r.json() == failed_result(activity_id, {
        "message": "bye", "terminatedFailureInfo": {"identity": "cli-terminator"}})
    r = await cli("activity", "result", "--activity-id", activity_id)
    assert r.rc == 1 and r.err == "Error: activity failed\n", r
    assert card(r.out)["Status"] == "FAILED"
    assert "    Message: bye" in r.out.splitlines(), r

    desc = await describe(cli, activity_id)
    assert desc["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_TERMINATED"
    assert desc["info"]["lastWorkerIdentity"] == WORKER_IDENTITY
    assert desc["outcome"] == {"failure": {
        "message": "bye", "terminatedFailureInfo": {"identity": "cli-terminator"}}}
    r = await cli("activity", "describe", "--activity-id", activity_id)
    assert card(r.out)["Status"] == "Terminated", r

    # A second terminate names the request that closed the run.
    r = await cli("activity", "terminate", "--activity-id", activity_id)
    assert (r.rc, r.out) == (1, ""), r
    assert re.fullmatch(r"Error: failed to terminate activity: already terminated with request ID "
                        r"[0-9a-f-]{36}\n", r.err), r


async def test_terminate_default_reason(cli):
    task_queue = unique("tq")
    activity_id = unique("term")
    await start(cli, activity_id, task_queue)
    r = await cli("activity", "terminate", "-a", activity_id, "--identity", "cli-terminator")
    assert (r.rc, r.out) == (0, "Activity terminated\n"), r
    r = await cli("activity", "result", "-a", activity_id, "-o", "json")
    assert r.rc == 1, r
    failure = r.json()["failure"]
    assert failure["message"].startswith("Requested from CLI by "), failure
    assert failure["terminatedFailureInfo"] == {"identity": "cli-terminator"}


async def test_cancel_or_terminate_closed_activity_fails(cli):
    task_queue = unique("tq")
    terminated, canceled, completed = unique("t"), unique("c"), unique("k")
    for activity_id in (terminated, canceled, completed):
        await start(cli, activity_id, task_queue)
    assert (await cli("activity", "terminate", "-a", terminated)).rc == 0
    assert (await cli("activity", "cancel", "-a", canceled)).rc == 0
    assert (await cli("activity", "complete", "-a", completed, "--result", "1")).rc == 0

    for activity_id, status in ((terminated, "Terminated"), (canceled, "Canceled"),
                                (completed, "Completed")):
        r = await cli("activity", "cancel", "--activity-id", activity_id)
        assert (r.rc, r.out) == (1, ""), r
        assert r.err == ("Error: failed to request activity cancellation: "
                         f"activity is in terminal state {status}\n"), r
    for activity_id, status in ((canceled, "Canceled"), (completed, "Completed")):
        r = await cli("activity", "terminate", "--activity-id", activity_id)
        assert (r.rc, r.out) == (1, ""), r
        assert r.err == f"Error: failed to terminate activity: invalid transition from {status}\n", r


# delete ------------------------------------------------------------------------------

async def test_delete(cli):
    task_queue = unique("tq")
    closed, running, kept = unique("del"), unique("del"), unique("keep")
    for activity_id in (closed, running, kept):
        await start(cli, activity_id, task_queue)
    assert (await cli("activity", "complete", "-a", closed, "--result", "1")).rc == 0

    # --yes answers the prompt.
    r = await cli("activity", "delete", "--activity-id", closed, "--yes")
    assert r.rc == 0 and r.err == "", r
    assert r.out == f'Delete Standalone Activity "{closed}"? y/N yes\nDelete activity succeeded\n'
    # A running activity can be deleted too; here the answer comes from stdin.
    r = await cli("activity", "delete", "--activity-id", running, stdin="y\n")
    assert r.rc == 0 and r.err == "", r
    assert r.out == f'Delete Standalone Activity "{running}"? y/N Delete activity succeeded\n'
    # Saying no deletes nothing.
    r = await cli("activity", "delete", "--activity-id", kept, stdin="n\n")
    assert r.rc == 1, r
    assert r.out == f'Delete Standalone Activity "{kept}"? y/N '
    assert r.err == "Error: user denied confirmation\n"

    for activity_id in (closed, running):
        r = await cli("activity", "describe", "--activity-id", activity_id)
        assert (r.rc, r.out) == (1, ""), r
        assert r.err == ("Error: failed describing activity: "
                         f"activity not found for ID: {activity_id}\n"), r
        r = await cli("activity", "delete", "--activity-id", activity_id, "--yes")
        assert r.rc == 1, r
        assert r.err == ("Error: failed to delete standalone activity: "
                         f"activity not found for ID: {activity_id}\n"), r
    assert (await describe(cli, kept))["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_RUNNING"

    # Deleted executions leave the visibility index.
    async def listed():
        r = await cli("activity", "list", "--query", f"TaskQueue = '{task_queue}'", "-o", "json")
        assert r.rc == 0, r
        return sorted(a["activityId"] for a in r.json())

    await eventually(listed, lambda ids: ids == [kept], "list after delete")


# async-completion / non-retryable-failure ------------------------------------------

@activity.defn(name="finish_later")
async def finish_later() -> str:
    activity.raise_complete_async()


async def test_complete_started_activity(cli, client):
    task_queue = unique("tq")
    activity_id = unique("async")
    async with worker(client, task_queue, finish_later):
        run_id = await start(cli, activity_id, task_queue, "finish_later")
        await wait_for_run_state(cli, activity_id, "PENDING_ACTIVITY_STATE_STARTED")
        r = await cli("activity", "complete", "--activity-id", activity_id,
                      "--result", '{"ok": true, "n": 7}', "--identity", "cli-completer")
        assert (r.rc, r.out, r.err) == (0, "", ""), r

    r = await cli("activity", "result", "--activity-id", activity_id)
    assert (r.rc, r.err) == (0, ""), r
    fields = card(r.out)
    assert fields["Status"] == "COMPLETED"
    assert fields["Result"] == '{"n":7,"ok":true}'
    r = await cli("activity", "result", "-a", activity_id, "-r", run_id, "-o", "json")
    assert r.rc == 0, r
    assert r.json() == {"activityId": activity_id, "runId": run_id, "status": "COMPLETED",
                        "result": {"ok": True, "n": 7}}
    desc = await describe(cli, activity_id)
    assert desc["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_COMPLETED"
    assert desc["info"]["lastWorkerIdentity"] == "cli-completer"
    assert desc["outcome"] == {"result": [{"ok": True, "n": 7}]}


async def test_complete_before_any_worker(cli):
    """By-ID completion is accepted while the activity is still scheduled."""
    task_queue = unique("tq")
    activity_id = unique("async")
    run_id = await start(cli, activity_id, task_queue)
    r = await cli("activity", "complete", "-a", activity_id, "-r", run_id,
                  "--result", '"done"', "--identity", "cli-completer")
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    r = await cli("activity", "result", "-a", activity_id, "-o", "json")
    assert r.rc == 0, r
    assert r.json() == {"activityId": activity_id, "runId": "", "status": "COMPLETED",
                        "result": "done"}
    desc = await describe(cli, activity_id)
    assert desc["info"]["lastWorkerIdentity"] == "cli-completer"
    assert desc["info"]["stateTransitionCount"] == "2"


async def test_fail_started_activity(cli, client):
    """`activity fail` reports a non-retryable application failure: the run
    fails although the retry policy would allow more attempts."""
    task_queue = unique("tq")
    activity_id = unique("async")
    async with worker(client, task_queue, finish_later):
        await start(cli, activity_id, task_queue, "finish_later",
                    "--retry-maximum-attempts", "5", "--retry-initial-interval", "1s")
        await wait_for_run_state(cli, activity_id, "PENDING_ACTIVITY_STATE_STARTED")
        r = await cli("activity", "fail", "--activity-id", activity_id, "--reason", "broken",
                      "--detail", '{"k": 2}', "--identity", "cli-failer")
        assert (r.rc, r.out, r.err) == (0, "", ""), r

    failure = {"message": "broken", "source": "CLI",
               "applicationFailureInfo": {"nonRetryable": True, "details": [{"k": 2}]}}
    r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 1 and r.err == "Error: activity failed\n", r
    assert r.json() == failed_result(activity_id, failure)
    r = await cli("activity", "result", "--activity-id", activity_id)
    assert r.rc == 1 and r.err == "Error: activity failed\n", r
    assert card(r.out)["Status"] == "FAILED"
    assert "    Message: broken" in r.out.splitlines(), r

    desc = await describe(cli, activity_id)
    assert desc["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_FAILED"
    assert desc["info"]["attempt"] == 1
    assert desc["info"]["lastWorkerIdentity"] == "cli-failer"
    assert desc["info"]["lastFailure"] == failure
    assert desc["outcome"] == {"failure": failure,
                               "retryState": "RETRY_STATE_NON_RETRYABLE_FAILURE"}
    r = await cli("activity", "describe", "--activity-id", activity_id)
    assert card(r.out)["Status"] == "Failed", r


async def test_fail_needs_a_started_attempt(cli):
    """By-ID failure, unlike completion, needs an attempt in progress."""
    task_queue = unique("tq")
    activity_id = unique("async")
    await start(cli, activity_id, task_queue)
    r = await cli("activity", "fail", "--activity-id", activity_id, "--reason", "broken")
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == f"Error: unable to fail Activity: activity not found for ID: {activity_id}\n"
    assert (await describe(cli, activity_id))["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_RUNNING"


async def test_complete_or_fail_closed_activity_fails(cli):
    task_queue = unique("tq")
    activity_id = unique("async")
    await start(cli, activity_id, task_queue)
    assert (await cli("activity", "complete", "-a", activity_id, "--result", "1")).rc == 0
    r = await cli("activity", "complete", "-a", activity_id, "--result", "2")
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == "Error: unable to complete Activity: invalid transition from Completed\n", r
    r = await cli("activity", "fail", "-a", activity_id, "--reason", "late")
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == f"Error: unable to fail Activity: activity not found for ID: {activity_id}\n", r
    r = await cli("activity", "result", "-a", activity_id, "-o", "json")
    assert r.json()["result"] == 1, r


@activity.defn(name="explode")
async def explode() -> str:
    from temporalio.exceptions import ApplicationError
    raise ApplicationError("boom", {"why": "x"}, type="Kaboom", non_retryable=True)


async def test_execute_non_retryable_worker_failure(cli, client):
    task_queue = unique("tq")
    activity_id = unique("boom")
    async with worker(client, task_queue, explode):
        r = await cli("activity", "execute", *start_args(activity_id, task_queue, "explode")[2:],
                      "--retry-maximum-attempts", "5", "--retry-initial-interval", "1s")
    assert r.rc == 1 and r.err == "Error: activity failed\n", r
    assert r.out.splitlines()[0] == "Running execution:", r
    fields = card(r.out)
    assert fields["ActivityId"] == activity_id
    assert fields["Status"] == "FAILED"
    assert "    Message: boom" in r.out.splitlines(), r

    r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 1, r
    result = r.json()
    assert result["failure"].pop("stackTrace"), "the Python worker sends a stack trace"
    assert result == failed_result(activity_id, {
        "message": "boom",
        "applicationFailureInfo": {"type": "Kaboom", "nonRetryable": True,
                                   "details": [{"why": "x"}]},
    })
    desc = await describe(cli, activity_id)
    assert desc["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_FAILED"
    assert desc["info"]["attempt"] == 1
    assert desc["outcome"]["retryState"] == "RETRY_STATE_NON_RETRYABLE_FAILURE"


# not-found-error -----------------------------------------------------------------

async def test_missing_activity_is_not_found(cli):
    activity_id = unique("missing")
    expected = {
        ("describe",): f"Error: failed describing activity: activity not found for ID: {activity_id}\n",
        ("result",): f"Error: activity not found: {activity_id}\n",
        ("cancel",): ("Error: failed to request activity cancellation: "
                      f"activity not found for ID: {activity_id}\n"),
        ("terminate",): f"Error: failed to terminate activity: activity not found for ID: {activity_id}\n",
        ("complete", "--result", "1"): ("Error: unable to complete Activity: "
                                        f"activity not found for ID: {activity_id}\n"),
        ("fail", "--reason", "x"): f"Error: unable to fail Activity: activity not found for ID: {activity_id}\n",
        ("delete", "--yes"): ("Error: failed to delete standalone activity: "
                              f"activity not found for ID: {activity_id}\n"),
    }
    for (command, *extra), err in expected.items():
        for out_args in ((), ("-o", "json")):
            r = await cli("activity", command, "--activity-id", activity_id, *extra, *out_args)
            assert r.rc == 1, r
            assert r.err == err, r
            if command == "delete" and not out_args:
                assert r.out == f'Delete Standalone Activity "{activity_id}"? y/N yes\n', r
            else:
                assert r.out == "", r


async def test_unknown_run_of_existing_activity_is_not_found(cli):
    task_queue = unique("tq")
    activity_id = unique("runs")
    await start(cli, activity_id, task_queue)
    other_run = "0c2b3c4d-1111-4222-8333-444455556666"
    r = await cli("activity", "describe", "-a", activity_id, "--run-id", other_run)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == f"Error: failed describing activity: activity not found for ID: {activity_id}\n"
    r = await cli("activity", "result", "-a", activity_id, "--run-id", other_run)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == f"Error: activity not found: {activity_id}\n"
    r = await cli("activity", "describe", "-a", activity_id, "--run-id", "not-a-uuid")
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == "Error: failed describing activity: invalid run id: must be a valid UUID\n"
