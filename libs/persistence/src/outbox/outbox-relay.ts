import { Logger } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  contextToHeaders,
  newContext,
  type MessageContext,
  type NatsService,
} from '@tenantry/messaging';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { inBatchedTransaction } from '../statement-batch.js';
import { statement } from '../statements.js';
import type { PreparedStatement } from '../sql.js';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

interface OutboxRow {
  seq: string;
  msg_id: string;
  subject: string;
  payload: unknown;
  context: MessageContext | null;
}

export interface OutboxRelayOptions {
  /** Rows published per transaction at most (200). */
  batchSize?: number;
  /** How often it looks for rows nobody kicked it for (500 ms). */
  pollMs?: number;
  /**
   * Flushes at most this often (50 ms). A kick after a quiet spell flushes at once; kicks
   * closer together share one flush (one transaction, one round of acks) instead of
   * paying one each, so under load a batch carries the rows of many transactions.
   */
  minIntervalMs?: number;
  /**
   * How long rows of a deferrable kick may wait for others (250 ms): audit events written
   * alone (a login's) then go to JetStream, and to the audit ledger, many at a time.
   */
  deferMs?: number;
}

/** How a kick asks for its rows to be published. */
export interface KickOptions {
  /**
   * The transaction wrote only messages nobody waits for (audit events): they may wait up to
   * `deferMs` to share a flush with what comes meanwhile. A plain kick publishes them too.
   */
  deferrable?: boolean;
}

const encoder = new TextEncoder();

/** Takes the oldest rows (at most $1) that no other relay has locked: deleted, in the open transaction. */
const TAKE: PreparedStatement = {
  name: 'outbox.take',
  text: 'DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING seq, msg_id, subject, payload, context',
};

/**
 * Publishes committed outbox rows to JetStream and deletes them once JetStream
 * acked them, in one transaction per batch (`FOR UPDATE SKIP LOCKED`, so replicas
 * share the work). If NATS is down the rows wait; if the process dies between the
 * ack and the commit, the republish carries the same `Nats-Msg-Id` and is dropped
 * by JetStream's de-duplication window, and consumers are idempotent by id anyway.
 */
export class OutboxRelay {
  private readonly logger = new Logger('Outbox');
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** A kick came while no one was waiting for it (during a flush): flush again. */
  private kicked = false;
  private wakeOnKick = false;
  private lastFlushAt = 0;
  /** Turns a deferrable kick into a kick once `deferMs` passed. */
  private deferred?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsService,
    private readonly options: OutboxRelayOptions = {},
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Publishes what is left (while NATS answers), then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.deferred);
    this.deferred = undefined;
    this.wake?.();
    await this.loop;
  }

  /**
   * Call after committing a transaction that added messages: publishes soon instead of at the
   * next poll; with `deferrable`, within `deferMs` (KickOptions).
   */
  kick(options: KickOptions = {}): void {
    if (options.deferrable) {
      if (!this.deferred && !this.stopped)
        this.deferred = setTimeout(() => {
          this.deferred = undefined;
          this.kick();
        }, this.options.deferMs ?? 250);
      return;
    }
    // The flush this asks for takes the deferred rows too.
    clearTimeout(this.deferred);
    this.deferred = undefined;
    this.kicked = true;
    if (this.wakeOnKick) this.wake?.();
  }

  /**
   * Publishes one batch; returns how many rows were published. Two round trips: the rows
   * are taken (locked and deleted, in a transaction left open) in one, and that
   * transaction commits in the other once JetStream acked every row; a failed publish
   * rolls back, and the rows stay. The statement is a named prepared one (parsed once
   * per connection), sent with its BEGIN in one write.
   */
  async flushOnce(): Promise<number> {
    const pool = (this.dataSource.driver as PostgresDriver).master as pg.Pool;
    return inBatchedTransaction(pool, async (tx) => {
      const [taken] = await tx.run([statement(TAKE, [this.batchSize])]);
      const rows = (taken as unknown as OutboxRow[]).sort((a, b) => Number(a.seq) - Number(b.seq));
      await this.publish(rows);
      await tx.run([], { commit: true });
      return rows.length;
    });
  }

  private async publish(rows: OutboxRow[]): Promise<void> {
    const ns = this.nats.options.namespace;
    await Promise.all(
      rows.map((row) =>
        this.nats.js.publish(ns.subject(row.subject), encoder.encode(JSON.stringify(row.payload)), {
          msgID: row.msg_id,
          headers: contextToHeaders(row.context ?? newContext(), natsHeaders()),
        }),
      ),
    );
  }

  private get batchSize(): number {
    return Math.trunc(this.options.batchSize ?? 200);
  }

  private async run(): Promise<void> {
    let failures = 0;
    for (;;) {
      this.kicked = false;
      this.lastFlushAt = Date.now();
      try {
        const published = await this.flushOnce();
        failures = 0;
        // A full batch: more are waiting. Stopping: until nothing is left.
        if (published >= this.batchSize || (this.stopped && published > 0)) continue;
        if (this.stopped) return;
      } catch (error) {
        if (this.stopped) {
          this.logger.warn(
            `stopping with unpublished outbox rows (they go at the next start): ${(error as Error).message}`,
          );
          return;
        }
        if (failures++ % 20 === 0)
          this.logger.warn(`outbox publish failed, retrying: ${(error as Error).message}`);
      }
      if (failures) {
        await this.sleep(Math.min(100 * 2 ** failures, 2_000), { kick: false });
        continue;
      }
      if (!this.kicked) await this.sleep(this.options.pollMs ?? 500, { kick: true });
      // Kicks that come close together share a flush.
      const wait = (this.options.minIntervalMs ?? 50) - (Date.now() - this.lastFlushAt);
      if (this.kicked && wait > 0) await this.sleep(wait, { kick: false });
    }
  }

  /** Waits `ms`; `stop()` ends the wait early, and so does a kick if `kick`. */
  private sleep(ms: number, wakeBy: { kick: boolean }): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      this.wakeOnKick = wakeBy.kick;
    });
  }
}
