"""Custom search attribute values given at start are checked against the type
the namespace registered for them, as Temporal does; well-typed values are
queryable, including by time range."""
import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from compat_helpers import register_search_attributes

TIMEOUT = timedelta(seconds=30)
INT = SearchAttributeKey.for_int("ValueCheckInt")
BOOL = SearchAttributeKey.for_bool("ValueCheckBool")
WHEN = SearchAttributeKey.for_datetime("ValueCheckTime")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


async def register(client):
    await register_search_attributes(
        client, {INT.name: IndexedValueType.INDEXED_VALUE_TYPE_INT,
                 BOOL.name: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
                 WHEN.name: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME})


async def start(client, task_queue, pairs):
    return await client.start_activity(
        "tagged", id=unique("sav"), task_queue=task_queue, start_to_close_timeout=TIMEOUT,
        search_attributes=TypedSearchAttributes(pairs))


async def start_until_known(client, task_queue, pairs):
    """A freshly added attribute may take a moment to reach a real server's
    namespace cache: retry while the start says it has no mapping."""
    for _ in range(100):
        try:
            return await start(client, task_queue, pairs)
        except RPCError as err:
            if "no mapping defined" not in err.message:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("search attributes never became known")


async def test_wrongly_typed_values_are_rejected_with_temporals_message(client):
    await register(client)
    task_queue = unique("tq-sav")
    await start_until_known(client, task_queue, [SearchAttributePair(INT, 1)])
    cases = [
        (SearchAttributePair(SearchAttributeKey.for_keyword(INT.name), "abc"),
         "invalid value for search attribute ValueCheckInt of type Int: abc"),
        (SearchAttributePair(SearchAttributeKey.for_float(INT.name), 1.5),
         "invalid value for search attribute ValueCheckInt of type Int: 1.5"),
        (SearchAttributePair(SearchAttributeKey.for_keyword(BOOL.name), "123"),
         "invalid value for search attribute ValueCheckBool of type Bool: 123"),
        (SearchAttributePair(SearchAttributeKey.for_keyword(WHEN.name), "yesterday"),
         "invalid value for search attribute ValueCheckTime of type Datetime: yesterday"),
    ]
    for pair, message in cases:
        with pytest.raises(RPCError) as err:
            await start(client, task_queue, [pair])
        assert err.value.status == RPCStatusCode.INVALID_ARGUMENT, message
        assert err.value.message == message
    # Nothing was created by the rejected starts.
    count = await client.count_activities(f"TaskQueue = '{task_queue}'")
    assert count.count == 1


async def test_typed_values_are_stored_and_queryable_by_range(client):
    await register(client)
    task_queue = unique("tq-sav")
    base = datetime(2026, 11, 1, tzinfo=timezone.utc)
    handles = []
    for day in range(5):
        handles.append(await start_until_known(client, task_queue, [
            SearchAttributePair(INT, day),
            SearchAttributePair(BOOL, day % 2 == 0),
            SearchAttributePair(WHEN, base + timedelta(days=day))]))
    desc = await handles[3].describe()
    assert desc.typed_search_attributes.get(INT) == 3
    assert desc.typed_search_attributes.get(BOOL) is False
    assert desc.typed_search_attributes.get(WHEN) == base + timedelta(days=3)

    tq = f"TaskQueue = '{task_queue}'"

    async def ids(query):
        found = set()
        async for a in client.list_activities(query):
            found.add(a.activity_id)
        return found

    async def ids_until(query, expected):
        for _ in range(50):  # a real server's visibility is eventually consistent
            found = await ids(query)
            if found == expected:
                return found
            await asyncio.sleep(0.1)
        return found

    # Bounds between the stored values: the real server's SQL visibility
    # compares datetimes at a bound inconsistently, so the test avoids them.
    window = (f"{tq} AND {WHEN.name} BETWEEN '{rfc3339(base + timedelta(hours=12))}'"
              f" AND '{rfc3339(base + timedelta(days=3, hours=12))}'")
    assert await ids_until(window, {h.id for h in handles[1:4]}) == {h.id for h in handles[1:4]}
    assert await ids_until(f"{tq} AND {BOOL.name} = true AND {INT.name} >= 2",
                           {handles[2].id, handles[4].id}) == {handles[2].id, handles[4].id}
    # The system StartTime range: everything started in this test, none before.
    # (A millisecond of slack: the real server stores times at a coarser
    # precision than describe reports.)
    first = (await handles[0].describe()).schedule_time - timedelta(milliseconds=1)
    started = f"{tq} AND StartTime >= '{rfc3339(first)}'"
    assert await ids_until(started, {h.id for h in handles}) == {h.id for h in handles}
    later = f"{tq} AND StartTime > '{rfc3339(datetime.now(timezone.utc) + timedelta(hours=1))}'"
    assert await ids(later) == set()


async def test_temporal_change_version_is_accepted_and_described(client):
    """TemporalChangeVersion (KeywordList) is the system attribute SDKs set
    for versioning; Temporal accepts it at start and describe returns it."""
    change_version = SearchAttributeKey.for_keyword_list("TemporalChangeVersion")
    handle = await start(client, unique("tq-sav"),
                         [SearchAttributePair(change_version, ["fix-1", "fix-2"])])
    desc = await handle.describe()
    assert desc.typed_search_attributes.get(change_version) == ["fix-1", "fix-2"]
    # Temporal does not index it for activities: the List row leaves it out
    # and a query reads it as NULL.
    from compat_helpers import eventually
    by_id = f"ActivityId = '{handle.id}'"

    async def rows():
        return [e async for e in client.list_activities(by_id)]
    listed = await eventually(rows, lambda r: len(r) == 1, "the run to be listed")
    assert "TemporalChangeVersion" not in listed[0].raw_info.search_attributes.indexed_fields
    assert (await client.count_activities(
        f"{by_id} AND TemporalChangeVersion IS NULL")).count == 1
    assert (await client.count_activities(
        f"{by_id} AND TemporalChangeVersion = 'fix-2'")).count == 0


async def test_list_types_custom_values_describe_returns_them_as_given(client):
    """Temporal's List returns custom search attribute values with their
    registered type in the payload metadata (as its visibility store types
    them); Describe returns them as the start gave them."""
    from google.protobuf.duration_pb2 import Duration
    from temporalio.api.common.v1 import ActivityType, Payload, SearchAttributes
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import (
        DescribeActivityExecutionRequest,
        ListActivityExecutionsRequest,
        StartActivityExecutionRequest,
    )
    from compat_helpers import eventually

    name = "ValueCheckPlainKeyword"
    await register_search_attributes(
        client, {name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD})
    activity_id = unique("sav-plain")
    untyped = Payload(metadata={"encoding": b"json/plain"}, data=b'"v1"')

    async def start_raw():
        try:
            await client.workflow_service.start_activity_execution(
                StartActivityExecutionRequest(
                    namespace="default", activity_id=activity_id, request_id=str(uuid.uuid4()),
                    activity_type=ActivityType(name="tagged"),
                    task_queue=TaskQueue(name=unique("tq-sav")),
                    start_to_close_timeout=Duration(seconds=30),
                    search_attributes=SearchAttributes(indexed_fields={name: untyped})))
            return True
        except RPCError as err:
            if "no mapping defined" not in err.message:
                raise
            return False
    await eventually(start_raw, bool, "the attribute to be known")

    desc = await client.workflow_service.describe_activity_execution(
        DescribeActivityExecutionRequest(namespace="default", activity_id=activity_id))
    assert dict(desc.info.search_attributes.indexed_fields[name].metadata) == {
        "encoding": b"json/plain"}
    listed = await eventually(
        lambda: client.workflow_service.list_activity_executions(ListActivityExecutionsRequest(
            namespace="default", query=f"ActivityId = '{activity_id}'")),
        lambda r: len(r.executions) == 1, "the run in List")
    value = listed.executions[0].search_attributes.indexed_fields[name]
    assert dict(value.metadata) == {"encoding": b"json/plain", "type": b"Keyword"}
    assert value.data == b'"v1"'
