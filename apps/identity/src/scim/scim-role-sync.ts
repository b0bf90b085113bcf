import { Inject, Injectable } from '@nestjs/common';
import type { OutboxMessage } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { auditEvent } from '../core/audit.js';
import { UserRepository } from '../users/user.repository.js';
import type { ScimDirectoryEntity } from './scim-directory.entity.js';
import { ScimGroupRepository } from './scim-group.repository.js';
import { directoryRoles, sameRoles } from './scim-roles.js';

/**
 * Applies the role rule (`directoryRoles`: the directory's default role plus the roles of
 * its mapped groups the user is in) to users of a directory, in the caller's transaction.
 */
@Injectable()
export class ScimRoleSync {
  constructor(
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(ScimGroupRepository) private readonly groups: ScimGroupRepository,
  ) {}

  /**
   * Recomputes the roles of these users of the directory (others are skipped), locking
   * them in id order first so that concurrent membership changes of one user take turns
   * and the last one sees them all. Writes the roles that changed and returns their
   * audit events (`user.roles-changed`, by `actor`, else the request's actor) for the
   * caller's outbox.
   */
  async recompute(
    manager: EntityManager,
    directory: ScimDirectoryEntity,
    userIds: Iterable<string>,
    actor?: string,
  ): Promise<OutboxMessage[]> {
    const ids = [...new Set(userIds)].sort();
    if (!ids.length) return [];
    const { tenantId } = directory;
    const records = await this.users.findScimByIds(manager, tenantId, directory.id, ids, true);
    const groups = await this.groups.groupsOfUsers(
      manager,
      tenantId,
      records.map((r) => r.user.id),
    );
    const events: OutboxMessage[] = [];
    for (const { user } of records) {
      const roles = directoryRoles(directory, groups.get(user.id) ?? []);
      if (sameRoles(roles, user.roles)) continue;
      await this.users.update(manager, tenantId, user.id, { roles });
      events.push(
        auditEvent(
          {
            tenantId,
            category: 'users',
            action: 'user.roles-changed',
            target: { type: 'user', id: user.id },
            data: { before: user.roles, after: roles, scimDirectoryId: directory.id },
          },
          actor,
        ),
      );
    }
    return events;
  }

  /** `recompute` for every user of the directory (its mapping changed). */
  async recomputeAll(
    manager: EntityManager,
    directory: ScimDirectoryEntity,
    actor?: string,
  ): Promise<OutboxMessage[]> {
    const ids = await this.users.scimUserIds(manager, directory.tenantId, directory.id);
    return this.recompute(manager, directory, ids, actor);
  }
}
