// Spine benchmark: the request path (HTTP -> gateway -> NATS -> service) and the event path
// (JetStream -> durable consumer -> PostgreSQL), each beside its baselines in the same run.
// See bench/README.md for what every row measures. Run: npm run bench -- spine
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { Namespace } from '@tenantry/contracts';
import { createActiveTenant, LOCAL_INFRA, Platform } from '@tenantry/testing';
import {
  ALL_CPUS,
  DURATION_S,
  LOADGEN_CPU,
  PIN,
  SERVER_CPU,
  affinityOf,
  countLoad,
  httpLoad,
  log,
  onCleanup,
  opLoad,
  pin,
  positiveNumber,
  ratio,
  serviceLogCollector,
  serviceProfiling,
  sleep,
  startChild,
  stopChild,
  table,
  signIn,
} from '../lib/common.mjs';
import { cpuMeter, cpuMsPerOp } from '../lib/cpu-meter.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));

const CONNECTIONS = positiveNumber('BENCH_CONNECTIONS', 50); // autocannon, gateway and bare Fastify alike
const IN_FLIGHT = positiveNumber('BENCH_IN_FLIGHT', 64); // NATS requests / JetStream publishes in flight
const EVENTS = positiveNumber('BENCH_EVENTS', 20_000);
const EVENT_TENANTS = 100;
const NATS_PAYLOAD = positiveNumber('BENCH_NATS_PAYLOAD', 1024); // echo floor, as anchors/nats
const INSERT_BATCH = 500;
const POLL_MS = 50;
// The pipeline gives up when the row count has not moved for this long: well above the audit
// consumer's ack_wait (10 s as of this writing), so that a redelivery can still end a stall.
const STALL_MS = 45_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export default async function run() {
  log(
    `spine: ${DURATION_S} s rows, ${CONNECTIONS} HTTP connections, ${IN_FLIGHT} NATS in flight, ` +
      `${EVENTS.toLocaleString('en-US')} events, pinning ${PIN ? 'on' : 'off'}`,
  );

  const serviceLog = serviceLogCollector();
  // BENCH_PROFILE=1: V8 CPU profiles of the services (costs throughput: diagnosis only)
  const profiling = serviceProfiling();
  // Every gateway route needs a token: identity runs too, and its bootstrap operator signs in.
  const admin = { email: 'bench@tenantry.local', password: randomBytes(18).toString('base64url') };
  const platform = await Platform.create({
    services: ['gateway', 'tenants', 'audit', 'identity', 'policy'],
    env: {
      LOG_LEVEL: 'warn',
      TENANTRY_ADMIN_EMAIL: admin.email,
      TENANTRY_ADMIN_PASSWORD: admin.password,
      ...profiling.env,
    },
    onLine: serviceLog.onLine,
  });
  const ns = new Namespace(platform.namespace);
  const destroyPlatform = onCleanup(`platform ${ns.name}`, () => platform.destroy());
  const rows = [];
  const notes = [];
  const infra = {};
  let nc;
  try {
    log(`starting gateway, tenants, audit, identity in namespace ${ns.name}`);
    await platform.start();
    // Pinned after the start: the services inherit no affinity from this process (identity
    // sizes its argon2 concurrency by the CPUs it may use).
    pin(process.pid, LOADGEN_CPU);
    const pids = {
      gateway: platform.service('gateway').pid,
      tenants: platform.service('tenants').pid,
      audit: platform.service('audit').pid,
      identity: platform.service('identity').pid,
    };
    // Services were spawned by this (load generator) process: give them their own CPUs.
    pin(pids.gateway, SERVER_CPU);
    pin(pids.tenants, ALL_CPUS);
    pin(pids.audit, ALL_CPUS);
    pin(pids.identity, ALL_CPUS);

    nc = await connect({ servers: platform.infra.natsUrl });
    infra.natsServer = nc.info?.version;
    infra.postgres = await postgresVersion();
    const cpu = cpuMeter({ ...pids, loadgen: process.pid }, platform.infra.natsUrl);

    // ------------------------------------------------------------------ (1) request path
    log('\n(1) request path');
    const auth = { authorization: `Bearer ${await signIn(platform.gatewayUrl, admin)}` };
    const tenant = await createTenant(platform.gatewayUrl, ns.name, auth);

    const push = (row) => {
      const perSec = row.okPerSec ?? row.eventsPerSec;
      if (row.cpuPercent && perSec && !row.cpuMsPerOp) {
        row.cpuMsPerOp = cpuMsPerOp(row.cpuPercent, perSec);
      }
      rows.push(row);
      log(
        `  ${row.id.padEnd(30)} ${String(row.opsPerSec ?? row.eventsPerSec).padStart(7)}/s` +
          (row.p50_ms !== undefined ? `  p50 ${row.p50_ms} ms  p99 ${row.p99_ms} ms` : '') +
          (row.cpuPercent ? `  cpu% ${cpuText(row.cpuPercent)}` : ''),
      );
    };

    // bare Fastify baseline: one server process on CPU 0
    {
      const { child, message } = await startChild(`${HERE}fastify-server.mjs`);
      const stop = onCleanup('bare fastify server', () => stopChild(child));
      try {
        const m = cpu.start({ fastify: child.pid });
        const r = await httpLoad({
          url: `http://127.0.0.1:${message.port}/hello`,
          connections: CONNECTIONS,
        });
        push({
          id: 'http.fastify-bare',
          what: 'bare Fastify GET /hello (baseline)',
          kind: 'baseline',
          ...r,
          cpuPercent: m.stop(),
          affinity: { server: affinityOf(child.pid), loadgen: affinityOf(process.pid) },
        });
      } finally {
        await stop();
      }
    }

    // the gateway route: HTTP -> gateway -> NATS request -> tenants service -> PG PK read -> reply,
    // as the signed-in operator (a verified, cached token: a hash, a map and a set lookup per request)
    {
      const m = cpu.start();
      const r = await httpLoad({
        url: `${platform.gatewayUrl}/v1/tenants/${tenant.id}`,
        connections: CONNECTIONS,
        headers: { authorization: `Bearer ${await signIn(platform.gatewayUrl, admin)}` },
      });
      push({
        id: 'http.gateway-tenant-get',
        what: 'gateway GET /v1/tenants/:id as the operator (HTTP + token check + NATS + tenants + PG read)',
        kind: 'measured',
        ...r,
        cpuPercent: m.stop(),
        affinity: {
          gateway: affinityOf(pids.gateway),
          tenants: affinityOf(pids.tenants),
          identity: affinityOf(pids.identity),
          loadgen: affinityOf(process.pid),
        },
      });
    }

    // the floor: a minimal Fastify -> NATS forwarder (bench/spine/forwarder.mjs) on CPU 0, like
    // the gateway, asking a fixed-reply responder (bench/spine/tenant-echo.mjs) placed like tenants
    {
      const subject = ns.subject('bench.tenant-echo');
      const echo = await startChild(`${HERE}tenant-echo.mjs`, {
        NATS_URL: platform.infra.natsUrl,
        SUBJECT: subject,
      });
      pin(echo.child.pid, ALL_CPUS);
      const fwd = await startChild(`${HERE}forwarder.mjs`, {
        NATS_URL: platform.infra.natsUrl,
        SUBJECT: subject,
      });
      const stop = onCleanup('forwarder baseline', async () => {
        await stopChild(fwd.child);
        await stopChild(echo.child);
      });
      try {
        const m = cpu.start({ forwarder: fwd.child.pid, tenantEcho: echo.child.pid });
        const r = await httpLoad({
          url: `http://127.0.0.1:${fwd.message.port}/v1/tenants/${tenant.id}`,
          connections: CONNECTIONS,
        });
        push({
          id: 'http.forwarder-floor',
          what: 'minimal Fastify -> NATS forwarder, fixed-reply responder (baseline: the floor)',
          kind: 'baseline',
          ...r,
          cpuPercent: m.stop(),
          affinity: {
            forwarder: affinityOf(fwd.child.pid),
            tenantEcho: affinityOf(echo.child.pid),
            loadgen: affinityOf(process.pid),
          },
        });
      } finally {
        await stop();
      }
    }

    // the same tenants service subject, straight from this process (no gateway, no HTTP)
    const tenantsSubject = ns.rpcSubject('tenants.tenants.get');
    const tenantsBody = encoder.encode(JSON.stringify({ id: tenant.id }));
    let requestNo = 0;
    // a tenant read as the gateway's RpcClient sends it (same headers, so the responder does the same work)
    const tenantRead = (subject) => async () => {
      const h = natsHeaders();
      h.set('Tenantry-Request-Id', `bench-${++requestNo}`);
      h.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      const reply = await nc.request(subject, tenantsBody, { timeout: 5_000, headers: h });
      return JSON.parse(decoder.decode(reply.data)).ok === true;
    };
    const tenantsOp = tenantRead(tenantsSubject);
    for (const concurrency of unique([CONNECTIONS, IN_FLIGHT])) {
      const m = cpu.start();
      const r = await opLoad({ op: tenantsOp, concurrency });
      push({
        id: `nats.tenants-get@${concurrency}`,
        what: `NATS request ${tenantsSubject} -> tenants service (PG read), no gateway`,
        kind: 'measured',
        ...r,
        cpuPercent: m.stop(),
        affinity: { tenants: affinityOf(pids.tenants), loadgen: affinityOf(process.pid) },
      });
    }

    // service floor: the same subject shape answered by plain NATS + `pg` (bench/spine/pg-responder.mjs)
    // reading the same row as the service's own role, pinned like the tenants service
    {
      const subject = ns.subject('bench.pg-tenant');
      const database = ns.database('tenants');
      const url = new URL(pgUrl(database));
      url.username = `${database}_app`;
      const { child } = await startChild(`${HERE}pg-responder.mjs`, {
        NATS_URL: platform.infra.natsUrl,
        SUBJECT: subject,
        DATABASE_URL: url.toString(),
      });
      pin(child.pid, ALL_CPUS);
      const stop = onCleanup('pg responder', () => stopChild(child));
      try {
        const pgOp = tenantRead(subject);
        for (const concurrency of unique([CONNECTIONS, IN_FLIGHT])) {
          const m = cpu.start({ pgResponder: child.pid });
          const r = await opLoad({ op: pgOp, concurrency });
          push({
            id: `nats.pg-responder@${concurrency}`,
            what: 'plain NATS responder + pg primary-key read of the same tenant (baseline)',
            kind: 'baseline',
            ...r,
            cpuPercent: m.stop(),
            affinity: { pgResponder: affinityOf(child.pid), loadgen: affinityOf(process.pid) },
          });
        }
      } finally {
        await stop();
      }
    }

    // transport floor: raw request/reply to an echo responder process on CPU 0
    {
      const subject = ns.subject('bench.echo');
      const { child } = await startChild(`${HERE}responder.mjs`, {
        NATS_URL: platform.infra.natsUrl,
        SUBJECT: subject,
      });
      const stop = onCleanup('echo responder', () => stopChild(child));
      try {
        const payload = new Uint8Array(NATS_PAYLOAD).fill(120);
        const echoOp = async () =>
          (await nc.request(subject, payload, { timeout: 5_000 })).data.length === NATS_PAYLOAD;
        for (const concurrency of unique([CONNECTIONS, IN_FLIGHT])) {
          const m = cpu.start({ responder: child.pid });
          const r = await opLoad({ op: echoOp, concurrency });
          push({
            id: `nats.echo@${concurrency}`,
            what: `raw NATS request/reply, ${NATS_PAYLOAD} B echo responder (baseline)`,
            kind: 'baseline',
            ...r,
            cpuPercent: m.stop(),
            affinity: { responder: affinityOf(child.pid), loadgen: affinityOf(process.pid) },
          });
        }
      } finally {
        await stop();
      }
    }

    // ------------------------------------------------------------------ (2) event path
    log('\n(2) event path');
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const auditDb = await pgClient(ns.database('audit'));
    const closeAuditDb = onCleanup('audit db connection', () => auditDb.end());
    const events = eventFactory();
    const auditSubject = (e) => ns.subject(`audit.${e.tenantId}.${e.category}`);
    const publish = (subjectOf) => async () => {
      const event = events.next();
      return js.publish(subjectOf(event), encoder.encode(JSON.stringify(event)), {
        msgID: event.id,
      });
    };
    pin(pids.audit, SERVER_CPU);

    // baseline (a): JetStream publish+ack alone, to a stream of its own, same events
    {
      const stream = ns.stream('BENCHJS');
      const auditStream = await jsm.streams.info(ns.stream('AUDIT'));
      await jsm.streams.add({
        name: stream,
        subjects: [ns.subject('benchjs.>')],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        duplicate_window: auditStream.config.duplicate_window, // same de-duplication as AUDIT
        num_replicas: 1,
      });
      const drop = onCleanup(`stream ${stream}`, () => jsm.streams.delete(stream));
      try {
        const op = publish((e) => ns.subject(`benchjs.${e.tenantId}.${e.category}`));
        await countLoad({ op, count: 1_000, concurrency: IN_FLIGHT }); // warm-up
        const r = await countLoad({ op, count: EVENTS, concurrency: IN_FLIGHT });
        const info = await jsm.streams.info(stream);
        push({
          id: 'events.jetstream-publish-ack',
          what: `JetStream publish+ack alone, ${IN_FLIGHT} in flight, stream ${stream} (baseline)`,
          kind: 'baseline',
          events: EVENTS,
          concurrency: IN_FLIGHT,
          seconds: +r.seconds.toFixed(3),
          eventsPerSec: r.opsPerSec,
          p50_ms: r.p50_ms,
          p99_ms: r.p99_ms,
          payloadBytes: events.sampleBytes,
          streamMessages: info.state.messages,
        });
      } finally {
        await drop();
      }
    }

    // baseline (b): plain multi-row INSERT into a copy of audit_events in a scratch database
    {
      const database = `${ns.database('benchpg')}`;
      const admin = await pgClient('postgres');
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${database}`);
      } finally {
        await admin.end();
      }
      const dropDb = onCleanup(`database ${database}`, async () => {
        const c = await pgClient('postgres');
        try {
          await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        } finally {
          await c.end();
        }
      });
      try {
        const scratch = await pgClient(database);
        try {
          for (const statement of await auditTableDdl(auditDb)) await scratch.query(statement);
          for (const variant of ['plain', 'repository-shape']) {
            const r = await insertBaseline(scratch, events, variant);
            push(r);
          }
        } finally {
          await scratch.end();
        }
      } finally {
        await dropDb();
      }
    }

    // the pipeline: JetStream publish -> audit service durable consumer -> committed rows
    {
      const count = async () =>
        Number(
          (await auditDb.query(`SELECT count(*) AS n FROM audit_events WHERE category = 'bench'`))
            .rows[0].n,
        );
      const op = publish(auditSubject);

      // warm-up: 1,000 events all the way through
      const warm = await count();
      await countLoad({ op, count: 1_000, concurrency: IN_FLIGHT });
      await waitForCount(count, warm + 1_000);

      // live: publishing and consuming at once
      const before = await count();
      const m = cpu.start();
      const progress = cpuProgress(m, before);
      const seqs = [];
      const t0 = process.hrtime.bigint();
      const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
      let publishedAt;
      const publishing = countLoad({
        op: async () => {
          const ack = await op();
          seqs.push(ack.seq);
          return ack;
        },
        count: EVENTS,
        concurrency: IN_FLIGHT,
      }).then((r) => {
        publishedAt = elapsed();
        return r;
      });
      const done = await waitForCount(count, before + EVENTS, progress.onChange);
      const wall = elapsed();
      const pub = await publishing;
      const stats = await ledgerStats(auditDb, ...range(seqs));
      push({
        id: 'events.pipeline-live',
        what: 'JetStream publish -> audit durable consumer -> committed rows, end to end',
        kind: 'measured',
        events: EVENTS,
        concurrency: IN_FLIGHT,
        committed: done.count - before,
        complete: done.reached,
        seconds: +wall.toFixed(3),
        eventsPerSec: Math.round((done.count - before) / wall),
        publishSeconds: +(publishedAt ?? pub.seconds).toFixed(3),
        publishPerSec: pub.opsPerSec,
        publishAck_p50_ms: pub.p50_ms,
        publishAck_p99_ms: pub.p99_ms,
        ...stats,
        ...progress.result(stats.tailHeldBack),
        affinity: { audit: affinityOf(pids.audit), loadgen: affinityOf(process.pid) },
      });

      // backlog: events published while the audit service is stopped, then drained by it
      const audit = platform.service('audit');
      await audit.stop();
      const beforeDrain = await count();
      const backlogSeqs = [];
      const backlog = await countLoad({
        op: async () => {
          const ack = await op();
          backlogSeqs.push(ack.seq);
        },
        count: EVENTS,
        concurrency: IN_FLIGHT,
      });
      const tStart = process.hrtime.bigint();
      audit.start();
      pin(audit.pid, SERVER_CPU);
      // CPU from the first committed batch on (process start-up excluded)
      let drainProgress;
      const drained = await waitForCount(count, beforeDrain + EVENTS, (n) => {
        drainProgress ??= cpuProgress(cpu.start({ audit: audit.pid }), n);
        drainProgress.onChange(n);
      });
      const drainWall = Number(process.hrtime.bigint() - tStart) / 1e9;
      await audit.waitReady();
      const drainStats = await ledgerStats(auditDb, ...range(backlogSeqs));
      push({
        id: 'events.consumer-drain-backlog',
        what: 'audit durable consumer draining a backlog (no publishing at the same time)',
        kind: 'measured',
        events: EVENTS,
        committed: drained.count - beforeDrain,
        complete: drained.reached,
        // from the consumer's own transactions (process boot excluded), without a held-back tail
        eventsPerSec: drainStats.steadyEventsPerSec ?? drainStats.commitSpanEventsPerSec,
        secondsFromProcessStart: +drainWall.toFixed(3),
        backlogPublishPerSec: backlog.opsPerSec,
        backlogPublishAck_p50_ms: backlog.p50_ms,
        backlogPublishAck_p99_ms: backlog.p99_ms,
        ...drainStats,
        ...drainProgress?.result(drainStats.tailHeldBack),
        affinity: { audit: affinityOf(audit.pid), loadgen: affinityOf(process.pid) },
      });

      // what the durable consumer and the PARKED stream say afterwards
      const consumer = await jsm.consumers.info(ns.stream('AUDIT'), 'audit-ledger');
      const parked = await jsm.streams.info(ns.stream('PARKED')).catch(() => null);
      infra.auditConsumer = {
        ackPolicy:
          consumer.config.ack_policy === AckPolicy.Explicit
            ? 'explicit'
            : consumer.config.ack_policy,
        maxAckPending: consumer.config.max_ack_pending,
        numPending: consumer.num_pending,
        numAckPending: consumer.num_ack_pending,
        numRedelivered: consumer.num_redelivered,
        // deliveries beyond one per stream message (redeliveries, e.g. after ack_wait)
        deliveries: consumer.delivered.consumer_seq,
        lastStreamSequence: consumer.delivered.stream_seq,
        extraDeliveries: consumer.delivered.consumer_seq - consumer.delivered.stream_seq,
        ackWaitSeconds: consumer.config.ack_wait / 1e9,
        parkedMessages: parked?.state.messages ?? null,
      };
      const extra = consumer.delivered.consumer_seq - consumer.delivered.stream_seq;
      if (extra > 0 || parked?.state.messages) {
        notes.push(
          `audit consumer: ${extra} deliveries beyond one per message (redeliveries), ` +
            `${parked?.state.messages ?? 0} parked`,
        );
      }
    }
    await closeAuditDb();

    // services still healthy after the load?
    infra.servicesReadyAfterRun = Object.fromEntries(
      await Promise.all(
        ['gateway', 'tenants', 'audit'].map(async (s) => [s, await platform.service(s).isReady()]),
      ),
    );
    infra.serviceRssMiB = Object.fromEntries(
      ['gateway', 'tenants', 'audit'].map((s) => [s, rssMiB(platform.service(s).pid)]),
    );
  } finally {
    await nc?.close().catch(() => undefined);
    log(`\nstopping services and dropping namespace ${ns.name}`);
    await destroyPlatform();
  }

  for (const row of rows) {
    if (row.errors || row.non2xx || row.timeouts || row.failedReplies) {
      notes.push(
        `${row.id}: ${row.errors ?? 0} errors, ${row.non2xx ?? 0} non-2xx, ${row.timeouts ?? 0} timeouts, ` +
          `${row.failedReplies ?? 0} failed replies${row.firstError ? ` (first: ${row.firstError})` : ''}`,
      );
    }
    if (row.complete === false)
      notes.push(`${row.id}: only ${row.committed} of ${row.events} rows arrived`);
    if (row.tailHeldBack) {
      notes.push(
        `${row.id}: the last transaction (${row.lastTransactionEvents} events) started ` +
          `${(row.gapBeforeLastTransaction_ms / 1000).toFixed(1)} s after the one before it ` +
          `(median gap ${row.medianGapBetweenTransactions_ms} ms): the consumer held back the final partial batch`,
      );
    }
  }
  const logSummary = serviceLog.summary();
  for (const [service, counts] of Object.entries(logSummary.counts)) {
    notes.push(
      `${service} logged ${Object.entries(counts)
        .map(([l, n]) => `${n} ${l}`)
        .join(', ')}`,
    );
  }

  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  const rate = (id) => byId[id]?.okPerSec ?? byId[id]?.eventsPerSec;
  const ratios = {
    gateway_vs_bareFastify: ratio(rate('http.gateway-tenant-get'), rate('http.fastify-bare')),
    [`gateway_vs_tenantsOverNats@${CONNECTIONS}`]: ratio(
      rate('http.gateway-tenant-get'),
      rate(`nats.tenants-get@${CONNECTIONS}`),
    ),
    [`gateway_vs_rawRequestReply@${CONNECTIONS}`]: ratio(
      rate('http.gateway-tenant-get'),
      rate(`nats.echo@${CONNECTIONS}`),
    ),
    ...Object.fromEntries(
      unique([CONNECTIONS, IN_FLIGHT]).map((c) => [
        `tenantsOverNats_vs_rawRequestReply@${c}`,
        ratio(rate(`nats.tenants-get@${c}`), rate(`nats.echo@${c}`)),
      ]),
    ),
    ...Object.fromEntries(
      unique([CONNECTIONS, IN_FLIGHT]).map((c) => [
        `tenantsOverNats_vs_pgResponder@${c}`,
        ratio(rate(`nats.tenants-get@${c}`), rate(`nats.pg-responder@${c}`)),
      ]),
    ),
    // CPU milliseconds the gateway spends per forwarded request, over bare Fastify's per request
    gatewayCpuPerRequest_vs_bareFastify: ratio(
      byId['http.gateway-tenant-get']?.cpuMsPerOp?.gateway,
      byId['http.fastify-bare']?.cpuMsPerOp?.fastify,
    ),
    // the floor: the minimal forwarder's CPU per request over bare Fastify's, and the gateway over it
    forwarderCpuPerRequest_vs_bareFastify: ratio(
      byId['http.forwarder-floor']?.cpuMsPerOp?.forwarder,
      byId['http.fastify-bare']?.cpuMsPerOp?.fastify,
    ),
    gatewayCpuPerRequest_vs_forwarder: ratio(
      byId['http.gateway-tenant-get']?.cpuMsPerOp?.gateway,
      byId['http.forwarder-floor']?.cpuMsPerOp?.forwarder,
    ),
    gateway_vs_forwarder: ratio(rate('http.gateway-tenant-get'), rate('http.forwarder-floor')),
    // the tenants service's CPU per request over the plain pg responder's
    tenantsCpuPerRequest_vs_pgResponder: ratio(
      byId[`nats.tenants-get@${CONNECTIONS}`]?.cpuMsPerOp?.tenants,
      byId[`nats.pg-responder@${CONNECTIONS}`]?.cpuMsPerOp?.pgResponder,
    ),
    pipeline_vs_jetstreamPublishAck: ratio(
      rate('events.pipeline-live'),
      rate('events.jetstream-publish-ack'),
    ),
    pipeline_vs_multiRowInsert: ratio(rate('events.pipeline-live'), rate('events.pg-insert-plain')),
    pipelineSteady_vs_jetstreamPublishAck: ratio(
      byId['events.pipeline-live']?.steadyEventsPerSec,
      rate('events.jetstream-publish-ack'),
    ),
    pipelineSteady_vs_multiRowInsert: ratio(
      byId['events.pipeline-live']?.steadyEventsPerSec,
      rate('events.pg-insert-plain'),
    ),
    pipeline_vs_slowerOfTheTwo: ratio(
      rate('events.pipeline-live'),
      Math.min(rate('events.jetstream-publish-ack'), rate('events.pg-insert-plain')),
    ),
    consumerDrain_vs_multiRowInsert: ratio(
      rate('events.consumer-drain-backlog'),
      rate('events.pg-insert-plain'),
    ),
    repositoryShapeInsert_vs_multiRowInsert: ratio(
      rate('events.pg-insert-repository-shape'),
      rate('events.pg-insert-plain'),
    ),
  };

  if (profiling.note) notes.push(profiling.note);
  printTable(rows, ratios, notes);
  return {
    settings: {
      durationS: DURATION_S,
      httpConnections: CONNECTIONS,
      natsInFlight: IN_FLIGHT,
      events: EVENTS,
      eventTenants: EVENT_TENANTS,
      natsEchoPayloadBytes: NATS_PAYLOAD,
      insertBatch: INSERT_BATCH,
      pinned: PIN,
      profiled: !!profiling.dir,
      cpus: { serverSide: SERVER_CPU, loadGenerator: LOADGEN_CPU },
    },
    infra,
    rows,
    ratios,
    notes,
    serviceLog: logSummary,
  };
}

// ---------------------------------------------------------------------------

/** [min, max] of a (possibly long) array of numbers. */
function range(values) {
  return values.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
}

function unique(values) {
  return [...new Set(values)];
}

/** An active tenant (POST /v1/tenants answers 202; provisioning brings it up across the services). */
function createTenant(gatewayUrl, namespace, auth) {
  return createActiveTenant(
    gatewayUrl,
    null,
    { name: 'Bench', slug: `bench-${namespace.replace(/_/g, '-')}`, plan: 'enterprise' },
    { headers: auth },
  );
}

/** Audit events matching AuditEventV1Schema, spread over EVENT_TENANTS tenants. */
function eventFactory() {
  const tenants = Array.from({ length: EVENT_TENANTS }, () => uuidv7());
  let n = 0;
  const make = () => {
    n++;
    return {
      schemaVersion: 1,
      id: uuidv7(),
      tenantId: tenants[n % EVENT_TENANTS],
      occurredAt: new Date().toISOString(),
      category: 'bench',
      action: 'bench.event',
      outcome: 'success',
      actor: { type: 'service', id: 'bench' },
      data: { n, note: 'spine benchmark' },
    };
  };
  return { next: make, sampleBytes: encoder.encode(JSON.stringify(make())).length };
}

function pgUrl(database) {
  const url = new URL(LOCAL_INFRA.bootstrapUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function pgClient(database) {
  const client = new pg.Client({ connectionString: pgUrl(database) });
  await client.connect();
  return client;
}

async function postgresVersion() {
  const c = await pgClient('postgres');
  try {
    const settings = await c.query(
      `SELECT name, setting FROM pg_settings WHERE name IN ('server_version','fsync','synchronous_commit','shared_buffers')`,
    );
    return Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
  } finally {
    await c.end();
  }
}

/**
 * CREATE TABLE + CREATE INDEX statements reproducing the live audit_events (columns, types,
 * defaults, NOT NULL, constraints, indexes) as the audit service's migrations left it. Row-level
 * security is not copied: the baseline writes as a superuser, which bypasses it anyway.
 */
async function auditTableDdl(db) {
  const cols = await db.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS default_expr
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = 'audit_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
  );
  const constraints = await db.query(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = 'audit_events'::regclass AND contype IN ('p', 'u', 'c')`,
  );
  const indexes = await db.query(
    `SELECT indexdef FROM pg_indexes
      WHERE tablename = 'audit_events' AND indexname NOT IN
        (SELECT conname FROM pg_constraint WHERE conrelid = 'audit_events'::regclass)`,
  );
  const parts = [
    ...cols.rows.map(
      (c) =>
        `"${c.name}" ${c.type}${c.not_null ? ' NOT NULL' : ''}${c.default_expr ? ` DEFAULT ${c.default_expr}` : ''}`,
    ),
    ...constraints.rows.map((c) => `CONSTRAINT "${c.conname}" ${c.def}`),
  ];
  return [
    `CREATE TABLE audit_events (${parts.join(', ')})`,
    ...indexes.rows.map((r) => r.indexdef),
  ];
}

const INSERT_COLUMNS = [
  'tenant_id',
  'id',
  'schema_version',
  'occurred_at',
  'category',
  'action',
  'outcome',
  'actor_type',
  'actor_id',
  'actor_name',
  'target_type',
  'target_id',
  'request_id',
  'data',
  'stream_sequence',
];

function toParams(event, seq) {
  return [
    event.tenantId,
    event.id,
    event.schemaVersion,
    event.occurredAt,
    event.category,
    event.action,
    event.outcome,
    event.actor.type,
    event.actor.id,
    event.actor.name ?? null,
    event.target?.type ?? null,
    event.target?.id ?? null,
    event.requestId ?? null,
    JSON.stringify(event.data ?? null),
    seq,
  ];
}

function valuesSql(rows, onConflict) {
  const n = INSERT_COLUMNS.length;
  const tuples = Array.from(
    { length: rows },
    (_, i) => `(${Array.from({ length: n }, (_, j) => `$${i * n + j + 1}`).join(',')})`,
  );
  return `INSERT INTO audit_events (${INSERT_COLUMNS.join(',')}) VALUES ${tuples.join(',')}${
    onConflict ? ' ON CONFLICT DO NOTHING' : ''
  }`;
}

/**
 * `plain`: one multi-row INSERT of 500 rows per statement, autocommit (as anchors/postgres).
 * `repository-shape`: the audit repository's first write shape for a 500-event batch: one
 * transaction, and per tenant in it set_config('app.tenant_id') + a multi-row INSERT ... ON CONFLICT
 * DO NOTHING, each statement its own round trip (no RLS here: superuser on a table without
 * policies). AuditEventRepository now sends the same statements in one round trip; this row shows
 * what the round trips cost.
 */
async function insertBaseline(client, events, variant) {
  const cols = await client.query(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_events'`,
  );
  const missing = INSERT_COLUMNS.filter((c) => !cols.rows.some((r) => r.column_name === c));
  if (missing.length) throw new Error(`scratch audit_events lacks columns ${missing.join(', ')}`);

  let seq = 0;
  const batchOf = (size) => Array.from({ length: size }, () => events.next());
  const plainSql = valuesSql(INSERT_BATCH, false);
  const step = async (batch) => {
    if (variant === 'plain') {
      await client.query({
        name: 'bench_ins500',
        text: plainSql,
        values: batch.flatMap((e) => toParams(e, ++seq)),
      });
      return;
    }
    const byTenant = new Map();
    for (const e of batch) byTenant.set(e.tenantId, [...(byTenant.get(e.tenantId) ?? []), e]);
    await client.query('BEGIN');
    for (const [tenantId, list] of byTenant) {
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
      await client.query(
        valuesSql(list.length, true),
        list.flatMap((e) => toParams(e, ++seq)),
      );
    }
    await client.query('COMMIT');
  };

  await client.query('TRUNCATE audit_events');
  for (let i = 0; i < 3; i++) await step(batchOf(INSERT_BATCH)); // warm-up
  await client.query('TRUNCATE audit_events');
  const batches = [];
  for (let left = EVENTS; left > 0; left -= INSERT_BATCH)
    batches.push(batchOf(Math.min(INSERT_BATCH, left)));
  const t0 = process.hrtime.bigint();
  for (const batch of batches) {
    if (batch.length === INSERT_BATCH || variant !== 'plain') await step(batch);
    else {
      await client.query(
        valuesSql(batch.length, false),
        batch.flatMap((e) => toParams(e, ++seq)),
      );
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const counted = Number((await client.query('SELECT count(*) AS n FROM audit_events')).rows[0].n);
  if (counted !== EVENTS)
    throw new Error(`${variant} insert: counted ${counted}, expected ${EVENTS}`);
  return variant === 'plain'
    ? {
        id: 'events.pg-insert-plain',
        what: `plain multi-row INSERT, ${INSERT_BATCH} rows per statement, one connection (baseline)`,
        kind: 'baseline',
        events: EVENTS,
        seconds: +seconds.toFixed(3),
        eventsPerSec: Math.round(EVENTS / seconds),
        msPerStatement: +((seconds * 1000) / batches.length).toFixed(2),
      }
    : {
        id: 'events.pg-insert-repository-shape',
        what: `${INSERT_BATCH}-event transactions, per tenant set_config + INSERT ON CONFLICT, one round trip per statement (diagnostic)`,
        kind: 'diagnostic',
        events: EVENTS,
        seconds: +seconds.toFixed(3),
        eventsPerSec: Math.round(EVENTS / seconds),
        msPerTransaction: +((seconds * 1000) / batches.length).toFixed(2),
        statementsPerTransaction: 1 + 2 * EVENT_TENANTS + 1,
      };
}

/**
 * CPU of a meter at each change of the row count, so that a row's CPU can be read up to the last
 * change before a held-back final batch (whose ~10 s wait would only dilute it).
 */
function cpuProgress(meter, startCount) {
  const snaps = [];
  return {
    onChange(n) {
      snaps.push({ events: n - startCount, ...meter.sample() });
      if (snaps.length > 2) snaps.shift();
    },
    result(tailHeldBack) {
      const snap = tailHeldBack && snaps.length > 1 ? snaps[0] : snaps[snaps.length - 1];
      if (!snap || !snap.events) return {};
      return {
        cpuPercent: snap.percent,
        cpuWindow: { seconds: +snap.seconds.toFixed(3), events: snap.events },
        cpuMsPerOp: Object.fromEntries(
          Object.entries(snap.percent)
            .filter(([k, v]) => !['machine', 'other', 'otherTop'].includes(k) && v > 0)
            .map(([k, v]) => [k, +(((v / 100) * snap.seconds * 1000) / snap.events).toFixed(3)]),
        ),
      };
    },
  };
}

/** Polls `count()` every 50 ms until it reaches `target`, or it stalls for STALL_MS. */
async function waitForCount(count, target, onChange) {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await count();
    if (n !== last && last !== -1) onChange?.(n);
    if (n >= target) return { count: n, reached: true };
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      log(`  rows stalled at ${n} of ${target} for ${STALL_MS / 1000} s; giving up`);
      return { count: n, reached: false };
    }
    await sleep(POLL_MS);
  }
}

/**
 * From the committed rows of one stream-sequence range: the consumer's transactions (rows sharing
 * a `recorded_at`, which is now() = the transaction's start), their size and cadence, and the
 * publish -> transaction-start latency (occurred_at is set just before each publish).
 */
async function ledgerStats(db, fromSeq, toSeq) {
  const where = `category = 'bench' AND stream_sequence BETWEEN $1 AND $2`;
  const tx = await db.query(
    `SELECT extract(epoch FROM recorded_at)::float8 AS at, count(*)::int AS n
       FROM audit_events WHERE ${where} GROUP BY recorded_at ORDER BY recorded_at`,
    [fromSeq, toSeq],
  );
  const lat = await db.query(
    `SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP
              (ORDER BY extract(epoch FROM recorded_at - occurred_at))::float8[] AS q
       FROM audit_events WHERE ${where}`,
    [fromSeq, toSeq],
  );
  const txs = tx.rows;
  const total = txs.reduce((a, t) => a + t.n, 0);
  const k = txs.length;
  const gaps = txs.slice(1).map((t, i) => t.at - txs[i].at);
  const sortedGaps = [...gaps].sort((a, b) => a - b);
  const medianGap = sortedGaps.length ? sortedGaps[Math.floor(sortedGaps.length / 2)] : null;
  const lastGap = gaps.length ? gaps[gaps.length - 1] : null;
  // rows of transactions 1..k-1 were written between the starts of the first and of the last
  const span = k > 1 ? txs[k - 1].at - txs[0].at : 0;
  // the same without the last gap, which a held-back final batch can stretch (see README)
  const steadySpan = k > 2 ? txs[k - 2].at - txs[0].at : 0;
  const steadyRows = k > 2 ? total - txs[k - 1].n - txs[k - 2].n : 0;
  const [p50, p99] = lat.rows[0].q ?? [null, null];
  const ms = (s) => (s === null || s === undefined ? null : +(s * 1000).toFixed(1));
  return {
    transactions: k,
    meanEventsPerTransaction: k ? +(total / k).toFixed(1) : null,
    lastTransactionEvents: k ? txs[k - 1].n : null,
    medianGapBetweenTransactions_ms: ms(medianGap),
    gapBeforeLastTransaction_ms: ms(lastGap),
    tailHeldBack: lastGap !== null && medianGap !== null && lastGap > Math.max(1, 10 * medianGap),
    commitSpanSeconds: +span.toFixed(3),
    commitSpanEventsPerSec: span > 0 ? Math.round((total - txs[k - 1].n) / span) : null,
    steadyEventsPerSec: steadySpan > 0 ? Math.round(steadyRows / steadySpan) : null,
    publishToTxStart_p50_ms: ms(p50),
    publishToTxStart_p99_ms: ms(p99),
  };
}

function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function printTable(rows, ratios, notes) {
  const http = rows.filter((r) => r.id.startsWith('http.') || r.id.startsWith('nats.'));
  const ev = rows.filter((r) => r.id.startsWith('events.'));
  log('\n(1) request path: ops/s counts successful replies only');
  log(
    table(
      http.map((r) => ({ ...r, cpu: cpuText(r.cpuPercent) })),
      [
        { key: 'id', title: 'row', align: 'left' },
        { key: 'kind', title: 'kind', align: 'left' },
        { key: 'concurrency', title: 'conc' },
        { key: 'okPerSec', title: 'ok/s' },
        { key: 'mean_ms', title: 'mean ms' },
        { key: 'p50_ms', title: 'p50 ms' },
        { key: 'p99_ms', title: 'p99 ms' },
        { key: 'cpu', title: 'cpu% (100 = 1 core)', align: 'left' },
      ],
    ),
  );
  log(`\n(2) event path: ${EVENTS.toLocaleString('en-US')} events per row`);
  log(
    table(
      ev.map((r) => ({
        ...r,
        lat:
          r.publishToTxStart_p50_ms !== undefined
            ? `publish->tx ${r.publishToTxStart_p50_ms}/${r.publishToTxStart_p99_ms}`
            : r.p50_ms !== undefined
              ? `ack ${r.p50_ms}/${r.p99_ms}`
              : '',
      })),
      [
        { key: 'id', title: 'row', align: 'left' },
        { key: 'kind', title: 'kind', align: 'left' },
        { key: 'eventsPerSec', title: 'events/s' },
        { key: 'seconds', title: 'seconds' },
        { key: 'meanEventsPerTransaction', title: 'ev/tx' },
        { key: 'lat', title: 'p50/p99 ms', align: 'left' },
      ],
    ),
  );
  log('\nratios (same run)');
  log(
    table(
      Object.entries(ratios).map(([k, v]) => ({ k, v })),
      [
        { key: 'k', title: 'ratio', align: 'left' },
        { key: 'v', title: 'value' },
      ],
    ),
  );
  if (notes.length) log(`\nnotes:\n${notes.map((n) => `  - ${n}`).join('\n')}`);
}

function cpuText(c) {
  if (!c) return '';
  const { otherTop, ...rest } = c;
  const main = Object.entries(rest)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return otherTop
    ? `${main} (${Object.entries(otherTop)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`
    : main;
}
