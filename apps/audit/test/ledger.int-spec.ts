import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  entryHash,
  GENESIS_HASH,
  leafHash,
  merkleRoot,
  verifyChain,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type LedgerEntry,
} from '@tenantry/audit-ledger';
import {
  AppError,
  AuditLedgerRpc,
  auditSubject,
  ErrorCode,
  Namespace,
  type AuditEvent,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
} from '@tenantry/contracts';
import { newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import { runMigrations, bootstrapDatabase } from '@tenantry/persistence';
import { parseConfig } from '@tenantry/runtime';
import {
  cleanupNamespace,
  connectTestNats,
  LOCAL_INFRA,
  scratchDatabase,
  testNamespace,
  waitFor,
} from '@tenantry/testing';
import { register, type Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { service } from '../src/app.module.js';
import { migrations } from '../src/database/migrations/index.js';
import { CheckpointSealer } from '../src/ledger/checkpoint.sealer.js';
import { LEDGER_COLUMNS, toLedgerEntry, type LedgerRow } from '../src/ledger/ledger.repository.js';
import { LedgerMembers } from '../src/ledger/ledger.members.js';
import { LedgerWriter, type EventToAppend } from '../src/ledger/ledger.writer.js';
import { AuditSigningKeyService } from '../src/ledger/signing-key.service.js';

const SUPERUSER = new URL(LOCAL_INFRA.bootstrapUrl);
const encoder = new TextEncoder();

/** A varied event: optional fields on some, hostile text on others. */
function event(tenantId: string, i: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  const hostile = `'); DROP TABLE audit_events; -- \\ $$ "q" ünïcödé 🚀 #${i}`;
  return {
    schemaVersion: 1,
    id: randomUUID(),
    tenantId,
    // As publishers send it: an offset and microseconds must survive as sent (they are hashed).
    occurredAt:
      i % 2
        ? `2026-03-01T10:00:${String(i % 60).padStart(2, '0')}.123456+02:00`
        : new Date().toISOString(),
    category: 'users',
    action: i % 3 ? 'user.updated' : 'user.created',
    outcome: i % 5 ? 'success' : 'failure',
    actor: {
      type: 'user',
      id: `u-${i % 4}`,
      ...(i % 2 ? { name: hostile, ip: '203.0.113.7', userAgent: 'curl/8', sessionId: 's-1' } : {}),
    },
    ...(i % 3 ? { target: { type: 'user', id: `t-${i}` } } : {}),
    ...(i % 4 === 1 ? { severity: 'warning' as const, reason: 'password expired' } : {}),
    ...(i % 6 === 2 ? { onBehalfOf: { type: 'tenant', id: tenantId } } : {}),
    ...(i % 2 ? { data: { note: hostile, nested: { list: [1, 'two', null] }, n: i } } : {}),
    ...(i % 7 === 3
      ? { changes: { before: { roles: ['member'] }, after: { roles: ['admin'] } } }
      : {}),
    ...overrides,
  };
}

const events = (tenantId: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => event(tenantId, from + i));

/**
 * Two audit instances in this process (their real Nest modules, as runService builds them)
 * sharing one namespace, database and durable consumer, on the machine's PostgreSQL and
 * NATS; an RPC client playing the gateway; a superuser connection for inspection and for
 * tampering with the ledger behind the service's back.
 */
class Ledger {
  private constructor(
    readonly namespace: string,
    readonly apps: INestApplicationContext[],
    readonly nats: NatsService,
    readonly rpc: RpcClient,
    readonly db: DataSource,
  ) {}

  static async start(instances: number): Promise<Ledger> {
    const namespace = testNamespace('ledger');
    const nats = await connectTestNats(LOCAL_INFRA.natsUrl, namespace);
    const config = parseConfig('audit', service.needs, {
      TENANTRY_NAMESPACE: namespace,
      NATS_URL: LOCAL_INFRA.natsUrl,
      REDIS_URL: LOCAL_INFRA.redisUrl,
      DB_BOOTSTRAP_URL: LOCAL_INFRA.bootstrapUrl,
      DB_POOL_SIZE: '6',
      LOG_LEVEL: 'warn',
      AUDIT_CHECKPOINT_SECONDS: '1',
    });
    const apps = await Promise.all(
      Array.from({ length: instances }, () =>
        NestFactory.createApplicationContext(service.module(config), {
          logger: ['error', 'warn'],
          abortOnError: false,
        }),
      ),
    );
    const db = await new DataSource({
      type: 'postgres',
      host: SUPERUSER.hostname,
      port: Number(SUPERUSER.port || 5432),
      username: decodeURIComponent(SUPERUSER.username),
      password: SUPERUSER.password || undefined,
      database: new Namespace(namespace).database('audit'),
      installExtensions: false,
      extra: { max: 3 },
    }).initialize();
    return new Ledger(namespace, apps, nats, new RpcClient(nats), db);
  }

  get database(): string {
    return new Namespace(this.namespace).database('audit');
  }

  /** Publishes as a publisher does: `audit.<tenantId>.<category>`, Nats-Msg-Id = event id. */
  async publish(list: readonly AuditEvent[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const e = list[next++]!;
        await this.nats.js.publish(
          this.nats.options.namespace.subject(auditSubject(e.tenantId, e.category)),
          encoder.encode(JSON.stringify(e)),
          { msgID: e.id },
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(64, list.length) }, worker));
  }

  async count(tenantId: string): Promise<number> {
    const [row] = (await this.db.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1`,
      [tenantId],
    )) as { n: number }[];
    return row!.n;
  }

  waitStored(tenantId: string, count: number): Promise<true> {
    return waitFor(
      `${count} entries of tenant ${tenantId}`,
      async () => (await this.count(tenantId)) >= count,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  /** Waits for a checkpoint of a tree of at least `size` entries; its size. */
  waitSealed(tenantId: string, size: number): Promise<number> {
    return waitFor(
      `a checkpoint of at least ${size} entries of tenant ${tenantId}`,
      async () => {
        const [row] = (await this.db.query(
          `SELECT max(tree_size)::int AS size FROM audit_checkpoints WHERE tenant_id = $1`,
          [tenantId],
        )) as { size: number | null }[];
        return row?.size != null && row.size >= size ? row.size : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  /** The tenant's chain as PostgreSQL holds it, in seq order. */
  async entries(tenantId: string): Promise<LedgerEntry[]> {
    const rows = (await this.db.query(
      `SELECT ${LEDGER_COLUMNS} FROM audit_events e WHERE e.tenant_id = $1 ORDER BY e.seq`,
      [tenantId],
    )) as LedgerRow[];
    return rows.map(toLedgerEntry);
  }

  /** The tenant's leaf hashes (leafHash of each appended entry hash), in seq order. */
  async leafHashes(tenantId: string): Promise<Buffer[]> {
    const rows = (await this.db.query(
      `SELECT hash FROM audit_leaves WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    )) as { hash: Buffer }[];
    return rows.map((r) => leafHash(r.hash));
  }

  /** Runs `sql` as the superuser with triggers off: a tamperer with full access to PostgreSQL. */
  async tamper(statements: [string, unknown[]?][]): Promise<void> {
    await this.db.transaction(async (manager) => {
      await manager.query(`SET LOCAL session_replication_role = replica`);
      for (const [sql, params] of statements) await manager.query(sql, params ?? []);
    });
  }

  call<C extends RpcContract>(contract: C, payload: RpcRequest<C>): Promise<RpcResponse<C>> {
    return this.rpc.request(contract, payload, {
      context: newContext({ actor: 'user:auditor-1' }),
      timeoutMs: 60_000,
    });
  }

  async failure<C extends RpcContract>(contract: C, payload: RpcRequest<C>): Promise<AppError> {
    try {
      await this.call(contract, payload);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
    throw new Error(`${contract.subject} succeeded, but the test expected it to fail`);
  }

  get<T>(type: abstract new (...args: never[]) => T, instance = 0): T {
    return this.apps[instance]!.get(type, { strict: false });
  }

  async close(): Promise<void> {
    for (const app of this.apps) await app.close();
    await this.db.destroy();
    await this.nats.drain().catch(() => undefined);
    await cleanupNamespace(this.namespace);
  }
}

/** The published events as the writer receives them. */
const toAppend = (list: AuditEvent[]): EventToAppend[] =>
  list.map((e, i) => ({ event: e, streamSequence: i + 1 }));

describe('the audit ledger (two audit instances, real PostgreSQL and NATS)', () => {
  let ledger: Ledger;

  beforeAll(async () => {
    ledger = await Ledger.start(2);
  }, 120_000);

  afterAll(async () => {
    await ledger?.close();
  });

  /** A tenant with `count` entries, all sealed in a checkpoint; its events. */
  async function sealedTenant(count: number): Promise<{ tenantId: string; sent: AuditEvent[] }> {
    const tenantId = randomUUID();
    const sent = events(tenantId, count);
    await ledger.publish(sent);
    await ledger.waitStored(tenantId, count);
    await ledger.waitSealed(tenantId, count);
    return { tenantId, sent };
  }

  it('appends batches across tenants: each chain gap-free from 1, every event once and as sent, verifiable offline', async () => {
    const tenants = [randomUUID(), randomUUID(), randomUUID()];
    const sent = new Map(tenants.map((t) => [t, events(t, 120)]));
    // Interleaved, so that batches span tenants and both instances append to every chain.
    const all = Array.from({ length: 120 }, (_, i) => tenants.map((t) => sent.get(t)![i]!)).flat();
    await ledger.publish(all);
    for (const tenantId of tenants) {
      await ledger.waitStored(tenantId, 120);
      const chain = await ledger.entries(tenantId);
      expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(chain[0]!.prevHash).toBe(GENESIS_HASH);
      expect(verifyChain(chain, { tenantId })).toEqual({ ok: true });
      const byId = new Map(chain.map((e) => [e.id, e]));
      expect(byId.size).toBe(120);
      for (const e of sent.get(tenantId)!) {
        const stored = byId.get(e.id)!;
        expect(stored.occurredAt).toBe(e.occurredAt);
        expect(stored.severity).toBe(e.severity ?? 'info');
        expect(stored.actor.name ?? undefined).toBe(e.actor.name);
        expect(stored.actor.ip ?? undefined).toBe(e.actor.ip);
        expect(stored.onBehalfOf ?? undefined).toEqual(e.onBehalfOf);
        expect(stored.reason ?? undefined).toBe(e.reason);
        expect(stored.dataText).toBe(e.data === undefined ? null : JSON.stringify(e.data));
        expect(stored.changesText).toBe(e.changes === undefined ? null : JSON.stringify(e.changes));
        expect(stored.recordedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      // The parsed forms for search hold the same JSON.
      const [row] = (await ledger.db.query(
        `SELECT data, changes FROM audit_events WHERE tenant_id = $1 AND data IS NOT NULL AND changes IS NOT NULL LIMIT 1`,
        [tenantId],
      )) as { data: unknown; changes: unknown }[];
      const original = sent.get(tenantId)!.find((e) => e.data && e.changes)!;
      expect(row).toBeDefined();
      expect(Object.keys(row!.data as object).sort()).toEqual(Object.keys(original.data!).sort());
    }
    const heads = (await ledger.db.query(
      `SELECT h.seq::int AS seq, encode(h.hash, 'hex') AS hash, t.head_seq::int AS head_seq
         FROM audit_heads h JOIN audit_tenants t USING (tenant_id) WHERE h.tenant_id = ANY($1)`,
      [tenants],
    )) as { seq: number; hash: string; head_seq: number }[];
    expect(heads.map((h) => [h.seq, h.head_seq])).toEqual(tenants.map(() => [120, 120]));
  });

  it('shares the tenants out: each chain is written only by the instance that owns it, the events the other consumed are forwarded to it', async () => {
    const members = [ledger.get(LedgerMembers, 0), ledger.get(LedgerMembers, 1)];
    await waitFor('the two instances to hear of each other', async () =>
      members.every((m) => m.current.length === 2),
    );
    const routed = async (route: string): Promise<number> => {
      const metric = register.getSingleMetric('tenantry_audit_ledger_routed_events_total');
      const values = (await (metric as Counter<string>).get()).values;
      return values.find((v) => v.labels.route === route)?.value ?? 0;
    };
    const receivedBefore = await routed('received');
    // what each instance's writer appends, observed on the real writers
    const wrote = [new Set<string>(), new Set<string>()];
    const writers = [ledger.get(LedgerWriter, 0), ledger.get(LedgerWriter, 1)];
    const originals = writers.map((writer, i) => {
      const append = writer.append.bind(writer);
      writer.append = (list: EventToAppend[]) => {
        for (const item of list) wrote[i]!.add(item.event.tenantId);
        return append(list);
      };
      return append;
    });
    try {
      const tenants = Array.from({ length: 20 }, () => randomUUID());
      const sent = new Map(tenants.map((t) => [t, events(t, 30)]));
      const all = Array.from({ length: 30 }, (_, i) => tenants.map((t) => sent.get(t)![i]!)).flat();
      await ledger.publish(all);
      for (const tenantId of tenants) await ledger.waitStored(tenantId, 30);

      const owners = tenants.map((t) => members[0]!.ownerOf(t));
      expect(tenants.map((t) => members[1]!.ownerOf(t))).toEqual(owners); // they agree
      expect(new Set(owners)).toEqual(new Set(members.map((m) => m.id))); // both own some
      tenants.forEach((tenantId, t) => {
        const owner = members.findIndex((m) => m.id === owners[t]);
        expect([tenantId, wrote[owner]!.has(tenantId)]).toEqual([tenantId, true]);
        expect([tenantId, wrote[1 - owner]!.has(tenantId)]).toEqual([tenantId, false]);
      });
      // each instance consumed events of the other's tenants and forwarded them
      expect((await routed('received')) - receivedBefore).toBeGreaterThan(0);
      for (const tenantId of tenants) {
        const chain = await ledger.entries(tenantId);
        expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        expect(verifyChain(chain, { tenantId })).toEqual({ ok: true });
      }
    } finally {
      writers.forEach((writer, i) => (writer.append = originals[i]!));
    }
  });

  it('is idempotent by event id: a duplicate in a batch, an event stored already and a redelivered batch take no seq', async () => {
    const tenantId = randomUUID();
    const writer = ledger.get(LedgerWriter);
    const [a, b, c] = events(tenantId, 3);
    expect(await writer.append(toAppend([a!, a!, b!]))).toEqual({
      appended: 2,
      duplicates: 1,
      refused: [],
    });
    expect(await writer.append(toAppend([a!, b!, c!]))).toEqual({
      appended: 1,
      duplicates: 2,
      refused: [],
    });
    expect(await writer.append(toAppend([a!, b!, c!]))).toEqual({
      appended: 0,
      duplicates: 3,
      refused: [],
    });
    // A stored event beside another tenant's new one: the first attempt (ids not looked up)
    // rolls back whole, the second appends the new one once.
    const other = randomUUID();
    const [x] = events(other, 1);
    expect(await writer.append(toAppend([x!, c!]))).toEqual({
      appended: 1,
      duplicates: 1,
      refused: [],
    });
    // A redelivered event: looked up at once.
    expect(await writer.append([{ event: c!, streamSequence: 7, redelivered: true }])).toEqual({
      appended: 0,
      duplicates: 1,
      refused: [],
    });
    expect((await ledger.entries(other)).map((e) => [e.seq, e.id])).toEqual([[1, x!.id]]);
    // Through the stream: a publisher's retry of the same event (JetStream drops it, and the ledger would).
    const d = event(tenantId, 3);
    await ledger.publish([d, d]);
    await ledger.waitStored(tenantId, 4);
    const chain = await ledger.entries(tenantId);
    expect(chain.map((e) => [e.seq, e.id])).toEqual([
      [1, a!.id],
      [2, b!.id],
      [3, c!.id],
      [4, d.id],
    ]);
    expect(verifyChain(chain, { tenantId })).toEqual({ ok: true });
  });

  it('lets two appenders (one per instance) write one tenant at once without a seq collision or a gap', async () => {
    const tenantId = randomUUID();
    const writers = [ledger.get(LedgerWriter, 0), ledger.get(LedgerWriter, 1)];
    const batches = (w: number) =>
      Array.from({ length: 10 }, (_, b) => events(tenantId, 30, (w * 10 + b) * 30));
    await Promise.all(
      writers.map(async (writer, w) => {
        for (const batch of batches(w)) await writer.append(toAppend(batch));
      }),
    );
    const chain = await ledger.entries(tenantId);
    expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(new Set(chain.map((e) => e.id)).size).toBe(600);
    expect(verifyChain(chain, { tenantId })).toEqual({ ok: true });
  });

  it('seals chains into checkpoints signed with a published key, over the RFC 9162 root of the entries', async () => {
    const { tenantId } = await sealedTenant(37);
    const { keys } = await ledger.call(AuditLedgerRpc.keys, {});
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(keys.filter((k) => k.notAfter === null)).toHaveLength(1);
    expect(keys[0]!.jwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: keys[0]!.publicKey,
      kid: keys[0]!.keyId,
      alg: 'EdDSA',
      use: 'sig',
    });
    const page = await ledger.call(AuditLedgerRpc.checkpoints, { tenantId, limit: 50 });
    expect(page.items.length).toBeGreaterThanOrEqual(1);
    const issued = page.items.map((i) => i.checkpoint.issuedAt);
    expect([...issued].sort().reverse()).toEqual(issued);
    const leaves = await ledger.leafHashes(tenantId);
    for (const { checkpoint, signature } of page.items) {
      expect(checkpoint).toMatchObject({ tenantId, kind: 'checkpoint', prunedThroughSeq: null });
      expect(verifyCheckpoint(checkpoint, signature, keys)).toBe('ok');
      expect(checkpoint.rootHash).toBe(
        merkleRoot(leaves.slice(0, checkpoint.treeSize)).toString('hex'),
      );
    }
    // A signature does not carry over to another root.
    const [first] = page.items;
    expect(
      verifyCheckpoint(
        { ...first!.checkpoint, treeSize: first!.checkpoint.treeSize + 1 },
        first!.signature,
        keys,
      ),
    ).toBe('bad_signature');
  });

  it('pages checkpoints latest first with a cursor, and refuses a forged cursor naming it', async () => {
    const tenantId = randomUUID();
    for (let round = 0; round < 3; round++) {
      await ledger.publish(events(tenantId, 5, round * 5));
      await ledger.waitSealed(tenantId, (round + 1) * 5);
    }
    const first = await ledger.call(AuditLedgerRpc.checkpoints, { tenantId, limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await ledger.call(AuditLedgerRpc.checkpoints, {
      tenantId,
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second.items.length).toBeGreaterThanOrEqual(1);
    expect(second.items[0]!.checkpoint.issuedAt <= first.items[1]!.checkpoint.issuedAt).toBe(true);
    const error = await ledger.failure(AuditLedgerRpc.checkpoints, {
      tenantId,
      limit: 2,
      cursor: 'WyJub3QiXQ',
    });
    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.errors?.[0]?.field).toBe('cursor');
  });

  it('proves inclusion and consistency in a way that verifies offline, and refuses sizes beyond the chain', async () => {
    const { tenantId } = await sealedTenant(21);
    const { keys } = await ledger.call(AuditLedgerRpc.keys, {});
    const chain = await ledger.entries(tenantId);
    const older = await ledger.call(AuditLedgerRpc.checkpoints, { tenantId, limit: 1 });
    const oldCheckpoint = older.items[0]!;
    const oldSize = oldCheckpoint.checkpoint.treeSize;
    // The latest checkpoint's tree by default; named here, since these reads grow the chain.
    const latest = await ledger.call(AuditLedgerRpc.inclusionProof, { tenantId, seq: 1 });
    expect(latest.treeSize).toBeGreaterThanOrEqual(oldSize);
    for (const seq of [1, 2, 7, 16, oldSize]) {
      const proof = await ledger.call(AuditLedgerRpc.inclusionProof, {
        tenantId,
        seq,
        treeSize: oldSize,
      });
      expect(proof.treeSize).toBe(oldSize);
      expect(proof.entryHash).toBe(chain[seq - 1]!.hash);
      expect(proof.checkpoint).toEqual(oldCheckpoint);
      expect(proof.rootHash).toBe(oldCheckpoint.checkpoint.rootHash);
      const root = Buffer.from(proof.checkpoint!.checkpoint.rootHash, 'hex');
      const path = proof.proof.map((p) => Buffer.from(p, 'hex'));
      const leaf = leafHash(proof.entryHash);
      expect(leaf.toString('hex')).toBe(proof.leafHash);
      expect(verifyInclusion(leaf, seq - 1, proof.treeSize, path, root)).toBe(true);
      // A wrong index, a wrong size, a missing or an extra path element, a wrong root: refused.
      expect(verifyInclusion(leaf, seq % proof.treeSize, proof.treeSize, path, root)).toBe(false);
      expect(verifyInclusion(leaf, seq - 1, proof.treeSize * 2 + 1, path, root)).toBe(false);
      if (path.length)
        expect(verifyInclusion(leaf, seq - 1, proof.treeSize, path.slice(1), root)).toBe(false);
      expect(verifyInclusion(leaf, seq - 1, proof.treeSize, [...path, root], root)).toBe(false);
      expect(verifyInclusion(leaf, seq - 1, proof.treeSize, path, leaf)).toBe(false);
    }
    // An explicit tree size without a checkpoint of its own: the root is still the tree's.
    const leaves = await ledger.leafHashes(tenantId);
    const mid = await ledger.call(AuditLedgerRpc.inclusionProof, {
      tenantId,
      seq: 3,
      treeSize: 10,
    });
    expect(mid.rootHash).toBe(merkleRoot(leaves.slice(0, 10)).toString('hex'));

    // Grow the chain (the reads above were recorded in it too), then prove old ⊑ new.
    await ledger.publish(events(tenantId, 9, 100));
    const newSize = await ledger.waitSealed(tenantId, oldSize + 9);
    const newer = await ledger.call(AuditLedgerRpc.checkpoints, { tenantId, limit: 1 });
    expect(newer.items[0]!.checkpoint.treeSize).toBeGreaterThanOrEqual(newSize);
    const to = newer.items[0]!;
    const consistency = await ledger.call(AuditLedgerRpc.consistencyProof, {
      tenantId,
      from: oldSize,
      to: to.checkpoint.treeSize,
    });
    expect(consistency.fromCheckpoint).toEqual(oldCheckpoint);
    expect(consistency.toCheckpoint).toEqual(to);
    expect(verifyCheckpoint(to.checkpoint, to.signature, keys)).toBe('ok');
    const oldRoot = Buffer.from(oldCheckpoint.checkpoint.rootHash, 'hex');
    const newRoot = Buffer.from(to.checkpoint.rootHash, 'hex');
    const path = consistency.proof.map((p) => Buffer.from(p, 'hex'));
    expect(verifyConsistency(oldSize, to.checkpoint.treeSize, oldRoot, newRoot, path)).toBe(true);
    expect(verifyConsistency(oldSize, to.checkpoint.treeSize, newRoot, oldRoot, path)).toBe(false);
    expect(verifyConsistency(oldSize - 1, to.checkpoint.treeSize, oldRoot, newRoot, path)).toBe(
      false,
    );

    const head = (await ledger.entries(tenantId)).length;
    const beyond = await ledger.failure(AuditLedgerRpc.inclusionProof, {
      tenantId,
      seq: 1,
      treeSize: head + 1000,
    });
    expect(beyond.code).toBe(ErrorCode.ValidationFailed);
    expect(beyond.errors?.[0]?.field).toBe('treeSize');
    const backwards = await ledger.failure(AuditLedgerRpc.consistencyProof, {
      tenantId,
      from: 5,
      to: 4,
    });
    expect(backwards.errors?.[0]?.field).toBe('to');
    expect(backwards.message).toBe('to must not be below from (5); got 4');
  });

  it('records every read of the ledger in the tenant’s own chain (audit.read)', async () => {
    const { tenantId } = await sealedTenant(3);
    await ledger.call(AuditLedgerRpc.verify, { tenantId });
    await ledger.waitStored(tenantId, 4);
    const [last] = (await ledger.entries(tenantId)).slice(-1);
    expect(last).toMatchObject({
      seq: 4,
      category: 'audit',
      action: 'audit.read',
      actor: { type: 'user', id: 'auditor-1' },
    });
    expect(JSON.parse(last!.dataText!)).toEqual({ read: 'verify' });
  });

  it('gives the app role INSERT and SELECT on the ledger rows, never UPDATE, DELETE or TRUNCATE', async () => {
    const { tenantId } = await sealedTenant(2);
    const app = await new DataSource({
      type: 'postgres',
      host: SUPERUSER.hostname,
      port: Number(SUPERUSER.port || 5432),
      username: `${ledger.database}_app`,
      database: ledger.database,
      installExtensions: false,
      extra: { max: 1 },
    }).initialize();
    const owner = await new DataSource({
      type: 'postgres',
      host: SUPERUSER.hostname,
      port: Number(SUPERUSER.port || 5432),
      username: `${ledger.database}_owner`,
      database: ledger.database,
      installExtensions: false,
      extra: { max: 1 },
    }).initialize();
    const asTenant = (source: DataSource, sql: string) =>
      source.transaction(async (manager) => {
        await manager.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
        return manager.query(sql);
      });
    try {
      expect(await asTenant(app, `SELECT count(*)::int AS n FROM audit_events`)).toEqual([
        { n: 2 },
      ]);
      for (const sql of [
        `UPDATE audit_events SET action = 'user.forged'`,
        `DELETE FROM audit_events`,
        `UPDATE audit_leaves SET seq = seq + 100`,
        `DELETE FROM audit_leaves`,
        `UPDATE audit_checkpoints SET signature = 'x'`,
        `DELETE FROM audit_checkpoints`,
        `TRUNCATE audit_events`,
      ])
        await expect(asTenant(app, sql)).rejects.toThrow(/permission denied/);
      // Even the owner (who migrates) meets the trigger.
      for (const sql of [
        `UPDATE audit_events SET action = 'user.forged'`,
        `DELETE FROM audit_leaves`,
        `UPDATE audit_checkpoints SET key_id = 'x'`,
        `TRUNCATE audit_checkpoints`,
      ])
        await expect(asTenant(owner, sql)).rejects.toThrow(/audit ledger rows are append-only/);
      expect(await ledger.count(tenantId)).toBe(2);
    } finally {
      await app.destroy();
      await owner.destroy();
    }
  });

  describe('verify, against a superuser editing PostgreSQL directly', () => {
    /** A sealed tenant of 20 entries that verifies, with verify's own read stored. */
    async function intact(): Promise<string> {
      const { tenantId } = await sealedTenant(20);
      // verify's own read (recorded first) may already be in the chain it checks.
      const verified = await ledger.call(AuditLedgerRpc.verify, { tenantId });
      expect(verified).toEqual({
        ok: true,
        checked: verified.checked,
        checkpoints: verified.checkpoints,
      });
      expect(verified.checked).toBeGreaterThanOrEqual(20);
      expect(verified.checkpoints).toBeGreaterThanOrEqual(1);
      await ledger.waitStored(tenantId, 21);
      return tenantId;
    }

    async function firstBad(tenantId: string) {
      const result = await ledger.call(AuditLedgerRpc.verify, { tenantId });
      expect(result.ok).toBe(false);
      return result.firstBad!;
    }

    it('finds one bit flipped in a stored field: altered, at its seq', async () => {
      const tenantId = await intact();
      const [row] = (await ledger.db.query(
        `SELECT action FROM audit_events WHERE tenant_id = $1 AND seq = 7`,
        [tenantId],
      )) as { action: string }[];
      const flipped = String.fromCharCode(row!.action.charCodeAt(0) ^ 1) + row!.action.slice(1);
      await ledger.tamper([
        [
          `UPDATE audit_events SET action = $2 WHERE tenant_id = $1 AND seq = 7`,
          [tenantId, flipped],
        ],
      ]);
      expect(await firstBad(tenantId)).toMatchObject({ seq: 7, kind: 'altered' });
      // A range that does not hold it still verifies (from the checkpoint before it).
      expect(
        await ledger.call(AuditLedgerRpc.verify, { tenantId, fromSeq: 8, toSeq: 20 }),
      ).toMatchObject({ ok: true, checked: 13 });
    });

    it('finds a deleted row: gap, at its seq', async () => {
      const tenantId = await intact();
      await ledger.tamper([
        [`DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 9`, [tenantId]],
      ]);
      expect(await firstBad(tenantId)).toMatchObject({ seq: 9, kind: 'gap' });
    });

    it('finds two rows whose contents were swapped: chain_break, at the first', async () => {
      const tenantId = await intact();
      const columns = `prev_hash, hash, occurred_at, occurred_at_text, recorded_at, category,
        action, outcome, severity, actor_type, actor_id, actor_name, target_type, target_id,
        data_text, data, changes_text, changes`;
      const list = columns.split(',').map((c) => c.trim());
      await ledger.tamper([
        [
          `UPDATE audit_events e SET (${list.join(', ')}) = (${list.map((c) => `o.${c}`).join(', ')})
             FROM audit_events o
            WHERE e.tenant_id = $1 AND o.tenant_id = $1
              AND ((e.seq = 5 AND o.seq = 6) OR (e.seq = 6 AND o.seq = 5))`,
          [tenantId],
        ],
      ]);
      expect(await firstBad(tenantId)).toMatchObject({ seq: 5, kind: 'chain_break' });
    });

    it('finds a row inserted between two others (chained and hashed correctly): altered, at its seq', async () => {
      const tenantId = await intact();
      const chain = await ledger.entries(tenantId);
      const before = chain[9]!; // seq 10
      const forged = event(tenantId, 999, { action: 'user.deleted' });
      const content = {
        tenantId,
        seq: 11,
        id: forged.id,
        schemaVersion: 1,
        occurredAt: forged.occurredAt,
        recordedAt: before.recordedAt,
        category: forged.category,
        action: forged.action,
        outcome: forged.outcome,
        severity: 'info',
        actor: { type: forged.actor.type, id: forged.actor.id },
        dataText: null,
        changesText: null,
      };
      const hash = entryHash(content, before.hash);
      await ledger.tamper([
        [
          `UPDATE audit_events SET seq = seq + 1000000 WHERE tenant_id = $1 AND seq > 10`,
          [tenantId],
        ],
        [
          `UPDATE audit_events SET seq = seq - 999999 WHERE tenant_id = $1 AND seq > 1000000`,
          [tenantId],
        ],
        [
          `INSERT INTO audit_events (tenant_id, id, seq, prev_hash, hash, schema_version, occurred_at,
                                     occurred_at_text, recorded_at, category, action, outcome, severity,
                                     actor_type, actor_id, stream_sequence)
           VALUES ($1, $2, 11, decode($3, 'hex'), decode($4, 'hex'), 1, $5::timestamptz, $12::text,
                   $6, $7, $8, $9, 'info', $10, $11, 0)`,
          [
            tenantId,
            forged.id,
            before.hash,
            hash,
            forged.occurredAt,
            before.recordedAt,
            forged.category,
            forged.action,
            forged.outcome,
            forged.actor.type,
            forged.actor.id,
            forged.occurredAt,
          ],
        ],
        [`UPDATE audit_heads SET seq = seq + 1 WHERE tenant_id = $1`, [tenantId]],
      ]);
      expect(await firstBad(tenantId)).toMatchObject({ seq: 11, kind: 'altered' });
    });

    it('finds a chain rewritten consistently from an edited row on (rows and leaves): root_mismatch, at the first signed tree holding it', async () => {
      const tenantId = await intact();
      const chain = await ledger.entries(tenantId);
      const statements: [string, unknown[]][] = [];
      let prev = chain[2]!.hash; // seq 3
      for (const original of chain.slice(3)) {
        const entry = original.seq === 4 ? { ...original, action: 'user.deleted' } : original;
        const hash = entryHash(entry, prev);
        statements.push([
          `UPDATE audit_events SET action = $3, prev_hash = decode($4, 'hex'), hash = decode($5, 'hex')
            WHERE tenant_id = $1 AND seq = $2`,
          [tenantId, entry.seq, entry.action, prev, hash],
        ]);
        statements.push([
          `UPDATE audit_leaves SET hash = decode($3, 'hex') WHERE tenant_id = $1 AND seq = $2`,
          [tenantId, entry.seq, hash],
        ]);
        prev = hash;
      }
      statements.push([
        `UPDATE audit_heads SET hash = decode($2, 'hex') WHERE tenant_id = $1`,
        [tenantId, prev],
      ]);
      await ledger.tamper(statements);
      const [first] = (await ledger.db.query(
        `SELECT min(tree_size)::int AS size FROM audit_checkpoints WHERE tenant_id = $1 AND tree_size >= 4`,
        [tenantId],
      )) as { size: number }[];
      expect(await firstBad(tenantId)).toMatchObject({ seq: first!.size, kind: 'root_mismatch' });
    });

    it('finds a checkpoint whose signature was changed: bad_signature, at its tree size', async () => {
      const tenantId = await intact();
      const [cp] = (await ledger.db.query(
        `SELECT id, tree_size::int AS size, signature FROM audit_checkpoints WHERE tenant_id = $1
          ORDER BY tree_size LIMIT 1`,
        [tenantId],
      )) as { id: string; size: number; signature: string }[];
      const changed = (cp!.signature[10] === 'A' ? 'B' : 'A') + '';
      const signature = cp!.signature.slice(0, 10) + changed + cp!.signature.slice(11);
      await ledger.tamper([
        [
          `UPDATE audit_checkpoints SET signature = $3 WHERE tenant_id = $1 AND id = $2`,
          [tenantId, cp!.id, signature],
        ],
      ]);
      expect(await firstBad(tenantId)).toMatchObject({ seq: cp!.size, kind: 'bad_signature' });
    });

    it('finds a checkpoint naming a key nobody published: unknown_key, at its tree size', async () => {
      const tenantId = await intact();
      const [cp] = (await ledger.db.query(
        `SELECT id, tree_size::int AS size FROM audit_checkpoints WHERE tenant_id = $1
          ORDER BY tree_size DESC LIMIT 1`,
        [tenantId],
      )) as { id: string; size: number }[];
      await ledger.tamper([
        [
          `UPDATE audit_checkpoints SET key_id = 'not-a-published-key' WHERE tenant_id = $1 AND id = $2`,
          [tenantId, cp!.id],
        ],
      ]);
      expect(await firstBad(tenantId)).toMatchObject({ seq: cp!.size, kind: 'unknown_key' });
    });

    it('refuses a range beyond the chain or upside down, naming the field', async () => {
      const tenantId = await intact();
      const beyond = await ledger.failure(AuditLedgerRpc.verify, { tenantId, toSeq: 10_000 });
      expect(beyond.errors?.[0]?.field).toBe('toSeq');
      const backwards = await ledger.failure(AuditLedgerRpc.verify, {
        tenantId,
        fromSeq: 9,
        toSeq: 3,
      });
      expect(backwards.errors?.[0]?.field).toBe('toSeq');
    });
  });

  it('rotates the signing key with overlap: the old key stays published with its notAfter, old and new checkpoints verify', async () => {
    const { tenantId: before } = await sealedTenant(4);
    const { keys: old } = await ledger.call(AuditLedgerRpc.keys, {});
    const rotatedAt = Date.now();
    const keyId = await ledger.get(AuditSigningKeyService).rotate();
    const { keys } = await ledger.call(AuditLedgerRpc.keys, {});
    expect(keys).toHaveLength(old.length + 1);
    expect(keys[0]).toMatchObject({ keyId, notAfter: null });
    const previous = keys.find((k) => k.keyId === old[0]!.keyId)!;
    // It may sign a little longer (instances that loaded it before the rotation), then stops.
    expect(Date.parse(previous.notAfter!)).toBeGreaterThan(rotatedAt);
    const { tenantId: after } = await sealedTenant(4);
    for (const tenantId of [before, after]) {
      const page = await ledger.call(AuditLedgerRpc.checkpoints, { tenantId, limit: 50 });
      for (const { checkpoint, signature } of page.items)
        expect(verifyCheckpoint(checkpoint, signature, keys)).toBe('ok');
      expect((await ledger.call(AuditLedgerRpc.verify, { tenantId })).ok).toBe(true);
    }
  });

  it('retention removes whole sealed segments only, leaves a signed tombstone, and verify and proofs still pass', async () => {
    const { tenantId } = await sealedTenant(12);
    const sealer = ledger.get(CheckpointSealer);
    const [{ size: sealedSize }] = (await ledger.db.query(
      `SELECT max(tree_size)::int AS size FROM audit_checkpoints WHERE tenant_id = $1`,
      [tenantId],
    )) as { size: number }[];
    // Entries appended after the last checkpoint are not part of a sealed segment: they stay.
    const sealers = ledger.apps.map((_, i) => ledger.get(CheckpointSealer, i));
    for (const s of sealers) await s.onModuleDestroy(); // no new checkpoint from here on
    await ledger.publish(events(tenantId, 3, 50));
    await ledger.waitStored(tenantId, sealedSize + 3);
    const head = await ledger.count(tenantId);

    const firstYoung = (await ledger.entries(tenantId))[sealedSize]!;
    expect(firstYoung.seq).toBe(sealedSize + 1);

    // Nothing was recorded before the epoch: nothing to remove.
    expect(await sealer.prune(tenantId, new Date(0))).toBeNull();
    // Entries recorded before the first of the three: the sealed segment 1..sealedSize goes.
    const before = new Date(firstYoung.recordedAt);
    const tombstone = await sealer.prune(tenantId, before);
    expect(tombstone?.checkpoint).toMatchObject({
      tenantId,
      kind: 'tombstone',
      prunedThroughSeq: sealedSize,
      treeSize: head,
    });
    const kept = await ledger.entries(tenantId);
    expect(kept.map((e) => e.seq)).toEqual(
      Array.from({ length: head - sealedSize }, (_, i) => sealedSize + 1 + i),
    );
    expect((await ledger.leafHashes(tenantId)).length).toBe(head);
    expect(await sealer.prune(tenantId, before)).toBeNull();

    const { keys } = await ledger.call(AuditLedgerRpc.keys, {});
    expect(verifyCheckpoint(tombstone!.checkpoint, tombstone!.signature, keys)).toBe('ok');
    const verified = await ledger.call(AuditLedgerRpc.verify, { tenantId });
    expect(verified.ok).toBe(true);
    // What retention kept (and verify's own read, when it was appended already).
    expect(verified.checked).toBeGreaterThanOrEqual(head - sealedSize);
    const proof = await ledger.call(AuditLedgerRpc.inclusionProof, {
      tenantId,
      seq: 1,
      treeSize: head,
    });
    expect(proof.treeSize).toBe(head);
    expect(
      verifyInclusion(
        leafHash(proof.entryHash),
        0,
        head,
        proof.proof.map((p) => Buffer.from(p, 'hex')),
        Buffer.from(tombstone!.checkpoint.rootHash, 'hex'),
      ),
    ).toBe(true);
  });
});

describe('the migration that turns audit_events into the ledger', () => {
  const scratch = scratchDatabase('ledgermig');

  afterAll(() => scratch.drop());

  it('chains the rows stored before it, per tenant, oldest first, and makes them verifiable', async () => {
    const { options } = scratch;
    await bootstrapDatabase(options);
    await runMigrations(options, migrations.slice(0, 1));
    const url = new URL(LOCAL_INFRA.bootstrapUrl);
    const db = await new DataSource({
      type: 'postgres',
      host: url.hostname,
      port: Number(url.port || 5432),
      username: decodeURIComponent(url.username),
      password: url.password || undefined,
      database: options.database,
      installExtensions: false,
      extra: { max: 1 },
    }).initialize();
    try {
      const tenants = [randomUUID(), randomUUID()];
      for (const [t, tenantId] of tenants.entries())
        for (let i = 0; i < 7; i++)
          await db.query(
            `INSERT INTO audit_events (tenant_id, id, schema_version, occurred_at, recorded_at, category,
                                       action, outcome, actor_type, actor_id, data, stream_sequence)
             VALUES ($1, $2, 1, now(), now() - make_interval(secs => $3), 'users', 'user.created',
                     'success', 'user', 'u-1', $4, $5)`,
            [tenantId, randomUUID(), 100 - i, i % 2 ? JSON.stringify({ i, t, s: 'x y' }) : null, i],
          );
      await runMigrations(options, migrations);
      for (const tenantId of tenants) {
        const rows = (await db.query(
          `SELECT ${LEDGER_COLUMNS} FROM audit_events e WHERE e.tenant_id = $1 ORDER BY e.seq`,
          [tenantId],
        )) as LedgerRow[];
        const chain = rows.map(toLedgerEntry);
        expect(chain.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect(verifyChain(chain, { tenantId })).toEqual({ ok: true });
        const times = chain.map((e) => e.recordedAt);
        expect([...times].sort()).toEqual(times);
        const leaves = (await db.query(
          `SELECT encode(hash, 'hex') AS hash FROM audit_leaves WHERE tenant_id = $1 ORDER BY seq`,
          [tenantId],
        )) as { hash: string }[];
        expect(leaves.map((l) => l.hash)).toEqual(chain.map((e) => e.hash));
        expect(
          await db.query(
            `SELECT h.seq::int AS seq, encode(h.hash, 'hex') AS hash, t.head_seq::int AS head
               FROM audit_heads h JOIN audit_tenants t USING (tenant_id) WHERE tenant_id = $1`,
            [tenantId],
          ),
        ).toEqual([{ seq: 7, hash: chain[6]!.hash, head: 7 }]);
      }
    } finally {
      await db.destroy();
    }
  });
});
