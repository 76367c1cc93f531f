// Errand's web UI: a small single-page app over Temporal's HTTP API
// (/api/v1/...) and two Errand extensions (/errand/v1/...). No framework and
// no build step. Everything that comes from the server (IDs, messages,
// payloads, stack traces) reaches the page only as text nodes (h() below
// never parses HTML), and every URL segment is built with encodeURIComponent.
// The files are ASCII (other characters as \u escapes): the build embeds them
// as C++ char arrays, where a byte above 0x7f would be a narrowing error.

const KEY_STORE = 'errand.apiKey';
const NS_STORE = 'errand.namespace';
const REFRESH_STORE = 'errand.autoRefresh';
const REFRESH_MS = 5000;
const PAGE_SIZE = 20;
const IDENTITY = 'errand-web-ui';
const SVG_NS = 'http://www.w3.org/2000/svg';

const enc = encodeURIComponent;
const $ = (sel, root = document) => root.querySelector(sel);

// Builds an element. attrs: class, text, on<event> handlers, DOM properties
// (value, checked, disabled, hidden, type...) and other attributes; children
// are nodes or strings (added as text), null/false are skipped.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}
function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// ---------------------------------------------------------------- API calls

const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND',
  'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED',
  'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, params, body) {
  let url = path;
  if (params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    if (s) url += '?' + s;
  }
  const headers = { Accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.Authorization = 'Bearer ' + key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 14, 'The server could not be reached: ' + e.message);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : {}; } catch { /* not JSON: reported below */ }
  if (res.status === 401) askForKey();
  if (!res.ok) {
    const msg = (json && typeof json.message === 'string' && json.message) || text.trim() || res.statusText;
    throw new ApiError(res.status, json && json.code, msg || 'HTTP ' + res.status);
  }
  if (json === null || typeof json !== 'object') throw new ApiError(res.status, 13, 'The response is not JSON');
  return json;
}
const get = (path, params) => api('GET', path, params);
const post = (path, body) => api('POST', path, undefined, body);
const nsPath = (ns, ...segs) => '/api/v1/namespaces/' + [ns, ...segs].map(enc).join('/');

function requestId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function errorBox(err, prefix) {
  const code = typeof err.code === 'number' ? GRPC_CODES[err.code] : null;
  return h('div', { class: 'error', role: 'alert' },
    prefix ? prefix + ' ' : null,
    code ? h('span', { class: 'code' }, code) : null,
    h('span', { class: 'msg' }, err.message || String(err)));
}

// ------------------------------------------------------------------ auth

function askForKey() {
  const dlg = $('#auth');
  if (dlg.open) return;
  $('#auth-text').textContent = sessionStorage.getItem(KEY_STORE)
    ? 'The server refused this API key (401). Enter another one.'
    : 'The server asks for credentials (401). Enter an API key; it is kept for this browser tab only.';
  $('#auth-key').value = '';
  dlg.showModal();
}
function setupAuth() {
  $('#auth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $('#auth-key').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORE, key);
    $('#auth').close();
    route();
  });
}

// ------------------------------------------------------------- formatting

const STATUS_LABEL = {
  running: 'Running', completed: 'Completed', failed: 'Failed', canceled: 'Canceled',
  terminated: 'Terminated', timedout: 'Timed out', paused: 'Paused', unspecified: 'Unspecified',
};
const STATUS_ORDER = ['running', 'paused', 'completed', 'failed', 'timedout', 'canceled', 'terminated'];
// ACTIVITY_EXECUTION_STATUS_TIMED_OUT, TimedOut and timed_out all become "timedout".
const statusKey = (s) => String(s || 'unspecified').replace(/^ACTIVITY_EXECUTION_STATUS_/, '').replace(/_/g, '').toLowerCase();
function badge(status) {
  const k = statusKey(status);
  return h('span', { class: 'badge s-' + k.replace(/[^a-z]/g, '') }, STATUS_LABEL[k] || String(status));
}

function isZeroTime(ts) { return !ts || ts.startsWith('0001-01-01'); }
function fmtTime(ts) {
  if (isZeroTime(ts)) return '\u2014';
  const d = new Date(ts);
  if (isNaN(d)) return String(ts);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
function ago(ts) {
  if (isZeroTime(ts)) return '';
  const s = (Date.now() - new Date(ts).getTime()) / 1000;
  if (!isFinite(s)) return '';
  return s < 0 ? 'in ' + fmtSeconds(-s) : fmtSeconds(s) + ' ago';
}
function seconds(dur) {
  if (dur === undefined || dur === null) return null;
  const m = /^(-?[\d.]+)s$/.exec(String(dur));
  return m ? Number(m[1]) : null;
}
function fmtSeconds(s) {
  if (s === null || s === undefined || !isFinite(s)) return '\u2014';
  if (s === 0) return '0s';
  if (s < 1) return Math.round(s * 1000) + 'ms';
  if (s < 60) return (Math.round(s * 10) / 10) + 's';
  const parts = [];
  let r = Math.round(s);
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (r >= n) { parts.push(Math.floor(r / n) + u); r %= n; }
  }
  return parts.slice(0, 2).join(' ');
}
function fmtDur(dur, zero = '\u2014') {
  const s = seconds(dur);
  if (s === null) return dur ? String(dur) : zero;
  return s === 0 ? zero : fmtSeconds(s);
}

// Payloads: the HTTP API gives JSON payloads as plain values (shorthand) and
// other payloads as {metadata, data} with base64 fields; a list comes as an
// array, or as {payloads: [...]} when it mixes both kinds.
function payloadList(v) {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && Array.isArray(v.payloads) && Object.keys(v).length === 1) return v.payloads;
  return [v];
}
function isRawPayload(p) {
  return p && typeof p === 'object' && !Array.isArray(p) && p.metadata && typeof p.metadata === 'object' &&
    Object.keys(p).every((k) => k === 'metadata' || k === 'data') &&
    (p.data === undefined || typeof p.data === 'string');
}
function b64Text(s) {
  const bin = atob(s);
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}
function decodePayload(p) {
  if (!isRawPayload(p)) return { kind: 'json', text: JSON.stringify(p, null, 2) };
  let encoding = '';
  try { encoding = p.metadata.encoding ? b64Text(p.metadata.encoding) : ''; } catch { encoding = '?'; }
  const data = p.data || '';
  try {
    if (encoding === 'binary/null') return { kind: 'null', text: 'null' };
    if (encoding.startsWith('json/')) return { kind: 'json', text: JSON.stringify(JSON.parse(b64Text(data)), null, 2) };
    if (encoding === 'binary/plain' || encoding.startsWith('text/')) {
      const t = b64Text(data);
      if (!/[\x00-\x08\x0e-\x1f]/.test(t)) return { kind: 'text', text: t };
    }
  } catch { /* not decodable: shown as base64 */ }
  return { kind: 'base64' + (encoding ? ' (' + encoding + ')' : ''), text: data };
}
function payloadsView(v, empty = 'none') {
  const list = payloadList(v);
  if (!list.length) return h('p', { class: 'muted' }, empty);
  return h('div', { class: 'payloads' }, list.map((p) => {
    const d = decodePayload(p);
    return h('div', { class: 'payload' }, h('span', { class: 'kind' }, d.kind), h('pre', {}, d.text));
  }));
}

function failureKind(f) {
  if (f.applicationFailureInfo) return f.applicationFailureInfo.type || 'ApplicationFailure';
  if (f.timeoutFailureInfo) return 'Timeout ' + String(f.timeoutFailureInfo.timeoutType || '').replace(/^TIMEOUT_TYPE_/, '');
  const k = Object.keys(f).find((x) => x.endsWith('FailureInfo'));
  return k ? k.replace(/FailureInfo$/, '').replace(/^./, (c) => c.toUpperCase()) : 'Failure';
}
// The failure and its cause chain, each with message, type and stack trace.
function failureView(f) {
  const box = h('div', { class: 'failure' });
  for (let cur = f, depth = 0; cur && depth < 32; cur = cur.cause, depth++) {
    const app = cur.applicationFailureInfo || {};
    box.append(h('div', { class: 'failure-item' },
      h('div', { class: 'failure-head' }, depth ? h('span', { class: 'muted' }, 'Caused by ') : null,
        h('strong', { class: 'failure-type' }, failureKind(cur)), ': ',
        h('span', { class: 'failure-message' }, cur.message || '')),
      cur.source ? h('div', { class: 'muted' }, 'Source: ', cur.source) : null,
      app.nonRetryable ? h('div', { class: 'muted' }, 'Non-retryable') : null,
      cur.stackTrace ? h('pre', { class: 'stack' }, cur.stackTrace) : null,
      app.details ? h('div', {}, h('div', { class: 'muted' }, 'Details'), payloadsView(app.details)) : null,
      cur.timeoutFailureInfo?.lastHeartbeatDetails
        ? h('div', {}, h('div', { class: 'muted' }, 'Last heartbeat details'), payloadsView(cur.timeoutFailureInfo.lastHeartbeatDetails)) : null));
  }
  return box;
}

function dl(rows) {
  return h('dl', {}, rows.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === undefined || v === '' ? '\u2014' : v)]));
}
function table(headers, rows, empty = 'Nothing to show.') {
  if (!rows.length) return h('p', { class: 'muted empty' }, empty);
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}
function section(title, ...body) { return h('section', { class: 'card' }, h('h2', {}, title), body); }

// ------------------------------------------------------------------ state

const state = { ns: sessionStorage.getItem(NS_STORE) || 'default', timer: null, view: null };
const hrefNs = (ns, tail = '') => '#/ns/' + enc(ns) + tail;
const hrefActivity = (ns, id, runId) => hrefNs(ns, '/activities/' + enc(id) + (runId ? '?run=' + enc(runId) : ''));

function setNs(ns) {
  state.ns = ns;
  sessionStorage.setItem(NS_STORE, ns);
  const sel = $('#ns');
  if (![...sel.options].some((o) => o.value === ns)) sel.append(h('option', { value: ns }, ns));
  sel.value = ns;
  for (const a of document.querySelectorAll('nav a[data-nav]')) {
    const n = a.dataset.nav;
    a.href = n === 'namespaces' ? '#/namespaces' : n === 'overview' ? hrefNs(ns) : hrefNs(ns, '/' + n);
  }
}
async function loadNamespaces() {
  const r = await get('/api/v1/namespaces', { pageSize: 100 });
  return (r.namespaces || []).map((n) => n.namespaceInfo?.name).filter(Boolean);
}
async function fillNamespaceSelect() {
  try {
    const names = await loadNamespaces();
    const sel = $('#ns');
    fill(sel, ...names.map((n) => h('option', { value: n }, n)));
    setNs(names.includes(state.ns) || !names.length ? state.ns : names[0]);
  } catch { /* the screens show the error */ }
}

// ------------------------------------------------------------------ router

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const segs = path.split('/').filter(Boolean).map((s) => { try { return decodeURIComponent(s); } catch { return s; } });
  return { segs, params };
}

function newView(name, title) {
  clearInterval(state.timer);
  state.timer = null;
  const view = h('div', { class: 'view', 'data-screen': name, 'data-route': location.hash });
  state.view = view;
  $('#main').replaceChildren(view);
  document.title = title + ' \u00b7 Errand';
  for (const a of document.querySelectorAll('nav a[data-nav]')) a.classList.toggle('active', a.dataset.nav === name);
  return view;
}
const live = (view) => state.view === view;

function route() {
  const { segs, params } = parseHash();
  if (segs[0] === 'ns' && segs[1]) setNs(segs[1]);
  const ns = state.ns;
  if (segs.length === 0 || (segs[0] === 'ns' && segs.length === 2)) return overview(ns);
  if (segs[0] === 'namespaces' && segs.length === 1) return namespaces();
  if ((segs[0] === 'activities' || segs[0] === 'task-queues') && segs.length === 1) {
    location.replace(hrefNs(ns, '/' + segs[0]));
    return undefined;
  }
  if (segs[0] === 'ns' && segs[2] === 'activities' && segs.length === 3) return activities(ns, params);
  if (segs[0] === 'ns' && segs[2] === 'activities' && segs.length === 4) return activity(ns, segs[3], params.get('run') || '');
  if (segs[0] === 'ns' && segs[2] === 'task-queues' && segs.length === 3) return taskQueues(ns, params);
  const view = newView('notfound', 'Not found');
  append(view, h('h1', {}, 'Not found'), h('p', {}, 'No screen at ', h('code', {}, location.hash), '. ', h('a', { href: '#/' }, 'Overview')));
  return undefined;
}

// ---------------------------------------------------------------- overview

async function countByStatus(ns, query) {
  const r = await get(nsPath(ns, 'activity-count'), { query: (query ? query + ' ' : '') + 'GROUP BY ExecutionStatus' });
  const counts = {};
  for (const g of r.groups || []) {
    const v = payloadList(g.groupValues)[0];
    let name = v;
    if (isRawPayload(v)) { try { name = JSON.parse(decodePayload(v).text); } catch { name = '?'; } }
    counts[statusKey(name)] = (counts[statusKey(name)] || 0) + Number(g.count || 0);
  }
  return { total: Number(r.count || 0), counts };
}
function countBadges(counts, ns) {
  const keys = STATUS_ORDER.filter((k) => counts[k]).concat(Object.keys(counts).filter((k) => !STATUS_ORDER.includes(k)));
  if (!keys.length) return h('span', { class: 'muted' }, 'no activities');
  return keys.map((k) => h('a', { class: 'count', href: hrefNs(ns, '/activities?q=' + enc(`ExecutionStatus = '${k === 'timedout' ? 'TimedOut' : STATUS_LABEL[k] || k}'`)) },
    badge(k), ' ', String(counts[k])));
}

const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

async function overview(ns) {
  const view = newView('overview', 'Overview');
  const statusBox = h('div', {}, h('p', { class: 'muted' }, 'Loading\u2026'));
  const chartBox = h('div', {}, h('p', { class: 'muted' }, 'Loading\u2026'));
  const queueBox = h('div', {}, h('p', { class: 'muted' }, 'Loading\u2026'));
  append(view, h('div', { class: 'titlebar' }, h('h1', {}, 'Overview'),
    h('button', { type: 'button', onclick: () => overview(state.ns) }, 'Refresh')),
  section('Activities by status', statusBox),
  section('Last hour in ' + ns + ': throughput and failure rate', chartBox),
  section('Task queue backlog in ' + ns, queueBox));

  (async () => {
    try {
      let names = await loadNamespaces();
      if (!names.length) names = [ns];
      const rows = await Promise.all(names.map(async (n) => {
        try {
          const c = await countByStatus(n);
          return [h('a', { href: hrefNs(n, '/activities') }, n), h('span', { class: 'counts' }, countBadges(c.counts, n)), String(c.total)];
        } catch (e) { return [n, errorBox(e), '\u2014']; }
      }));
      if (live(view)) fill(statusBox, table(['Namespace', 'By status', 'Total'], rows));
    } catch (e) { if (live(view)) fill(statusBox, errorBox(e)); }
  })();

  (async () => {
    const BUCKET = 5 * 60 * 1000;
    const end = Math.ceil(Date.now() / BUCKET) * BUCKET;
    const starts = Array.from({ length: 12 }, (_, i) => end - (12 - i) * BUCKET);
    try {
      const buckets = await Promise.all(starts.map(async (s) => {
        const c = await countByStatus(ns, `CloseTime >= '${rfc3339(s)}' AND CloseTime < '${rfc3339(s + BUCKET)}'`);
        const ok = c.counts.completed || 0;
        const bad = (c.counts.failed || 0) + (c.counts.timedout || 0);
        return { start: s, ok, bad, other: Math.max(0, c.total - ok - bad) };
      }));
      if (live(view)) fill(chartBox, chart(buckets, BUCKET));
    } catch (e) { if (live(view)) fill(chartBox, errorBox(e)); }
  })();

  (async () => {
    try {
      const { queues, derived } = await listQueues(ns);
      if (live(view)) fill(queueBox, ...queueTable(ns, queues, derived));
    } catch (e) { if (live(view)) fill(queueBox, errorBox(e)); }
  })();
}

// Stacked bars (completed, failed or timed out, other closes) per bucket and
// a failure-rate line on a 0-100 % scale.
function chart(buckets, bucketMs) {
  const W = 640, H = 200, L = 40, R = 44, T = 10, B = 28;
  const max = Math.max(1, ...buckets.map((b) => b.ok + b.bad + b.other));
  const bw = (W - L - R) / buckets.length;
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'Closed activities per 5 minutes' });
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(max * frac);
    g.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)),
      svg('text', { x: W - R + 6, y: T + (H - T - B) * (1 - frac) + 4, class: 'axis rate' }, Math.round(frac * 100) + '%'));
  }
  const pts = [];
  buckets.forEach((b, i) => {
    const x = L + i * bw + 3, w = bw - 6;
    let top = y(0);
    for (const [v, cls] of [[b.ok, 'bar-ok'], [b.bad, 'bar-bad'], [b.other, 'bar-other']]) {
      if (!v) continue;
      const px = y(0) - y(v);
      g.append(svg('rect', { x, y: top - px, width: w, height: px, class: cls }));
      top -= px;
    }
    const closed = b.ok + b.bad + b.other;
    const t = new Date(b.start);
    const label = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
    g.append(svg('rect', { x: L + i * bw, y: T, width: bw, height: H - T - B, class: 'hit' },
      svg('title', {}, `${label}: ${b.ok} completed, ${b.bad} failed or timed out, ${b.other} other`)));
    if (i % 3 === 0) g.append(svg('text', { x: L + i * bw, y: H - 8, class: 'axis' }, label));
    if (closed) pts.push(`${x + w / 2},${T + (H - T - B) * (1 - (b.bad + b.other) / closed)}`);
  });
  if (pts.length > 1) g.append(svg('polyline', { points: pts.join(' '), class: 'rate-line' }));
  for (const p of pts) { const [cx, cy] = p.split(','); g.append(svg('circle', { cx, cy, r: 2.5, class: 'rate-dot' })); }
  const ok = buckets.reduce((a, b) => a + b.ok, 0);
  const bad = buckets.reduce((a, b) => a + b.bad, 0);
  const other = buckets.reduce((a, b) => a + b.other, 0);
  const all = ok + bad + other;
  return h('div', {}, g,
    h('p', { class: 'legend' }, h('span', { class: 'key k-ok' }), `Completed ${ok}`, h('span', { class: 'key k-bad' }), `Failed or timed out ${bad}`,
      h('span', { class: 'key k-other' }), `Canceled or terminated ${other}`, h('span', { class: 'key k-rate' }),
      `Failure rate ${all ? Math.round(((bad + other) / all) * 1000) / 10 : 0}% \u00b7 ${(all / 60).toFixed(2)} closed/min`));
}

// Queues holding tasks or polls, from Errand's listing; a server without it
// (Temporal) gives 404, and then the queues of running activities are shown
// with their backlog from DescribeTaskQueue.
async function listQueues(ns) {
  try {
    const r = await get('/errand/v1/namespaces/' + enc(ns) + '/task-queues');
    return { queues: r.taskQueues || [], derived: false };
  } catch (e) {
    if (e.status !== 404 && e.status !== 501) throw e;
  }
  const r = await get(nsPath(ns, 'activities'), { query: "ExecutionStatus = 'Running'", pageSize: 200 });
  const names = [...new Set((r.executions || []).map((x) => x.taskQueue).filter(Boolean))].sort();
  const queues = await Promise.all(names.map(async (name) => {
    try {
      const d = await describeQueue(ns, name);
      return { name, backlogCount: Number(d.stats?.approximateBacklogCount || 0), backlogAgeSeconds: seconds(d.stats?.approximateBacklogAge) ?? 0, waitingPolls: undefined };
    } catch { return { name }; }
  }));
  return { queues, derived: true };
}
function queueTable(ns, queues, derived) {
  return [table(['Task queue', 'Backlog', 'Oldest task age', 'Waiting polls'], queues.map((q) => [
    h('a', { href: hrefNs(ns, '/task-queues?name=' + enc(q.name)) }, q.name), String(q.backlogCount ?? '\u2014'),
    q.backlogAgeSeconds === undefined ? '\u2014' : fmtSeconds(Number(q.backlogAgeSeconds)), String(q.waitingPolls ?? '\u2014')]),
  'No task queue holds tasks or polls.'),
  derived ? h('p', { class: 'muted' }, 'Queues of running activities (the server has no task queue listing).') : ''];
}
const describeQueue = (ns, name) => get(nsPath(ns, 'task-queues', name), {
  'taskQueue.kind': 'TASK_QUEUE_KIND_NORMAL', taskQueueType: 'TASK_QUEUE_TYPE_ACTIVITY', reportStats: 'true', reportPollers: 'true',
});

// -------------------------------------------------------------- activities

async function activities(ns, params) {
  const query = params.get('q') || '';
  const pageSize = Math.min(1000, Math.max(1, Number(params.get('size')) || PAGE_SIZE));
  const view = newView('activities', 'Activities');
  const tokens = ['']; // page tokens of the pages seen; the last is the current page's
  let next = '';
  const input = h('input', { type: 'search', id: 'query', name: 'q', value: query, spellcheck: 'false', autocomplete: 'off',
    placeholder: "ActivityType = 'send-email' AND ExecutionStatus = 'Running'", 'aria-label': 'List Filter' });
  const errBox = h('div', { id: 'list-error' });
  const tableBox = h('div', { id: 'list' }, h('p', { class: 'muted' }, 'Loading\u2026'));
  const pageInfo = h('span', { class: 'muted' });
  const prevBtn = h('button', { type: 'button', id: 'prev-page', disabled: true, onclick: () => { tokens.pop(); load(); } }, '\u2190 Previous');
  const nextBtn = h('button', { type: 'button', id: 'next-page', disabled: true, onclick: () => { tokens.push(next); load(); } }, 'Next \u2192');
  const auto = h('input', { type: 'checkbox', id: 'auto-refresh', checked: sessionStorage.getItem(REFRESH_STORE) === '1' });
  const updated = h('span', { class: 'muted', id: 'updated' });

  async function load() {
    try {
      const r = await get(nsPath(ns, 'activities'), { query, pageSize, nextPageToken: tokens[tokens.length - 1] });
      if (!live(view)) return;
      fill(errBox, );
      next = r.nextPageToken || '';
      const rows = (r.executions || []).map((x) => [
        badge(x.status), h('a', { href: hrefActivity(ns, x.activityId, x.runId), class: 'mono' }, x.activityId),
        x.activityType?.name || '\u2014', x.taskQueue || '\u2014', fmtTime(x.scheduleTime), fmtTime(x.closeTime), fmtDur(x.executionDuration)]);
      fill(tableBox, table(['Status', 'Activity ID', 'Type', 'Task queue', 'Scheduled', 'Closed', 'Duration'], rows,
        query ? 'No activity matches this query.' : 'No activities in this namespace.'));
      prevBtn.disabled = tokens.length < 2;
      nextBtn.disabled = !next;
      pageInfo.textContent = `Page ${tokens.length}`;
      updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      if (!live(view)) return;
      fill(errBox, errorBox(e, e.code === 3 ? 'The server refused the query:' : null));
      if (e.code === 3) fill(tableBox, );
    }
  }
  function setAuto() {
    sessionStorage.setItem(REFRESH_STORE, auto.checked ? '1' : '0');
    clearInterval(state.timer);
    state.timer = auto.checked ? setInterval(() => { if (live(view)) load(); }, REFRESH_MS) : null;
  }
  auto.addEventListener('change', setAuto);

  append(view, h('div', { class: 'titlebar' }, h('h1', {}, 'Activities'), h('span', { class: 'muted' }, 'in ' + ns)),
    h('form', { class: 'querybar', id: 'query-form', onsubmit: (ev) => {
      ev.preventDefault();
      const target = hrefNs(ns, '/activities' + (input.value.trim() ? '?q=' + enc(input.value.trim()) : ''));
      if (location.hash === target) route(); else location.hash = target;
    } }, input, h('button', { type: 'submit' }, 'Search'),
    h('button', { type: 'button', onclick: () => { location.hash = hrefNs(ns, '/activities'); } }, 'Clear')),
    h('details', { class: 'help' }, h('summary', {}, 'List Filter syntax'),
      h('p', {}, 'Fields: ActivityId, ActivityType, ExecutionStatus (Running, Completed, Failed, Canceled, Terminated, TimedOut), TaskQueue, StartTime, CloseTime, ExecutionDuration and custom search attributes. Operators: =, !=, >, >=, <, <=, IN (...), BETWEEN ... AND ..., STARTS_WITH, IS NULL, AND, OR, parentheses, ORDER BY.'),
      h('p', { class: 'mono' }, "ExecutionStatus = 'Failed' AND CloseTime > '2026-01-01T00:00:00Z'")),
    errBox,
    h('div', { class: 'toolbar' }, h('label', {}, auto, ` Auto-refresh (${REFRESH_MS / 1000} s)`),
      h('button', { type: 'button', id: 'refresh', onclick: load }, 'Refresh'), updated),
    tableBox,
    h('div', { class: 'pager' }, prevBtn, pageInfo, nextBtn));
  setAuto();
  await load();
}

// ---------------------------------------------------------- activity detail

async function activity(ns, id, runId, notice) {
  const view = newView('activity', 'Activity ' + id);
  const actionErr = h('div', { id: 'action-error' });
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading\u2026'));
  append(view, h('p', { class: 'crumbs' }, h('a', { href: hrefNs(ns, '/activities') }, '\u2190 Activities in ' + ns)),
    h('div', { class: 'titlebar' }, h('h1', {}, 'Activity ', h('span', { class: 'mono', id: 'activity-id' }, id))),
    notice ? h('div', { class: 'notice', role: 'status' }, notice) : null, actionErr, body);
  let r;
  try {
    r = await get(nsPath(ns, 'activities', id), { runId, includeInput: 'true', includeOutcome: 'true' });
  } catch (e) {
    if (live(view)) fill(body, errorBox(e));
    return;
  }
  if (!live(view)) return;
  const info = r.info || {};
  const run = info.runId || r.runId || runId;
  const reload = (msg) => activity(ns, id, runId, msg);
  const act = (label, cls, opts) => h('button', { type: 'button', class: cls, 'data-action': opts.action, onclick: () => confirmAction({ ...opts, onError: (e) => fill(actionErr, errorBox(e, label + ' refused:')), onDone: opts.onDone || (() => reload(label + ' requested.')) }) }, label);
  const base = { runId: run, identity: IDENTITY };
  const actions = h('div', { class: 'actions-bar' },
    act('Cancel', '', { action: 'cancel', title: 'Request cancellation?', text: 'The worker learns of it at its next heartbeat.', fields: [{ name: 'reason', label: 'Reason' }],
      run: (v) => post(nsPath(ns, 'activities', id, 'cancel'), { ...base, requestId: requestId(), reason: v.reason }) }),
    act('Terminate', 'danger', { action: 'terminate', title: 'Terminate this activity?', text: 'It closes at once as Terminated; a running worker is not told.', fields: [{ name: 'reason', label: 'Reason' }],
      run: (v) => post(nsPath(ns, 'activities', id, 'terminate'), { ...base, requestId: requestId(), reason: v.reason }) }),
    act('Pause', '', { action: 'pause', title: 'Pause this activity?', text: 'No new attempt is dispatched until it is unpaused.', fields: [{ name: 'reason', label: 'Reason' }],
      run: (v) => post(nsPath(ns, 'activities', id, 'pause'), { ...base, requestId: requestId(), reason: v.reason }) }),
    act('Unpause', '', { action: 'unpause', title: 'Unpause this activity?', text: 'Its next attempt is dispatched again.', fields: [{ name: 'reason', label: 'Reason' }],
      run: (v) => post(nsPath(ns, 'activities', id, 'unpause'), { ...base, requestId: requestId(), reason: v.reason }) }),
    act('Reset', '', { action: 'reset', title: 'Reset this activity?', text: 'The attempt count starts again at 1.', fields: [{ name: 'resetHeartbeat', label: 'Reset heartbeat details', type: 'checkbox' },
      { name: 'keepPaused', label: 'Keep paused', type: 'checkbox' }, { name: 'restoreOriginalOptions', label: 'Restore the original options', type: 'checkbox' }],
      run: (v) => post(nsPath(ns, 'activities', id, 'reset'), { ...base, requestId: requestId(), ...v }) }),
    act('Update options', '', { action: 'update-options', title: 'Update options', text: 'Only the fields you change are sent. Durations as 30s, 5m or 1h.', confirmLabel: 'Update',
      fields: [['taskQueue.name', 'Task queue', info.taskQueue], ['startToCloseTimeout', 'Start-to-close timeout', info.startToCloseTimeout],
        ['scheduleToCloseTimeout', 'Schedule-to-close timeout', info.scheduleToCloseTimeout], ['scheduleToStartTimeout', 'Schedule-to-start timeout', info.scheduleToStartTimeout],
        ['heartbeatTimeout', 'Heartbeat timeout', info.heartbeatTimeout]].map(([name, label, value]) => ({ name, label, value: value || '' })),
      run: (v, initial) => {
        const options = {}, mask = [];
        for (const [k, val] of Object.entries(v)) {
          if (val === initial[k]) continue;
          mask.push(k);
          if (k === 'taskQueue.name') options.taskQueue = { name: val };
          else options[k] = toDuration(val);
        }
        if (!mask.length) throw new Error('Nothing was changed.');
        return post(nsPath(ns, 'activities', id, 'update-options'), { ...base, requestId: requestId(), activityOptions: options, updateMask: mask.join(',') });
      } }),
    act('Delete', 'danger', { action: 'delete', title: 'Delete this activity?', text: 'It disappears from describe and list; this cannot be undone.', confirmLabel: 'Delete',
      run: () => api('DELETE', '/errand/v1/namespaces/' + enc(ns) + '/activities/' + enc(id), { runId: run }),
      onDone: () => { location.hash = hrefNs(ns, '/activities'); } }),
    h('button', { type: 'button', id: 'refresh', onclick: () => reload() }, 'Refresh'));

  const out = r.outcome || {};
  const hb = info.heartbeatDetails;
  const rp = info.retryPolicy || {};
  fill(body, 
    h('div', { class: 'status-line' }, badge(info.status), info.runState ? h('span', { class: 'muted' }, String(info.runState).replace(/^PENDING_ACTIVITY_STATE_/, '').toLowerCase()) : null,
      h('span', { class: 'muted' }, 'Run ', h('span', { class: 'mono', id: 'run-id' }, run || '\u2014'))),
    actions,
    h('div', { class: 'grid' },
      section('Summary', dl([['Type', info.activityType?.name], ['Task queue', info.taskQueue ? h('a', { href: hrefNs(ns, '/task-queues?name=' + enc(info.taskQueue)) }, info.taskQueue) : undefined],
        ['Attempt', String(info.attempt ?? '\u2014')], ['Scheduled', fmtTime(info.scheduleTime)], ['Last started', fmtTime(info.lastStartedTime)],
        ['Closed', fmtTime(info.closeTime)], ['Duration', fmtDur(info.executionDuration)], ['Last worker', info.lastWorkerIdentity],
        info.canceledReason ? ['Cancel reason', info.canceledReason] : null,
        info.priority?.priorityKey ? ['Priority', String(info.priority.priorityKey)] : null])),
      section('Timeouts and retry policy', dl([['Schedule-to-close', fmtDur(info.scheduleToCloseTimeout, 'none')], ['Schedule-to-start', fmtDur(info.scheduleToStartTimeout, 'none')],
        ['Start-to-close', fmtDur(info.startToCloseTimeout, 'none')], ['Heartbeat', fmtDur(info.heartbeatTimeout, 'none')],
        ['Initial interval', fmtDur(rp.initialInterval)], ['Backoff coefficient', rp.backoffCoefficient === undefined ? undefined : String(rp.backoffCoefficient)],
        ['Maximum interval', fmtDur(rp.maximumInterval)], ['Maximum attempts', rp.maximumAttempts ? String(rp.maximumAttempts) : 'unlimited'],
        ['Non-retryable errors', (rp.nonRetryableErrorTypes || []).join(', ') || 'none']])),
      section('Timeline', timeline(info)),
      section('Heartbeat', dl([['Last heartbeat', isZeroTime(info.lastHeartbeatTime) ? '\u2014' : `${fmtTime(info.lastHeartbeatTime)} (${ago(info.lastHeartbeatTime)})`]]),
        payloadsView(hb, 'No heartbeat details.'))),
    section('Input', h('div', { id: 'input' }, payloadsView(r.input, 'No input.'))),
    out.result !== undefined ? section('Result', h('div', { id: 'result' }, payloadsView(out.result, 'No result (null).'))) : null,
    out.failure ? section('Failure', h('div', { id: 'failure' }, failureView(out.failure))) : null,
    info.lastFailure && !out.failure ? section('Last attempt failure', h('div', { id: 'last-failure' }, failureView(info.lastFailure))) : null);
}

// "30" -> "30s"; "5m" -> "300s"; "1h" -> "3600s"; "1.5s" stays.
function toDuration(v) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) throw new Error(`"${v}" is not a duration (e.g. 30s, 5m, 1h).`);
  const n = Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] || 's'];
  return `${n}s`;
}

function timeline(info) {
  const ev = [];
  const add = (ts, what) => { if (!isZeroTime(ts)) ev.push([new Date(ts).getTime(), ts, what]); };
  add(info.scheduleTime, 'Scheduled');
  add(info.lastStartedTime, `Attempt ${info.attempt || 1} started`);
  add(info.lastAttemptCompleteTime, `Attempt ${info.closeTime && !isZeroTime(info.closeTime) ? info.attempt || 1 : Math.max(1, (info.attempt || 1) - 1)} ended`);
  add(info.lastHeartbeatTime, 'Last heartbeat');
  add(info.nextAttemptScheduleTime, `Attempt ${info.attempt || 1} scheduled (retry)`);
  add(info.expirationTime, 'Schedule-to-close deadline');
  add(info.closeTime, 'Closed: ' + (STATUS_LABEL[statusKey(info.status)] || info.status));
  ev.sort((a, b) => a[0] - b[0]);
  return h('ol', { class: 'timeline' }, ev.map(([, ts, what]) => h('li', {}, h('span', { class: 'when' }, fmtTime(ts)), ' ', what)),
    h('li', { class: 'muted' }, `${info.attempt || 1} attempt${(info.attempt || 1) > 1 ? 's' : ''} so far`));
}

// An in-page confirmation dialog; run(values, initial) does the call. A
// refusal closes the dialog and is shown through onError.
function confirmAction({ title, text, fields = [], confirmLabel = 'Confirm', run, onDone, onError }) {
  const dlg = $('#confirm');
  const form = $('#confirm-form');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text || '';
  $('#confirm-yes').textContent = confirmLabel;
  $('#confirm-error').hidden = true;
  const initial = {};
  const inputs = fields.map((f) => {
    initial[f.name] = f.type === 'checkbox' ? false : f.value || '';
    const input = h('input', { name: f.name, type: f.type || 'text', value: f.type === 'checkbox' ? undefined : f.value || '', autocomplete: 'off' });
    return [f, input];
  });
  $('#confirm-fields').replaceChildren(...inputs.map(([f, input]) =>
    h('label', { class: f.type === 'checkbox' ? 'check' : '' }, f.type === 'checkbox' ? [input, ' ', f.label] : [f.label, input])));
  const cleanup = () => { form.onsubmit = null; $('#confirm-no').onclick = null; };
  $('#confirm-no').onclick = () => { cleanup(); dlg.close(); };
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const values = {};
    for (const [f, input] of inputs) values[f.name] = f.type === 'checkbox' ? input.checked : input.value.trim();
    $('#confirm-yes').disabled = true;
    try {
      await run(values, initial);
      cleanup();
      dlg.close();
      onDone();
    } catch (e) {
      if (!(e instanceof ApiError)) {
        const err = $('#confirm-error');
        err.textContent = e.message;
        err.hidden = false;
        return;
      }
      cleanup();
      dlg.close();
      onError(e);
    } finally {
      $('#confirm-yes').disabled = false;
    }
  };
  dlg.showModal();
}

// ------------------------------------------------------------- task queues

async function taskQueues(ns, params) {
  const view = newView('task-queues', 'Task queues');
  const listBox = h('div', {}, h('p', { class: 'muted' }, 'Loading\u2026'));
  const detailBox = h('div', { id: 'queue-details' });
  const name = h('input', { type: 'search', name: 'name', value: params.get('name') || '', placeholder: 'task queue name', 'aria-label': 'Task queue name' });
  append(view, h('div', { class: 'titlebar' }, h('h1', {}, 'Task queues'), h('span', { class: 'muted' }, 'in ' + ns)),
    h('form', { class: 'querybar', onsubmit: (ev) => { ev.preventDefault(); location.hash = hrefNs(ns, '/task-queues' + (name.value.trim() ? '?name=' + enc(name.value.trim()) : '')); } },
      name, h('button', { type: 'submit' }, 'Describe')),
    section('Queues with tasks or polls', listBox), detailBox);
  let queues = [];
  try {
    const r = await listQueues(ns);
    queues = r.queues;
    if (!live(view)) return;
    fill(listBox, ...queueTable(ns, queues, r.derived));
  } catch (e) { if (live(view)) fill(listBox, errorBox(e)); }
  const wanted = params.get('name') ? [params.get('name')] : queues.map((q) => q.name).slice(0, 20);
  for (const q of wanted) {
    const card = section('Task queue ' + q, h('p', { class: 'muted' }, 'Loading\u2026'));
    card.classList.add('queue');
    card.dataset.queue = q;
    detailBox.append(card);
    describeQueue(ns, q).then((d) => {
      const st = d.stats || {};
      const cfg = d.config || {};
      const eff = d.effectiveRateLimit || {};
      fill(card, h('h2', {}, 'Task queue ', h('span', { class: 'mono' }, q)),
        h('div', { class: 'grid' },
          dl([['Backlog', String(st.approximateBacklogCount ?? 0)], ['Oldest task age', fmtDur(st.approximateBacklogAge, '0s')],
            ['Tasks added / s', st.tasksAddRate === undefined ? '\u2014' : Number(st.tasksAddRate).toFixed(2)],
            ['Tasks dispatched / s', st.tasksDispatchRate === undefined ? '\u2014' : Number(st.tasksDispatchRate).toFixed(2)]]),
          dl([['Queue rate limit', cfg.queueRateLimit?.rateLimit ? `${cfg.queueRateLimit.rateLimit.requestsPerSecond ?? 0}/s` : 'none set'],
            ['Fairness key rate limit', cfg.fairnessKeysRateLimitDefault?.rateLimit ? `${cfg.fairnessKeysRateLimitDefault.rateLimit.requestsPerSecond ?? 0}/s` : 'none set'],
            ['Effective rate limit', eff.requestsPerSecond === undefined ? '\u2014' : `${eff.requestsPerSecond}/s`],
            ['Limit source', eff.rateLimitSource ? String(eff.rateLimitSource).replace(/^RATE_LIMIT_SOURCE_/, '').toLowerCase() : '\u2014']])),
        h('h3', {}, 'Pollers'),
        table(['Identity', 'Last access', 'Rate per second'], (d.pollers || []).map((p) => [
          h('span', { class: 'mono' }, p.identity || '\u2014'), `${fmtTime(p.lastAccessTime)} (${ago(p.lastAccessTime)})`, p.ratePerSecond === undefined ? '\u2014' : String(p.ratePerSecond)]),
        'No worker polled this queue recently.'));
    }, (e) => fill(card, h('h2', {}, 'Task queue ', h('span', { class: 'mono' }, q)), errorBox(e)));
  }
}

// --------------------------------------------------------------- namespaces

async function namespaces() {
  const view = newView('namespaces', 'Namespaces');
  const listBox = h('div', {}, h('p', { class: 'muted' }, 'Loading\u2026'));
  const saBox = h('div', {}, h('p', { class: 'muted' }, 'Loading\u2026'));
  append(view, h('div', { class: 'titlebar' }, h('h1', {}, 'Namespaces')), section('Namespaces', listBox),
    section('Search attributes of ' + state.ns, saBox));
  try {
    const r = await get('/api/v1/namespaces', { pageSize: 100 });
    if (!live(view)) return;
    fill(listBox, table(['Name', 'State', 'Retention', 'Description', 'ID'], (r.namespaces || []).map((n) => {
      const i = n.namespaceInfo || {};
      return [h('a', { href: hrefNs(i.name || '') }, i.name || '\u2014'), String(i.state || '').replace(/^NAMESPACE_STATE_/, '').toLowerCase(),
        fmtDur(n.config?.workflowExecutionRetentionTtl), i.description || '', h('span', { class: 'mono' }, i.id || '')];
    })));
  } catch (e) { if (live(view)) fill(listBox, errorBox(e)); }
  try {
    const r = await get(nsPath(state.ns, 'search-attributes'));
    if (!live(view)) return;
    const list = (obj) => {
      const entries = Object.entries(obj || {}).sort(([a], [b]) => a.localeCompare(b));
      if (!entries.length) return h('p', { class: 'muted' }, 'none');
      return h('ul', { class: 'sa' }, entries.map(([k, t]) => h('li', {}, h('span', { class: 'mono' }, k), ' ',
        h('span', { class: 'muted' }, String(t).replace(/^INDEXED_VALUE_TYPE_/, '').toLowerCase()))));
    };
    fill(saBox, h('h3', {}, 'Custom'), list(r.customAttributes), h('h3', {}, 'System'), list(r.systemAttributes));
  } catch (e) { if (live(view)) fill(saBox, errorBox(e)); }
}

// ------------------------------------------------------------------- start

function start() {
  setupAuth();
  $('#ns').addEventListener('change', (ev) => {
    const ns = ev.target.value;
    const { segs, params } = parseHash();
    setNs(ns);
    if (segs[0] === 'ns' && segs.length >= 2) {
      const tail = segs[2] === 'activities' || segs[2] === 'task-queues' ? '/' + segs[2] : '';
      const q = params.get('q');
      location.hash = hrefNs(ns, tail + (tail === '/activities' && q ? '?q=' + enc(q) : ''));
    } else route();
  });
  setNs(state.ns);
  window.addEventListener('hashchange', route);
  fillNamespaceSelect();
  route();
}
start();
