import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable } from '@nestjs/common';
import {
  ScimSchemas,
  type RpcPayload,
  type ScimListResponse,
  type ScimResource,
  type ScimRpc,
} from '@tenantry/contracts';
import { addToOutbox, Outbox, TenantTransactions, type OutboxMessage } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { auditEvent } from '../core/audit.js';
import { UserRepository } from '../users/user.repository.js';
import { isSelected, selectAttributes } from './scim-attributes.js';
import { page } from './scim-discovery.js';
import type { ScimDirectoryEntity } from './scim-directory.entity.js';
import { ScimDirectoryService, scimActor } from './scim-directory.service.js';
import { compileScimFilter, parseScimFilter } from './scim-filter.js';
import { ScimGroupEntity } from './scim-group.entity.js';
import { scimGroupInput, scimGroupResource } from './scim-group.mapping.js';
import { ScimGroupRepository } from './scim-group.repository.js';
import {
  applyMemberChanges,
  applyPatch,
  readPatchRequest,
  splitGroupOperations,
} from './scim-patch-request.js';
import { ScimRoleSync } from './scim-role-sync.js';
import { ScimErrors } from './scim.errors.js';

type Request<K extends keyof typeof ScimRpc> = RpcPayload<(typeof ScimRpc)[K]>;

/** Attributes of a Group the server sets: a PATCH may not target them. */
const GROUP_READ_ONLY = ['id', 'meta', 'schemas'] as const;

/** What a write makes of a group: its name and externalId, and its members. */
interface GroupState {
  displayName: string;
  externalId: string | null;
  members: Set<string>;
}

/**
 * Groups as a SCIM directory pushes them (RFC 7644 /Groups), their members users of the
 * same directory. Every membership change recomputes the roles of the users it touches
 * (the rule: scim-roles.ts), a rename or new externalId those of all its members, in
 * the same transaction; audited with the directory as actor.
 */
@Injectable()
export class ScimGroupService {
  constructor(
    @Inject(ScimDirectoryService) private readonly directories: ScimDirectoryService,
    @Inject(ScimGroupRepository) private readonly groups: ScimGroupRepository,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(ScimRoleSync) private readonly roles: ScimRoleSync,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /** Creates a group (POST /Groups), with its members if given; 409 uniqueness on a taken name. */
  async create({ token, body }: Request<'createGroup'>): Promise<ScimResource> {
    const directory = await this.directories.authenticate(token);
    const input = scimGroupInput(body);
    const now = new Date();
    const group = Object.assign(new ScimGroupEntity(), {
      id: uuidv7(),
      tenantId: directory.tenantId,
      directoryId: directory.id,
      displayName: input.displayName,
      externalId: input.externalId,
      createdAt: now,
      updatedAt: now,
    });
    const members = [...new Set(input.members ?? [])];
    const names = await this.tx.run(directory.tenantId, async (manager) => {
      const names = await this.checkMembers(manager, directory, members);
      if (!(await this.groups.insert(manager, group)))
        throw ScimErrors.groupNameTaken(input.displayName);
      await this.groups.addMembers(manager, directory.tenantId, group.id, members);
      await addToOutbox(manager, [
        this.audit(directory, 'scim-group.created', group, memberChanges(members, [])),
        ...(await this.roles.recompute(manager, directory, members, scimActor(directory.id))),
      ]);
      return names;
    });
    this.outbox.kick();
    return this.resource(group, members, names);
  }

  async get({
    token,
    id,
    attributes,
    excludedAttributes,
  }: Request<'getGroup'>): Promise<ScimResource> {
    const directory = await this.directories.authenticate(token);
    const withMembers = isSelected('members', attributes, excludedAttributes);
    const { group, members, names } = await this.tx.run(directory.tenantId, async (manager) => {
      const group = await this.existing(manager, directory, id);
      if (!withMembers) return { group, members: undefined, names: new Map<string, string>() };
      const members = (await this.groups.memberIds(manager, directory.tenantId, [group.id])).get(
        group.id,
      )!;
      return {
        group,
        members,
        names: await this.users.displayNames(manager, group.tenantId, members),
      };
    });
    return selectAttributes(this.resource(group, members, names), attributes, excludedAttributes);
  }

  /** Lists the directory's groups (GET /Groups), filtered (`displayName eq`, ...) and paged. */
  async list(request: Request<'listGroups'>): Promise<ScimListResponse> {
    const directory = await this.directories.authenticate(request.token);
    const where = request.filter?.trim()
      ? compileScimFilter('Group', parseScimFilter(request.filter), 3)
      : null;
    const { offset, limit } = page(request.startIndex, request.count);
    const withMembers = isSelected('members', request.attributes, request.excludedAttributes);
    const { total, rows, members, names } = await this.tx.run(
      directory.tenantId,
      async (manager) => {
        const found = await this.groups.list(
          manager,
          directory.tenantId,
          directory.id,
          where,
          offset,
          limit,
        );
        if (!withMembers) return { ...found, members: null, names: new Map<string, string>() };
        const members = await this.groups.memberIds(
          manager,
          directory.tenantId,
          found.rows.map((g) => g.id),
        );
        const names = await this.users.displayNames(manager, directory.tenantId, [
          ...new Set([...members.values()].flat()),
        ]);
        return { ...found, members, names };
      },
    );
    return {
      schemas: [ScimSchemas.listResponse],
      totalResults: total,
      startIndex: offset + 1,
      itemsPerPage: rows.length,
      Resources: rows.map((group) =>
        selectAttributes(
          this.resource(group, members?.get(group.id), names),
          request.attributes,
          request.excludedAttributes,
        ),
      ),
    };
  }

  /** Replaces a group (PUT /Groups/:id): its name, externalId and whole member list. */
  async replace({ token, id, body }: Request<'replaceGroup'>): Promise<ScimResource> {
    const directory = await this.directories.authenticate(token);
    const input = scimGroupInput(body);
    return this.change(directory, id, () => ({
      displayName: input.displayName,
      externalId: input.externalId,
      members: new Set(input.members ?? []),
    }));
  }

  /**
   * Patches a group (PATCH /Groups/:id) as Okta and Entra ID do: members added and
   * removed (`path: "members"` with `[{ "value": "<id>" }]`, `members[value eq "<id>"]`),
   * replaced, or cleared; a rename by `replace` of displayName or a no-path value.
   */
  async patch({ token, id, body }: Request<'patchGroup'>): Promise<ScimResource> {
    const directory = await this.directories.authenticate(token);
    const { members, others } = splitGroupOperations(readPatchRequest(body));
    return this.change(directory, id, (group, current, names) => {
      let displayName = group.displayName;
      let externalId = group.externalId;
      if (others.length) {
        const document = this.resource(group, undefined, new Map());
        const input = scimGroupInput(applyPatch(document, others, GROUP_READ_ONLY));
        displayName = input.displayName;
        externalId = input.externalId;
      }
      const named = new Map(current.map((userId) => [userId, names.get(userId) ?? '']));
      return { displayName, externalId, members: applyMemberChanges(named, members) };
    });
  }

  /** Deletes a group (DELETE /Groups/:id); its members' roles are recomputed without it. */
  async delete({ token, id }: Request<'deleteGroup'>): Promise<{ deleted: true }> {
    const directory = await this.directories.authenticate(token);
    await this.tx.run(directory.tenantId, async (manager) => {
      const group = await this.existing(manager, directory, id, true);
      const members = (await this.groups.memberIds(manager, directory.tenantId, [group.id])).get(
        group.id,
      )!;
      await this.groups.delete(manager, directory.tenantId, group.id);
      await addToOutbox(manager, [
        this.audit(directory, 'scim-group.deleted', group, memberChanges([], members)),
        ...(await this.roles.recompute(manager, directory, members, scimActor(directory.id))),
      ]);
    });
    this.outbox.kick();
    return { deleted: true };
  }

  /**
   * Writes what `next` makes of the group (given its current members and their display
   * names), in one transaction with the group locked: new members must be users of the
   * directory (400 invalidValue otherwise), a taken name is a 409. Recomputes the roles
   * of the users added and removed, and of all members when the name or externalId
   * changed (group role mappings name groups by them). Audits what changed.
   */
  private async change(
    directory: ScimDirectoryEntity,
    id: string,
    next: (group: ScimGroupEntity, members: string[], names: Map<string, string>) => GroupState,
  ): Promise<ScimResource> {
    const { tenantId } = directory;
    const actor = scimActor(directory.id);
    const result = await this.tx.run(tenantId, async (manager) => {
      const group = await this.existing(manager, directory, id, true);
      const current = (await this.groups.memberIds(manager, tenantId, [group.id])).get(group.id)!;
      const currentNames = await this.users.displayNames(manager, tenantId, current);
      const state = next(group, current, currentNames);
      const before = new Set(current);
      const added = [...state.members].filter((userId) => !before.has(userId));
      const removed = current.filter((userId) => !state.members.has(userId));
      const addedNames = await this.checkMembers(manager, directory, added);
      const renamed =
        state.displayName !== group.displayName || state.externalId !== group.externalId;
      const now = new Date();
      if (renamed) {
        const change = { displayName: state.displayName, externalId: state.externalId };
        if (!(await this.groups.update(manager, tenantId, group.id, change, now)))
          throw ScimErrors.groupNameTaken(state.displayName);
      } else if (added.length || removed.length) {
        await this.groups.touch(manager, tenantId, group.id, now);
      }
      await this.groups.addMembers(manager, tenantId, group.id, added);
      await this.groups.removeMembers(manager, tenantId, group.id, removed);
      const updated = Object.assign(group, {
        displayName: state.displayName,
        externalId: state.externalId,
        ...(renamed || added.length || removed.length ? { updatedAt: now } : {}),
      });
      const events: OutboxMessage[] = [];
      if (renamed || added.length || removed.length) {
        events.push(
          this.audit(directory, 'scim-group.updated', updated, {
            ...(renamed ? { renamed: true } : {}),
            ...memberChanges(added, removed),
          }),
        );
      }
      const affected = renamed ? [...current, ...added] : [...added, ...removed];
      events.push(...(await this.roles.recompute(manager, directory, affected, actor)));
      await addToOutbox(manager, events);
      const members = current.filter((userId) => state.members.has(userId)).concat(added);
      const names = new Map([...currentNames, ...addedNames]);
      return { group: updated, members, names };
    });
    this.outbox.kick();
    return this.resource(result.group, result.members, result.names);
  }

  /**
   * The display names of these would-be members; 400 invalidValue naming the first id
   * that is not a user of the directory (groups do not nest).
   */
  private async checkMembers(
    manager: EntityManager,
    directory: ScimDirectoryEntity,
    userIds: string[],
  ): Promise<Map<string, string>> {
    if (!userIds.length) return new Map();
    const found = await this.users.findScimByIds(
      manager,
      directory.tenantId,
      directory.id,
      userIds,
    );
    const names = new Map(found.map((r) => [r.user.id, r.user.displayName]));
    const missing = userIds.find((userId) => !names.has(userId));
    if (missing)
      throw ScimErrors.invalidValue(
        'members',
        `${JSON.stringify(missing.slice(0, 100))} is not a user of this SCIM directory (members are users; groups do not nest)`,
      );
    return names;
  }

  private async existing(
    manager: EntityManager,
    directory: ScimDirectoryEntity,
    id: string,
    lock = false,
  ): Promise<ScimGroupEntity> {
    const group = UUID.test(id)
      ? await this.groups.findById(manager, directory.tenantId, directory.id, id, lock)
      : null;
    if (!group) throw ScimErrors.notFound('Group', id);
    return group;
  }

  private resource(
    group: ScimGroupEntity,
    members: string[] | undefined,
    names: Map<string, string>,
  ): ScimResource {
    return scimGroupResource(
      {
        id: group.id,
        displayName: group.displayName,
        externalId: group.externalId,
        createdAt: group.createdAt,
        updatedAt: group.updatedAt,
        members: members?.map((userId) => ({ id: userId, displayName: names.get(userId) ?? '' })),
      },
      this.directories.baseUrl,
    );
  }

  private audit(
    directory: ScimDirectoryEntity,
    action: string,
    group: ScimGroupEntity,
    data: Record<string, unknown>,
  ): OutboxMessage {
    return auditEvent(
      {
        tenantId: directory.tenantId,
        category: 'users',
        action,
        target: { type: 'scim_group', id: group.id },
        data: {
          displayName: group.displayName,
          externalId: group.externalId,
          ...data,
          scimDirectoryId: directory.id,
        },
      },
      scimActor(directory.id),
    );
  }
}

/** An audit entry names at most this many members added or removed (and counts them all). */
const AUDITED_MEMBERS = 100;

/** The members added and removed, for an audit entry: counted, the first AUDITED_MEMBERS listed. */
function memberChanges(added: string[], removed: string[]): Record<string, unknown> {
  return {
    added: added.slice(0, AUDITED_MEMBERS),
    addedCount: added.length,
    removed: removed.slice(0, AUDITED_MEMBERS),
    removedCount: removed.length,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
