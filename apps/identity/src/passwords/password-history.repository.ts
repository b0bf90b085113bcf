import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** The most passwords kept per user (the longest history a tenant may ask for). */
export const MAX_PASSWORD_HISTORY = 24;

/**
 * The only code that touches password_history. Each method runs in the caller's
 * transaction, which is a tenant transaction (row-level security).
 */
@Injectable()
export class PasswordHistoryRepository {
  /** The hashes of the user's `count` most recent passwords, the current one first. */
  async recent(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    count: number,
  ): Promise<string[]> {
    if (count <= 0) return [];
    const rows: { password_hash: string }[] = await manager.query(
      `SELECT password_hash FROM password_history WHERE tenant_id = $1 AND user_id = $2
       ORDER BY created_at DESC LIMIT $3`,
      [tenantId, userId, count],
    );
    return rows.map((row) => row.password_hash);
  }

  /** Records a newly set password and forgets those beyond MAX_PASSWORD_HISTORY. */
  async add(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    passwordHash: string,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO password_history (tenant_id, user_id, password_hash) VALUES ($1, $2, $3)`,
      [tenantId, userId, passwordHash],
    );
    await manager.query(
      `DELETE FROM password_history WHERE tenant_id = $1 AND user_id = $2 AND ctid NOT IN (
         SELECT ctid FROM password_history WHERE tenant_id = $1 AND user_id = $2
         ORDER BY created_at DESC LIMIT $3)`,
      [tenantId, userId, MAX_PASSWORD_HISTORY],
    );
  }
}
