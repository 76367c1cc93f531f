"""A batch operation interrupted by a crash of the server finishes after the
restart, and applies its operation to every selected run exactly once.

The batch terminates 200 runs at 20 per second. The server is killed
(SIGKILL) when about a fifth of them are done, then started again on the
same data directory. The job must resume on its own and end with 200
completed, 0 failed. A terminate applied twice under another request ID
would fail ("already terminated with request ID ..."), and one applied twice
under the same ID would be a no-op that still counted twice; the counts
rule both out, and every run shows exactly one transition after its start.
"""
import uuid
from datetime import timedelta

import pytest
from temporalio.api.batch.v1 import BatchOperationTerminateActivities
from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import (
    DescribeBatchOperationRequest,
    StartBatchOperationRequest,
)
from temporalio.client import ActivityExecutionStatus, Client

from compat_helpers import eventually
from errand_harness import ErrandProcess

pytestmark = pytest.mark.needs_errand_process

RUNS = 200
RATE = 20


@pytest.fixture
def errand():
    server = ErrandProcess()
    server.start()
    yield server
    server.cleanup()


async def describe(client: Client, job_id: str):
    return await client.workflow_service.describe_batch_operation(
        DescribeBatchOperationRequest(namespace="default", job_id=job_id))


async def test_batch_terminate_survives_a_crash_and_applies_once(errand):
    client = await Client.connect(errand.address)
    task_queue = f"idle-{uuid.uuid4()}"
    ids = [f"restart-{i}" for i in range(RUNS)]
    for activity_id in ids:
        await client.start_activity(
            "nobody-polls", id=activity_id, task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=60))

    job_id = str(uuid.uuid4())
    await client.workflow_service.start_batch_operation(StartBatchOperationRequest(
        namespace="default", job_id=job_id, reason="crash test",
        visibility_query=f"TaskQueue = '{task_queue}'",
        max_operations_per_second=RATE,
        terminate_activities_operation=BatchOperationTerminateActivities(
            identity="compat", reason="crash test")))

    progress = await eventually(
        lambda: describe(client, job_id),
        lambda d: d.complete_operation_count >= RUNS // 5,
        "the batch to get a fifth of the way", timeout=30)
    assert progress.state == BatchOperationState.BATCH_OPERATION_STATE_RUNNING
    assert progress.complete_operation_count < RUNS

    errand.kill()
    errand.start()
    client = await Client.connect(errand.address)

    done = await eventually(
        lambda: describe(client, job_id),
        lambda d: d.state != BatchOperationState.BATCH_OPERATION_STATE_RUNNING,
        "the batch to finish after the restart", timeout=60)
    assert done.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
    assert done.total_operation_count == RUNS
    assert done.complete_operation_count == RUNS
    assert done.failure_operation_count == 0
    assert "resumes at item" in errand.log

    count = await client.count_activities(
        f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Terminated'")
    assert count.count == RUNS
    transitions = set()
    for activity_id in ids:
        desc = await client.get_activity_handle(activity_id).describe()
        assert desc.status == ActivityExecutionStatus.TERMINATED, activity_id
        transitions.add(desc.raw_info.state_transition_count)
    # Scheduled, then terminated: one write each, for every run.
    assert transitions == {2}
