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

  /** The SCIM directory that manages the user (and their roles), or null: in the caller's transaction. */
  async directoryOf(manager: EntityManager, tenantId: string, id: string): Promise<string | null> {
    const rows: { scim_directory_id: string | null }[] = await manager.query(
      `SELECT scim_directory_id FROM users WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0]?.scim_directory_id ?? null;
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

  // SCIM (apps/identity/src/scim): the users a SCIM directory manages, with the SCIM
  // columns (scim_directory_id, scim_external_id, scim_attributes) the entity leaves out.

  /**
   * Inserts a user managed by a SCIM directory, with its SCIM fields; false when the
   * tenant already has a user with that (normalized) email.
   */
  async insertScim(
    manager: EntityManager,
    user: UserEntity,
    scim: ScimUserFields,
  ): Promise<boolean> {
    try {
      // A savepoint, so that a taken email leaves the caller's transaction usable.
      await manager.transaction(async (inner) => {
        await inner.insert(UserEntity, user);
        await inner.query(
          `UPDATE users SET scim_directory_id = $3, scim_external_id = $4, scim_attributes = $5::jsonb
           WHERE tenant_id = $1 AND id = $2`,
          [
            user.tenantId,
            user.id,
            scim.directoryId,
            scim.externalId,
            JSON.stringify(scim.attributes),
          ],
        );
      });
      return true;
    } catch (error) {
      if (isEmailTaken(error)) return false;
      throw error;
    }
  }

  /** The directory's user with its SCIM fields, optionally locked (FOR UPDATE). */
  async findScim(
    manager: EntityManager,
    tenantId: string,
    directoryId: string,
    id: string,
    lock = false,
  ): Promise<ScimUserRecord | null> {
    const [found] = await this.findScimByIds(manager, tenantId, directoryId, [id], lock);
    return found ?? null;
  }

  /** The directory's users among `ids`, in id order (and so locked in that order when `lock`). */
  async findScimByIds(
    manager: EntityManager,
    tenantId: string,
    directoryId: string,
    ids: string[],
    lock = false,
  ): Promise<ScimUserRecord[]> {
    const valid = ids.filter((id) => UUID.test(id));
    if (!valid.length) return [];
    const rows: Row[] = await manager.query(
      `SELECT ${SCIM_COLUMNS} FROM users u
       WHERE u.tenant_id = $1 AND u.scim_directory_id = $2 AND u.id = ANY($3::uuid[])
       ORDER BY u.id${lock ? ' FOR UPDATE' : ''}`,
      [tenantId, directoryId, valid],
    );
    return rows.map(toScimRecord);
  }

  /**
   * A page of the directory's users matching `where` (a condition over `u` whose
   * parameters start at $3), oldest first, with the number of all that match.
   */
  async listScim(
    manager: EntityManager,
    tenantId: string,
    directoryId: string,
    where: { text: string; params: unknown[] } | null,
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: ScimUserRecord[] }> {
    const condition = `u.tenant_id = $1 AND u.scim_directory_id = $2${where ? ` AND ${where.text}` : ''}`;
    const params = [tenantId, directoryId, ...(where?.params ?? [])];
    const [{ count }] = (await manager.query(
      `SELECT count(*)::int AS count FROM users u WHERE ${condition}`,
      params,
    )) as [{ count: number }];
    const rows: Row[] =
      limit > 0 && offset < count
        ? await manager.query(
            `SELECT ${SCIM_COLUMNS} FROM users u WHERE ${condition}
             ORDER BY u.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
            [...params, limit, offset],
          )
        : [];
    return { total: count, rows: rows.map(toScimRecord) };
  }

  /**
   * Changes a SCIM-managed user's fields (the email included) and updated_at; false when
   * the new email is taken in the tenant.
   */
  async updateScim(
    manager: EntityManager,
    tenantId: string,
    id: string,
    change: ScimUserChange,
    at: Date,
  ): Promise<boolean> {
    try {
      await manager.transaction((inner) =>
        inner.query(
          `UPDATE users SET email = $3, display_name = $4, status = $5, scim_external_id = $6,
             scim_attributes = $7::jsonb, updated_at = $8
           WHERE tenant_id = $1 AND id = $2`,
          [
            tenantId,
            id,
            change.email,
            change.displayName,
            change.status,
            change.externalId,
            JSON.stringify(change.attributes),
            at,
          ],
        ),
      );
      return true;
    } catch (error) {
      if (isEmailTaken(error)) return false;
      throw error;
    }
  }

  /** The ids of all the directory's users, in id order. */
  async scimUserIds(
    manager: EntityManager,
    tenantId: string,
    directoryId: string,
  ): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM users WHERE tenant_id = $1 AND scim_directory_id = $2 ORDER BY id`,
      [tenantId, directoryId],
    );
    return rows.map((row) => row.id);
  }

  /** The display names of these users of the tenant, by id. */
  async displayNames(
    manager: EntityManager,
    tenantId: string,
    ids: string[],
  ): Promise<Map<string, string>> {
    if (!ids.length) return new Map();
    const rows: { id: string; display_name: string }[] = await manager.query(
      `SELECT id, display_name FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, ids],
    );
    return new Map(rows.map((row) => [row.id, row.display_name]));
  }

  /**
   * Unlinks the directory's users (a deleted directory): they stay, with their roles and
   * status, no longer managed; returns how many.
   */
  async unlinkScimDirectory(
    manager: EntityManager,
    tenantId: string,
    directoryId: string,
  ): Promise<number> {
    const [, affected]: [unknown, number] = await manager.query(
      `UPDATE users SET scim_directory_id = NULL, scim_external_id = NULL, scim_attributes = NULL
       WHERE tenant_id = $1 AND scim_directory_id = $2`,
      [tenantId, directoryId],
    );
    return affected;
  }
}

/** A user managed by a SCIM directory, with its SCIM fields. */
export interface ScimUserRecord {
  user: UserEntity;
  directoryId: string;
  externalId: string | null;
  /** The SCIM attributes kept as the IdP sent them (name, emails, extensions, ...). */
  attributes: Record<string, unknown>;
}

/** The SCIM fields of a user a directory creates. */
export interface ScimUserFields {
  directoryId: string;
  externalId: string | null;
  attributes: Record<string, unknown>;
}

/** What a SCIM PUT or PATCH writes of a user (each field, whether or not it changed). */
export interface ScimUserChange {
  email: string;
  displayName: string;
  status: User['status'];
  externalId: string | null;
  attributes: Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCIM_COLUMNS = `${COLUMNS.split(', ')
  .map((column) => `u.${column}`)
  .join(', ')}, u.scim_directory_id, u.scim_external_id, u.scim_attributes`;

function toScimRecord(row: Row): ScimUserRecord {
  return {
    user: toEntity(row),
    directoryId: row.scim_directory_id as string,
    externalId: (row.scim_external_id as string | null) ?? null,
    attributes: (row.scim_attributes as Record<string, unknown> | null) ?? {},
  };
}

/** Whether an insert or update failed only because the tenant has a user with that email. */
function isEmailTaken(error: unknown): boolean {
  const e = error as { driverError?: { code?: string; constraint?: string } };
  return (
    e.driverError?.code === UNIQUE_VIOLATION &&
    e.driverError.constraint === 'users_tenant_email_unique'
  );
}
