import { Inject, Injectable } from '@nestjs/common';
import type { AuditSinkEntry, StoredAuditEvent } from '@tenantry/contracts';
import { setTenant, TenantTransactions } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { SinkDeadLetterEntity, SinkEntity } from './sink.entity.js';

const UNIQUE_VIOLATION = '23505';
const NAME_UNIQUE = 'audit_sinks_tenant_name_unique';

const SINK_COLUMNS = [
  'id',
  'tenant_id',
  'name',
  'type',
  'url',
  'secret',
  'categories',
  'enabled',
  'batch_size',
  'max_attempts',
  'delivered_through_seq',
  'attempts',
  'consecutive_failures',
  'last_success_at',
  'last_error',
  'last_error_at',
  'created_at',
  'updated_at',
];

/**
 * A sink with what its status needs besides its own row: when it is next due (null:
 * disabled), the tenant's last seq, and how many dead letters it has.
 */
export interface SinkView {
  sink: SinkEntity;
  nextAttemptAt: Date | null;
  headSeq: number;
  deadLetters: number;
}

/** The columns of a sink that an update may change (the rest belong to delivery). */
export type SinkChanges = Partial<
  Pick<
    SinkEntity,
    'name' | 'url' | 'secret' | 'categories' | 'enabled' | 'batchSize' | 'maxAttempts'
  >
>;

const CHANGE_COLUMNS: Record<keyof SinkChanges, string> = {
  name: 'name',
  url: 'url',
  secret: 'secret',
  categories: 'categories',
  enabled: 'enabled',
  batchSize: 'batch_size',
  maxAttempts: 'max_attempts',
};

const VIEW = `
  SELECT ${SINK_COLUMNS.map((c) => `s.${c}`).join(', ')}, q.next_attempt_at,
         (SELECT count(*) FROM audit_sink_dead_letters d
           WHERE d.tenant_id = s.tenant_id AND d.sink_id = s.id)::int AS dead_letters,
         COALESCE((SELECT h.seq FROM audit_heads h WHERE h.tenant_id = s.tenant_id), 0) AS head_seq
    FROM audit_sinks s LEFT JOIN audit_sink_queue q ON q.sink_id = s.id`;

const ENTRY_COLUMNS = `
  tenant_id, id, schema_version, occurred_at_text, recorded_at, category, action, outcome,
  severity, actor_type, actor_id, actor_name, actor_ip, actor_user_agent, actor_session_id,
  on_behalf_of_type, on_behalf_of_id, target_type, target_id, request_id, trace_id, reason,
  data_text, changes_text, seq, encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash`;

type Row = Record<string, unknown>;

/** A sink the delivery loop claimed: its row is locked until the work's transaction ends. */
export interface DueSink {
  sinkId: string;
  tenantId: string;
}

/**
 * The only code that touches the sink tables (audit_sinks, audit_sink_dead_letters,
 * audit_sink_queue); it also reads the ledger (audit_events, audit_heads), never writes
 * it. Every query of tenant data runs under the tenant (row-level security) and still
 * filters by tenant_id. Lock order, to stay free of deadlocks with the delivery loop
 * (which holds a queue row, then writes the sink): a queue row before its sink.
 */
@Injectable()
export class SinkRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /**
   * Inserts a sink with its cursor at the tenant's head (`now`) or at 0 (`beginning`), and
   * its queue row when enabled. Returns null when the tenant has a sink of that name.
   */
  create(sink: SinkEntity, startFrom: 'now' | 'beginning'): Promise<SinkView | 'name-taken'> {
    return unlessNameTaken(
      this.tx.run(sink.tenantId, async (manager) => {
        const start = startFrom === 'now' ? await headSeq(manager, sink.tenantId) : 0;
        await manager.query(
          `INSERT INTO audit_sinks (id, tenant_id, name, type, url, secret, categories, enabled,
                                    batch_size, max_attempts, delivered_through_seq, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
          [
            sink.id,
            sink.tenantId,
            sink.name,
            sink.type,
            sink.url,
            sink.secret,
            sink.categories,
            sink.enabled,
            sink.batchSize,
            sink.maxAttempts,
            start,
            sink.createdAt,
          ],
        );
        if (sink.enabled) await queue(manager, sink.tenantId, sink.id);
        return (await selectView(manager, sink.tenantId, sink.id))!;
      }),
    );
  }

  find(tenantId: string, id: string): Promise<SinkView | null> {
    return this.tx.run(tenantId, (manager) => selectView(manager, tenantId, id));
  }

  /** Newest first (ids are UUIDv7); `before` is the last id of the previous page. */
  list(tenantId: string, limit: number, before?: string): Promise<SinkView[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows: Row[] = await manager.query(
        `${VIEW} WHERE s.tenant_id = $1 AND ($2::uuid IS NULL OR s.id < $2::uuid)
          ORDER BY s.id DESC LIMIT $3`,
        [tenantId, before ?? null, limit],
      );
      return rows.map(toView);
    });
  }

  /**
   * Writes `changes` (only the fields given) and queues or unqueues the sink as it is
   * enabled or disabled. Returns null when the sink does not exist, `name-taken` when
   * another sink of the tenant has the new name. Waits for a delivery of the sink in
   * flight (its queue row is locked) to finish first.
   */
  update(
    tenantId: string,
    id: string,
    changes: SinkChanges,
  ): Promise<SinkView | null | 'name-taken'> {
    return unlessNameTaken(
      this.tx.run(tenantId, async (manager) => {
        await lockQueueRow(manager, id);
        const sets: string[] = [];
        const values: unknown[] = [tenantId, id];
        for (const [key, column] of Object.entries(CHANGE_COLUMNS)) {
          const value = changes[key as keyof SinkChanges];
          if (value === undefined) continue;
          values.push(value);
          sets.push(`${column} = $${values.length}`);
        }
        const [, count] = (await manager.query(
          `UPDATE audit_sinks SET ${[...sets, 'updated_at = now()'].join(', ')}
            WHERE tenant_id = $1 AND id = $2`,
          values,
        )) as [unknown, number];
        if (count === 0) return null;
        if (changes.enabled === true) await queue(manager, tenantId, id);
        if (changes.enabled === false)
          await manager.query(`DELETE FROM audit_sink_queue WHERE sink_id = $1`, [id]);
        else if (changes.url !== undefined || changes.secret !== undefined)
          // A fixed URL or credential is tried now, not after the backoff of the broken one.
          await manager.query(
            `UPDATE audit_sink_queue SET next_attempt_at = now() WHERE sink_id = $1`,
            [id],
          );
        return selectView(manager, tenantId, id);
      }),
    );
  }

  /** Deletes a sink with its dead letters; false when it does not exist. */
  delete(tenantId: string, id: string): Promise<boolean> {
    return this.tx.run(tenantId, async (manager) => {
      await lockQueueRow(manager, id);
      await manager.query(`DELETE FROM audit_sink_queue WHERE sink_id = $1 AND tenant_id = $2`, [
        id,
        tenantId,
      ]);
      const [, count] = (await manager.query(
        `DELETE FROM audit_sinks WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id],
      )) as [unknown, number];
      return count > 0;
    });
  }

  /** The sink's dead letters, newest first; `before` is the last id of the previous page. */
  deadLetters(
    tenantId: string,
    sinkId: string,
    limit: number,
    before?: string,
  ): Promise<SinkDeadLetterEntity[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows: Row[] = await manager.query(
        `SELECT * FROM audit_sink_dead_letters
          WHERE tenant_id = $1 AND sink_id = $2 AND ($3::uuid IS NULL OR id < $3::uuid)
          ORDER BY id DESC LIMIT $4`,
        [tenantId, sinkId, before ?? null, limit],
      );
      return rows.map(toDeadLetter);
    });
  }

  findDeadLetter(
    tenantId: string,
    sinkId: string,
    id: string,
  ): Promise<SinkDeadLetterEntity | null> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT * FROM audit_sink_dead_letters WHERE tenant_id = $1 AND sink_id = $2 AND id = $3`,
        [tenantId, sinkId, id],
      )) as Row[];
      return row ? toDeadLetter(row) : null;
    });
  }

  /** A replay's outcome: the dead letter removed (delivered) or its attempt recorded. */
  async settleReplay(
    deadLetter: SinkDeadLetterEntity,
    failure: { error: string; status: number | null } | null,
  ): Promise<void> {
    await this.tx.run(deadLetter.tenantId, (manager) =>
      failure
        ? manager.query(
            `UPDATE audit_sink_dead_letters
                SET attempts = attempts + 1, last_error = $3, last_status = $4
              WHERE tenant_id = $1 AND id = $2`,
            [deadLetter.tenantId, deadLetter.id, failure.error, failure.status],
          )
        : manager.query(`DELETE FROM audit_sink_dead_letters WHERE tenant_id = $1 AND id = $2`, [
            deadLetter.tenantId,
            deadLetter.id,
          ]),
    );
  }

  /** Ledger entries of the sink's categories with first ≤ seq ≤ last, in seq order. */
  entriesInRange(
    tenantId: string,
    categories: string[],
    first: number,
    last: number,
    limit: number,
  ): Promise<AuditSinkEntry[]> {
    return this.tx.run(tenantId, (manager) =>
      selectEntries(manager, tenantId, categories, first - 1, last, limit),
    );
  }

  // ---- the delivery loop ----

  /**
   * Claims one due sink (`FOR UPDATE SKIP LOCKED` on its queue row: no other instance or
   * lane delivers it until this transaction ends), switches the transaction to its tenant
   * and runs `work` in it. Returns null when no sink is due.
   */
  withDueSink<T>(
    work: (manager: EntityManager, due: DueSink) => Promise<T>,
  ): Promise<{ result: T } | null> {
    return this.tx.runGlobal(async (manager) => {
      const [row] = (await manager.query(
        `SELECT sink_id, tenant_id FROM audit_sink_queue WHERE next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
      )) as Row[];
      if (!row) return null;
      const due = { sinkId: row.sink_id as string, tenantId: row.tenant_id as string };
      await setTenant(manager, due.tenantId);
      return { result: await work(manager, due) };
    });
  }

  /** The claimed sink's row (null when it is gone). */
  async sinkOf(manager: EntityManager, due: DueSink): Promise<SinkEntity | null> {
    const [row] = (await manager.query(
      `SELECT ${SINK_COLUMNS.join(', ')} FROM audit_sinks WHERE tenant_id = $1 AND id = $2`,
      [due.tenantId, due.sinkId],
    )) as Row[];
    return row ? toSink(row) : null;
  }

  /** The tenant's last seq (0: no entries yet). */
  head(manager: EntityManager, tenantId: string): Promise<number> {
    return headSeq(manager, tenantId);
  }

  /** The next batch: entries of the sink's categories with cursor < seq ≤ through. */
  nextBatch(manager: EntityManager, sink: SinkEntity, through: number): Promise<AuditSinkEntry[]> {
    return selectEntries(
      manager,
      sink.tenantId,
      sink.categories,
      sink.deliveredThroughSeq,
      through,
      sink.batchSize,
    );
  }

  /** Removes a claimed sink that is gone or disabled from the queue. */
  async unqueue(manager: EntityManager, due: DueSink): Promise<void> {
    await manager.query(`DELETE FROM audit_sink_queue WHERE sink_id = $1`, [due.sinkId]);
  }

  /**
   * Moves the cursor to `through` after a delivery (or, `delivered` false, past entries
   * the sink's categories leave out) and makes the sink due again after `dueInMs`.
   */
  async advance(
    manager: EntityManager,
    sink: SinkEntity,
    through: number,
    delivered: boolean,
    dueInMs: number,
  ): Promise<void> {
    await manager.query(
      delivered
        ? `UPDATE audit_sinks SET delivered_through_seq = $3, attempts = 0, consecutive_failures = 0,
                  last_success_at = now() WHERE tenant_id = $1 AND id = $2`
        : `UPDATE audit_sinks SET delivered_through_seq = $3
            WHERE tenant_id = $1 AND id = $2 AND delivered_through_seq < $3`,
      [sink.tenantId, sink.id, through],
    );
    await reschedule(manager, sink.id, dueInMs, false);
  }

  /** A failed attempt to be retried after `delayMs`. */
  async retryLater(
    manager: EntityManager,
    sink: SinkEntity,
    error: string,
    delayMs: number,
  ): Promise<void> {
    await manager.query(
      `UPDATE audit_sinks SET attempts = attempts + 1, consecutive_failures = consecutive_failures + 1,
              last_error = $3, last_error_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [sink.tenantId, sink.id, error],
    );
    await reschedule(manager, sink.id, delayMs, true);
  }

  /**
   * A batch given up on: into the dead-letter list, and the cursor moves on to `through`
   * (the sink is due again at once for what follows).
   */
  async deadLetter(
    manager: EntityManager,
    sink: SinkEntity,
    letter: SinkDeadLetterEntity,
    through: number,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO audit_sink_dead_letters
         (id, tenant_id, sink_id, first_seq, last_seq, events, attempts, last_error, last_status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())`,
      [
        letter.id,
        letter.tenantId,
        letter.sinkId,
        letter.firstSeq,
        letter.lastSeq,
        letter.events,
        letter.attempts,
        letter.lastError,
        letter.lastStatus,
      ],
    );
    await manager.query(
      `UPDATE audit_sinks SET delivered_through_seq = $3, attempts = 0,
              consecutive_failures = consecutive_failures + 1, last_error = $4, last_error_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [sink.tenantId, sink.id, through, letter.lastError],
    );
    await reschedule(manager, sink.id, 0, false);
  }

  /**
   * Makes the sinks that are not waiting to retry due now (those of `tenantId`, or all):
   * for the ledger to call after it appended, so delivery need not wait for its poll.
   */
  async wake(tenantId?: string): Promise<void> {
    await this.tx.runGlobal((manager) =>
      manager.query(
        `UPDATE audit_sink_queue SET next_attempt_at = now()
          WHERE NOT retrying AND next_attempt_at > now() AND ($1::uuid IS NULL OR tenant_id = $1::uuid)`,
        [tenantId ?? null],
      ),
    );
  }
}

async function headSeq(manager: EntityManager, tenantId: string): Promise<number> {
  const [row] = (await manager.query(`SELECT seq FROM audit_heads WHERE tenant_id = $1`, [
    tenantId,
  ])) as Row[];
  return row ? Number(row.seq) : 0;
}

async function queue(manager: EntityManager, tenantId: string, sinkId: string): Promise<void> {
  await manager.query(
    `INSERT INTO audit_sink_queue (sink_id, tenant_id, next_attempt_at) VALUES ($1, $2, now())
     ON CONFLICT (sink_id) DO NOTHING`,
    [sinkId, tenantId],
  );
}

async function lockQueueRow(manager: EntityManager, sinkId: string): Promise<void> {
  await manager.query(`SELECT 1 FROM audit_sink_queue WHERE sink_id = $1 FOR UPDATE`, [sinkId]);
}

async function reschedule(
  manager: EntityManager,
  sinkId: string,
  inMs: number,
  retrying: boolean,
): Promise<void> {
  await manager.query(
    `UPDATE audit_sink_queue
        SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), retrying = $3
      WHERE sink_id = $1`,
    [sinkId, inMs, retrying],
  );
}

async function selectView(
  manager: EntityManager,
  tenantId: string,
  id: string,
): Promise<SinkView | null> {
  const [row] = (await manager.query(`${VIEW} WHERE s.tenant_id = $1 AND s.id = $2`, [
    tenantId,
    id,
  ])) as Row[];
  return row ? toView(row) : null;
}

async function selectEntries(
  manager: EntityManager,
  tenantId: string,
  categories: string[],
  afterSeq: number,
  throughSeq: number,
  limit: number,
): Promise<AuditSinkEntry[]> {
  const rows: Row[] = await manager.query(
    `SELECT ${ENTRY_COLUMNS} FROM audit_events
      WHERE tenant_id = $1 AND seq > $2 AND seq <= $3
        AND (cardinality($4::text[]) = 0 OR category = ANY($4::text[]))
      ORDER BY seq LIMIT $5`,
    [tenantId, afterSeq, throughSeq, categories, limit],
  );
  return rows.map(toEntry);
}

/** The work's result, or `name-taken` when it failed only because the sink's name is taken. */
async function unlessNameTaken<T>(work: Promise<T>): Promise<T | 'name-taken'> {
  try {
    return await work;
  } catch (error) {
    const e = error as { driverError?: { code?: string; constraint?: string } };
    if (e.driverError?.code === UNIQUE_VIOLATION && e.driverError.constraint === NAME_UNIQUE)
      return 'name-taken';
    throw error;
  }
}

function toSink(row: Row): SinkEntity {
  return Object.assign(new SinkEntity(), {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    name: row.name as string,
    type: row.type as SinkEntity['type'],
    url: row.url as string,
    secret: row.secret as string,
    categories: row.categories as string[],
    enabled: row.enabled as boolean,
    batchSize: row.batch_size as number,
    maxAttempts: row.max_attempts as number,
    deliveredThroughSeq: Number(row.delivered_through_seq),
    attempts: row.attempts as number,
    consecutiveFailures: row.consecutive_failures as number,
    lastSuccessAt: row.last_success_at as Date | null,
    lastError: row.last_error as string | null,
    lastErrorAt: row.last_error_at as Date | null,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  });
}

function toView(row: Row): SinkView {
  return {
    sink: toSink(row),
    nextAttemptAt: row.next_attempt_at as Date | null,
    headSeq: Number(row.head_seq),
    deadLetters: row.dead_letters as number,
  };
}

function toDeadLetter(row: Row): SinkDeadLetterEntity {
  return Object.assign(new SinkDeadLetterEntity(), {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    sinkId: row.sink_id as string,
    firstSeq: Number(row.first_seq),
    lastSeq: Number(row.last_seq),
    events: row.events as number,
    attempts: row.attempts as number,
    lastError: row.last_error as string,
    lastStatus: row.last_status as number | null,
    createdAt: row.created_at as Date,
  });
}

/** A nullable text column: absent when NULL. */
const present = (value: unknown): value is string => value !== null && value !== undefined;

/** A ledger row as the public event JSON with its place in the chain (`data` as hashed). */
function toEntry(row: Row): AuditSinkEntry {
  const actor: StoredAuditEvent['actor'] = {
    type: row.actor_type as StoredAuditEvent['actor']['type'],
    id: row.actor_id as string,
  };
  if (present(row.actor_name)) actor.name = row.actor_name;
  if (present(row.actor_ip)) actor.ip = row.actor_ip;
  if (present(row.actor_user_agent)) actor.userAgent = row.actor_user_agent;
  if (present(row.actor_session_id)) actor.sessionId = row.actor_session_id;
  return {
    schemaVersion: 1,
    id: row.id as string,
    tenantId: row.tenant_id as string,
    seq: Number(row.seq),
    occurredAt: row.occurred_at_text as string,
    recordedAt: (row.recorded_at as Date).toISOString(),
    category: row.category as string,
    action: row.action as string,
    outcome: row.outcome as StoredAuditEvent['outcome'],
    severity: row.severity as StoredAuditEvent['severity'],
    actor,
    ...(present(row.on_behalf_of_type) && present(row.on_behalf_of_id)
      ? { onBehalfOf: { type: row.on_behalf_of_type, id: row.on_behalf_of_id } }
      : {}),
    ...(present(row.target_type) && present(row.target_id)
      ? { target: { type: row.target_type, id: row.target_id } }
      : {}),
    ...(present(row.request_id) ? { requestId: row.request_id } : {}),
    ...(present(row.trace_id) ? { traceId: row.trace_id } : {}),
    ...(present(row.reason) ? { reason: row.reason } : {}),
    ...(present(row.data_text)
      ? { data: JSON.parse(row.data_text) as Record<string, unknown> }
      : {}),
    ...(present(row.changes_text)
      ? { changes: JSON.parse(row.changes_text) as StoredAuditEvent['changes'] }
      : {}),
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
  };
}
