"""`temporal operator ...` scenarios: cluster health and system info,
describing the default namespace, creating and describing a namespace.

What is asserted was checked against a Temporal dev server (CLI 1.9.1,
Server 1.32.0) in oracle mode (COMPAT_ORACLE_ADDRESS; see conftest.py).
"""
from clitools import card, unique

DEPRECATED_NS_ARG = ("Warning: Passing the namespace as an argument is now deprecated; "
                     "please switch to using -n instead\n")


# cluster-health --------------------------------------------------------------

async def test_cluster_health(cli):
    r = await cli("operator", "cluster", "health")
    assert (r.rc, r.out, r.err) == (0, "SERVING\n", ""), r
    r = await cli("operator", "cluster", "health", "-o", "json")
    assert r.rc == 0, r
    assert r.json() == {"status": "SERVING"}


async def test_cluster_system_info(cli):
    r = await cli("operator", "cluster", "system", "-o", "json")
    assert r.rc == 0, r
    info = r.json()
    assert info["serverVersion"]
    # The text form is a one-row table headed by the server version.
    r = await cli("operator", "cluster", "system")
    assert r.rc == 0, r
    assert r.out.split()[0] == "ServerVersion", r
    r = await cli("operator", "cluster", "describe", "-o", "json")
    assert r.rc == 0, r
    assert r.json()["clusterName"] == "active"


# namespaces ------------------------------------------------------------------

async def test_describe_default_namespace(cli):
    # -n, as `temporal operator namespace --help` recommends.
    r = await cli("operator", "namespace", "describe", "-n", "default", "-o", "json")
    assert r.rc == 0, r
    ns = r.json()
    assert ns["namespaceInfo"]["name"] == "default"
    assert ns["namespaceInfo"]["state"] == "NAMESPACE_STATE_REGISTERED"
    assert ns["namespaceInfo"]["capabilities"]["standaloneActivities"] is True
    assert ns["namespaceInfo"]["limits"]["blobSizeLimitError"] == "2097152"
    retention = ns["config"]["workflowExecutionRetentionTtl"]
    assert retention.endswith("s") and int(retention[:-1]) > 0, retention
    assert ns["config"]["historyArchivalState"] == "ARCHIVAL_STATE_DISABLED"
    assert ns["config"]["visibilityArchivalState"] == "ARCHIVAL_STATE_DISABLED"
    assert ns["replicationConfig"]["activeClusterName"] == "active"
    assert ns["replicationConfig"]["clusters"] == [{"clusterName": "active"}]

    # The README's form: the namespace as an argument, with a deprecation warning.
    r = await cli("operator", "namespace", "describe", "default")
    assert r.rc == 0, r
    assert r.err == DEPRECATED_NS_ARG
    fields = card(r.out)
    assert fields["NamespaceInfo.Name"] == "default"
    assert fields["NamespaceInfo.Id"] == ns["namespaceInfo"]["id"]
    assert fields["NamespaceInfo.State"] == "Registered"
    assert fields["IsGlobalNamespace"] == "false"
    assert fields["ReplicationConfig.ActiveClusterName"] == "active"
    assert fields["Config.HistoryArchivalState"] == "Disabled"

    # --namespace, the long form.
    r = await cli("operator", "namespace", "describe", "--namespace", "default")
    assert r.rc == 0 and r.err == "", r
    assert card(r.out)["NamespaceInfo.Name"] == "default"


async def test_create_namespace_then_describe_it(cli):
    name = unique("cli-ns")
    r = await cli("operator", "namespace", "create", "--namespace", name)
    assert (r.rc, r.out, r.err) == (0, f"Namespace {name} successfully registered.\n", ""), r

    # The CLI's default retention is 72h.
    r = await cli("operator", "namespace", "describe", "-n", name, "-o", "json")
    assert r.rc == 0, r
    ns = r.json()
    assert ns["namespaceInfo"]["name"] == name
    assert ns["namespaceInfo"]["state"] == "NAMESPACE_STATE_REGISTERED"
    assert ns["namespaceInfo"]["capabilities"]["standaloneActivities"] is True
    assert ns["config"]["workflowExecutionRetentionTtl"] == "259200s"
    assert ns["replicationConfig"] == {
        "activeClusterName": "active",
        "clusters": [{"clusterName": "active"}],
        "state": "REPLICATION_STATE_NORMAL",
    }
    assert ns.get("isGlobalNamespace", False) is False

    r = await cli("operator", "namespace", "describe", "-n", name)
    assert r.rc == 0, r
    fields = card(r.out)
    assert fields["NamespaceInfo.Name"] == name
    assert fields["NamespaceInfo.State"] == "Registered"
    assert fields["Config.WorkflowExecutionRetentionTtl"] == "72h0m0s"
    assert fields["ReplicationConfig.State"] == "Normal"

    # The new namespace shows up in the namespace list.
    r = await cli("operator", "namespace", "list", "-o", "json")
    assert r.rc == 0, r
    assert name in [n["namespaceInfo"]["name"] for n in r.json()]


async def test_create_namespace_with_retention_and_description(cli):
    name = unique("cli-ns")
    r = await cli("operator", "namespace", "create", "-n", name,
                  "--retention", "24h", "--description", "order jobs",
                  "--email", "ops@example.com")
    assert r.rc == 0, r
    r = await cli("operator", "namespace", "describe", "-n", name, "-o", "json")
    assert r.rc == 0, r
    ns = r.json()
    assert ns["config"]["workflowExecutionRetentionTtl"] == "86400s"
    assert ns["namespaceInfo"]["description"] == "order jobs"
    assert ns["namespaceInfo"]["ownerEmail"] == "ops@example.com"

    # Standalone activities work in the new namespace.
    activity_id = unique("in-ns")
    r = await cli("activity", "start", "-n", name, "--type", "greet",
                  "--activity-id", activity_id, "--task-queue", unique("tq"),
                  "--start-to-close-timeout", "10s", "-o", "json")
    assert r.rc == 0, r
    assert r.json()["namespace"] == name
    r = await cli("activity", "describe", "-n", name, "--activity-id", activity_id, "-o", "json")
    assert r.rc == 0, r
    assert r.json()["info"]["activityId"] == activity_id
    # ...and only there.
    r = await cli("activity", "describe", "--activity-id", activity_id)
    assert r.rc == 1, r
    assert r.err == f"Error: failed describing activity: activity not found for ID: {activity_id}\n"


async def test_create_existing_namespace_fails(cli):
    name = unique("cli-ns")
    r = await cli("operator", "namespace", "create", "-n", name)
    assert r.rc == 0, r
    r = await cli("operator", "namespace", "create", "-n", name)
    assert (r.rc, r.out) == (1, ""), r
    assert r.err == f'Error: unable to create namespace {name}: Namespace "{name}" already exists\n'
    r = await cli("operator", "namespace", "create", "-n", "default")
    assert r.rc == 1, r
    assert r.err == 'Error: unable to create namespace default: Namespace "default" already exists\n'


async def test_describe_missing_namespace_fails(cli):
    name = unique("no-such-ns")
    for out_args in ((), ("-o", "json")):
        r = await cli("operator", "namespace", "describe", "-n", name, *out_args)
        assert (r.rc, r.out) == (1, ""), r
        assert r.err == f"Error: unable to describe namespace {name}: Namespace {name} is not found.\n"
    # An activity command in a missing namespace gets the same server message.
    r = await cli("activity", "describe", "-n", name, "--activity-id", "x")
    assert r.rc == 1, r
    assert r.err == f"Error: failed describing activity: Namespace {name} is not found.\n"
