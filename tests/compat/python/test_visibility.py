"""Visibility scenarios (ListActivityExecutions / CountActivityExecutions)
with the Python SDK: list by task queue, filter by type, status, ID prefix and
start time, count with and without GROUP BY, pagination and default order,
invalid queries, and custom search attributes.

Checked against a real Temporal dev server (CLI 1.8.2, Server 1.31.2, and
again CLI 1.9.1, Server 1.32.0) in oracle mode (COMPAT_ORACLE_ADDRESS; see
conftest.py). The dev server's visibility store is SQLite and lags writes
slightly, so every query is polled with a deadline until the expected answer
appears; on a read-your-writes server the first poll answers.
"""
import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import ListActivityExecutionsRequest
from temporalio.client import ActivityExecutionStatus, Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from compat_helpers import eventually, register_search_attributes

TIMEOUT = timedelta(seconds=10)

Status = ActivityExecutionStatus


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


def rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


async def list_all(client, query: str) -> list:
    return [a async for a in client.list_activities(query)]


async def list_until(client, query: str, expected: dict[str, Status]) -> list:
    """Lists until exactly the expected IDs show up, each with its status."""
    return await eventually(
        lambda: list_all(client, query),
        lambda got: {a.activity_id: a.status for a in got} == expected,
        f"list {query!r}")


async def ids_until(client, query: str, expected: set[str]) -> set[str]:
    got = await eventually(
        lambda: list_all(client, query),
        lambda got: {a.activity_id for a in got} == expected,
        f"list {query!r}")
    return {a.activity_id for a in got}


@activity.defn
async def alpha(mode: str) -> str:
    if mode == "fail":
        raise ApplicationError("alpha failed", non_retryable=True)
    return "alpha done"


@activity.defn
async def beta(mode: str) -> str:
    if mode == "fail":
        raise ApplicationError("beta failed", non_retryable=True)
    return "beta done"


async def run_to_close(client, worker_activities, task_queue, plan):
    """Runs each (id, activity, mode) to its end on a worker; returns handles by ID."""
    handles = {}
    async with Worker(client, task_queue=task_queue, activities=worker_activities):
        for activity_id, fn, mode in plan:
            handle = await client.start_activity(
                fn, mode, id=activity_id, task_queue=task_queue, start_to_close_timeout=TIMEOUT)
            try:
                await handle.result()
            except Exception:
                pass
            handles[activity_id] = handle
    return handles


async def start_running(client, task_queue, plan):
    """Starts each (id, activity type name); nobody polls, so they stay running."""
    handles = {}
    for activity_id, type_name in plan:
        handles[activity_id] = await client.start_activity(
            type_name, "x", id=activity_id, task_queue=task_queue,
            start_to_close_timeout=TIMEOUT)
    return handles


# 1. List by task queue ------------------------------------------------------

async def test_list_by_task_queue_returns_exactly_those_activities(client):
    task_queue = unique("tq-vis")
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    done = await run_to_close(client, [alpha], task_queue, [
        (unique("vis-done"), alpha, "ok"), (unique("vis-done"), alpha, "ok")])
    # The worker is gone: these stay scheduled.
    running = await start_running(client, task_queue, [
        (unique("vis-run"), "gamma"), (unique("vis-run"), "gamma"), (unique("vis-run"), "gamma")])
    after = datetime.now(timezone.utc) + timedelta(seconds=1)

    expected = {**{i: Status.COMPLETED for i in done}, **{i: Status.RUNNING for i in running}}
    listed = await list_until(client, f"TaskQueue = '{task_queue}'", expected)
    assert len(listed) == 5

    for info in listed:
        handle = {**done, **running}[info.activity_id]
        assert info.activity_run_id == handle.run_id
        assert info.task_queue == task_queue
        assert info.namespace == "default"
        assert before <= info.schedule_time <= after
        # The list's StartTime is the visibility record's start time; the
        # real server records it a few microseconds before describe's
        # schedule_time, so only closeness is asserted.
        desc = await handle.describe()
        assert abs(info.schedule_time - desc.schedule_time) < timedelta(seconds=1)
        if info.activity_id in done:
            assert info.activity_type == "alpha"
            assert info.close_time is not None
            assert info.schedule_time <= info.close_time <= after
            assert info.close_time == desc.close_time
            # Execution duration runs from schedule (start) time to close time.
            assert info.execution_duration is not None
            assert abs(info.execution_duration
                       - (info.close_time - info.schedule_time)) <= timedelta(milliseconds=1)
        else:
            assert info.activity_type == "gamma"
            assert info.close_time is None
            assert info.execution_duration is None


# 2. List by type, status, ID prefix and start time ---------------------------

async def test_list_filters_by_type_status_id_prefix_and_start_time(client):
    task_queue = unique("tq-vis")
    prefix = unique("vis")
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    closed = await run_to_close(client, [alpha, beta], task_queue, [
        (f"{prefix}-alpha-c1", alpha, "ok"),
        (f"{prefix}-alpha-c2", alpha, "ok"),
        (f"{prefix}-alpha-f1", alpha, "fail"),
        (f"{prefix}-beta-c1", beta, "ok"),
        (f"{prefix}-beta-f1", beta, "fail"),
        (f"{prefix}-beta-f2", beta, "fail"),
    ])
    await asyncio.sleep(0.05)
    middle = datetime.now(timezone.utc)
    await asyncio.sleep(0.05)
    running = await start_running(client, task_queue, [
        (f"{prefix}-alpha-r1", "alpha"), (f"{prefix}-beta-r1", "beta"),
        (f"{prefix}-beta-r2", "beta")])

    p = prefix
    await list_until(client, f"TaskQueue = '{task_queue}'", {
        f"{p}-alpha-c1": Status.COMPLETED, f"{p}-alpha-c2": Status.COMPLETED,
        f"{p}-alpha-f1": Status.FAILED, f"{p}-beta-c1": Status.COMPLETED,
        f"{p}-beta-f1": Status.FAILED, f"{p}-beta-f2": Status.FAILED,
        f"{p}-alpha-r1": Status.RUNNING, f"{p}-beta-r1": Status.RUNNING,
        f"{p}-beta-r2": Status.RUNNING})

    tq = f"TaskQueue = '{task_queue}'"
    cases = {
        f"{tq} AND ActivityType = 'alpha' AND ExecutionStatus = 'Completed'":
            {f"{p}-alpha-c1", f"{p}-alpha-c2"},
        f"{tq} AND ActivityType = 'beta' AND ExecutionStatus = 'Failed'":
            {f"{p}-beta-f1", f"{p}-beta-f2"},
        f"{tq} AND ActivityType = 'alpha' AND ExecutionStatus = 'Failed'": {f"{p}-alpha-f1"},
        f"{tq} AND ExecutionStatus = 'Running'": set(running),
        f"{tq} AND ExecutionStatus = 'Canceled'": set(),
        f"{tq} AND ExecutionStatus IN ('Failed', 'Completed')": set(closed),
        f"{tq} AND ActivityType = 'beta'":
            {f"{p}-beta-c1", f"{p}-beta-f1", f"{p}-beta-f2", f"{p}-beta-r1", f"{p}-beta-r2"},
        f"{tq} AND ActivityType != 'beta'":
            {f"{p}-alpha-c1", f"{p}-alpha-c2", f"{p}-alpha-f1", f"{p}-alpha-r1"},
        f"ActivityId STARTS_WITH '{p}-'": set(closed) | set(running),
        f"ActivityId STARTS_WITH '{p}-beta-f'": {f"{p}-beta-f1", f"{p}-beta-f2"},
        f"ActivityId = '{p}-alpha-c2'": {f"{p}-alpha-c2"},
        f"{tq} AND StartTime > '{rfc3339(before)}'": set(closed) | set(running),
        f"{tq} AND StartTime < '{rfc3339(before)}'": set(),
        f"{tq} AND StartTime > '{rfc3339(middle)}'": set(running),
        f"{tq} AND StartTime BETWEEN '{rfc3339(before)}' AND '{rfc3339(middle)}'": set(closed),
        f"{tq} AND CloseTime IS NULL": set(running),
        f"{tq} AND (ActivityType = 'alpha' OR ExecutionStatus = 'Running')":
            {f"{p}-alpha-c1", f"{p}-alpha-c2", f"{p}-alpha-f1", f"{p}-alpha-r1",
             f"{p}-beta-r1", f"{p}-beta-r2"},
    }
    for query, expected in cases.items():
        assert await ids_until(client, query, expected) == expected, query


# 3. Count --------------------------------------------------------------------

async def test_count_with_and_without_group_by_execution_status(client):
    task_queue = unique("tq-vis")
    await run_to_close(client, [alpha, beta], task_queue, [
        (unique("cnt"), alpha, "ok"), (unique("cnt"), beta, "ok"), (unique("cnt"), alpha, "fail")])
    await start_running(client, task_queue, [
        (unique("cnt"), "alpha"), (unique("cnt"), "alpha"), (unique("cnt"), "beta")])
    tq = f"TaskQueue = '{task_queue}'"

    def group_counts(result):
        return {tuple(g.group_values): g.count for g in result.groups}

    grouped = await eventually(
        lambda: client.count_activities(f"{tq} GROUP BY ExecutionStatus"),
        lambda r: group_counts(r) == {("Completed",): 2, ("Failed",): 1, ("Running",): 3},
        "count GROUP BY ExecutionStatus")
    assert grouped.count == 6
    for group in grouped.groups:
        assert len(group.group_values) == 1
        assert isinstance(group.group_values[0], str)

    total = await client.count_activities(tq)
    assert total.count == 6
    assert list(total.groups) == []

    running = await client.count_activities(f"{tq} AND ExecutionStatus = 'Running'")
    assert running.count == 3
    assert list(running.groups) == []
    alphas = await client.count_activities(f"{tq} AND ActivityType = 'alpha'")
    assert alphas.count == 4
    alpha_groups = await client.count_activities(
        f"{tq} AND ActivityType = 'alpha' GROUP BY ExecutionStatus")
    assert alpha_groups.count == 4
    assert group_counts(alpha_groups) == {("Completed",): 1, ("Failed",): 1, ("Running",): 2}
    nothing = await client.count_activities(f"{tq} AND ActivityType = 'nope'")
    assert nothing.count == 0
    assert list(nothing.groups) == []


# 4. Pagination and default order --------------------------------------------

async def test_pagination_and_default_order(client):
    task_queue = unique("tq-vis")
    prefix = unique("page")
    ids = [f"{prefix}-{i}" for i in range(7)]
    handles = {}
    for activity_id in ids:  # start order a0..a6, nobody polls
        handles[activity_id] = await client.start_activity(
            "paged", id=activity_id, task_queue=task_queue, start_to_close_timeout=TIMEOUT)
        await asyncio.sleep(0.01)
    # Close three of them in an order unlike their start order.
    await handles[ids[1]].terminate(reason="first to close")
    await asyncio.sleep(0.01)
    await handles[ids[4]].cancel(reason="second to close")
    await asyncio.sleep(0.01)
    await handles[ids[0]].terminate(reason="last to close")

    # Running first (newest start first), then closed by close time, newest first.
    expected_order = [ids[6], ids[5], ids[3], ids[2], ids[0], ids[4], ids[1]]
    query = f"TaskQueue = '{task_queue}'"
    listed = await list_until(client, query, {
        ids[0]: Status.TERMINATED, ids[1]: Status.TERMINATED, ids[2]: Status.RUNNING,
        ids[3]: Status.RUNNING, ids[4]: Status.CANCELED, ids[5]: Status.RUNNING,
        ids[6]: Status.RUNNING})
    assert [a.activity_id for a in listed] == expected_order

    # Raw pages of 3: 3, 3, 1; a token after each full page, none after the last.
    pages, token = [], b""
    for _ in range(10):
        resp = await client.workflow_service.list_activity_executions(
            ListActivityExecutionsRequest(
                namespace="default", query=query, page_size=3, next_page_token=token))
        pages.append([e.activity_id for e in resp.executions])
        token = resp.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [i for p in pages for i in p]
    assert flat == expected_order
    assert len(set(flat)) == 7

    # The SDK iterator with page_size=3 pages through the same sequence.
    it = client.list_activities(query, page_size=3)
    await it.fetch_next_page()
    assert [a.activity_id for a in it.current_page] == expected_order[:3]
    assert it.next_page_token
    assert [a.activity_id async for a in client.list_activities(query, page_size=3)] \
        == expected_order
    # limit stops early.
    assert [a.activity_id async for a in client.list_activities(query, page_size=3, limit=4)] \
        == expected_order[:4]


# 5. Invalid queries --------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "ActivityType = ",                    # malformed
    "NoSuchAttr = 'x'",                   # unknown attribute
    "ActivityType = 'x' AND",             # malformed
])
async def test_invalid_query_is_invalid_argument(client, query):
    # Messages differ between servers (the real one says e.g. "invalid query:
    # malformed SQL query: syntax error at position 42" or "... column name
    # 'NoSuchAttr' is not a valid search attribute"); only the code is asserted.
    with pytest.raises(RPCError) as err:
        await list_all(client, query)
    assert err.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert err.value.message
    with pytest.raises(RPCError) as err:
        await client.count_activities(query)
    assert err.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert err.value.message


async def test_group_by_misuse_is_invalid_argument(client):
    # Count groups by ExecutionStatus only, and by one field only.
    for query in ("ActivityType = 'x' GROUP BY ActivityType",
                  "GROUP BY TaskQueue",
                  "ExecutionStatus = 'Running' GROUP BY ExecutionStatus, ActivityType"):
        with pytest.raises(RPCError) as err:
            await client.count_activities(query)
        assert err.value.status == RPCStatusCode.INVALID_ARGUMENT, query
    # List accepts a GROUP BY and lists the matching rows ungrouped (Server
    # 1.32.0; 1.31.2 rejected it with INVALID_ARGUMENT).
    task_queue = unique("tq-vis")
    running = await start_running(client, task_queue, [(unique("grp"), "grouped")])
    assert await ids_until(client, f"TaskQueue = '{task_queue}' GROUP BY ExecutionStatus",
                           set(running)) == set(running)


# 6. Custom search attributes -------------------------------------------------

KEYWORD = SearchAttributeKey.for_keyword("CustomKeywordField")
INT = SearchAttributeKey.for_int("CustomIntField")


async def ensure_custom_search_attributes(client):
    """Registers CustomKeywordField / CustomIntField unless already there."""
    wanted = {KEYWORD.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
              INT.name: IndexedValueType.INDEXED_VALUE_TYPE_INT}
    await register_search_attributes(client, wanted)
    have = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default"))
    for name, value_type in wanted.items():
        assert have.custom_attributes[name] == value_type


async def test_custom_search_attributes(client):
    await ensure_custom_search_attributes(client)
    task_queue = unique("tq-vis")
    value = unique("kw")

    async def start(activity_id, attrs):
        # A freshly added search attribute may take a moment to reach the
        # server's namespace cache: retry the start until it is accepted.
        async def attempt():
            try:
                return await client.start_activity(
                    "tagged", id=activity_id, task_queue=task_queue,
                    start_to_close_timeout=TIMEOUT,
                    search_attributes=TypedSearchAttributes(attrs) if attrs else None)
            except RPCError as err:
                if err.status != RPCStatusCode.INVALID_ARGUMENT:
                    raise
                return err
        return await eventually(attempt, lambda r: not isinstance(r, RPCError),
                                f"start {activity_id}")

    big = await start(unique("sa"), [SearchAttributePair(KEYWORD, value),
                                     SearchAttributePair(INT, 42)])
    small = await start(unique("sa"), [SearchAttributePair(KEYWORD, value),
                                       SearchAttributePair(INT, 7)])
    plain = await start(unique("sa"), [])

    desc = await big.describe()
    assert desc.typed_search_attributes.get(KEYWORD) == value
    assert desc.typed_search_attributes.get(INT) == 42

    tq = f"TaskQueue = '{task_queue}'"
    assert await ids_until(client, f"CustomKeywordField = '{value}'", {big.id, small.id})
    assert await ids_until(client, f"{tq} AND CustomIntField > 10", {big.id})
    assert await ids_until(client, f"{tq} AND CustomIntField <= 10", {small.id})
    assert await ids_until(client, f"{tq} AND CustomKeywordField IS NULL", {plain.id})
    count = await client.count_activities(f"CustomKeywordField = '{value}' GROUP BY ExecutionStatus")
    assert count.count == 2
    assert [(list(g.group_values), g.count) for g in count.groups] == [(["Running"], 2)]

    listed = {a.activity_id: a for a in await list_all(client, tq)}
    assert listed[big.id].typed_search_attributes.get(KEYWORD) == value
    assert listed[big.id].typed_search_attributes.get(INT) == 42
    assert listed[small.id].typed_search_attributes.get(INT) == 7
    assert listed[plain.id].typed_search_attributes.get(KEYWORD) is None

    # A search attribute the namespace does not know is rejected at start.
    with pytest.raises(RPCError) as err:
        await client.start_activity(
            "tagged", id=unique("sa"), task_queue=task_queue, start_to_close_timeout=TIMEOUT,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(SearchAttributeKey.for_keyword("NoSuchCustomAttr"), "a")]))
    assert err.value.status == RPCStatusCode.INVALID_ARGUMENT
