"""Temporal's HTTP API (grpc-gateway over the WorkflowService's
`google.api.http` bindings), spoken raw with http.client, curl-style.

Every expectation here was taken from a real Temporal dev server (CLI 1.9.1,
Server 1.32.0, standalone activities enabled) in oracle mode:
COMPAT_ORACLE_ADDRESS=127.0.0.1:7600 COMPAT_ORACLE_HTTP=127.0.0.1:7602. Errand
serves the API on `--http-listen` (the harness gives every process a port).

The JSON is Temporal's proto-JSON: lowerCamelCase names, enum names, int64 as
strings, durations as "10s", and the payload shorthand (a Payloads whose every
payload is json/plain, binary/null or json/protobuf is an array of plain
values; otherwise `{"payloads": [...]}`, where a json/plain payload is still
its value). Where a response can also be read over gRPC from the same server,
the HTTP body must equal the gRPC response rendered by `temporal_json` below
(Temporal's rules, written from the observed output), which checks every
field's name and format at once.

Where Errand differs on purpose, the test says so: a method a path has no
binding for is 501 from Temporal (grpc-gateway's answer) and 405 from Errand;
a body over 4 MiB is 400 from Temporal and 413 from Errand (that test, and the
API-key one, which needs Errand's config, are errand-only:
needs_errand_process).
"""
from __future__ import annotations

import asyncio
import base64
import http.client
import json
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    CountActivityExecutionsRequest,
    DescribeActivityExecutionRequest,
    DescribeNamespaceRequest,
    DescribeTaskQueueRequest,
    GetClusterInfoRequest,
    GetSystemInfoRequest,
    ListActivityExecutionsRequest,
    ListNamespacesRequest,
    PollActivityTaskQueueRequest,
)
from temporalio.client import Client

from compat_helpers import register_search_attributes
from errand_harness import ErrandProcess, key_principals_yaml
from oracle_mode import ORACLE_ADDRESS

NS = "default"
JSON_PLAIN = "anNvbi9wbGFpbg=="      # base64("json/plain")
BINARY_NULL = "YmluYXJ5L251bGw="     # base64("binary/null")
BINARY_PLAIN = "YmluYXJ5L3BsYWlu"    # base64("binary/plain")
NOT_FOUND_DETAIL = "type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure"
DEFAULT_RETRY = {"initialInterval": "1s", "backoffCoefficient": 2, "maximumInterval": "100s"}


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


# --- the HTTP client ---------------------------------------------------------

@dataclass
class Reply:
    status: int
    raw: bytes

    @property
    def json(self):
        try:
            return json.loads(self.raw)
        except ValueError:
            pytest.fail(f"HTTP {self.status}: body is not JSON: {self.raw[:500]!r}")

    def __repr__(self) -> str:
        return f"HTTP {self.status} {self.raw[:2000].decode(errors='replace')}"


class Http:
    """One connection per request, as curl would; bodies are JSON unless raw."""

    def __init__(self, address: str):
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)

    def request(self, method: str, path: str, body=None, *, raw: bytes | None = None,
                headers: dict | None = None, timeout: float = 15) -> Reply:
        if raw is None and body is not None:
            raw = json.dumps(body, separators=(",", ":")).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {**({"Content-Type": "application/json"} if raw is not None else {}),
                       **(headers or {})}
            conn.request(method, path, body=raw, headers=headers)
            resp = conn.getresponse()
            return Reply(resp.status, resp.read())
        finally:
            conn.close()

    def get(self, path: str, **params) -> Reply:
        return self.request("GET", with_query(path, params))

    def post(self, path: str, body=None, **kw) -> Reply:
        return self.request("POST", path, {} if body is None and "raw" not in kw else body, **kw)


def with_query(path: str, params: dict) -> str:
    if not params:
        return path
    # A parameter given as None is sent bare (`?noPayloadShorthand`).
    parts = [quote(k) if v is None else urlencode({k: v}, quote_via=quote)
             for k, v in params.items()]
    return f"{path}?{'&'.join(parts)}"


def ok(reply: Reply) -> dict:
    assert reply.status == 200, reply
    return reply.json


def activity_path(activity_id: str, suffix: str = "", prefix: str = "/api/v1") -> str:
    return f"{prefix}/namespaces/{NS}/activities/{quote(activity_id, safe='')}{suffix}"


def not_found(activity_id: str) -> dict:
    return {"code": 5, "message": f"activity not found for ID: {activity_id}",
            "details": [{"@type": NOT_FOUND_DETAIL}]}


def assert_error(reply: Reply, status: int, code: int, message: str | None = None) -> dict:
    assert reply.status == status, reply
    body = reply.json
    assert body["code"] == code, reply
    assert isinstance(body["message"], str) and body["message"], reply
    if message is not None:
        assert body["message"] == message, reply
    return body


# --- Temporal's JSON rendering of a gRPC response ------------------------------

def _payload_value(p) -> tuple[bool, object]:
    """(shorthand applies, value) for one Payload."""
    meta = dict(p.metadata)
    encoding = meta.get("encoding", b"")
    if encoding == b"binary/null":
        return True, {"metadata": {"encoding": BINARY_NULL}}
    if encoding == b"json/plain" and len(meta) == 1:
        value = json.loads(p.data)
        return True, ({"metadata": {"encoding": BINARY_NULL}} if value is None else value)
    if encoding == b"json/protobuf" and meta.get("messageType") and len(meta) == 2:
        return True, {**json.loads(p.data), "_protoMessageType": meta["messageType"].decode()}
    return False, MessageToDict(p)


def _payloads_value(ps):
    values = [_payload_value(p) for p in ps.payloads]
    if all(handled for handled, _ in values):
        return [v for _, v in values]
    return {"payloads": [v for _, v in values]}


def _render(msg, d):
    name = msg.DESCRIPTOR.full_name
    if name == "temporal.api.common.v1.Payloads":
        return _payloads_value(msg)
    if name == "temporal.api.common.v1.Payload":
        return _payload_value(msg)[1]
    for field, value in msg.ListFields():
        if field.message_type is None or field.message_type.full_name.startswith("google.protobuf."):
            continue
        key = field.json_name
        if field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is not None:
                for k, v in value.items():
                    d[key][str(k)] = _render(v, d[key][str(k)])
        elif field.is_repeated:
            d[key] = [_render(v, dv) for v, dv in zip(value, d[key])]
        else:
            d[key] = _render(value, d[key])
    return d


def temporal_json(msg) -> dict:
    """The JSON Temporal's HTTP API gives for `msg`, shorthand included."""
    return _render(msg, MessageToDict(msg))


# --- fixtures ----------------------------------------------------------------

@dataclass
class Api:
    http: Http
    client: Client


@pytest.fixture
async def api(errand) -> Api:
    if not errand.http_address:
        pytest.skip("oracle mode without COMPAT_ORACLE_HTTP")
    return Api(Http(errand.http_address), await Client.connect(errand.address, namespace=NS))


def start_body(task_queue: str, **extra) -> dict:
    return {"activityType": {"name": "greet"}, "taskQueue": {"name": task_queue},
            "startToCloseTimeout": "30s", **extra}


def start(api: Api, activity_id: str, task_queue: str, **extra) -> dict:
    return ok(api.http.post(activity_path(activity_id), start_body(task_queue, **extra)))


async def poll_task(api: Api, task_queue: str):
    """Takes the queue's task over gRPC (polling has no HTTP binding), which
    starts the attempt, as a worker would."""
    task = await asyncio.wait_for(api.client.workflow_service.poll_activity_task_queue(
        PollActivityTaskQueueRequest(namespace=NS, task_queue=TaskQueue(name=task_queue),
                                     identity="grpc-poller")), 20)
    assert task.task_token, "the poll returned no task"
    return task


async def eventually_http(fetch, check, what: str, timeout: float = 10.0):
    """The dev server's visibility store lags its writes slightly."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = fetch()
        if check(result):
            return result
        if asyncio.get_running_loop().time() >= deadline:
            pytest.fail(f"{what}: still not as expected after {timeout}s: {result!r}")
        await asyncio.sleep(0.1)


async def grpc_describe(api: Api, activity_id: str):
    return await api.client.workflow_service.describe_activity_execution(
        DescribeActivityExecutionRequest(namespace=NS, activity_id=activity_id,
                                         include_input=True, include_outcome=True))


def without_token(d: dict) -> dict:
    """A describe without its long-poll token, which is opaque and not
    promised to be the same from one read to the next."""
    return {k: v for k, v in d.items() if k != "longPollToken"}


# --- the activity's life: start, describe, complete, outcome, list, count ------

async def test_start_describe_complete_by_id_outcome_list_and_count(api):
    activity_id, tq = unique("http-life"), unique("tq")
    started = start(api, activity_id, tq, input=["x", 5, {"k": [1, 2]}],
                    startToCloseTimeout="10s", requestId="req-1")
    run_id = started["runId"]
    assert started == {"runId": run_id, "started": True, "link": {"activity": {
        "namespace": NS, "activityId": activity_id, "runId": run_id}}}

    described = ok(api.http.get(activity_path(activity_id), includeInput="true",
                                includeOutcome="true"))
    assert described["runId"] == run_id
    assert described["input"] == ["x", 5, {"k": [1, 2]}]
    assert "outcome" not in described
    assert isinstance(described["longPollToken"], str) and described["longPollToken"]
    info = described["info"]
    assert {k: info[k] for k in ("activityId", "runId", "activityType", "status", "runState",
                                 "taskQueue", "scheduleToCloseTimeout", "scheduleToStartTimeout",
                                 "startToCloseTimeout", "heartbeatTimeout", "retryPolicy",
                                 "attempt", "stateTransitionCount")} == {
        "activityId": activity_id, "runId": run_id, "activityType": {"name": "greet"},
        "status": "ACTIVITY_EXECUTION_STATUS_RUNNING",
        "runState": "PENDING_ACTIVITY_STATE_SCHEDULED", "taskQueue": tq,
        "scheduleToCloseTimeout": "0s", "scheduleToStartTimeout": "0s",
        "startToCloseTimeout": "10s", "heartbeatTimeout": "0s", "retryPolicy": DEFAULT_RETRY,
        "attempt": 1, "stateTransitionCount": "1"}
    assert info["scheduleTime"].endswith("Z")

    # Without the include flags neither input nor outcome comes back.
    plain = ok(api.http.get(activity_path(activity_id)))
    assert "input" not in plain and "outcome" not in plain

    await poll_task(api, tq)
    assert ok(api.http.post(activity_path(activity_id, "/complete"), {
        "result": ["done", {"k": [1, 2]}], "identity": "http-worker"})) == {}

    outcome = ok(api.http.get(activity_path(activity_id, "/outcome")))
    assert outcome == {"runId": run_id, "outcome": {"result": ["done", {"k": [1, 2]}]}}
    full = ok(api.http.get(activity_path(activity_id, "/outcome"), noPayloadShorthand=None))
    assert full == {"runId": run_id, "outcome": {"result": {"payloads": [
        {"metadata": {"encoding": JSON_PLAIN}, "data": b64('"done"')},
        {"metadata": {"encoding": JSON_PLAIN}, "data": b64('{"k":[1,2]}')}]}}}

    closed = ok(api.http.get(activity_path(activity_id), includeInput="true",
                             includeOutcome="true"))
    assert closed["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_COMPLETED"
    assert "runState" not in closed["info"]
    assert closed["info"]["lastWorkerIdentity"] == "http-worker"
    assert closed["outcome"] == {"result": ["done", {"k": [1, 2]}]}
    # Every field, as gRPC gives it from the same server.
    assert without_token(closed) == without_token(
        temporal_json(await grpc_describe(api, activity_id)))

    query = f'TaskQueue="{tq}"'
    listed = await eventually_http(
        lambda: ok(api.http.get(f"/api/v1/namespaces/{NS}/activities", query=query)),
        lambda b: [e.get("status") for e in b.get("executions", [])]
        == ["ACTIVITY_EXECUTION_STATUS_COMPLETED"], "list")
    execution = listed["executions"][0]
    assert {k: execution[k] for k in ("activityId", "runId", "activityType", "status",
                                      "taskQueue")} == {
        "activityId": activity_id, "runId": run_id, "activityType": {"name": "greet"},
        "status": "ACTIVITY_EXECUTION_STATUS_COMPLETED", "taskQueue": tq}
    assert "nextPageToken" not in listed
    grpc_list = await api.client.workflow_service.list_activity_executions(
        ListActivityExecutionsRequest(namespace=NS, query=query))
    assert listed == temporal_json(grpc_list)

    count = f"/api/v1/namespaces/{NS}/activity-count"
    assert ok(api.http.get(count, query=query)) == {"count": "1"}
    grouped = ok(api.http.get(count, query=f"{query} GROUP BY ExecutionStatus"))
    assert grouped == {"count": "1", "groups": [{"groupValues": [{
        "metadata": {"encoding": JSON_PLAIN, "type": b64("Keyword")},
        "data": b64('"Completed"')}], "count": "1"}]}
    grpc_count = await api.client.workflow_service.count_activity_executions(
        CountActivityExecutionsRequest(namespace=NS, query=f"{query} GROUP BY ExecutionStatus"))
    assert grouped == temporal_json(grpc_count)


async def test_start_with_every_option_reads_back_the_same(api):
    """Each kind of field a start takes (durations with fractions, doubles,
    floats, repeated strings, maps of single payloads in shorthand) is read as
    Temporal reads it: describe gives it back, and gRPC sees the same values."""
    await register_search_attributes(
        api.client, {"HttpApiKeyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD})
    activity_id, tq = unique("http-options"), unique("tq")
    retry = {"initialInterval": "2s", "backoffCoefficient": 1.5, "maximumInterval": "20s",
             "maximumAttempts": 4, "nonRetryableErrorTypes": ["Bad"]}
    priority = {"priorityKey": 2, "fairnessKey": "tenant-a", "fairnessWeight": 2.5}
    body = start_body(tq, scheduleToCloseTimeout="120s", scheduleToStartTimeout="60s",
                      startToCloseTimeout="1.5s", heartbeatTimeout="0.250s",
                      retryPolicy=retry, priority=priority,
                      searchAttributes={"indexedFields": {"HttpApiKeyword": "blue"}},
                      header={"fields": {"trace": "t-1"}},
                      userMetadata={"summary": "a summary", "details": "some details"},
                      input=["x"], identity="http-client", requestId="req-options")
    # A freshly added attribute may take a moment to reach a real server's
    # namespace cache.
    reply = await eventually_http(lambda: api.http.post(activity_path(activity_id), body),
                                  lambda r: r.status == 200 or b"no mapping" not in r.raw,
                                  "the search attribute is known")
    ok(reply)

    described = ok(api.http.get(activity_path(activity_id)))
    info = described["info"]
    assert {k: info.get(k) for k in (
        "scheduleToCloseTimeout", "scheduleToStartTimeout", "startToCloseTimeout",
        "heartbeatTimeout", "retryPolicy", "priority", "searchAttributes", "header",
        "userMetadata")} == {
        "scheduleToCloseTimeout": "120s", "scheduleToStartTimeout": "60s",
        "startToCloseTimeout": "1.500s", "heartbeatTimeout": "0.250s",
        "retryPolicy": retry, "priority": priority,
        "searchAttributes": {"indexedFields": {"HttpApiKeyword": "blue"}},
        "header": {"fields": {"trace": "t-1"}},
        "userMetadata": {"summary": "a summary", "details": "some details"}}
    assert info["expirationTime"].endswith("Z")

    grpc = await api.client.workflow_service.describe_activity_execution(
        DescribeActivityExecutionRequest(namespace=NS, activity_id=activity_id))
    assert without_token(described) == without_token(temporal_json(grpc))
    plain = {"encoding": b"json/plain"}
    assert (dict(grpc.info.user_metadata.summary.metadata),
            grpc.info.user_metadata.summary.data) == (plain, b'"a summary"')
    blue = grpc.info.search_attributes.indexed_fields["HttpApiKeyword"]
    assert blue.data == b'"blue"' and blue.metadata["encoding"] == b"json/plain"
    assert grpc.info.retry_policy.backoff_coefficient == 1.5
    assert grpc.info.start_to_close_timeout.ToMilliseconds() == 1500

    count = f"/api/v1/namespaces/{NS}/activity-count"
    await eventually_http(
        lambda: ok(api.http.get(count, query=f'HttpApiKeyword = "blue" AND TaskQueue = "{tq}"')),
        lambda b: b == {"count": "1"}, "count by the custom search attribute")


async def test_routes_without_the_api_v1_prefix(api):
    activity_id, tq = unique("http-bare"), unique("tq")
    started = ok(api.http.post(activity_path(activity_id, prefix=""), start_body(tq)))
    described = ok(api.http.get(activity_path(activity_id, prefix="")))
    assert described["info"]["activityId"] == activity_id
    assert described["runId"] == started["runId"]
    assert ok(api.http.post(activity_path(activity_id, "/terminate", prefix=""),
                            {"reason": "bye", "identity": "op"})) == {}
    assert ok(api.http.get(activity_path(activity_id, "/outcome", prefix=""))) == {
        "runId": started["runId"],
        "outcome": {"failure": {"message": "bye", "terminatedFailureInfo": {"identity": "op"}}}}
    listed = await eventually_http(
        lambda: ok(api.http.get(f"/namespaces/{NS}/activities", query=f'TaskQueue="{tq}"')),
        lambda b: len(b.get("executions", [])) == 1, "list")
    assert listed["executions"][0]["activityId"] == activity_id
    assert ok(api.http.get(f"/namespaces/{NS}/activity-count",
                           query=f'TaskQueue="{tq}"')) == {"count": "1"}
    # The non-prefixed bindings of the cluster and namespace reads differ in
    # name from the /api/v1 ones.
    assert ok(api.http.get("/system-info")) == ok(api.http.get("/api/v1/system-info"))
    assert ok(api.http.get("/cluster")) == ok(api.http.get("/api/v1/cluster-info"))
    assert ok(api.http.get(f"/cluster/namespaces/{NS}")) == ok(
        api.http.get(f"/api/v1/namespaces/{NS}"))


async def test_outcome_long_polls_while_other_requests_are_served(api):
    """GET .../outcome on a running activity waits for it to close. Three
    such polls at once must not keep the server from answering others."""
    activity_id, tq = unique("http-poll"), unique("tq")
    run_id = start(api, activity_id, tq)["runId"]
    polls = [asyncio.create_task(asyncio.to_thread(
        api.http.request, "GET", activity_path(activity_id, "/outcome"), None, timeout=60))
        for _ in range(3)]
    await asyncio.sleep(0.5)  # lets the polls reach the server (not asserted)
    assert not any(p.done() for p in polls), [p.result() for p in polls if p.done()]
    # Served while the polls wait.
    answer = await asyncio.to_thread(api.http.request, "GET", "/api/v1/system-info", None,
                                     timeout=5)
    assert ok(answer)["serverVersion"]
    assert ok(await asyncio.to_thread(api.http.request, "POST",
                                      activity_path(activity_id, "/terminate"),
                                      {"reason": "done"}, timeout=5)) == {}
    for reply in await asyncio.wait_for(asyncio.gather(*polls), 30):
        assert ok(reply) == {"runId": run_id, "outcome": {"failure": {
            "message": "done", "terminatedFailureInfo": {}}}}


async def test_list_pages_with_the_next_page_token(api):
    """nextPageToken is bytes: base64 in the JSON answer, and taken back as a
    query parameter."""
    tq = unique("tq")
    ids = {unique("http-page") for _ in range(3)}
    for activity_id in ids:
        start(api, activity_id, tq)
    path, query = f"/api/v1/namespaces/{NS}/activities", f'TaskQueue="{tq}"'
    first = await eventually_http(lambda: ok(api.http.get(path, query=query, pageSize="2")),
                                  lambda b: len(b.get("executions", [])) == 2
                                  and "nextPageToken" in b, "a first page of 2")
    token = first["nextPageToken"]
    assert base64.b64decode(token, validate=True)
    second = ok(api.http.get(path, query=query, pageSize="2", nextPageToken=token))
    assert "nextPageToken" not in second
    assert len(second["executions"]) == 1
    assert {e["activityId"] for e in first["executions"] + second["executions"]} == ids


# --- worker calls by activity ID ------------------------------------------------

async def test_heartbeat_and_fail_by_id(api):
    activity_id, tq = unique("http-fail"), unique("tq")
    run_id = start(api, activity_id, tq)["runId"]
    # Not started yet: there is no attempt to heartbeat for.
    reply = api.http.post(activity_path(activity_id, "/heartbeat"), {"details": ["beat"]})
    assert reply.status == 404 and reply.json == not_found(activity_id), reply

    await poll_task(api, tq)
    assert ok(api.http.post(activity_path(activity_id, "/heartbeat"),
                            {"details": ["beat", 1], "identity": "w"})) == {}
    info = ok(api.http.get(activity_path(activity_id)))["info"]
    assert info["runState"] == "PENDING_ACTIVITY_STATE_STARTED"
    assert info["totalHeartbeatCount"] == "1"
    assert info["lastHeartbeatTime"].endswith("Z")

    failure = {"message": "boom", "applicationFailureInfo": {"type": "MyErr",
                                                             "nonRetryable": True}}
    assert ok(api.http.post(activity_path(activity_id, "/fail"),
                            {"failure": failure, "identity": "w"})) == {}
    assert ok(api.http.get(activity_path(activity_id, "/outcome"))) == {
        "runId": run_id,
        "outcome": {"failure": failure, "retryState": "RETRY_STATE_NON_RETRYABLE_FAILURE"}}
    described = ok(api.http.get(activity_path(activity_id), includeOutcome="true"))
    assert described["info"]["status"] == "ACTIVITY_EXECUTION_STATUS_FAILED"
    assert described["info"]["lastWorkerIdentity"] == "w"
    assert without_token(described) == without_token(temporal_json(
        await api.client.workflow_service.describe_activity_execution(
            DescribeActivityExecutionRequest(namespace=NS, activity_id=activity_id,
                                             include_outcome=True))))

    # FAILED_PRECONDITION maps to HTTP 400.
    assert_error(api.http.post(activity_path(activity_id, "/complete"), {"result": ["late"]}),
                 400, 9, "invalid transition from Failed")


async def test_cancel_then_resolve_as_canceled_by_id(api):
    activity_id, tq = unique("http-cancel"), unique("tq")
    run_id = start(api, activity_id, tq)["runId"]
    await poll_task(api, tq)
    assert_error(api.http.post(activity_path(activity_id, "/resolve-as-canceled"),
                               {"details": ["bye"], "identity": "w"}), 400, 3,
                 "unable to mark activity as canceled without activity being request canceled "
                 "first")
    # A heartbeat without a pending cancel answers {} (false is not written).
    assert ok(api.http.post(activity_path(activity_id, "/heartbeat"), {})) == {}
    assert ok(api.http.post(activity_path(activity_id, "/cancel"),
                            {"reason": "please", "identity": "op", "requestId": "c-1"})) == {}
    assert ok(api.http.post(activity_path(activity_id, "/heartbeat"), {})) == {
        "cancelRequested": True}
    assert ok(api.http.post(activity_path(activity_id, "/resolve-as-canceled"),
                            {"details": ["bye"], "identity": "w"})) == {}
    assert ok(api.http.get(activity_path(activity_id, "/outcome"))) == {
        "runId": run_id, "outcome": {"failure": {
            "message": "Activity canceled",
            "canceledFailureInfo": {"details": ["bye"], "identity": "op"}}}}
    info = ok(api.http.get(activity_path(activity_id)))["info"]
    assert info["status"] == "ACTIVITY_EXECUTION_STATUS_CANCELED"
    assert info["canceledReason"] == "please"


async def test_worker_calls_by_task_token(api):
    """The token-based worker bindings (/activity-heartbeat, -complete, -fail,
    -resolve-as-canceled); the token is bytes, so base64 in JSON."""
    async def started(tag: str) -> tuple[str, str, str]:
        activity_id, tq = unique(tag), unique("tq")
        run_id = start(api, activity_id, tq)["runId"]
        return activity_id, run_id, b64((await poll_task(api, tq)).task_token)

    base = f"/api/v1/namespaces/{NS}"
    activity_id, run_id, token = await started("http-token-complete")
    assert ok(api.http.post(f"{base}/activity-heartbeat",
                            {"taskToken": token, "details": ["hb"]})) == {}
    assert ok(api.http.post(f"{base}/activity-complete",
                            {"taskToken": token, "result": ["r"], "identity": "w"})) == {}
    assert ok(api.http.get(activity_path(activity_id, "/outcome"))) == {
        "runId": run_id, "outcome": {"result": ["r"]}}
    reply = api.http.post(f"{base}/activity-complete", {"taskToken": token, "result": ["r"]})
    assert reply.status == 404 and reply.json == not_found(activity_id), reply

    activity_id, run_id, token = await started("http-token-fail")
    failure = {"message": "f", "applicationFailureInfo": {"nonRetryable": True}}
    assert ok(api.http.post(f"/namespaces/{NS}/activity-fail",
                            {"taskToken": token, "failure": failure})) == {}
    assert ok(api.http.get(activity_path(activity_id, "/outcome"))) == {
        "runId": run_id,
        "outcome": {"failure": failure, "retryState": "RETRY_STATE_NON_RETRYABLE_FAILURE"}}

    activity_id, run_id, token = await started("http-token-cancel")
    assert ok(api.http.post(activity_path(activity_id, "/cancel"), {})) == {}
    assert ok(api.http.post(f"{base}/activity-heartbeat", {"taskToken": token})) == {
        "cancelRequested": True}
    assert ok(api.http.post(f"{base}/activity-resolve-as-canceled",
                            {"taskToken": token, "details": ["c"]})) == {}
    assert ok(api.http.get(activity_path(activity_id, "/outcome"))) == {
        "runId": run_id, "outcome": {"failure": {
            "message": "Activity canceled", "canceledFailureInfo": {"details": ["c"]}}}}


# --- operator calls ---------------------------------------------------------------

async def test_terminate_is_idempotent_by_request_id_and_closes_the_run(api):
    activity_id, tq = unique("http-term"), unique("tq")
    run_id = start(api, activity_id, tq)["runId"]
    body = {"reason": "bye", "identity": "op", "requestId": "t-1"}
    assert ok(api.http.post(activity_path(activity_id, "/terminate"), body)) == {}
    assert ok(api.http.post(activity_path(activity_id, "/terminate"), body)) == {}
    assert ok(api.http.get(activity_path(activity_id, "/outcome"))) == {
        "runId": run_id,
        "outcome": {"failure": {"message": "bye", "terminatedFailureInfo": {"identity": "op"}}}}
    assert ok(api.http.get(activity_path(activity_id)))["info"]["status"] == \
        "ACTIVITY_EXECUTION_STATUS_TERMINATED"
    assert_error(api.http.post(activity_path(activity_id, "/cancel"), {"reason": "late"}),
                 400, 9, "activity is in terminal state Terminated")


async def test_pause_unpause_reset_and_update_options(api):
    activity_id, tq = unique("http-ops"), unique("tq")
    start(api, activity_id, tq)

    def state() -> tuple[str, str]:
        info = ok(api.http.get(activity_path(activity_id)))["info"]
        return info["status"], info.get("runState")

    pause = {"identity": "op", "reason": "hold", "requestId": "p-1"}
    assert ok(api.http.post(activity_path(activity_id, "/pause"), pause)) == {}
    assert state() == ("ACTIVITY_EXECUTION_STATUS_PAUSED", "PENDING_ACTIVITY_STATE_PAUSED")
    # The same request ID again is the same request.
    assert ok(api.http.post(activity_path(activity_id, "/pause"), pause)) == {}
    assert ok(api.http.post(activity_path(activity_id, "/unpause"), {"identity": "op"})) == {}
    assert state() == ("ACTIVITY_EXECUTION_STATUS_RUNNING", "PENDING_ACTIVITY_STATE_SCHEDULED")
    assert ok(api.http.post(activity_path(activity_id, "/reset"),
                            {"identity": "op", "resetHeartbeat": True})) == {}

    # A FieldMask is one string of comma-separated lowerCamelCase paths.
    updated = ok(api.http.post(activity_path(activity_id, "/update-options"), {
        "identity": "op",
        "activityOptions": {"startToCloseTimeout": "45s",
                            "retryPolicy": {"maximumAttempts": 3}},
        "updateMask": "startToCloseTimeout,retryPolicy.maximumAttempts"}))
    assert updated == {"activityOptions": {
        "taskQueue": {"name": tq, "kind": "TASK_QUEUE_KIND_NORMAL"},
        "scheduleToCloseTimeout": "0s", "scheduleToStartTimeout": "0s",
        "startToCloseTimeout": "45s", "heartbeatTimeout": "0s",
        "retryPolicy": {**DEFAULT_RETRY, "maximumAttempts": 3}}}
    info = ok(api.http.get(activity_path(activity_id)))["info"]
    assert info["startToCloseTimeout"] == "45s"
    assert info["retryPolicy"] == {**DEFAULT_RETRY, "maximumAttempts": 3}

    assert_error(api.http.post(activity_path(activity_id, "/update-options"), {
        "activityOptions": {"startToCloseTimeout": "46s"}}), 400, 3, "UpdateMask is not provided")


@pytest.mark.parametrize("mask", [{"paths": ["start_to_close_timeout"]},
                                  "start_to_close_timeout"], ids=["object", "snake-case"])
async def test_update_mask_takes_only_its_json_form(api, mask):
    """A FieldMask's JSON form is one string of lowerCamelCase paths: neither
    the object form nor the proto (snake_case) path names."""
    activity_id = unique("http-mask")
    start(api, activity_id, unique("tq"))
    assert_error(api.http.post(activity_path(activity_id, "/update-options"), {
        "activityOptions": {"startToCloseTimeout": "46s"}, "updateMask": mask}), 400, 3)
    assert ok(api.http.get(activity_path(activity_id)))["info"]["startToCloseTimeout"] == "30s"


async def test_batch_terminate_by_query_then_describe_and_list_the_job(api):
    tq, job = unique("tq"), unique("http-job")
    ids = [unique("http-batch") for _ in range(2)]
    for activity_id in ids:
        start(api, activity_id, tq)
    query = f'TaskQueue="{tq}"'
    base = f"/api/v1/namespaces/{NS}"
    await eventually_http(lambda: ok(api.http.get(f"{base}/activity-count", query=query)),
                          lambda b: b == {"count": "2"}, "count")
    assert ok(api.http.post(f"{base}/batch-operations/{job}", {
        "visibilityQuery": query, "reason": "sweep",
        "terminateActivitiesOperation": {"identity": "op"}})) == {}

    for activity_id in ids:
        await eventually_http(
            lambda: ok(api.http.get(activity_path(activity_id)))["info"]["status"],
            lambda s: s == "ACTIVITY_EXECUTION_STATUS_TERMINATED", "terminated by the batch")

    described = await eventually_http(
        lambda: ok(api.http.get(f"{base}/batch-operations/{job}")),
        lambda b: b.get("state") == "BATCH_OPERATION_STATE_COMPLETED", "batch completed")
    assert {k: described[k] for k in ("operationType", "jobId", "state",
                                      "totalOperationCount", "completeOperationCount",
                                      "identity", "reason", "query")} == {
        "operationType": "BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY", "jobId": job,
        "state": "BATCH_OPERATION_STATE_COMPLETED", "totalOperationCount": "2",
        "completeOperationCount": "2", "identity": "op", "reason": "sweep", "query": query}
    assert "failureOperationCount" not in described

    token, jobs = None, []
    while True:
        page = ok(api.http.get(f"{base}/batch-operations",
                               **({"nextPageToken": token} if token else {})))
        jobs += page.get("operationInfo", [])
        token = page.get("nextPageToken")
        if not token:
            break
    mine = [j for j in jobs if j["jobId"] == job]
    assert len(mine) == 1, jobs
    assert mine[0]["state"] == "BATCH_OPERATION_STATE_COMPLETED"
    assert mine[0]["operationType"] == "BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY"

    # The failure's message is the operation's reason (none here), not the
    # batch's.
    for activity_id in ids:
        outcome = ok(api.http.get(activity_path(activity_id, "/outcome")))["outcome"]
        assert outcome == {"failure": {"terminatedFailureInfo": {"identity": "op"}}}


# --- namespaces, cluster, task queues, search attributes ------------------------------

async def test_namespaces_cluster_and_search_attributes_match_grpc(api):
    svc = api.client.workflow_service
    described = ok(api.http.get(f"/api/v1/namespaces/{NS}"))
    assert described["namespaceInfo"]["name"] == NS
    assert described["namespaceInfo"]["state"] == "NAMESPACE_STATE_REGISTERED"
    assert described["namespaceInfo"]["capabilities"]["standaloneActivities"] is True
    assert described["namespaceInfo"]["limits"]["blobSizeLimitError"] == "2097152"
    assert described["config"]["workflowExecutionRetentionTtl"].endswith("s")
    assert described == temporal_json(
        await svc.describe_namespace(DescribeNamespaceRequest(namespace=NS)))

    listed = ok(api.http.get("/api/v1/namespaces"))
    assert NS in [n["namespaceInfo"]["name"] for n in listed["namespaces"]]
    assert listed == temporal_json(await svc.list_namespaces(ListNamespacesRequest()))

    system = ok(api.http.get("/api/v1/system-info"))
    # ?pretty indents the same JSON.
    pretty = api.http.get("/api/v1/system-info", pretty=None)
    assert ok(pretty) == system and b'\n  "serverVersion": ' in pretty.raw, pretty
    assert system["serverVersion"]
    assert system["capabilities"]["countGroupByExecutionStatus"] is True
    assert system == temporal_json(await svc.get_system_info(GetSystemInfoRequest()))

    cluster = ok(api.http.get("/api/v1/cluster-info"))
    assert cluster["serverVersion"] == system["serverVersion"]
    assert cluster == temporal_json(await svc.get_cluster_info(GetClusterInfoRequest()))

    attrs = ok(api.http.get(f"/api/v1/namespaces/{NS}/search-attributes"))
    assert attrs["systemAttributes"]["ExecutionStatus"] == "INDEXED_VALUE_TYPE_KEYWORD"
    assert attrs["systemAttributes"]["StartTime"] == "INDEXED_VALUE_TYPE_DATETIME"
    assert attrs == temporal_json(await api.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=NS)))

    missing = "no-such-namespace"
    reply = api.http.get(f"/api/v1/namespaces/{missing}")
    assert reply.status == 404 and reply.json == {
        "code": 5, "message": f"Namespace {missing} is not found.",
        "details": [{"@type": "type.googleapis.com/temporal.api.errordetails.v1."
                              "NamespaceNotFoundFailure", "namespace": missing}]}, reply


async def test_describe_task_queue_reports_the_backlog(api):
    tq = unique("tq")
    start(api, unique("http-tq"), tq)
    path = f"/api/v1/namespaces/{NS}/task-queues/{quote(tq, safe='')}"
    with_stats = await eventually_http(
        lambda: ok(api.http.get(path, taskQueueType="TASK_QUEUE_TYPE_ACTIVITY",
                                reportStats="true")),
        lambda b: b.get("stats", {}).get("approximateBacklogCount") == "1", "backlog of 1")
    assert with_stats["stats"]["approximateBacklogAge"].endswith("s")
    plain = ok(api.http.get(path, taskQueueType="TASK_QUEUE_TYPE_ACTIVITY"))
    assert "stats" not in plain
    grpc = await api.client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
        namespace=NS, task_queue=TaskQueue(name=tq), task_queue_type=2))
    assert plain == temporal_json(grpc)
    assert ok(api.http.get(f"/namespaces/{NS}/task-queues/{quote(tq, safe='')}",
                           taskQueueType="TASK_QUEUE_TYPE_ACTIVITY")) == plain


# --- payload shorthand -------------------------------------------------------------

async def test_payload_shorthand_in_and_out(api):
    def input_of(activity_id: str, **params) -> object:
        return ok(api.http.get(activity_path(activity_id), includeInput="true",
                               **params))["input"]

    async def stored(activity_id: str) -> list[tuple[dict, bytes]]:
        described = await grpc_describe(api, activity_id)
        return [(dict(p.metadata), p.data) for p in described.input.payloads]

    # An array of plain values; null is a binary/null payload, and an array
    # of only json/plain and binary/null payloads stays an array.
    plain_id = unique("http-plain")
    value = {"k": [1, 2.5, True, "ü"]}
    start(api, plain_id, unique("tq"), input=["x", None, value])
    assert input_of(plain_id) == ["x", {"metadata": {"encoding": BINARY_NULL}}, value]
    (m0, d0), (m1, d1), (m2, d2) = await stored(plain_id)
    assert (m0, d0) == ({"encoding": b"json/plain"}, b'"x"')
    assert (m1, d1) == ({"encoding": b"binary/null"}, b"")
    assert m2 == {"encoding": b"json/plain"} and json.loads(d2) == value
    assert input_of(plain_id, noPayloadShorthand=None) == {"payloads": [
        {"metadata": {"encoding": JSON_PLAIN}, "data": b64('"x"')},
        {"metadata": {"encoding": BINARY_NULL}},
        {"metadata": {"encoding": JSON_PLAIN}, "data": b64(d2)}]}

    # The full form, mixing a plain value, a binary payload, a full json/plain
    # one and a json/plain one with more metadata: no longer an array, but a
    # json/plain payload with only its encoding is still written as its value.
    full_id = unique("http-full")
    binary = {"metadata": {"encoding": BINARY_PLAIN}, "data": b64(b"\x00\x01\x02")}
    typed = {"metadata": {"encoding": JSON_PLAIN, "type": b64("Keyword")}, "data": b64('"kw"')}
    start(api, full_id, unique("tq"), input={"payloads": [
        "a", binary, {"metadata": {"encoding": JSON_PLAIN}, "data": b64('{"b":1}')}, typed]})
    assert input_of(full_id) == {"payloads": ["a", binary, {"b": 1}, typed]}
    assert await stored(full_id) == [
        ({"encoding": b"json/plain"}, b'"a"'),
        ({"encoding": b"binary/plain"}, b"\x00\x01\x02"),
        ({"encoding": b"json/plain"}, b'{"b":1}'),
        ({"encoding": b"json/plain", "type": b"Keyword"}, b'"kw"')]
    assert input_of(full_id, noPayloadShorthand=None) == {"payloads": [
        {"metadata": {"encoding": JSON_PLAIN}, "data": b64('"a"')}, binary,
        {"metadata": {"encoding": JSON_PLAIN}, "data": b64('{"b":1}')}, typed]}

    # A full payload inside the array form; an object that is not exactly
    # {metadata, data} is a plain value.
    mixed_id = unique("http-mixed")
    lookalike = {"metadata": {"encoding": JSON_PLAIN}, "data": b64("3"), "x": 1}
    start(api, mixed_id, unique("tq"), input=[binary, lookalike])
    assert input_of(mixed_id) == {"payloads": [binary, lookalike]}
    (mb, db), (ml, dl) = await stored(mixed_id)
    assert (mb, db) == ({"encoding": b"binary/plain"}, b"\x00\x01\x02")
    assert ml == {"encoding": b"json/plain"} and json.loads(dl) == lookalike

    # json/protobuf with its message type is written as the message's JSON
    # object plus "_protoMessageType".
    proto_id = unique("http-proto")
    start(api, proto_id, unique("tq"), input={"payloads": [{
        "metadata": {"encoding": b64("json/protobuf"),
                     "messageType": b64("temporal.api.common.v1.ActivityType")},
        "data": b64('{"name":"zz"}')}]})
    assert input_of(proto_id) == [
        {"_protoMessageType": "temporal.api.common.v1.ActivityType", "name": "zz"}]


# --- path variables, start conflicts ---------------------------------------------------

async def test_path_variables_are_unescaped(api):
    activity_id = f"sp ace+ü%?#&={uuid.uuid4()}"
    started = start(api, activity_id, unique("tq"))
    assert started["link"]["activity"]["activityId"] == activity_id
    described = ok(api.http.get(activity_path(activity_id)))
    assert described["info"]["activityId"] == activity_id
    assert ok(api.http.get(activity_path(activity_id), runId=started["runId"]))["runId"] == \
        started["runId"]

    # "+" in a path is a plus, not a space.
    spaced = f"a b-{uuid.uuid4()}"
    start(api, spaced, unique("tq"))
    assert ok(api.http.get(f"/api/v1/namespaces/{NS}/activities/{spaced.replace(' ', '%20')}"))
    plus = spaced.replace(" ", "+")
    reply = api.http.get(f"/api/v1/namespaces/{NS}/activities/{plus}")
    assert reply.status == 404 and reply.json == not_found(plus), reply


async def test_second_start_same_request_id_conflict_and_use_existing(api):
    activity_id, tq = unique("http-dup"), unique("tq")
    run_id = start(api, activity_id, tq, requestId="req-1")["runId"]
    link = {"activity": {"namespace": NS, "activityId": activity_id, "runId": run_id}}
    # The same request again: the same run, not started by this call.
    assert start(api, activity_id, tq, requestId="req-1") == {"runId": run_id, "link": link}
    assert start(api, activity_id, tq, requestId="req-2",
                 idConflictPolicy="ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING") == {
        "runId": run_id, "link": link}
    reply = api.http.post(activity_path(activity_id), start_body(tq, requestId="req-3"))
    assert reply.status == 409 and reply.json == {
        "code": 6, "message": "activity execution already started",
        "details": [{"@type": "type.googleapis.com/temporal.api.errordetails.v1."
                              "ActivityExecutionAlreadyStartedFailure",
                     "startRequestId": "req-1", "runId": run_id}]}, reply


# --- errors ---------------------------------------------------------------------------

async def test_not_found_and_unknown_routes(api):
    missing = unique("http-missing")
    reply = api.http.get(activity_path(missing))
    assert reply.status == 404 and reply.json == not_found(missing), reply
    reply = api.http.get(activity_path(missing), runId=str(uuid.uuid4()))
    assert reply.status == 404 and reply.json == not_found(missing), reply

    # No such route.
    reply = api.http.get("/api/v1/nothing-here")
    assert reply.status == 404 and reply.json == {"code": 5, "message": "Not Found"}, reply
    reply = api.http.post(f"/api/v1/namespaces/{NS}/activities/a/no-such-action", {})
    assert reply.status == 404 and reply.json == {"code": 5, "message": "Not Found"}, reply

    # The workflow-scoped bindings of the by-ID calls exist: they look for the
    # workflow.
    for action in ("heartbeat", "complete", "fail", "resolve-as-canceled", "pause", "unpause",
                   "reset"):
        reply = api.http.post(
            f"/api/v1/namespaces/{NS}/workflows/wf-none/activities/x/{action}", {})
        assert reply.status == 404 and reply.json == {
            "code": 5, "message": "workflow not found for ID: wf-none",
            "details": [{"@type": NOT_FOUND_DETAIL}]}, (action, reply)


@pytest.mark.parametrize("method,suffix", [
    ("DELETE", "/activities/x"), ("PUT", "/activities/x"), ("PATCH", "/activities/x"),
    ("OPTIONS", "/activities/x"), ("GET", "/activities/x/complete"), ("POST", "/activity-count"),
])
async def test_wrong_method_on_a_known_path(api, method, suffix):
    """grpc-gateway answers a method a path has no binding for with 501
    (Temporal's server); Errand answers 405, the status HTTP defines for it.
    The body is the same."""
    wrong_method = 501 if ORACLE_ADDRESS else 405
    reply = api.http.request(method, f"/api/v1/namespaces/{NS}{suffix}",
                             {} if method not in ("GET", "OPTIONS") else None)
    assert reply.status == wrong_method, reply
    assert reply.json == {"code": 12, "message": "Method Not Allowed"}, reply


def _valid_start_plus(extra: str) -> bytes:
    """A start request that is valid but for `extra`, added as its last member."""
    valid = json.dumps(start_body("tq-http-bad"))
    return (valid[:-1] + ", " + extra + "}").encode()


@pytest.mark.parametrize("raw", [
    b"{bad json", b"[1]", b'"text"',
    _valid_start_plus('"requestId": 5'),
    _valid_start_plus('"unknownField": 1'),
    _valid_start_plus('"activityType": {"name": "twice"}'),
], ids=["syntax", "array", "string", "wrong-type", "unknown-field", "duplicate-field"])
async def test_body_that_is_not_the_requests_json_is_invalid_argument(api, raw):
    activity_id = unique("http-bad")
    body = assert_error(api.http.request("POST", activity_path(activity_id), raw=raw), 400, 3)
    assert body.get("details", []) == [], body
    if b"unknownField" in raw:
        assert "unknownField" in body["message"], body
    # Nothing was started.
    reply = api.http.get(activity_path(activity_id))
    assert reply.status == 404 and reply.json == not_found(activity_id), reply


async def test_empty_body_is_an_empty_request(api):
    # An empty body is an empty request, which the call itself refuses.
    assert_error(api.http.request("POST", activity_path(unique("http-empty")), raw=b""),
                 400, 3, "taskQueue is not set")


@pytest.mark.parametrize("query", [
    "includeInput=notabool",
    "includeInput=",   # "?includeInput" alone is not a bool
    "includeInput",
    "includeInput=true&includeInput=false",  # a scalar takes one value
], ids=["not-a-bool", "empty-bool", "bare-bool", "repeated"])
async def test_bad_query_parameter_is_invalid_argument(api, query):
    activity_id = unique("http-query")
    start(api, activity_id, unique("tq"))
    assert_error(api.http.request("GET", f"{activity_path(activity_id)}?{query}"), 400, 3)


async def test_unparsable_visibility_query_is_invalid_argument(api):
    assert_error(api.http.get(f"/api/v1/namespaces/{NS}/activities", query="Bogus ==="), 400, 3)
    assert_error(api.http.get(f"/api/v1/namespaces/{NS}/activity-count", query="Bogus ==="),
                 400, 3)


MAX_BODY = 4 * 1024 * 1024  # the largest body both servers take


def start_request_of_size(size: int) -> bytes:
    """A start request of exactly `size` bytes, nearly all of it its input."""
    base = json.dumps(start_body(unique("tq"), input=[""]))
    raw = base.replace('"input": [""]', '"input": ["' + "x" * (size - len(base)) + '"]')
    assert len(raw) == size
    return raw.encode()


@pytest.mark.parametrize("size", [3 * 1024 * 1024, MAX_BODY], ids=["3MiB", "4MiB"])
async def test_body_up_to_the_limit_reaches_the_call(api, size):
    """Bodies up to 4 MiB are taken (Temporal's limit too); this one's input
    is then over the namespace's 2 MiB blob limit, which the call refuses."""
    reply = api.http.request("POST", activity_path(unique("http-large")),
                             raw=start_request_of_size(size), timeout=30)
    assert_error(reply, 400, 3, "input exceeds length limit")


# Temporal answers a body over the limit with 400 {"code": 3, "message": "http:
# request body too large"}; Errand with 413 and RESOURCE_EXHAUSTED.
@pytest.mark.needs_errand_process
@pytest.mark.parametrize("size", [MAX_BODY + 1, 5 * 1024 * 1024 + 1], ids=["4MiB+1", "5MiB+1"])
async def test_body_over_the_limit_is_refused(api, size):
    reply = api.http.request("POST", activity_path(unique("http-big")),
                             raw=start_request_of_size(size), timeout=30)
    assert_error(reply, 413, 8, f"request body larger than {MAX_BODY} bytes")
    # The server still serves the next request.
    assert ok(api.http.get("/api/v1/system-info"))["serverVersion"]


@pytest.mark.needs_errand_process  # the dev server has no API keys to configure
async def test_api_key_in_the_authorization_header():
    """The Authorization header reaches the call as gRPC metadata does;
    UNAUTHENTICATED is HTTP 401 and PERMISSION_DENIED 403, as grpc-gateway
    maps them."""
    reader, writer = unique("reader"), unique("writer")
    config_dir = Path(tempfile.mkdtemp(prefix="errand-http-auth-"))
    config = config_dir / "errand.yaml"
    config.write_text(key_principals_yaml(reader, writer))
    server = ErrandProcess(extra_args=["--config", str(config)])
    server.start()
    try:
        http_api = Http(server.http_address)
        activity_id, tq = unique("http-auth"), unique("tq")
        path = activity_path(activity_id)

        def start_as(key: str | None) -> Reply:
            return http_api.request("POST", path, start_body(tq), headers=(
                {"Authorization": f"Bearer {key}"} if key else {}))

        assert ok(http_api.get("/api/v1/system-info"))["serverVersion"]
        assert_error(start_as(None), 401, 16)
        assert_error(start_as("not-a-key"), 401, 16, "invalid API key")
        assert_error(start_as(reader), 403, 7,
                     'principal "ci-reader" may not call StartActivityExecution on namespace '
                     '"default": it needs the writer role there')
        assert ok(start_as(writer))["started"] is True
        described = http_api.request("GET", path, headers={"Authorization": f"Bearer {reader}"})
        assert ok(described)["info"]["activityId"] == activity_id
    finally:
        server.cleanup()
        config.unlink()
        config_dir.rmdir()
