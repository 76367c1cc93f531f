// BullMQ peer workloads for Errand's side-by-side benchmark suite.
//
//   node bench.mjs --redis 127.0.0.1:6390 --workload drain [--jobs 100000] [--concurrency 50]
//   node bench.mjs --redis 127.0.0.1:6390 --workload add-and-wait \
//       [--callers 64] [--seconds 10] [--warmup 1] [--concurrency 50]
//
// The driver starts Redis (and chooses its persistence settings); this program
// only connects to it. Progress and diagnostics go to stderr; the figures are
// printed as exactly one line on stdout: `RESULT {compact JSON}`.
//
// Job retention (what a real user would configure for this kind of queue):
//   removeOnComplete: { age: 60 }     keep a completed job (and its return
//                                     value) for 60 s, so job.waitUntilFinished
//                                     can still read a result that arrived
//                                     before it started listening;
//   removeOnFail:     { age: 86400 }  keep failed jobs a day for inspection.
// BullMQ applies both lazily, whenever another job finishes; neither runs
// inside a short benchmark's window except in long add-and-wait runs. Errand
// and Temporal keep every finished execution too, so this is the like-for-like
// choice. Override with --keep-completed-s.
//
// Every run uses a fresh queue name and obliterates the queue at the end
// (skip with --keep-queue) so runs never see each other's jobs.

import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Queue, Worker, QueueEvents } from 'bullmq';

const require = createRequire(import.meta.url);
const BULLMQ_VERSION = require('bullmq/package.json').version;

const log = (...args) => console.error('[bullmq-bench]', ...args);

function usage(message) {
  if (message) console.error(`error: ${message}`);
  console.error(
    'usage: node bench.mjs --redis HOST:PORT --workload drain|add-and-wait\n' +
      '         [--jobs N] [--concurrency C] [--callers K] [--seconds T] [--warmup W]\n' +
      '         [--keep-completed-s S] [--keep-queue]',
  );
  process.exit(2);
}

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        redis: { type: 'string', default: '127.0.0.1:6379' },
        workload: { type: 'string' },
        jobs: { type: 'string', default: '100000' },
        concurrency: { type: 'string', default: '50' },
        callers: { type: 'string', default: '64' },
        seconds: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '1' },
        'keep-completed-s': { type: 'string', default: '60' },
        'keep-queue': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    usage(err.message);
  }
  if (parsed.help) usage();
  const num = (name, min) => {
    const v = Number(parsed[name]);
    if (!Number.isFinite(v) || v < min) usage(`--${name} must be a number >= ${min}`);
    return v;
  };
  const [host, portText] = parsed.redis.split(':');
  const port = Number(portText ?? 6379);
  if (!host || !Number.isInteger(port)) usage('--redis must be HOST:PORT');
  if (!['drain', 'add-and-wait'].includes(parsed.workload)) {
    usage('--workload must be drain or add-and-wait');
  }
  return {
    host,
    port,
    workload: parsed.workload,
    jobs: Math.floor(num('jobs', 1)),
    concurrency: Math.floor(num('concurrency', 1)),
    callers: Math.floor(num('callers', 1)),
    seconds: num('seconds', 0.1),
    warmup: num('warmup', 0),
    keepCompletedS: num('keep-completed-s', 0),
    keepQueue: parsed['keep-queue'],
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(p * sorted.length) - 1; // nearest-rank
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

// BullMQ's connections retry forever; a benchmark must fail instead of hanging.
function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const CONNECT_DEADLINE_MS = 10000;
const STALL_DEADLINE_MS = 30000;

const round = (x, digits = 1) => (x == null ? null : Number(x.toFixed(digits)));

function jobOptions(opts) {
  return {
    removeOnComplete: { age: opts.keepCompletedS },
    removeOnFail: { age: 86400 },
  };
}

async function redisInfo(queue) {
  try {
    const client = await queue.client;
    const info = await client.info();
    const field = (name) => info.match(new RegExp(`^${name}:(.*)$`, 'm'))?.[1]?.trim();
    return { redis_version: field('redis_version'), aof_enabled: field('aof_enabled') === '1' };
  } catch (err) {
    log('INFO failed:', err.message);
    return {};
  }
}

async function finish(queue, opts) {
  if (!opts.keepQueue) {
    const t = performance.now();
    try {
      await queue.obliterate({ force: true });
      log(`obliterated queue ${queue.name} in ${((performance.now() - t) / 1000).toFixed(2)} s`);
    } catch (err) {
      log('obliterate failed:', err.message);
    }
  }
  await queue.close();
}

// ---------------------------------------------------------------- drain ----

async function drain(opts, connection, queueName) {
  const queue = new Queue(queueName, { connection, defaultJobOptions: jobOptions(opts) });
  queue.on('error', (err) => log('queue error:', err.message));
  await withDeadline(queue.waitUntilReady(), CONNECT_DEADLINE_MS, 'connecting to redis');
  const info = await redisInfo(queue);

  // Phase 1: enqueue N jobs with no worker running, addBulk in chunks of 1000.
  const CHUNK = 1000;
  const t0 = performance.now();
  for (let first = 0; first < opts.jobs; first += CHUNK) {
    const batch = [];
    for (let i = first; i < Math.min(opts.jobs, first + CHUNK); i++) {
      batch.push({ name: 'noop', data: { i } });
    }
    await queue.addBulk(batch);
  }
  const enqueueS = (performance.now() - t0) / 1000;
  const waiting = await queue.getWaitingCount();
  log(`enqueued ${opts.jobs} jobs in ${enqueueS.toFixed(2)} s (waiting: ${waiting})`);
  if (waiting !== opts.jobs) log(`warning: expected ${opts.jobs} waiting jobs, found ${waiting}`);

  // Phase 2: a worker with concurrency C whose processor returns at once;
  // time from creating it until every job has completed (or failed).
  let completed = 0;
  let failed = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const t1 = performance.now();
  const worker = new Worker(queueName, async () => null, {
    connection,
    concurrency: opts.concurrency,
  });
  worker.on('error', (err) => log('worker error:', err.message));
  worker.on('completed', () => {
    if (++completed + failed === opts.jobs) resolveDone();
  });
  worker.on('failed', (_job, err) => {
    if (failed++ < 5) log('job failed:', err?.message);
    if (completed + failed === opts.jobs) resolveDone();
  });
  // Fail rather than hang should the drain stop making progress.
  let seen = -1;
  const watchdog = setInterval(() => {
    if (completed + failed === seen) resolveDone(new Error('drain stalled'));
    seen = completed + failed;
  }, STALL_DEADLINE_MS);
  const outcome = await done;
  clearInterval(watchdog);
  if (outcome instanceof Error) throw new Error(`drain stalled at ${completed + failed}/${opts.jobs}`);
  const drainS = (performance.now() - t1) / 1000;
  log(`drained ${completed} jobs (${failed} failed) in ${drainS.toFixed(2)} s`);

  await worker.close();
  await finish(queue, opts);
  return {
    workload: 'drain',
    system: 'bullmq',
    bullmq_version: BULLMQ_VERSION,
    ...info,
    jobs: opts.jobs,
    concurrency: opts.concurrency,
    enqueue_s: round(enqueueS, 3),
    enqueue_per_s: round(opts.jobs / enqueueS),
    drain_s: round(drainS, 3),
    drain_per_s: round(completed / drainS),
    completed,
    failed,
    remove_on_complete_age_s: opts.keepCompletedS,
  };
}

// --------------------------------------------------------- add-and-wait ----

async function addAndWait(opts, connection, queueName) {
  const queue = new Queue(queueName, { connection, defaultJobOptions: jobOptions(opts) });
  const queueEvents = new QueueEvents(queueName, { connection });
  const worker = new Worker(queueName, async (job) => job.data, {
    connection,
    concurrency: opts.concurrency,
  });
  // Each pending waitUntilFinished adds listeners on the QueueEvents (completed:<id>,
  // failed:<id>) and on the Queue ('closing'); K callers keep K of each in flight.
  queue.setMaxListeners(opts.callers + 16);
  queueEvents.setMaxListeners(2 * opts.callers + 16);
  for (const [what, emitter] of [['queue', queue], ['queueEvents', queueEvents], ['worker', worker]]) {
    emitter.on('error', (err) => log(`${what} error:`, err.message));
  }
  await withDeadline(
    Promise.all([queue.waitUntilReady(), queueEvents.waitUntilReady(), worker.waitUntilReady()]),
    CONNECT_DEADLINE_MS,
    'connecting to redis',
  );
  const info = await redisInfo(queue);

  const WAIT_TTL_MS = 30000; // a lost result counts as an error, not a hang
  const start = performance.now();
  const measureFrom = start + opts.warmup * 1000;
  const stopAt = measureFrom + opts.seconds * 1000;
  const latencies = [];
  let errors = 0;
  let warmupCompleted = 0;
  let lateCompleted = 0;
  let seq = 0;

  async function caller(id) {
    while (performance.now() < stopAt) {
      const t = performance.now();
      try {
        const job = await queue.add('echo', { caller: id, n: seq++ });
        await job.waitUntilFinished(queueEvents, WAIT_TTL_MS);
        // A call belongs to the window in which it ended, so that calls slower
        // than the window still count (completions per second).
        const end = performance.now();
        if (end < measureFrom) warmupCompleted++;
        else if (end > stopAt) lateCompleted++;
        else latencies.push(end - t);
      } catch (err) {
        const end = performance.now();
        if (end >= measureFrom && end <= stopAt) errors++;
        if (errors <= 5) log(`caller ${id} error:`, err.message);
        await new Promise((resolve) => setTimeout(resolve, 10)); // no hot loop on failure
      }
    }
  }

  await Promise.all(Array.from({ length: opts.callers }, (_, i) => caller(i)));
  const measuredS = opts.seconds;
  latencies.sort((a, b) => a - b);
  log(
    `completed ${latencies.length} in the ${measuredS} s window ` +
      `(+${warmupCompleted} warm-up, +${lateCompleted} after the window), ${errors} errors`,
  );

  await worker.close();
  await queueEvents.close();
  await finish(queue, opts);
  return {
    workload: 'add-and-wait',
    system: 'bullmq',
    bullmq_version: BULLMQ_VERSION,
    ...info,
    callers: opts.callers,
    concurrency: opts.concurrency,
    seconds: measuredS,
    warmup_s: opts.warmup,
    completed: latencies.length,
    errors,
    per_s: round(latencies.length / measuredS),
    p50_ms: round(percentile(latencies, 0.5), 2),
    p90_ms: round(percentile(latencies, 0.9), 2),
    p99_ms: round(percentile(latencies, 0.99), 2),
    max_ms: round(latencies[latencies.length - 1] ?? null, 2),
    remove_on_complete_age_s: opts.keepCompletedS,
  };
}

// ----------------------------------------------------------------- main ----

async function main() {
  const opts = parseOptions();
  const connection = { host: opts.host, port: opts.port };
  const queueName = `bench-${opts.workload}-${Date.now()}-${randomBytes(4).toString('hex')}`;
  log(`bullmq ${BULLMQ_VERSION}, redis ${opts.host}:${opts.port}, queue ${queueName}`);
  const result =
    opts.workload === 'drain'
      ? await drain(opts, connection, queueName)
      : await addAndWait(opts, connection, queueName);
  console.log(`RESULT ${JSON.stringify(result)}`);
}

main().then(
  () => {
    // Every connection has been closed, so Node exits by itself; should some
    // handle linger anyway, do not let it hold the driver up.
    setTimeout(() => {
      log('some handle kept the process alive after the run; exiting');
      process.exit(0);
    }, 10000).unref();
  },
  (err) => {
    console.error('[bullmq-bench] fatal:', err?.stack ?? err);
    process.exit(1);
  },
);
