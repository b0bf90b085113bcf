import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { SqlCondition } from './scim-filter.js';
import { ScimGroupEntity } from './scim-group.entity.js';
import type { GroupRef } from './scim-roles.js';

const UNIQUE_VIOLATION = '23505';
const NAME_UNIQUE = 'scim_groups_display_name_unique';
const COLUMNS =
  'g.id, g.tenant_id, g.directory_id, g.display_name, g.external_id, g.created_at, g.updated_at';

interface GroupRow {
  id: string;
  tenant_id: string;
  directory_id: string;
  display_name: string;
  external_id: string | null;
  created_at: Date;
  updated_at: Date;
}

function toEntity(row: GroupRow): ScimGroupEntity {
  return Object.assign(new ScimGroupEntity(), {
    id: row.id,
    tenantId: row.tenant_id,
    directoryId: row.directory_id,
    displayName: row.display_name,
    externalId: row.external_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/** The work's result, or false when it failed only because the group's name is taken. */
async function unlessNameTaken(work: Promise<unknown>): Promise<boolean> {
  try {
    await work;
    return true;
  } catch (error) {
    const e = error as { driverError?: { code?: string; constraint?: string } };
    if (e.driverError?.code === UNIQUE_VIOLATION && e.driverError.constraint === NAME_UNIQUE)
      return false;
    throw error;
  }
}

/**
 * The only code that touches scim_groups and scim_group_members. Every method runs in the
 * caller's tenant transaction and still filters by tenant_id.
 */
@Injectable()
export class ScimGroupRepository {
  /** Inserts a group; false when the directory has one of that name (ignoring case). */
  insert(manager: EntityManager, group: ScimGroupEntity): Promise<boolean> {
    // A savepoint, so that a taken name leaves the caller's transaction usable.
    return unlessNameTaken(manager.transaction((inner) => inner.insert(ScimGroupEntity, group)));
  }

  /** The directory's group, optionally locked (FOR UPDATE) until the transaction ends. */
  async findById(
    manager: EntityManager,
    tenantId: string,
    directoryId: string,
    id: string,
    lock = false,
  ): Promise<ScimGroupEntity | null> {
    const [row] = (await manager.query(
      `SELECT ${COLUMNS} FROM scim_groups g
       WHERE g.tenant_id = $1 AND g.directory_id = $2 AND g.id = $3${lock ? ' FOR UPDATE' : ''}`,
      [tenantId, directoryId, id],
    )) as GroupRow[];
    return row ? toEntity(row) : null;
  }

  /**
   * A page of the directory's groups matching `where` (a condition over `g` whose
   * parameters start at $3), oldest first, with the number of all that match.
   */
  async list(
    manager: EntityManager,
    tenantId: string,
    directoryId: string,
    where: SqlCondition | null,
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: ScimGroupEntity[] }> {
    const condition = `g.tenant_id = $1 AND g.directory_id = $2${where ? ` AND ${where.text}` : ''}`;
    const params = [tenantId, directoryId, ...(where?.params ?? [])];
    const [{ count }] = (await manager.query(
      `SELECT count(*)::int AS count FROM scim_groups g WHERE ${condition}`,
      params,
    )) as [{ count: number }];
    const rows =
      limit > 0 && offset < count
        ? ((await manager.query(
            `SELECT ${COLUMNS} FROM scim_groups g WHERE ${condition}
             ORDER BY g.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
            [...params, limit, offset],
          )) as GroupRow[])
        : [];
    return { total: count, rows: rows.map(toEntity) };
  }

  /** Renames and/or re-identifies a group; false when the new name is taken. */
  update(
    manager: EntityManager,
    tenantId: string,
    id: string,
    change: { displayName: string; externalId: string | null },
    at: Date,
  ): Promise<boolean> {
    return unlessNameTaken(
      manager.transaction((inner) =>
        inner.update(ScimGroupEntity, { tenantId, id }, { ...change, updatedAt: at }),
      ),
    );
  }

  /** Marks the group changed (a membership change). */
  async touch(manager: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await manager.update(ScimGroupEntity, { tenantId, id }, { updatedAt: at });
  }

  /** Deletes the group; its memberships go with it (ON DELETE CASCADE). */
  async delete(manager: EntityManager, tenantId: string, id: string): Promise<void> {
    await manager.delete(ScimGroupEntity, { tenantId, id });
  }

  /** The member user ids of each group, oldest user first. */
  async memberIds(
    manager: EntityManager,
    tenantId: string,
    groupIds: string[],
  ): Promise<Map<string, string[]>> {
    const members = new Map<string, string[]>(groupIds.map((id) => [id, []]));
    if (!groupIds.length) return members;
    const rows = (await manager.query(
      `SELECT group_id, user_id FROM scim_group_members
       WHERE tenant_id = $1 AND group_id = ANY($2::uuid[]) ORDER BY user_id`,
      [tenantId, groupIds],
    )) as { group_id: string; user_id: string }[];
    for (const row of rows) members.get(row.group_id)?.push(row.user_id);
    return members;
  }

  async addMembers(
    manager: EntityManager,
    tenantId: string,
    groupId: string,
    userIds: string[],
  ): Promise<void> {
    if (!userIds.length) return;
    await manager.query(
      `INSERT INTO scim_group_members (tenant_id, group_id, user_id)
       SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING`,
      [tenantId, groupId, userIds],
    );
  }

  async removeMembers(
    manager: EntityManager,
    tenantId: string,
    groupId: string,
    userIds: string[],
  ): Promise<void> {
    if (!userIds.length) return;
    await manager.query(
      `DELETE FROM scim_group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = ANY($3::uuid[])`,
      [tenantId, groupId, userIds],
    );
  }

  /** The groups each user is a member of (users in no group map to an empty list). */
  async groupsOfUsers(
    manager: EntityManager,
    tenantId: string,
    userIds: string[],
  ): Promise<Map<string, GroupRef[]>> {
    const groups = new Map<string, GroupRef[]>(userIds.map((id) => [id, []]));
    if (!userIds.length) return groups;
    const rows = (await manager.query(
      `SELECT m.user_id, g.id, g.display_name, g.external_id
       FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id AND g.tenant_id = m.tenant_id
       WHERE m.tenant_id = $1 AND m.user_id = ANY($2::uuid[]) ORDER BY g.display_name, g.id`,
      [tenantId, userIds],
    )) as { user_id: string; id: string; display_name: string; external_id: string | null }[];
    for (const row of rows)
      groups
        .get(row.user_id)
        ?.push({ id: row.id, displayName: row.display_name, externalId: row.external_id });
    return groups;
  }
}
