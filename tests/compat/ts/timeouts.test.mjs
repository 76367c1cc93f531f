// Standalone Activity timeout and retry scenarios with the TypeScript SDK 1.24:
// a worker dying mid-activity (start-to-close timeout, retry on another worker
// with the last heartbeat), heartbeat, schedule-to-start and schedule-to-close
// timeouts, retries with backoff, non-retryable error types and start delay.
//
// The reference is /work/shared/spec/temporal-semantics.md (Temporal Server
// main after 1.32; §1.3-1.6, §1.10, §4.1), which errand implements. Oracle
// mode (COMPAT_ORACLE_ADDRESS, see harness.mjs) runs the same scenarios against
// a real Temporal dev server (CLI 1.9.1, Server 1.32.0), which shares that
// behaviour; tests/compat/python/test_timeouts.py lists the facts these
// scenarios rely on:
// - terminal timeout failures carry last_heartbeat_details (spec §1.5 table);
// - the outcome's retry_state follows the retry-state table (§1.4, §1.5);
// - a timeout type listed in non_retryable_error_types is not retried (§1.4);
// - ScheduleToStart/ScheduleToClose timeouts have cause = the previous
//   attempt's failure; a terminal StartToClose/Heartbeat timeout has cause =
//   the previous attempt's failure, none on attempt 1 (§1.4, §1.5);
// - a StartToClose/Heartbeat timeout whose retry would not fit before the
//   ScheduleToClose deadline ends as a SCHEDULE_TO_CLOSE "Not enough time ..."
//   timeout failure without a cause, retry_state TIMEOUT (§1.5 special case);
// - start_delay is honoured (§1.2, §1.10, §4.1);
// - current_retry_interval / next_attempt_schedule_time are reported only while
//   a future dispatch is pending (§4.1);
// - total_heartbeat_count counts heartbeats (§1.4, §4.1).
// A retried StartToClose timeout failure is recorded without heartbeat
// details, as Server 1.32.0 does. Server 1.31.2, the older
// oracle, predates most of the spec behaviour above; these scenarios no longer
// run against it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ActivityExecutionFailedError } from '@temporalio/client';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, TimeoutFailure, defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { Errand, oracleMode } from './harness.mjs';
import { sleep, unique, withClient as clientAt, withWorker as workerAt } from './sdk.mjs';

const { TimeoutType, RetryState } = proto.temporal.api.enums.v1;

const STC_TIMEOUT = 'activity StartToClose timeout';
const S2S_TIMEOUT = 'activity ScheduleToStart timeout';
const S2C_TIMEOUT = 'activity ScheduleToClose timeout';
const HB_TIMEOUT = 'activity Heartbeat timeout';
// Spec §1.5, special case: a StartToClose/Heartbeat timeout whose retry would
// not fit before the ScheduleToClose deadline.
const NOT_ENOUGH_TIME =
  'Not enough time to schedule next retry before activity ScheduleToClose timeout, giving up retrying';

// Keep sdk-core quiet unless something is wrong.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const here = path.dirname(fileURLToPath(import.meta.url));

let errand;
before(async () => { errand = await Errand.start(); });
after(async () => { await errand?.cleanup(); });

const withClient = (fn) => clientAt(errand.address, fn);
// Activities left hanging after a timeout are cancelled soon.
const withWorker = (options, fn) => workerAt(errand.address, { shutdownGraceTime: '500ms', ...options }, fn);


function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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

// A server-generated timeout failure as the SDK decodes it. lastHeartbeatDetails
// is the activity's last recorded heartbeat (spec §1.5 table), given as
// specHeartbeatDetails (the SDK decodes the first payload only). The SDK drops the cause of a
// TimeoutFailure, so assertRawTimeout checks the failure proto itself.
function assertTimeoutFailure(failure, timeoutType, message, { specHeartbeatDetails } = {}) {
  assert.ok(failure instanceof TimeoutFailure, `got ${failure}`);
  assert.equal(failure.message, message);
  assert.equal(failure.timeoutType, timeoutType);
  assert.equal(failure.lastHeartbeatDetails, specHeartbeatDetails);
}

// The failure proto of a server-generated timeout. last_heartbeat_details
// decode to specHeartbeatDetails (an array of values; spec §1.5 table) and specCause,
// if given, checks the cause proto (the previous attempt's failure, spec §1.4
// "Last failure" and §1.5 table); without it there must be no cause.
function assertRawTimeout(failure, timeoutType, message, { specHeartbeatDetails = [], specCause } = {}) {
  assert.ok(failure, 'no failure');
  assert.equal(failure.message, message);
  assert.equal(failure.timeoutFailureInfo?.timeoutType, TimeoutType[`TIMEOUT_TYPE_${timeoutType}`]);
  const details = failure.timeoutFailureInfo.lastHeartbeatDetails?.payloads ?? [];
  assert.deepEqual(details.map((p) => defaultPayloadConverter.fromPayload(p)), specHeartbeatDetails);
  if (specCause) {
    assert.ok(failure.cause, `"${failure.message}" has no cause`);
    specCause(failure.cause);
  } else {
    assert.equal(failure.cause ?? null, null);
  }
}

// A start-to-close timeout that was retried: no cause chain (spec §1.4) and,
// as Server 1.32.0 records it, no heartbeat details.
function isRetriedStartToClose(failure) {
  assertRawTimeout(failure, 'START_TO_CLOSE', STC_TIMEOUT, { specHeartbeatDetails: [] });
}

// The outcome's retry state, from the retry-state table (§1.5, §1.4).
function assertRetryState(outcome, specRetryState) {
  const expected = specRetryState;
  assert.equal(outcome.retryState ?? 0, expected,
    `retry state ${RetryState[outcome.retryState ?? 0]}, expected ${RetryState[expected]}`);
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

// The outcome of a timed-out activity: the timeout failure (see
// assertRawTimeout) and the retry state (see assertRetryState).
async function assertTimedOutOutcome(connection, activityId, timeoutType, message,
  { specRetryState, ...failure }) {
  const outcome = await rawOutcome(connection, activityId);
  assertRawTimeout(outcome.failure, timeoutType, message, failure);
  assertRetryState(outcome, specRetryState);
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
  await withClient(async (client, connection) => {
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
    // The timeout was retried, so it has no cause (spec §1.4) and no heartbeat
    // details (worker A's heartbeat stays on the activity).
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', STC_TIMEOUT,
      { specHeartbeatDetails: undefined });
    isRetriedStartToClose(desc.rawInfo.lastFailure);
    // Attempt 2 waits for its dispatch 500 ms after the timeout; describeUntil
    // sees it well within that, while the retry interval is reported (spec §4.1).
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
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', STC_TIMEOUT,
      { specHeartbeatDetails: undefined });
    isRetriedStartToClose(desc.rawInfo.lastFailure);
    assert.equal(await desc.getHeartbeatDetails(), 1);
    assert.equal((await rawOutcome(connection, id)).retryState ?? 0, RetryState.RETRY_STATE_UNSPECIFIED);
    // Worker A's one heartbeat (spec §1.4, §4.1: counted across attempts).
    assert.equal(desc.totalHeartbeatCount, 1);
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
    // The heartbeat details ride along (spec §1.5 table).
    await withWorker({ taskQueue, activities }, () =>
      rejectsWithCause(handle.result(), (cause) =>
        assertTimeoutFailure(cause, 'HEARTBEAT', HB_TIMEOUT, { specHeartbeatDetails: 1 })));

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true, includeHeartbeatDetails: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 1);
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'HEARTBEAT', HB_TIMEOUT, { specHeartbeatDetails: 1 });
    assertTimeoutFailure(await desc.getLastFailure(), 'HEARTBEAT', HB_TIMEOUT, { specHeartbeatDetails: 1 });
    // Attempt 1 had no previous attempt, so no cause (spec §1.4 "Last failure").
    assertRawTimeout(desc.rawInfo.lastFailure, 'HEARTBEAT', HB_TIMEOUT, { specHeartbeatDetails: [1] });
    assert.equal(await desc.getHeartbeatDetails(), 1);
    assert.equal(desc.totalHeartbeatCount, 1); // spec §1.4, §4.1
    const quietFor = desc.closeTime - desc.lastHeartbeatTime;
    assert.ok(quietFor >= 1_000 && quietFor < 10_000, `closed ${quietFor} ms after the heartbeat`);
    assert.ok(desc.lastAttemptCompleteTime instanceof Date);
    assertNoRetryPending(desc);
    // Heartbeat timeout with attempts exhausted -> MAXIMUM_ATTEMPTS_REACHED
    // (spec §1.5 retry-state table).
    await assertTimedOutOutcome(connection, id, 'HEARTBEAT', HB_TIMEOUT, {
      specRetryState: RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, specHeartbeatDetails: [1],
    });
  });
});

test('a start-to-close timeout on the last attempt ends the activity TIMED_OUT', async () => {
  const taskQueue = unique('tq');
  const id = unique('stc-last');
  const attempts = [];
  const activities = {
    async tooSlow() {
      const ctx = Context.current();
      attempts.push([ctx.info.attempt, ctx.info.heartbeatDetails]);
      ctx.heartbeat(ctx.info.attempt);
      await ctx.sleep(30_000); // past start-to-close; cancelled at worker shutdown
      return 'too late';
    },
  };
  // A terminal start-to-close timeout carries the last heartbeat (2) and has
  // cause = the previous attempt's failure, attempt 1's retried timeout
  // (spec §1.4 "Last failure", §1.5 table).
  const finalTimeout = { specHeartbeatDetails: [2], specCause: isRetriedStartToClose };
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('tooSlow', {
      id, taskQueue, startToCloseTimeout: '1s', retry: { initialInterval: '200ms', maximumAttempts: 2 },
    });
    await withWorker({ taskQueue, activities }, () =>
      rejectsWithCause(handle.result(), (cause) =>
        assertTimeoutFailure(cause, 'START_TO_CLOSE', STC_TIMEOUT, { specHeartbeatDetails: 2 })));
    assert.deepEqual(attempts, [[1, undefined], [2, 1]]);

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true, includeHeartbeatDetails: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 2);
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'START_TO_CLOSE', STC_TIMEOUT, { specHeartbeatDetails: 2 });
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', STC_TIMEOUT, { specHeartbeatDetails: 2 });
    assertRawTimeout(desc.rawInfo.lastFailure, 'START_TO_CLOSE', STC_TIMEOUT, finalTimeout);
    assert.equal(await desc.getHeartbeatDetails(), 2);
    assert.equal(desc.totalHeartbeatCount, 2); // spec §1.4, §4.1
    assertNoRetryPending(desc);
    // Start-to-close timeout with attempts exhausted ->
    // MAXIMUM_ATTEMPTS_REACHED (spec §1.5 retry-state table).
    await assertTimedOutOutcome(connection, id, 'START_TO_CLOSE', STC_TIMEOUT, {
      specRetryState: RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, ...finalTimeout,
    });
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

    // No heartbeat and no earlier attempt: no details and no cause in both modes.
    await rejectsWithCause(handle.result(), (cause) =>
      assertTimeoutFailure(cause, 'SCHEDULE_TO_START', S2S_TIMEOUT));

    desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 1);
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'SCHEDULE_TO_START', S2S_TIMEOUT);
    // No attempt ever started, so no attempt failed.
    assert.equal(desc.lastStartedTime, undefined);
    assert.equal(desc.hasLastFailure, false);
    assert.equal(desc.lastAttemptCompleteTime, undefined);
    assertNoRetryPending(desc);
    const openFor = desc.closeTime - desc.scheduleTime;
    assert.ok(openFor >= 1_000 && openFor < 10_000, `closed after ${openFor} ms`);
    // S2S timeout -> TIMEOUT (spec §1.5 table).
    await assertTimedOutOutcome(connection, id, 'SCHEDULE_TO_START', S2S_TIMEOUT,
      { specRetryState: RetryState.RETRY_STATE_TIMEOUT });
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
        assertTimeoutFailure(cause, 'SCHEDULE_TO_CLOSE', S2C_TIMEOUT)));
    assert.equal(attempts[0], 1);

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 2);
    // schedule-to-start was not given: the server uses schedule-to-close.
    assert.equal(desc.scheduleToStartTimeoutMs, 3_000);
    assert.equal(desc.retryPolicy.maximumInterval, 10_000); // 100 x initial
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'SCHEDULE_TO_CLOSE', S2C_TIMEOUT);
    // The last failure stays attempt 1's start-to-close timeout (spec §1.4: an
    // S2C timeout does not overwrite it).
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', STC_TIMEOUT);
    isRetriedStartToClose(desc.rawInfo.lastFailure);
    assert.equal(desc.expirationTime.getTime(), desc.scheduleTime.getTime() + 3_000);
    assert.ok(desc.closeTime >= desc.expirationTime);
    assert.ok(desc.closeTime - desc.scheduleTime < 10_000);
    // S2C timeout -> TIMEOUT, and its cause is the last attempt failure,
    // attempt 1's start-to-close timeout (spec §1.5 table).
    await assertTimedOutOutcome(connection, id, 'SCHEDULE_TO_CLOSE', S2C_TIMEOUT, {
      specRetryState: RetryState.RETRY_STATE_TIMEOUT, specCause: (cause) => isRetriedStartToClose(cause),
    });
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
    // Retryable failure whose backoff passes the S2C deadline -> TIMEOUT
    // (spec §1.5 table, §1.4 "Enough time").
    assertRetryState(await rawOutcome(connection, id), RetryState.RETRY_STATE_TIMEOUT);
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
    // Spec §1.5 special case: the retry would not fit before the S2C deadline,
    // so the outcome is a SCHEDULE_TO_CLOSE timeout failure.
    const isOutcome = (failure) => assertTimeoutFailure(failure, 'SCHEDULE_TO_CLOSE', NOT_ENOUGH_TIME);
    await withWorker({ taskQueue, activities }, () => rejectsWithCause(handle.result(), isOutcome));

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 1);
    isOutcome(await desc.getOutcomeFailure());
    // last_failure is the start-to-close timeout in both (spec §1.5 special
    // case); attempt 1 had no previous failure, so no cause (spec §1.4).
    assertTimeoutFailure(await desc.getLastFailure(), 'START_TO_CLOSE', STC_TIMEOUT);
    assertRawTimeout(desc.rawInfo.lastFailure, 'START_TO_CLOSE', STC_TIMEOUT);
    assertNoRetryPending(desc);
    assert.ok(desc.closeTime < desc.expirationTime);
    // Start-to-close timeout whose retry cannot fit -> TIMEOUT (§1.5 table);
    // the failure has no cause (Server 1.32.0).
    await assertTimedOutOutcome(connection, id, 'SCHEDULE_TO_CLOSE', NOT_ENOUGH_TIME, {
      specRetryState: RetryState.RETRY_STATE_TIMEOUT,
    });
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
    // Non-retryable failure -> NON_RETRYABLE_FAILURE (spec §1.5 table).
    assertRetryState(await rawOutcome(connection, id), RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE);
  });
});

test('a timeout type listed as non-retryable is not retried (1.31.2 retries it)', async () => {
  const taskQueue = unique('tq');
  const id = unique('stc-fatal');
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
    const handle = await client.activity.start('tooSlow', {
      id, taskQueue, startToCloseTimeout: '1s',
      retry: { initialInterval: '200ms', nonRetryableErrorTypes: ['TemporalTimeout:StartToClose'] },
    });
    // A StartToClose timeout is not retryable when
    // "TemporalTimeout:StartToClose" is listed (spec §1.4 IsRetryableFailure).
    await withWorker({ taskQueue, activities }, () =>
      rejectsWithCause(handle.result(), (cause) => assertTimeoutFailure(cause, 'START_TO_CLOSE', STC_TIMEOUT)));
    assert.deepEqual(attempts, [1]);

    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'TIMED_OUT');
    assert.equal(desc.attempt, 1);
    assertTimeoutFailure(await desc.getOutcomeFailure(), 'START_TO_CLOSE', STC_TIMEOUT);
    assertRawTimeout(desc.rawInfo.lastFailure, 'START_TO_CLOSE', STC_TIMEOUT);
    assertNoRetryPending(desc);
    // Timeout type listed in non_retryable_error_types -> NON_RETRYABLE_FAILURE
    // (spec §1.5 retry-state table).
    await assertTimedOutOutcome(connection, id, 'START_TO_CLOSE', STC_TIMEOUT,
      { specRetryState: RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE });
  });
});

// Scenario 7: start delay -------------------------------------------------------

// Spec §1.2 Scheduled, §1.3, §1.10, §4.1: the first attempt is dispatched at
// scheduleTime + startDelay, which is the executionTime, the
// nextAttemptScheduleTime while waiting and the attempt's scheduled time.
// Server 1.31.2 had no start_delay for standalone activities (it dropped the
// field and dispatched at once), so this skips itself against such an oracle;
// in normal mode it always runs.
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
    // Reported while the first dispatch is pending (spec §4.1).
    assert.equal(desc.nextAttemptScheduleTime?.getTime(), dueAt);
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
