import { Logger } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  contextToHeaders,
  newContext,
  type MessageContext,
  type NatsService,
} from '@tenantry/messaging';
import type { DataSource } from 'typeorm';

interface OutboxRow {
  seq: string;
  msg_id: string;
  subject: string;
  payload: unknown;
  context: MessageContext | null;
}

const encoder = new TextEncoder();

/**
 * Publishes committed outbox rows to JetStream and deletes them once JetStream
 * acked them, in one transaction per batch (`FOR UPDATE SKIP LOCKED`, so replicas
 * share the work). If NATS is down the rows wait; if the process dies between the
 * ack and the delete, the republish carries the same `Nats-Msg-Id` and is dropped
 * by JetStream's de-duplication window, and consumers are idempotent by id anyway.
 */
export class OutboxRelay {
  private readonly logger = new Logger('Outbox');
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsService,
    private readonly options: { batchSize?: number; pollMs?: number } = {},
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Publishes what is left (while NATS answers), then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Call after committing a transaction that added messages: publishes now instead of at the next poll. */
  kick(): void {
    this.wake?.();
  }

  /** Publishes one batch; returns how many rows were published. */
  async flushOnce(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows: OutboxRow[] = await manager.query(
        `SELECT seq, msg_id, subject, payload, context FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize ?? 200],
      );
      if (!rows.length) return 0;
      const ns = this.nats.options.namespace;
      await Promise.all(
        rows.map((row) =>
          this.nats.js.publish(
            ns.subject(row.subject),
            encoder.encode(JSON.stringify(row.payload)),
            {
              msgID: row.msg_id,
              headers: contextToHeaders(row.context ?? newContext(), natsHeaders()),
            },
          ),
        ),
      );
      await manager.query(`DELETE FROM outbox WHERE seq = ANY($1::bigint[])`, [
        rows.map((r) => r.seq),
      ]);
      return rows.length;
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    for (;;) {
      try {
        const published = await this.flushOnce();
        failures = 0;
        if (published > 0) continue;
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
      const waitMs = failures ? Math.min(100 * 2 ** failures, 2_000) : (this.options.pollMs ?? 500);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
