import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable } from '@nestjs/common';
import {
  Cursor,
  parseActor,
  PLATFORM_TENANT_ID,
  Roles,
  SCIM_BASE_PATH,
  tenantNotFound,
  UuidSchema,
  type CreatedScimDirectory,
  type GroupRole,
  type RpcPayload,
  type RpcResponse,
  type ScimDirectory,
  type ScimDirectoryRpc,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { addToOutbox, Outbox, TenantTransactions, type OutboxMessage } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { auditEvent } from '../core/audit.js';
import { issueSecretToken, parseSecretToken, secretMatches } from '../core/secret-token.js';
import { TenantDirectory } from '../core/tenant-directory.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { UserRepository } from '../users/user.repository.js';
import { sameJson } from './scim-attributes.js';
import { ScimDirectoryEntity } from './scim-directory.entity.js';
import { ScimDirectoryRepository, type ScimDirectoryChange } from './scim-directory.repository.js';
import { ScimRoleSync } from './scim-role-sync.js';
import { ScimErrors } from './scim.errors.js';

type Request<K extends keyof typeof ScimDirectoryRpc> = RpcPayload<(typeof ScimDirectoryRpc)[K]>;

const DirectoryCursor = z.tuple([UuidSchema]);

/** The actor of what a SCIM directory does (`service:scim:<directory id>`), in audit events. */
export function scimActor(directoryId: string): string {
  return `service:scim:${directoryId}`;
}

/** The actor of the request being handled (`<kind>:<id>`), or identity itself when nobody called. */
function currentActor(): string {
  const actor = parseActor(messageContext.current()?.actor);
  return actor ? `${actor.type}:${actor.id}` : 'service:identity';
}

/** Refuses the platform's role in a directory's mapping (it is no tenant's to hand out). */
function checkRoles(defaultRole: string | null | undefined, groupRoles: GroupRole[] | undefined) {
  if (defaultRole === Roles.platformOperator) throw ScimErrors.roleNotAllowed('defaultRole');
  groupRoles?.forEach((mapping, i) => {
    if (mapping.roles.includes(Roles.platformOperator))
      throw ScimErrors.roleNotAllowed(`groupRoles.${i}.roles`);
  });
}

/**
 * A tenant's SCIM directories (make, read, change the role mapping, rotate the token,
 * delete) and the check of a SCIM request's bearer token. Every change is audited
 * through the outbox in its transaction.
 */
@Injectable()
export class ScimDirectoryService {
  constructor(
    @Inject(ScimDirectoryRepository) private readonly directories: ScimDirectoryRepository,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(ScimRoleSync) private readonly roles: ScimRoleSync,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectIdentitySettings() private readonly settings: IdentitySettings,
  ) {}

  /** The SCIM base URL to give IdPs: the gateway's public URL (`issuer`) + /scim/v2. */
  get baseUrl(): string {
    return `${this.settings.issuer}${SCIM_BASE_PATH}`;
  }

  /**
   * Makes a directory with a new bearer token, returned here only (stored as a hash; its
   * id goes into credential_lookup so the token alone finds the tenant). The default
   * role is `member` unless given (null: none).
   */
  async create(request: Request<'create'>): Promise<CreatedScimDirectory> {
    if (request.tenantId === PLATFORM_TENANT_ID) throw tenantNotFound(request.tenantId);
    const defaultRole = request.defaultRole === undefined ? Roles.member : request.defaultRole;
    const groupRoles = request.groupRoles ?? [];
    checkRoles(defaultRole, groupRoles);
    const tenant = await this.tenants.byId(request.tenantId);
    const token = issueSecretToken();
    const now = new Date();
    const directory = Object.assign(new ScimDirectoryEntity(), {
      id: uuidv7(),
      tenantId: tenant.id,
      name: request.name,
      defaultRole,
      groupRoles,
      tokenId: token.id,
      tokenHash: token.hash,
      tokenCreatedAt: now,
      createdBy: currentActor(),
      createdAt: now,
      updatedAt: now,
    });
    await this.tx.run(tenant.id, async (manager) => {
      await this.directories.insert(manager, directory);
      await this.lookup.add(manager, 'scim_token', token.id, tenant.id);
      await addToOutbox(manager, [this.audit('scim-directory.created', directory)]);
    });
    this.outbox.kick();
    return { ...this.toContract(directory), token: token.token };
  }

  async get({ tenantId, directoryId }: Request<'get'>): Promise<ScimDirectory> {
    const directory = await this.tx.run(tenantId, (manager) =>
      this.directories.findById(manager, tenantId, directoryId),
    );
    if (!directory) throw ScimErrors.directoryNotFound(directoryId);
    return this.toContract(directory);
  }

  /** Oldest first (ids are UUIDv7); the cursor is the last id of the previous page. */
  async list({
    tenantId,
    limit,
    cursor,
  }: Request<'list'>): Promise<RpcResponse<typeof ScimDirectoryRpc.list>> {
    const after = cursor ? Cursor.decode(cursor, DirectoryCursor)[0] : undefined;
    const rows = await this.tx.run(tenantId, (manager) =>
      this.directories.list(manager, tenantId, limit + 1, after),
    );
    const page = rows.slice(0, limit);
    return {
      items: page.map((d) => this.toContract(d)),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
    };
  }

  /**
   * Renames a directory and/or changes its role mapping; a new mapping is applied to
   * every user of the directory at once (their roles recomputed, each change audited).
   */
  async update(request: Request<'update'>): Promise<ScimDirectory> {
    const { tenantId, directoryId } = request;
    checkRoles(request.defaultRole, request.groupRoles);
    const directory = await this.tx.run(tenantId, async (manager) => {
      const current = await this.existing(manager, tenantId, directoryId);
      const change: ScimDirectoryChange = {};
      if (request.name !== undefined && request.name !== current.name) change.name = request.name;
      if (request.defaultRole !== undefined && request.defaultRole !== current.defaultRole)
        change.defaultRole = request.defaultRole;
      if (request.groupRoles !== undefined && !sameJson(request.groupRoles, current.groupRoles))
        change.groupRoles = request.groupRoles;
      if (!Object.keys(change).length) return current;
      const now = new Date();
      await this.directories.update(manager, tenantId, directoryId, change, now);
      const updated = Object.assign(current, change, { updatedAt: now });
      const events: OutboxMessage[] = [
        this.audit('scim-directory.updated', updated, { changed: Object.keys(change) }),
      ];
      if (change.defaultRole !== undefined || change.groupRoles !== undefined)
        events.push(...(await this.roles.recomputeAll(manager, updated)));
      await addToOutbox(manager, events);
      return updated;
    });
    this.outbox.kick();
    return this.toContract(directory);
  }

  /** A new bearer token (returned here only); the old one stops working at once. */
  async rotateToken({
    tenantId,
    directoryId,
  }: Request<'rotateToken'>): Promise<CreatedScimDirectory> {
    const token = issueSecretToken();
    const directory = await this.tx.run(tenantId, async (manager) => {
      const current = await this.existing(manager, tenantId, directoryId);
      const now = new Date();
      const change = { tokenId: token.id, tokenHash: token.hash, tokenCreatedAt: now };
      await this.lookup.remove(manager, 'scim_token', [current.tokenId], tenantId);
      await this.directories.update(manager, tenantId, directoryId, change, now);
      await this.lookup.add(manager, 'scim_token', token.id, tenantId);
      const updated = Object.assign(current, change, { updatedAt: now });
      await addToOutbox(manager, [this.audit('scim-directory.token-rotated', updated)]);
      return updated;
    });
    this.outbox.kick();
    return { ...this.toContract(directory), token: token.token };
  }

  /**
   * Deletes a directory: its token stops working, its groups go; its users stay, with
   * their status and roles, no longer managed by any directory.
   */
  async delete({ tenantId, directoryId }: Request<'delete'>): Promise<{ deleted: true }> {
    await this.tx.run(tenantId, async (manager) => {
      const directory = await this.existing(manager, tenantId, directoryId);
      const unlinked = await this.users.unlinkScimDirectory(manager, tenantId, directoryId);
      await this.lookup.remove(manager, 'scim_token', [directory.tokenId], tenantId);
      await this.directories.delete(manager, tenantId, directoryId);
      await addToOutbox(manager, [
        this.audit('scim-directory.deleted', directory, { unlinkedUsers: unlinked }),
      ]);
    });
    this.outbox.kick();
    return { deleted: true };
  }

  /**
   * The directory a SCIM request's bearer token (`<token id>.<secret>`) belongs to: one
   * lookup of the token id's tenant, one read under that tenant's row-level security,
   * a constant-time comparison of the secret's hash. Anything else is the one 401.
   */
  async authenticate(token: string): Promise<ScimDirectoryEntity> {
    const parsed = parseSecretToken(token);
    if (!parsed) throw ScimErrors.tokenInvalid();
    const tenants = await this.lookup.tenantsOf('scim_token', parsed.id);
    if (tenants.length !== 1) throw ScimErrors.tokenInvalid();
    const tenantId = tenants[0]!;
    const directory = await this.tx.run(tenantId, (manager) =>
      this.directories.findByTokenId(manager, tenantId, parsed.id),
    );
    if (!directory || !secretMatches(parsed.secret, directory.tokenHash))
      throw ScimErrors.tokenInvalid();
    return directory;
  }

  /** The directory, locked for the rest of the transaction; 404 when there is none. */
  private async existing(
    manager: EntityManager,
    tenantId: string,
    directoryId: string,
  ): Promise<ScimDirectoryEntity> {
    const directory = await this.directories.findById(manager, tenantId, directoryId, true);
    if (!directory) throw ScimErrors.directoryNotFound(directoryId);
    return directory;
  }

  private audit(
    action: string,
    directory: ScimDirectoryEntity,
    extra: Record<string, unknown> = {},
  ): OutboxMessage {
    return auditEvent({
      tenantId: directory.tenantId,
      category: 'users',
      action,
      target: { type: 'scim_directory', id: directory.id },
      data: {
        name: directory.name,
        defaultRole: directory.defaultRole,
        // At most 50 mappings in the entry (audit data is bounded), and how many there are.
        groupRoles: directory.groupRoles.slice(0, 50),
        groupRoleCount: directory.groupRoles.length,
        ...extra,
      },
    });
  }

  private toContract(directory: ScimDirectoryEntity): ScimDirectory {
    return {
      id: directory.id,
      tenantId: directory.tenantId,
      name: directory.name,
      defaultRole: directory.defaultRole,
      groupRoles: directory.groupRoles,
      scimBaseUrl: this.baseUrl,
      tokenCreatedAt: directory.tokenCreatedAt.toISOString(),
      createdBy: directory.createdBy,
      createdAt: directory.createdAt.toISOString(),
      updatedAt: directory.updatedAt.toISOString(),
    };
  }
}
