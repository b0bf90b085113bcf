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
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { TenantQuotas } from '../tenant-lifecycle/tenant-quotas.js';
import { newUser } from '../users/user.entity.js';
import { UserRepository, type ScimUserRecord } from '../users/user.repository.js';
import { UserService } from '../users/user.service.js';
import { isSelected, sameJson, selectAttributes } from './scim-attributes.js';
import { page } from './scim-discovery.js';
import type { ScimDirectoryEntity } from './scim-directory.entity.js';
import { ScimDirectoryService, scimActor } from './scim-directory.service.js';
import { compileScimFilter, parseScimFilter } from './scim-filter.js';
import { ScimGroupRepository } from './scim-group.repository.js';
import { applyPatch, readPatchRequest } from './scim-patch-request.js';
import { directoryRoles } from './scim-roles.js';
import { scimUserInput, scimUserResource, type ScimUserInput } from './scim-user.mapping.js';
import { ScimErrors } from './scim.errors.js';

type Request<K extends keyof typeof ScimRpc> = RpcPayload<(typeof ScimRpc)[K]>;

/** Attributes of a User the server sets: a PATCH may not target them. */
const USER_READ_ONLY = ['id', 'meta', 'groups', 'schemas'] as const;

/**
 * Users as a SCIM directory provisions them (RFC 7644 /Users). A user it creates is
 * `active` without a password (they sign in through SSO; no invitation mail); `active:
 * false` disables them and revokes every session of theirs, `active: true` enables them;
 * DELETE deletes them with their sessions. A directory sees and changes only the users it
 * created. Every change is audited with the directory as actor (`service:scim:<id>`).
 */
@Injectable()
export class ScimUserService {
  constructor(
    @Inject(ScimDirectoryService) private readonly directories: ScimDirectoryService,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(UserService) private readonly userService: UserService,
    @Inject(ScimGroupRepository) private readonly groups: ScimGroupRepository,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(TenantQuotas) private readonly quotas: TenantQuotas,
  ) {}

  /**
   * Creates a user from a SCIM User (POST /Users): 409 uniqueness when the tenant has a
   * user with that userName already (the directory's or not); roles from the directory's
   * default role (a new user is in no group yet). Refused (409 QUOTA_EXCEEDED) when the
   * tenant is at its plan's `users` limit.
   */
  async create({ token, body }: Request<'createUser'>): Promise<ScimResource> {
    const directory = await this.directories.authenticate(token);
    const input = scimUserInput(body);
    const { tenantId } = directory;
    const user = newUser({
      tenantId,
      email: input.email,
      displayName: input.displayName,
      status: input.active ? 'active' : 'disabled',
      roles: directoryRoles(directory, []),
    });
    const fields = {
      directoryId: directory.id,
      externalId: input.externalId,
      attributes: input.attributes,
    };
    await this.tx.run(tenantId, async (manager) => {
      await this.quotas.checkUsers(manager, tenantId);
      if (!(await this.users.insertScim(manager, user, fields)))
        throw ScimErrors.userNameTaken(input.email);
      await this.lookup.add(manager, 'email', user.email, tenantId);
      await addToOutbox(manager, [
        this.audit(directory, 'user.provisioned', user.id, {
          email: user.email,
          status: user.status,
          roles: user.roles,
          externalId: input.externalId,
        }),
      ]);
    });
    this.outbox.kick();
    return this.resource(directory, { user, ...fields }, []);
  }

  async get({
    token,
    id,
    attributes,
    excludedAttributes,
  }: Request<'getUser'>): Promise<ScimResource> {
    const directory = await this.directories.authenticate(token);
    const withGroups = isSelected('groups', attributes, excludedAttributes);
    const { record, groups } = await this.tx.run(directory.tenantId, async (manager) => {
      const record = await this.existing(manager, directory, id);
      return {
        record,
        groups: withGroups ? await this.groupsOf(manager, directory, [record.user.id]) : null,
      };
    });
    return selectAttributes(
      this.resource(directory, record, groups?.get(record.user.id)),
      attributes,
      excludedAttributes,
    );
  }

  /**
   * Lists the directory's users (GET /Users), oldest first, filtered (`userName eq`,
   * `externalId eq`, `emails.value eq`, `and`, `or`, ...; see scim-filter.ts) and paged
   * by 1-based `startIndex` and `count`.
   */
  async list(request: Request<'listUsers'>): Promise<ScimListResponse> {
    const directory = await this.directories.authenticate(request.token);
    const where = request.filter?.trim()
      ? compileScimFilter('User', parseScimFilter(request.filter), 3)
      : null;
    const { offset, limit } = page(request.startIndex, request.count);
    const withGroups = isSelected('groups', request.attributes, request.excludedAttributes);
    const { total, rows, groups } = await this.tx.run(directory.tenantId, async (manager) => {
      const found = await this.users.listScim(
        manager,
        directory.tenantId,
        directory.id,
        where,
        offset,
        limit,
      );
      const groups = withGroups
        ? await this.groupsOf(
            manager,
            directory,
            found.rows.map((r) => r.user.id),
          )
        : null;
      return { ...found, groups };
    });
    return {
      schemas: [ScimSchemas.listResponse],
      totalResults: total,
      startIndex: offset + 1,
      itemsPerPage: rows.length,
      Resources: rows.map((record) =>
        selectAttributes(
          this.resource(directory, record, groups?.get(record.user.id)),
          request.attributes,
          request.excludedAttributes,
        ),
      ),
    };
  }

  /** Replaces a user with a SCIM User (PUT /Users/:id): what it does not have is removed. */
  async replace({ token, id, body }: Request<'replaceUser'>): Promise<ScimResource> {
    const directory = await this.directories.authenticate(token);
    const input = scimUserInput(body);
    return this.change(directory, id, () => input);
  }

  /**
   * Patches a user (PATCH /Users/:id) with a PatchOp as Okta and Entra ID send them
   * (`replace` of `active` with `false` or `"False"`, no-path values, `name.givenName`,
   * `emails[type eq "work"].value`, enterprise extension paths), then applies the result
   * as a PUT would.
   */
  async patch({ token, id, body }: Request<'patchUser'>): Promise<ScimResource> {
    const directory = await this.directories.authenticate(token);
    const operations = readPatchRequest(body);
    return this.change(directory, id, (current) =>
      scimUserInput(applyPatch(current, operations, USER_READ_ONLY)),
    );
  }

  /** Deletes a user (DELETE /Users/:id) with their sessions, tokens and memberships. */
  async delete({ token, id }: Request<'deleteUser'>): Promise<{ deleted: true }> {
    const directory = await this.directories.authenticate(token);
    await this.tx.run(directory.tenantId, async (manager) => {
      const { user } = await this.existing(manager, directory, id, true);
      await this.userService.deleteWithin(manager, user);
      await addToOutbox(manager, [
        this.audit(directory, 'user.deleted', user.id, { email: user.email }),
      ]);
    });
    this.outbox.kick();
    return { deleted: true };
  }

  /**
   * Writes what `next` makes of the user's current resource, in one transaction with the
   * user locked: email (409 uniqueness when taken; its lookup follows), display name,
   * externalId and attributes, and status (active false: disabled, sessions revoked;
   * true: active). Audits what changed; a request that changes nothing writes nothing.
   */
  private async change(
    directory: ScimDirectoryEntity,
    id: string,
    next: (current: ScimResource) => ScimUserInput,
  ): Promise<ScimResource> {
    const { tenantId } = directory;
    const result = await this.tx.run(tenantId, async (manager) => {
      const record = await this.existing(manager, directory, id, true);
      const before = record.user;
      const input = next(this.resource(directory, record));
      const status = input.active ? ('active' as const) : ('disabled' as const);
      const changed = [
        ...(input.email !== before.email ? ['userName'] : []),
        ...(input.displayName !== before.displayName ? ['displayName'] : []),
        ...(input.externalId !== record.externalId ? ['externalId'] : []),
        ...(!sameJson(input.attributes, record.attributes) ? ['attributes'] : []),
      ];
      const statusChanged = status !== before.status;
      if (!changed.length && !statusChanged) return record;
      const now = new Date();
      const change = {
        email: input.email,
        displayName: input.displayName,
        status,
        externalId: input.externalId,
        attributes: input.attributes,
      };
      if (!(await this.users.updateScim(manager, tenantId, before.id, change, now)))
        throw ScimErrors.userNameTaken(input.email);
      const events: OutboxMessage[] = [];
      if (input.email !== before.email) {
        await this.lookup.remove(manager, 'email', [before.email], tenantId);
        await this.lookup.add(manager, 'email', input.email, tenantId);
      }
      if (changed.length)
        events.push(
          this.audit(directory, 'user.updated', before.id, {
            changed,
            ...(input.email !== before.email ? { email: input.email, before: before.email } : {}),
          }),
        );
      if (statusChanged && status === 'disabled') {
        const revoked = await this.userService.disableWithin(manager, tenantId, before.id);
        events.push(
          this.audit(directory, 'user.disabled', before.id, { revokedSessions: revoked }),
        );
      } else if (statusChanged) {
        events.push(this.audit(directory, 'user.enabled', before.id, { status }));
      }
      await addToOutbox(manager, events);
      return {
        user: Object.assign(before, {
          email: input.email,
          displayName: input.displayName,
          status,
          updatedAt: now,
        }),
        directoryId: directory.id,
        externalId: input.externalId,
        attributes: input.attributes,
      };
    });
    this.outbox.kick();
    const groups = await this.tx.run(tenantId, (manager) =>
      this.groupsOf(manager, directory, [result.user.id]),
    );
    return this.resource(directory, result, groups.get(result.user.id));
  }

  /** The directory's user; 404 (SCIM) for anyone else, or an id that is no UUID. */
  private async existing(
    manager: EntityManager,
    directory: ScimDirectoryEntity,
    id: string,
    lock = false,
  ): Promise<ScimUserRecord> {
    const record = await this.users.findScim(manager, directory.tenantId, directory.id, id, lock);
    if (!record) throw ScimErrors.notFound('User', id);
    return record;
  }

  private async groupsOf(
    manager: EntityManager,
    directory: ScimDirectoryEntity,
    userIds: string[],
  ): Promise<Map<string, { id: string; displayName: string }[]>> {
    return this.groups.groupsOfUsers(manager, directory.tenantId, userIds);
  }

  private resource(
    directory: ScimDirectoryEntity,
    record: ScimUserRecord,
    groups?: { id: string; displayName: string }[],
  ): ScimResource {
    return scimUserResource(
      {
        id: record.user.id,
        email: record.user.email,
        displayName: record.user.displayName,
        status: record.user.status,
        externalId: record.externalId,
        attributes: record.attributes,
        createdAt: record.user.createdAt,
        updatedAt: record.user.updatedAt,
        groups,
      },
      this.directories.baseUrl,
    );
  }

  private audit(
    directory: ScimDirectoryEntity,
    action: string,
    userId: string,
    data: Record<string, unknown>,
  ): OutboxMessage {
    return auditEvent(
      {
        tenantId: directory.tenantId,
        category: 'users',
        action,
        target: { type: 'user', id: userId },
        data: { ...data, scimDirectoryId: directory.id },
      },
      scimActor(directory.id),
    );
  }
}
