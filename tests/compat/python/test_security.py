"""TLS, mTLS, API keys and roles with the Python SDK (issue 15).

Each test starts its own errand with a config file (errand-specific settings,
so all carry needs_errand_process: they are skipped in oracle mode). The
certificates are a throwaway PKI made per test by
tests/support/make_test_certs.sh; nothing is committed.
"""
from __future__ import annotations

import asyncio
import shutil
import signal
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode, TLSConfig
from temporalio.worker import Worker

from errand_harness import ErrandProcess, key_principals_yaml, pki  # noqa: F401 (pki: a fixture)

pytestmark = pytest.mark.needs_errand_process

READER_KEY = "reader-" + uuid.uuid4().hex
WRITER_KEY = "writer-" + uuid.uuid4().hex


@activity.defn
async def compose_greeting(name: str) -> str:
    return f"Hello, {name}!"


def start_errand(config_dir: Path, config: str) -> ErrandProcess:
    path = config_dir / "errand.yaml"
    path.write_text(config)
    proc = ErrandProcess(extra_args=["--config", str(path)])
    proc.start()
    return proc


@pytest.fixture
def servers():
    started: list[ErrandProcess] = []
    yield started
    for s in started:
        s.cleanup()


def principals_yaml() -> str:
    return key_principals_yaml(READER_KEY, WRITER_KEY) + """\
    - name: worker-fleet
      tls_identity: errand-test-client
      roles: {"*": writer}
"""


async def greet(client: Client) -> str:
    task_queue = f"tq-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, activities=[compose_greeting]):
        return await client.execute_activity(
            compose_greeting, "World", id=f"greet-{uuid.uuid4()}",
            task_queue=task_queue, start_to_close_timeout=timedelta(seconds=30))


async def test_api_keys_and_roles(pki, servers):
    errand = start_errand(pki, principals_yaml())
    servers.append(errand)

    # Without a key: connecting works (GetSystemInfo is open), a start does not.
    anonymous = await Client.connect(errand.address, namespace="default")
    await anonymous.workflow_service.get_system_info(GetSystemInfoRequest())
    with pytest.raises(RPCError) as err:
        await anonymous.start_activity(compose_greeting, "x", id="anon",
                                       task_queue="tq",
                                       start_to_close_timeout=timedelta(seconds=30))
    assert err.value.status == RPCStatusCode.UNAUTHENTICATED

    wrong = await Client.connect(errand.address, namespace="default",
                                 api_key="not-a-key", tls=False)
    with pytest.raises(RPCError) as err:
        await wrong.start_activity(compose_greeting, "x", id="wrong", task_queue="tq",
                                   start_to_close_timeout=timedelta(seconds=30))
    assert (err.value.status, err.value.message) == (
        RPCStatusCode.UNAUTHENTICATED, "invalid API key")

    reader = await Client.connect(errand.address, namespace="default",
                                  api_key=READER_KEY, tls=False)
    with pytest.raises(RPCError) as err:
        await reader.start_activity(compose_greeting, "x", id="by-reader",
                                    task_queue="tq",
                                    start_to_close_timeout=timedelta(seconds=30))
    assert err.value.status == RPCStatusCode.PERMISSION_DENIED
    assert err.value.message == (
        'principal "ci-reader" may not call StartActivityExecution on namespace '
        '"default": it needs the writer role there')

    writer = await Client.connect(errand.address, namespace="default",
                                  api_key=WRITER_KEY, tls=False)
    assert await greet(writer) == "Hello, World!"
    # The reader may read what the writer did.
    count = await reader.count_activities("")
    assert count.count == 1


async def test_tls_and_sighup_reload(pki, servers):
    errand = start_errand(pki, f"""
tls:
  cert_file: {pki / "server.pem"}
  key_file: {pki / "server.key"}
""")
    servers.append(errand)
    tls = TLSConfig(server_root_ca_cert=(pki / "ca.pem").read_bytes(), domain="localhost")
    client = await Client.connect(errand.address, namespace="default", tls=tls)
    assert await greet(client) == "Hello, World!"

    # Rotate to a certificate from another CA, then SIGHUP.
    shutil.copy(pki / "other-server.pem", pki / "server.pem")
    shutil.copy(pki / "other-server.key", pki / "server.key")
    errand.proc.send_signal(signal.SIGHUP)
    for _ in range(100):
        if "TLS certificates reloaded" in errand.log:
            break
        await asyncio.sleep(0.1)
    assert "SIGHUP: TLS certificates reloaded" in errand.log, errand.log

    rotated = TLSConfig(server_root_ca_cert=(pki / "other-ca.pem").read_bytes(),
                        domain="localhost")
    client2 = await Client.connect(errand.address, namespace="default", tls=rotated)
    assert await greet(client2) == "Hello, World!"
    # The first client's connection survived the reload.
    assert await greet(client) == "Hello, World!"
    with pytest.raises(RuntimeError):
        await Client.connect(errand.address, namespace="default", tls=tls)
    assert errand.proc.poll() is None


async def test_mtls_client_certificate_is_a_principal(pki, servers):
    errand = start_errand(pki, f"""
tls:
  cert_file: {pki / "server.pem"}
  key_file: {pki / "server.key"}
  client_ca_file: {pki / "ca.pem"}
""" + principals_yaml())
    servers.append(errand)
    ca = (pki / "ca.pem").read_bytes()
    with pytest.raises(RuntimeError):
        # No client certificate: the handshake fails.
        await Client.connect(errand.address, namespace="default",
                             tls=TLSConfig(server_root_ca_cert=ca, domain="localhost"))
    mtls = TLSConfig(server_root_ca_cert=ca, domain="localhost",
                     client_cert=(pki / "client.pem").read_bytes(),
                     client_private_key=(pki / "client.key").read_bytes())
    client = await Client.connect(errand.address, namespace="default", tls=mtls)
    assert await greet(client) == "Hello, World!"
    # Over the same mTLS connection settings, a reader's key decides instead.
    reader = await Client.connect(errand.address, namespace="default", tls=mtls,
                                  api_key=READER_KEY)
    with pytest.raises(RPCError) as err:
        await reader.start_activity(compose_greeting, "x", id="by-reader",
                                    task_queue="tq",
                                    start_to_close_timeout=timedelta(seconds=30))
    assert err.value.status == RPCStatusCode.PERMISSION_DENIED
    assert 'namespace "default"' in err.value.message
    assert "writer role" in err.value.message
