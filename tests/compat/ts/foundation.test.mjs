// Issue 2 scenarios with the TypeScript SDK 1.24: connect, namespaces, a
// worker's life, and a namespace surviving a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { Errand, oracleMode } from './harness.mjs';

const { temporal, google, grpc } = proto;

// Keep sdk-core quiet unless something is wrong.
Runtime.install({ logger: new DefaultLogger('WARN') });

let errand;
before(async () => { errand = await Errand.start(); });
after(async () => { await errand.cleanup(); });

async function connect() {
  return await Connection.connect({ address: errand.address });
}

test('client connects and reads system info', async () => {
  const connection = await connect();
  try {
    const info = await connection.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion);
  } finally {
    await connection.close();
  }
});

test('health check reports SERVING', async () => {
  const connection = await connect();
  try {
    // grpc.health.v1.Health/Check for the WorkflowService.
    const resp = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
    assert.equal(resp.status, grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
  } finally {
    await connection.close();
  }
});

test('describe the default namespace', async () => {
  const connection = await connect();
  try {
    const resp = await connection.workflowService.describeNamespace({ namespace: 'default' });
    assert.equal(resp.namespaceInfo.name, 'default');
    assert.equal(resp.namespaceInfo.state, temporal.api.enums.v1.NamespaceState.NAMESPACE_STATE_REGISTERED);
    assert.equal(resp.namespaceInfo.capabilities.standaloneActivities, true);
    assert.equal(Number(resp.namespaceInfo.limits.blobSizeLimitError), 2 * 1024 * 1024);
  } finally {
    await connection.close();
  }
});

test('unknown namespace is NOT_FOUND with a NamespaceNotFoundFailure detail', async () => {
  const connection = await connect();
  try {
    await assert.rejects(
      connection.workflowService.describeNamespace({ namespace: 'no-such-namespace' }),
      (err) => {
        assert.equal(err.code, 5); // NOT_FOUND
        assert.match(err.details, /Namespace no-such-namespace is not found\./);
        const [bin] = err.metadata.get('grpc-status-details-bin');
        const status = google.rpc.Status.decode(bin);
        assert.equal(status.details[0].type_url ?? status.details[0].typeUrl,
          'type.googleapis.com/temporal.api.errordetails.v1.NamespaceNotFoundFailure');
        const detail = temporal.api.errordetails.v1.NamespaceNotFoundFailure.decode(status.details[0].value);
        assert.equal(detail.namespace, 'no-such-namespace');
        return true;
      });
  } finally {
    await connection.close();
  }
});

test('a worker on an unknown namespace fails to start', async () => {
  const connection = await NativeConnection.connect({ address: errand.address });
  try {
    await assert.rejects(
      Worker.create({ connection, namespace: 'no-such-namespace', taskQueue: 'tq',
        activities: { async noop() {} } }),
      /Namespace no-such-namespace is not found/);
  } finally {
    await connection.close();
  }
});

test('an activity worker polls and shuts down cleanly',
  { skip: oracleMode && 'reads the errand process log' }, async () => {
  const connection = await NativeConnection.connect({ address: errand.address });
  const taskQueue = `tq-${randomUUID()}`;
  try {
    const worker = await Worker.create({
      connection, namespace: 'default', taskQueue,
      activities: { async composeGreeting(name) { return `Hello, ${name}!`; } },
    });
    const running = worker.run();
    await errand.waitForLog(`poll on task queue ${taskQueue}`);
    worker.shutdown();
    await running;  // rejects if the worker failed
    assert.equal(worker.getState(), 'STOPPED');
  } finally {
    await connection.close();
  }
});

test('register a new namespace, then describe and list it', async () => {
  const connection = await connect();
  const name = `compat-ns-${randomUUID()}`;
  try {
    await connection.workflowService.registerNamespace({
      namespace: name, description: 'order jobs', ownerEmail: 'ops@example.com',
      workflowExecutionRetentionPeriod: { seconds: 3 * 86400 },
    });
    const resp = await connection.workflowService.describeNamespace({ namespace: name });
    assert.equal(resp.namespaceInfo.name, name);
    assert.equal(resp.namespaceInfo.state, temporal.api.enums.v1.NamespaceState.NAMESPACE_STATE_REGISTERED);
    assert.equal(resp.namespaceInfo.description, 'order jobs');
    assert.equal(resp.namespaceInfo.ownerEmail, 'ops@example.com');
    assert.ok(resp.namespaceInfo.id);
    assert.equal(resp.namespaceInfo.capabilities.standaloneActivities, true);
    assert.equal(Number(resp.config.workflowExecutionRetentionTtl.seconds), 3 * 86400);
    assert.equal(resp.isGlobalNamespace, false);

    const names = [];
    let nextPageToken;
    do {
      const page = await connection.workflowService.listNamespaces({ pageSize: 100, nextPageToken });
      names.push(...page.namespaces.map((ns) => ns.namespaceInfo.name));
      nextPageToken = page.nextPageToken;
    } while (nextPageToken && nextPageToken.length > 0);
    assert.ok(names.includes(name), `${name} not in ListNamespaces`);
    assert.ok(names.includes('default'));
  } finally {
    await connection.close();
  }
});

test('a registered namespace survives a restart',
  { skip: oracleMode && 'needs an errand process' }, async () => {
  let connection = await connect();
  await connection.workflowService.registerNamespace({
    namespace: 'orders', description: 'order jobs',
    workflowExecutionRetentionPeriod: { seconds: 86400 },
  });
  await connection.close();
  assert.equal(await errand.stop(), 0);
  await errand.start();
  connection = await connect();
  try {
    const resp = await connection.workflowService.describeNamespace({ namespace: 'orders' });
    assert.equal(resp.namespaceInfo.description, 'order jobs');
    assert.equal(Number(resp.config.workflowExecutionRetentionTtl.seconds), 86400);
  } finally {
    await connection.close();
  }
});
