"""The Temporal CLI over TLS and mTLS, with and without API keys (issue 15).

errand runs with its own config (TLS files from a throwaway PKI made by
tests/support/make_test_certs.sh, and principals with hashed keys), so these
tests need the errand process and are skipped in oracle mode.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from clitools import unique
from conftest import Cli
from errand_harness import ErrandProcess, key_principals_yaml, pki  # noqa: F401 (pki: a fixture)

pytestmark = pytest.mark.needs_errand_process

WRITER_KEY = "cli-writer-" + uuid.uuid4().hex
READER_KEY = "cli-reader-" + uuid.uuid4().hex


@pytest.fixture
def secured(pki):
    """errand with mTLS and API keys; the client certificate's identity is a reader."""
    config = pki / "errand.yaml"
    config.write_text(f"""
tls:
  cert_file: {pki / "server.pem"}
  key_file: {pki / "server.key"}
  client_ca_file: {pki / "ca.pem"}
""" + key_principals_yaml(READER_KEY, WRITER_KEY) + """\
    - name: cert-reader
      tls_identity: errand-test-client
      roles: {"*": reader}
""")
    errand = ErrandProcess(extra_args=["--config", str(config)])
    errand.start()
    yield errand
    errand.cleanup()


def tls_flags(pki: Path, client_cert: bool = True) -> tuple[str, ...]:
    flags = ("--tls-ca-path", str(pki / "ca.pem"), "--tls-server-name", "localhost")
    if client_cert:
        flags += ("--tls-cert-path", str(pki / "client.pem"),
                  "--tls-key-path", str(pki / "client.key"))
    return flags


def start_args(activity_id: str) -> tuple[str, ...]:
    return ("activity", "start", "--type", "compose_greeting", "--activity-id", activity_id,
            "--task-queue", unique("tq"), "--start-to-close-timeout", "10s", "-o", "json")


async def test_cli_over_mtls_with_api_keys(temporal_cli, secured, pki):
    cli = Cli(temporal_cli, secured.address)

    # The certificate alone identifies a reader: it may read, not start.
    r = await cli("operator", "namespace", "describe", "-n", "default", "-o", "json",
                  *tls_flags(pki))
    assert r.rc == 0, r
    assert r.json()["namespaceInfo"]["name"] == "default"
    activity_id = unique("cli-tls")
    r = await cli(*start_args(activity_id), *tls_flags(pki))
    assert r.rc != 0, r
    assert ('principal "cert-reader" may not call StartActivityExecution on namespace '
            '"default": it needs the writer role there') in r.err, r

    # With a writer's key the start goes through; the reader's is refused.
    r = await cli(*start_args(activity_id), *tls_flags(pki), "--api-key", WRITER_KEY)
    assert r.rc == 0, r
    run_id = r.json()["runId"]
    r = await cli(*start_args(unique("cli-tls")), *tls_flags(pki), "--api-key", READER_KEY)
    assert r.rc != 0, r
    assert 'principal "ci-reader" may not call StartActivityExecution' in r.err, r
    r = await cli(*start_args(unique("cli-tls")), *tls_flags(pki), "--api-key", "wrong")
    assert r.rc != 0, r
    assert "invalid API key" in r.err, r

    # The certificate's reader describes what the writer started.
    r = await cli("activity", "describe", "--activity-id", activity_id, "-o", "json",
                  *tls_flags(pki))
    assert r.rc == 0, r
    assert r.json()["info"]["runId"] == run_id


async def test_cli_without_client_certificate_is_refused(temporal_cli, secured, pki):
    cli = Cli(temporal_cli, secured.address)
    r = await cli("operator", "namespace", "describe", "-n", "default",
                  *tls_flags(pki, client_cert=False), "--api-key", WRITER_KEY, timeout=60)
    # TLS 1.3: the client's handshake completes, then the server, which found
    # no certificate, closes the connection.
    assert r.rc != 0, r
    assert "failed connecting to Temporal server" in r.err, r
    # Plain text to a TLS port fails as well.
    r = await cli("operator", "namespace", "describe", "-n", "default",
                  "--api-key", WRITER_KEY, "--tls=false", timeout=60)
    assert r.rc != 0, r
    assert "server expects TLS" in r.err, r
