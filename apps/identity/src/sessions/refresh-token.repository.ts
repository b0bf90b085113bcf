import { Injectable } from '@nestjs/common';
import { statement, type PreparedStatement, type Statement } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { RefreshTokenEntity } from './refresh-token.entity.js';

const INSERT: PreparedStatement = {
  name: 'refresh-tokens.insert',
  text: `INSERT INTO refresh_tokens (id, tenant_id, session_id, secret_hash, parent_id, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
};

/** The only code that touches refresh_tokens; every method runs in the caller's tenant transaction. */
@Injectable()
export class RefreshTokenRepository {
  /** Stores a new refresh token (its secret only as a hash) in the caller's transaction. */
  async insert(manager: EntityManager, token: RefreshTokenEntity): Promise<void> {
    await manager.insert(RefreshTokenEntity, token);
  }

  /** `insert` as a statement of the caller's batch (TenantTransactions.batch). */
  insertStatement(token: RefreshTokenEntity): Statement {
    return statement(INSERT, [
      token.id,
      token.tenantId,
      token.sessionId,
      token.secretHash,
      token.parentId,
      token.createdAt,
      token.expiresAt,
      token.usedAt,
    ]);
  }

  /** The token, locked until the transaction ends: concurrent refreshes of it take turns. */
  findForUpdate(
    manager: EntityManager,
    tenantId: string,
    id: string,
  ): Promise<RefreshTokenEntity | null> {
    return manager
      .getRepository(RefreshTokenEntity)
      .createQueryBuilder('r')
      .setLock('pessimistic_write')
      .where('r.tenant_id = :tenantId AND r.id = :id', { tenantId, id })
      .getOne();
  }

  /** Marks the token spent: from now on presenting it is a grace retry or reuse. */
  async markUsed(manager: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await manager.update(RefreshTokenEntity, { tenantId, id }, { usedAt: at });
  }

  /** The ids of every refresh token of the user's sessions (to forget their lookups). */
  async idsOfUser(manager: EntityManager, tenantId: string, userId: string): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT r.id FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
       WHERE r.tenant_id = $1 AND s.tenant_id = $1 AND s.user_id = $2`,
      [tenantId, userId],
    );
    return rows.map((row) => row.id);
  }
}
