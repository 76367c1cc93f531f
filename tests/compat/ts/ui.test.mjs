// The built-in web UI in a real browser: Debian's Chromium, headless, driven
// by playwright-core. Activities are started with the TypeScript SDK; the UI
// must list them, filter them with a List Filter query, show a refused
// query's error, terminate one from its detail screen, show a result and a
// failure with its stack trace, and render a hostile activity ID and failure
// message as text without running them. The server's Content-Security-Policy
// must not have to block anything the UI does.
//
// Screenshots of each screen go to $COMPAT_RESULTS/ui-screenshots (or a
// temporary directory), and, when UI_SCREENSHOTS_DIR is set, also to
// $UI_SCREENSHOTS_DIR/ui-<screen>.png (the README's pictures in docs/).
//
// Oracle mode (COMPAT_ORACLE_ADDRESS) needs COMPAT_ORACLE_HTTP_ADDRESS, where
// the UI is served next to the oracle's HTTP API; without it these tests skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ApplicationFailure } from '@temporalio/common';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Errand, oracleMode } from './harness.mjs';
import { sleep, unique, withClient as clientAt, withWorker as workerAt } from './sdk.mjs';

Runtime.install({ logger: new DefaultLogger('WARN') });

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// Bounds on waits for the page to show something; not speed assertions.
const UI_TIMEOUT_MS = 15_000;

const skip = oracleMode && !process.env.COMPAT_ORACLE_HTTP_ADDRESS
  ? 'oracle mode without COMPAT_ORACLE_HTTP_ADDRESS: no web UI to drive' : false;

let errand;
let context;
let page;
let profileDir;
let shotsDir;
const cspViolations = [];
const pageErrors = [];

before(async () => {
  if (skip) return;
  errand = await Errand.start();
  profileDir = mkdtempSync(path.join(os.tmpdir(), 'errand-ui-chromium-'));
  shotsDir = process.env.COMPAT_RESULTS
    ? path.join(process.env.COMPAT_RESULTS, 'ui-screenshots')
    : mkdtempSync(path.join(os.tmpdir(), 'errand-ui-screenshots-'));
  mkdirSync(shotsDir, { recursive: true });
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 }, timezoneId: 'UTC', locale: 'en-US',
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on('console', (msg) => {
    if (/Content[- ]Security[- ]Policy|Refused to (load|execute|apply|evaluate|connect)/i.test(msg.text())) {
      cspViolations.push(msg.text());
    }
  });
  page.on('pageerror', (err) => pageErrors.push(String(err)));
});

after(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await errand?.cleanup();
});

const withClient = (fn) => clientAt(errand.address, fn);
const withWorker = (opts, fn) => workerAt(errand.address, opts, fn);
const ui = (hash) => errand.uiUrl + hash;
const activityHash = (id) => `#/ns/default/activities/${encodeURIComponent(id)}`;

async function screenshot(name, fullPage = true) {
  const file = path.join(shotsDir, `ui-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  if (process.env.UI_SCREENSHOTS_DIR) {
    mkdirSync(process.env.UI_SCREENSHOTS_DIR, { recursive: true });
    copyFileSync(file, path.join(process.env.UI_SCREENSHOTS_DIR, `ui-${name}.png`));
  }
}

// Waits until the locator's text contains `text` (clicking Refresh between
// looks when the screen has one: visibility may trail the write).
async function waitForText(locator, text, what) {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let last = '';
  for (;;) {
    last = (await locator.count()) ? await locator.first().innerText() : '';
    if (last.includes(text)) return last;
    if (Date.now() > deadline) assert.fail(`${what}: "${text}" not shown; the page shows:\n${last}`);
    await sleep(200);
  }
}
// Waits until the screen for `hash` is the one shown (a new hash is handled
// after the navigation returns; until then the previous screen is there).
async function waitForRoute(hash) {
  await page.waitForFunction((want) => {
    const view = document.querySelector('#main .view');
    const norm = (x) => { try { return decodeURIComponent(x); } catch { return x; } };
    return view !== null && norm(view.dataset.route) === norm(want);
  }, hash);
}
async function go(hash) {
  await page.goto(ui(hash));
  await waitForRoute(hash);
}
const listHash = (query) => '#/ns/default/activities' + (query ? `?q=${encodeURIComponent(query)}` : '');
async function search(query) {
  await page.fill('#query', query);
  await page.click('#query-form button[type=submit]');
  await waitForRoute(listHash(query));
}
// Waits until the list shows every one of `ids` (exact: and nothing else).
async function waitForListed(ids, { exact = false } = {}) {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    const shown = await page.locator('#list a.mono').allInnerTexts();
    if (ids.every((id) => shown.includes(id)) && (!exact || shown.length === ids.length)) return shown;
    if (Date.now() > deadline) assert.fail(`list shows ${JSON.stringify(shown)}, not all of ${JSON.stringify(ids)}`);
    await page.click('#refresh');
    await sleep(300);
  }
}
async function openActivity(id) {
  await go(activityHash(id));
  await page.locator('[data-screen="activity"] .status-line .badge').waitFor();
  assert.equal(await page.locator('#activity-id').innerText(), id);
}
const statusBadge = () => page.locator('[data-screen="activity"] .status-line .badge').innerText();
async function assertNoScriptRan() {
  assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined', 'hostile content was executed');
}

test('web UI: list, filter by a query, a refused query, terminate from the detail screen', { skip }, async () => {
  const taskQueue = unique('ui-tq');
  const typeA = `uiTypeA_${Date.now()}`;
  const typeB = `uiTypeB_${Date.now()}`;
  const idsA = [unique('ui-a1'), unique('ui-a2'), unique('ui-a3')];
  const idB = unique('ui-b');
  await withClient(async (client) => {
    for (const id of idsA) await client.activity.start(typeA, { id, taskQueue, args: [{ order: id }], startToCloseTimeout: '60s' });
    await client.activity.start(typeB, { id: idB, taskQueue, args: ['b'], startToCloseTimeout: '60s' });

    await go(listHash());
    await waitForListed([...idsA, idB]);

    // With auto-refresh on, a new activity shows up without a click.
    await page.check('#auto-refresh');
    const late = unique('ui-late');
    await client.activity.start(typeB, { id: late, taskQueue, args: ['late'], startToCloseTimeout: '60s' });
    await waitForText(page.locator('#list'), late, 'auto-refresh');
    await page.uncheck('#auto-refresh');
    await client.activity.getHandle(late).terminate('cleanup');

    // Filter by type: the three of type A, not the other.
    await search(`ActivityType = '${typeA}'`);
    await waitForListed(idsA, { exact: true });
    assert.ok(decodeURIComponent(await page.evaluate(() => location.hash)).includes(`ActivityType = '${typeA}'`));

    // A refused query: the page shows the server's own message.
    const badQuery = `ActivityType = '${typeA}' AND`;
    const res = await fetch(`${errand.uiUrl}api/v1/namespaces/default/activities?query=${encodeURIComponent(badQuery)}`);
    const body = await res.json();
    assert.equal(res.status, 400);
    assert.equal(body.code, 3);
    await search(badQuery);
    const err = await waitForText(page.locator('#list-error .error'), body.message, 'refused query');
    assert.match(err, /INVALID_ARGUMENT/);

    // Open the first one from the list, terminate it through its button and
    // the confirmation dialog.
    await search(`ActivityType = '${typeA}'`);
    await waitForListed(idsA, { exact: true });
    await page.locator('#list a.mono', { hasText: idsA[0] }).click();
    await page.locator('[data-screen="activity"] .status-line .badge').waitFor();
    assert.equal(await page.locator('#activity-id').innerText(), idsA[0]);
    assert.equal(await statusBadge(), 'Running');
    await waitForText(page.locator('#input'), `"order": "${idsA[0]}"`, 'input payload');
    await page.click('button[data-action="terminate"]');
    await page.locator('#confirm').waitFor({ state: 'visible' });
    await page.fill('#confirm-fields input[name="reason"]', 'terminated from the web UI');
    await page.click('#confirm-yes');
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    await waitForText(page.locator('[data-screen="activity"] .status-line .badge'), 'Terminated', 'status after terminate');
    await waitForText(page.locator('#failure'), 'terminated from the web UI', 'termination reason');
    const desc = await client.activity.getHandle(idsA[0]).describe();
    assert.equal(desc.status, 'TERMINATED');

    // Terminating it again is refused, and the page says why.
    await page.click('button[data-action="terminate"]');
    await page.click('#confirm-yes');
    const refused = await waitForText(page.locator('#action-error .error'), 'Terminate refused:', 'refused terminate');
    assert.ok(refused.length > 'Terminate refused:'.length + 3, `no server message in "${refused}"`);
    assert.equal(await statusBadge(), 'Terminated');

    // Back in the list, its row says Terminated.
    await go(listHash(`ActivityType = '${typeA}'`));
    await waitForListed(idsA, { exact: true });
    const row = page.locator('#list tr', { hasText: idsA[0] });
    await waitForText(row.locator('.badge'), 'Terminated', 'list row status');

    for (const id of [...idsA.slice(1), idB]) await client.activity.getHandle(id).terminate('cleanup');
  });
});

// Runs one of the detail screen's actions through its confirmation dialog.
async function act(action, fields = {}) {
  await page.click(`button[data-action="${action}"]`);
  await page.locator('#confirm').waitFor({ state: 'visible' });
  for (const [name, value] of Object.entries(fields)) {
    const input = page.locator(`#confirm-fields input[name="${name}"]`);
    if (typeof value === 'boolean') await input.setChecked(value);
    else await input.fill(value);
  }
  await page.click('#confirm-yes');
  await page.locator('#confirm').waitFor({ state: 'hidden' });
}

test('web UI: pause, unpause, update options, reset, cancel and delete from the detail screen', { skip }, async () => {
  const taskQueue = unique('ui-ops');
  const id = unique('ui-ops');
  await withClient(async (client) => {
    await client.activity.start('uiOps', { id, taskQueue, args: [1], startToCloseTimeout: '60s' });
    const handle = client.activity.getHandle(id);
    await openActivity(id);
    assert.equal(await statusBadge(), 'Running');

    // Going back from the dialog does nothing.
    await page.click('button[data-action="cancel"]');
    await page.click('#confirm-no');
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    assert.equal((await handle.describe()).status, 'RUNNING');

    await act('pause', { reason: 'paused from the web UI' });
    await waitForText(page.locator('.status-line .badge'), 'Paused', 'status after pause');
    assert.equal((await handle.describe()).status, 'PAUSED');
    await act('unpause', { reason: 'unpaused from the web UI' });
    await waitForText(page.locator('.status-line .badge'), 'Running', 'status after unpause');

    await act('update-options', { startToCloseTimeout: '45s', 'taskQueue.name': `${taskQueue}-moved` });
    await waitForText(page.locator('[data-screen="activity"] .grid'), `${taskQueue}-moved`, 'new task queue');
    assert.match(await page.locator('[data-screen="activity"] .grid').innerText(), /Start-to-close\s+45s/);
    const desc = await handle.describe();
    assert.equal(desc.startToCloseTimeoutMs, 45_000);
    assert.equal(desc.taskQueue, `${taskQueue}-moved`);
    // Nothing changed: the form says so and sends nothing.
    await page.click('button[data-action="update-options"]');
    await page.click('#confirm-yes');
    await waitForText(page.locator('#confirm-error'), 'Nothing was changed', 'empty update');
    await page.click('#confirm-no');

    await act('reset', { resetHeartbeat: true });
    await waitForText(page.locator('.notice'), 'Reset requested', 'reset notice');
    assert.equal(await page.locator('#action-error .error').count(), 0);

    await act('cancel', { reason: 'canceled from the web UI' });
    await waitForText(page.locator('.status-line .badge'), 'Canceled', 'status after cancel');
    assert.equal((await handle.describe()).status, 'CANCELED');
    // Pausing a closed activity is refused with the server's message.
    await act('pause', { reason: 'too late' });
    await waitForText(page.locator('#action-error .error'), 'Pause refused:', 'refused pause');

    if (!oracleMode) { // the oracle has no delete route
      await act('delete');
      await page.locator('[data-screen="activities"]').waitFor();
      await assert.rejects(handle.describe(), /not found/i);
    }
  });
});

test('web UI: a completed activity shows its result, a failed one its message and stack trace', { skip }, async () => {
  const taskQueue = unique('ui-work');
  const okId = unique('ui-ok');
  const failId = unique('ui-fail');
  const activities = {
    async uiEcho(x) { return { echo: x, answer: 42 }; },
    async uiExplode() { throw ApplicationFailure.nonRetryable('the disk is on fire', 'DiskOnFire'); },
  };
  await withClient(async (client) => {
    // The second argument is bytes: a binary/plain payload, shown as base64.
    const ok = await client.activity.start('uiEcho', { id: okId, taskQueue, args: ['hello-ui', new Uint8Array([0, 1, 2, 255])],
      startToCloseTimeout: '30s' });
    const bad = await client.activity.start('uiExplode', { id: failId, taskQueue, startToCloseTimeout: '30s' });
    await withWorker({ taskQueue, activities, identity: 'ui-test-worker' }, async () => {
      assert.deepEqual(await ok.result(), { echo: 'hello-ui', answer: 42 });
      await assert.rejects(bad.result());

      // While the worker polls: its queue's screen lists it as a poller.
      await go(`#/ns/default/task-queues?name=${encodeURIComponent(taskQueue)}`);
      await waitForText(page.locator('.queue'), 'ui-test-worker', 'poller identity');
      await screenshot('task-queues');
    });

    await openActivity(okId);
    await waitForText(page.locator('[data-screen="activity"] .status-line .badge'), 'Completed', 'completed status');
    const result = await waitForText(page.locator('#result'), '"echo": "hello-ui"', 'result payload');
    assert.match(result, /"answer": 42/);
    const input = await waitForText(page.locator('#input'), '"hello-ui"', 'input payload');
    assert.match(input, /BASE64 \(binary\/plain\)\s+AAEC\/w==/i, input);
    const timeline = await page.locator('.timeline').innerText();
    assert.match(timeline, /Scheduled/);
    assert.match(timeline, /started/);
    assert.match(timeline, /Closed: Completed/);

    await openActivity(failId);
    await waitForText(page.locator('[data-screen="activity"] .status-line .badge'), 'Failed', 'failed status');
    assert.equal(await page.locator('#failure .failure-message').first().innerText(), 'the disk is on fire');
    assert.equal(await page.locator('#failure .failure-type').first().innerText(), 'DiskOnFire');
    const stack = await page.locator('#failure .stack').first().innerText();
    assert.match(stack, /uiExplode/, `stack trace: ${stack}`);
    assert.match(stack, /ui\.test\.mjs/, `stack trace: ${stack}`);
    await screenshot('activity');
  });
});

test('web UI: a hostile activity ID, input and failure message are shown as text, never run', { skip }, async () => {
  const taskQueue = unique('ui-xss');
  const hostileId = '<img src=x onerror="window.__xss=1">';
  const hostileMessage = '<script>window.__xss=2</script>';
  const hostileInput = '<img src=y onerror="window.__xss=3"><svg onload="window.__xss=4">';
  const activities = {
    async uiHostile() { throw ApplicationFailure.nonRetryable(hostileMessage, '<b onmouseover="window.__xss=5">T</b>'); },
  };
  await withClient(async (client) => {
    const handle = await client.activity.start('uiHostile', { id: hostileId, taskQueue, args: [hostileInput], startToCloseTimeout: '30s' });
    try {
      await withWorker({ taskQueue, activities }, async () => { await assert.rejects(handle.result()); });

      await go(listHash(`TaskQueue = '${taskQueue}'`));
      await waitForListed([hostileId], { exact: true });
      await assertNoScriptRan();
      assert.equal(await page.locator('#main img, #main script, #main svg[onload]').count(), 0);

      await page.locator('#list a.mono', { hasText: 'onerror' }).click();
      await page.locator('#failure .failure-message').waitFor();
      assert.equal(await page.locator('#activity-id').innerText(), hostileId);
      assert.equal(await page.locator('#failure .failure-message').first().innerText(), hostileMessage);
      await waitForText(page.locator('#input'), JSON.stringify(hostileInput), 'hostile input');
      await page.locator('#failure .failure-type').first().hover();
      await assertNoScriptRan();
      assert.equal(await page.locator('#main img, #main script, #main b').count(), 0);
      assert.equal(await page.evaluate(() => document.scripts.length), 1);
    } finally {
      await client.activity.getHandle(hostileId).terminate('cleanup').catch(() => {});
    }
  });
});

test('web UI: overview, namespaces and a paged list, with no Content-Security-Policy violation', { skip }, async () => {
  const doc = await fetch(errand.uiUrl);
  assert.equal(doc.status, 200);
  assert.match(doc.headers.get('content-security-policy') || '', /default-src 'self'/);
  await go('#/');
  await page.locator('[data-screen="overview"] table').first().waitFor();
  await page.locator('[data-screen="overview"] svg.chart').waitFor();
  const counts = await waitForText(page.locator('[data-screen="overview"] table').first(), 'default', 'namespace row');
  assert.match(counts, /Terminated/);
  assert.match(counts, /Completed/);
  assert.match(counts, /Failed/);
  const legend = await page.locator('.legend').innerText();
  assert.match(legend, /Completed [1-9]/, legend);
  assert.match(legend, /Failed or timed out [1-9]/, legend);
  await screenshot('overview');

  await go(listHash("ExecutionStatus != 'Running'"));
  await page.locator('#list table').waitFor();
  await screenshot('activities');

  await go('#/ns/default/activities?size=1000');
  await page.locator('#list table').waitFor();
  const all = await page.locator('#list a.mono').allInnerTexts();
  assert.ok(all.length >= 7, `listed ${all.length}`);

  // Pages of 3 by nextPageToken: forward to the end, then back to the start.
  await go('#/ns/default/activities?size=3');
  const pages = [];
  for (;;) {
    await page.locator('#list table').waitFor();
    await waitForText(page.locator('.pager'), `Page ${pages.length + 1}`, 'page number');
    pages.push(await page.locator('#list a.mono').allInnerTexts());
    if (await page.locator('#next-page').isDisabled()) break;
    assert.ok(pages.length <= all.length, 'too many pages');
    await page.click('#next-page');
  }
  assert.ok(pages.length >= 3, `${pages.length} pages`);
  assert.ok(pages.slice(0, -1).every((p) => p.length === 3), JSON.stringify(pages));
  assert.deepEqual(pages.flat(), all);
  await page.click('#prev-page');
  await waitForText(page.locator('.pager'), `Page ${pages.length - 1}`, 'previous page');
  assert.deepEqual(await page.locator('#list a.mono').allInnerTexts(), pages[pages.length - 2]);

  await go('#/namespaces');
  await waitForText(page.locator('[data-screen="namespaces"] table').first(), 'default', 'namespace list');
  await waitForText(page.locator('[data-screen="namespaces"] section').nth(1), 'ExecutionStatus', 'search attributes');
  await screenshot('namespaces');

  assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
  assert.deepEqual(cspViolations, [], 'Content-Security-Policy violations');
});

test('web UI: a server with API keys answers 401; the UI asks for a key and sends it as a bearer token', { skip: oracleMode ? 'needs its own errand with principals' : skip }, async () => {
  const key = `ui-key-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'errand-ui-auth-'));
  const config = path.join(dir, 'errand.yaml');
  const sha = createHash('sha256').update(key).digest('hex');
  writeFileSync(config, `auth:\n  principals:\n    - name: ui-operator\n      api_key_sha256: ${sha}\n      roles: {"*": admin}\n`);
  const secured = await Errand.start({ extraArgs: ['--config', config] });
  const authPage = await context.newPage();
  authPage.setDefaultTimeout(UI_TIMEOUT_MS);
  const sent = [];
  authPage.on('request', (req) => { if (req.url().includes('/api/v1/')) sent.push(req.headers().authorization || ''); });
  try {
    const unauth = await fetch(`${secured.uiUrl}api/v1/namespaces`);
    assert.equal(unauth.status, 401);
    await authPage.goto(secured.uiUrl + '#/namespaces');
    await authPage.locator('#auth').waitFor({ state: 'visible' });
    assert.match(await authPage.locator('#auth-text').innerText(), /401/);
    // A wrong key: asked again, and told that key was refused.
    await authPage.fill('#auth-key', 'not-the-key');
    await authPage.click('#auth-form button[type=submit]');
    await authPage.locator('#auth').waitFor({ state: 'visible' });
    const deadline = Date.now() + UI_TIMEOUT_MS;
    while (!/refused this API key/.test(await authPage.locator('#auth-text').innerText())) {
      assert.ok(Date.now() < deadline, 'the UI never said the key was refused');
      await sleep(100);
    }
    await authPage.fill('#auth-key', key);
    await authPage.click('#auth-form button[type=submit]');
    await authPage.locator('#auth').waitFor({ state: 'hidden' });
    const list = authPage.locator('[data-screen="namespaces"] table').first();
    await list.waitFor();
    assert.match(await list.innerText(), /default/);
    assert.ok(sent.includes(`Bearer ${key}`), `requests carried ${JSON.stringify(sent)}`);
    assert.ok(sent.includes('Bearer not-the-key'));
    assert.ok(sent.includes(''), 'the first request went without a key');
  } finally {
    await authPage.close();
    await secured.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
