import { Inject, Injectable } from '@nestjs/common';
import {
  statement,
  TenantTransactions,
  type PreparedStatement,
  type Statement,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { SessionEntity } from './session.entity.js';

interface SessionRow {
  id: string;
  tenant_id: string;
  user_id: string;
  amr: string[];
  auth_time: Date;
  ip: string | null;
  user_agent: string | null;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

function toEntity(row: SessionRow): SessionEntity {
  return Object.assign(new SessionEntity(), {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    amr: row.amr,
    authTime: row.auth_time,
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  });
}

const INSERT: PreparedStatement = {
  name: 'sessions.insert',
  text: `INSERT INTO sessions (id, tenant_id, user_id, amr, auth_time, ip, user_agent, created_at, last_used_at, expires_at, revoked_at, revoked_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
};

/** Which sessions of a user to revoke: one, or all (but one). */
export interface RevokeWhich {
  userId: string;
  sessionId?: string;
  exceptSessionId?: string;
}

/**
 * The only code that touches sessions. Methods that take a manager run in the caller's
 * tenant transaction; the others open their own (row-level security either way).
 */
@Injectable()
export class SessionRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** Stores a new session: a statement of the caller's batch (TenantTransactions.batch). */
  insertStatement(session: SessionEntity): Statement {
    return statement(INSERT, [
      session.id,
      session.tenantId,
      session.userId,
      session.amr,
      session.authTime,
      session.ip,
      session.userAgent,
      session.createdAt,
      session.lastUsedAt,
      session.expiresAt,
      session.revokedAt,
      session.revokedReason,
    ]);
  }

  /** The tenant's session, revoked or not, in the caller's transaction. */
  findById(manager: EntityManager, tenantId: string, id: string): Promise<SessionEntity | null> {
    return manager.findOneBy(SessionEntity, { tenantId, id });
  }

  /** The user's sessions that are neither revoked nor expired, newest first (at most 100). */
  listActive(tenantId: string, userId: string): Promise<SessionEntity[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows: SessionRow[] = await manager.query(
        `SELECT * FROM sessions WHERE tenant_id = $1 AND user_id = $2
           AND revoked_at IS NULL AND expires_at > now()
         ORDER BY created_at DESC LIMIT 100`,
        [tenantId, userId],
      );
      return rows.map(toEntity);
    });
  }

  /** Revokes the matching sessions that are not revoked yet; returns exactly those. */
  async revoke(
    manager: EntityManager,
    tenantId: string,
    which: RevokeWhich,
    reason: string,
  ): Promise<SessionEntity[]> {
    const [rows]: [SessionRow[], number] = await manager.query(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $3
       WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL
         AND ($4::uuid IS NULL OR id = $4) AND ($5::uuid IS NULL OR id <> $5)
       RETURNING *`,
      [tenantId, which.userId, reason, which.sessionId ?? null, which.exceptSessionId ?? null],
    );
    return rows.map(toEntity);
  }

  /** Revokes every session of the tenant that is neither revoked nor expired; returns exactly those. */
  async revokeAllOfTenant(
    manager: EntityManager,
    tenantId: string,
    reason: string,
  ): Promise<SessionEntity[]> {
    const [rows]: [SessionRow[], number] = await manager.query(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
       WHERE tenant_id = $1 AND revoked_at IS NULL AND expires_at > now()
       RETURNING *`,
      [tenantId, reason],
    );
    return rows.map(toEntity);
  }

  /** Records that the session was just used (a refresh). */
  async touch(manager: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await manager.update(SessionEntity, { tenantId, id }, { lastUsedAt: at });
  }
}
