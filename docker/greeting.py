#!/usr/bin/env python3
"""The greeting flow against an Errand server, in two halves for docker/test.sh.

  greeting.py run ADDRESS STATE.json    start an activity, run a worker that
                                        completes it, check and save the result
  greeting.py check ADDRESS STATE.json  after a restart: the same activity is
                                        still there, completed, same result

Needs the pinned temporalio SDK (~/.cache/errand/venv, scripts/setup.sh).
"""
import asyncio
import json
import sys
import uuid
from datetime import timedelta

from temporalio import activity
from temporalio.client import ActivityExecutionStatus, Client
from temporalio.worker import Worker


@activity.defn
async def compose_greeting(name: str) -> str:
    return f"Hello, {name}!"


async def run(address: str, state_path: str) -> None:
    client = await Client.connect(address)
    task_queue = f"docker-tq-{uuid.uuid4()}"
    activity_id = f"docker-greet-{uuid.uuid4()}"
    handle = await client.start_activity(
        compose_greeting, "Container", id=activity_id, task_queue=task_queue,
        start_to_close_timeout=timedelta(seconds=30))
    print(f"started activity {activity_id} run {handle.run_id} on {task_queue}")
    async with Worker(client, task_queue=task_queue, activities=[compose_greeting]):
        result = await asyncio.wait_for(handle.result(), 60)
    print(f"worker completed it: result {result!r}")
    if result != "Hello, Container!":
        raise SystemExit(f"unexpected result {result!r}")
    desc = await handle.describe()
    print(f"describe: status {desc.status.name}, attempt {desc.attempt}, "
          f"worker {desc.last_worker_identity}")
    if desc.status != ActivityExecutionStatus.COMPLETED:
        raise SystemExit(f"expected COMPLETED, got {desc.status.name}")
    with open(state_path, "w") as f:
        json.dump({"id": activity_id, "run_id": handle.run_id, "result": result}, f)


async def check(address: str, state_path: str) -> None:
    with open(state_path) as f:
        state = json.load(f)
    client = await Client.connect(address)
    handle = client.get_activity_handle(state["id"], run_id=state["run_id"])
    desc = await handle.describe()
    result = await asyncio.wait_for(handle.result(), 30)
    print(f"after restart: activity {desc.activity_id} run {desc.activity_run_id} "
          f"status {desc.status.name}, result {result!r}")
    if desc.status != ActivityExecutionStatus.COMPLETED:
        raise SystemExit(f"expected COMPLETED, got {desc.status.name}")
    if desc.activity_run_id != state["run_id"] or result != state["result"]:
        raise SystemExit(f"expected run {state['run_id']} with {state['result']!r}")


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[1] not in ("run", "check"):
        raise SystemExit(__doc__)
    mode, address, state_path = sys.argv[1:]
    asyncio.run((run if mode == "run" else check)(address, state_path))


if __name__ == "__main__":
    main()
