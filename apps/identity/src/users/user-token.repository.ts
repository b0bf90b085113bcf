import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { UserTokenEntity, type UserTokenKind } from './user-token.entity.js';

/** The only code that touches user_tokens; every method runs in the caller's tenant transaction. */
@Injectable()
export class UserTokenRepository {
  /** Stores a new token (its secret only as a hash) in the caller's transaction. */
  async insert(manager: EntityManager, token: UserTokenEntity): Promise<void> {
    await manager.insert(UserTokenEntity, token);
  }

  /** Deletes the user's unused tokens of this kind (a new one replaces them); returns their ids. */
  async deleteUnused(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    kind: UserTokenKind,
  ): Promise<string[]> {
    const [rows]: [{ id: string }[], number] = await manager.query(
      `DELETE FROM user_tokens WHERE tenant_id = $1 AND user_id = $2 AND kind = $3 AND used_at IS NULL
       RETURNING id`,
      [tenantId, userId, kind],
    );
    return rows.map((row) => row.id);
  }

  /** The token, locked until the transaction ends (two redemptions take turns). */
  findForUpdate(
    manager: EntityManager,
    tenantId: string,
    id: string,
  ): Promise<UserTokenEntity | null> {
    return manager
      .getRepository(UserTokenEntity)
      .createQueryBuilder('t')
      .setLock('pessimistic_write')
      .where('t.tenant_id = :tenantId AND t.id = :id', { tenantId, id })
      .getOne();
  }

  /** Marks the token spent: it never works again. */
  async markUsed(manager: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await manager.update(UserTokenEntity, { tenantId, id }, { usedAt: at });
  }

  /** The ids of all the user's tokens (whose lookups go when the user does). */
  async idsOfUser(manager: EntityManager, tenantId: string, userId: string): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM user_tokens WHERE tenant_id = $1 AND user_id = $2`,
      [tenantId, userId],
    );
    return rows.map((row) => row.id);
  }
}
