// Standalone Activity scenarios with the TypeScript SDK 1.24: execute, start
// and describe, ID conflicts, request-ID dedup and ID reuse, cancellation,
// termination and deletion, unknown IDs, asynchronous completion and failure
// by activity ID, application failures, and an activity surviving a SIGKILL
// of the server.
//
// Every scenario also runs against a real Temporal dev server (oracle mode:
// COMPAT_ORACLE_ADDRESS=host:port, see harness.mjs; checked with CLI 1.9.1,
// Server 1.32.0); the ones that need to kill or restart the server skip
// themselves there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  ActivityCompletionError, ActivityExecutionAlreadyStartedError, ActivityExecutionFailedError, ActivityNotFoundError,
  ServiceError,
} from '@temporalio/client';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Context, CompleteAsyncError } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, TerminatedFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { Errand, oracleMode } from './harness.mjs';
import { sleep, unique, withClient as clientAt, withWorker as workerAt, clientIdentity } from './sdk.mjs';

const { temporal } = proto;

// Keep sdk-core quiet unless something is wrong.
Runtime.install({ logger: new DefaultLogger('WARN') });

let errand;
before(async () => { errand = await Errand.start(); });
after(async () => { await errand?.cleanup(); });

const withClient = (fn) => clientAt(errand.address, fn);
const withWorker = (options, fn) => workerAt(errand.address, options, fn);



// A promise with its resolve function, to hand signals between an activity
// running inside the worker and the test body.
function signal() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

// Rejects if `promise` does not settle within `ms`, so a broken server fails
// a scenario instead of hanging it.
function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Runs fn(client, connection) with a fresh client connection, always closed.

// Runs fn() while an activity worker polls taskQueue; the worker is shut down
// and its connection closed however fn ends.

const greetingActivities = {
  async composeGreeting(name) { return `Hello, ${name}!`; },
};

// Scenario 1 ---------------------------------------------------------------

test('execute composeGreeting returns Hello, World!', async () => {
  const taskQueue = unique('tq');
  await withClient(async (client) => {
    const result = await withWorker({ taskQueue, activities: greetingActivities }, () =>
      within(20_000, client.activity.execute('composeGreeting', {
        id: unique('greet'), taskQueue, args: ['World'], startToCloseTimeout: '10s',
      }), 'execute'));
    assert.equal(result, 'Hello, World!');
  });
});

// Scenario 2 ---------------------------------------------------------------

test('start, then getHandle by ID, result() and describe()', async () => {
  const taskQueue = unique('tq');
  const id = unique('greet');
  const identity = unique('compat-worker');
  const release = signal();
  const running = signal();
  const activities = {
    async composeGreeting(name) {
      running.resolve(Context.current().info);
      await release.promise;
      return `Hello, ${name}!`;
    },
  };
  await withClient(async (client) => {
    const startedAt = Date.now();
    const started = await client.activity.start('composeGreeting', {
      id, taskQueue, args: ['World'], startToCloseTimeout: '10s',
    });
    assert.equal(started.activityId, id);
    assert.ok(started.runId, 'start returns the run ID');

    // Nobody polls the task queue yet: scheduled, not started.
    const handle = client.activity.getHandle(id);
    assert.equal(handle.activityId, id);
    assert.equal(handle.runId, undefined);
    let desc = await handle.describe();
    assert.equal(desc.activityId, id);
    assert.equal(desc.activityRunId, started.runId);
    assert.equal(desc.activityType, 'composeGreeting');
    assert.equal(desc.taskQueue, taskQueue);
    assert.equal(desc.status, 'RUNNING');
    assert.equal(desc.runState, 'SCHEDULED');
    assert.equal(desc.attempt, 1);
    assert.equal(desc.lastWorkerIdentity, undefined);
    assert.equal(desc.lastStartedTime, undefined);
    assert.equal(desc.closeTime, undefined);
    assert.ok(desc.scheduleTime instanceof Date);
    assert.ok(desc.scheduleTime.getTime() >= startedAt - 5_000 && desc.scheduleTime.getTime() <= Date.now() + 5_000);
    assert.equal(desc.startToCloseTimeoutMs, 10_000);
    assert.equal(desc.executionDurationMs, undefined);
    // The server fills in its default retry policy.
    assert.equal(desc.retryPolicy.initialInterval, 1_000);
    assert.equal(desc.retryPolicy.backoffCoefficient, 2);
    assert.equal(desc.retryPolicy.maximumInterval, 100_000);
    assert.equal(desc.retryPolicy.maximumAttempts, 0);

    const result = await withWorker({ taskQueue, activities, identity }, async () => {
      const info = await within(15_000, running.promise, 'the activity to run');
      assert.equal(info.activityId, id);
      assert.equal(info.activityRunId, started.runId);
      assert.equal(info.activityType, 'composeGreeting');
      assert.equal(info.taskQueue, taskQueue);
      assert.equal(info.attempt, 1);
      assert.equal(info.inWorkflow, false);
      assert.equal(info.workflowExecution, undefined);
      assert.equal(info.namespace, 'default');

      // Running on the worker: started, attempt 1, our worker's identity.
      desc = await handle.describe();
      assert.equal(desc.status, 'RUNNING');
      assert.equal(desc.runState, 'STARTED');
      assert.equal(desc.attempt, 1);
      assert.equal(desc.lastWorkerIdentity, identity);
      assert.ok(desc.lastStartedTime instanceof Date);
      assert.ok(desc.lastStartedTime >= desc.scheduleTime);
      assert.equal(desc.closeTime, undefined);

      release.resolve();
      return await within(15_000, handle.result(), 'result()');
    });
    assert.equal(result, 'Hello, World!');

    desc = await handle.describe({ includeInput: true, includeOutcome: true });
    assert.equal(desc.activityRunId, started.runId);
    assert.equal(desc.status, 'COMPLETED');
    assert.equal(desc.attempt, 1);
    assert.equal(desc.taskQueue, taskQueue);
    assert.equal(desc.lastWorkerIdentity, identity);
    assert.ok(desc.closeTime instanceof Date);
    assert.ok(desc.closeTime >= desc.lastStartedTime);
    // Execution duration runs from schedule to close.
    assert.ok(Math.abs(desc.executionDurationMs - (desc.closeTime - desc.scheduleTime)) <= 1,
      `executionDurationMs ${desc.executionDurationMs} vs ${desc.closeTime - desc.scheduleTime}`);
    assert.ok(desc.hasInput);
    assert.deepEqual(await desc.getInput(), ['World']);
    assert.ok(desc.hasResult);
    assert.equal(await desc.getResult(), 'Hello, World!');
    assert.equal(desc.hasOutcomeFailure, false);

    // A handle bound to the run ID reads the same result again.
    assert.equal(await client.activity.getHandle(id, started.runId).result(), 'Hello, World!');
  });
});

// Scenario 3 ---------------------------------------------------------------

test('a second start with a running ID conflicts; USE_EXISTING and a repeated request ID return the running run', async () => {
  const taskQueue = unique('tq-nobody');  // no worker: the activity stays running
  const id = unique('dup');
  await withClient(async (client, connection) => {
    const options = { id, taskQueue, args: ['World'], startToCloseTimeout: '10s' };
    const first = await client.activity.start('composeGreeting', options);
    try {
      await assert.rejects(client.activity.start('composeGreeting', options), (err) => {
        assert.ok(err instanceof ActivityExecutionAlreadyStartedError, `got ${err}`);
        assert.equal(err.activityId, id);
        assert.equal(err.runId, first.runId);
        return true;
      });
      // The explicit FAIL policy behaves the same.
      await assert.rejects(client.activity.start('composeGreeting', { ...options, idConflictPolicy: 'FAIL' }),
        ActivityExecutionAlreadyStartedError);

      const existing = await client.activity.start('composeGreeting', { ...options, idConflictPolicy: 'USE_EXISTING' });
      assert.equal(existing.activityId, id);
      assert.equal(existing.runId, first.runId);

      // The raw gRPC call with the first request repeated verbatim.
      const requestId = randomUUID();
      const rawId = unique('dup-raw');
      const request = {
        namespace: 'default', identity: 'compat-ts', requestId, activityId: rawId,
        activityType: { name: 'composeGreeting' }, taskQueue: { name: taskQueue },
        startToCloseTimeout: { seconds: 10 },
      };
      const rawFirst = await connection.workflowService.startActivityExecution(request);
      assert.equal(rawFirst.started, true);
      assert.ok(rawFirst.runId);
      const rawAgain = await connection.workflowService.startActivityExecution(request);
      assert.equal(rawAgain.started, false);
      assert.equal(rawAgain.runId, rawFirst.runId);

      // The same ID with a new request ID is a conflict: ALREADY_EXISTS with
      // an ActivityExecutionAlreadyStartedFailure detail.
      await assert.rejects(
        connection.workflowService.startActivityExecution({ ...request, requestId: randomUUID() }),
        (err) => {
          assert.equal(err.code, 6); // ALREADY_EXISTS
          const [bin] = err.metadata.get('grpc-status-details-bin');
          const status = proto.google.rpc.Status.decode(bin);
          assert.equal(status.details[0].type_url ?? status.details[0].typeUrl,
            'type.googleapis.com/temporal.api.errordetails.v1.ActivityExecutionAlreadyStartedFailure');
          const detail = temporal.api.errordetails.v1.ActivityExecutionAlreadyStartedFailure
            .decode(status.details[0].value);
          assert.equal(detail.runId, rawFirst.runId);
          return true;
        });
      await client.activity.getHandle(rawId).terminate('cleanup');
    } finally {
      await client.activity.getHandle(id).terminate('cleanup').catch(() => {});
    }
  });
});

test('ID reuse policy after a run closes: allow, reject, allow failed only', async () => {
  const taskQueue = unique('tq');
  const okId = unique('reuse-ok');
  const failedId = unique('reuse-failed');
  const activities = {
    ...greetingActivities,
    async explode() { throw ApplicationFailure.nonRetryable('boom'); },
  };
  await withClient(async (client) => {
    const start = (id, idReusePolicy, type = 'composeGreeting', args = ['again']) => client.activity.start(type, {
      id, taskQueue, args, startToCloseTimeout: '10s', ...(idReusePolicy ? { idReusePolicy } : {}),
    });
    const rejected = (id, policy, closedRunId) => assert.rejects(start(id, policy), (err) => {
      assert.ok(err instanceof ActivityExecutionAlreadyStartedError, `got ${err}`);
      assert.equal(err.activityId, id);
      assert.equal(err.runId, closedRunId);
      return true;
    }, policy);

    const runs = await withWorker({ taskQueue, activities }, async () => {
      const completed = await start(okId, undefined, 'composeGreeting', ['World']);
      assert.equal(await within(15_000, completed.result(), 'result()'), 'Hello, World!');
      const failed = await start(failedId, undefined, 'explode', []);
      await assert.rejects(within(15_000, failed.result(), 'result()'), ActivityExecutionFailedError);

      // After a COMPLETED run: REJECT_DUPLICATE and ALLOW_DUPLICATE_FAILED_ONLY
      // refuse the ID, naming the closed run.
      await rejected(okId, 'REJECT_DUPLICATE', completed.runId);
      await rejected(okId, 'ALLOW_DUPLICATE_FAILED_ONLY', completed.runId);
      // ALLOW_DUPLICATE starts a new run, and so does the default policy.
      const second = await start(okId, 'ALLOW_DUPLICATE');
      assert.notEqual(second.runId, completed.runId);
      assert.equal(await within(15_000, second.result(), 'result()'), 'Hello, again!');
      const third = await start(okId, undefined, 'composeGreeting', ['third']);
      assert.ok(![completed.runId, second.runId].includes(third.runId));
      assert.equal(await within(15_000, third.result(), 'result()'), 'Hello, third!');

      // After a FAILED run: REJECT_DUPLICATE still refuses,
      // ALLOW_DUPLICATE_FAILED_ONLY starts a new run.
      await rejected(failedId, 'REJECT_DUPLICATE', failed.runId);
      const retried = await start(failedId, 'ALLOW_DUPLICATE_FAILED_ONLY');
      assert.notEqual(retried.runId, failed.runId);
      assert.equal(await within(15_000, retried.result(), 'result()'), 'Hello, again!');
      return { completed, third, failed, retried };
    });

    // A handle by ID alone follows the latest run; older runs stay readable
    // by run ID.
    let desc = await client.activity.getHandle(okId).describe();
    assert.equal(desc.activityRunId, runs.third.runId);
    assert.equal(desc.status, 'COMPLETED');
    assert.equal(await client.activity.getHandle(okId, runs.completed.runId).result(), 'Hello, World!');
    desc = await client.activity.getHandle(failedId).describe();
    assert.equal(desc.activityRunId, runs.retried.runId);
    assert.equal((await client.activity.getHandle(failedId, runs.failed.runId).describe()).status, 'FAILED');
  });
});


// Scenario 4 ---------------------------------------------------------------

test('cancelling a heartbeating activity: the worker sees it and the outcome is CANCELED', async () => {
  const taskQueue = unique('tq');
  const id = unique('cancel');
  const running = signal();
  const observed = signal();
  const activities = {
    async longRunning() {
      const ctx = Context.current();
      running.resolve();
      let beats = 0;
      try {
        for (;;) {
          ctx.heartbeat(++beats);
          await Promise.race([ctx.cancelled, sleep(100)]);
        }
      } catch (err) {
        observed.resolve({ err, aborted: ctx.cancellationSignal.aborted, details: ctx.cancellationDetails });
        throw err;
      }
    },
  };
  await withClient(async (client) => {
    const handle = await client.activity.start('longRunning', {
      id, taskQueue, startToCloseTimeout: '10s', heartbeatTimeout: '2s',
    });
    await withWorker({ taskQueue, activities }, async () => {
      await within(15_000, running.promise, 'the activity to run');
      await handle.cancel('compat cancel');
      const seen = await within(15_000, observed.promise, 'the worker to observe cancellation');
      assert.ok(seen.err instanceof CancelledFailure, `activity saw ${seen.err}`);
      assert.equal(seen.aborted, true);
      assert.equal(seen.details?.cancelRequested, true);

      await assert.rejects(within(15_000, handle.result(), 'result()'), (err) => {
        assert.ok(err instanceof ActivityExecutionFailedError, `got ${err}`);
        assert.equal(err.activityId, id);
        assert.ok(err.cause instanceof CancelledFailure, `cause is ${err.cause}`);
        assert.equal(err.cause.message, 'Activity canceled');
        // The identity is the one that requested cancellation, not the worker's.
        assert.equal(err.cause.failure?.canceledFailureInfo?.identity, clientIdentity);
        return true;
      });
    });
    const desc = await handle.describe();
    assert.equal(desc.status, 'CANCELED');
    assert.equal(desc.canceledReason, 'compat cancel');
    assert.ok(desc.closeTime instanceof Date);
  });
});

test('cancelling an activity no worker has picked up cancels it at once', async () => {
  const taskQueue = unique('tq-nobody');
  const id = unique('cancel-scheduled');
  await withClient(async (client) => {
    const handle = await client.activity.start('composeGreeting', {
      id, taskQueue, args: ['World'], startToCloseTimeout: '10s',
    });
    assert.equal((await handle.describe()).runState, 'SCHEDULED');
    await handle.cancel('never picked up');
    const desc = await handle.describe();
    assert.equal(desc.status, 'CANCELED');
    assert.equal(desc.canceledReason, 'never picked up');
    assert.ok(desc.closeTime instanceof Date);
    await assert.rejects(within(10_000, handle.result(), 'result()'), (err) => {
      assert.ok(err instanceof ActivityExecutionFailedError, `got ${err}`);
      assert.ok(err.cause instanceof CancelledFailure, `cause is ${err.cause}`);
      assert.equal(err.cause.message, 'Activity canceled');
      // With no worker to report details, the reason becomes the details.
      assert.deepEqual(err.cause.details, ['never picked up']);
      assert.equal(err.cause.failure?.canceledFailureInfo?.identity, clientIdentity);
      return true;
    });
    // A closed activity cannot be cancelled again.
    await assert.rejects(handle.cancel('again'), (err) => {
      assert.ok(err instanceof ServiceError, `got ${err}`);
      assert.equal(err.cause?.code, 9); // FAILED_PRECONDITION
      return true;
    });
  });
});

// Scenario 5 ---------------------------------------------------------------

test('terminate ends the activity TERMINATED; delete removes it', async () => {
  const taskQueue = unique('tq-nobody');
  const id = unique('terminate');
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('composeGreeting', {
      id, taskQueue, args: ['World'], startToCloseTimeout: '10s',
    });
    await handle.terminate('compat terminate');
    const desc = await handle.describe();
    assert.equal(desc.status, 'TERMINATED');
    assert.ok(desc.closeTime instanceof Date);
    await assert.rejects(within(10_000, handle.result(), 'result()'), (err) => {
      assert.ok(err instanceof ActivityExecutionFailedError, `got ${err}`);
      assert.ok(err.cause instanceof TerminatedFailure, `cause is ${err.cause}`);
      assert.equal(err.cause.message, 'compat terminate');
      assert.equal(err.cause.failure?.terminatedFailureInfo?.identity, clientIdentity);
      return true;
    });
    // Terminating or cancelling it again is FAILED_PRECONDITION.
    for (const again of [() => handle.terminate('again'), () => handle.cancel('again')]) {
      await assert.rejects(again(), (err) => {
        assert.ok(err instanceof ServiceError, `got ${err}`);
        assert.equal(err.cause?.code, 9); // FAILED_PRECONDITION
        return true;
      });
    }

    // Temporal deletes asynchronously: describe keeps answering for a moment
    // (~100-250 ms on a dev server) and then reports NOT_FOUND. Deleting at
    // once is just as good.
    await connection.workflowService.deleteActivityExecution({ namespace: 'default', activityId: id });
    const deadline = Date.now() + 10_000;
    let gone;
    while (!gone) {
      try {
        const after = await handle.describe();
        assert.equal(after.status, 'TERMINATED');
      } catch (err) {
        gone = err;
        break;
      }
      assert.ok(Date.now() < deadline, 'describe still finds the activity 10 s after delete');
      await sleep(50);
    }
    assert.ok(gone instanceof ActivityNotFoundError, `got ${gone}`);
    assert.equal(gone.message, `activity not found for ID: ${id}`);
    await assert.rejects(handle.result(), ActivityNotFoundError);

    // Deleting it again, or any unknown ID, is NOT_FOUND.
    await assert.rejects(
      connection.workflowService.deleteActivityExecution({ namespace: 'default', activityId: id }),
      (err) => {
        assert.equal(err.code, 5); // NOT_FOUND
        assert.equal(err.details, `activity not found for ID: ${id}`);
        return true;
      });

    // It is gone from visibility too (the real server's store may lag).
    const query = `ActivityId = '${id}'`;
    for (;;) {
      const listed = await connection.workflowService.listActivityExecutions({ namespace: 'default', query });
      const counted = await client.activity.count(query);
      if (listed.executions.length === 0 && counted.count === 0) break;
      assert.ok(Date.now() < deadline, `${id} still listed or counted 10 s after delete`);
      await sleep(100);
    }
  });
});

test('deleting a running activity removes it', async () => {
  const taskQueue = unique('tq-nobody');
  const id = unique('delete-running');
  await withClient(async (client, connection) => {
    const handle = await client.activity.start('composeGreeting', {
      id, taskQueue, args: ['World'], startToCloseTimeout: '10s',
    });
    await connection.workflowService.deleteActivityExecution({ namespace: 'default', activityId: id });
    // Temporal terminates it and then deletes it asynchronously.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await handle.describe();
      } catch (err) {
        assert.ok(err instanceof ActivityNotFoundError, `got ${err}`);
        break;
      }
      assert.ok(Date.now() < deadline, 'describe still finds the activity 10 s after delete');
      await sleep(50);
    }
    // The ID is free again.
    const again = await client.activity.start('composeGreeting', {
      id, taskQueue, args: ['World'], startToCloseTimeout: '10s',
    });
    assert.notEqual(again.runId, handle.runId);
    await again.terminate('cleanup');
  });
});

test("an unknown activity ID is NOT_FOUND with Temporal's message", async () => {
  const missing = unique('missing');
  const message = `activity not found for ID: ${missing}`;
  await withClient(async (client, connection) => {
    const handle = client.activity.getHandle(missing);
    const calls = {
      describe: () => handle.describe(),
      result: () => handle.result(),
      cancel: () => handle.cancel('nothing there'),
      terminate: () => handle.terminate('nothing there'),
      heartbeat: () => client.activity.heartbeat({ activityId: missing }, 'x'),
      complete: () => client.activity.complete({ activityId: missing }, 'x'),
    };
    for (const [name, call] of Object.entries(calls)) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof ActivityNotFoundError, `${name}: got ${err}`);
        return true;
      }, name);
    }
    // The gRPC status behind it: NOT_FOUND, the message and a NotFoundFailure.
    for (const call of [
      () => connection.workflowService.describeActivityExecution({ namespace: 'default', activityId: missing }),
      () => connection.workflowService.deleteActivityExecution({ namespace: 'default', activityId: missing }),
    ]) {
      await assert.rejects(call(), (err) => {
        assert.equal(err.code, 5); // NOT_FOUND
        assert.equal(err.details, message);
        const [bin] = err.metadata.get('grpc-status-details-bin');
        const status = proto.google.rpc.Status.decode(bin);
        assert.equal(status.details[0].type_url ?? status.details[0].typeUrl,
          'type.googleapis.com/temporal.api.errordetails.v1.NotFoundFailure');
        return true;
      });
    }
    // A known activity ID with a run ID that is not one of its runs.
    const known = await client.activity.start('composeGreeting', {
      id: unique('known'), taskQueue: unique('tq-nobody'), args: ['World'], startToCloseTimeout: '10s',
    });
    await assert.rejects(client.activity.getHandle(known.activityId, randomUUID()).describe(), (err) => {
      assert.ok(err instanceof ActivityNotFoundError, `got ${err}`);
      assert.equal(err.message, `activity not found for ID: ${known.activityId}`);
      return true;
    });
    await known.terminate('cleanup');
  });
});


// Scenario 6 ---------------------------------------------------------------

test('asynchronous completion and heartbeat by activity ID', async () => {
  const taskQueue = unique('tq');
  const id = unique('async');
  const running = signal();
  const activities = {
    async completeLater() {
      running.resolve(Context.current().info);
      throw new CompleteAsyncError();
    },
  };
  await withClient(async (client) => {
    const handle = await client.activity.start('completeLater', {
      id, taskQueue, startToCloseTimeout: '10s',
    });
    await withWorker({ taskQueue, activities }, async () => {
      await within(15_000, running.promise, 'the activity to run');
    });
    // The worker is gone; the activity is still running, waiting for us.
    let desc = await handle.describe();
    assert.equal(desc.status, 'RUNNING');
    assert.equal(desc.runState, 'STARTED');

    await client.activity.heartbeat({ activityId: id }, { progress: 42 });
    desc = await handle.describe({ includeHeartbeatDetails: true });
    assert.ok(desc.hasHeartbeatDetails);
    assert.deepEqual(await desc.getHeartbeatDetails(), { progress: 42 });
    assert.ok(desc.lastHeartbeatTime instanceof Date);

    await client.activity.complete({ activityId: id }, 'done later');
    assert.equal(await within(10_000, handle.result(), 'result()'), 'done later');
    desc = await handle.describe();
    assert.equal(desc.status, 'COMPLETED');

    // Completing it again: a by-ID completion needs no attempt in progress, so
    // it is the transition that is refused (Server 1.32.0; 1.31.2 said NOT_FOUND).
    await assert.rejects(client.activity.complete({ activityId: id }, 'twice'), (err) => {
      assert.ok(err instanceof ActivityCompletionError, `got ${err}`);
      assert.equal(err.message, 'invalid transition from Completed');
      return true;
    });
  });
});

test('asynchronous failure by activity ID: retried, then failed for good', async () => {
  const taskQueue = unique('tq');
  const id = unique('async-fail');
  const attempts = [];
  let running = signal();
  const activities = {
    async failLater() {
      attempts.push(Context.current().info.attempt);
      running.resolve();
      throw new CompleteAsyncError();
    },
  };
  await withClient(async (client) => {
    const handle = await client.activity.start('failLater', {
      id, taskQueue, startToCloseTimeout: '10s', retry: { initialInterval: '200ms' },
    });
    await withWorker({ taskQueue, activities }, async () => {
      await within(15_000, running.promise, 'attempt 1');
      running = signal();
      // A retryable failure from outside the worker is retried like any
      // other attempt failure.
      await client.activity.fail({ activityId: id }, ApplicationFailure.retryable('try again', 'Transient'));
      await within(15_000, running.promise, 'attempt 2');
      const desc = await handle.describe({ includeLastFailure: true });
      assert.equal(desc.status, 'RUNNING');
      assert.equal(desc.attempt, 2);
      const last = await desc.getLastFailure();
      assert.ok(last instanceof ApplicationFailure, `last failure is ${last}`);
      assert.equal(last.message, 'try again');
      assert.equal(last.type, 'Transient');

      // A non-retryable one ends the run.
      await client.activity.fail({ activityId: id }, ApplicationFailure.nonRetryable('given up', 'External'));
      await assert.rejects(within(15_000, handle.result(), 'result()'), (err) => {
        assert.ok(err instanceof ActivityExecutionFailedError, `got ${err}`);
        assert.ok(err.cause instanceof ApplicationFailure, `cause is ${err.cause}`);
        assert.equal(err.cause.message, 'given up');
        assert.equal(err.cause.type, 'External');
        assert.equal(err.cause.nonRetryable, true);
        return true;
      });
    });
    assert.deepEqual(attempts, [1, 2]);
    const desc = await handle.describe({ includeOutcome: true });
    assert.equal(desc.status, 'FAILED');
    assert.equal(desc.attempt, 2);
    const failure = await desc.getOutcomeFailure();
    assert.ok(failure instanceof ApplicationFailure, `outcome failure is ${failure}`);
    assert.equal(failure.message, 'given up');
    // Failing it again finds no running attempt.
    await assert.rejects(client.activity.fail({ activityId: id }, new Error('twice')), ActivityNotFoundError);
  });
});


// Scenario 7 ---------------------------------------------------------------

test('a non-retryable ApplicationFailure ends the activity FAILED', async () => {
  const taskQueue = unique('tq');
  const id = unique('fail');
  const activities = {
    async explode() { throw ApplicationFailure.nonRetryable('boom', 'MyError'); },
  };
  await withClient(async (client) => {
    const handle = await client.activity.start('explode', { id, taskQueue, startToCloseTimeout: '10s' });
    await withWorker({ taskQueue, activities }, async () => {
      await assert.rejects(within(15_000, handle.result(), 'result()'), (err) => {
        assert.ok(err instanceof ActivityExecutionFailedError, `got ${err}`);
        assert.equal(err.activityId, id);
        assert.equal(err.runId, handle.runId);
        assert.ok(err.cause instanceof ApplicationFailure, `cause is ${err.cause}`);
        assert.equal(err.cause.message, 'boom');
        assert.equal(err.cause.type, 'MyError');
        assert.equal(err.cause.nonRetryable, true);
        return true;
      });
    });
    const desc = await handle.describe({ includeOutcome: true, includeLastFailure: true });
    assert.equal(desc.status, 'FAILED');
    assert.equal(desc.attempt, 1);
    assert.ok(desc.hasOutcomeFailure);
    const failure = await desc.getOutcomeFailure();
    assert.ok(failure instanceof ApplicationFailure, `outcome failure is ${failure}`);
    assert.equal(failure.message, 'boom');
    assert.equal(failure.type, 'MyError');
    assert.ok(desc.hasLastFailure);
    const last = await desc.getLastFailure();
    assert.ok(last instanceof ApplicationFailure, `last failure is ${last}`);
    assert.equal(last.message, 'boom');
    assert.equal(last.type, 'MyError');
  });
});

// Scenario 8 ---------------------------------------------------------------

test('an activity started before a SIGKILL completes after the server comes back',
  { skip: oracleMode && 'needs an errand process' }, async () => {
    const taskQueue = unique('tq');
    const id = unique('survivor');
    let runId;
    await withClient(async (client) => {
      const handle = await client.activity.start('composeGreeting', {
        id, taskQueue, args: ['World'], startToCloseTimeout: '10s',
      });
      assert.ok(handle.runId);
      runId = handle.runId;
    });
    await errand.kill();
    await errand.start();
    await withClient(async (client) => {
      const handle = client.activity.getHandle(id);
      const desc = await handle.describe();
      assert.equal(desc.activityRunId, runId);
      assert.equal(desc.status, 'RUNNING');
      assert.equal(desc.runState, 'SCHEDULED');
      const result = await withWorker({ taskQueue, activities: greetingActivities }, () =>
        within(20_000, handle.result(), 'result()'));
      assert.equal(result, 'Hello, World!');
      assert.equal((await handle.describe()).status, 'COMPLETED');
    });
  });
