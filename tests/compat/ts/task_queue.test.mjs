// Dispatch rate limits and the task queue's own view with the TypeScript SDK
// 1.24: a worker's per-queue activity rate (maxTaskQueueActivitiesPerSecond),
// a queue rate limit set with UpdateTaskQueueConfig that wins over it, and
// DescribeTaskQueue's backlog, rates and pollers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { Errand } from './harness.mjs';
import { sleep, unique, withClient as clientAt } from './sdk.mjs';

Runtime.install({ logger: new DefaultLogger('WARN') });

let errand;
before(async () => { errand = await Errand.start(); });
after(async () => { await errand?.cleanup(); });

const withClient = (fn) => clientAt(errand.address, fn);
const ACTIVITY = 2; // temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY

async function startRecords(client, taskQueue, prefix, n) {
  for (let i = 0; i < n; i++) {
    await client.activity.start('record', {
      id: unique(`${prefix}${i}`), taskQueue, args: [`${prefix}${i}`], startToCloseTimeout: '60s',
    });
  }
}

// Runs a worker with `options` until `until(started)` holds (or 15 s pass);
// resolves to when each task started (ms, monotonic).
async function runWorker(taskQueue, options, until) {
  const started = [];
  const connection = await NativeConnection.connect({ address: errand.address });
  try {
    const worker = await Worker.create({
      connection, namespace: 'default', taskQueue, shutdownGraceTime: '2s', ...options,
      activities: {
        async record(name) {
          started.push(performance.now());
          return name;
        },
      },
    });
    await worker.runUntil(async () => {
      const giveUp = performance.now() + 15_000;
      while (!until(started) && performance.now() < giveUp) await sleep(100);
    });
  } finally {
    await connection.close();
  }
  return started;
}

// After the one-second burst (5 at once), 4 s at 5/s start 20 tasks, within 20%.
function assertFivePerSecond(started) {
  assert.ok(started.length > 0, 'no task ran');
  const first = started[0];
  const inWindow = started.filter((t) => t >= first + 1000 && t < first + 5000).length;
  assert.ok(inWindow >= 16 && inWindow <= 24,
    `${inWindow} started between 1 s and 5 s after the first, want 16..24: ${started.map((t) => ((t - first) / 1000).toFixed(2))}`);
}

const fiveAndAHalfSeconds = (count) => (started) =>
  started.length >= count || (started.length > 0 && started.at(-1) - started[0] >= 5500);

test('a worker task queue rate limit of 5/s holds within 20%', async () => {
  const taskQueue = unique('rate');
  await withClient((client) => startRecords(client, taskQueue, 'r', 60));
  const started = await runWorker(taskQueue, {
    maxConcurrentActivityTaskExecutions: 20, maxTaskQueueActivitiesPerSecond: 5,
  }, fiveAndAHalfSeconds(60));
  assertFivePerSecond(started);
});

test('a rate limit set by UpdateTaskQueueConfig overrides the worker\'s', async () => {
  const taskQueue = unique('config-rate');
  await withClient(async (client, connection) => {
    const updated = await connection.workflowService.updateTaskQueueConfig({
      namespace: 'default', identity: 'ops', taskQueue, taskQueueType: ACTIVITY,
      updateQueueRateLimit: { rateLimit: { requestsPerSecond: 5 }, reason: 'downstream is slow' },
    });
    assert.equal(updated.config.queueRateLimit.rateLimit.requestsPerSecond, 5);
    assert.equal(updated.config.queueRateLimit.metadata.reason, 'downstream is slow');
    await startRecords(client, taskQueue, 'c', 60);
  });
  const started = await runWorker(taskQueue, {
    maxConcurrentActivityTaskExecutions: 20, maxTaskQueueActivitiesPerSecond: 1000,
  }, fiveAndAHalfSeconds(60));
  assertFivePerSecond(started);
});

test('DescribeTaskQueue shows the backlog, then the poller that drained it', async () => {
  const taskQueue = unique('describe');
  // Temporal's stats are approximate and cached for a few seconds; Errand's
  // are exact at once.
  const describeUntil = async (connection, check) => {
    const giveUp = performance.now() + 15_000;
    for (;;) {
      const resp = await connection.workflowService.describeTaskQueue({
        namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: ACTIVITY, reportStats: true,
      });
      if (check(resp) || performance.now() > giveUp) return resp;
      await sleep(50);
    }
  };
  await withClient(async (client, connection) => {
    await startRecords(client, taskQueue, 'd', 5);
    const before = await describeUntil(connection, (r) => Number(r.stats.approximateBacklogCount) === 5);
    assert.equal(Number(before.stats.approximateBacklogCount), 5);
    const age = before.stats.approximateBacklogAge;
    assert.ok(Number(age.seconds ?? 0) > 0 || (age.nanos ?? 0) > 0, `backlog age ${JSON.stringify(age)}`);
    assert.deepEqual(before.pollers, []);
  });
  const identity = unique('describe-worker');
  await runWorker(taskQueue, { identity, maxTaskQueueActivitiesPerSecond: 50 },
    (started) => started.length >= 5);
  await withClient(async (client, connection) => {
    const after = await describeUntil(connection, (r) =>
      Number(r.stats.approximateBacklogCount ?? 0) === 0 && r.stats.tasksDispatchRate > 0);
    assert.equal(Number(after.stats.approximateBacklogCount ?? 0), 0);
    assert.ok(after.stats.tasksDispatchRate > 0, `dispatch rate ${after.stats.tasksDispatchRate}`);
    const poller = after.pollers.find((p) => p.identity === identity);
    assert.ok(poller, `${identity} not among ${JSON.stringify(after.pollers)}`);
    assert.equal(poller.ratePerSecond, 50);
    assert.ok(Number(poller.lastAccessTime.seconds) > 0);
  });
});
