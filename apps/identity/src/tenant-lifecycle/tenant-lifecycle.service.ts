import { Inject, Injectable } from '@nestjs/common';
import {
  IdentityEvents,
  PLATFORM_TENANT_ID,
  Roles,
  type BootstrapTenantRequest,
  type LifecycleOutput,
  type TenantExport,
  type TenantProfile,
  type TenantRemoval,
  type TenantSettings,
  type TenantUsage,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import {
  addToOutbox,
  Outbox,
  outboxEvent,
  TenantTransactions,
  type OutboxMessage,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { AuthSettingsService } from '../auth-settings/auth-settings.service.js';
import type { StoredAuthSettings } from '../auth-settings/auth-settings.repository.js';
import { auditEvent, type IdentityAuditFact } from '../core/audit.js';
import { normalizeEmail } from '../core/email.js';
import { TenantDirectory } from '../core/tenant-directory.js';
import { SessionService } from '../sessions/session.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { UserRepository } from '../users/user.repository.js';
import { UserService } from '../users/user.service.js';
import { TenantLifecycleErrors } from './tenant-lifecycle.errors.js';
import { TenantLifecycleRepository } from './tenant-lifecycle.repository.js';
import { TenantProfileRepository, type StoredTenantProfile } from './tenant-profile.repository.js';

/**
 * The identity settings a tenant's settings decide: SSO required, MFA required, and the
 * session timeout as the idle lifetime of its sessions (a refresh after a longer pause is
 * refused, the session ended).
 */
export function authSettingsOf(settings: TenantSettings): StoredAuthSettings {
  return {
    ssoRequired: settings.ssoRequired,
    mfaRequired: settings.mfaRequired,
    sessionIdleTimeoutSeconds: settings.sessionTimeoutMinutes * 60,
  };
}

/** The auth settings a change of the tenant's settings from `before` (null: none known) to `after` decides. */
export function changedAuthSettings(
  before: TenantSettings | null,
  after: TenantSettings,
): StoredAuthSettings {
  const next = authSettingsOf(after);
  if (!before) return next;
  const previous = authSettingsOf(before);
  return Object.fromEntries(
    Object.entries(next).filter(
      ([key, value]) => previous[key as keyof StoredAuthSettings] !== value,
    ),
  ) as StoredAuthSettings;
}

/** The profile fields of a bootstrap request (it also carries the run and the admin). */
function profileOf(request: TenantProfile): TenantProfile {
  const { tenantId, slug, name, plan, settings, limits, features, roles } = request;
  return { tenantId, slug, name, plan, settings, limits, features, roles };
}

/** The first admin bootstrap found or made. */
interface BootstrapAdmin {
  user: UserEntity;
  /** This call created (and invited) the user. */
  created: boolean;
  /** The user is the one bootstrap invited (now or in an earlier run): compensation removes it. */
  invited: boolean;
}

/**
 * Identity's part of a tenant's life, as the tenants service's provisioning pipeline and
 * lifecycle runs ask for it (TenantLifecycleRpc.identity.*). Every verb is idempotent: the
 * pipeline retries it and runs it again after a crash. Bootstrap stores the tenant's
 * profile (its plan's limits and features, enforced where users and SSO connections are
 * created), applies its settings to the auth settings and invites its first admin, in one
 * transaction; compensate removes exactly that; suspend revokes every session; remove
 * deletes every row of the tenant. Facts about the lifecycle itself are audited in the
 * platform's chain (the tenant's own chain may not exist yet, or be gone), the suspension's
 * revocations in the tenant's.
 */
@Injectable()
export class TenantLifecycleService {
  constructor(
    @Inject(TenantProfileRepository) private readonly profiles: TenantProfileRepository,
    @Inject(TenantLifecycleRepository) private readonly data: TenantLifecycleRepository,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(UserService) private readonly userService: UserService,
    @Inject(AuthSettingsService) private readonly authSettings: AuthSettingsService,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(TenantDirectory) private readonly directory: TenantDirectory,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /**
   * Stores the profile, applies the settings to the auth settings and, when `admin` is
   * given, invites the first admin with the tenant-admin role (user, invitation token and
   * mail in the same transaction, so the mail goes out exactly when the user exists). A
   * second run finds the admin it made (or a user with that email) and creates no other.
   */
  async bootstrap(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { tenantId } = request;
    notPlatform(tenantId, 'bootstrap');
    const result = await this.tx.run(tenantId, async (manager) => {
      const stored = await this.profiles.upsert(manager, profileOf(request), request.runId);
      const settings = await this.authSettings.mergeIn(
        manager,
        tenantId,
        authSettingsOf(request.settings),
      );
      const admin = request.admin ? await this.admin(manager, request, stored.profile) : null;
      if (stored.inserted || admin?.created)
        await addToOutbox(manager, [
          this.platformAudit(tenantId, 'tenant.identity-bootstrapped', {
            runId: request.runId,
            plan: request.plan,
            adminUserId: admin?.user.id ?? null,
            adminEmail: admin?.user.email ?? null,
          }),
        ]);
      return { admin, settings };
    });
    this.outbox.kick();
    if (result.admin?.created) this.userService.kickMail();
    this.directory.forget(tenantId);
    const { admin, settings } = result;
    return {
      output: {
        adminUserId: admin?.user.id ?? null,
        invited: admin?.invited ?? false,
        created: admin?.created ?? false,
        adminStatus: admin?.user.status ?? null,
        authSettings: {
          ssoRequired: settings.ssoRequired,
          mfaRequired: settings.mfaRequired,
          sessionIdleTimeoutSeconds: settings.sessionIdleTimeoutSeconds,
        },
      },
    };
  }

  /**
   * Undoes bootstrap: deletes the admin it invited (with the invitation, sessions and
   * lookups), the auth settings and the profile. Nothing when bootstrap did not run (or was
   * compensated already); a user bootstrap found rather than made stays.
   */
  async compensate(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { tenantId } = request;
    notPlatform(tenantId, 'compensate');
    const output = await this.tx.run(tenantId, async (manager) => {
      const stored = await this.profiles.find(manager, tenantId, true);
      if (!stored) return { adminUserId: null, removedAdmin: false, authSettings: 0, profile: 0 };
      const admin = stored.adminUserId
        ? await this.users.findById(manager, tenantId, stored.adminUserId, true)
        : null;
      if (admin) await this.userService.deleteWithin(manager, admin);
      const authSettings = await this.data.deleteAuthSettings(manager, tenantId);
      const profile = await this.profiles.delete(manager, tenantId);
      const output = {
        adminUserId: admin?.id ?? null,
        removedAdmin: admin !== null,
        authSettings,
        profile,
      };
      await addToOutbox(manager, [
        this.platformAudit(tenantId, 'tenant.identity-compensated', {
          runId: request.runId,
          ...output,
        }),
      ]);
      return output;
    });
    this.outbox.kick();
    this.directory.forget(tenantId);
    return { output };
  }

  /** Stores the changed profile (created if the tenant had none) and applies its settings. */
  async configure(profile: TenantProfile): Promise<LifecycleOutput> {
    const { tenantId } = profile;
    notPlatform(tenantId, 'configure');
    const settings = await this.tx.run(tenantId, async (manager) => {
      const before = await this.profiles.find(manager, tenantId, true);
      await this.profiles.upsert(manager, profileOf(profile));
      // Only what the tenant's settings changed: an admin's own change of the auth settings
      // (PATCH …/auth-settings) survives a plan change or another setting's change.
      const settings = await this.authSettings.mergeIn(
        manager,
        tenantId,
        changedAuthSettings(before?.settings ?? null, profile.settings),
      );
      await addToOutbox(manager, [
        this.platformAudit(tenantId, 'tenant.identity-configured', {
          plan: profile.plan,
          limits: { users: profile.limits.users, ssoConnections: profile.limits.ssoConnections },
          features: profile.features,
          authSettings: authSettingsOf(profile.settings),
        }),
      ]);
      return settings;
    });
    this.outbox.kick();
    this.directory.forget(tenantId);
    return {
      output: {
        plan: profile.plan,
        limits: { users: profile.limits.users, ssoConnections: profile.limits.ssoConnections },
        authSettings: {
          ssoRequired: settings.ssoRequired,
          mfaRequired: settings.mfaRequired,
          sessionIdleTimeoutSeconds: settings.sessionIdleTimeoutSeconds,
        },
      },
    };
  }

  /** What bootstrap made is there: the profile, and the first admin when one was asked for. */
  async verify(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { tenantId } = request;
    const { profile, admin } = await this.tx.run(tenantId, async (manager) => {
      const profile = await this.profiles.find(manager, tenantId);
      const admin = request.admin
        ? ((profile?.adminUserId
            ? await this.users.findById(manager, tenantId, profile.adminUserId)
            : null) ??
          (await this.users.findByEmail(manager, tenantId, normalizeEmail(request.admin.email))))
        : null;
      return { profile, admin };
    });
    const missing: string[] = [];
    if (!profile) missing.push('it has no tenant profile (bootstrap has not stored one)');
    if (request.admin && !admin)
      missing.push(`its first admin ${normalizeEmail(request.admin.email)} does not exist`);
    if (missing.length) throw TenantLifecycleErrors.bootstrapIncomplete(tenantId, missing);
    return {
      output: {
        profile: true,
        plan: profile!.plan,
        adminUserId: admin?.id ?? null,
        adminStatus: admin?.status ?? null,
      },
    };
  }

  /** What the tenant uses of identity's limits: users (all, any status) and SSO connections. */
  async usage(tenantId: string): Promise<TenantUsage> {
    const usage = await this.tx.run(tenantId, async (manager) => ({
      users: await this.profiles.countUsers(manager, tenantId),
      ssoConnections: await this.profiles.countSsoConnections(manager, tenantId),
    }));
    return { usage };
  }

  /**
   * Revokes every live session of the tenant's users, each announced to the gateways
   * (IdentityEvents.sessionRevoked), audited once in the tenant's chain; sign-in and
   * refresh are refused from now on (the directory's cache of the tenant is dropped).
   */
  async suspend(tenantId: string, reason: string): Promise<LifecycleOutput> {
    notPlatform(tenantId, 'suspend');
    const revoked = await this.tx.run(tenantId, async (manager) => {
      const revoked = await this.sessions.revokeTenantQuietly(
        manager,
        tenantId,
        'tenant_suspended',
      );
      if (revoked)
        await addToOutbox(manager, [
          auditEvent({
            tenantId,
            category: 'auth',
            action: 'sessions.revoked',
            target: { type: 'tenant', id: tenantId },
            data: { count: revoked, reason: 'tenant_suspended', suspension: reason },
          }),
        ]);
      return revoked;
    });
    this.directory.forget(tenantId);
    if (revoked) this.outbox.kick();
    return { output: { revokedSessions: revoked } };
  }

  /**
   * The tenant's identity data by table, with no secret, hash, private key or token, and
   * `roles`: each role given in the tenant with the users who have it.
   */
  async export(tenantId: string): Promise<TenantExport> {
    const data = await this.tx.run(tenantId, (manager) => this.data.export(manager, tenantId));
    const members = new Map<string, string[]>();
    for (const user of data['users'] ?? []) {
      for (const role of user['roles'] as string[])
        members.set(role, [...(members.get(role) ?? []), user['id'] as string]);
    }
    const roles = [...members.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([role, userIds]) => ({ role, userIds }));
    return { data: { ...data, roles } };
  }

  /**
   * Deletes every row of the tenant in every identity table (returns the counts by table).
   * Live sessions and API keys are announced as revoked first (through the outbox, in the
   * same transaction), so every gateway drops them at once.
   */
  async remove(tenantId: string): Promise<TenantRemoval> {
    notPlatform(tenantId, 'remove');
    const removed = await this.tx.run(tenantId, async (manager) => {
      await this.sessions.revokeTenantQuietly(manager, tenantId, 'tenant_deleted');
      const keys = await this.data.liveApiKeys(manager, tenantId);
      const removed = await this.data.removeAll(manager, tenantId);
      await addToOutbox(manager, [
        ...keys.map((key) => apiKeyRevoked(tenantId, key)),
        this.platformAudit(tenantId, 'tenant.identity-removed', { removed }),
      ]);
      return removed;
    });
    this.outbox.kick();
    this.directory.forget(tenantId);
    return { removed };
  }

  /**
   * The first admin: the one an earlier run invited, else a user with the email (given the
   * tenant-admin role if they lack it), else a new invited user with that role.
   */
  private async admin(
    manager: EntityManager,
    request: BootstrapTenantRequest,
    profile: StoredTenantProfile,
  ): Promise<BootstrapAdmin> {
    const { tenantId } = request;
    const ours = profile.adminUserId
      ? await this.users.findById(manager, tenantId, profile.adminUserId, true)
      : null;
    if (ours) return { user: ours, created: false, invited: true };
    const email = normalizeEmail(request.admin!.email);
    const existing = await this.users.findByEmail(manager, tenantId, email);
    if (existing) {
      if (!existing.roles.includes(Roles.tenantAdmin)) {
        const roles = [...existing.roles, Roles.tenantAdmin];
        await this.users.update(manager, tenantId, existing.id, { roles });
        existing.roles = roles;
      }
      return { user: existing, created: false, invited: false };
    }
    const user = await this.userService.inviteWithin(
      manager,
      { id: tenantId, name: request.name },
      {
        email,
        displayName: request.admin!.displayName ?? email.split('@')[0]!,
        roles: [Roles.tenantAdmin],
      },
    );
    await this.profiles.setAdmin(manager, tenantId, user.id);
    return { user, created: true, invited: true };
  }

  /** A fact about the tenant's lifecycle, in the platform's audit chain (category users). */
  private platformAudit(
    tenantId: string,
    action: string,
    data: Record<string, unknown>,
  ): OutboxMessage {
    const fact: IdentityAuditFact = {
      tenantId: PLATFORM_TENANT_ID,
      category: 'users',
      action,
      target: { type: 'tenant', id: tenantId },
      data,
    };
    return auditEvent(fact);
  }
}

function notPlatform(tenantId: string, verb: string): void {
  if (tenantId === PLATFORM_TENANT_ID) throw TenantLifecycleErrors.platformTenant(verb);
}

/** The gateways drop the key from their caches (as when it is revoked by hand). */
function apiKeyRevoked(tenantId: string, key: { id: string; prefix: string }): OutboxMessage {
  return outboxEvent(
    IdentityEvents.apiKeyRevoked.schema,
    IdentityEvents.apiKeyRevoked.subject,
    { keyId: key.id, tenantId, prefix: key.prefix },
    `api-key-revoked:${key.id}`,
    messageContext.current(),
  );
}
