import { Inject, Injectable } from '@nestjs/common';
import { PLATFORM_TENANT_ID, Roles, type User } from '@tenantry/contracts';
import {
  CURRENT_TENANT,
  query,
  statement,
  TenantTransactions,
  type PreparedStatement,
  type Row,
  type Statement,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { UserEntity } from './user.entity.js';

const UNIQUE_VIOLATION = '23505';

export interface UserFilter {
  limit: number;
  /** The last id of the previous page. */
  after?: string;
  status?: User['status'];
  /** Normalized email prefix. */
  emailPrefix?: string;
}

/** The fields a user's owner may change after creation. */
export type UserChange = Partial<
  Pick<
    UserEntity,
    | 'displayName'
    | 'roles'
    | 'status'
    | 'passwordHash'
    | 'passwordChangedAt'
    | 'mfaEnabled'
    | 'lastLoginAt'
  >
>;

const COLUMNS =
  'id, tenant_id, email, display_name, status, roles, password_hash, password_changed_at, mfa_enabled, created_at, updated_at, last_login_at';
const FIND_BY_EMAIL: PreparedStatement = {
  name: 'users.find-by-email',
  text: `SELECT ${COLUMNS} FROM users WHERE tenant_id = ${CURRENT_TENANT} AND email = $1`,
};
const RECORD_LOGIN: PreparedStatement = {
  name: 'users.record-login',
  text: `UPDATE users SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2`,
};

function toEntity(row: Row): UserEntity {
  return Object.assign(new UserEntity(), {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    displayName: row.display_name,
    status: row.status,
    roles: row.roles,
    passwordHash: row.password_hash,
    passwordChangedAt: row.password_changed_at,
    mfaEnabled: row.mfa_enabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  });
}

/** `%`, `_` and `\` in a LIKE pattern stand for themselves. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The only code that touches users. Methods that take a manager run in the caller's tenant
 * transaction; the others open their own. Every query filters by tenant_id as well
 * (row-level security is the safety net).
 */
@Injectable()
export class UserRepository {
  constructor(@Inject(TenantTransactions) private readonly tx: TenantTransactions) {}

  /** Inserts a user; false when the tenant already has a user with that (normalized) email. */
  async insert(manager: EntityManager, user: UserEntity): Promise<boolean> {
    try {
      // A savepoint, so that a taken email leaves the caller's transaction usable.
      await manager.transaction((inner) => inner.insert(UserEntity, user));
      return true;
    } catch (error) {
      const e = error as { driverError?: { code?: string; constraint?: string } };
      if (
        e.driverError?.code === UNIQUE_VIOLATION &&
        e.driverError.constraint === 'users_tenant_email_unique'
      )
        return false;
      throw error;
    }
  }

  /** The user, optionally locked (FOR UPDATE) until the caller's transaction ends. */
  findById(
    manager: EntityManager,
    tenantId: string,
    id: string,
    lock = false,
  ): Promise<UserEntity | null> {
    const query = manager
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('u.tenant_id = :tenantId AND u.id = :id', { tenantId, id });
    if (lock) query.setLock('pessimistic_write');
    return query.getOne();
  }

  /** The tenant's user with this (normalized) email, in the caller's transaction. */
  findByEmail(manager: EntityManager, tenantId: string, email: string): Promise<UserEntity | null> {
    return manager.findOneBy(UserEntity, { tenantId, email });
  }

  /** `findByEmail` as a statement of a batch (TenantTransactions.batch): in the tenant the batch runs as. */
  findByEmailStatement(email: string): Statement<UserEntity | null> {
    return query(FIND_BY_EMAIL, [email], ([row]) => (row ? toEntity(row) : null));
  }

  /** `findById` in a transaction of its own. */
  get(tenantId: string, id: string): Promise<UserEntity | null> {
    return this.tx.run(tenantId, (manager) => this.findById(manager, tenantId, id));
  }

  /** Oldest first by id (UUIDv7, so creation order), filtered by status and email prefix. */
  list(tenantId: string, filter: UserFilter): Promise<UserEntity[]> {
    return this.tx.run(tenantId, (manager) => {
      const query = manager
        .getRepository(UserEntity)
        .createQueryBuilder('u')
        .where('u.tenant_id = :tenantId', { tenantId })
        .orderBy('u.id', 'ASC')
        .limit(filter.limit);
      if (filter.after) query.andWhere('u.id > :after', { after: filter.after });
      if (filter.status) query.andWhere('u.status = :status', { status: filter.status });
      if (filter.emailPrefix) {
        query.andWhere(`u.email LIKE :prefix ESCAPE '\\'`, {
          prefix: `${escapeLike(filter.emailPrefix)}%`,
        });
      }
      return query.getMany();
    });
  }

  /** Changes the given fields (and updated_at). */
  async update(
    manager: EntityManager,
    tenantId: string,
    id: string,
    change: UserChange,
  ): Promise<void> {
    await manager.update(UserEntity, { tenantId, id }, { ...change, updatedAt: new Date() });
  }

  /** Records a sign-in (last_login_at only; updated_at is about the user's data), as a statement of a batch. */
  recordLoginStatement(tenantId: string, id: string, at: Date): Statement {
    return statement(RECORD_LOGIN, [tenantId, id, at]);
  }

  /** Deletes the user; sessions, tokens, history and MFA go with it (ON DELETE CASCADE). */
  async delete(manager: EntityManager, tenantId: string, id: string): Promise<boolean> {
    const result = await manager.delete(UserEntity, { tenantId, id });
    return (result.affected ?? 0) > 0;
  }

  /** How many active platform operators there are (in the caller's platform-tenant transaction). */
  countActiveOperators(manager: EntityManager): Promise<number> {
    return manager
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('u.tenant_id = :tenantId AND u.status = :status', {
        tenantId: PLATFORM_TENANT_ID,
        status: 'active',
      })
      .andWhere(':role = ANY(u.roles)', { role: Roles.platformOperator })
      .getCount();
  }

  /** Whether the platform tenant has any user at all (an operator). */
  async anyOperator(manager: EntityManager): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM users WHERE tenant_id = $1 LIMIT 1`,
      [PLATFORM_TENANT_ID],
    );
    return rows.length > 0;
  }
}
