"""`temporal task-queue ...` scenarios: `config set` and `config get` (a queue
rate limit that wins over the worker's, fairness weights, clearing) and
`describe` (the backlog, then the worker that drained it).

Activities run on a Python SDK worker in the test's event loop, as in
test_activity.py.
"""
import asyncio

from clitools import table_rows, unique
from compat_helpers import assert_five_per_second, dispatch_times

WORKER_IDENTITY = "cli-task-queue-worker"


def tq_args(command, task_queue, *extra):
    return ("task-queue", *command, "--task-queue", task_queue,
            "--task-queue-type", "activity", *extra)


async def start_records(cli, task_queue, prefix, n):
    for i in range(n):
        r = await cli("activity", "start", "--type", "record",
                      "--activity-id", unique(f"{prefix}{i}"), "--task-queue", task_queue,
                      "--start-to-close-timeout", "60s", "--input", f'"{prefix}{i}"')
        assert r.rc == 0, r


async def describe_until(cli, task_queue, check, timeout=15.0):
    """`task-queue describe -o json` until `check` accepts its output."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await cli(*tq_args(("describe",), task_queue, "-o", "json"))
        assert r.rc == 0, r
        if check(r.json()) or asyncio.get_running_loop().time() > deadline:
            return r
        await asyncio.sleep(0.1)


async def test_config_set_and_get(cli, client):
    task_queue = unique("cli-config")
    r = await cli(*tq_args(("config", "get"), task_queue))
    assert r.rc == 0, r
    assert "No configuration found for task queue" in r.out, r

    r = await cli(*tq_args(("config", "set"), task_queue, "--queue-rps-limit", "5",
                           "--queue-rps-limit-reason", "downstream is slow",
                           "--fairness-key-weight", "gold=3", "--identity", "ops"))
    assert r.rc == 0, r
    assert "Successfully updated task queue configuration" in r.out, r

    r = await cli(*tq_args(("config", "get"), task_queue, "-o", "json"))
    assert r.rc == 0, r
    config = r.json()
    assert config["queueRateLimit"]["rateLimit"]["requestsPerSecond"] == 5, config
    assert config["queueRateLimit"]["metadata"]["reason"] == "downstream is slow"
    assert config["queueRateLimit"]["metadata"]["updateIdentity"] == "ops"
    assert config["fairnessWeightOverrides"] == {"gold": 3}, config

    r = await cli(*tq_args(("config", "get"), task_queue))
    assert r.rc == 0, r
    rows = {row[0]: row for row in table_rows(r.out) if row}
    assert rows["Queue Rate Limit"][1:3] == ["5.00 rps", "downstream is slow"], r

    # The limit holds against a worker asking for 1,000/s.
    await start_records(cli, task_queue, "c", 40)
    assert_five_per_second(await dispatch_times(client, task_queue, 40, 1000))

    # `default` clears the limit; the reason of the clearing is kept.
    r = await cli(*tq_args(("config", "set"), task_queue, "--queue-rps-limit", "default",
                           "--queue-rps-limit-reason", "fixed"))
    assert r.rc == 0, r
    r = await cli(*tq_args(("config", "get"), task_queue))
    assert r.rc == 0, r
    rows = {row[0]: row for row in table_rows(r.out) if row}
    assert rows["Queue Rate Limit"][1:3] == ["Not Set", "fixed"], r


async def test_describe_shows_backlog_and_poller(cli, client):
    task_queue = unique("cli-describe")
    await start_records(cli, task_queue, "d", 3)
    # Temporal's stats are approximate and cached for a few seconds; Errand's
    # are exact at once.
    r = await describe_until(cli, task_queue, lambda d: (d.get("stats") or [{}])[0]
                             .get("approximateBacklogCount") == 3)
    stats = r.json()["stats"]
    assert [(s["buildId"], s["taskQueueType"], s["approximateBacklogCount"])
            for s in stats] == [("UNVERSIONED", "activity", 3)], r
    assert stats[0]["tasksAddRate"] > 0, r
    # The text form: one statistics row, and no poller yet.
    r = await cli(*tq_args(("describe",), task_queue))
    assert r.rc == 0, r
    rows = table_rows(r.out)
    assert rows[0] == ["Task Queue Statistics:"], r
    assert rows[2][:3] == ["UNVERSIONED", "activity", "3"], r
    assert rows[3:] == [["Pollers:"], ["BuildID", "TaskQueueType", "Identity",
                                       "LastAccessTime", "RatePerSecond"]], r

    started = await dispatch_times(client, task_queue, 3, 50, WORKER_IDENTITY)
    assert len(started) == 3
    r = await describe_until(cli, task_queue, lambda d: (d.get("stats") or [{}])[0]
                             .get("approximateBacklogCount", 0) == 0)
    described = r.json()
    assert described["stats"][0]["approximateBacklogCount"] == 0, r
    assert described["stats"][0]["tasksDispatchRate"] > 0, r
    pollers = [(p["identity"], p["ratePerSecond"]) for p in described["pollers"]]
    assert pollers == [(WORKER_IDENTITY, 50)], r
