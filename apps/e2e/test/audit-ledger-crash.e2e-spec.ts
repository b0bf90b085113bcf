/**
 * The audit ledger survives SIGKILL (issue 9). 10,000 events of 8 tenants are published
 * straight to JetStream, as customers' backends do (`audit.<tenantId>.<category>`,
 * Nats-Msg-Id = event id, a hundred in flight, a burst of 1,000 a second), and about 5 %
 * of them again: soon after the first time and after the restart (a publisher retrying:
 * JetStream drops those), and after the stream's duplicate window (shortened by the test:
 * those reach the ledger a second time). Meanwhile the audit service is SIGKILLed once a
 * third is stored, and restarted; then the same with two audit instances sharing the
 * durable consumer, one of them killed while the other carries on, and restarted.
 *
 * Afterwards every event is in its tenant's chain exactly once, with the content it was
 * published with, seq runs 1..n, nothing was parked, and every chain verifies: through the
 * service's `audit.ledger.verify` RPC, and independently from the rows PostgreSQL holds
 * (superuser): `verifyChain` over the entries, the leaves and the head against them, and
 * every signed checkpoint against the published keys (`verifyCheckpoint`) and the Merkle
 * root of the chain's first treeSize entries (`merkleRoot`).
 */
import { randomUUID } from 'node:crypto';
import {
  leafHash,
  merkleRoot,
  verifyChain,
  verifyCheckpoint,
  type AuditKey,
  type Checkpoint,
  type CheckpointKind,
  type LedgerEntry,
} from '@tenantry/audit-ledger';
import {
  AuditLedgerRpc,
  auditSubject,
  Namespace,
  Streams,
  type AuditEvent,
} from '@tenantry/contracts';
import { newContext, RpcClient, type NatsService } from '@tenantry/messaging';
import {
  connectTestNats,
  freePort,
  Platform,
  REPO_ROOT,
  ServiceProcess,
  waitFor,
  type LineHandler,
} from '@tenantry/testing';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';

const TOTAL = 10_000;
const TENANTS = 8;
/**
 * Events are published in bursts of BURST, one burst a second: publishing goes on for about
 * ten seconds (the kill lands while it does), and the ledger is mid-way through a burst's
 * batches when the third is stored (the kill lands while batches are being written).
 */
const BURST = 1_000;
/** Events published at once. */
const IN_FLIGHT = 100;
/** Republished soon after the first time, after the restart, after the duplicate window: 5 %. */
const EARLY_DUPLICATES = 200;
const RESTART_DUPLICATES = 150;
const LATE_DUPLICATES = 150;
/** The durable consumer the audit instances share (AuditEventConsumer). */
const DURABLE = 'audit-ledger';
/** Who calls verify: the actor of the `audit.read` event each verify call records. */
const AUDITOR = 'crash-auditor';
const encoder = new TextEncoder();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perSecond = (count: number, ms: number) => `${Math.round(count / (ms / 1000))} events/s`;

/** Shuffled 0..n-1. */
function shuffled(n: number): number[] {
  const list = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** A varied event: optional fields on some (all of them are hashed), non-ASCII text on others. */
function makeEvent(tenantId: string, i: number): AuditEvent {
  return {
    schemaVersion: 1,
    id: uuidv7(),
    tenantId,
    // As publishers send it: an offset and microseconds are kept as sent.
    occurredAt:
      i % 3 === 0
        ? `2026-11-30T10:${String(i % 60).padStart(2, '0')}:00.${String(i).padStart(6, '0')}+01:00`
        : new Date().toISOString(),
    category: i % 2 ? 'crash-test' : 'records',
    action: i % 4 ? 'record.written' : 'record.deleted',
    outcome: i % 11 ? 'success' : 'failure',
    actor: {
      type: i % 5 ? 'service' : 'user',
      id: `e2e-${i % 13}`,
      ...(i % 4 === 1
        ? {
            name: 'Zoë "crash" Ünïcode 🚀',
            ip: '203.0.113.9',
            userAgent: 'e2e/1.0',
            sessionId: `s-${i % 7}`,
          }
        : {}),
    },
    ...(i % 3 === 1 ? { target: { type: 'record', id: `r-${i}` } } : {}),
    ...(i % 5 === 2 ? { severity: 'warning' as const, reason: 'simulated failure' } : {}),
    ...(i % 6 === 3 ? { onBehalfOf: { type: 'operator', id: 'op-1' } } : {}),
    ...(i % 8 === 5 ? { requestId: `req-${i}`, traceId: randomUUID().replaceAll('-', '') } : {}),
    ...(i % 7 === 4
      ? { changes: { before: { n: i }, after: { n: i + 1, tags: ['a', 'ß'] } } }
      : {}),
    ...(i % 10 === 9 ? {} : { data: { i, note: i % 9 ? 'plain' : 'ünïcödé "quoted" \\ 🚀' } }),
  };
}

type Group = 'original' | 'early' | 'restart' | 'late';

/**
 * One scenario's events: TOTAL of them over TENANTS fresh tenants, the ones republished
 * and when, and what JetStream answered to each publish (`duplicate`: dropped by it).
 */
class Workload {
  readonly tenants: string[] = Array.from({ length: TENANTS }, () => randomUUID());
  readonly events: AuditEvent[];
  /** By publish index: the earlier events republished with it (≈ 500 events later). */
  readonly early = new Map<number, AuditEvent[]>();
  /** Published before the kill, republished after the restart. */
  readonly restart: AuditEvent[];
  /** Republished once the duplicate window no longer covers them. */
  readonly late: AuditEvent[];
  readonly acks: Record<Group, { accepted: number; dropped: number }> = {
    original: { accepted: 0, dropped: 0 },
    early: { accepted: 0, dropped: 0 },
    restart: { accepted: 0, dropped: 0 },
    late: { accepted: 0, dropped: 0 },
  };
  published = 0;

  constructor(
    private readonly nats: NatsService,
    private readonly namespace: Namespace,
  ) {
    this.events = Array.from({ length: TOTAL }, (_, i) => makeEvent(this.tenants[i % TENANTS]!, i));
    const picks = shuffled(TOTAL - 600);
    for (const i of picks.slice(0, EARLY_DUPLICATES)) {
      const at = i + 400 + Math.floor(Math.random() * 200);
      this.early.set(at, [...(this.early.get(at) ?? []), this.events[i]!]);
    }
    const firstThird = shuffled(Math.floor(TOTAL / 4));
    this.restart = firstThird.slice(0, RESTART_DUPLICATES).map((i) => this.events[i]!);
    this.late = picks
      .slice(EARLY_DUPLICATES, EARLY_DUPLICATES + LATE_DUPLICATES)
      .map((i) => this.events[i]!);
  }

  /** The published events of each tenant, by id. */
  byTenant(): Map<string, Map<string, AuditEvent>> {
    const map = new Map(this.tenants.map((t) => [t, new Map<string, AuditEvent>()]));
    for (const e of this.events) map.get(e.tenantId)!.set(e.id, e);
    return map;
  }

  async publish(event: AuditEvent, group: Group): Promise<void> {
    const subject = this.namespace.subject(auditSubject(event.tenantId, event.category));
    const ack = await this.nats.js.publish(subject, encoder.encode(JSON.stringify(event)), {
      msgID: event.id,
    });
    this.acks[group][ack.duplicate ? 'dropped' : 'accepted'] += 1;
  }

  async publishMany(events: AuditEvent[], group: Group): Promise<void> {
    for (let i = 0; i < events.length; i += IN_FLIGHT)
      await Promise.all(events.slice(i, i + IN_FLIGHT).map((e) => this.publish(e, group)));
  }

  /** Every event, a BURST a second, IN_FLIGHT at a time, with the early duplicates among them. */
  async publishAll(): Promise<number> {
    const started = Date.now();
    for (let burst = 0; burst * BURST < TOTAL; burst++) {
      const end = Math.min(TOTAL, (burst + 1) * BURST);
      for (let i = burst * BURST; i < end; i += IN_FLIGHT) {
        const chunk = this.events.slice(i, Math.min(end, i + IN_FLIGHT));
        const again = chunk.flatMap((_, k) => this.early.get(i + k) ?? []);
        await Promise.all([
          ...chunk.map((e) => this.publish(e, 'original')),
          ...again.map((e) => this.publish(e, 'early')),
        ]);
        this.published = i + chunk.length;
      }
      if (end < TOTAL) await sleep(started + (burst + 1) * 1000 - Date.now());
    }
    return Date.now() - started;
  }
}

/** `timestamptz` in UTC to the microsecond, as `Date#toISOString` writes a whole millisecond. */
const utc = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const isoMillis = (micros: string) =>
  /\.\d{3}000Z$/.test(micros) ? `${micros.slice(0, -4)}Z` : micros;

interface EntryRow {
  tenant_id: string;
  seq: string;
  id: string;
  schema_version: number;
  occurred_at_text: string;
  recorded_at: string;
  category: string;
  action: string;
  outcome: string;
  severity: string;
  actor_type: string;
  actor_id: string;
  actor_name: string | null;
  actor_ip: string | null;
  actor_user_agent: string | null;
  actor_session_id: string | null;
  on_behalf_of_type: string | null;
  on_behalf_of_id: string | null;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  trace_id: string | null;
  reason: string | null;
  data_text: string | null;
  changes_text: string | null;
  prev_hash: string;
  hash: string;
}

const ref = (type: string | null, id: string | null) =>
  type !== null && id !== null ? { type, id } : null;

/** A row of audit_events as the entry that was hashed. */
function toEntry(r: EntryRow): LedgerEntry {
  return {
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    id: r.id,
    schemaVersion: r.schema_version,
    occurredAt: r.occurred_at_text,
    recordedAt: isoMillis(r.recorded_at),
    category: r.category,
    action: r.action,
    outcome: r.outcome,
    severity: r.severity,
    actor: {
      type: r.actor_type,
      id: r.actor_id,
      name: r.actor_name,
      ip: r.actor_ip,
      userAgent: r.actor_user_agent,
      sessionId: r.actor_session_id,
    },
    onBehalfOf: ref(r.on_behalf_of_type, r.on_behalf_of_id),
    target: ref(r.target_type, r.target_id),
    requestId: r.request_id,
    traceId: r.trace_id,
    reason: r.reason,
    dataText: r.data_text,
    changesText: r.changes_text,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** An entry's hashed fields but its place in the chain, compared as JSON (absent: null). */
type Content = Omit<
  LedgerEntry,
  'tenantId' | 'seq' | 'id' | 'schemaVersion' | 'recordedAt' | 'prevHash' | 'hash'
>;

/** The published event's fields as the ledger must hold them. */
function asPublished(e: AuditEvent): Content {
  return {
    occurredAt: e.occurredAt,
    category: e.category,
    action: e.action,
    outcome: e.outcome,
    severity: e.severity ?? 'info',
    actor: {
      type: e.actor.type,
      id: e.actor.id,
      name: e.actor.name ?? null,
      ip: e.actor.ip ?? null,
      userAgent: e.actor.userAgent ?? null,
      sessionId: e.actor.sessionId ?? null,
    },
    onBehalfOf: e.onBehalfOf ?? null,
    target: e.target ?? null,
    requestId: e.requestId ?? null,
    traceId: e.traceId ?? null,
    reason: e.reason ?? null,
    dataText: e.data === undefined ? null : JSON.stringify(e.data),
    changesText: e.changes === undefined ? null : JSON.stringify(e.changes),
  };
}

/** A stored entry's fields, in the same shape and order. */
const stored = (e: LedgerEntry): Content => ({
  occurredAt: e.occurredAt,
  category: e.category,
  action: e.action,
  outcome: e.outcome,
  severity: e.severity,
  actor: {
    type: e.actor.type,
    id: e.actor.id,
    name: e.actor.name ?? null,
    ip: e.actor.ip ?? null,
    userAgent: e.actor.userAgent ?? null,
    sessionId: e.actor.sessionId ?? null,
  },
  onBehalfOf: e.onBehalfOf ?? null,
  target: e.target ?? null,
  requestId: e.requestId ?? null,
  traceId: e.traceId ?? null,
  reason: e.reason ?? null,
  dataText: e.dataText,
  changesText: e.changesText,
});

/** What the independent check found in one tenant's ledger (compared as a whole). */
interface ChainReport {
  tenant: string;
  entries: number;
  distinctIds: number;
  /** seq is exactly 1..entries. */
  seqGapFree: boolean;
  /** Published ids not in the chain. */
  missing: number;
  /** Ids in the chain neither published nor one of the verify calls' `audit.read` events. */
  unexpected: string[];
  /** `audit.read` entries recorded by the verify calls. */
  reads: number;
  /** Seqs (the first few) whose content is not what was published. */
  contentMismatches: number[];
  /** verifyChain over the entries as PostgreSQL holds them. */
  chain: string;
  /** audit_heads holds the last entry's seq and hash. */
  head: boolean;
  /** audit_leaves holds each entry's hash at its seq, and nothing else. */
  leaves: boolean;
  checkpoints: number;
  /** Checkpoints whose signature or root does not hold. */
  badCheckpoints: string[];
  /** The largest checkpoint covers the whole chain. */
  sealedToHead: boolean;
}

describe('audit ledger: SIGKILL while 10,000 events of 8 tenants are published, with duplicates', () => {
  let platform: Platform;
  let namespace: Namespace;
  let nats: NatsService;
  let rpc: RpcClient;
  let db: pg.Client;
  let second: ServiceProcess | undefined;
  /** The audit instances' log lines (LOG_LEVEL warn: warnings and errors), tagged by instance. */
  const logs: string[] = [];
  const collect =
    (tag: string): LineHandler =>
    (_service, line) =>
      logs.push(`[${tag}] ${line}`);

  beforeAll(async () => {
    platform = await Platform.create({
      services: ['audit'],
      env: { AUDIT_CHECKPOINT_SECONDS: '1' },
      onLine: collect('audit#1'),
    });
    await platform.start();
    namespace = new Namespace(platform.namespace);
    nats = await connectTestNats(platform.infra.natsUrl, namespace);
    rpc = new RpcClient(nats);
    const url = new URL(platform.infra.bootstrapUrl);
    url.pathname = `/${namespace.database('audit')}`;
    db = new pg.Client({ connectionString: url.toString() }); // superuser: past row-level security
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await db?.end();
    await nats?.drain();
    await platform?.destroy();
  });

  const auditStream = () => namespace.stream(Streams.AUDIT.name);

  async function storedCount(tenants: string[]): Promise<number> {
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = ANY($1::uuid[])',
      [tenants],
    );
    return rows[0].n;
  }

  /** Polls until `count` entries of the tenants are stored; how long it took. */
  async function waitStored(tenants: string[], count: number, timeoutMs = 90_000) {
    const started = Date.now();
    await waitFor(`${count} entries stored`, async () => (await storedCount(tenants)) >= count, {
      timeoutMs,
      intervalMs: 25,
    });
    return Date.now() - started;
  }

  /**
   * Samples the tenants' stored count every 100 ms until stopped; `stop()` gives the peak
   * rate over any window of at least a second (events/s).
   */
  function sampleStoredRate(tenants: string[]): { stop(): Promise<number> } {
    const samples: { at: number; count: number }[] = [];
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        samples.push({ at: Date.now(), count: await storedCount(tenants) });
        await sleep(100);
      }
    })().catch(() => undefined);
    return {
      async stop() {
        stopped = true;
        await loop;
        let peak = 0;
        for (let i = 0, j = 0; i < samples.length; i++) {
          while (j < samples.length && samples[j]!.at - samples[i]!.at < 1_000) j++;
          if (j === samples.length) break;
          const rate =
            (samples[j]!.count - samples[i]!.count) / ((samples[j]!.at - samples[i]!.at) / 1000);
          peak = Math.max(peak, rate);
        }
        return Math.round(peak);
      },
    };
  }

  /**
   * A second audit instance, as a separate process with the platform's environment (same
   * namespace, database and durable consumer) on a port of its own.
   */
  async function startSecondInstance(): Promise<ServiceProcess> {
    const instance = new ServiceProcess({
      service: 'audit',
      root: REPO_ROOT,
      port: await freePort(),
      env: { ...platform.env },
      onLine: collect('audit#2'),
    });
    instance.start();
    await instance.waitReady(60_000);
    return instance;
  }

  /**
   * Shortens the AUDIT stream's duplicate window to 1 s and waits it out: the next publish
   * of an old event id is stored again (as a publisher retrying after the window would).
   * An audit instance that starts puts the window back (StreamManager.ensure).
   */
  async function outliveDuplicateWindow(): Promise<void> {
    const info = await nats.jsm.streams.info(auditStream());
    await nats.jsm.streams.update(auditStream(), {
      subjects: info.config.subjects,
      duplicate_window: 1_000_000_000,
    });
    await sleep(1_500);
  }

  /** Waits until the durable consumer has nothing pending and nothing unacknowledged. */
  async function waitSettled(): Promise<number> {
    const started = Date.now();
    await waitFor(
      'the durable consumer to have nothing pending or unacknowledged',
      async () => {
        const info = await nats.jsm.consumers.info(auditStream(), DURABLE);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    return Date.now() - started;
  }

  /**
   * Deliveries by the durable consumer beyond one per stream message so far: the messages
   * JetStream delivered again (those a killed instance held unacknowledged).
   */
  async function redeliveries(): Promise<number> {
    const info = await nats.jsm.consumers.info(auditStream(), DURABLE);
    return info.delivered.consumer_seq - info.delivered.stream_seq;
  }

  /** Messages an audit instance's ledger consumer committed and acked since it started (its /metrics). */
  async function processedBy(instance: ServiceProcess): Promise<number> {
    const response = await fetch(`${instance.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const text = await response.text();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('tenantry_consumer_messages_total{') && l.includes(`consumer="${DURABLE}"`),
      );
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }

  /** Messages parked by any consumer of the namespace (PARKED stream). */
  async function parkedCount(): Promise<number> {
    const info = await nats.jsm.streams.info(namespace.stream(Streams.PARKED.name));
    return info.state.messages;
  }

  /** Waits until every tenant's largest checkpoint covers its whole chain. */
  async function waitSealed(tenants: string[]): Promise<number> {
    const started = Date.now();
    await waitFor(
      'a checkpoint of every chain up to its head',
      async () => {
        const { rows } = await db.query(
          `SELECT count(*)::int AS n FROM audit_heads h
            WHERE h.tenant_id = ANY($1::uuid[])
              AND h.seq = (SELECT max(tree_size) FROM audit_checkpoints c WHERE c.tenant_id = h.tenant_id)`,
          [tenants],
        );
        return rows[0].n === tenants.length;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return Date.now() - started;
  }

  /** The published checkpoint keys (`audit.keys.list`). */
  async function publishedKeys(): Promise<AuditKey[]> {
    const { keys } = await rpc.request(AuditLedgerRpc.keys, {}, { timeoutMs: 10_000 });
    return keys.map(({ keyId, publicKey, notBefore, notAfter }) => ({
      keyId,
      publicKey,
      notBefore,
      notAfter,
    }));
  }

  /** One tenant's ledger read straight from PostgreSQL and checked without the service. */
  async function checkTenant(
    tenant: string,
    published: Map<string, AuditEvent>,
    keys: AuditKey[],
  ): Promise<ChainReport> {
    const rows = (
      await db.query<EntryRow>(
        `SELECT tenant_id::text AS tenant_id, seq::text AS seq, id::text AS id, schema_version,
                occurred_at_text, ${utc('recorded_at')} AS recorded_at, category, action, outcome,
                severity, actor_type, actor_id, actor_name, actor_ip, actor_user_agent,
                actor_session_id, on_behalf_of_type, on_behalf_of_id, target_type, target_id,
                request_id, trace_id, reason, data_text, changes_text,
                encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash
           FROM audit_events e WHERE e.tenant_id = $1 ORDER BY e.seq`,
        [tenant],
      )
    ).rows;
    const entries = rows.map(toEntry);
    const ids = new Set(entries.map((e) => e.id));
    const unexpected: string[] = [];
    const contentMismatches: number[] = [];
    let reads = 0;
    for (const entry of entries) {
      const event = published.get(entry.id);
      if (event) {
        if (JSON.stringify(stored(entry)) !== JSON.stringify(asPublished(event)))
          contentMismatches.push(entry.seq);
      } else if (
        entry.category === 'audit' &&
        entry.action === 'audit.read' &&
        entry.actor.id === AUDITOR
      ) {
        reads += 1;
      } else {
        unexpected.push(entry.id);
      }
    }
    const chain = verifyChain(entries, { tenantId: tenant });

    const head = (
      await db.query(
        `SELECT seq::text AS seq, encode(hash, 'hex') AS hash FROM audit_heads WHERE tenant_id = $1`,
        [tenant],
      )
    ).rows[0] as { seq: string; hash: string } | undefined;
    const last = entries[entries.length - 1];
    const leaves = (
      await db.query(
        `SELECT l.seq::text AS seq, encode(l.hash, 'hex') AS hash FROM audit_leaves l
          WHERE l.tenant_id = $1 ORDER BY l.seq`,
        [tenant],
      )
    ).rows as { seq: string; hash: string }[];

    // Every checkpoint: signed by a published key, and its root is the Merkle root of the
    // chain's first treeSize entry hashes.
    const leafHashes = entries.map((e) => leafHash(e.hash));
    const checkpoints = (
      await db.query(
        `SELECT tree_size::text AS tree_size, encode(root_hash, 'hex') AS root_hash,
                ${utc('issued_at')} AS issued_at, key_id, signature, kind,
                pruned_through_seq::text AS pruned_through_seq
           FROM audit_checkpoints c WHERE c.tenant_id = $1 ORDER BY c.tree_size, c.issued_at`,
        [tenant],
      )
    ).rows as {
      tree_size: string;
      root_hash: string;
      issued_at: string;
      key_id: string;
      signature: string;
      kind: CheckpointKind;
      pruned_through_seq: string | null;
    }[];
    const badCheckpoints: string[] = [];
    for (const row of checkpoints) {
      const c: Checkpoint = {
        tenantId: tenant,
        treeSize: Number(row.tree_size),
        rootHash: row.root_hash,
        issuedAt: isoMillis(row.issued_at),
        keyId: row.key_id,
        kind: row.kind,
        prunedThroughSeq: row.pruned_through_seq === null ? null : Number(row.pruned_through_seq),
      };
      const signature = verifyCheckpoint(c, row.signature, keys);
      if (signature !== 'ok') badCheckpoints.push(`${c.treeSize}: ${signature}`);
      if (c.treeSize > leafHashes.length)
        badCheckpoints.push(`${c.treeSize}: beyond the chain (${leafHashes.length})`);
      else if (merkleRoot(leafHashes.slice(0, c.treeSize)).toString('hex') !== c.rootHash)
        badCheckpoints.push(`${c.treeSize}: root_mismatch`);
    }
    const largest = checkpoints[checkpoints.length - 1];

    return {
      tenant,
      entries: entries.length,
      distinctIds: ids.size,
      seqGapFree: entries.every((e, i) => e.seq === i + 1),
      missing: [...published.keys()].filter((id) => !ids.has(id)).length,
      unexpected,
      reads,
      contentMismatches: contentMismatches.slice(0, 5),
      chain: chain.ok ? 'ok' : `${chain.kind} at seq ${chain.seq}: ${chain.message}`,
      head: !!last && head?.seq === String(last.seq) && head.hash === last.hash,
      leaves:
        leaves.length === entries.length &&
        leaves.every((l, i) => l.seq === String(i + 1) && l.hash === entries[i]!.hash),
      checkpoints: checkpoints.length,
      badCheckpoints: badCheckpoints.slice(0, 5),
      sealedToHead: !!largest && Number(largest.tree_size) === entries.length,
    };
  }

  /** Every tenant's independent check, asserted: each published event once, `reads` more. */
  async function checkLedger(work: Workload, reads: number): Promise<ChainReport[]> {
    const keys = await publishedKeys();
    expect(keys.length).toBeGreaterThan(0);
    const published = work.byTenant();
    const reports: ChainReport[] = [];
    for (const tenant of work.tenants)
      reports.push(await checkTenant(tenant, published.get(tenant)!, keys));
    expect(reports).toEqual(
      work.tenants.map((tenant) => {
        const n = published.get(tenant)!.size + reads;
        return {
          tenant,
          entries: n,
          distinctIds: n,
          seqGapFree: true,
          missing: 0,
          unexpected: [],
          reads,
          contentMismatches: [],
          chain: 'ok',
          head: true,
          leaves: true,
          checkpoints: expect.any(Number),
          badCheckpoints: [],
          sealedToHead: true,
        };
      }),
    );
    return reports;
  }

  /** The service's own verification of each chain (`audit.ledger.verify`), asserted ok. */
  async function verifyThroughService(work: Workload, reports: ChainReport[]): Promise<number> {
    const started = Date.now();
    const context = newContext({ actor: `user:${AUDITOR}` });
    for (const report of reports) {
      const result = await rpc.request(
        AuditLedgerRpc.verify,
        { tenantId: report.tenant },
        { timeoutMs: 30_000, context },
      );
      expect({ tenant: report.tenant, ok: result.ok, firstBad: result.firstBad }).toEqual({
        tenant: report.tenant,
        ok: true,
        firstBad: undefined,
      });
      // The verify call's own audit.read event may be in the chain already.
      expect([report.entries, report.entries + 1]).toContain(result.checked);
      expect(result.checkpoints).toBeGreaterThanOrEqual(report.checkpoints);
    }
    const took = Date.now() - started;
    // Each verify call recorded itself in the tenant's chain (audit.read), exactly once.
    await waitStored(work.tenants, TOTAL + work.tenants.length, 30_000);
    return took;
  }

  /** The end of a scenario: drained, settled, sealed, checked both ways; the timings. */
  async function assertLedger(
    work: Workload,
    timings: Record<string, string>,
    redeliveredBefore: number,
  ): Promise<void> {
    // Redeliveries (a batch committed but not acked before the kill) must not double anything.
    timings.settled = seconds(await waitSettled());
    timings.redelivered = `${(await redeliveries()) - redeliveredBefore} messages`;
    expect(await storedCount(work.tenants)).toBe(TOTAL);
    expect(await parkedCount()).toBe(0);
    timings.sealed = seconds(await waitSealed(work.tenants));
    let started = Date.now();
    const reports = await checkLedger(work, 0);
    timings.checkedIndependently = seconds(Date.now() - started);
    timings.checkpoints = String(reports.reduce((sum, r) => sum + r.checkpoints, 0));
    timings.verifiedByService = seconds(await verifyThroughService(work, reports));
    await waitSettled();
    await waitSealed(work.tenants);
    started = Date.now();
    await checkLedger(work, 1);
    timings.checkedAgain = seconds(Date.now() - started);
    expect(await storedCount(work.tenants)).toBe(TOTAL + work.tenants.length);
  }

  function printReport(title: string, work: Workload, timings: Record<string, string>): void {
    const lines = logs.splice(0);
    console.log(
      [
        `audit ledger crash e2e — ${title}`,
        ...Object.entries(timings).map(([k, v]) => `  ${k}: ${v}`),
        `  publish acks (accepted/dropped by JetStream): ${Object.entries(work.acks)
          .map(([group, a]) => `${group} ${a.accepted}/${a.dropped}`)
          .join(', ')}`,
        `  audit log lines (warn and above): ${lines.length}`,
        ...lines.slice(0, 15).map((line) => `    ${line.slice(0, 300)}`),
      ].join('\n'),
    );
  }

  /** Late duplicates reached the stream again: the ledger itself had to drop them. */
  function expectAcks(work: Workload): void {
    expect(work.acks.original).toEqual({ accepted: TOTAL, dropped: 0 });
    expect(work.acks.late).toEqual({ accepted: LATE_DUPLICATES, dropped: 0 });
    const retried = work.acks.early.accepted + work.acks.early.dropped;
    expect(retried).toBe(EARLY_DUPLICATES);
    expect(work.acks.restart.accepted + work.acks.restart.dropped).toBe(RESTART_DUPLICATES);
  }

  /**
   * The course of both scenarios: the events published (paced), `victim` SIGKILLed once a
   * third is stored, `whileDown`, `victim` restarted, the duplicates after the restart and
   * after the duplicate window, until every event is stored; the timings as it goes.
   */
  async function crashWhilePublishing(
    work: Workload,
    victim: ServiceProcess,
    timings: Record<string, string>,
    hooks: { beforeKill?: () => Promise<void>; whileDown?: () => Promise<void> } = {},
  ): Promise<number> {
    const redeliveredBefore = await redeliveries();
    const started = Date.now();
    const publishing = work.publishAll();

    await waitStored(work.tenants, Math.floor(TOTAL / 3), 60_000);
    await hooks.beforeKill?.();
    await victim.kill();
    const killedAt = Date.now();
    const storedAtKill = await storedCount(work.tenants);
    timings.killed = `after ${seconds(killedAt - started)}: ${storedAtKill} stored, ${work.published} published`;
    expect(work.published).toBeLessThan(TOTAL);
    expect(storedAtKill).toBeLessThan(TOTAL);

    await hooks.whileDown?.();
    const rate = sampleStoredRate(work.tenants);
    try {
      victim.start();
      await victim.waitReady(60_000);
      const restartedAt = Date.now();
      const publishedAtRestart = work.published;
      const backlog = publishedAtRestart - (await storedCount(work.tenants));
      timings.restarted = `ready ${seconds(restartedAt - killedAt)} after the kill, backlog ${backlog}`;
      const caughtUp = await waitStored(work.tenants, publishedAtRestart);
      // Includes the wait for what the killed instance held unacknowledged: JetStream
      // redelivers it once its ack_wait (10 s after delivery) runs out.
      timings.caughtUp = `with the ${publishedAtRestart} published before the restart ${seconds(caughtUp)} after it`;

      const publishMs = await publishing;
      timings.published = `${TOTAL} in ${seconds(publishMs)} (${perSecond(TOTAL, publishMs)})`;
      await work.publishMany(work.restart, 'restart');
      await outliveDuplicateWindow();
      await work.publishMany(work.late, 'late');
      const lastPublishAt = Date.now();
      expectAcks(work);

      await waitStored(work.tenants, TOTAL);
      const drainedAt = Date.now();
      timings.drained = `${seconds(drainedAt - lastPublishAt)} after the last publish; all ${TOTAL} ${seconds(
        drainedAt - started,
      )} after the first (${perSecond(TOTAL, drainedAt - started)} end to end)`;
    } finally {
      timings.peakRate = `${await rate.stop()} events/s stored at best over a second after the restart`;
    }
    return redeliveredBefore;
  }

  it('one instance, SIGKILLed at a third and restarted: each event once, seq gap-free, chains verify', async () => {
    const work = new Workload(nats, namespace);
    const timings: Record<string, string> = {};
    try {
      const redelivered = await crashWhilePublishing(work, platform.service('audit'), timings);
      await assertLedger(work, timings, redelivered);
    } finally {
      printReport('one instance', work, timings);
    }
  }, 240_000);

  it('two instances sharing the durable consumer, one SIGKILLed and restarted: each event once, seq gap-free, chains verify', async () => {
    second = await startSecondInstance();
    const victim = platform.service('audit');
    const survivor = second;
    const work = new Workload(nats, namespace);
    const timings: Record<string, string> = {};
    const before = await processedBy(victim);
    try {
      const redelivered = await crashWhilePublishing(work, victim, timings, {
        beforeKill: async () => {
          const [one, two] = [await processedBy(victim), await processedBy(survivor)];
          timings.shared = `before the kill, messages acked by #1 ${one - before}, by #2 ${two}`;
        },
        whileDown: async () => {
          // The survivor carries on alone: two thirds stored while the other is down.
          const from = await storedCount(work.tenants);
          const took = await waitStored(work.tenants, Math.floor((2 * TOTAL) / 3), 60_000);
          expect(survivor.running).toBe(true);
          timings.survivor = `alone, from ${from} to ${Math.floor((2 * TOTAL) / 3)} stored in ${seconds(took)}`;
        },
      });
      await assertLedger(work, timings, redelivered);
      expect(victim.running && survivor.running).toBe(true);
      timings.acked = `by #1 since its restart ${await processedBy(victim)}, by #2 in all ${await processedBy(survivor)}`;
    } finally {
      printReport('two instances, one killed', work, timings);
    }
  }, 240_000);
});
