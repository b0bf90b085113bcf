/**
 * SIEM delivery against the real thing: the audit service's Nest module in this process on
 * the machine's PostgreSQL and NATS (its own namespace), events appended to the ledger by
 * the ledger's own writer, and a real node:http server as the receiver, which records every
 * request, answers what a test plans (500, 429 with Retry-After, 400…) and checks each
 * webhook's HMAC signature the way the contract tells receivers to.
 */
import 'reflect-metadata';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Writable } from 'node:stream';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AppError,
  AUDIT_WEBHOOK_TOLERANCE_SECONDS,
  Namespace,
  AuditSinkRpc,
  type AuditEvent,
  type AuditSink,
  type AuditSinkEntry,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
} from '@tenantry/contracts';
import { EventPublisher, newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import { TenantTransactions } from '@tenantry/persistence';
import { NestPinoLogger, parseConfig } from '@tenantry/runtime';
import {
  cleanupNamespace,
  connectTestNats,
  freePort,
  LOCAL_INFRA,
  testNamespace,
  waitFor,
} from '@tenantry/testing';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { service } from '../src/app.module.js';
import { LedgerWriter } from '../src/ledger/ledger.writer.js';

const CATEGORY = 'sinktest';
const ACTOR = 'user:01a00000-0000-7000-8000-0000000000aa';

/** A request as the receiver got it. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** What the receiver answered. */
  status: number;
  /** The webhook signature checked with the path's secret (null: no secret known, or HEC). */
  signatureValid: boolean | null;
}

interface PlannedAnswer {
  status: number;
  headers?: Record<string, string>;
}

/**
 * The receiver: one node:http server, one "endpoint" per path, each with its own planned
 * answers (200 once the plan is used up) and its own secret to verify signatures with.
 */
class Receiver {
  readonly requests: Received[] = [];
  private readonly plans = new Map<string, PlannedAnswer[]>();
  private readonly secrets = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<Receiver> {
    const port = await freePort();
    const server = createServer();
    const receiver = new Receiver(server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const body = Buffer.concat(chunks).toString('utf8');
        const answer = receiver.plans.get(path)?.shift() ?? { status: 200 };
        const secret = receiver.secrets.get(path);
        receiver.requests.push({
          path,
          headers: req.headers,
          body,
          at: Date.now(),
          status: answer.status,
          signatureValid: secret === undefined ? null : verifySignature(req.headers, body, secret),
        });
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.status < 300 ? 'ok' : `answer ${answer.status}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  url(path: string): string {
    return `${this.origin}${path}`;
  }

  /** The next answers of `path` (then 200 again). */
  plan(path: string, ...answers: PlannedAnswer[]): void {
    this.plans.set(path, answers);
  }

  expectSecret(path: string, secret: string): void {
    this.secrets.set(path, secret);
  }

  at(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** The events of the requests to `path` that it answered with 2xx, in arrival order. */
  delivered(path: string): AuditSinkEntry[] {
    return this.at(path)
      .filter((r) => r.status < 300)
      .flatMap((r) => (JSON.parse(r.body) as { events: AuditSinkEntry[] }).events);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * How a receiver verifies a delivery (the contract's recipe, written independently of the
 * service's code): HMAC-SHA256 over "<t>.<raw body>" with the secret, compared in constant
 * time, and `t` within the tolerance of the receiver's clock.
 */
function verifySignature(headers: IncomingHttpHeaders, body: string, secret: string): boolean {
  const header = headers['tenantry-signature'];
  if (typeof header !== 'string') return false;
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=', 2)));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || typeof parts.v1 !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - t) > AUDIT_WEBHOOK_TOLERANCE_SECONDS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The audit service in this process, as runService builds it (without HTTP). */
async function startAudit(namespace: string, allowOrigin: string) {
  const config = parseConfig('audit', service.needs, {
    TENANTRY_NAMESPACE: namespace,
    NATS_URL: LOCAL_INFRA.natsUrl,
    DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
    DB_POOL_SIZE: '8',
    LOG_LEVEL: 'warn',
    AUDIT_SINK_ALLOW_HTTP: allowOrigin,
    AUDIT_SINK_POLL_MS: '200',
  });
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  return NestFactory.createApplicationContext(service.module(config), {
    logger: new NestPinoLogger(pino({ level: 'warn' }, quiet)),
    abortOnError: false,
  });
}

describe('audit sinks: SIEM delivery (real PostgreSQL, NATS and HTTP receiver)', () => {
  const namespace = testNamespace('sinks');
  let receiver: Receiver;
  let app: INestApplicationContext;
  let nats: NatsService;
  let rpc: RpcClient;
  let writer: LedgerWriter;
  let streamSequence = 0;

  beforeAll(async () => {
    receiver = await Receiver.start();
    app = await startAudit(namespace, receiver.origin);
    nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    rpc = new RpcClient(nats);
    writer = app.get(LedgerWriter, { strict: false });
  });

  afterAll(async () => {
    await app?.close();
    await nats?.drain().catch(() => undefined);
    await receiver?.close();
    await cleanupNamespace(namespace);
  });

  function call<C extends RpcContract>(
    contract: C,
    payload: RpcRequest<C>,
  ): Promise<RpcResponse<C>> {
    return rpc.request(contract, payload, {
      context: newContext({ actor: ACTOR }),
      timeoutMs: 20_000,
    });
  }

  async function failure<C extends RpcContract>(contract: C, payload: RpcRequest<C>) {
    try {
      await call(contract, payload);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error(`${contract.subject} succeeded, but the test expected it to fail`);
  }

  function event(tenantId: string, n: number, category = CATEGORY): AuditEvent {
    return {
      schemaVersion: 1,
      id: uuidv7(),
      tenantId,
      occurredAt: new Date().toISOString(),
      category,
      action: 'thing.done',
      outcome: 'success',
      actor: { type: 'user', id: 'u-1', ip: '203.0.113.9' },
      target: { type: 'thing', id: `thing-${n}` },
      data: { n, note: `event ${n}` },
    };
  }

  /**
   * Appends events to the tenant's chain in one transaction (the ledger's writer) and
   * returns their seqs, as the ledger assigned them (the service's own audit events of the
   * sink changes may land in the same chain meanwhile).
   */
  async function append(tenantId: string, events: AuditEvent[]): Promise<number[]> {
    await writer.append(events.map((e) => ({ event: e, streamSequence: ++streamSequence })));
    const tx = app.get(TenantTransactions, { strict: false });
    const rows: { id: string; seq: string }[] = await tx.run(tenantId, (m) =>
      m.query(`SELECT id, seq FROM audit_events WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [
        tenantId,
        events.map((e) => e.id),
      ]),
    );
    const seqOf = new Map(rows.map((r) => [r.id, Number(r.seq)]));
    return events.map((e) => seqOf.get(e.id)!);
  }

  async function webhook(
    tenantId: string,
    path: string,
    extra: Partial<RpcRequest<typeof AuditSinkRpc.create>> = {},
  ) {
    const created = await call(AuditSinkRpc.create, {
      tenantId,
      name: `sink ${path}`,
      type: 'webhook',
      url: receiver.url(path),
      categories: [CATEGORY],
      ...extra,
    });
    receiver.expectSecret(path, created.secret!);
    return created;
  }

  function sinkStatus(tenantId: string, sinkId: string): Promise<AuditSink> {
    return call(AuditSinkRpc.get, { tenantId, sinkId });
  }

  /** Waits until `path` has been delivered `count` events (answered 2xx). */
  function deliveredAt(path: string, count: number): Promise<AuditSinkEntry[]> {
    return waitFor(
      `${count} events delivered to ${path}`,
      async () => {
        const events = receiver.delivered(path);
        return events.length >= count && events;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  }

  it('delivers the ledger in seq order, in batches of batchSize, each signed, with the chain hashes', async () => {
    const tenantId = uuidv7();
    const path = '/order';
    await webhook(tenantId, path, { batchSize: 100 });
    const appended = Array.from({ length: 250 }, (_, i) => event(tenantId, i + 1));
    const seqs = await append(tenantId, appended);

    const delivered = await deliveredAt(path, 250);
    expect(delivered.map((e) => e.seq)).toEqual(seqs);
    // One append of 250: the loop sees them all at once and sends 100, 100, 50.
    const requests = receiver.at(path);
    expect(
      requests.map((r) => (JSON.parse(r.body) as { events: unknown[] }).events.length),
    ).toEqual([100, 100, 50]);
    for (const request of requests) {
      expect(request.signatureValid).toBe(true);
      expect(request.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request.body)).toMatchObject({ tenantId });
    }
    expect(new Set(requests.map((r) => r.headers['tenantry-delivery-id'])).size).toBe(3);
    // The public event JSON with its place in the chain: each prevHash is the previous hash.
    expect(delivered[0]).toMatchObject({
      id: appended[0]!.id,
      tenantId,
      seq: seqs[0],
      category: CATEGORY,
      action: 'thing.done',
      severity: 'info',
      actor: { type: 'user', id: 'u-1', ip: '203.0.113.9' },
      target: { type: 'thing', id: 'thing-1' },
      data: { n: 1, note: 'event 1' },
      occurredAt: appended[0]!.occurredAt,
    });
    for (let i = 1; i < delivered.length; i++) {
      expect(delivered[i]!.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(delivered[i]!.prevHash).toBe(delivered[i - 1]!.hash);
    }
  });

  it('delivers what publishers send through the AUDIT stream, once the ledger appended it', async () => {
    const tenantId = uuidv7();
    const path = '/published';
    await webhook(tenantId, path);
    const published = [1, 2, 3].map((n) => event(tenantId, n));
    const publisher = new EventPublisher(nats);
    for (const e of published) await publisher.publishAudit(e);
    // A publisher's retry is stored once, and delivered once.
    await publisher.publishAudit(published[1]!);

    const delivered = await deliveredAt(path, 3);
    expect(delivered.map((e) => e.id)).toEqual(published.map((e) => e.id));
    expect(delivered.map((e) => e.seq)).toEqual(
      [...delivered.map((e) => e.seq)].sort((x, y) => x - y),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.delivered(path)).toHaveLength(3);
  });

  it('retries a 500 with backoff and delivers once the receiver takes it, still in order', async () => {
    const tenantId = uuidv7();
    const path = '/flaky';
    const sink = await webhook(tenantId, path);
    receiver.plan(path, { status: 500 }, { status: 500 });
    const first = await append(
      tenantId,
      [1, 2, 3].map((n) => event(tenantId, n)),
    );

    expect((await deliveredAt(path, 3)).map((e) => e.seq)).toEqual(first);
    const attempts = receiver.at(path);
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
    // The same batch each time, under a new delivery id, after 1 s then 2 s (at least).
    for (const attempt of attempts)
      expect(
        (JSON.parse(attempt.body) as { events: AuditSinkEntry[] }).events.map((e) => e.seq),
      ).toEqual(first);
    expect(new Set(attempts.map((r) => r.headers['tenantry-delivery-id'])).size).toBe(3);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(1900);

    const next = await append(
      tenantId,
      [4, 5].map((n) => event(tenantId, n)),
    );
    expect((await deliveredAt(path, 5)).map((e) => e.seq)).toEqual([...first, ...next]);
    const status = (await sinkStatus(tenantId, sink.id)).status;
    expect(status).toMatchObject({
      consecutiveFailures: 0,
      deadLetters: 0,
      lastError: expect.stringContaining('HTTP 500') as string,
    });
    expect(status.lastSuccessAt).not.toBeNull();
  });

  it("honours a 429's Retry-After", async () => {
    const tenantId = uuidv7();
    const path = '/busy';
    await webhook(tenantId, path);
    receiver.plan(path, { status: 429, headers: { 'retry-after': '3' } });
    const seqs = await append(tenantId, [event(tenantId, 1)]);

    expect((await deliveredAt(path, 1)).map((e) => e.seq)).toEqual(seqs);
    const [refused, accepted] = receiver.at(path);
    expect(refused!.status).toBe(429);
    // Without Retry-After the first retry comes after 1 to 1.25 s.
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(2900);
  });

  it('dead-letters a batch the receiver refuses (400) at once, moves on, and replays it on demand', async () => {
    const tenantId = uuidv7();
    const path = '/strict';
    const sink = await webhook(tenantId, path);
    receiver.plan(path, { status: 400 });
    const refused = await append(
      tenantId,
      [1, 2, 3].map((n) => event(tenantId, n)),
    );

    const [letter] = await waitFor('a dead letter', async () => {
      const page = await call(AuditSinkRpc.deadLetters, { tenantId, sinkId: sink.id });
      return page.items.length > 0 && page.items;
    });
    expect(letter).toMatchObject({
      sinkId: sink.id,
      tenantId,
      firstSeq: refused[0],
      lastSeq: refused[2],
      events: 3,
      attempts: 1,
      lastStatus: 400,
      lastError: 'HTTP 400: answer 400',
    });
    // The cursor moved on: what follows is delivered.
    const later = await append(
      tenantId,
      [4, 5].map((n) => event(tenantId, n)),
    );
    expect((await deliveredAt(path, 2)).map((e) => e.seq)).toEqual(later);
    expect(receiver.at(path).filter((r) => r.status === 400)).toHaveLength(1);
    const moved = await waitFor('the cursor at the head', async () => {
      const { status } = await sinkStatus(tenantId, sink.id);
      return status.lag === 0 && status;
    });
    expect(moved.deliveredThroughSeq).toBeGreaterThanOrEqual(later[1]!);
    expect(moved.deadLetters).toBe(1);

    // A replay the receiver still refuses keeps the letter, one attempt more.
    receiver.plan(path, { status: 503 });
    const failed = await call(AuditSinkRpc.replay, {
      tenantId,
      sinkId: sink.id,
      deadLetterId: letter!.id,
    });
    expect(failed).toMatchObject({ delivered: false, status: 503, events: 3 });
    const kept = await call(AuditSinkRpc.deadLetters, { tenantId, sinkId: sink.id });
    expect(kept.items).toEqual([
      expect.objectContaining({ id: letter!.id, attempts: 2, lastStatus: 503 }),
    ]);

    // One it takes removes it; the receiver got the range again, signed.
    const replayed = await call(AuditSinkRpc.replay, {
      tenantId,
      sinkId: sink.id,
      deadLetterId: letter!.id,
    });
    expect(replayed).toMatchObject({ delivered: true, status: 200, events: 3, error: null });
    const last = receiver.at(path).at(-1)!;
    expect(last.signatureValid).toBe(true);
    expect(
      (JSON.parse(last.body) as { events: AuditSinkEntry[] }).events.map((e) => e.seq),
    ).toEqual(refused);
    expect((await call(AuditSinkRpc.deadLetters, { tenantId, sinkId: sink.id })).items).toEqual([]);
    const gone = await failure(AuditSinkRpc.replay, {
      tenantId,
      sinkId: sink.id,
      deadLetterId: letter!.id,
    });
    expect(gone.reason).toBe('AUDIT_SINK_DEAD_LETTER_NOT_FOUND');
  });

  it('dead-letters a batch after maxAttempts failed attempts', async () => {
    const tenantId = uuidv7();
    const path = '/down';
    const sink = await webhook(tenantId, path, { maxAttempts: 2 });
    receiver.plan(path, { status: 503 }, { status: 503 });
    const seqs = await append(
      tenantId,
      [1, 2].map((n) => event(tenantId, n)),
    );

    const [letter] = await waitFor('a dead letter', async () => {
      const page = await call(AuditSinkRpc.deadLetters, { tenantId, sinkId: sink.id });
      return page.items.length > 0 && page.items;
    });
    expect(letter).toMatchObject({
      firstSeq: seqs[0],
      lastSeq: seqs[1],
      attempts: 2,
      lastStatus: 503,
    });
    expect(receiver.at(path).map((r) => r.status)).toEqual([503, 503]);
    const later = await append(tenantId, [event(tenantId, 3)]);
    expect((await deliveredAt(path, 1)).map((e) => e.seq)).toEqual(later);
  });

  it('delivers only the categories a sink asks for, and its cursor passes the others', async () => {
    const tenantId = uuidv7();
    const path = '/alpha';
    const sink = await webhook(tenantId, path, { categories: ['alpha'] });
    const seqs = await append(tenantId, [
      event(tenantId, 1, 'alpha'),
      event(tenantId, 2, 'beta'),
      event(tenantId, 3, 'alpha'),
      event(tenantId, 4, 'beta'),
      event(tenantId, 5, 'beta'),
    ]);

    const delivered = await deliveredAt(path, 2);
    expect(delivered.map((e) => [e.seq, e.category])).toEqual([
      [seqs[0], 'alpha'],
      [seqs[2], 'alpha'],
    ]);
    const status = await waitFor('the cursor at the head', async () => {
      const { status } = await sinkStatus(tenantId, sink.id);
      return status.lag === 0 && status;
    });
    expect(status.deliveredThroughSeq).toBeGreaterThanOrEqual(seqs[4]!);
    expect(receiver.delivered(path).every((e) => e.category === 'alpha')).toBe(true);
  });

  it('delivers nothing to a disabled sink, and resumes where it stopped when enabled', async () => {
    const tenantId = uuidv7();
    const off = await webhook(tenantId, '/off', { enabled: false });
    await webhook(tenantId, '/on');
    const seqs = await append(
      tenantId,
      [1, 2, 3].map((n) => event(tenantId, n)),
    );

    // The enabled sibling got them; several polls later, the disabled one still has nothing.
    await deliveredAt('/on', 3);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.at('/off')).toEqual([]);
    expect((await sinkStatus(tenantId, off.id)).status).toMatchObject({
      nextAttemptAt: null,
      deliveredThroughSeq: 0,
    });
    expect((await sinkStatus(tenantId, off.id)).status.lag).toBeGreaterThanOrEqual(3);

    await call(AuditSinkRpc.update, { tenantId, sinkId: off.id, enabled: true });
    expect((await deliveredAt('/off', 3)).map((e) => e.seq)).toEqual(seqs);
  });

  it("starts at the tenant's head (now) or at the beginning of its ledger, as asked", async () => {
    const tenantId = uuidv7();
    const earlier = await append(
      tenantId,
      [1, 2].map((n) => event(tenantId, n)),
    );
    await webhook(tenantId, '/from-start', { startFrom: 'beginning' });
    const now = await webhook(tenantId, '/from-now');
    // Its cursor starts at the head (which may also hold the service's own event of the
    // first sink's creation by then): nothing of before is delivered to it.
    expect(now.status.deliveredThroughSeq).toBeGreaterThanOrEqual(earlier[1]!);
    const later = await append(tenantId, [event(tenantId, 3)]);
    expect((await deliveredAt('/from-start', 3)).map((e) => e.seq)).toEqual([...earlier, ...later]);
    expect((await deliveredAt('/from-now', 1)).map((e) => e.seq)).toEqual(later);
  });

  it('renames, pages, deletes, and records each change in the audit log without the secret', async () => {
    const tenantId = uuidv7();
    const first = await webhook(tenantId, '/crud-1');
    const second = await webhook(tenantId, '/crud-2');
    const page1 = await call(AuditSinkRpc.list, { tenantId, limit: 1 });
    expect(page1.items.map((s) => s.id)).toEqual([second.id]);
    const page2 = await call(AuditSinkRpc.list, { tenantId, limit: 1, cursor: page1.nextCursor! });
    expect(page2).toEqual({ items: [expect.objectContaining({ id: first.id })], nextCursor: null });

    const taken = await failure(AuditSinkRpc.update, {
      tenantId,
      sinkId: second.id,
      name: first.name,
    });
    expect(taken).toMatchObject({ reason: 'AUDIT_SINK_NAME_TAKEN' });
    expect(taken.errors?.[0]?.field).toBe('name');
    const renamed = await call(AuditSinkRpc.update, {
      tenantId,
      sinkId: second.id,
      name: 'Renamed',
      batchSize: 5,
    });
    expect(renamed).toMatchObject({ name: 'Renamed', batchSize: 5, url: receiver.url('/crud-2') });

    expect(await call(AuditSinkRpc.delete, { tenantId, sinkId: second.id })).toEqual({
      deleted: true,
    });
    expect((await failure(AuditSinkRpc.get, { tenantId, sinkId: second.id })).reason).toBe(
      'AUDIT_SINK_NOT_FOUND',
    );
    await append(tenantId, [event(tenantId, 1)]);
    await deliveredAt('/crud-1', 1);
    expect(receiver.at('/crud-2')).toEqual([]);

    // Each change is an event of the tenant's own audit log (category audit), by the caller.
    const recorded = await waitFor('the sink changes in the AUDIT stream', async () => {
      const stream = new Namespace(namespace).stream('AUDIT');
      const info = await nats.jsm.streams.info(stream);
      const found: { subject: string; data: AuditEvent }[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const message = await nats.jsm.streams.getMessage(stream, { seq }).catch(() => null);
        const data = message?.json<AuditEvent>();
        if (message && data?.tenantId === tenantId) found.push({ subject: message.subject, data });
      }
      return found.length >= 4 && found;
    });
    expect(recorded.map((r) => [r.data.action, r.data.target?.id])).toEqual([
      ['audit_sink.created', first.id],
      ['audit_sink.created', second.id],
      ['audit_sink.updated', second.id],
      ['audit_sink.deleted', second.id],
    ]);
    for (const { subject, data } of recorded) {
      expect(subject.endsWith(`audit.${tenantId}.audit`)).toBe(true);
      expect(data.actor).toEqual({ type: 'user', id: ACTOR.split(':')[1] });
      expect(JSON.stringify(data)).not.toContain(first.secret);
      expect(JSON.stringify(data)).not.toContain(second.secret);
    }
    expect(recorded[2]!.data).toMatchObject({
      severity: 'notice',
      data: { changed: ['name', 'batchSize'], secretReplaced: false },
      changes: {
        before: { name: second.name, batchSize: 100 },
        after: { name: 'Renamed', batchSize: 5 },
      },
    });
    expect(recorded[3]!.data.severity).toBe('warning');
  });

  it('refuses plain http and private or loopback addresses, naming url', async () => {
    const tenantId = uuidv7();
    const create = (url: string) =>
      failure(AuditSinkRpc.create, { tenantId, name: 'x', type: 'webhook', url });

    const http = await create('http://siem.example.com/hook');
    expect(http).toMatchObject({ reason: 'AUDIT_SINK_URL_NOT_HTTPS' });
    expect(http.errors).toEqual([expect.objectContaining({ field: 'url' })]);
    // The allowed origin is scheme, host and port: another port on the same host is not in it.
    const otherPort = await create('http://127.0.0.1:1/hook');
    expect(otherPort.reason).toBe('AUDIT_SINK_URL_NOT_HTTPS');

    for (const url of [
      'https://127.0.0.1/hook',
      'https://10.0.0.8/hook',
      'https://192.168.1.20:8443/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://localhost:8443/hook',
    ]) {
      const error = await create(url);
      expect([url, error.reason, error.errors?.[0]?.field]).toEqual([
        url,
        'AUDIT_SINK_URL_PRIVATE_ADDRESS',
        'url',
      ]);
    }

    const contract = await create('ftp://siem.example.com/hook');
    expect(contract.errors?.[0]?.field).toBe('url');
    const credentials = await create('https://user:pw@siem.example.com/hook');
    expect(credentials.errors?.[0]).toMatchObject({ field: 'url' });

    const sink = await webhook(tenantId, '/guarded');
    const update = await failure(AuditSinkRpc.update, {
      tenantId,
      sinkId: sink.id,
      url: 'https://10.9.8.7/hook',
    });
    expect(update).toMatchObject({ reason: 'AUDIT_SINK_URL_PRIVATE_ADDRESS' });
    expect(update.errors?.[0]?.field).toBe('url');
    expect((await sinkStatus(tenantId, sink.id)).url).toBe(receiver.url('/guarded'));
  });

  it('refuses a token on a webhook, a secret on Splunk HEC and HEC without its token, naming the field', async () => {
    const tenantId = uuidv7();
    const url = receiver.url('/fields');
    const token = await failure(AuditSinkRpc.create, {
      tenantId,
      name: 'a',
      type: 'webhook',
      url,
      token: 't',
    });
    expect(token.errors?.[0]?.field).toBe('token');
    const secret = await failure(AuditSinkRpc.create, {
      tenantId,
      name: 'b',
      type: 'splunk-hec',
      url,
      secret: 's'.repeat(40),
    });
    expect(secret.errors?.[0]?.field).toBe('secret');
    const missing = await failure(AuditSinkRpc.create, {
      tenantId,
      name: 'c',
      type: 'splunk-hec',
      url,
    });
    expect(missing).toMatchObject({ reason: 'AUDIT_SINK_TOKEN_REQUIRED' });
    expect(missing.errors?.[0]?.field).toBe('token');
    const short = await failure(AuditSinkRpc.create, {
      tenantId,
      name: 'd',
      type: 'webhook',
      url,
      secret: 'too-short',
    });
    expect(short.errors?.[0]?.field).toBe('secret');
  });

  it('shows a webhook secret once: generated at creation, never in get or list, used to sign', async () => {
    const tenantId = uuidv7();
    const created = await call(AuditSinkRpc.create, {
      tenantId,
      name: 'generated',
      type: 'webhook',
      url: receiver.url('/secret'),
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const got = await sinkStatus(tenantId, created.id);
    const listed = await call(AuditSinkRpc.list, { tenantId });
    for (const shown of [got, listed]) {
      expect(JSON.stringify(shown)).not.toContain(created.secret);
      expect(JSON.stringify(shown)).not.toContain('"secret"');
    }
    expect(listed.items.map((s) => s.id)).toEqual([created.id]);

    const given = 'my-own-webhook-secret-0123456789abcdef';
    const own = await call(AuditSinkRpc.create, {
      tenantId,
      name: 'given',
      type: 'webhook',
      url: receiver.url('/own-secret'),
      secret: given,
    });
    expect(own.secret).toBe(given);
    receiver.expectSecret('/own-secret', given);
    const result = await call(AuditSinkRpc.test, { tenantId, sinkId: own.id });
    expect(result).toMatchObject({ delivered: true, status: 200, events: 1, error: null });
    expect(receiver.at('/own-secret').at(-1)!.signatureValid).toBe(true);

    // A new secret replaces the old one for signing, and is not shown either.
    const rotated = 'rotated-webhook-secret-0123456789abcdefgh';
    const updated = await call(AuditSinkRpc.update, { tenantId, sinkId: own.id, secret: rotated });
    expect(JSON.stringify(updated)).not.toContain(rotated);
    await call(AuditSinkRpc.test, { tenantId, sinkId: own.id });
    expect(receiver.at('/own-secret').at(-1)!.signatureValid).toBe(false);
    receiver.expectSecret('/own-secret', rotated);
    await call(AuditSinkRpc.test, { tenantId, sinkId: own.id });
    expect(receiver.at('/own-secret').at(-1)!.signatureValid).toBe(true);
  });

  it('sends one synthetic, signed test event on demand and reports what the receiver said', async () => {
    const tenantId = uuidv7();
    const path = '/probe';
    const sink = await webhook(tenantId, path);
    const ok = await call(AuditSinkRpc.test, { tenantId, sinkId: sink.id });
    expect(ok).toMatchObject({ delivered: true, status: 200, events: 1 });
    const request = receiver.at(path).at(-1)!;
    expect(request.signatureValid).toBe(true);
    expect(request.headers['tenantry-delivery-id']).toBe(ok.deliveryId);
    const body = JSON.parse(request.body) as { test: boolean; events: AuditSinkEntry[] };
    expect(body.test).toBe(true);
    expect(body.events).toEqual([
      expect.objectContaining({
        seq: 0,
        action: 'audit.sink_tested',
        tenantId,
        hash: '0'.repeat(64),
      }),
    ]);

    receiver.plan(path, { status: 500 });
    const refused = await call(AuditSinkRpc.test, { tenantId, sinkId: sink.id });
    expect(refused).toMatchObject({ delivered: false, status: 500, error: 'HTTP 500: answer 500' });
  });

  it('delivers to Splunk HEC: one event object per line, with the Splunk token', async () => {
    const tenantId = uuidv7();
    const token = '6f2a1c3e-8d7b-4e9a-b1c2-3d4e5f6a7b8c';
    await call(AuditSinkRpc.create, {
      tenantId,
      name: 'splunk',
      type: 'splunk-hec',
      url: receiver.url('/hec'),
      token,
      categories: [CATEGORY],
    });
    const appended = [1, 2, 3].map((n) => event(tenantId, n));
    const seqs = await append(tenantId, appended);

    const [request] = await waitFor('a HEC request', async () => {
      const got = receiver.at('/hec/services/collector/event');
      return got.length > 0 && got;
    });
    expect(request!.headers.authorization).toBe(`Splunk ${token}`);
    const lines = request!.body
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { time: number; event: AuditSinkEntry } & Record<string, unknown>,
      );
    expect(lines.map((l) => l.event.seq)).toEqual(seqs);
    expect(lines[0]).toMatchObject({
      time: Date.parse(appended[0]!.occurredAt) / 1000,
      host: 'tenantry',
      source: 'tenantry:audit',
      sourcetype: 'tenantry:audit',
      event: { id: appended[0]!.id, tenantId, category: CATEGORY },
    });
  });

  it("keeps tenants apart: another tenant's sink is not found, listed, changed or fed", async () => {
    const [a, b] = [uuidv7(), uuidv7()];
    const sinkA = await webhook(a, '/tenant-a');
    const sinkB = await webhook(b, '/tenant-b');
    const ref = { tenantId: b, sinkId: sinkA.id };
    for (const [contract, payload] of [
      [AuditSinkRpc.get, ref],
      [AuditSinkRpc.update, { ...ref, enabled: false }],
      [AuditSinkRpc.delete, ref],
      [AuditSinkRpc.test, ref],
      [AuditSinkRpc.deadLetters, ref],
    ] as const) {
      const error = await failure(contract as RpcContract, payload);
      expect([contract.subject, error.reason]).toEqual([contract.subject, 'AUDIT_SINK_NOT_FOUND']);
    }
    expect((await call(AuditSinkRpc.list, { tenantId: b })).items.map((s) => s.id)).toEqual([
      sinkB.id,
    ]);
    // Row-level security under the app role: B's transaction sees B's sink only.
    const tx = app.get(TenantTransactions, { strict: false });
    const visible: { id: string }[] = await tx.run(b, (m) => m.query(`SELECT id FROM audit_sinks`));
    expect(visible.map((r) => r.id)).toEqual([sinkB.id]);

    const seqsA = await append(a, [event(a, 1), event(a, 2)]);
    const seqsB = await append(b, [event(b, 1)]);
    expect((await deliveredAt('/tenant-a', 2)).map((e) => [e.tenantId, e.seq])).toEqual(
      seqsA.map((s) => [a, s]),
    );
    expect((await deliveredAt('/tenant-b', 1)).map((e) => [e.tenantId, e.seq])).toEqual(
      seqsB.map((s) => [b, s]),
    );
    expect((await sinkStatus(a, sinkA.id)).enabled).toBe(true);
  });

  it('shares the sinks between two audit instances: every entry once, in order, per sink', async () => {
    const second = await startAudit(namespace, receiver.origin);
    try {
      const tenants = [uuidv7(), uuidv7(), uuidv7()];
      const paths = tenants.map((_, i) => `/shared-${i}`);
      for (const [i, tenantId] of tenants.entries())
        await webhook(tenantId, paths[i]!, { batchSize: 7 });
      const expected = new Map<string, number[]>();
      for (let round = 0; round < 5; round++)
        for (const [i, tenantId] of tenants.entries()) {
          const seqs = await append(
            tenantId,
            Array.from({ length: 12 }, (_, n) => event(tenantId, round * 12 + n)),
          );
          expected.set(paths[i]!, [...(expected.get(paths[i]!) ?? []), ...seqs]);
        }
      for (const path of paths) await deliveredAt(path, 60);
      // A little longer, for a duplicate to show if there were one.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const path of paths) {
        const seqs = receiver.delivered(path).map((e) => e.seq);
        expect([path, seqs]).toEqual([path, expected.get(path)]);
        expect(receiver.at(path).every((r) => r.status === 200 && r.signatureValid)).toBe(true);
      }
    } finally {
      await second.close();
    }
  });
});
