import { Inject, Injectable } from '@nestjs/common';
import { TenantTransactions } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { TenantLifecycleErrors } from './tenant-lifecycle.errors.js';
import { TenantProfileRepository } from './tenant-profile.repository.js';

/**
 * The tenant's plan limits where identity creates what they count: `users` (invitations,
 * SCIM, SSO just-in-time users) and `ssoConnections` (only with the `sso` feature). Each
 * check runs in the creating transaction and locks the tenant's profile row first, so
 * concurrent creations in one tenant take turns and can never pass a limit together; the
 * lock ends with the transaction, after the new row is committed and counted by the next.
 * A tenant without a profile (created before tenant provisioning, the platform tenant) is
 * unlimited, and takes no lock.
 */
@Injectable()
export class TenantQuotas {
  constructor(
    @Inject(TenantProfileRepository) private readonly profiles: TenantProfileRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
  ) {}

  /** Refuses (409 QUOTA_EXCEEDED) `adding` more users past the tenant's `users` limit. */
  async checkUsers(manager: EntityManager, tenantId: string, adding = 1): Promise<void> {
    const profile = await this.profiles.find(manager, tenantId, true);
    const limit = profile?.limits.users;
    if (!profile || limit === null || limit === undefined) return;
    const current = await this.profiles.countUsers(manager, tenantId);
    if (current + adding > limit)
      throw TenantLifecycleErrors.quotaExceeded(profile.plan, 'users', limit, current, adding);
  }

  /**
   * Refuses another SSO connection when the plan lacks `sso` (403 FEATURE_NOT_IN_PLAN) or
   * the tenant is at its `ssoConnections` limit (409 QUOTA_EXCEEDED).
   */
  async checkSsoConnections(manager: EntityManager, tenantId: string): Promise<void> {
    const profile = await this.profiles.find(manager, tenantId, true);
    if (!profile) return;
    if (!profile.features.includes('sso'))
      throw TenantLifecycleErrors.featureNotInPlan(profile.plan, 'sso', 'single sign-on');
    const limit = profile.limits.ssoConnections;
    if (limit === null || limit === undefined) return;
    const current = await this.profiles.countSsoConnections(manager, tenantId);
    if (current + 1 > limit)
      throw TenantLifecycleErrors.quotaExceeded(profile.plan, 'ssoConnections', limit, current);
  }

  /**
   * `checkSsoConnections` in a transaction of its own, before slow work (fetching IdP
   * metadata, generating a key pair) that a refusal would waste; the creating transaction
   * checks again under the lock.
   */
  precheckSsoConnections(tenantId: string): Promise<void> {
    return this.tx.run(tenantId, (manager) => this.checkSsoConnections(manager, tenantId));
  }
}
