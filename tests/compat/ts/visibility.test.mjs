// Visibility scenarios (ListActivityExecutions / CountActivityExecutions) with
// the TypeScript SDK 1.24: list by task queue, filter by type, status, ID
// prefix and start time, count with and without GROUP BY, pagination and the
// default order, invalid queries, and custom search attributes.
//
// Checked against a real Temporal dev server (CLI 1.8.2, Server 1.31.2, and
// again CLI 1.9.1, Server 1.32.0) in oracle mode (COMPAT_ORACLE_ADDRESS, see harness.mjs). Its visibility store
// is SQLite and lags writes slightly, so every query is polled with a deadline
// until the expected answer appears; on a read-your-writes server the first
// poll answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '@temporalio/client';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { Errand } from './harness.mjs';
import { sleep, unique, withClient as clientAt, withWorker as workerAt } from './sdk.mjs';

const { temporal } = proto;

Runtime.install({ logger: new DefaultLogger('WARN') });

let errand;
before(async () => { errand = await Errand.start(); });
after(async () => { await errand?.cleanup(); });

const withClient = (fn) => clientAt(errand.address, fn);
const withWorker = (options, fn) => workerAt(errand.address, options, fn);

const SETTLE_MS = 10_000; // how long visibility may take to catch up



// Calls fetch() until check(result) holds; fails with the last result.
async function eventually(fetch, check, what, timeoutMs = SETTLE_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await fetch();
    if (check(result)) return result;
    if (Date.now() >= deadline) {
      assert.fail(`${what}: still ${JSON.stringify(result)} after ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}

async function listAll(client, query) {
  const out = [];
  for await (const info of client.activity.list(query)) out.push(info);
  return out;
}

const statusMap = (infos) => Object.fromEntries(infos.map((a) => [a.activityId, a.status]));
const sortedIds = (infos) => infos.map((a) => a.activityId).sort();

// Lists until exactly the expected IDs show up, each with its status.
async function listUntil(client, query, expected) {
  const want = JSON.stringify(Object.keys(expected).sort().map((k) => [k, expected[k]]));
  return await eventually(() => listAll(client, query),
    (got) => JSON.stringify(Object.entries(statusMap(got)).sort()) === want, `list ${query}`);
}

async function idsUntil(client, query, expected) {
  const want = [...expected].sort();
  const got = await eventually(() => listAll(client, query),
    (infos) => JSON.stringify(sortedIds(infos)) === JSON.stringify(want), `list ${query}`);
  return sortedIds(got);
}

const twoTypes = {
  async alpha(mode) {
    if (mode === 'fail') throw ApplicationFailure.nonRetryable('alpha failed');
    return 'alpha done';
  },
  async beta(mode) {
    if (mode === 'fail') throw ApplicationFailure.nonRetryable('beta failed');
    return 'beta done';
  },
};

// Runs each [id, type, mode] to its end on a worker; returns handles by ID.
async function runToClose(client, taskQueue, plan) {
  const handles = {};
  await withWorker({ taskQueue, activities: twoTypes }, async () => {
    for (const [id, type, mode] of plan) {
      const handle = await client.activity.start(type, {
        id, taskQueue, args: [mode], startToCloseTimeout: '10s',
      });
      await handle.result().catch(() => {});
      handles[id] = handle;
    }
  });
  return handles;
}

// Starts each [id, type]; nobody polls the task queue, so they stay running.
async function startRunning(client, taskQueue, plan) {
  const handles = {};
  for (const [id, type] of plan) {
    handles[id] = await client.activity.start(type, { id, taskQueue, args: ['x'], startToCloseTimeout: '10s' });
  }
  return handles;
}

// 1. List by task queue -----------------------------------------------------

test('list by task queue returns exactly those activities with their fields', async () => {
  await withClient(async (client) => {
    const taskQueue = unique('tq-vis');
    const before = Date.now() - 1_000;
    const done = await runToClose(client, taskQueue, [
      [unique('vis-done'), 'alpha', 'ok'], [unique('vis-done'), 'alpha', 'ok']]);
    const running = await startRunning(client, taskQueue, [
      [unique('vis-run'), 'gamma'], [unique('vis-run'), 'gamma'], [unique('vis-run'), 'gamma']]);
    const afterAll = Date.now() + 1_000;

    const expected = {};
    for (const id of Object.keys(done)) expected[id] = 'COMPLETED';
    for (const id of Object.keys(running)) expected[id] = 'RUNNING';
    const listed = await listUntil(client, `TaskQueue = '${taskQueue}'`, expected);
    assert.equal(listed.length, 5);

    for (const info of listed) {
      const handle = done[info.activityId] ?? running[info.activityId];
      assert.equal(info.activityRunId, handle.runId);
      assert.equal(info.taskQueue, taskQueue);
      assert.ok(info.scheduleTime instanceof Date);
      assert.ok(info.scheduleTime.getTime() >= before && info.scheduleTime.getTime() <= afterAll);
      // The list's StartTime is the visibility record's; the real server takes
      // it a few microseconds before describe's schedule time.
      const desc = await handle.describe();
      assert.ok(Math.abs(info.scheduleTime - desc.scheduleTime) < 1_000);
      assert.ok(info.rawListInfo, 'rawListInfo is the ActivityExecutionListInfo');
      if (done[info.activityId]) {
        assert.equal(info.activityType, 'alpha');
        assert.ok(info.closeTime instanceof Date);
        assert.ok(info.closeTime >= info.scheduleTime && info.closeTime.getTime() <= afterAll);
        assert.equal(info.closeTime.getTime(), desc.closeTime.getTime());
        // Execution duration runs from the schedule (start) time to close time.
        assert.equal(typeof info.executionDurationMs, 'number');
        assert.ok(Math.abs(info.executionDurationMs - (info.closeTime - info.scheduleTime)) <= 1,
          `executionDurationMs ${info.executionDurationMs} vs ${info.closeTime - info.scheduleTime}`);
      } else {
        assert.equal(info.activityType, 'gamma');
        assert.equal(info.closeTime, undefined);
        assert.equal(info.executionDurationMs, undefined);
      }
    }
  });
});

// 2. List by type, status, ID prefix and start time ---------------------------

test('list filters by type, status, ID prefix and start time', async () => {
  await withClient(async (client) => {
    const taskQueue = unique('tq-vis');
    const p = unique('vis');
    const before = new Date(Date.now() - 1_000);
    const closed = Object.keys(await runToClose(client, taskQueue, [
      [`${p}-alpha-c1`, 'alpha', 'ok'],
      [`${p}-alpha-c2`, 'alpha', 'ok'],
      [`${p}-alpha-f1`, 'alpha', 'fail'],
      [`${p}-beta-c1`, 'beta', 'ok'],
      [`${p}-beta-f1`, 'beta', 'fail'],
      [`${p}-beta-f2`, 'beta', 'fail'],
    ]));
    await sleep(50);
    const middle = new Date();
    await sleep(50);
    const running = Object.keys(await startRunning(client, taskQueue, [
      [`${p}-alpha-r1`, 'alpha'], [`${p}-beta-r1`, 'beta'], [`${p}-beta-r2`, 'beta']]));

    const tq = `TaskQueue = '${taskQueue}'`;
    await listUntil(client, tq, {
      [`${p}-alpha-c1`]: 'COMPLETED', [`${p}-alpha-c2`]: 'COMPLETED', [`${p}-alpha-f1`]: 'FAILED',
      [`${p}-beta-c1`]: 'COMPLETED', [`${p}-beta-f1`]: 'FAILED', [`${p}-beta-f2`]: 'FAILED',
      [`${p}-alpha-r1`]: 'RUNNING', [`${p}-beta-r1`]: 'RUNNING', [`${p}-beta-r2`]: 'RUNNING',
    });

    const all = [...closed, ...running];
    const cases = [
      [`${tq} AND ActivityType = 'alpha' AND ExecutionStatus = 'Completed'`, [`${p}-alpha-c1`, `${p}-alpha-c2`]],
      [`${tq} AND ActivityType = 'beta' AND ExecutionStatus = 'Failed'`, [`${p}-beta-f1`, `${p}-beta-f2`]],
      [`${tq} AND ActivityType = 'alpha' AND ExecutionStatus = 'Failed'`, [`${p}-alpha-f1`]],
      [`${tq} AND ExecutionStatus = 'Running'`, running],
      [`${tq} AND ExecutionStatus = 'Canceled'`, []],
      [`${tq} AND ExecutionStatus IN ('Failed', 'Completed')`, closed],
      [`${tq} AND ActivityType = 'beta'`,
        [`${p}-beta-c1`, `${p}-beta-f1`, `${p}-beta-f2`, `${p}-beta-r1`, `${p}-beta-r2`]],
      [`${tq} AND ActivityType != 'beta'`,
        [`${p}-alpha-c1`, `${p}-alpha-c2`, `${p}-alpha-f1`, `${p}-alpha-r1`]],
      [`ActivityId STARTS_WITH '${p}-'`, all],
      [`ActivityId STARTS_WITH '${p}-beta-f'`, [`${p}-beta-f1`, `${p}-beta-f2`]],
      [`ActivityId = '${p}-alpha-c2'`, [`${p}-alpha-c2`]],
      [`${tq} AND StartTime > '${before.toISOString()}'`, all],
      [`${tq} AND StartTime < '${before.toISOString()}'`, []],
      [`${tq} AND StartTime > '${middle.toISOString()}'`, running],
      [`${tq} AND StartTime BETWEEN '${before.toISOString()}' AND '${middle.toISOString()}'`, closed],
      [`${tq} AND CloseTime IS NULL`, running],
      [`${tq} AND (ActivityType = 'alpha' OR ExecutionStatus = 'Running')`,
        [`${p}-alpha-c1`, `${p}-alpha-c2`, `${p}-alpha-f1`, `${p}-alpha-r1`, `${p}-beta-r1`, `${p}-beta-r2`]],
    ];
    for (const [query, expected] of cases) {
      assert.deepEqual(await idsUntil(client, query, expected), [...expected].sort(), query);
    }
  });
});

// 3. Count ----------------------------------------------------------------------

test('count with and without GROUP BY ExecutionStatus', async () => {
  await withClient(async (client) => {
    const taskQueue = unique('tq-vis');
    await runToClose(client, taskQueue, [
      [unique('cnt'), 'alpha', 'ok'], [unique('cnt'), 'beta', 'ok'], [unique('cnt'), 'alpha', 'fail']]);
    await startRunning(client, taskQueue, [
      [unique('cnt'), 'alpha'], [unique('cnt'), 'alpha'], [unique('cnt'), 'beta']]);
    const tq = `TaskQueue = '${taskQueue}'`;

    // The SDK decodes each group value with the search attribute payload
    // converter, which wraps it in an array: groupValues is [['Running']].
    const groupCounts = (res) => Object.fromEntries(
      (res.groups ?? []).map((g) => [JSON.stringify(g.groupValues), g.count]));

    const grouped = await eventually(() => client.activity.count(`${tq} GROUP BY ExecutionStatus`),
      (r) => JSON.stringify(Object.entries(groupCounts(r)).sort()) === JSON.stringify([
        ['[["Completed"]]', 2], ['[["Failed"]]', 1], ['[["Running"]]', 3]]),
      'count GROUP BY ExecutionStatus');
    assert.equal(grouped.count, 6);
    for (const g of grouped.groups) {
      assert.equal(g.groupValues.length, 1);
    }

    const total = await client.activity.count(tq);
    assert.equal(total.count, 6);
    assert.deepEqual(total.groups, []);

    assert.equal((await client.activity.count(`${tq} AND ExecutionStatus = 'Running'`)).count, 3);
    assert.equal((await client.activity.count(`${tq} AND ActivityType = 'alpha'`)).count, 4);
    const alphaGroups = await client.activity.count(`${tq} AND ActivityType = 'alpha' GROUP BY ExecutionStatus`);
    assert.equal(alphaGroups.count, 4);
    assert.deepEqual(groupCounts(alphaGroups),
      { '[["Completed"]]': 1, '[["Failed"]]': 1, '[["Running"]]': 2 });
    const nothing = await client.activity.count(`${tq} AND ActivityType = 'nope'`);
    assert.equal(nothing.count, 0);
    assert.deepEqual(nothing.groups, []);
  });
});

// 4. Pagination and default order ---------------------------------------------

test('pagination with page size 3 and the default order', async () => {
  await withClient(async (client, connection) => {
    const taskQueue = unique('tq-vis');
    const prefix = unique('page');
    const ids = Array.from({ length: 7 }, (_, i) => `${prefix}-${i}`);
    const handles = {};
    for (const id of ids) { // start order 0..6, nobody polls
      handles[id] = await client.activity.start('paged', { id, taskQueue, startToCloseTimeout: '10s' });
      await sleep(10);
    }
    // Close three of them in an order unlike their start order.
    await handles[ids[1]].terminate('first to close');
    await sleep(10);
    await handles[ids[4]].cancel('second to close');
    await sleep(10);
    await handles[ids[0]].terminate('last to close');

    // Running first (newest start first), then closed by close time, newest first.
    const expectedOrder = [ids[6], ids[5], ids[3], ids[2], ids[0], ids[4], ids[1]];
    const query = `TaskQueue = '${taskQueue}'`;
    const listed = await listUntil(client, query, {
      [ids[0]]: 'TERMINATED', [ids[1]]: 'TERMINATED', [ids[2]]: 'RUNNING', [ids[3]]: 'RUNNING',
      [ids[4]]: 'CANCELED', [ids[5]]: 'RUNNING', [ids[6]]: 'RUNNING',
    });
    assert.deepEqual(listed.map((a) => a.activityId), expectedOrder);

    // The SDK's list() takes no page size; page by hand with the raw RPC:
    // pages of 3, 3, 1; a token after each full page, none after the last.
    const pages = [];
    let nextPageToken;
    for (let i = 0; i < 10; i++) {
      const resp = await connection.workflowService.listActivityExecutions({
        namespace: 'default', query, pageSize: 3, nextPageToken,
      });
      pages.push(resp.executions.map((e) => e.activityId));
      nextPageToken = resp.nextPageToken;
      if (!nextPageToken || nextPageToken.length === 0) break;
      if (pages.length < 3) assert.ok(nextPageToken.length > 0);
    }
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
    const flat = pages.flat();
    assert.deepEqual(flat, expectedOrder);
    assert.equal(new Set(flat).size, 7);
  });
});

// 5. Invalid queries ------------------------------------------------------------

function isInvalidArgument(err) {
  // The SDK wraps the gRPC error: ServiceError whose cause has code 3.
  assert.ok(err instanceof ServiceError, `got ${err}`);
  assert.equal(err.cause?.code, 3); // INVALID_ARGUMENT
  assert.ok(err.cause?.details, 'the gRPC status carries a message');
  return true;
}

test('malformed queries and unknown attributes are INVALID_ARGUMENT', async () => {
  await withClient(async (client) => {
    // Messages differ between servers; only the code is asserted.
    for (const query of ['ActivityType = ', "NoSuchAttr = 'x'", "ActivityType = 'x' AND"]) {
      await assert.rejects(listAll(client, query), isInvalidArgument, query);
      await assert.rejects(client.activity.count(query), isInvalidArgument, query);
    }
  });
});

test('GROUP BY anything but ExecutionStatus is INVALID_ARGUMENT; list ignores GROUP BY', async () => {
  await withClient(async (client) => {
    for (const query of ["ActivityType = 'x' GROUP BY ActivityType", 'GROUP BY TaskQueue',
      "ExecutionStatus = 'Running' GROUP BY ExecutionStatus, ActivityType"]) {
      await assert.rejects(client.activity.count(query), isInvalidArgument, query);
    }
    // List accepts a GROUP BY and lists the matching rows ungrouped (Server
    // 1.32.0; 1.31.2 rejected it with INVALID_ARGUMENT).
    const taskQueue = unique('tq-vis');
    const running = Object.keys(await startRunning(client, taskQueue, [[unique('grp'), 'grouped']]));
    await idsUntil(client, `TaskQueue = '${taskQueue}' GROUP BY ExecutionStatus`, running);
  });
});

// 6. Custom search attributes --------------------------------------------------

const keywordKey = defineSearchAttributeKey('CustomKeywordField', SearchAttributeType.KEYWORD);
const intKey = defineSearchAttributeKey('CustomIntField', SearchAttributeType.INT);

// Registers CustomKeywordField / CustomIntField unless already there.
async function ensureCustomSearchAttributes(connection) {
  const { INDEXED_VALUE_TYPE_KEYWORD, INDEXED_VALUE_TYPE_INT } = temporal.api.enums.v1.IndexedValueType;
  const wanted = { CustomKeywordField: INDEXED_VALUE_TYPE_KEYWORD, CustomIntField: INDEXED_VALUE_TYPE_INT };
  let have = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
  const missing = Object.fromEntries(Object.entries(wanted).filter(([k]) => !(k in (have.customAttributes ?? {}))));
  if (Object.keys(missing).length > 0) {
    await connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes: missing });
  }
  have = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
  for (const [name, type] of Object.entries(wanted)) assert.equal(have.customAttributes[name], type, name);
}

test('custom search attributes: set at start, listed, described and queried', async () => {
  await withClient(async (client, connection) => {
    await ensureCustomSearchAttributes(connection);
    const taskQueue = unique('tq-vis');
    const value = unique('kw');

    // A freshly added search attribute may take a moment to reach the
    // server's namespace cache: retry the start until it is accepted.
    const start = (id, attrs) => eventually(async () => {
      try {
        return await client.activity.start('tagged', {
          id, taskQueue, startToCloseTimeout: '10s', ...(attrs ? { typedSearchAttributes: attrs } : {}),
        });
      } catch (err) {
        if (err instanceof ServiceError && err.cause?.code === 3) return { rejected: err.cause.details };
        throw err;
      }
    }, (r) => !r.rejected, `start ${id}`);

    const big = await start(unique('sa'), [{ key: keywordKey, value }, { key: intKey, value: 42 }]);
    const small = await start(unique('sa'), [{ key: keywordKey, value }, { key: intKey, value: 7 }]);
    const plain = await start(unique('sa'));

    const desc = await big.describe();
    assert.equal(desc.typedSearchAttributes.get(keywordKey), value);
    assert.equal(desc.typedSearchAttributes.get(intKey), 42);

    const tq = `TaskQueue = '${taskQueue}'`;
    await idsUntil(client, `CustomKeywordField = '${value}'`, [big.activityId, small.activityId]);
    await idsUntil(client, `${tq} AND CustomIntField > 10`, [big.activityId]);
    await idsUntil(client, `${tq} AND CustomIntField <= 10`, [small.activityId]);
    await idsUntil(client, `${tq} AND CustomKeywordField IS NULL`, [plain.activityId]);
    const count = await client.activity.count(`CustomKeywordField = '${value}' GROUP BY ExecutionStatus`);
    assert.equal(count.count, 2);
    assert.deepEqual(count.groups, [{ count: 2, groupValues: [['Running']] }]);

    const listed = Object.fromEntries((await listAll(client, tq)).map((a) => [a.activityId, a]));
    assert.equal(listed[big.activityId].typedSearchAttributes.get(keywordKey), value);
    assert.equal(listed[big.activityId].typedSearchAttributes.get(intKey), 42);
    assert.equal(listed[small.activityId].typedSearchAttributes.get(intKey), 7);
    assert.equal(listed[plain.activityId].typedSearchAttributes.get(keywordKey), undefined);

    // A search attribute the namespace does not know is rejected at start.
    const unknownKey = defineSearchAttributeKey('NoSuchCustomAttr', SearchAttributeType.KEYWORD);
    await assert.rejects(client.activity.start('tagged', {
      id: unique('sa'), taskQueue, startToCloseTimeout: '10s',
      typedSearchAttributes: [{ key: unknownKey, value: 'a' }],
    }), isInvalidArgument);
  });
});
