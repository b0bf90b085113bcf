import { Inject, Injectable } from '@nestjs/common';
import {
  Cursor,
  PLATFORM_TENANT_ID,
  Roles,
  UuidSchema,
  type ChangePasswordRequestSchema,
  type CreateUserRequestSchema,
  type ListUsersRequestSchema,
  type UpdateUserRequestSchema,
  type User,
} from '@tenantry/contracts';
import { addToOutbox, Outbox, TenantTransactions } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { AuthSettingsService } from '../auth-settings/auth-settings.service.js';
import { auditEvent } from '../core/audit.js';
import { normalizeEmail } from '../core/email.js';
import { TenantDirectory, type TenantRef } from '../core/tenant-directory.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { MailService } from '../mail/mail.service.js';
import { invitationMail } from '../mail/mail.templates.js';
import { accountSubject, PasswordAttempts } from '../passwords/password-attempts.js';
import { PasswordHasher } from '../passwords/password.hasher.js';
import { PasswordService } from '../passwords/password.service.js';
import { SessionService } from '../sessions/session.service.js';
import { TenantQuotas } from '../tenant-lifecycle/tenant-quotas.js';
import { UserTokenService } from './user-token.service.js';
import { newUser, UserEntity } from './user.entity.js';
import { UserErrors } from './user.errors.js';
import { UserRepository, type UserChange } from './user.repository.js';

type CreateUserRequest = z.output<typeof CreateUserRequestSchema>;
type ListUsersRequest = z.output<typeof ListUsersRequestSchema>;
type UpdateUserRequest = z.output<typeof UpdateUserRequestSchema>;
type ChangePasswordRequest = z.output<typeof ChangePasswordRequestSchema>;

const UserCursor = z.tuple([UuidSchema]);

/**
 * The roles a user of `tenantId` gets. Platform-tenant users are operators: their roles
 * must be exactly ["platform-operator"] (so operators invite operators); no one else may
 * have that role. Tenant users default to ["member"].
 */
export function allowedRoles(tenantId: string, roles: string[] | undefined): string[] {
  if (tenantId === PLATFORM_TENANT_ID) {
    if (roles?.length !== 1 || roles[0] !== Roles.platformOperator) {
      throw UserErrors.rolesNotAllowed(
        `users of the platform tenant are platform operators: roles must be exactly ["${Roles.platformOperator}"]`,
      );
    }
    return roles;
  }
  const chosen = [...new Set(roles ?? [Roles.member])];
  if (chosen.includes(Roles.platformOperator)) {
    throw UserErrors.rolesNotAllowed(
      `"${Roles.platformOperator}" is a role of the platform tenant only`,
    );
  }
  return chosen;
}

/** Users of a tenant (and platform operators): invite, read, list, change, disable, delete. */
@Injectable()
export class UserService {
  constructor(
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(UserTokenService) private readonly userTokens: UserTokenService,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(PasswordService) private readonly passwords: PasswordService,
    @Inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @Inject(PasswordAttempts) private readonly attempts: PasswordAttempts,
    @Inject(AuthSettingsService) private readonly authSettings: AuthSettingsService,
    @Inject(MailService) private readonly mail: MailService,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(TenantQuotas) private readonly quotas: TenantQuotas,
    @InjectIdentitySettings() private readonly settings: IdentitySettings,
  ) {}

  /**
   * Creates an invited user and mails them a one-time link (7 days) to choose a password;
   * the user, the token, the mail and the audit event commit together. The email is unique
   * in the tenant, ignoring case and Unicode form. Refused (409 QUOTA_EXCEEDED) when the
   * tenant is at its plan's `users` limit.
   */
  async create(request: CreateUserRequest): Promise<User> {
    const roles = allowedRoles(request.tenantId, request.roles);
    const tenant = await this.tenants.byId(request.tenantId);
    const user = newUser({
      tenantId: tenant.id,
      email: normalizeEmail(request.email),
      displayName: request.displayName,
      status: 'invited',
      roles,
    });
    await this.tx.run(tenant.id, async (manager) => {
      await this.quotas.checkUsers(manager, tenant.id);
      if (!(await this.users.insert(manager, user))) throw UserErrors.emailTaken(user.email);
      await this.lookup.add(manager, 'email', user.email, tenant.id);
      await this.invite(manager, user, tenant);
      await addToOutbox(manager, [
        auditEvent({
          tenantId: tenant.id,
          category: 'users',
          action: 'user.invited',
          target: { type: 'user', id: user.id },
          data: { email: user.email, roles },
        }),
      ]);
    });
    this.afterCommit(true);
    return toContract(user);
  }

  /** The user; USER_NOT_FOUND for an unknown id or another tenant's user. */
  async get(tenantId: string, userId: string): Promise<User> {
    const user = await this.users.get(tenantId, userId);
    if (!user) throw UserErrors.notFound(userId);
    return toContract(user);
  }

  /** Oldest first (ids are UUIDv7), by status and email prefix (case-insensitive); the cursor is the last id. */
  async list(request: ListUsersRequest): Promise<{ items: User[]; nextCursor: string | null }> {
    const { tenantId, limit, cursor } = request;
    const after = cursor ? Cursor.decode(cursor, UserCursor)[0] : undefined;
    const rows = await this.users.list(tenantId, {
      limit: limit + 1,
      after,
      status: request.status,
      emailPrefix: request.email === undefined ? undefined : normalizeEmail(request.email),
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toContract),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
    };
  }

  /** Changes the display name and/or roles; audited (user.updated). */
  async update(request: UpdateUserRequest): Promise<User> {
    const { tenantId, userId } = request;
    const change: UserChange = {};
    if (request.displayName !== undefined) change.displayName = request.displayName;
    if (request.roles !== undefined) change.roles = allowedRoles(tenantId, request.roles);
    const user = await this.tx.run(tenantId, async (manager) => {
      const user = await this.existing(manager, tenantId, userId);
      if (!Object.keys(change).length) return user;
      await this.users.update(manager, tenantId, userId, change);
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'users',
          action: 'user.updated',
          target: { type: 'user', id: userId },
          data: { changed: change },
        }),
      ]);
      return Object.assign(user, change, { updatedAt: new Date() });
    });
    this.afterCommit();
    return toContract(user);
  }

  /**
   * Disables a user: they cannot sign in, and every session of theirs is revoked (the
   * gateways refuse their access tokens within a second). Audited (user.disabled).
   * Disabling a disabled user changes nothing.
   */
  async disable(tenantId: string, userId: string): Promise<User> {
    const user = await this.tx.run(tenantId, async (manager) => {
      const user = await this.existing(manager, tenantId, userId);
      if (user.status === 'disabled') return user;
      await this.keepAnOperator(manager, user);
      await this.users.update(manager, tenantId, userId, { status: 'disabled' });
      const revoked = await this.sessions.revokeAllQuietly(
        manager,
        tenantId,
        userId,
        'user_disabled',
      );
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'users',
          action: 'user.disabled',
          target: { type: 'user', id: userId },
          data: { revokedSessions: revoked },
        }),
      ]);
      return Object.assign(user, { status: 'disabled' as const, updatedAt: new Date() });
    });
    this.afterCommit();
    return toContract(user);
  }

  /** Enables a disabled user again: active if they have a password, else invited. Audited. */
  async enable(tenantId: string, userId: string): Promise<User> {
    const user = await this.tx.run(tenantId, async (manager) => {
      const user = await this.existing(manager, tenantId, userId);
      if (user.status !== 'disabled') return user;
      const status = user.passwordHash ? ('active' as const) : ('invited' as const);
      await this.users.update(manager, tenantId, userId, { status });
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'users',
          action: 'user.enabled',
          target: { type: 'user', id: userId },
          data: { status },
        }),
      ]);
      return Object.assign(user, { status, updatedAt: new Date() });
    });
    this.afterCommit();
    return toContract(user);
  }

  /**
   * Deletes a user with everything of theirs. Their sessions' revocations are published
   * first (in the same transaction), and their email, token and refresh-token lookups go
   * too. Audited (user.deleted).
   */
  async delete(tenantId: string, userId: string): Promise<{ deleted: true }> {
    await this.tx.run(tenantId, async (manager) => {
      const user = await this.existing(manager, tenantId, userId);
      await this.keepAnOperator(manager, user);
      await this.sessions.revokeAllQuietly(manager, tenantId, userId, 'user_deleted');
      const refreshTokens = await this.sessions.refreshTokenIdsOf(manager, tenantId, userId);
      const userTokens = await this.userTokens.idsOfUser(manager, tenantId, userId);
      await this.lookup.remove(manager, 'refresh_token', refreshTokens, tenantId);
      await this.lookup.remove(manager, 'user_token', userTokens, tenantId);
      await this.lookup.remove(manager, 'email', [user.email], tenantId);
      await this.users.delete(manager, tenantId, userId);
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'users',
          action: 'user.deleted',
          target: { type: 'user', id: userId },
          data: { email: user.email },
        }),
      ]);
    });
    this.afterCommit();
    return { deleted: true };
  }

  /** Mails an invited user a new link; the previous one stops working. Audited. */
  async resendInvitation(tenantId: string, userId: string): Promise<User> {
    const tenant = await this.tenants.byId(tenantId);
    const user = await this.tx.run(tenantId, async (manager) => {
      const user = await this.existing(manager, tenantId, userId);
      if (user.status !== 'invited') throw UserErrors.notInvited(userId);
      await this.invite(manager, user, tenant);
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'users',
          action: 'user.invitation-resent',
          target: { type: 'user', id: userId },
        }),
      ]);
      return user;
    });
    this.afterCommit(true);
    return toContract(user);
  }

  /**
   * Changes an active user's password after checking the current one (which counts toward
   * the lockout like a login) against the tenant's policy and history. Audited (password.changed).
   */
  async changePassword(request: ChangePasswordRequest): Promise<{ changed: true }> {
    const { tenantId, userId } = request;
    const { user, settings } = await this.tx.run(tenantId, async (manager) => ({
      user: await this.existing(manager, tenantId, userId),
      settings: await this.authSettings.getIn(manager, tenantId),
    }));
    if (user.status !== 'active' || !user.passwordHash) throw UserErrors.notActive(userId);
    const subject = accountSubject(tenantId, userId);
    const attempt = await this.attempts.begin(subject, settings);
    if (!(await this.hasher.verify(user.passwordHash, request.currentPassword))) {
      await this.attempts.failed(subject, attempt, settings);
      throw UserErrors.currentPasswordWrong();
    }
    await this.attempts.succeeded(subject);
    await this.tx.run(tenantId, async (manager) => {
      await this.existing(manager, tenantId, userId);
      const passwordHash = await this.passwords.choose(manager, {
        tenantId,
        userId,
        password: request.newPassword,
        settings,
        field: 'newPassword',
      });
      await this.users.update(manager, tenantId, userId, {
        passwordHash,
        passwordChangedAt: new Date(),
      });
      await this.passwords.remember(manager, tenantId, userId, passwordHash);
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'auth',
          action: 'password.changed',
          target: { type: 'user', id: userId },
        }),
      ]);
    });
    this.afterCommit();
    return { changed: true };
  }

  /** The user, locked for the rest of the transaction; USER_NOT_FOUND when there is none. */
  private async existing(
    manager: EntityManager,
    tenantId: string,
    userId: string,
  ): Promise<UserEntity> {
    const user = await this.users.findById(manager, tenantId, userId, true);
    if (!user) throw UserErrors.notFound(userId);
    return user;
  }

  /** Refuses to disable or delete the last active platform operator. */
  private async keepAnOperator(manager: EntityManager, user: UserEntity): Promise<void> {
    if (user.tenantId !== PLATFORM_TENANT_ID || user.status !== 'active') return;
    if ((await this.users.countActiveOperators(manager)) <= 1) throw UserErrors.lastOperator();
  }

  /** A new invitation token for the user and its mail, in the caller's transaction. */
  private async invite(
    manager: EntityManager,
    user: UserEntity,
    tenant: Pick<TenantRef, 'name'>,
  ): Promise<void> {
    const { token, expiresAt } = await this.userTokens.issue(manager, user, 'invitation');
    await this.mail.queue(
      manager,
      invitationMail({
        to: user.email,
        displayName: user.displayName,
        tenantName: tenant.name,
        appUrl: this.settings.appUrl,
        token,
        expiresAt,
      }),
    );
  }

  private afterCommit(mail = false): void {
    this.outbox.kick();
    if (mail) this.mail.kick();
  }

  // For callers that change users in transactions of their own and audit it themselves
  // (SCIM provisioning, apps/identity/src/scim; the tenant lifecycle): the same effects as
  // create, disable and delete.

  /**
   * Creates an invited user with an invitation (token and mail) in the caller's
   * transaction, as `create` does but with no quota check and no audit entry (the caller
   * writes its own; it kicks the outbox and `kickMail()` after the commit). USER_EMAIL_TAKEN
   * when the tenant has a user with that email.
   */
  async inviteWithin(
    manager: EntityManager,
    tenant: Pick<TenantRef, 'id' | 'name'>,
    fields: { email: string; displayName: string; roles: string[] },
  ): Promise<UserEntity> {
    const user = newUser({
      tenantId: tenant.id,
      email: normalizeEmail(fields.email),
      displayName: fields.displayName,
      status: 'invited',
      roles: allowedRoles(tenant.id, fields.roles),
    });
    if (!(await this.users.insert(manager, user))) throw UserErrors.emailTaken(user.email);
    await this.lookup.add(manager, 'email', user.email, tenant.id);
    await this.invite(manager, user, tenant);
    return user;
  }

  /** Wakes the mail sender after a commit that queued an invitation (`inviteWithin`). */
  kickMail(): void {
    this.mail.kick();
  }

  /**
   * Disables the user in the caller's transaction, as `disable` does: status disabled,
   * every session revoked and announced to the gateways (no audit entry: the caller
   * writes its own). Returns the number of sessions revoked; the caller kicks the outbox.
   */
  async disableWithin(manager: EntityManager, tenantId: string, userId: string): Promise<number> {
    await this.users.update(manager, tenantId, userId, { status: 'disabled' });
    return this.sessions.revokeAllQuietly(manager, tenantId, userId, 'user_disabled');
  }

  /**
   * Deletes the user in the caller's transaction, as `delete` does: sessions revoked and
   * announced, email, token and refresh-token lookups forgotten, the user and everything
   * of theirs deleted (no audit entry: the caller writes its own; it kicks the outbox).
   */
  async deleteWithin(manager: EntityManager, user: UserEntity): Promise<void> {
    const { tenantId, id } = user;
    await this.sessions.revokeAllQuietly(manager, tenantId, id, 'user_deleted');
    const refreshTokens = await this.sessions.refreshTokenIdsOf(manager, tenantId, id);
    const userTokens = await this.userTokens.idsOfUser(manager, tenantId, id);
    await this.lookup.remove(manager, 'refresh_token', refreshTokens, tenantId);
    await this.lookup.remove(manager, 'user_token', userTokens, tenantId);
    await this.lookup.remove(manager, 'email', [user.email], tenantId);
    await this.users.delete(manager, tenantId, id);
  }
}

export function toContract(user: UserEntity): User {
  return {
    id: user.id,
    tenantId: user.tenantId,
    email: user.email,
    displayName: user.displayName,
    status: user.status,
    roles: user.roles,
    mfaEnabled: user.mfaEnabled,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}
