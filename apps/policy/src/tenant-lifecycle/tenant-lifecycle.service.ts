import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  PLATFORM_TENANT_ID,
  type BootstrapTenantRequest,
  type LifecycleOutput,
  type TenantExport,
  type TenantProfile,
  type TenantRemoval,
  type TenantUsage,
} from '@tenantry/contracts';
import type { PolicyDocument } from '@tenantry/policy-engine';
import { isSystemRole } from '../roles/role.service.js';
import { PolicyPublisher } from '../tenant-policies/policy-publisher.js';
import { TenantPolicyService } from '../tenant-policies/tenant-policy.service.js';
import { missingPlanRoles, planPolicy } from './plan-policy.js';
import { TenantLifecycleErrors } from './tenant-lifecycle.errors.js';
import { TenantProfileRepository } from './tenant-profile.repository.js';

/**
 * The policy service's part in a tenant's life (`TenantLifecycleRpc.policy.*`), every verb
 * idempotent (the provisioning pipeline retries a step, and runs it again after a crash):
 * bootstrap gives the tenant the policy of its plan (and keeps the plan's limits, for the
 * custom-roles quota); compensate and remove delete the tenant's rows and its snapshot.
 */
@Injectable()
export class TenantLifecycleService {
  private readonly logger = new Logger('TenantLifecycle');

  constructor(
    @Inject(TenantPolicyService) private readonly policies: TenantPolicyService,
    @Inject(PolicyPublisher) private readonly publisher: PolicyPublisher,
    @Inject(TenantProfileRepository) private readonly profiles: TenantProfileRepository,
  ) {}

  /**
   * Stores the profile, creates the tenant's policy from its plan's roles unless it has one,
   * and makes sure the snapshot bucket holds it (throws while NATS does not answer, so that
   * the step is retried).
   */
  async bootstrap(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { tenantId } = request;
    if (tenantId === PLATFORM_TENANT_ID) throw TenantLifecycleErrors.platformTenant('bootstrap');
    await this.profiles.save(request);
    const { document, ignored } = planPolicy(tenantId, request.roles);
    // Audited in the platform's chain: the tenant's own opens later with its genesis entry
    // (the audit-genesis step), which must be its first entry.
    const created = await this.policies.ensure(tenantId, document, PLATFORM_TENANT_ID);
    const published = await this.policies.publishStored(tenantId);
    const stored = await this.policies.stored(tenantId);
    if (!published || !stored) throw TenantLifecycleErrors.policyMissing(tenantId);
    if (ignored.length)
      this.logger.warn(`tenant ${tenantId}: plan roles ${ignored.join(', ')} are no system roles`);
    const current = stored.document as PolicyDocument;
    return {
      output: {
        created,
        version: published.version,
        publishedVersion: published.publishedVersion,
        roles: current.roles.map((r) => r.id),
        bindings: current.bindings.map((b) => b.id),
        ...(ignored.length ? { ignoredRoles: ignored } : {}),
      },
    };
  }

  /** Undoes bootstrap: the tenant's policy rows, profile and snapshot removed. */
  async compensate(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { removed } = await this.remove(request.tenantId, 'compensate');
    return { output: { removed } };
  }

  /**
   * Stores the new profile (limits, features, roles); a role the new plan gives that the
   * policy lacks is added (a role the plan no longer gives stays: bindings may use it).
   */
  async configure(profile: TenantProfile): Promise<LifecycleOutput> {
    const { tenantId } = profile;
    if (tenantId === PLATFORM_TENANT_ID) throw TenantLifecycleErrors.platformTenant('configure');
    await this.profiles.save(profile);
    const stored = await this.policies.stored(tenantId);
    let added: string[] = [];
    if (stored && missingPlanRoles(stored.document as PolicyDocument, profile.roles).length) {
      const { value } = await this.policies.change(tenantId, (current) => {
        const missing = missingPlanRoles(current, profile.roles);
        return {
          document: { ...current, roles: [...current.roles, ...missing] },
          value: missing.map((r) => r.id),
          audit: {
            action: 'tenant-policy.plan-roles-added',
            target: { type: 'tenant-policy', id: tenantId },
            before: null,
            after: { plan: profile.plan, roles: missing.map((r) => r.id) },
          },
          item: { path: 'roles', what: 'role' },
        };
      });
      added = value;
    }
    return { output: { profile: 'stored', ...(added.length ? { rolesAdded: added } : {}) } };
  }

  /** Checks the tenant's policy exists and the snapshot bucket holds its version. */
  async verify(request: BootstrapTenantRequest): Promise<LifecycleOutput> {
    const { tenantId } = request;
    const stored = await this.policies.stored(tenantId);
    if (!stored) throw TenantLifecycleErrors.policyMissing(tenantId);
    if (stored.publishedVersion !== stored.version)
      throw TenantLifecycleErrors.policyUnpublished(
        tenantId,
        stored.version,
        stored.publishedVersion,
      );
    const inBucket = await this.publisher.versionInBucket(tenantId);
    if (inBucket < stored.version) {
      this.publisher.retryLater();
      throw TenantLifecycleErrors.policyUnpublished(tenantId, stored.version, inBucket);
    }
    const document = stored.document as PolicyDocument;
    return {
      output: {
        version: stored.version,
        publishedVersion: stored.publishedVersion,
        roles: document.roles.map((r) => r.id),
      },
    };
  }

  /** `customRoles`: the roles of the tenant's policy that are not system roles. */
  async usage(tenantId: string): Promise<TenantUsage> {
    const stored = await this.policies.stored(tenantId);
    const roles = stored ? (stored.document as PolicyDocument).roles : [];
    return { usage: { customRoles: roles.filter((r) => !isSystemRole(r)).length } };
  }

  /** Nothing to do: the gateway refuses a suspended tenant's principals before any decision. */
  suspend(): LifecycleOutput {
    return { output: {} };
  }

  /** The tenant's policy document and profile. */
  async export(tenantId: string): Promise<TenantExport> {
    const [stored, profile] = await Promise.all([
      this.policies.stored(tenantId),
      this.profiles.get(tenantId),
    ]);
    return {
      data: {
        tenant_policies: stored
          ? [
              {
                version: stored.version,
                publishedVersion: stored.publishedVersion,
                updatedAt: stored.updatedAt,
                document: stored.document,
              },
            ]
          : [],
        tenant_profiles: profile
          ? [
              {
                plan: profile.plan,
                limits: profile.limits,
                features: profile.features,
                roles: profile.roles,
                updatedAt: profile.updatedAt.toISOString(),
              },
            ]
          : [],
      },
    };
  }

  /** Deletes every row of the tenant in the policy database, and its snapshot. */
  async remove(tenantId: string, verb = 'remove'): Promise<TenantRemoval> {
    if (tenantId === PLATFORM_TENANT_ID) throw TenantLifecycleErrors.platformTenant(verb);
    const removed = await this.policies.remove(tenantId);
    const profiles = await this.profiles.remove(tenantId);
    return { removed: { ...removed, tenant_profiles: profiles } };
  }
}
