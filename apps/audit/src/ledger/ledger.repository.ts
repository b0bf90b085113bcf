import { Inject, Injectable } from '@nestjs/common';
import type { Checkpoint, CheckpointKind, LedgerEntry } from '@tenantry/audit-ledger';
import {
  setTenantStatement,
  Sql,
  statement,
  TenantTransactions,
  type BatchedTransaction,
  type PreparedStatement,
  type Row,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';

/** A row of `audit_events` as the ledger reads it: every hashed field, exactly as stored. */
export interface LedgerRow {
  tenant_id: string;
  seq: string;
  id: string;
  schema_version: number;
  occurred_at_text: string;
  /** recorded_at in UTC to the microsecond (`…T…:…:….123456Z`), so a changed value shows. */
  recorded_at_us: string;
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

/** `timestamptz` in UTC to the microsecond, ISO 8601: the text `isoMillis` turns back into Date#toISOString. */
const utcMicros = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * What the ledger selects of `audit_events` (alias `e`) for a LedgerRow. `seq` is its text:
 * order by `e.seq` (qualified), never by the bare alias, which would sort as text.
 */
export const LEDGER_COLUMNS = `e.tenant_id, e.seq::text AS seq, e.id, e.schema_version, e.occurred_at_text,
  ${utcMicros('e.recorded_at')} AS recorded_at_us, e.category, e.action, e.outcome, e.severity,
  e.actor_type, e.actor_id, e.actor_name, e.actor_ip, e.actor_user_agent, e.actor_session_id,
  e.on_behalf_of_type, e.on_behalf_of_id, e.target_type, e.target_id, e.request_id, e.trace_id,
  e.reason, e.data_text, e.changes_text, encode(e.prev_hash, 'hex') AS prev_hash,
  encode(e.hash, 'hex') AS hash`;

/**
 * A microsecond UTC timestamp as Date#toISOString writes it when it is a whole millisecond
 * (how the ledger stores its times); otherwise unchanged, so that it no longer hashes the same.
 */
export function isoMillis(micros: string): string {
  return /\.\d{3}000Z$/.test(micros) ? `${micros.slice(0, -4)}Z` : micros;
}

/** A stored row as the entry that was hashed (`@tenantry/audit-ledger`'s LedgerEntry). */
export function toLedgerEntry(row: LedgerRow): LedgerEntry {
  return {
    tenantId: row.tenant_id,
    seq: Number(row.seq),
    id: row.id,
    schemaVersion: row.schema_version,
    occurredAt: row.occurred_at_text,
    recordedAt: isoMillis(row.recorded_at_us),
    category: row.category,
    action: row.action,
    outcome: row.outcome,
    severity: row.severity,
    actor: {
      type: row.actor_type,
      id: row.actor_id,
      name: row.actor_name,
      ip: row.actor_ip,
      userAgent: row.actor_user_agent,
      sessionId: row.actor_session_id,
    },
    onBehalfOf:
      row.on_behalf_of_type !== null && row.on_behalf_of_id !== null
        ? { type: row.on_behalf_of_type, id: row.on_behalf_of_id }
        : null,
    target:
      row.target_type !== null && row.target_id !== null
        ? { type: row.target_type, id: row.target_id }
        : null,
    requestId: row.request_id,
    traceId: row.trace_id,
    reason: row.reason,
    dataText: row.data_text,
    changesText: row.changes_text,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** An entry to append, with the JetStream sequence it came from. */
export interface NewLedgerEntry {
  entry: LedgerEntry;
  streamSequence: number;
}

/** A chain's last entry; seq 0 and no hash before the first. */
export interface ChainHead {
  seq: number;
  hash: string | null;
}

/** A checkpoint as stored: the signed statement, its signature, and the tree's frontier. */
export interface StoredCheckpoint {
  id: string;
  checkpoint: Checkpoint;
  signature: string;
  /** The compact range of the tree (`MerkleFrontier.bytes()`). */
  frontier: Buffer;
}

interface CheckpointRow {
  id: string;
  tenant_id: string;
  tree_size_text: string;
  root_hash: string;
  issued_at_us: string;
  key_id: string;
  signature: string;
  kind: CheckpointKind;
  pruned_through_text: string | null;
  frontier: Buffer;
}

// Text aliases get names of their own: ORDER BY tree_size must sort the bigint, not its text.
const CHECKPOINT_COLUMNS = `id, tenant_id, tree_size::text AS tree_size_text,
  encode(root_hash, 'hex') AS root_hash, ${utcMicros('issued_at')} AS issued_at_us, key_id,
  signature, kind, pruned_through_seq::text AS pruned_through_text, frontier`;

function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return {
    id: row.id,
    checkpoint: {
      tenantId: row.tenant_id,
      treeSize: Number(row.tree_size_text),
      rootHash: row.root_hash,
      issuedAt: isoMillis(row.issued_at_us),
      keyId: row.key_id,
      kind: row.kind,
      prunedThroughSeq: row.pruned_through_text === null ? null : Number(row.pruned_through_text),
    },
    signature: row.signature,
    frontier: row.frontier,
  };
}

/** Where a page of checkpoints (latest first) continues: the last one's issuedAt and id. */
export interface CheckpointCursor {
  issuedAt: string;
  id: string;
}

/**
 * How `audit_purged_chains` names a purged chain: the SHA-256 of the tenant id's text (the
 * table holds no tenant id). `$1` is the tenant id.
 */
export const PURGED_CHAIN_HASH = `sha256(convert_to($1::uuid::text, 'UTF8'))`;

/**
 * The append was refused because the chain holds one of its events already (the primary key
 * (tenant_id, id) of `audit_events`): the writer appends the batch again, looking ids up first.
 */
export function isStoredAlready(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && e.constraint === 'audit_events_pkey';
}

/** Advisory lock classes: one chain writer per tenant, one sealer per tenant. */
const CHAIN_LOCK = `hashtext('tenantry.audit.chain')`;
const SEAL_LOCK = `hashtext('tenantry.audit.seal')`;

const TENANTS_TO_SEAL: PreparedStatement = {
  name: 'audit-ledger.tenants-to-seal',
  text: `SELECT tenant_id FROM audit_tenants WHERE head_seq > sealed_seq AND tenant_id > $1
          ORDER BY tenant_id LIMIT $2`,
};
const TENANTS_AFTER: PreparedStatement = {
  name: 'audit-ledger.tenants-after',
  text: `SELECT tenant_id, retention_days FROM audit_tenants WHERE tenant_id > $1
          ORDER BY tenant_id LIMIT $2`,
};

/** The column list the append writes, and each column's array type in the unnest. */
const APPEND_COLUMNS: [column: string, type: string, value: (n: NewLedgerEntry) => unknown][] = [
  ['id', 'uuid', (n) => n.entry.id],
  ['seq', 'bigint', (n) => String(n.entry.seq)],
  ['prev_hash', 'text', (n) => n.entry.prevHash],
  ['hash', 'text', (n) => n.entry.hash],
  ['schema_version', 'smallint', (n) => n.entry.schemaVersion],
  ['occurred_at_text', 'text', (n) => n.entry.occurredAt],
  ['recorded_at', 'text', (n) => n.entry.recordedAt],
  ['category', 'text', (n) => n.entry.category],
  ['action', 'text', (n) => n.entry.action],
  ['outcome', 'text', (n) => n.entry.outcome],
  ['severity', 'text', (n) => n.entry.severity],
  ['actor_type', 'text', (n) => n.entry.actor.type],
  ['actor_id', 'text', (n) => n.entry.actor.id],
  ['actor_name', 'text', (n) => n.entry.actor.name ?? null],
  ['actor_ip', 'text', (n) => n.entry.actor.ip ?? null],
  ['actor_user_agent', 'text', (n) => n.entry.actor.userAgent ?? null],
  ['actor_session_id', 'text', (n) => n.entry.actor.sessionId ?? null],
  ['on_behalf_of_type', 'text', (n) => n.entry.onBehalfOf?.type ?? null],
  ['on_behalf_of_id', 'text', (n) => n.entry.onBehalfOf?.id ?? null],
  ['target_type', 'text', (n) => n.entry.target?.type ?? null],
  ['target_id', 'text', (n) => n.entry.target?.id ?? null],
  ['request_id', 'text', (n) => n.entry.requestId ?? null],
  ['trace_id', 'text', (n) => n.entry.traceId ?? null],
  ['reason', 'text', (n) => n.entry.reason ?? null],
  ['data_text', 'text', (n) => n.entry.dataText],
  ['changes_text', 'text', (n) => n.entry.changesText],
  ['stream_sequence', 'bigint', (n) => String(n.streamSequence)],
];

/** Column expressions of the INSERT … SELECT, from the unnest's columns `u.<name>`. */
const APPEND_SELECT: Record<string, string> = {
  prev_hash: `decode(u.prev_hash, 'hex')`,
  hash: `decode(u.hash, 'hex')`,
  recorded_at: `u.recorded_at::timestamptz`,
};

/**
 * One statement per tenant and batch: the entries into `audit_events` (with `occurred_at`,
 * `data` and `changes` derived for search), their hashes into `audit_leaves`, the new head
 * into `audit_heads` and `audit_tenants`. $1 is the tenant, $2 the new head's seq, $3 its
 * hash; then one array per column.
 */
const APPEND_SQL = `
  WITH e AS (
    INSERT INTO audit_events (tenant_id, ${APPEND_COLUMNS.map(([c]) => c).join(', ')},
                              occurred_at, data, changes)
    SELECT $1::uuid, ${APPEND_COLUMNS.map(([c]) => APPEND_SELECT[c] ?? `u.${c}`).join(', ')},
           u.occurred_at_text::timestamptz, u.data_text::jsonb, u.changes_text::jsonb
      FROM unnest(${APPEND_COLUMNS.map(([, type], i) => `$${i + 4}::${type}[]`).join(', ')})
        AS u(${APPEND_COLUMNS.map(([c]) => c).join(', ')})
    RETURNING tenant_id, seq, hash
  ), leaves AS (
    INSERT INTO audit_leaves (tenant_id, seq, hash) SELECT tenant_id, seq, hash FROM e
  ), head AS (
    INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, $2, decode($3, 'hex'))
    ON CONFLICT (tenant_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash
  )
  INSERT INTO audit_tenants (tenant_id, head_seq) VALUES ($1, $2)
  ON CONFLICT (tenant_id) DO UPDATE SET head_seq = EXCLUDED.head_seq`;

const APPEND: PreparedStatement = { name: 'audit-ledger.append', text: APPEND_SQL };

/**
 * Makes the rest of the transaction run as the tenant (row-level security) and takes the
 * tenant's chain lock until it ends: no other writer (another audit instance) appends to
 * this chain meanwhile. $1 is the tenant.
 */
const LOCK_CHAIN: PreparedStatement = {
  name: 'audit-ledger.lock-chain',
  text: `SELECT set_config('app.tenant_id', $1, true), pg_advisory_xact_lock(${CHAIN_LOCK}, hashtext($1))`,
};

/**
 * The chain's head, which of the ids $2 the chain already holds (redeliveries, retries),
 * and, for a chain with no entry, whether it was purged (`audit_purged_chains`). $1 is the
 * tenant. Each id is looked up on its own through the primary key (tenant_id, id) (a
 * LATERAL … LIMIT 1 cannot become a join): `id = ANY(…)` let the plan of this prepared
 * statement scan every entry of the tenant instead, a cost that grew with the chain.
 */
/** A chain's head and whether it was purged (HEAD_AND_STORED, HEAD): `stored` goes between. */
const headSql = (stored: string) =>
  `SELECT h.seq::text AS seq, encode(h.hash, 'hex') AS hash, ${stored} AS stored,
          h.seq IS NULL AND EXISTS (SELECT 1 FROM audit_purged_chains
                                     WHERE chain_hash = ${PURGED_CHAIN_HASH}) AS purged
     FROM (SELECT 1) AS one LEFT JOIN audit_heads h ON h.tenant_id = $1`;

const HEAD_AND_STORED: PreparedStatement = {
  name: 'audit-ledger.head-and-stored',
  text: headSql(`ARRAY(SELECT u.id::text FROM unnest($2::uuid[]) AS u(id)
                        CROSS JOIN LATERAL (SELECT 1 FROM audit_events e
                                             WHERE e.tenant_id = $1 AND e.id = u.id LIMIT 1) AS held)`),
};

/**
 * HEAD_AND_STORED without the ids (an append that does not look them up). A statement of its
 * own: PostgreSQL plans HEAD_AND_STORED afresh at every execution (its custom plans always win
 * over the generic one; pg_prepared_statements counts no generic plan), while this one runs on
 * its cached generic plan. The benchmark's 100-tenant writer: 0.94× its chaining-off run
 * (0.81× looking every id up, 0.55–0.70× sending HEAD_AND_STORED an empty array).
 */
const HEAD: PreparedStatement = { name: 'audit-ledger.head', text: headSql(`'{}'::text[]`) };

/** A chain as its append found it, under its lock. */
export interface ChainState {
  head: ChainHead;
  /** The ids asked about that the chain already holds. */
  stored: Set<string>;
  /** The chain has no entry because it was purged (its tenant deleted): nothing may start it again. */
  purged: boolean;
}

/** A tenant's chained entries to append (in seq order, after the head). */
export interface ChainAppend {
  tenantId: string;
  entries: NewLedgerEntry[];
}

/**
 * The ledger's tables: `audit_events` as a chain (append and reads in seq order),
 * `audit_leaves`, `audit_heads`, `audit_checkpoints` and the platform-level
 * `audit_tenants`. The only code that writes them. Tenant tables are read and written
 * under the tenant's row-level security (TenantTransactions), and every query still
 * filters by tenant_id.
 */
@Injectable()
export class LedgerRepository {
  constructor(
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Sql) private readonly sql: Sql,
  ) {}

  /** A transaction with no tenant set (platform-level work, e.g. the sealer's). */
  inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.tx.runGlobal(work);
  }

  /**
   * A transaction whose statements go in batches, one round trip each: an append locks and
   * reads every chain of its batch in one (`lockChains`), and writes them all and commits
   * in the next (`appendChains`), whatever the number of tenants.
   */
  inBatches<T>(work: (tx: BatchedTransaction) => Promise<T>): Promise<T> {
    return this.tx.inBatches(work);
  }

  /**
   * Takes each chain's lock (in the order given: sort by tenant id, so that two writers
   * never deadlock) and reads its state under it, asking which of `ids` it already holds
   * (with no ids, nothing is looked up); one round trip for all of them.
   */
  async lockChains(
    tx: BatchedTransaction,
    chains: { tenantId: string; ids: string[] }[],
  ): Promise<ChainState[]> {
    const rows = await tx.run(
      chains.flatMap(({ tenantId, ids }) => [
        statement(LOCK_CHAIN, [tenantId]),
        ids.length ? statement(HEAD_AND_STORED, [tenantId, ids]) : statement(HEAD, [tenantId]),
      ]),
    );
    return chains.map((_, i) => toChainState(rows[2 * i + 1]!));
  }

  /**
   * Appends each tenant's chained entries and moves its head (one statement per tenant, run
   * as that tenant), and commits: one round trip for all of them.
   */
  async appendChains(tx: BatchedTransaction, appends: ChainAppend[]): Promise<void> {
    await tx.run(
      appends
        .filter(({ entries }) => entries.length > 0)
        .flatMap(({ tenantId, entries }) => {
          const last = entries[entries.length - 1]!;
          return [
            setTenantStatement(tenantId),
            statement(APPEND, [
              tenantId,
              String(last.entry.seq),
              last.entry.hash,
              ...APPEND_COLUMNS.map(([, , value]) => entries.map(value)),
            ]),
          ];
        }),
      { commit: true },
    );
  }

  /** Tenants whose chain grew since their last checkpoint, by id after `after` (platform-level). */
  async tenantsToSeal(after: string, limit: number): Promise<string[]> {
    const rows = await this.sql.rows<{ tenant_id: string }>(TENANTS_TO_SEAL, [after, limit]);
    return rows.map((r) => r.tenant_id);
  }

  /**
   * Every tenant with a chain, by id, `limit` at a time after `after`, with its own
   * retention in days (null: the default; 0: forever): retention's walk.
   */
  async tenantsAfter(
    after: string,
    limit: number,
  ): Promise<{ tenantId: string; retentionDays: number | null }[]> {
    const rows = await this.sql.rows<{ tenant_id: string; retention_days: number | null }>(
      TENANTS_AFTER,
      [after, limit],
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, retentionDays: r.retention_days }));
  }

  /**
   * Makes the rest of the transaction run as `tenantId` and tries the tenant's sealing lock:
   * false when another instance is sealing it now.
   */
  async trySealLock(manager: EntityManager, tenantId: string): Promise<boolean> {
    const [row] = (await manager.query(
      `SELECT set_config('app.tenant_id', $1, true),
              pg_try_advisory_xact_lock(${SEAL_LOCK}, hashtext($1)) AS locked`,
      [tenantId],
    )) as { locked: boolean }[];
    return row?.locked === true;
  }

  /** The chain's head in the caller's transaction (seq 0 before the first entry). */
  async headIn(manager: EntityManager, tenantId: string): Promise<ChainHead> {
    const [row] = (await manager.query(
      `SELECT seq::text AS seq, encode(hash, 'hex') AS hash FROM audit_heads WHERE tenant_id = $1`,
      [tenantId],
    )) as { seq: string; hash: string }[];
    return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: null };
  }

  /** The checkpoint of the largest tree (the newest of that size), in the caller's transaction. */
  async latestCheckpointIn(
    manager: EntityManager,
    tenantId: string,
  ): Promise<StoredCheckpoint | null> {
    const [row] = (await manager.query(
      `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1
        ORDER BY tree_size DESC, issued_at DESC, id DESC LIMIT 1`,
      [tenantId],
    )) as CheckpointRow[];
    return row ? toCheckpoint(row) : null;
  }

  /** The entry hashes of seq in [fromSeq, toSeq], in seq order (as stored: 32-byte Buffers). */
  async leavesIn(
    manager: EntityManager,
    tenantId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<{ seq: number; hash: Buffer }[]> {
    const rows = (await manager.query(
      `SELECT seq::text AS seq_text, hash FROM audit_leaves
        WHERE tenant_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
      [tenantId, String(fromSeq), String(toSeq)],
    )) as { seq_text: string; hash: Buffer }[];
    return rows.map((r) => ({ seq: Number(r.seq_text), hash: r.hash }));
  }

  /** `leavesIn`, in a transaction of its own. */
  leaves(tenantId: string, fromSeq: number, toSeq: number) {
    return this.tx.run(tenantId, (manager) => this.leavesIn(manager, tenantId, fromSeq, toSeq));
  }

  /** Stores a signed checkpoint with the tree's frontier, and notes how far the tenant is sealed. */
  async insertCheckpoint(manager: EntityManager, stored: StoredCheckpoint): Promise<void> {
    const c = stored.checkpoint;
    await manager.query(
      `INSERT INTO audit_checkpoints (tenant_id, id, tree_size, root_hash, issued_at, key_id,
                                      signature, kind, pruned_through_seq, frontier)
       VALUES ($1, $2, $3, decode($4, 'hex'), $5, $6, $7, $8, $9, $10)`,
      [
        c.tenantId,
        stored.id,
        String(c.treeSize),
        c.rootHash,
        c.issuedAt,
        c.keyId,
        stored.signature,
        c.kind,
        c.prunedThroughSeq === null ? null : String(c.prunedThroughSeq),
        stored.frontier,
      ],
    );
    await manager.query(
      `UPDATE audit_tenants SET sealed_seq = greatest(sealed_seq, $2) WHERE tenant_id = $1`,
      [c.tenantId, String(c.treeSize)],
    );
  }

  /** Notes that the tenant's chain is sealed up to `seq` (nothing new to seal). */
  async markSealed(manager: EntityManager, tenantId: string, seq: number): Promise<void> {
    await manager.query(
      `UPDATE audit_tenants SET sealed_seq = greatest(sealed_seq, $2) WHERE tenant_id = $1`,
      [tenantId, String(seq)],
    );
  }

  /**
   * Retention (`audit_prune`, the owner's SECURITY DEFINER function): removes the tenant's
   * entries up to the largest sealed tree size whose entries were all recorded before
   * `before`; the last seq removed, or null when nothing was.
   */
  async pruneIn(manager: EntityManager, tenantId: string, before: Date): Promise<number | null> {
    const [row] = (await manager.query(`SELECT audit_prune($1, $2)::text AS through`, [
      tenantId,
      before.toISOString(),
    ])) as { through: string | null }[];
    return row?.through ? Number(row.through) : null;
  }

  /**
   * Entries with fromSeq ≤ seq ≤ toSeq in seq order, at most `limit`, as stored: the way to
   * page a chain (export, sinks, verify): continue with fromSeq = last seq + 1.
   */
  entriesBySeq(
    tenantId: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<LedgerEntry[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows = (await manager.query(
        `SELECT ${LEDGER_COLUMNS} FROM audit_events e
          WHERE e.tenant_id = $1 AND e.seq BETWEEN $2 AND $3 ORDER BY e.seq LIMIT ${Math.trunc(limit)}`,
        [tenantId, String(fromSeq), String(toSeq)],
      )) as LedgerRow[];
      return rows.map(toLedgerEntry);
    });
  }

  /**
   * What verify starts from: the head, the largest seq stored in `audit_events` and in
   * `audit_leaves` (a row inserted behind the ledger's back shows as more than the head),
   * and the last seq retention removed (0: none).
   */
  chainState(tenantId: string): Promise<{
    headSeq: number;
    maxEventSeq: number;
    maxLeafSeq: number;
    prunedThroughSeq: number;
  }> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT (SELECT seq::text FROM audit_heads WHERE tenant_id = $1) AS head,
                (SELECT max(seq)::text FROM audit_events WHERE tenant_id = $1) AS events,
                (SELECT max(seq)::text FROM audit_leaves WHERE tenant_id = $1) AS leaves,
                (SELECT max(pruned_through_seq)::text FROM audit_checkpoints
                  WHERE tenant_id = $1 AND kind = 'tombstone') AS pruned`,
        [tenantId],
      )) as Record<'head' | 'events' | 'leaves' | 'pruned', string | null>[];
      return {
        headSeq: Number(row?.head ?? 0),
        maxEventSeq: Number(row?.events ?? 0),
        maxLeafSeq: Number(row?.leaves ?? 0),
        prunedThroughSeq: Number(row?.pruned ?? 0),
      };
    });
  }

  /** A tenant's checkpoints, latest issued first, at most `limit`, after `after`. */
  listCheckpoints(
    tenantId: string,
    limit: number,
    after?: CheckpointCursor,
  ): Promise<StoredCheckpoint[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows = (await manager.query(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints
          WHERE tenant_id = $1 ${after ? 'AND (issued_at, id) < ($2::timestamptz, $3::uuid)' : ''}
          ORDER BY issued_at DESC, id DESC LIMIT ${Math.trunc(limit)}`,
        after ? [tenantId, after.issuedAt, after.id] : [tenantId],
      )) as CheckpointRow[];
      return rows.map(toCheckpoint);
    });
  }

  /**
   * Checkpoints with tree_size in [fromSize, toSize], by tree size then id, at most `limit`,
   * after `after` (the last one of the previous page).
   */
  checkpointsBySize(
    tenantId: string,
    fromSize: number,
    toSize: number,
    limit: number,
    after?: { treeSize: number; id: string },
  ): Promise<StoredCheckpoint[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows = (await manager.query(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints
          WHERE tenant_id = $1 AND tree_size BETWEEN $2 AND $3
            ${after ? 'AND (tree_size, id) > ($4::bigint, $5::uuid)' : ''}
          ORDER BY tree_size, id LIMIT ${Math.trunc(limit)}`,
        [
          tenantId,
          String(fromSize),
          String(toSize),
          ...(after ? [String(after.treeSize), after.id] : []),
        ],
      )) as CheckpointRow[];
      return rows.map(toCheckpoint);
    });
  }

  /** The newest checkpoint of exactly `treeSize` (a regular one before a tombstone), or null. */
  checkpointOfSize(tenantId: string, treeSize: number): Promise<StoredCheckpoint | null> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 AND tree_size = $2
          ORDER BY kind = 'checkpoint' DESC, issued_at DESC, id DESC LIMIT 1`,
        [tenantId, String(treeSize)],
      )) as CheckpointRow[];
      return row ? toCheckpoint(row) : null;
    });
  }

  /** The newest checkpoint of the largest tree with size ≤ `maxSize` (null: none). */
  checkpointAtMost(tenantId: string, maxSize: number): Promise<StoredCheckpoint | null> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 AND tree_size <= $2
          ORDER BY tree_size DESC, kind = 'checkpoint' DESC, issued_at DESC, id DESC LIMIT 1`,
        [tenantId, String(maxSize)],
      )) as CheckpointRow[];
      return row ? toCheckpoint(row) : null;
    });
  }

  /** The smallest checkpointed tree with size ≥ `minSize` (null: none yet): what proves entry minSize. */
  checkpointCovering(tenantId: string, minSize: number): Promise<StoredCheckpoint | null> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 AND tree_size >= $2
          ORDER BY tree_size, kind = 'checkpoint' DESC, issued_at DESC, id DESC LIMIT 1`,
        [tenantId, String(minSize)],
      )) as CheckpointRow[];
      return row ? toCheckpoint(row) : null;
    });
  }
}

function toChainState(rows: Row[]): ChainState {
  const row = rows[0] as
    { seq: string | null; hash: string | null; stored: string[]; purged: boolean } | undefined;
  return {
    head: { seq: row?.seq ? Number(row.seq) : 0, hash: row?.hash ?? null },
    stored: new Set(row?.stored ?? []),
    purged: row?.purged === true,
  };
}
