"""`temporal activity list` and `temporal activity count` scenarios: queries,
GROUP BY ExecutionStatus, paging with --page-size and --limit, and malformed
queries.

Checked against a Temporal dev server (CLI 1.9.1, Server 1.32.0) in oracle
mode (COMPAT_ORACLE_ADDRESS; see conftest.py). Its visibility store lags
writes slightly, so each listing is repeated until the expected answer shows
up (a read-your-writes server answers at the first call).
"""
import pytest

from clitools import (
    assert_same, eventually, normalise, reserved_search_attributes_dropped, table_rows, unique,
)


async def start(cli, activity_id, task_queue, type_name="greet"):
    r = await cli("activity", "start", "--type", type_name, "--activity-id", activity_id,
                  "--task-queue", task_queue, "--start-to-close-timeout", "10s", "-o", "none")
    assert r.rc == 0, r


async def close(cli, activity_id, how):
    if how == "complete":
        r = await cli("activity", "complete", "-a", activity_id, "--result", '"ok"')
    elif how == "terminate":
        r = await cli("activity", "terminate", "-a", activity_id, "--reason", "done")
    elif how == "cancel":
        r = await cli("activity", "cancel", "-a", activity_id)
    else:
        raise ValueError(how)
    assert r.rc == 0, r


async def list_json(cli, query, *extra):
    r = await cli("activity", "list", "--query", query, *extra, "-o", "json")
    assert r.rc == 0, r
    return r.json()


async def list_until(cli, query, check, what, *extra):
    return await eventually(lambda: list_json(cli, query, *extra), check, what)


def ids(entries):
    return [e["activityId"] for e in entries]


# list ----------------------------------------------------------------------------------

async def test_list_with_queries(cli):
    task_queue = unique("tq")
    running, completed, terminated = unique("run"), unique("done"), unique("term")
    await start(cli, running, task_queue, "alpha")
    await start(cli, completed, task_queue, "beta")
    await start(cli, terminated, task_queue, "alpha")
    await close(cli, completed, "complete")
    await close(cli, terminated, "terminate")

    # Running runs first, then closed ones, the last closed first.
    query = f"TaskQueue = '{task_queue}'"
    entries = await list_until(cli, query, lambda e: len(e) == 3 and all(
        x["status"] != "ACTIVITY_EXECUTION_STATUS_RUNNING" for x in e[1:]), "list by task queue")
    assert ids(entries) == [running, terminated, completed]
    assert [(e["activityType"]["name"], e["status"], e["taskQueue"]) for e in entries] == [
        ("alpha", "ACTIVITY_EXECUTION_STATUS_RUNNING", task_queue),
        ("alpha", "ACTIVITY_EXECUTION_STATUS_TERMINATED", task_queue),
        ("beta", "ACTIVITY_EXECUTION_STATUS_COMPLETED", task_queue),
    ]

    # The text table.
    r = await cli("activity", "list", "--query", query)
    assert (r.rc, r.err) == (0, ""), r
    rows = table_rows(r.out)
    assert rows[0] == ["Status", "ActivityId", "Type", "StartTime"], r
    assert [row[:3] for row in rows[1:]] == [
        ["Running", running, "alpha"], ["Terminated", terminated, "alpha"],
        ["Completed", completed, "beta"]], r

    # Filters, as the docs show them.
    for q, expected in [
        (f"{query} AND ActivityType = 'alpha'", [running, terminated]),
        (f"{query} AND ExecutionStatus = 'Running'", [running]),
        (f"{query} AND ExecutionStatus != 'Running'", [terminated, completed]),
        (f"ActivityType = 'beta' AND {query}", [completed]),
        (f"ActivityId = '{terminated}'", [terminated]),
        (f"{query} AND ActivityId IN ('{running}', '{completed}')", [running, completed]),
        (f"{query} AND ActivityType = 'gamma'", []),
    ]:
        got = await list_json(cli, q)
        assert ids(got) == expected, q

    # jsonl prints one entry per line.
    r = await cli("activity", "list", "-q", query, "-o", "jsonl")
    assert r.rc == 0, r
    assert ids(r.jsonl()) == [running, terminated, completed]


def storage_statistics_dropped(entry: dict) -> dict:
    """stateSizeBytes, and stateTransitionCount while running, are statistics
    of the visibility store: the dev server's SQLite store leaves them 0
    (omitted), Errand fills them in. Closed rows agree on the count."""
    entry = {k: v for k, v in entry.items() if k != "stateSizeBytes"}
    if entry.get("status") == "ACTIVITY_EXECUTION_STATUS_RUNNING":
        entry.pop("stateTransitionCount", None)
    return entry


async def test_list_entry_fields(cli):
    task_queue = unique("tq")
    running, completed = unique("run"), unique("done")
    await start(cli, running, task_queue)
    await start(cli, completed, task_queue)
    await close(cli, completed, "complete")
    entries = await list_until(
        cli, f"TaskQueue = '{task_queue}'",
        lambda e: [x["status"] for x in e] == ["ACTIVITY_EXECUTION_STATUS_RUNNING",
                                               "ACTIVITY_EXECUTION_STATUS_COMPLETED"],
        "list")
    entries = [normalise(storage_statistics_dropped(reserved_search_attributes_dropped(e)))
               for e in entries]
    assert_same(entries, [{
        "activityId": running,
        "runId": "<run-id>",
        "activityType": {"name": "greet"},
        "scheduleTime": "<time>",
        "status": "ACTIVITY_EXECUTION_STATUS_RUNNING",
        "searchAttributes": {},
        "taskQueue": task_queue,
        "executionTime": "<time>",
    }, {
        "activityId": completed,
        "runId": "<run-id>",
        "activityType": {"name": "greet"},
        "scheduleTime": "<time>",
        "closeTime": "<time>",
        "status": "ACTIVITY_EXECUTION_STATUS_COMPLETED",
        "searchAttributes": {},
        "taskQueue": task_queue,
        "stateTransitionCount": "2",
        "executionDuration": "<duration>",
        "executionTime": "<time>",
    }], "list entries [running, closed]")


async def test_list_ignores_group_by(cli):
    """List takes a Count query with GROUP BY and lists what the filter matches."""
    task_queue = unique("tq")
    a, b = unique("a"), unique("b")
    await start(cli, a, task_queue)
    await start(cli, b, task_queue)
    await close(cli, a, "complete")
    query = f"TaskQueue = '{task_queue}'"
    await list_until(cli, query, lambda e: ids(e) == [b, a], "list")
    r = await cli("activity", "list", "--query", f"{query} GROUP BY ExecutionStatus", "-o", "json")
    assert r.rc == 0, r
    assert ids(r.json()) == [b, a]


# count-group-by -------------------------------------------------------------------------

async def test_count_with_and_without_group_by(cli):
    task_queue = unique("tq")
    plan = [(unique("r1"), None), (unique("r2"), None), (unique("k"), "complete"),
            (unique("t"), "terminate"), (unique("c"), "cancel")]
    for activity_id, _ in plan:
        await start(cli, activity_id, task_queue)
    for activity_id, how in plan:
        if how:
            await close(cli, activity_id, how)
    query = f"TaskQueue = '{task_queue}'"

    async def count(q, *extra):
        r = await cli("activity", "count", "--query", q, *extra)
        assert (r.rc, r.err) == (0, ""), r
        return r

    # Wait until visibility has every close.
    await eventually(lambda: count(f"{query} AND ExecutionStatus = 'Running'", "-o", "json"),
                     lambda r: r.json() == {"count": "2"}, "count of running")

    r = await count(query)
    assert r.out == "Total: 5\n", r
    r = await count(query, "-o", "json")
    assert r.json() == {"count": "5"}, r

    grouped = f"{query} GROUP BY ExecutionStatus"
    r = await count(grouped)
    assert r.out == ("Total: 5\n"
                     "Group total: 1, values: Canceled\n"
                     "Group total: 1, values: Completed\n"
                     "Group total: 2, values: Running\n"
                     "Group total: 1, values: Terminated\n"), r
    r = await count(grouped, "-o", "json")
    assert r.json() == {"count": "5", "groups": [
        {"groupValues": ["Canceled"], "count": "1"},
        {"groupValues": ["Completed"], "count": "1"},
        {"groupValues": ["Running"], "count": "2"},
        {"groupValues": ["Terminated"], "count": "1"},
    ]}, r

    r = await count(f"{query} AND ExecutionStatus != 'Running' GROUP BY ExecutionStatus",
                    "-o", "json")
    assert [g["groupValues"] for g in r.json()["groups"]] == [["Canceled"], ["Completed"],
                                                              ["Terminated"]], r
    # Nothing matches: a zero count (left out of the JSON) and no groups.
    r = await count(f"{query} AND ActivityType = 'none' GROUP BY ExecutionStatus", "-o", "json")
    assert r.json() == {}, r
    r = await count(f"{query} AND ActivityType = 'none'")
    assert r.out == "Total: 0\n", r


# pagination ---------------------------------------------------------------------------

async def test_list_pages_and_limit(cli):
    task_queue = unique("tq")
    started = [unique(f"p{i}") for i in range(7)]
    for activity_id in started:
        await start(cli, activity_id, task_queue)
    # Close in an order different from the start order: closed runs are listed
    # by close time, the latest first, after the running ones (latest start first).
    for activity_id in (started[2], started[0], started[4]):
        await close(cli, activity_id, "complete")
    expected = [started[6], started[5], started[3], started[1], started[4], started[0], started[2]]
    query = f"TaskQueue = '{task_queue}'"
    await list_until(cli, query, lambda e: ids(e) == expected, "default order")

    # Pages of 2 and 3 give the same sequence.
    for page_size in ("2", "3"):
        got = await list_json(cli, query, "--page-size", page_size)
        assert ids(got) == expected, page_size
        r = await cli("activity", "list", "-q", query, "--page-size", page_size, "-o", "jsonl")
        assert r.rc == 0, r
        assert ids(r.jsonl()) == expected, page_size
    # --limit stops early, within a page and across pages.
    assert ids(await list_json(cli, query, "--limit", "2")) == expected[:2]
    assert ids(await list_json(cli, query, "--limit", "5", "--page-size", "2")) == expected[:5]
    assert ids(await list_json(cli, query, "--limit", "50", "--page-size", "2")) == expected

    # Text output: one header, one row per activity, whatever the page size.
    r = await cli("activity", "list", "-q", query, "--page-size", "2")
    assert (r.rc, r.err) == (0, ""), r
    rows = table_rows(r.out)
    assert rows[0] == ["Status", "ActivityId", "Type", "StartTime"], r
    assert [row[1] for row in rows[1:]] == expected, r


# bad-query-error ------------------------------------------------------------------------

# A malformed query: Temporal prints "syntax error at position N" with N counted
# in its internally rewritten query; Errand keeps that wording, gives the
# position in the user's query and says what it expected there. Only the
# shared prefix is compared for these.
MALFORMED = "malformed SQL query: syntax error at position "


@pytest.mark.parametrize("command,query,message", [
    ("list", "TaskQueue = ", MALFORMED),
    ("count", "TaskQueue = ", MALFORMED),
    ("list", "ActivityType = 'x' AND", MALFORMED),
    ("list", "NoSuchAttr = 'x'", "invalid search attribute: NoSuchAttr"),
    ("count", "NoSuchAttr = 'x'", "invalid search attribute: NoSuchAttr"),
    ("count", "GROUP BY TaskQueue", "operation is not supported: "
     "'GROUP BY' clause is not supported for search attribute TaskQueue"),
])
async def test_bad_query_is_rejected(cli, command, query, message):
    doing = {"list": "listing", "count": "counting"}[command]
    for out_args in ((), ("-o", "json")):
        r = await cli("activity", command, "--query", query, *out_args)
        assert r.rc == 1, r
        # The JSON list is opened and closed before the error is printed.
        assert r.out == ("[\n]\n" if command == "list" and out_args else ""), r
        assert r.err.startswith(f"Error: failed {doing} activities: invalid query: "), r
        expected = f"Error: failed {doing} activities: invalid query: {message}"
        if message == MALFORMED:
            assert r.err.startswith(expected), r
        else:
            assert r.err == expected + "\n", r
