"""Operator commands for standalone activities with the Temporal CLI:
`activity pause|unpause|reset|update-options`, the batch forms
`activity cancel|terminate|delete --query`, and `batch describe|list|terminate`.

Activities run on a Python SDK worker in the test's event loop, or on none
when a test only needs a scheduled activity. Every assertion is on the CLI's
JSON output (-o json) except where the text form is the point.

What is asserted was checked against a Temporal dev server (CLI 1.9.1, Server
1.32.0, history.enableStandaloneActivityOperatorCommands=true) in oracle mode
(COMPAT_ORACLE_ADDRESS; see conftest.py). The messages are that server's.

The dev server runs one batch operation per namespace at a time and refuses a
second with "Max concurrent batch operations is reached"; start_batch waits
for the slot, since other clients of a shared oracle may hold it.

Not covered: `activity unpause|reset|update-options --query`. The dev server
starts those batches, but runs them over workflow activities only: standalone
runs matching the query are left as they were, so there is no Temporal
behaviour to check Errand's (which applies them to standalone runs) against.
"""
import asyncio
from datetime import datetime, timedelta, timezone

from temporalio import activity
from temporalio.exceptions import ApplicationError

from clitools import UUID_RE, assert_same, card, eventually, normalise, unique
from test_activity import WORKER_IDENTITY, compose_greeting, describe, start, wait_for_run_state, worker

PAUSED = "ACTIVITY_EXECUTION_STATUS_PAUSED"
RUNNING = "ACTIVITY_EXECUTION_STATUS_RUNNING"
STATE_PAUSED = "PENDING_ACTIVITY_STATE_PAUSED"
STATE_SCHEDULED = "PENDING_ACTIVITY_STATE_SCHEDULED"
SECOND = 1_000_000_000  # nanoseconds, as the CLI prints durations in JSON
GREETING_INPUT = ("--input", '{"greeting": "Hello", "name": "World"}')


def parse_time(value: str) -> datetime:
    # RFC 3339 with up to nanoseconds; datetime keeps microseconds.
    head, _, frac = value.rstrip("Z").partition(".")
    t = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
    return t + timedelta(microseconds=int((frac + "000000")[:6])) if frac else t


async def info(cli, activity_id) -> dict:
    return (await describe(cli, activity_id))["info"]


async def count(cli, query) -> dict:
    r = await cli("activity", "count", "--query", query, "-o", "json")
    assert r.rc == 0, r
    return r.json()


def groups(counted: dict) -> dict:
    return {tuple(g["groupValues"]): int(g["count"]) for g in counted.get("groups", [])}


async def ok(cli, *args) -> str:
    r = await cli(*args)
    assert (r.rc, r.err) == (0, ""), r
    return r.out


# pause-unpause -----------------------------------------------------------------------

async def test_pause_then_unpause_scheduled_activity(cli, client):
    """A paused activity is not dispatched to a polling worker; once unpaused it runs."""
    task_queue = unique("tq")
    activity_id = unique("pause")
    await start(cli, activity_id, task_queue, "compose_greeting", *GREETING_INPUT)

    r = await cli("activity", "pause", "--activity-id", activity_id, "--reason", "downstream is down",
                  "--identity", "cli-operator")
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    i = await info(cli, activity_id)
    assert (i["status"], i["runState"], i["attempt"]) == (PAUSED, STATE_PAUSED, 1), i
    r = await cli("activity", "describe", "--activity-id", activity_id)
    fields = card(r.out)
    assert (fields["Status"], fields["RunState"]) == ("Paused", "Paused"), r

    ran = asyncio.Event()

    @activity.defn(name="compose_greeting")
    async def greeting(input: dict) -> str:
        ran.set()
        return f"{input['greeting']}, {input['name']}!"

    async with worker(client, task_queue, greeting):
        # A worker polls the queue for a while: the paused activity stays put.
        await asyncio.sleep(1.0)
        assert not ran.is_set(), "a paused activity was dispatched"
        i = await info(cli, activity_id)
        assert (i["status"], i["runState"], i["attempt"]) == (PAUSED, STATE_PAUSED, 1), i

        r = await cli("activity", "unpause", "--activity-id", activity_id, "-o", "json")
        assert (r.rc, r.out, r.err) == (0, "", ""), r
        r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 0, r
    assert r.json()["result"] == "Hello, World!", r
    i = await info(cli, activity_id)
    assert (i["status"], i["attempt"], i["lastWorkerIdentity"]) == (
        "ACTIVITY_EXECUTION_STATUS_COMPLETED", 1, WORKER_IDENTITY), i


async def test_pause_and_unpause_preconditions(cli):
    task_queue = unique("tq")
    activity_id = unique("pause")
    await start(cli, activity_id, task_queue)

    r = await cli("activity", "unpause", "--activity-id", activity_id)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == ("Error: unable to unpause an Activity: "
                     "activity is in non-unpausable state Scheduled\n"), r

    await ok(cli, "activity", "pause", "--activity-id", activity_id)
    r = await cli("activity", "pause", "--activity-id", activity_id)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == "Error: unable to pause Activity: activity is in non-pausable state Paused\n", r

    # Terminating a paused activity closes it like a running one.
    await ok(cli, "activity", "terminate", "--activity-id", activity_id, "--reason", "done")
    i = await info(cli, activity_id)
    assert i["status"] == "ACTIVITY_EXECUTION_STATUS_TERMINATED", i
    assert "runState" not in i, i
    r = await cli("activity", "pause", "--activity-id", activity_id)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == ("Error: unable to pause Activity: "
                     "activity is in non-pausable state Terminated\n"), r
    r = await cli("activity", "unpause", "--activity-id", activity_id)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == ("Error: unable to unpause an Activity: "
                     "activity is in terminal state Terminated\n"), r

    missing = unique("missing")
    for verb, what in (("pause", "pause Activity"), ("unpause", "unpause an Activity"),
                       ("reset", "reset an Activity")):
        r = await cli("activity", verb, "--activity-id", missing)
        assert (r.rc, r.out) == (1, ""), r
        assert r.err == f"Error: unable to {what}: activity not found for ID: {missing}\n", r


async def test_unpause_with_jitter(cli, client):
    """Unpause with --jitter schedules the next dispatch at a random time within the
    jitter. Describe shows that time only while it is in the future, so a small
    random pick may be gone by the time of the describe: of five, one must show."""
    task_queue = unique("tq")
    ids = [unique("jitter") for _ in range(5)]
    shown = 0
    slack = timedelta(milliseconds=500)  # the server's clock against ours
    for activity_id in ids:
        await start(cli, activity_id, task_queue, "compose_greeting", *GREETING_INPUT)
        await ok(cli, "activity", "pause", "--activity-id", activity_id)
        before = datetime.now(timezone.utc)
        await ok(cli, "activity", "unpause", "--activity-id", activity_id, "--jitter", "2s")
        after = datetime.now(timezone.utc)
        i = await info(cli, activity_id)
        assert (i["status"], i["runState"], i["attempt"]) == (RUNNING, STATE_SCHEDULED, 1), i
        if "nextAttemptScheduleTime" in i:
            shown += 1
            next_attempt = parse_time(i["nextAttemptScheduleTime"])
            assert before - slack <= next_attempt <= after + timedelta(seconds=2) + slack, i
    assert shown > 0, "no unpaused activity showed its jittered dispatch time"

    async with worker(client, task_queue, compose_greeting):
        for activity_id in ids:
            r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
            assert r.rc == 0 and r.json()["result"] == "Hello, World!", r


# pause-heartbeat ---------------------------------------------------------------------

async def test_pause_heartbeating_activity(cli, client):
    """The running attempt learns of the pause from its heartbeat, and the run is
    PAUSED at the next attempt; after unpause that attempt runs."""
    task_queue = unique("tq")
    activity_id = unique("hb-pause")
    attempts = []
    paused_seen = asyncio.Event()

    @activity.defn(name="pausable")
    async def pausable() -> str:
        attempts.append(activity.info().attempt)
        if activity.info().attempt > 1:
            return f"done on attempt {activity.info().attempt}"
        try:
            while True:
                activity.heartbeat("working")
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            details = activity.cancellation_details()
            if details is not None and details.paused:
                paused_seen.set()
            raise

    async with worker(client, task_queue, pausable):
        await start(cli, activity_id, task_queue, "pausable", "--heartbeat-timeout", "5s",
                    "--retry-initial-interval", "1s")
        await wait_for_run_state(cli, activity_id, "PENDING_ACTIVITY_STATE_STARTED")
        await ok(cli, "activity", "pause", "--activity-id", activity_id, "--reason", "maintenance")
        await asyncio.wait_for(paused_seen.wait(), 10)
        i = await wait_for_run_state(cli, activity_id, STATE_PAUSED)
        i = i["info"]
        assert (i["status"], i["attempt"]) == (PAUSED, 2), i
        assert i["lastFailure"]["message"] == \
            "Unhandled activity cancel error produced by activity pause", i
        assert i["lastFailure"]["applicationFailureInfo"]["type"] == "ActivityPause", i
        assert attempts == [1], attempts

        await ok(cli, "activity", "unpause", "--activity-id", activity_id)
        r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 0 and r.json()["result"] == "done on attempt 2", r
    assert attempts == [1, 2], attempts


# reset -------------------------------------------------------------------------------

async def test_reset_paused_activity(cli, client):
    """Reset puts a failing, paused activity back to attempt 1: --keep-paused keeps it
    paused and the heartbeat checkpoint; --clear-heartbeat-details drops the checkpoint;
    a plain reset unpauses it."""
    task_queue = unique("tq")
    activity_id = unique("reset")
    failing = True
    seen = []

    @activity.defn(name="flaky")
    async def flaky() -> str:
        details = list(activity.info().heartbeat_details)
        seen.append((activity.info().attempt, details))
        activity.heartbeat(f"checkpoint-{activity.info().attempt}")
        if failing:
            raise ApplicationError("downstream unavailable")
        return f"ok on attempt {activity.info().attempt} from {details}"

    async with worker(client, task_queue, flaky):
        await start(cli, activity_id, task_queue, "flaky", "--retry-initial-interval", "1s",
                    "--retry-backoff-coefficient", "1", "--heartbeat-timeout", "5s")
        await eventually(lambda: info(cli, activity_id), lambda i: i["attempt"] >= 2,
                         "a retry")
        await ok(cli, "activity", "pause", "--activity-id", activity_id)
        i = (await wait_for_run_state(cli, activity_id, STATE_PAUSED))["info"]
    assert i["status"] == PAUSED and i["attempt"] >= 2, i
    assert i["lastFailure"]["message"] == "downstream unavailable", i
    checkpoint = i["heartbeatDetails"]
    assert checkpoint == [f"checkpoint-{i['attempt'] - 1}"], i

    r = await cli("activity", "reset", "--activity-id", activity_id, "--keep-paused", "-o", "json")
    assert (r.rc, r.err) == (0, ""), r
    assert r.json() == {"keepPaused": True}, r
    i = await info(cli, activity_id)
    assert (i["status"], i["runState"], i["attempt"]) == (PAUSED, STATE_PAUSED, 1), i
    assert i["heartbeatDetails"] == checkpoint, i

    out = await ok(cli, "activity", "reset", "--activity-id", activity_id, "--keep-paused",
                   "--clear-heartbeat-details")
    assert card(out) == {"KeepPaused": "true", "ServerResponse": "true"}, out
    i = await info(cli, activity_id)
    assert (i["status"], i["runState"], i["attempt"]) == (PAUSED, STATE_PAUSED, 1), i
    assert "heartbeatDetails" not in i, i

    failing = False
    seen.clear()
    async with worker(client, task_queue, flaky):
        await ok(cli, "activity", "reset", "--activity-id", activity_id)
        r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 0 and r.json()["result"] == "ok on attempt 1 from []", r
    assert seen == [(1, [])], seen
    i = await info(cli, activity_id)
    assert (i["status"], i["attempt"]) == ("ACTIVITY_EXECUTION_STATUS_COMPLETED", 1), i


async def test_reset_scheduled_activity_restores_original_options(cli):
    task_queue = unique("tq")
    activity_id = unique("reset")
    await start(cli, activity_id, task_queue)
    await ok(cli, "activity", "update-options", "--activity-id", activity_id,
             "--start-to-close-timeout", "30s", "--task-queue", f"{task_queue}-moved")
    i = await info(cli, activity_id)
    assert (i["startToCloseTimeout"], i["taskQueue"]) == ("30s", f"{task_queue}-moved"), i

    # Without --restore-original-options, reset leaves the updated options alone.
    await ok(cli, "activity", "reset", "--activity-id", activity_id)
    i = await info(cli, activity_id)
    assert (i["status"], i["runState"], i["attempt"]) == (RUNNING, STATE_SCHEDULED, 1), i
    assert (i["startToCloseTimeout"], i["taskQueue"]) == ("30s", f"{task_queue}-moved"), i

    await ok(cli, "activity", "reset", "--activity-id", activity_id, "--restore-original-options")
    i = await info(cli, activity_id)
    assert (i["status"], i["runState"], i["attempt"]) == (RUNNING, STATE_SCHEDULED, 1), i
    assert (i["startToCloseTimeout"], i["taskQueue"]) == ("10s", task_queue), i


async def test_reset_closed_activity_fails(cli):
    task_queue = unique("tq")
    activity_id = unique("reset")
    await start(cli, activity_id, task_queue)
    await ok(cli, "activity", "complete", "--activity-id", activity_id, "--result", '"x"')
    r = await cli("activity", "reset", "--activity-id", activity_id)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == "Error: unable to reset an Activity: activity execution is not running\n", r


# update-options ----------------------------------------------------------------------

async def test_update_options_then_restore(cli):
    task_queue = unique("tq")
    activity_id = unique("opts")
    await start(cli, activity_id, task_queue, "compose_greeting",
                "--schedule-to-close-timeout", "120s", "--retry-maximum-attempts", "3")
    original = await info(cli, activity_id)

    r = await cli("activity", "update-options", "--activity-id", activity_id,
                  "--start-to-close-timeout", "20s", "--heartbeat-timeout", "5s",
                  "--schedule-to-start-timeout", "50s", "--retry-maximum-attempts", "7",
                  "--retry-maximum-interval", "30s", "-o", "json")
    assert (r.rc, r.err) == (0, ""), r
    # The CLI prints the options the server answers with, durations in nanoseconds.
    assert r.json() == {
        "TaskQueue": task_queue, "ScheduleToCloseTimeout": 120 * SECOND,
        "ScheduleToStartTimeout": 50 * SECOND, "StartToCloseTimeout": 20 * SECOND,
        "HeartbeatTimeout": 5 * SECOND, "StartDelay": 0, "InitialInterval": SECOND,
        "BackoffCoefficient": 2, "MaximumInterval": 30 * SECOND, "MaximumAttempts": 7}, r
    i = await info(cli, activity_id)
    assert_same({k: i[k] for k in ("startToCloseTimeout", "heartbeatTimeout",
                                   "scheduleToStartTimeout", "scheduleToCloseTimeout",
                                   "retryPolicy", "taskQueue", "status", "attempt")}, {
        "startToCloseTimeout": "20s",
        "heartbeatTimeout": "5s",
        "scheduleToStartTimeout": "50s",
        "scheduleToCloseTimeout": "120s",
        "retryPolicy": {"initialInterval": "1s", "backoffCoefficient": 2,
                        "maximumInterval": "30s", "maximumAttempts": 7},
        "taskQueue": task_queue,
        "status": RUNNING,
        "attempt": 1,
    })

    r = await cli("activity", "update-options", "--activity-id", activity_id,
                  "--restore-original-options", "-o", "json")
    assert (r.rc, r.err) == (0, ""), r
    assert r.json() == {
        "TaskQueue": task_queue, "ScheduleToCloseTimeout": 120 * SECOND,
        "ScheduleToStartTimeout": 120 * SECOND, "StartToCloseTimeout": 10 * SECOND,
        "HeartbeatTimeout": 0, "StartDelay": 0, "InitialInterval": SECOND,
        "BackoffCoefficient": 2, "MaximumInterval": 100 * SECOND, "MaximumAttempts": 3}, r
    r = await cli("activity", "update-options", "--activity-id", activity_id,
                  "--start-to-close-timeout", "15s")
    assert (r.rc, r.err) == (0, ""), r
    fields = card(r.out)
    assert (fields["TaskQueue"], fields["StartToCloseTimeout"], fields["MaximumInterval"]) == (
        task_queue, "15s", "1m40s"), r
    await ok(cli, "activity", "update-options", "--activity-id", activity_id,
             "--restore-original-options")
    i = await info(cli, activity_id)
    for key in ("startToCloseTimeout", "heartbeatTimeout", "scheduleToStartTimeout",
                "scheduleToCloseTimeout", "retryPolicy", "taskQueue"):
        assert i[key] == original[key], (key, i, original)


async def test_update_task_queue_moves_dispatch(cli, client):
    """A paused activity moved to another task queue runs there once unpaused."""
    task_queue = unique("tq")
    moved = unique("tq-moved")
    activity_id = unique("opts")
    await start(cli, activity_id, task_queue, "compose_greeting", *GREETING_INPUT)
    await ok(cli, "activity", "pause", "--activity-id", activity_id)
    await ok(cli, "activity", "update-options", "--activity-id", activity_id, "--task-queue", moved)
    i = await info(cli, activity_id)
    assert (i["taskQueue"], i["status"], i["runState"]) == (moved, PAUSED, STATE_PAUSED), i

    async with worker(client, moved, compose_greeting):
        await ok(cli, "activity", "unpause", "--activity-id", activity_id)
        r = await cli("activity", "result", "--activity-id", activity_id, "-o", "json")
    assert r.rc == 0 and r.json()["result"] == "Hello, World!", r
    i = await info(cli, activity_id)
    assert (i["taskQueue"], i["lastWorkerIdentity"]) == (moved, WORKER_IDENTITY), i


async def test_update_options_errors(cli):
    task_queue = unique("tq")
    activity_id = unique("opts")
    await start(cli, activity_id, task_queue)

    r = await cli("activity", "update-options", "--activity-id", activity_id)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == ("Error: unable to update Activity options: "
                     "UpdateMask must specify at least one path\n"), r
    r = await cli("activity", "update-options", "--activity-id", activity_id,
                  "--task-queue", "elsewhere", "--restore-original-options")
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == ("Error: unable to update Activity options: "
                     "Both UpdateMask and RestoreOriginal are provided\n"), r
    r = await cli("activity", "update-options", "--activity-id", unique("missing"),
                  "--start-to-close-timeout", "20s")
    assert (r.rc, r.out) == (1, ""), r
    assert r.err.startswith("Error: unable to update Activity options: activity not found"), r

    # The merged retry policy is validated again: 500ms < the initial interval of 1s.
    r = await cli("activity", "update-options", "--activity-id", activity_id,
                  "--retry-maximum-interval", "500ms")
    assert (r.rc, r.out) == (1, ""), r
    assert "MaximumInterval cannot be less than InitialInterval on retry policy." in r.err, r
    assert (await info(cli, activity_id))["retryPolicy"]["maximumInterval"] == "100s"

    await ok(cli, "activity", "complete", "--activity-id", activity_id, "--result", '"x"')
    r = await cli("activity", "update-options", "--activity-id", activity_id,
                  "--start-to-close-timeout", "20s")
    assert (r.rc, r.out) == (1, ""), r
    assert "Cannot update options for activity in state Completed" in r.err, r


# query-paused ------------------------------------------------------------------------

async def test_count_and_list_paused(cli):
    task_queue = unique("tq")
    ids = [unique("q") for _ in range(3)]
    for activity_id in ids:
        await start(cli, activity_id, task_queue)
    for activity_id in ids[:2]:
        await ok(cli, "activity", "pause", "--activity-id", activity_id)

    in_queue = f"TaskQueue = '{task_queue}'"
    counted = await eventually(
        lambda: count(cli, f"{in_queue} GROUP BY ExecutionStatus"),
        lambda c: groups(c) == {("Paused",): 2, ("Running",): 1}, "count by status")
    assert counted["count"] == "3", counted
    counted = await count(cli, f"{in_queue} AND ExecutionStatus = 'Paused'")
    assert counted == {"count": "2"}, counted

    r = await cli("activity", "list", "--query", f"{in_queue} AND ExecutionStatus = 'Paused'",
                  "-o", "json")
    assert r.rc == 0, r
    entries = r.json()
    assert sorted(e["activityId"] for e in entries) == sorted(ids[:2]), entries
    assert {e["status"] for e in entries} == {PAUSED}, entries
    r = await cli("activity", "list", "--query", f"{in_queue} AND ExecutionStatus = 'Paused'")
    assert (r.rc, r.err) == (0, ""), r
    assert [line.split()[0] for line in r.out.splitlines()[1:] if line.strip()] == \
        ["Paused", "Paused"], r

    await ok(cli, "activity", "unpause", "--activity-id", ids[0])
    await eventually(lambda: count(cli, f"{in_queue} GROUP BY ExecutionStatus"),
                     lambda c: groups(c) == {("Paused",): 1, ("Running",): 2},
                     "count by status after unpause")


# batch-by-query ----------------------------------------------------------------------

BATCH_SLOT_TIMEOUT = 30.0


async def start_batch(cli, verb, query, *extra, json=True) -> str:
    """`activity <verb> --query` without a prompt; returns the batch job ID."""
    deadline = asyncio.get_running_loop().time() + BATCH_SLOT_TIMEOUT
    output = ("-o", "json") if json else ()
    while True:
        r = await cli("activity", verb, "--query", query, "--yes", *extra, *output)
        if r.rc == 0 or "Max concurrent batch operations is reached" not in r.err:
            break
        assert asyncio.get_running_loop().time() < deadline, r
        await asyncio.sleep(0.5)
    assert (r.rc, r.err) == (0, ""), r
    if json:
        job_id = r.json()["batchJobId"]
    else:
        # --yes still prints the prompt, answered.
        prompt, started = r.out.splitlines()
        assert prompt == (f"Start batch against standalone activities matching query "
                          f"{go_quote(query)}? y/N yes"), r
        assert started.startswith("Started batch for job ID: "), r
        job_id = started.removeprefix("Started batch for job ID: ")
    assert UUID_RE.match(job_id), r
    return job_id


def go_quote(text: str) -> str:
    """text as Go's %q prints it (enough for these ASCII queries)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def describe_batch(cli, job_id) -> dict:
    r = await cli("batch", "describe", "--job-id", job_id, "-o", "json")
    assert r.rc == 0, r
    return r.json()


async def batch_done(cli, job_id, timeout=30.0) -> dict:
    return await eventually(lambda: describe_batch(cli, job_id),
                            lambda d: d["state"] != "BATCH_OPERATION_STATE_RUNNING",
                            f"batch {job_id} done", timeout=timeout)


async def batch_list_until(cli, job_id, state) -> list[dict]:
    """`batch list` entries of the job, once it is listed in the state (the dev
    server lists batches from its visibility store, which lags)."""
    async def mine():
        r = await cli("batch", "list", "-o", "json")
        assert r.rc == 0, r
        return [e for e in r.json() if e["jobId"] == job_id]
    return await eventually(mine, lambda m: [e["state"] for e in m] == [state],
                            f"batch {job_id} listed as {state}")


async def start_scheduled(cli, task_queue, n, prefix="b") -> list[str]:
    ids = [unique(prefix) for _ in range(n)]
    for activity_id in ids:
        await start(cli, activity_id, task_queue)
    query = f"TaskQueue = '{task_queue}'"
    await eventually(lambda: count(cli, query), lambda c: c.get("count", "0") == str(n), "visible")
    return ids


async def test_batch_cancel_by_query(cli):
    task_queue = unique("tq")
    ids = await start_scheduled(cli, task_queue, 3)
    other = unique("tq")
    spared = await start_scheduled(cli, other, 1)

    query = f"TaskQueue = '{task_queue}'"
    job_id = await start_batch(cli, "cancel", query, "--reason", "batch cancel")
    done = await batch_done(cli, job_id)
    assert (done["state"], done["operationType"]) == (
        "BATCH_OPERATION_STATE_COMPLETED", "BATCH_OPERATION_TYPE_CANCEL_ACTIVITY"), done
    assert (done["totalOperationCount"], done["completeOperationCount"]) == ("3", "3"), done
    assert "failureOperationCount" not in done, done
    for activity_id in ids:
        i = await info(cli, activity_id)
        assert (i["status"], i["canceledReason"]) == (
            "ACTIVITY_EXECUTION_STATUS_CANCELED", "batch cancel"), i
    assert (await info(cli, spared[0]))["status"] == RUNNING
    await eventually(lambda: count(cli, f"{query} GROUP BY ExecutionStatus"),
                     lambda c: groups(c) == {("Canceled",): 3}, "canceled")


async def test_batch_delete_by_query(cli):
    task_queue = unique("tq")
    ids = await start_scheduled(cli, task_queue, 3)
    query = f"TaskQueue = '{task_queue}'"
    job_id = await start_batch(cli, "delete", query, json=False)
    done = await batch_done(cli, job_id)
    assert (done["state"], done["operationType"]) == (
        "BATCH_OPERATION_STATE_COMPLETED", "BATCH_OPERATION_TYPE_DELETE_ACTIVITY"), done
    assert (done["totalOperationCount"], done["completeOperationCount"]) == ("3", "3"), done
    for activity_id in ids:
        r = await cli("activity", "describe", "--activity-id", activity_id)
        assert r.rc == 1 and "not found" in r.err, r
    await eventually(lambda: count(cli, query), lambda c: c.get("count", "0") == "0", "deleted")


async def test_batch_terminate_500_by_query(cli, client):
    """500 runs selected by query are all terminated by one batch."""
    n = 500
    task_queue = unique("tq")
    gate = asyncio.Semaphore(50)

    async def start_one(i):
        async with gate:
            await client.start_activity("compose_greeting", id=f"{task_queue}-{i}",
                                        task_queue=task_queue,
                                        start_to_close_timeout=timedelta(seconds=10))

    # The SDK client starts them faster than one CLI process per start would.
    await asyncio.gather(*(start_one(i) for i in range(n)))
    query = f"TaskQueue = '{task_queue}'"
    await eventually(lambda: count(cli, query), lambda c: c.get("count", "0") == str(n), "all visible")

    job_id = await start_batch(cli, "terminate", query, "--reason", "bulk terminate")
    done = await batch_done(cli, job_id, timeout=45.0)
    assert_same(normalise(done), {
        "operationType": "BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY",
        "jobId": job_id,
        "state": "BATCH_OPERATION_STATE_COMPLETED",
        "startTime": "<time>",
        "closeTime": "<time>",
        "totalOperationCount": str(n),
        "completeOperationCount": str(n),
        "identity": done["identity"],
        "reason": "bulk terminate",
        "query": query,
    })
    counted = await eventually(lambda: count(cli, f"{query} GROUP BY ExecutionStatus"),
                               lambda c: groups(c) == {("Terminated",): n}, "all terminated")
    assert counted["count"] == str(n), counted
    assert await count(cli, f"{query} AND ExecutionStatus = 'Terminated'") == {"count": str(n)}
    i = await info(cli, f"{task_queue}-{n - 1}")
    assert i["status"] == "ACTIVITY_EXECUTION_STATUS_TERMINATED", i


# batch-describe-list -----------------------------------------------------------------

async def test_batch_describe_and_list(cli):
    task_queue = unique("tq")
    await start_scheduled(cli, task_queue, 2)
    query = f"TaskQueue = '{task_queue}'"
    job_id = await start_batch(cli, "terminate", query, "--reason", "described")
    done = await batch_done(cli, job_id)
    assert done["identity"].startswith("temporal-cli:"), done
    assert_same(normalise(done), {
        "operationType": "BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY",
        "jobId": job_id,
        "state": "BATCH_OPERATION_STATE_COMPLETED",
        "startTime": "<time>",
        "closeTime": "<time>",
        "totalOperationCount": "2",
        "completeOperationCount": "2",
        "identity": done["identity"],
        "reason": "described",
        "query": query,
    })

    r = await cli("batch", "describe", "--job-id", job_id)
    assert (r.rc, r.err) == (0, ""), r
    lines = [line.split() for line in r.out.splitlines()]
    assert ["State", "Completed"] in lines, r
    assert ["Type", "TerminateActivity"] in lines, r
    assert ["CompletedCount", "2/2"] in lines, r
    assert ["FailureCount", "0/2"] in lines, r

    mine = [normalise(e) for e in await batch_list_until(cli, job_id, "BATCH_OPERATION_STATE_COMPLETED")]
    assert mine == [{"jobId": job_id, "state": "BATCH_OPERATION_STATE_COMPLETED",
                     "startTime": "<time>", "closeTime": "<time>",
                     "operationType": "BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY"}], mine
    r = await cli("batch", "list")
    assert (r.rc, r.err) == (0, ""), r
    assert r.out.split()[:4] == ["JobId", "State", "StartTime", "CloseTime"], r
    assert any(line.split()[:2] == [job_id, "Completed"] for line in r.out.splitlines()), r

    r = await cli("batch", "describe", "--job-id", unique("no-such-job"))
    assert r.rc == 1, r


async def test_batch_stop_running(cli, client):
    """A batch held back by a low --rps is stopped while it runs: it ends FAILED and
    leaves the rest of its runs alone."""
    n = 500
    task_queue = unique("tq")
    gate = asyncio.Semaphore(50)

    async def start_one(i):
        async with gate:
            await client.start_activity("compose_greeting", id=f"{task_queue}-{i}",
                                        task_queue=task_queue,
                                        start_to_close_timeout=timedelta(seconds=10))

    await asyncio.gather(*(start_one(i) for i in range(n)))
    query = f"TaskQueue = '{task_queue}'"
    await eventually(lambda: count(cli, query), lambda c: c.get("count", "0") == str(n), "all visible")

    job_id = await start_batch(cli, "terminate", query, "--reason", "slow", "--rps", "1")
    running = await describe_batch(cli, job_id)
    assert (running["state"], running["jobId"], running["reason"], running["query"]) == (
        "BATCH_OPERATION_STATE_RUNNING", job_id, "slow", query), running
    assert "closeTime" not in running, running
    mine = await batch_list_until(cli, job_id, "BATCH_OPERATION_STATE_RUNNING")
    assert [normalise(e) for e in mine] == [{
        "jobId": job_id, "state": "BATCH_OPERATION_STATE_RUNNING", "startTime": "<time>",
        "operationType": "BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY"}], mine

    r = await cli("batch", "terminate", "--job-id", job_id, "--reason", "stop it")
    assert (r.rc, r.err) == (0, ""), r
    stopped = await batch_done(cli, job_id)
    assert stopped["state"] == "BATCH_OPERATION_STATE_FAILED", stopped
    assert "closeTime" in stopped, stopped

    # Once stopped, no more runs are terminated: some are still running.
    counted = await count(cli, f"{query} GROUP BY ExecutionStatus")
    assert groups(counted).get(("Running",), 0) > 0, counted
    r = await cli("batch", "terminate", "--job-id", job_id, "--reason", "again")
    assert r.rc == 1, r
    assert r.err == f"Error: could not find Batch Job '{job_id}'\n", r
