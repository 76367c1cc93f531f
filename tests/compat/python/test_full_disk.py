"""A real full disk: errand's data directory on a small tmpfs that the test fills.

- While the file system is full, starts fail with RESOURCE_EXHAUSTED (the SDK
  raises RPCError) naming the data directory and none of the store's files;
  the server stays up and answers describe and count.
- Once the filler is deleted, writes resume without a restart.
- Every acknowledged start is there afterwards, and again after a SIGKILL and
  a restart on the same file system.
- Below min_free_space, new starts are refused while a worker still completes
  an activity started earlier.

The file system is a 64 MiB tmpfs (memory, not disk), mounted by the test:
mounting needs root. When the mount fails the test is skipped, saying so, on
a developer's machine, but fails in CI (the environment variable CI set, as
.ci/run sets it), so that a CI machine without root cannot pass by skipping
it. RocksDB preallocates about 35 MiB for its WAL, so writes only fail
once the WAL's preallocated space is used up: the first scenario starts
activities with 1.5 MB inputs until one fails.
"""
from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RetryConfig, RPCError, RPCStatusCode
from temporalio.worker import Worker

from errand_harness import ErrandProcess

pytestmark = pytest.mark.needs_errand_process

TMPFS_SIZE = "64m"
TIMEOUT = timedelta(seconds=60)
# No retries: the test sees each answer of the server (RetryConfig's
# max_retries=0 would mean "retry for ever").
NO_RETRIES = RetryConfig(max_retries=1)
BIG_INPUT = "x" * (1536 * 1024)
# Resuming is tried at most once a second, on the write path.
RESUME_WITHIN = 10.0


@pytest.fixture
def tmpfs():
    mount_point = tempfile.mkdtemp(prefix="errand-fulldisk-")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", mount_point],
        capture_output=True, text=True)
    if mounted.returncode != 0:
        os.rmdir(mount_point)
        reason = (f"cannot mount a {TMPFS_SIZE} tmpfs for the data directory "
                  f"(needs root): {mounted.stderr.strip()}")
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, and CI must run this test, "
                        "not skip it", pytrace=False)
        pytest.skip(reason)
    servers: list[ErrandProcess] = []
    try:
        yield Path(mount_point), servers
    finally:
        for server in servers:
            server.cleanup()
        subprocess.run(["umount", mount_point], check=True)
        os.rmdir(mount_point)


def fill(path: Path, leave: int = 0) -> None:
    """Writes `path` until the file system is full (ENOSPC on every size down
    to one block), or, with `leave`, until about that many bytes are free."""
    with open(path, "wb", buffering=0) as f:
        if leave:
            stat = os.statvfs(path)
            f.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
            return
        for chunk in (1 << 20, 64 << 10, 4096):
            block = b"\0" * chunk
            while True:
                try:
                    f.write(block)
                except OSError as err:
                    if err.errno != errno.ENOSPC:
                        raise
                    break


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


async def log_shows(errand: ErrandProcess, text: str, timeout: float = 5.0) -> None:
    """Waits for `text` in errand's log (read from its stderr by a thread)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while text not in errand.log:
        assert asyncio.get_running_loop().time() < deadline, \
            f"{text!r} not logged:\n{errand.log[-3000:]}"
        await asyncio.sleep(0.05)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


async def start(client: Client, activity_id: str, arg: str = "small",
                task_queue: str = "full-disk") -> str:
    handle = await client.start_activity(
        "work", arg, id=activity_id, task_queue=task_queue,
        start_to_close_timeout=TIMEOUT)
    return handle.run_id


async def start_when_writes_resume(client: Client, activity_id: str) -> str:
    deadline = asyncio.get_running_loop().time() + RESUME_WITHIN
    while True:
        try:
            return await start(client, activity_id)
        except RPCError as err:
            if (err.status != RPCStatusCode.RESOURCE_EXHAUSTED
                    or asyncio.get_running_loop().time() >= deadline):
                raise
            await asyncio.sleep(0.2)


async def expect_all_there(client: Client, acknowledged: dict[str, str]) -> None:
    for activity_id, run_id in acknowledged.items():
        desc = await client.get_activity_handle(activity_id).describe()
        assert desc.activity_run_id == run_id, activity_id
    count = await client.count_activities("TaskQueue = 'full-disk'")
    assert count.count == len(acknowledged)


def assert_names_disk_not_files(err: RPCError, data_dir: str) -> None:
    assert err.status == RPCStatusCode.RESOURCE_EXHAUSTED, err
    assert (f"no space left on the device holding the data directory {data_dir}"
            in err.message), err.message
    for internal in (".log", ".sst", "MANIFEST", "/db/"):
        assert internal not in err.message, err.message


async def fill_store_until_refused(client: Client, acknowledged: dict[str, str],
                                   data_dir: str) -> None:
    """Starts activities with big inputs until one is refused: with the file
    system full, writes go on into the WAL's preallocated space, then fail."""
    for _ in range(200):
        activity_id = unique("while-full")
        try:
            acknowledged[activity_id] = await start(client, activity_id, BIG_INPUT)
        except RPCError as err:
            assert_names_disk_not_files(err, data_dir)
            return
    pytest.fail("the full file system never refused a start")


async def test_full_disk_refuses_writes_then_resumes_and_keeps_everything(tmpfs):
    mount_point, servers = tmpfs
    data_dir = str(mount_point / "data")
    errand = ErrandProcess(["--min-free-space", "0"], data_dir=data_dir)
    servers.append(errand)
    errand.start()
    client = await Client.connect(errand.address, namespace="default",
                                  retry_config=NO_RETRIES)
    acknowledged: dict[str, str] = {}
    for _ in range(5):
        activity_id = unique("before")
        acknowledged[activity_id] = await start(client, activity_id)

    filler = mount_point / "filler"
    fill(filler)
    assert free_bytes(mount_point) < (1 << 20)
    await fill_store_until_refused(client, acknowledged, data_dir)
    # Writes stay off while the disk is full.
    for _ in range(3):
        with pytest.raises(RPCError) as again:
            await start(client, unique("still-full"))
        assert_names_disk_not_files(again.value, data_dir)

    # The server is up and serves reads.
    assert errand.proc.poll() is None
    await expect_all_there(client, acknowledged)
    await log_shows(errand, "store writes failing: no space left on the device")

    # Space is back: writes resume without a restart.
    filler.unlink()
    activity_id = unique("after")
    acknowledged[activity_id] = await start_when_writes_resume(client, activity_id)
    for _ in range(3):
        activity_id = unique("after")
        acknowledged[activity_id] = await start(client, activity_id)
    await log_shows(errand, "store writes resumed")
    await expect_all_there(client, acknowledged)

    errand.kill()
    errand.start()
    client = await Client.connect(errand.address, namespace="default",
                                  retry_config=NO_RETRIES)
    await expect_all_there(client, acknowledged)
    activity_id = unique("after-restart")
    acknowledged[activity_id] = await start(client, activity_id)

    # Full again, then a graceful stop: the flush on shutdown is skipped and
    # the process exits cleanly; nothing acknowledged is lost.
    fill(filler)
    await fill_store_until_refused(client, acknowledged, data_dir)
    assert errand.stop() == 0, errand.log[-3000:]
    await log_shows(errand, "flushing the store on shutdown")
    filler.unlink()
    errand.start()
    client = await Client.connect(errand.address, namespace="default",
                                  retry_config=NO_RETRIES)
    await expect_all_there(client, acknowledged)


@activity.defn(name="work")
async def work(arg: str) -> str:
    return f"done {arg}"


async def test_free_space_floor_refuses_starts_but_not_completions(tmpfs):
    mount_point, servers = tmpfs
    data_dir = str(mount_point / "data")
    errand = ErrandProcess(["--min-free-space", "16MiB"], data_dir=data_dir)
    servers.append(errand)
    errand.start()
    client = await Client.connect(errand.address, namespace="default",
                                  retry_config=NO_RETRIES)
    task_queue = unique("floor")
    acknowledged: dict[str, str] = {}
    first = unique("before")
    acknowledged[first] = await start(client, first, "first", task_queue)

    filler = mount_point / "filler"
    fill(filler, leave=8 << 20)
    assert free_bytes(mount_point) < (16 << 20)
    # Free space is looked up at most every 2 s: starts are refused from then.
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        activity_id = unique("near-full")
        try:
            acknowledged[activity_id] = await start(client, activity_id, "x", task_queue)
        except RPCError as err:
            assert err.status == RPCStatusCode.RESOURCE_EXHAUSTED, err
            assert "below min_free_space (16 MiB)" in err.message, err.message
            assert data_dir in err.message, err.message
            break
        assert asyncio.get_running_loop().time() < deadline, "never refused"
        await asyncio.sleep(0.2)
    await log_shows(errand, "disk space below min_free_space")

    # Activities already started still complete.
    async with Worker(client, task_queue=task_queue, activities=[work]):
        for activity_id in acknowledged:
            result = await client.get_activity_handle(activity_id).result()
            assert result.startswith("done "), result

    filler.unlink()
    activity_id = unique("after")
    deadline = asyncio.get_running_loop().time() + RESUME_WITHIN
    while True:
        try:
            acknowledged[activity_id] = await start(client, activity_id, "x", task_queue)
            break
        except RPCError as err:
            assert err.status == RPCStatusCode.RESOURCE_EXHAUSTED, err
            assert asyncio.get_running_loop().time() < deadline, err.message
            await asyncio.sleep(0.2)

    errand.kill()
    errand.start()
    client = await Client.connect(errand.address, namespace="default",
                                  retry_config=NO_RETRIES)
    for activity_id, run_id in acknowledged.items():
        desc = await client.get_activity_handle(activity_id).describe()
        assert desc.activity_run_id == run_id, activity_id
