// Dispatch order with the TypeScript SDK 1.24: a task queue's backlog is
// handed out by priority (1 first, unset in the middle), shared between
// fairness keys by weight, and in the order tasks became ready within a
// level, also after a crash and restart.
//
// A worker with one activity slot takes one task at a time, so the order its
// activity runs in is the server's dispatch order. Every task is started
// before the worker polls, so the whole set is backlog.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { Errand, oracleMode } from './harness.mjs';
import { unique, withClient as clientAt } from './sdk.mjs';

// Keep sdk-core quiet unless something is wrong.
Runtime.install({ logger: new DefaultLogger('WARN') });

let errand;
before(async () => { errand = await Errand.start(); });
after(async () => { await errand?.cleanup(); });

const withClient = (fn) => clientAt(errand.address, fn);

// Starts one `record` activity per [name, priority] in the given order; a
// missing priority leaves the field unset.
async function startAll(client, taskQueue, tasks) {
  for (const [name, priority] of tasks) {
    await client.activity.start('record', {
      id: unique(name), taskQueue, args: [name], startToCloseTimeout: '60s',
      ...(priority ? { priority } : {}),
    });
  }
}

// Runs `count` tasks of the queue with a single-slot worker; resolves to
// their arguments in the order the activity ran them. Fails after 60 s
// rather than hanging when tasks go missing.
async function runOneAtATime(taskQueue, count) {
  const order = [];
  let allDone;
  const done = new Promise((resolve) => { allDone = resolve; });
  const connection = await NativeConnection.connect({ address: errand.address });
  try {
    const worker = await Worker.create({
      connection, namespace: 'default', taskQueue, shutdownGraceTime: '2s',
      maxConcurrentActivityTaskExecutions: 1,
      activities: {
        async record(name) {
          order.push(name);
          if (order.length === count) allDone();
          return name;
        },
      },
    });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${order.length} of ${count} ran in 60 s: ${order}`)), 60_000);
    });
    await worker.runUntil(Promise.race([done, timeout]).finally(() => clearTimeout(timer)));
  } finally {
    await connection.close();
  }
  return order;
}

test('a backlog of mixed priorities is consumed highest first', async () => {
  const taskQueue = unique('priority');
  const tasks = [['p5-a', { priorityKey: 5 }], ['unset-a', undefined],
    ['p1-a', { priorityKey: 1 }], ['p3-a', { priorityKey: 3 }],
    ['p2-a', { priorityKey: 2 }], ['p5-b', { priorityKey: 5 }],
    ['p1-b', { priorityKey: 1 }], ['unset-b', undefined]];
  await withClient((client) => startAll(client, taskQueue, tasks));
  const order = await runOneAtATime(taskQueue, tasks.length);
  // Unset is the middle level (3 of 5): with p3-a, in the order started.
  assert.deepEqual(order, ['p1-a', 'p1-b', 'p2-a', 'unset-a', 'p3-a', 'unset-b', 'p5-a', 'p5-b']);
});

test('two fairness keys with weights 3:1 share dispatches 3:1', async () => {
  const taskQueue = unique('fair');
  const range = (prefix) => Array.from({ length: 40 }, (_, i) => `${prefix}${i}`);
  // Tenant a's whole burst is queued before any of tenant b's.
  const tasks = [
    ...range('a').map((name) => [name, { fairnessKey: 'a', fairnessWeight: 3 }]),
    ...range('b').map((name) => [name, { fairnessKey: 'b', fairnessWeight: 1 }]),
  ];
  await withClient((client) => startAll(client, taskQueue, tasks));
  const order = await runOneAtATime(taskQueue, tasks.length);
  const first = order.slice(0, 40);
  const fromA = first.filter((name) => name.startsWith('a')).length;
  // 3:1 of 40 is 30:10.
  assert.ok(fromA >= 28 && fromA <= 32, `${fromA} of the first 40 from a: ${first}`);
  // Within a tenant, the order tasks became ready.
  assert.deepEqual(order.filter((name) => name.startsWith('a')), range('a'));
  assert.deepEqual(order.filter((name) => name.startsWith('b')), range('b'));
});

test('ready order within a priority level survives a crash and restart',
  { skip: oracleMode && 'oracle mode: the server is not ours to kill' }, async () => {
    const taskQueue = unique('fifo');
    // Names (and so IDs) sort the other way round from the order they are
    // started in, so a rebuild in storage order would come out reversed.
    const names = Array.from({ length: 12 }, (_, i) => `${String.fromCharCode('z'.charCodeAt(0) - i)}-${i}`);
    await withClient((client) => startAll(client, taskQueue, names.map((name) => [name, undefined])));
    await errand.kill();
    await errand.start();
    const order = await runOneAtATime(taskQueue, names.length);
    assert.deepEqual(order, names);
  });
