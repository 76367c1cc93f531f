// Operator commands on standalone activities with the TypeScript SDK 1.24:
// the handle's pause, unpause, updateOptions and restoreOriginalOptions;
// reset, which the 1.24 handle lacks, through the raw ResetActivityExecution
// RPC; the Paused status in List, Count and GROUP BY ExecutionStatus; and
// batch operations over standalone activities through the raw RPCs.
//
// Checked against a real Temporal dev server (CLI 1.9.1, Server 1.32.0, with
// history.enableStandaloneActivityOperatorCommands=true) in oracle mode
// (COMPAT_ORACLE_ADDRESS, see harness.mjs); the messages asserted are that
// server's.
//
// What the SDK does on pause and reset (@temporalio/worker 1.24): the
// heartbeat response carries activity_paused / activity_reset; the worker
// cancels the activity with a CancelledFailure whose message is the cancel
// reason ('PAUSED' / 'RESET'), with Context.current().cancellationDetails
// .paused / .reset set, and when the activity lets it escape, reports the
// attempt as a retryable ApplicationFailure ('Activity paused', type
// 'ActivityPause' / 'Activity reset', type 'ActivityReset').
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ServiceError } from '@temporalio/client';
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, TerminatedFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { Errand } from './harness.mjs';
import { sleep, unique, withClient as clientAt } from './sdk.mjs';

Runtime.install({ logger: new DefaultLogger('WARN') });

let errand;
before(async () => { errand = await Errand.start(); });
after(async () => { await errand?.cleanup(); });

const withClient = (fn) => clientAt(errand.address, fn);

// How long a worker polls a paused activity's queue to show it is not
// dispatched. A bound on the check, not a speed assertion: an unpaused
// activity on an idle queue would be dispatched well within it.
const NOT_DISPATCHED_WINDOW_MS = 2_000;

// Runs fn while a worker polls taskQueue. Heartbeats reach the server at
// least every 500 ms (not at 80% of the heartbeat timeout), so a worker
// learns of a pause or reset soon.
async function withWorker({ taskQueue, activities }, fn) {
  const connection = await NativeConnection.connect({ address: errand.address });
  try {
    const worker = await Worker.create({
      connection, namespace: 'default', taskQueue, activities, shutdownGraceTime: '2s',
      maxHeartbeatThrottleInterval: '500ms',
    });
    return await worker.runUntil(fn);
  } finally {
    await connection.close();
  }
}

function signal() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Calls fetch() until check(result) holds; fails with the last result.
async function eventually(fetch, check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await fetch();
    if (check(result)) return result;
    if (Date.now() >= deadline) assert.fail(`${what}: still ${JSON.stringify(result)} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

// The SDK wraps a handle call's gRPC error in a ServiceError; raw
// workflowService calls throw the gRPC error itself.
function grpcError(code, message) {
  return (err) => {
    const grpc = err instanceof ServiceError ? err.cause : err;
    assert.equal(grpc?.code, code, `got ${err} (cause ${grpc})`);
    assert.equal(grpc.details, message);
    return true;
  };
}
const failedPrecondition = (message) => grpcError(9, message);
const invalidArgument = (message) => grpcError(3, message);

const resetRequest = (activityId, fields = {}) => ({
  namespace: 'default', activityId, identity: 'compat-ts', requestId: randomUUID(), ...fields,
});

// Pause a scheduled activity, unpause it ----------------------------------------

test('pause a scheduled activity: PAUSED and not dispatched; unpause and it runs', async () => {
  const taskQueue = unique('tq-pause');
  const runs = [];
  const activities = {
    async composeGreeting(name) {
      runs.push(Context.current().info.attempt);
      return `Hello, ${name}!`;
    },
  };
  await withClient(async (client) => {
    const handle = await client.activity.start('composeGreeting', {
      id: unique('pause'), taskQueue, args: ['World'], startToCloseTimeout: '10s',
    });
    await handle.pause({ reason: 'downstream is down' });
    let desc = await handle.describe();
    assert.equal(desc.status, 'PAUSED');
    assert.equal(desc.runState, 'PAUSED');
    assert.equal(desc.attempt, 1);
    assert.equal(desc.lastStartedTime, undefined);
    assert.equal(desc.closeTime, undefined);
    assert.equal(desc.nextAttemptScheduleTime, undefined);

    // Pausing it again (a new request ID) is refused.
    await assert.rejects(handle.pause({ reason: 'again' }),
      failedPrecondition('activity is in non-pausable state Paused'));

    const result = await withWorker({ taskQueue, activities }, async () => {
      // A worker polling the queue does not get the paused activity.
      await sleep(NOT_DISPATCHED_WINDOW_MS);
      assert.deepEqual(runs, []);
      desc = await handle.describe();
      assert.deepEqual([desc.status, desc.runState, desc.attempt], ['PAUSED', 'PAUSED', 1]);

      await handle.unpause({ reason: 'downstream is back' });
      return await within(15_000, handle.result(), 'result()');
    });
    assert.equal(result, 'Hello, World!');
    assert.deepEqual(runs, [1]);
    desc = await handle.describe();
    assert.equal(desc.status, 'COMPLETED');
    assert.equal(desc.runState, undefined);
    assert.equal(desc.attempt, 1);

    // A closed activity can be neither unpaused nor paused.
    await assert.rejects(handle.unpause(), failedPrecondition('activity is in terminal state Completed'));
    await assert.rejects(handle.pause(), failedPrecondition('activity is in non-pausable state Completed'));
  });
});

test('unpause of an activity that is not paused is refused; a repeated pause request ID is a no-op', async () => {
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('composeGreeting', {
      id: unique('pause-dedup'), taskQueue: unique('tq-nobody'), args: ['World'], startToCloseTimeout: '10s',
    });
    await assert.rejects(handle.unpause(), failedPrecondition('activity is in non-unpausable state Scheduled'));

    // The SDK makes a new request ID per call: repeat one with the raw RPC.
    const request = {
      namespace: 'default', activityId: handle.activityId, identity: 'compat-ts', requestId: randomUUID(),
      reason: 'first',
    };
    await connection.workflowService.pauseActivityExecution(request);
    await connection.workflowService.pauseActivityExecution(request);
    assert.equal((await handle.describe()).status, 'PAUSED');
    await handle.unpause();
    await connection.workflowService.pauseActivityExecution(request); // still a no-op
    const desc = await handle.describe();
    assert.deepEqual([desc.status, desc.runState], ['RUNNING', 'SCHEDULED']);
    await handle.terminate('cleanup');
  });
});

// Pause a heartbeating activity --------------------------------------------------

test('pausing a heartbeating activity raises PAUSED in the worker; the next attempt runs after unpause', async () => {
  const taskQueue = unique('tq-pause-hb');
  const running = signal();
  const attempts = [];
  const seen = [];
  const activities = {
    async heartbeater() {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      attempts.push(attempt);
      if (attempt > 1) return `done on attempt ${attempt}`;
      running.resolve();
      try {
        for (;;) {
          ctx.heartbeat(attempt);
          await Promise.race([ctx.cancelled, sleep(200)]);
        }
      } catch (err) {
        seen.push({ err, details: ctx.cancellationDetails });
        throw err;
      }
    },
  };
  await withClient(async (client) => {
    const handle = await client.activity.start('heartbeater', {
      id: unique('pause-hb'), taskQueue, startToCloseTimeout: '30s', heartbeatTimeout: '5s',
      retry: { initialInterval: '100ms' },
    });
    const result = await withWorker({ taskQueue, activities }, async () => {
      await within(15_000, running.promise, 'the activity to run');
      await handle.pause({ reason: 'maintenance' });
      let desc = await handle.describe();
      // Only requested until the worker yields the attempt.
      if (desc.status === 'RUNNING') {
        assert.equal(desc.runState, 'PAUSE_REQUESTED');
        assert.equal(desc.attempt, 1);
      } else {
        assert.equal(desc.status, 'PAUSED');
      }

      // The worker sees a CancelledFailure with reason PAUSED; the attempt it
      // gives up is a retryable failure, and the run is PAUSED with the next
      // attempt counted but not dispatched.
      desc = await eventually(() => handle.describe({ includeLastFailure: true }),
        (d) => d.status === 'PAUSED', 'paused after the worker yielded');
      assert.equal(seen.length, 1);
      assert.ok(seen[0].err instanceof CancelledFailure, `activity saw ${seen[0].err}`);
      assert.equal(seen[0].err.message, 'PAUSED');
      assert.equal(seen[0].details?.paused, true);
      assert.equal(seen[0].details?.cancelRequested, false);
      assert.equal(seen[0].details?.reset, false);
      assert.equal(desc.runState, 'PAUSED');
      assert.equal(desc.attempt, 2);
      const last = await desc.getLastFailure();
      assert.ok(last instanceof ApplicationFailure, `last failure ${last}`);
      assert.equal(last.type, 'ActivityPause');
      assert.equal(last.message, 'Activity paused');
      assert.equal(last.nonRetryable, false);

      await sleep(NOT_DISPATCHED_WINDOW_MS);
      assert.deepEqual(attempts, [1]);
      assert.equal((await handle.describe()).status, 'PAUSED');

      await handle.unpause();
      return await within(15_000, handle.result(), 'result()');
    });
    assert.equal(result, 'done on attempt 2');
    assert.deepEqual(attempts, [1, 2]);
    const desc = await handle.describe();
    assert.deepEqual([desc.status, desc.attempt], ['COMPLETED', 2]);
  });
});

// Update options, restore the originals ------------------------------------------

test('updateOptions changes the named options; restoreOriginalOptions brings back the start options', async () => {
  const taskQueue = unique('tq-opts');
  const movedTo = unique('tq-opts-moved');
  const originalRetry = { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: 10_000, maximumAttempts: 5 };
  const newRetry = { initialInterval: 2_000, backoffCoefficient: 3, maximumInterval: 20_000, maximumAttempts: 3 };
  const retryOf = (r) => ({
    initialInterval: r.initialInterval, backoffCoefficient: r.backoffCoefficient,
    maximumInterval: r.maximumInterval, maximumAttempts: r.maximumAttempts,
  });
  const current = (d) => ({
    taskQueue: d.taskQueue, startToClose: d.startToCloseTimeoutMs, heartbeat: d.heartbeatTimeoutMs,
    scheduleToStart: d.scheduleToStartTimeoutMs, retry: retryOf(d.retryPolicy),
  });
  await withClient(async (client) => {
    const handle = await client.activity.start('composeGreeting', {
      id: unique('opts'), taskQueue, args: ['World'], startToCloseTimeout: '10s', retry: originalRetry,
    });
    const original = current(await handle.describe());
    assert.deepEqual(original, {
      taskQueue, startToClose: 10_000, heartbeat: 0, scheduleToStart: 0, retry: originalRetry,
    });

    let options = await handle.updateOptions({
      taskQueue: movedTo, startToCloseTimeout: '30s', heartbeatTimeout: '4s', retry: newRetry,
    });
    // The answer is the whole resolved option set, not just what changed.
    assert.equal(options.taskQueue, movedTo);
    assert.equal(options.startToCloseTimeout, 30_000);
    assert.equal(options.heartbeatTimeout, 4_000);
    assert.equal(options.scheduleToStartTimeout, 0);
    assert.deepEqual(retryOf(options.retry), newRetry);
    let desc = await handle.describe();
    assert.deepEqual(current(desc), {
      taskQueue: movedTo, startToClose: 30_000, heartbeat: 4_000, scheduleToStart: 0, retry: newRetry,
    });
    assert.deepEqual([desc.status, desc.runState], ['RUNNING', 'SCHEDULED']);

    // A partial change leaves the other options alone.
    options = await handle.updateOptions({ scheduleToStartTimeout: '40s' });
    assert.equal(options.startToCloseTimeout, 30_000);
    assert.deepEqual(retryOf(options.retry), newRetry);
    assert.equal(options.scheduleToStartTimeout, 40_000);

    options = await handle.restoreOriginalOptions();
    assert.equal(options.taskQueue, taskQueue);
    assert.equal(options.startToCloseTimeout, 10_000);
    assert.equal(options.heartbeatTimeout, 0);
    assert.equal(options.scheduleToStartTimeout, 0);
    assert.deepEqual(retryOf(options.retry), originalRetry);
    assert.deepEqual(current(await handle.describe()), original);

    // The task queue decides where the activity is dispatched: moved again,
    // only a worker on the new queue runs it.
    await handle.updateOptions({ taskQueue: movedTo });
    const activities = {
      async composeGreeting(name) { return `Hello from ${Context.current().info.taskQueue}, ${name}!`; },
    };
    const result = await withWorker({ taskQueue: movedTo, activities },
      () => within(15_000, handle.result(), 'result()'));
    assert.equal(result, `Hello from ${movedTo}, World!`);
    desc = await handle.describe();
    assert.deepEqual([desc.status, desc.taskQueue], ['COMPLETED', movedTo]);

    // A closed activity's options cannot change.
    await assert.rejects(handle.updateOptions({ startToCloseTimeout: '3s' }),
      failedPrecondition('Cannot update options for activity in state Completed'));
    await assert.rejects(handle.restoreOriginalOptions(),
      failedPrecondition('Cannot update options for activity in state Completed'));
  });
});

test('UpdateActivityExecutionOptions validates the update mask', async () => {
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('composeGreeting', {
      id: unique('opts-mask'), taskQueue: unique('tq-nobody'), args: ['World'], startToCloseTimeout: '10s',
    });
    // The SDK always sends a valid mask; the server's checks on it are
    // reached only through the raw RPC.
    const update = (paths, extra = {}) => connection.workflowService.updateActivityExecutionOptions({
      namespace: 'default', activityId: handle.activityId, requestId: randomUUID(),
      updateMask: { paths }, activityOptions: { startToCloseTimeout: { seconds: 7 } }, ...extra,
    });
    const cases = [
      [[], 'UpdateMask must specify at least one path'],
      [['task_queue'], 'unsupported update_mask path: "task_queue"'],
      [['*'], 'unsupported update_mask path: "*"'],
      [['bogus'], 'unsupported update_mask path: "bogus"'],
    ];
    for (const [paths, message] of cases) {
      await assert.rejects(update(paths), invalidArgument(message), JSON.stringify(paths));
    }
    await assert.rejects(update(['start_to_close_timeout'], { restoreOriginal: true }),
      invalidArgument('Both UpdateMask and RestoreOriginal are provided'));

    // camelCase paths are accepted too.
    const resp = await update(['startToCloseTimeout']);
    assert.equal(Number(resp.activityOptions.startToCloseTimeout.seconds), 7);
    assert.equal((await handle.describe()).startToCloseTimeoutMs, 7_000);
    await handle.terminate('cleanup');
  });
});

// Reset --------------------------------------------------------------------------

test('reset of a running attempt: the worker sees RESET, attempt 1 runs again without the heartbeat', async () => {
  const taskQueue = unique('tq-reset');
  const running = signal();
  let quiet = false;
  const runs = []; // [attempt, heartbeat details it started with]
  const seen = [];
  const activities = {
    async checkpointed() {
      const ctx = Context.current();
      const { attempt, heartbeatDetails } = ctx.info;
      runs.push([attempt, heartbeatDetails ?? null]);
      if (runs.length === 1) { // checkpoint, then fail: retried as attempt 2
        ctx.heartbeat('cp-1');
        await sleep(100);
        throw ApplicationFailure.retryable('transient');
      }
      if (runs.length === 2) { // heartbeat (unless told to keep quiet) until reset
        running.resolve();
        try {
          for (;;) {
            if (!quiet) ctx.heartbeat('cp-2');
            await Promise.race([ctx.cancelled, sleep(200)]);
          }
        } catch (err) {
          seen.push({ err, details: ctx.cancellationDetails });
          throw err;
        }
      }
      return `done on attempt ${attempt}`;
    },
  };
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('checkpointed', {
      id: unique('reset'), taskQueue, startToCloseTimeout: '30s', heartbeatTimeout: '5s',
      retry: { initialInterval: '100ms' },
    });
    const result = await withWorker({ taskQueue, activities }, async () => {
      await within(15_000, running.promise, 'attempt 2 to run');
      let desc = await handle.describe();
      assert.deepEqual([desc.status, desc.runState, desc.attempt], ['RUNNING', 'STARTED', 2]);

      // The worker learns of a reset only from a heartbeat response: while
      // it sends none (after the last throttled one has gone out), the reset
      // stays pending.
      quiet = true;
      await sleep(1_000);
      await connection.workflowService.resetActivityExecution(
        resetRequest(handle.activityId, { resetHeartbeat: true }));
      // Deferred while the attempt runs: still STARTED on attempt 2.
      desc = await handle.describe();
      assert.deepEqual([desc.status, desc.runState, desc.attempt], ['RUNNING', 'STARTED', 2]);
      // A second reset while the first is pending is refused.
      await assert.rejects(connection.workflowService.resetActivityExecution(resetRequest(handle.activityId)),
        failedPrecondition('cannot reset an activity with a pending reset'));
      quiet = false;
      return await within(15_000, handle.result(), 'result()');
    });
    assert.equal(result, 'done on attempt 1');

    // The worker saw a CancelledFailure with reason RESET; the next run is
    // attempt 1 again, dispatched at once, without the checkpoint.
    assert.equal(seen.length, 1);
    assert.ok(seen[0].err instanceof CancelledFailure, `activity saw ${seen[0].err}`);
    assert.equal(seen[0].err.message, 'RESET');
    assert.equal(seen[0].details?.reset, true);
    assert.equal(seen[0].details?.paused, false);
    assert.deepEqual(runs, [[1, null], [2, 'cp-1'], [1, null]]);
    const desc = await handle.describe({ includeLastFailure: true });
    assert.deepEqual([desc.status, desc.attempt], ['COMPLETED', 1]);
    const last = await desc.getLastFailure();
    assert.ok(last instanceof ApplicationFailure, `last failure ${last}`);
    assert.deepEqual([last.type, last.message], ['ActivityReset', 'Activity reset']);

    await assert.rejects(connection.workflowService.resetActivityExecution(resetRequest(handle.activityId)),
      failedPrecondition('activity execution is not running'));
  });
});

test('reset of a paused activity: keepPaused keeps it paused at attempt 1; a plain reset dispatches it at once', async () => {
  const taskQueue = unique('tq-reset-paused');
  const attempts = [];
  const activities = {
    async failOnce() {
      const { attempt } = Context.current().info;
      attempts.push(attempt);
      if (attempts.length === 1) throw ApplicationFailure.retryable('transient');
      return `done on attempt ${attempt}`;
    },
  };
  await withClient(async (client, connection) => {
    // A one-hour retry backoff: attempt 2 would not run within the test
    // unless the reset drops the backoff.
    const handle = await client.activity.start('failOnce', {
      id: unique('reset-paused'), taskQueue, startToCloseTimeout: '10s', retry: { initialInterval: '1h' },
    });
    const result = await withWorker({ taskQueue, activities }, async () => {
      let desc = await eventually(() => handle.describe(), (d) => d.attempt === 2, 'the retry backoff');
      assert.deepEqual([desc.status, desc.runState], ['RUNNING', 'SCHEDULED']);
      assert.equal(desc.currentRetryIntervalMs, 3_600_000);

      await handle.pause();
      desc = await handle.describe();
      assert.deepEqual([desc.status, desc.runState, desc.attempt], ['PAUSED', 'PAUSED', 2]);

      await connection.workflowService.resetActivityExecution(resetRequest(handle.activityId, { keepPaused: true }));
      desc = await handle.describe();
      assert.deepEqual([desc.status, desc.runState, desc.attempt], ['PAUSED', 'PAUSED', 1]);
      await sleep(NOT_DISPATCHED_WINDOW_MS);
      assert.deepEqual(attempts, [1]);

      await connection.workflowService.resetActivityExecution(resetRequest(handle.activityId));
      return await within(15_000, handle.result(), 'result()');
    });
    assert.equal(result, 'done on attempt 1');
    assert.deepEqual(attempts, [1, 1]);
    const desc = await handle.describe();
    assert.deepEqual([desc.status, desc.attempt], ['COMPLETED', 1]);
  });
});

// Paused in visibility -----------------------------------------------------------

test("ExecutionStatus = 'Paused' in list and count, and a Paused group in GROUP BY ExecutionStatus", async () => {
  const taskQueue = unique('tq-vis-paused'); // nobody polls it
  await withClient(async (client) => {
    const handles = [];
    for (let i = 0; i < 3; i++) {
      handles.push(await client.activity.start('composeGreeting', {
        id: unique('vis-paused'), taskQueue, args: ['World'], startToCloseTimeout: '10s',
      }));
    }
    await handles[0].pause();
    await handles[1].pause();
    const paused = [handles[0].activityId, handles[1].activityId].sort();
    const tq = `TaskQueue = '${taskQueue}'`;
    const listAll = async (query) => {
      const out = [];
      for await (const info of client.activity.list(query)) out.push(info);
      return out;
    };
    const ids = (infos) => infos.map((a) => a.activityId).sort();

    const listed = await eventually(() => listAll(`${tq} AND ExecutionStatus = 'Paused'`),
      (got) => JSON.stringify(ids(got)) === JSON.stringify(paused), "list ExecutionStatus = 'Paused'");
    assert.deepEqual(listed.map((a) => a.status), ['PAUSED', 'PAUSED']);
    const running = await eventually(() => listAll(`${tq} AND ExecutionStatus = 'Running'`),
      (got) => JSON.stringify(ids(got)) === JSON.stringify([handles[2].activityId]),
      "list ExecutionStatus = 'Running'");
    assert.equal(running[0].status, 'RUNNING');
    const counted = await client.activity.count(`${tq} AND ExecutionStatus = 'Paused'`);
    assert.equal(counted.count, 2);
    assert.deepEqual(counted.groups, []);

    // The SDK decodes each group value with the search attribute payload
    // converter, which wraps it in an array: groupValues is [['Paused']].
    const groupCounts = (res) => Object.fromEntries(
      (res.groups ?? []).map((g) => [JSON.stringify(g.groupValues), g.count]));
    const grouped = await client.activity.count(`${tq} GROUP BY ExecutionStatus`);
    assert.equal(grouped.count, 3);
    assert.deepEqual(groupCounts(grouped), { '[["Paused"]]': 2, '[["Running"]]': 1 });

    // Unpaused, it is Running again in visibility.
    await handles[0].unpause();
    await eventually(() => client.activity.count(`${tq} GROUP BY ExecutionStatus`),
      (r) => isDeepStrictEqual(groupCounts(r), { '[["Paused"]]': 1, '[["Running"]]': 2 }),
      'GROUP BY ExecutionStatus after unpause');
    for (const handle of handles) await handle.terminate('cleanup');
  });
});

// Batch operations over standalone activities ------------------------------------
// No handle method: the raw StartBatchOperation, DescribeBatchOperation and
// ListBatchOperations RPCs, as the CLI's `activity cancel|terminate|delete
// --query` sends them.

const { BatchOperationState, BatchOperationType, ExecutionType } = proto.temporal.api.enums.v1;

async function startScheduled(client, taskQueue, count, prefix) {
  const handles = [];
  for (let i = 0; i < count; i++) {
    handles.push(await client.activity.start('composeGreeting', {
      id: unique(prefix), taskQueue, args: ['World'], startToCloseTimeout: '10s',
    }));
  }
  // The batch selects by visibility, which may lag the starts.
  await eventually(() => client.activity.count(`TaskQueue = '${taskQueue}'`), (r) => r.count === count,
    `${count} activities visible on ${taskQueue}`);
  return handles;
}

async function runBatch(connection, fields) {
  const jobId = randomUUID();
  // Temporal runs a limited number of batches per namespace at once ("Max
  // concurrent batch operations is reached", RESOURCE_EXHAUSTED); another
  // suite's batch on a shared server may hold the slot for a moment.
  await eventually(async () => {
    try {
      await connection.workflowService.startBatchOperation({ namespace: 'default', jobId, ...fields });
      return true;
    } catch (err) {
      if (err.code !== 8) throw err;
      return false;
    }
  }, Boolean, 'a batch slot', 20_000);
  const desc = await eventually(
    () => connection.workflowService.describeBatchOperation({ namespace: 'default', jobId }),
    (d) => d.state !== BatchOperationState.BATCH_OPERATION_STATE_RUNNING, `batch ${jobId} to finish`, 20_000);
  assert.equal(desc.jobId, jobId);
  return desc;
}

const counts = (d) => [Number(d.totalOperationCount), Number(d.completeOperationCount),
  Number(d.failureOperationCount)];
const millis = (ts) => Number(ts.seconds) * 1000 + (ts.nanos ?? 0) / 1e6;

async function describeUntilGone(handle) {
  await eventually(async () => {
    try {
      await handle.describe();
      return false;
    } catch (err) {
      const code = err instanceof ServiceError ? err.cause?.code : err.code;
      assert.ok(err.name === 'ActivityNotFoundError' || code === 5, `got ${err}`);
      return true;
    }
  }, Boolean, `${handle.activityId} deleted`);
}

test('batch cancel, terminate and delete of activities selected by a query or listed', async () => {
  const toCancel = unique('tq-batch-cancel');
  const toTerminate = unique('tq-batch-term');
  await withClient(async (client, connection) => {
    const cancelled = await startScheduled(client, toCancel, 3, 'batch-cancel');
    const terminated = await startScheduled(client, toTerminate, 3, 'batch-term');

    const query = `TaskQueue = '${toCancel}'`;
    let desc = await runBatch(connection, {
      visibilityQuery: query, reason: 'bulk cancel',
      cancelActivitiesOperation: { identity: 'compat-batch', reason: 'downstream gone' },
    });
    assert.equal(desc.operationType, BatchOperationType.BATCH_OPERATION_TYPE_CANCEL_ACTIVITY);
    assert.equal(desc.state, BatchOperationState.BATCH_OPERATION_STATE_COMPLETED);
    assert.deepEqual(counts(desc), [3, 3, 0]);
    assert.deepEqual([desc.query, desc.reason], [query, 'bulk cancel']);
    assert.ok(desc.startTime && desc.closeTime);
    for (const handle of cancelled) { // scheduled, so cancelled at once
      const d = await handle.describe();
      assert.deepEqual([d.status, d.canceledReason], ['CANCELED', 'downstream gone']);
    }

    desc = await runBatch(connection, {
      visibilityQuery: `TaskQueue = '${toTerminate}'`, reason: 'bulk terminate',
      terminateActivitiesOperation: { identity: 'compat-batch', reason: 'bulk terminate' },
    });
    assert.equal(desc.operationType, BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY);
    assert.equal(desc.state, BatchOperationState.BATCH_OPERATION_STATE_COMPLETED);
    assert.deepEqual(counts(desc), [3, 3, 0]);
    for (const handle of terminated) {
      const d = await handle.describe({ includeOutcome: true });
      assert.equal(d.status, 'TERMINATED');
      const failure = await d.getOutcomeFailure();
      assert.ok(failure instanceof TerminatedFailure, `outcome ${failure}`);
      assert.equal(failure.message, 'bulk terminate');
    }

    // Delete by an explicit list of activities (each typed as an activity),
    // then the rest by query.
    desc = await runBatch(connection, {
      reason: 'bulk delete', deleteActivitiesOperation: {},
      targetExecutions: cancelled.slice(0, 2).map((h) => ({
        type: ExecutionType.EXECUTION_TYPE_ACTIVITY, businessId: h.activityId,
      })),
    });
    assert.equal(desc.operationType, BatchOperationType.BATCH_OPERATION_TYPE_DELETE_ACTIVITY);
    assert.equal(desc.state, BatchOperationState.BATCH_OPERATION_STATE_COMPLETED);
    assert.deepEqual(counts(desc).slice(0, 2), [2, 2]);
    for (const handle of cancelled.slice(0, 2)) await describeUntilGone(handle);
    assert.equal((await cancelled[2].describe()).status, 'CANCELED');

    desc = await runBatch(connection, {
      visibilityQuery: `TaskQueue = '${toTerminate}'`, reason: 'bulk delete', deleteActivitiesOperation: {},
    });
    assert.deepEqual(counts(desc).slice(0, 2), [3, 3]);
    for (const handle of terminated) await describeUntilGone(handle);
  });
});

test('batch operations are described and listed', async () => {
  const taskQueue = unique('tq-batch-list');
  await withClient(async (client, connection) => {
    await startScheduled(client, taskQueue, 2, 'batch-list');
    const desc = await runBatch(connection, {
      visibilityQuery: `TaskQueue = '${taskQueue}'`, reason: 'listed',
      terminateActivitiesOperation: { identity: 'compat-batch', reason: 'listed' },
    });
    assert.equal(desc.identity, 'compat-batch');

    const find = async () => {
      let nextPageToken;
      for (;;) {
        const page = await connection.workflowService.listBatchOperations({
          namespace: 'default', pageSize: 50, nextPageToken,
        });
        const found = (page.operationInfo ?? []).filter((op) => op.jobId === desc.jobId);
        nextPageToken = page.nextPageToken;
        if (found.length || !nextPageToken?.length) return found;
      }
    };
    const [info] = await eventually(find, (ops) => ops.length === 1, 'the batch in the list');
    assert.equal(info.state, BatchOperationState.BATCH_OPERATION_STATE_COMPLETED);
    assert.equal(info.operationType, BatchOperationType.BATCH_OPERATION_TYPE_TERMINATE_ACTIVITY);
    // Visibility keeps microseconds.
    assert.ok(Math.abs(millis(info.startTime) - millis(desc.startTime)) < 1,
      `${JSON.stringify(info.startTime)} vs ${JSON.stringify(desc.startTime)}`);
    assert.ok(info.closeTime);

    // An unknown job ID is NOT_FOUND (the dev server's message names its
    // batch workflow, so only the code is asserted).
    await assert.rejects(
      connection.workflowService.describeBatchOperation({ namespace: 'default', jobId: unique('no-such-job') }),
      (err) => { assert.equal(err.code, 5, `got ${err}`); return true; });
  });
});
