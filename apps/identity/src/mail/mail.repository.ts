import { uuidv7 } from '@tenantry/runtime';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A plain-text mail to one recipient. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

export interface QueuedMail extends OutgoingMail {
  id: string;
  attempts: number;
}

/** Mail older than this is not tried any more: the links it carries have expired. */
const GIVE_UP_AFTER = '7 days';

/** The only code that touches outgoing_mail (platform level). Every method runs in the caller's transaction. */
@Injectable()
export class MailRepository {
  /** Queues a mail in the caller's transaction: it goes out if and only if that commits. */
  async queue(manager: EntityManager, mail: OutgoingMail): Promise<void> {
    await manager.query(
      `INSERT INTO outgoing_mail (id, recipient, subject, body) VALUES ($1, $2, $3, $4)`,
      [uuidv7(), mail.to, mail.subject, mail.text],
    );
  }

  /** Mail due now, oldest first, locked for this transaction (replicas skip each other's). */
  async due(manager: EntityManager, limit: number): Promise<QueuedMail[]> {
    const rows: {
      id: string;
      recipient: string;
      subject: string;
      body: string;
      attempts: number;
    }[] = await manager.query(
      `SELECT id, recipient, subject, body, attempts FROM outgoing_mail
         WHERE sent_at IS NULL AND next_attempt_at <= now() AND created_at > now() - interval '${GIVE_UP_AFTER}'
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map((row) => ({
      id: row.id,
      to: row.recipient,
      subject: row.subject,
      text: row.body,
      attempts: row.attempts,
    }));
  }

  /** Marks a mail sent and drops its body: the one-time link in it is not kept in clear. */
  async markSent(manager: EntityManager, id: string): Promise<void> {
    await manager.query(
      `UPDATE outgoing_mail SET sent_at = now(), body = '', attempts = attempts + 1, last_error = NULL WHERE id = $1`,
      [id],
    );
  }

  /** Counts a failed attempt and schedules the next one `retryInSeconds` from now. */
  async markFailed(
    manager: EntityManager,
    id: string,
    retryInSeconds: number,
    error: string,
  ): Promise<void> {
    await manager.query(
      `UPDATE outgoing_mail SET attempts = attempts + 1, last_error = $2,
         next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1`,
      [id, error.slice(0, 1000), retryInSeconds],
    );
  }
}
