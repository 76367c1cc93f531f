"""Issue 2 scenarios with the Python SDK: connect, namespaces, a worker's life."""
import asyncio
import uuid

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio import activity
from temporalio.api.errordetails.v1 import NamespaceAlreadyExistsFailure, NamespaceNotFoundFailure
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    GetSystemInfoRequest,
    ListNamespacesRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker


async def test_client_connects_and_reads_system_info(client):
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    assert info.server_version


async def test_health_check_reports_serving(client):
    # grpc.health.v1.Health/Check for the WorkflowService.
    assert await client.service_client.check_health() is True


async def test_describe_default_namespace(client):
    resp = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default"))
    assert resp.namespace_info.name == "default"
    assert resp.namespace_info.state == 1  # NAMESPACE_STATE_REGISTERED
    assert resp.namespace_info.capabilities.standalone_activities
    assert resp.namespace_info.limits.blob_size_limit_error == 2 * 1024 * 1024
    assert resp.config.workflow_execution_retention_ttl.ToSeconds() > 0


async def test_unknown_namespace_is_not_found_with_detail(client):
    with pytest.raises(RPCError) as err:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace="no-such-namespace"))
    assert err.value.status == RPCStatusCode.NOT_FOUND
    assert err.value.message == "Namespace no-such-namespace is not found."
    detail = NamespaceNotFoundFailure()
    assert err.value.grpc_status.details[0].Unpack(detail)
    assert detail.namespace == "no-such-namespace"


async def test_worker_on_unknown_namespace_fails_to_start(errand):
    client = await Client.connect(errand.address, namespace="no-such-namespace")

    @activity.defn
    async def noop() -> None:
        return None

    worker = Worker(client, task_queue="tq", activities=[noop])
    with pytest.raises(RuntimeError) as err:
        async with worker:
            await asyncio.sleep(1)
    assert "Worker validation failed" in str(err.value)
    assert "Namespace no-such-namespace is not found." in str(err.value)


@pytest.mark.needs_errand_process
async def test_activity_worker_polls_and_shuts_down_cleanly(errand, client):
    @activity.defn
    async def compose_greeting(name: str) -> str:
        return f"Hello, {name}!"

    task_queue = f"tq-{uuid.uuid4()}"
    worker = Worker(client, task_queue=task_queue, activities=[compose_greeting])
    async with worker:
        # Wait until the worker's long poll has reached the server.
        for _ in range(100):
            if f"poll on task queue {task_queue}" in errand.log:
                break
            await asyncio.sleep(0.1)
        assert f"poll on task queue {task_queue}" in errand.log
    # Leaving the block shut the worker down; it must not hang on its polls.
    assert worker.is_shutdown


@pytest.mark.needs_errand_process
async def test_registered_namespace_survives_restart(errand, client):
    await client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace="orders", description="order jobs",
        workflow_execution_retention_period=Duration(seconds=86400)))
    assert errand.stop() == 0
    errand.start()
    client = await Client.connect(errand.address)
    resp = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="orders"))
    assert resp.namespace_info.description == "order jobs"
    assert resp.config.workflow_execution_retention_ttl.ToSeconds() == 86400
    names = [ns.namespace_info.name for ns in (await client.workflow_service.list_namespaces(
        ListNamespacesRequest())).namespaces]
    assert names == ["default", "orders"]


async def test_register_needs_retention_and_a_new_name(client):
    with pytest.raises(RPCError) as err:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(namespace="fresh"))
    assert err.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert err.value.message == "A valid retention period is not set on request."
    with pytest.raises(RPCError) as err:
        await client.workflow_service.register_namespace(RegisterNamespaceRequest(
            namespace="default", workflow_execution_retention_period=Duration(seconds=86400)))
    assert err.value.status == RPCStatusCode.ALREADY_EXISTS
    assert err.value.message == 'Namespace "default" already exists'
    assert err.value.grpc_status.details[0].Is(NamespaceAlreadyExistsFailure.DESCRIPTOR)


async def test_register_namespace_then_describe_and_list_it(client):
    name = f"compat-ns-{uuid.uuid4()}"
    resp = await client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=name, description="order jobs", owner_email="ops@example.com",
        workflow_execution_retention_period=Duration(seconds=3 * 86400)))
    assert resp.ByteSize() == 0
    desc = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=name))
    assert desc.namespace_info.name == name
    assert desc.namespace_info.state == 1  # NAMESPACE_STATE_REGISTERED
    assert desc.namespace_info.description == "order jobs"
    assert desc.namespace_info.owner_email == "ops@example.com"
    assert desc.namespace_info.id
    assert desc.namespace_info.capabilities.standalone_activities
    assert desc.config.workflow_execution_retention_ttl.ToSeconds() == 3 * 86400
    assert not desc.is_global_namespace

    names, token = [], b""
    while True:
        page = await client.workflow_service.list_namespaces(
            ListNamespacesRequest(page_size=100, next_page_token=token))
        names += [ns.namespace_info.name for ns in page.namespaces]
        token = page.next_page_token
        if not token:
            break
    assert name in names
    assert "default" in names
