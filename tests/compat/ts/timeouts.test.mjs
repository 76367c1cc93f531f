// Standalone Activity timeout and retry scenarios with the TypeScript SDK 1.24:
// a worker dying mid-activity (start-to-close timeout, retry on another worker
// with the last heartbeat), heartbeat, schedule-to-start and schedule-to-close
// timeouts, retries with backoff, non-retryable error types and start delay.
//
// Every scenario except the start delay was checked against a real Temporal
// dev server (CLI 1.8.2, Server 1.31.2) in oracle mode (COMPAT_ORACLE_ADDRESS,
// see harness.mjs). That server has no start_delay for standalone activities
// (it drops the field and dispatches at once), so the start-delay scenario
// skips itself there. tests/compat/python/test_timeouts.py lists the oracle
// facts these scenarios rely on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, ActivityExecutionFailedError } from '@temporalio/client';
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { Errand, oracleMode } from './harness.mjs';

const { TimeoutType } = proto.temporal.api.enums.v1;

// Keep sdk-core quiet unless something is wrong.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const here = path.dirname(fileURLToPath(import.meta.url));

let errand;
before(async () => { errand = await Errand.start(); });
after(async () => { await errand?.cleanup(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unique = (prefix) => `${prefix}-${randomUUID()}`;

function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function withClient(fn) {
  const connection = await Connection.connect({ address: errand.address });
  try {
    const client = new Client({ connection, namespace: 'default', identity: 'compat-ts-client' });
    return await fn(client, connection);
  } finally {
    await connection.close();
  }
}

async function withWorker({ taskQueue, activities, identity }, fn) {
  const connection = await NativeConnection.connect({ address: errand.address });
  try {
    const worker = await Worker.create({
      connection, namespace: 'default', taskQueue, activities,
      ...(identity ? { identity } : {}),
      shutdownGraceTime: '500ms', // activities left hanging after a timeout are cancelled soon
    });
    return await worker.runUntil(fn);
  } finally {
    await connection.close();
  }
}

// Describes the activity until predicate(description) holds.
async function describeUntil(handle, predicate, what, { timeoutMs = 10_000, ...options } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const desc = await handle.describe(options);
    if (predicate(desc)) return desc;
    assert.ok(Date.now() < deadline, `timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// A server-generated timeout failure: "activity <Type> timeout", no cause and
// no heartbeat details. The SDK drops the cause of a TimeoutFailure, so
// assertRawTimeout checks the failure proto itself.
function assertTimeoutFailure(failure, timeoutType, message) {
  assert.ok(failure instanceof TimeoutFailure, `got ${failure}`);
  assert.equal(failure.message, message);
  assert.equal(failure.timeoutType, timeoutType);
  assert.equal(failure.lastHeartbeatDetails, undefined);
}

function assertRawTimeout(failure, timeoutType, message) {
  assert.ok(failure, 'no failure');
  assert.equal(failure.message, message);
  assert.equal(failure.timeoutFailureInfo?.timeoutType, TimeoutType[`TIMEOUT_TYPE_${timeoutType}`]);
  assert.equal(failure.timeoutFailureInfo.lastHeartbeatDetails ?? null, null);
  assert.equal(failure.cause ?? null, null);
}

async function rejectsWithCause(promise, check) {
  await assert.rejects(within(15_000, promise, 'result()'), (err) => {
    assert.ok(err instanceof ActivityExecutionFailedError, `got ${err}`);
    check(err.cause);
    return true;
  });
}

// The raw outcome, for what the SDK's description does not show.
async function rawOutcome(connection, activityId) {
  const resp = await connection.workflowService.describeActivityExecution({
    namespace: 'default', activityId, includeOutcome: true,
  });
  return resp.outcome;
}

// The outcome of a timed-out activity: the bare timeout failure, and no retry
// state (standalone activities leave it RETRY_STATE_UNSPECIFIED).
async function assertTimedOutOutcome(connection, activityId, timeoutType, message) {
  const outcome = await rawOutcome(connection, activityId);
  assertRawTimeout(outcome.failure, timeoutType, message);
  assert.equal(outcome.retryState ?? 0, 0);
}

function assertNoRetryPending(desc) {
  assert.equal(desc.currentRetryIntervalMs, undefined);
  assert.equal(desc.nextAttemptScheduleTime, undefined);
}

// Scenario 1: a worker dies mid-activity ------------------------------------

// Worker A, a separate process so that it can really die (SIGKILL): its
// activity heartbeats the number 1 and then hangs.
const workerA = `
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
Runtime.install({ logger: new DefaultLogger('ERROR') });
const [address, taskQueue, identity] = process.argv.slice(1);
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection, namespace: 'default', taskQueue, identity,
  activities: {
    async resumable() {
      Context.current().heartbeat(1);
      await new Promise(() => {});
    },
  },
});
await worker.run();
`;

test('a worker dies mid-activity: start-to-close timeout, retried on another worker with the last heartbeat', async () => {
  const taskQueue = unique('tq');
  const id = unique('dead-worker');
  const identityA = unique('worker-a');
  const identityB = unique('worker-b');
  await withClient(async (client) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', workerA, errand.address, taskQueue, identityA],
      { cwd: here, stdio: ['ignore', 'ignore', 'pipe'] });
    let childLog = '';
    child.stderr.on('data', (chunk) => { childLog += chunk; });
    const childExited = new Promise((resolve) => child.once('exit', resolve));
    let handle;
    try {
      handle = await client.activity.start('resumable', {
        id, taskQueue, startToCloseTimeout: '3s', retry: { initialInterval: '500ms' },
      });
      const desc = await describeUntil(handle, (d) => {
        assert.equal(child.exitCode, null, `worker A exited early:\n${childLog}`);
        return d.hasHeartbeatDetails;
      }, "worker A's heartbeat", { timeoutMs: 15_000, includeHeartbeatDetails: true });
      assert.equal(desc.status, 'RUNNING');
      assert.equal(desc.runState, 'STARTED');
      assert.equal(desc.attempt, 1);
      assert.equal(desc.lastWorkerIdentity, identityA);
      assert.equal(await desc.getHeartbeatDetails(), 1);
    } finally {
      child.kill('SIGKILL'); // no completion, no more heartbeats
      await childExited;
    }

    // Nobody polls the queue now: attempt 1 times out start-to-close and
    // attempt 2 waits in SCHEDULED.
    let desc = await describeUntil(handle, (d) => d.attempt === 2, 'attempt 2 to be scheduled',
      { includeHeartbeatDetails: true, includeLastFailure: true });
    assert.equal(desc.status, 'RUNNING');
    assert.equal(desc.runState, 'SCHEDULED');
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', 'activity StartToClose timeout');
    assertRawTimeout(desc.rawInfo.lastFailure, 'START_TO_CLOSE', 'activity StartToClose timeout');
    assert.equal(desc.currentRetryIntervalMs, 500);
    assert.ok(desc.lastStartedTime instanceof Date);
    assert.ok(desc.lastAttemptCompleteTime instanceof Date);
    const timedOutAfter = desc.lastAttemptCompleteTime - desc.lastStartedTime;
    assert.ok(timedOutAfter >= 3_000 && timedOutAfter < 10_000, `timed out after ${timedOutAfter} ms`);
    assert.equal(desc.nextAttemptScheduleTime.getTime(), desc.lastAttemptCompleteTime.getTime() + 500);
    assert.equal(desc.lastWorkerIdentity, identityA);
    assert.equal(await desc.getHeartbeatDetails(), 1); // kept for the next attempt
    assert.equal(desc.closeTime, undefined);
    const retryScheduledFor = desc.nextAttemptScheduleTime.getTime();

    let info;
    const activities = {
      async resumable() {
        info = Context.current().info;
        return 'recovered';
      },
    };
    const result = await withWorker({ taskQueue, activities, identity: identityB },
      () => within(15_000, handle.result(), 'result()'));
    assert.equal(result, 'recovered');
    assert.equal(info.attempt, 2);
    assert.equal(info.heartbeatDetails, 1);
    assert.equal(info.currentAttemptScheduledTimestampMs, retryScheduledFor);

    desc = await handle.describe({ includeHeartbeatDetails: true, includeLastFailure: true, includeOutcome: true });
    assert.equal(desc.status, 'COMPLETED');
    assert.equal(desc.attempt, 2);
    assert.equal(desc.lastWorkerIdentity, identityB);
    assert.ok(desc.lastStartedTime.getTime() >= retryScheduledFor);
    assert.equal(await desc.getResult(), 'recovered');
    // Success keeps the last failed attempt's failure and the heartbeat.
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', 'activity StartToClose timeout');
    assertRawTimeout(desc.rawInfo.lastFailure, 'START_TO_CLOSE', 'activity StartToClose timeout');
    assert.equal(await desc.getHeartbeatDetails(), 1);
  });
});

// Scenario 2: heartbeat timeout ----------------------------------------------

test('a heartbeat timeout on the last attempt ends the activity TIMED_OUT', async () => {
  const taskQueue = unique('tq');
  const id = unique('heartbeat');
  const activities = {
    async goesQuiet() {
      const ctx = Context.current();
      ctx.heartbeat(1);
      await ctx.sleep(30_000); // cancelled when the worker shuts down
      return 'too late';
    },
  };
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('goesQuiet', {
      id, taskQueue, startToCloseTimeout: '10s', heartbeatTimeout: '1s', retry: { maximumAttempts: 1 },
    });
    await withWorker({ taskQueue, activities }, () =>
      rejectsWithCause(handle.result(), (cause) =>
        assertTimeoutFailure(cause, 'HEARTBEAT', 'activity Heartbeat timeout')));

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true, includeHeartbeatDetails: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 1);
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'HEARTBEAT', 'activity Heartbeat timeout');
    assertTimeoutFailure(await desc.getLastFailure(), 'HEARTBEAT', 'activity Heartbeat timeout');
    assertRawTimeout(desc.rawInfo.lastFailure, 'HEARTBEAT', 'activity Heartbeat timeout');
    assert.equal(await desc.getHeartbeatDetails(), 1);
    const quietFor = desc.closeTime - desc.lastHeartbeatTime;
    assert.ok(quietFor >= 1_000 && quietFor < 10_000, `closed ${quietFor} ms after the heartbeat`);
    assert.ok(desc.lastAttemptCompleteTime instanceof Date);
    assertNoRetryPending(desc);
    await assertTimedOutOutcome(connection, id, 'HEARTBEAT', 'activity Heartbeat timeout');
  });
});

// Scenario 3: schedule-to-start timeout --------------------------------------

test('a schedule-to-start timeout with no worker ends the activity TIMED_OUT', async () => {
  const id = unique('s2s');
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('nobodyRunsThis', {
      id, taskQueue: unique('tq-nobody'), scheduleToStartTimeout: '1s', scheduleToCloseTimeout: '10s',
    });
    let desc = await handle.describe();
    assert.equal(desc.status, 'RUNNING');
    assert.equal(desc.runState, 'SCHEDULED');
    // start-to-close was not given: the server uses schedule-to-close.
    assert.equal(desc.startToCloseTimeoutMs, 10_000);
    assert.equal(desc.expirationTime.getTime(), desc.scheduleTime.getTime() + 10_000);

    await rejectsWithCause(handle.result(), (cause) =>
      assertTimeoutFailure(cause, 'SCHEDULE_TO_START', 'activity ScheduleToStart timeout'));

    desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 1);
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'SCHEDULE_TO_START', 'activity ScheduleToStart timeout');
    // No attempt ever started, so no attempt failed.
    assert.equal(desc.lastStartedTime, undefined);
    assert.equal(desc.hasLastFailure, false);
    assert.equal(desc.lastAttemptCompleteTime, undefined);
    assertNoRetryPending(desc);
    const openFor = desc.closeTime - desc.scheduleTime;
    assert.ok(openFor >= 1_000 && openFor < 10_000, `closed after ${openFor} ms`);
    await assertTimedOutOutcome(connection, id, 'SCHEDULE_TO_START', 'activity ScheduleToStart timeout');
  });
});

// Scenario 4: schedule-to-close ---------------------------------------------

test('schedule-to-close fires while a retry is pending: TIMED_OUT with SCHEDULE_TO_CLOSE', async () => {
  const taskQueue = unique('tq');
  const id = unique('s2c');
  const attempts = [];
  const activities = {
    async tooSlow() {
      const ctx = Context.current();
      attempts.push(ctx.info.attempt);
      await ctx.sleep(30_000); // past start-to-close; cancelled at worker shutdown
      return 'too late';
    },
  };
  await withClient(async (client, connection) => {
    // Attempt 1 times out start-to-close after 2 s; the 100 ms retry still fits
    // before the 3 s deadline, so attempt 2 is scheduled, and schedule-to-close
    // ends the activity before attempt 2 could time out.
    const handle = await client.activity.start('tooSlow', {
      id, taskQueue, scheduleToCloseTimeout: '3s', startToCloseTimeout: '2s', retry: { initialInterval: '100ms' },
    });
    await withWorker({ taskQueue, activities }, () =>
      rejectsWithCause(handle.result(), (cause) =>
        assertTimeoutFailure(cause, 'SCHEDULE_TO_CLOSE', 'activity ScheduleToClose timeout')));
    assert.equal(attempts[0], 1);

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 2);
    // schedule-to-start was not given: the server uses schedule-to-close.
    assert.equal(desc.scheduleToStartTimeoutMs, 3_000);
    assert.equal(desc.retryPolicy.maximumInterval, 10_000); // 100 x initial
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'SCHEDULE_TO_CLOSE', 'activity ScheduleToClose timeout');
    // The last failure stays attempt 1's start-to-close timeout.
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', 'activity StartToClose timeout');
    assertRawTimeout(desc.rawInfo.lastFailure, 'START_TO_CLOSE', 'activity StartToClose timeout');
    assert.equal(desc.expirationTime.getTime(), desc.scheduleTime.getTime() + 3_000);
    assert.ok(desc.closeTime >= desc.expirationTime);
    assert.ok(desc.closeTime - desc.scheduleTime < 10_000);
    await assertTimedOutOutcome(connection, id, 'SCHEDULE_TO_CLOSE', 'activity ScheduleToClose timeout');
  });
});

test('no retry fits before schedule-to-close: the attempt failure ends the activity FAILED', async () => {
  const taskQueue = unique('tq');
  const id = unique('s2c-giveup');
  const attempts = [];
  const activities = {
    async alwaysFails() {
      attempts.push(Context.current().info.attempt);
      throw ApplicationFailure.retryable('nope', 'Flaky');
    },
  };
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('alwaysFails', {
      id, taskQueue, scheduleToCloseTimeout: '3s', startToCloseTimeout: '1s', retry: { initialInterval: '5s' },
    });
    const isNope = (failure) => {
      assert.ok(failure instanceof ApplicationFailure, `got ${failure}`);
      assert.equal(failure.message, 'nope');
      assert.equal(failure.type, 'Flaky');
      assert.equal(failure.nonRetryable, false);
    };
    await withWorker({ taskQueue, activities }, () => rejectsWithCause(handle.result(), isNope));
    assert.deepEqual(attempts, [1]);

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'FAILED');
    assert.equal(desc.attempt, 1);
    isNope(await desc.getOutcomeFailure());
    isNope(await desc.getLastFailure());
    assertNoRetryPending(desc);
    assert.ok(desc.closeTime < desc.expirationTime);
    assert.equal((await rawOutcome(connection, id)).retryState ?? 0, 0);
  });
});

test('a start-to-close timeout with no time left to retry ends the activity TIMED_OUT', async () => {
  const taskQueue = unique('tq');
  const id = unique('s2c-stc');
  const activities = {
    async tooSlow() {
      await Context.current().sleep(30_000); // cancelled at worker shutdown
      return 'too late';
    },
  };
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('tooSlow', {
      id, taskQueue, scheduleToCloseTimeout: '3s', startToCloseTimeout: '1s', retry: { initialInterval: '5s' },
    });
    await withWorker({ taskQueue, activities }, () =>
      rejectsWithCause(handle.result(), (cause) =>
        assertTimeoutFailure(cause, 'START_TO_CLOSE', 'activity StartToClose timeout')));

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 1);
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'START_TO_CLOSE', 'activity StartToClose timeout');
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', 'activity StartToClose timeout');
    assertRawTimeout(desc.rawInfo.lastFailure, 'START_TO_CLOSE', 'activity StartToClose timeout');
    assertNoRetryPending(desc);
    assert.ok(desc.closeTime < desc.expirationTime);
    await assertTimedOutOutcome(connection, id, 'START_TO_CLOSE', 'activity StartToClose timeout');
    const ranFor = desc.closeTime - desc.lastStartedTime;
    assert.ok(ranFor >= 1_000 && ranFor < 10_000, `timed out after ${ranFor} ms`);
  });
});

// Scenario 5: retries with backoff, then success ----------------------------

test('a failing activity is retried with backoff and then succeeds', async () => {
  const taskQueue = unique('tq');
  const id = unique('backoff');
  const starts = [];
  const activities = {
    async flaky() {
      const { attempt } = Context.current().info;
      starts.push({ attempt, at: performance.now() });
      if (attempt < 3) throw ApplicationFailure.retryable(`fail ${attempt}`, 'Flaky');
      return `ok on attempt ${attempt}`;
    },
  };
  await withClient(async (client) => {
    const handle = await client.activity.start('flaky', {
      id, taskQueue, startToCloseTimeout: '5s', retry: { initialInterval: '200ms', backoffCoefficient: 2 },
    });
    const result = await withWorker({ taskQueue, activities }, () => within(15_000, handle.result(), 'result()'));
    assert.equal(result, 'ok on attempt 3');

    assert.deepEqual(starts.map((s) => s.attempt), [1, 2, 3]);
    const gaps = [starts[1].at - starts[0].at, starts[2].at - starts[1].at];
    assert.ok(gaps[0] >= 200 && gaps[0] < 10_000, `gaps ${gaps}`);
    assert.ok(gaps[1] >= 400 && gaps[1] < 10_000, `gaps ${gaps}`);

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'COMPLETED');
    assert.equal(desc.attempt, 3);
    assert.equal(desc.retryPolicy.initialInterval, 200);
    assert.equal(desc.retryPolicy.backoffCoefficient, 2);
    assert.equal(desc.retryPolicy.maximumInterval, 20_000);
    assert.equal(desc.retryPolicy.maximumAttempts, 0);
    assert.equal(await desc.getResult(), 'ok on attempt 3');
    // The failure of attempt 2 is still the last failure.
    const last = await desc.getLastFailure();
    assert.ok(last instanceof ApplicationFailure, `got ${last}`);
    assert.equal(last.message, 'fail 2');
    assert.equal(last.type, 'Flaky');
    assert.ok(desc.lastAttemptCompleteTime instanceof Date);
  });
});

// Scenario 6: non-retryable error type ----------------------------------------

test('an error type listed as non-retryable fails the activity after one attempt', async () => {
  const taskQueue = unique('tq');
  const id = unique('fatal');
  const attempts = [];
  const activities = {
    async fatal() {
      attempts.push(Context.current().info.attempt);
      throw ApplicationFailure.retryable('fatal!', 'MyFatal'); // retryable in itself
    },
  };
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('fatal', {
      id, taskQueue, startToCloseTimeout: '5s',
      retry: { initialInterval: '200ms', nonRetryableErrorTypes: ['MyFatal'] },
    });
    const isFatal = (failure) => {
      assert.ok(failure instanceof ApplicationFailure, `got ${failure}`);
      assert.equal(failure.message, 'fatal!');
      assert.equal(failure.type, 'MyFatal');
      assert.equal(failure.nonRetryable, false); // as the worker reported it
    };
    await withWorker({ taskQueue, activities }, () => rejectsWithCause(handle.result(), isFatal));
    assert.deepEqual(attempts, [1]);

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'FAILED');
    assert.equal(desc.attempt, 1);
    assert.deepEqual(desc.retryPolicy.nonRetryableErrorTypes, ['MyFatal']);
    isFatal(await desc.getOutcomeFailure());
    isFatal(await desc.getLastFailure());
    assertNoRetryPending(desc);
    assert.equal((await rawOutcome(connection, id)).retryState ?? 0, 0);
  });
});

// Scenario 7: start delay -------------------------------------------------------

// Not checked against the oracle: Server 1.31.2 has no start_delay for
// standalone activities. The expectations follow the SDK's documentation
// (executionTime = schedule time + start delay) and later Temporal servers,
// which dispatch the first attempt at scheduleTime + startDelay and report that
// time as the attempt's scheduled time.
test('a start delay holds back the first attempt', async (t) => {
  const taskQueue = unique('tq');
  const id = unique('delay');
  let startedAt;
  let info;
  const activities = {
    async delayed() {
      startedAt = performance.now();
      info = Context.current().info;
      return 'on time';
    },
  };
  await withClient(async (client) => {
    const before = performance.now();
    const handle = await client.activity.start('delayed', {
      id, taskQueue, startToCloseTimeout: '5s', startDelay: '2s',
    });
    let desc = await handle.describe();
    if (oracleMode && desc.startDelayMs === undefined) {
      await handle.terminate('cleanup');
      t.skip('the oracle server does not support start_delay for standalone activities');
      return;
    }
    assert.equal(desc.status, 'RUNNING');
    assert.equal(desc.runState, 'SCHEDULED');
    assert.equal(desc.attempt, 1);
    assert.equal(desc.startDelayMs, 2_000);
    const dueAt = desc.scheduleTime.getTime() + 2_000;
    assert.equal(desc.executionTime?.getTime(), dueAt);
    assert.ok(desc.nextAttemptScheduleTime === undefined || desc.nextAttemptScheduleTime.getTime() === dueAt,
      `nextAttemptScheduleTime ${desc.nextAttemptScheduleTime}`);
    assert.equal(desc.lastStartedTime, undefined);

    const result = await withWorker({ taskQueue, activities }, () => within(15_000, handle.result(), 'result()'));
    assert.equal(result, 'on time');
    assert.ok(startedAt - before >= 1_950, `started ${startedAt - before} ms after start()`);
    assert.equal(info.attempt, 1);
    assert.equal(info.scheduledTimestampMs, desc.scheduleTime.getTime());
    assert.equal(info.currentAttemptScheduledTimestampMs, dueAt);

    desc = await handle.describe();
    assert.equal(desc.status, 'COMPLETED');
    assert.equal(desc.attempt, 1);
    assert.ok(desc.lastStartedTime.getTime() >= dueAt);
  });
});
