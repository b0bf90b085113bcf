// Tenants benchmark (issue 10): provision BENCH_TENANTS tenants (1,000) through the gateway at an
// offered rate of BENCH_TENANT_RATE per second (10) and time each from `POST /v1/tenants` (202) to
// its `evt.tenants.tenant.activated` event; beside it, in the same run, as many bare BullMQ flows
// of the same shape (one job per provisioning step, no-op steps) through the same Redis, at the
// same rate: the queue's own floor. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { FlowProducer, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { Namespace } from '@tenantry/contracts';
import { connectTestNats, Platform } from '@tenantry/testing';
import {
  ALL_CPUS,
  LOADGEN_CPU,
  log,
  onCleanup,
  pin,
  positiveNumber,
  ratio,
  signIn,
  sleep,
  startChild,
  stopChild,
  table,
} from '../lib/common.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const COUNT = positiveNumber('BENCH_TENANTS', 1_000);
const RATE = positiveNumber('BENCH_TENANT_RATE', 10);
/** The provisioning pipeline's steps (validate … activate): the floor's flows have as many jobs. */
const STEPS = 7;
const SETTLE_MS = positiveNumber('BENCH_SETTLE_S', 60) * 1000;

export default async function run() {
  log(
    `tenants: ${COUNT} tenants offered at ${RATE}/s, then ${COUNT} bare BullMQ flows of ${STEPS} no-op jobs`,
  );
  const admin = { email: 'bench@localhost', password: randomBytes(18).toString('base64url') };
  const platform = await Platform.create({
    services: ['gateway', 'identity', 'tenants', 'policy', 'audit'],
    env: { TENANTRY_ADMIN_EMAIL: admin.email, TENANTRY_ADMIN_PASSWORD: admin.password },
  });
  onCleanup(`platform ${platform.namespace}`, () => platform.destroy());
  log(`starting gateway, identity, tenants, policy, audit in namespace ${platform.namespace}`);
  await platform.start();
  pin(process.pid, LOADGEN_CPU);
  for (const [, service] of platform.processes) pin(service.pid, ALL_CPUS);
  const gatewayUrl = platform.gatewayUrl;
  const token = await signIn(gatewayUrl, admin);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  // (1) the pipeline
  const ns = new Namespace(platform.namespace);
  const nats = await connectTestNats(platform.infra.natsUrl, platform.namespace);
  onCleanup('bench NATS connection', () => nats.drain());
  const settled = new Map(); // tenant id -> { status, at }
  const watch = (subject, status) =>
    nats.nc.subscribe(ns.subject(subject), {
      callback: (err, msg) => {
        if (err) return;
        const tenant = JSON.parse(new TextDecoder().decode(msg.data));
        const id = tenant.id ?? tenant.tenant?.id;
        if (id && !settled.has(id)) settled.set(id, { status, at: performance.now() });
      },
    });
  watch('evt.tenants.tenant.activated', 'active');
  watch('evt.tenants.tenant.failed', 'failed');
  await nats.nc.flush();

  log(`\n(1) provisioning ${COUNT} tenants at ${RATE}/s through ${gatewayUrl}`);
  const sent = new Map(); // tenant id -> sent at
  const refusals = [];
  const started = performance.now();
  const posts = [];
  for (let i = 0; i < COUNT; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const slug = `bench-${i}-${randomBytes(3).toString('hex')}`;
    const at = performance.now();
    posts.push(
      fetch(`${gatewayUrl}/v1/tenants`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: `Bench ${i}`,
          slug,
          admin: { email: `admin@${slug}.example` },
        }),
      }).then(async (response) => {
        const body = await response.json();
        if (response.status !== 202) refusals.push({ status: response.status, body });
        else sent.set(body.tenant.id, at);
      }),
    );
    if (i % (RATE * 10) === 0 && i > 0) log(`  ${i} sent, ${settled.size} settled`);
  }
  await Promise.all(posts);
  const offeredSeconds = (performance.now() - started) / 1000;
  const deadline = performance.now() + SETTLE_MS;
  while (performance.now() < deadline && [...sent.keys()].some((id) => !settled.has(id)))
    await sleep(200);
  const totalSeconds = (performance.now() - started) / 1000;

  // What the registry says, independently of the events.
  const stillProvisioning = await countStatus(gatewayUrl, headers, 'provisioning');
  const failedTenants = await countStatus(gatewayUrl, headers, 'failed');
  const activeMs = [];
  let failed = 0;
  for (const [id, at] of sent) {
    const s = settled.get(id);
    if (s?.status === 'active') activeMs.push(s.at - at);
    else if (s?.status === 'failed') failed++;
  }
  const pipeline = summarize(activeMs);
  log(
    `  ${activeMs.length}/${COUNT} active, ${failed} failed, ${refusals.length} refused; ` +
      `p50 ${pipeline.p50_ms} ms, p95 ${pipeline.p95_ms} ms, p99 ${pipeline.p99_ms} ms; ` +
      `${stillProvisioning} still provisioning`,
  );
  if (refusals.length) log(`  first refusal: ${JSON.stringify(refusals[0]).slice(0, 500)}`);

  // (2) the floor: bare BullMQ flows of STEPS no-op jobs, same rate, same Redis
  log(`\n(2) ${COUNT} bare BullMQ flows of ${STEPS} no-op jobs at ${RATE}/s`);
  const prefix = `${platform.namespace}:bench-bull`;
  const queueName = 'noop-provisioning';
  const { child } = await startChild(join(HERE, 'noop-flows.mjs'), {
    REDIS_URL: platform.infra.redisUrl,
    BENCH_BULL_PREFIX: prefix,
    BENCH_QUEUE: queueName,
  });
  onCleanup('no-op BullMQ worker', () => stopChild(child));
  const connection = new Redis(platform.infra.redisUrl, { maxRetriesPerRequest: null });
  const events = new QueueEvents(queueName, {
    connection: new Redis(platform.infra.redisUrl, { maxRetriesPerRequest: null }),
    prefix,
  });
  await events.waitUntilReady();
  const flows = new FlowProducer({ connection, prefix });
  onCleanup('bench BullMQ clients', async () => {
    await flows.close();
    await events.close();
    connection.disconnect();
    await wipePrefix(platform.infra.redisUrl, prefix);
  });
  const addedAt = new Map();
  const doneMs = [];
  events.on('completed', ({ jobId }) => {
    const at = addedAt.get(jobId);
    if (at !== undefined) {
      doneMs.push(performance.now() - at);
      addedAt.delete(jobId);
    }
  });
  const floorStarted = performance.now();
  const adds = [];
  for (let i = 0; i < COUNT; i++) {
    const due = floorStarted + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const runId = `run-${i}`;
    // The last step is the root; each step's child is the step before it (the leaf runs first).
    let node = null;
    for (let s = 0; s < STEPS; s++) {
      node = {
        name: `step-${s}`,
        queueName,
        opts: { jobId: `${runId}.${s}`, ...(s < STEPS - 1 ? { failParentOnFailure: true } : {}) },
        data: { runId, step: s },
        ...(node ? { children: [node] } : {}),
      };
    }
    addedAt.set(`${runId}.${STEPS - 1}`, performance.now());
    adds.push(flows.add(node));
  }
  await Promise.all(adds);
  const floorDeadline = performance.now() + SETTLE_MS;
  while (performance.now() < floorDeadline && addedAt.size > 0) await sleep(100);
  const floorTotalSeconds = (performance.now() - floorStarted) / 1000;
  const floor = summarize(doneMs);
  log(
    `  ${doneMs.length}/${COUNT} done; p50 ${floor.p50_ms} ms, p95 ${floor.p95_ms} ms, p99 ${floor.p99_ms} ms`,
  );

  const rows = [
    {
      id: 'tenants.provision',
      what: `POST /v1/tenants → tenant.activated (${STEPS} steps across identity, policy, audit)`,
      done: activeMs.length,
      failed,
      ...pipeline,
      totalSeconds: +totalSeconds.toFixed(1),
    },
    {
      id: 'bullmq.noop-flow',
      what: `FlowProducer.add → last of ${STEPS} no-op jobs completed (floor)`,
      done: doneMs.length,
      failed: COUNT - doneMs.length,
      ...floor,
      totalSeconds: +floorTotalSeconds.toFixed(1),
    },
  ];
  log(
    `\n${table(rows, [
      { key: 'id', title: 'row' },
      { key: 'done', title: 'done', align: 'right' },
      { key: 'failed', title: 'failed', align: 'right' },
      { key: 'p50_ms', title: 'p50 ms', align: 'right' },
      { key: 'p95_ms', title: 'p95 ms', align: 'right' },
      { key: 'p99_ms', title: 'p99 ms', align: 'right' },
      { key: 'max_ms', title: 'max ms', align: 'right' },
      { key: 'totalSeconds', title: 'total s', align: 'right' },
    ])}`,
  );
  return {
    params: {
      tenants: COUNT,
      offeredRatePerSec: RATE,
      steps: STEPS,
      offeredSeconds: +offeredSeconds.toFixed(1),
    },
    rows,
    ratios: {
      p95_vs_floorP95: ratio(pipeline.p95_ms, floor.p95_ms),
      p50_vs_floorP50: ratio(pipeline.p50_ms, floor.p50_ms),
    },
    goals: {
      p95TimeToActiveAtMost3s: pipeline.p95_ms !== null && pipeline.p95_ms <= 3000,
      noRunLeftProvisioning: stillProvisioning === 0,
    },
    registry: { stillProvisioning, failed: failedTenants, refused: refusals.length },
  };
}

function summarize(samplesMs) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const q = (p) =>
    sorted.length
      ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))])
      : null;
  return {
    p50_ms: q(0.5),
    p95_ms: q(0.95),
    p99_ms: q(0.99),
    max_ms: sorted.length ? Math.round(sorted[sorted.length - 1]) : null,
    mean_ms: sorted.length ? Math.round(sorted.reduce((a, b) => a + b, 0) / sorted.length) : null,
  };
}

async function countStatus(gatewayUrl, headers, status) {
  let count = 0;
  let cursor;
  do {
    const query = new URLSearchParams({ status, limit: '500', ...(cursor ? { cursor } : {}) });
    const response = await fetch(`${gatewayUrl}/v1/tenants?${query}`, { headers });
    const page = await response.json();
    if (response.status !== 200)
      throw new Error(`GET /v1/tenants?${query} answered ${response.status}`);
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

async function wipePrefix(redisUrl, prefix) {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
