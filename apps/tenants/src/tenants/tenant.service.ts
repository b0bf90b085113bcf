import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  Cursor,
  PLATFORM_TENANT_ID,
  TENANT_STATUSES,
  TenantEvents,
  UuidSchema,
  type CreateTenantRequest,
  type RpcPayload,
  type Tenant,
  type TenantAccess,
  type TenantPage,
  type TenantProfile,
  type TenantRpc,
  type TenantSettings,
  type TenantStatus,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { Outbox, outboxAuditFact, outboxEvent, type OutboxMessage } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { TenantAccessPublisher } from '../access/tenant-access.publisher.js';
import type { PlanEntity } from '../plans/plan.entity.js';
import { PlanService } from '../plans/plan.service.js';
import {
  InjectTenantRegistrySettings,
  type TenantRegistrySettings,
} from './tenant-registry.settings.js';
import { TenantDataRemovers } from './tenant-data.js';
import {
  describeViolation,
  effectiveLimits,
  quotaViolations,
  type QuotaViolation,
} from './tenant-limits.js';
import { TenantParticipants } from './tenant-participants.js';
import { mergeSettings, retentionProblem, settingsProblems } from './tenant-settings.js';
import { TenantEntity, type StoredPlanChange } from './tenant.entity.js';
import { TenantErrors } from './tenant.errors.js';
import {
  CONFIGURED_STATUSES,
  TenantRepository,
  type PlanFacts,
  type TenantRecord,
} from './tenant.repository.js';

const TenantCursor = z.tuple([UuidSchema]);
const PAGE = 200;
/** How long a due plan change the usage refused waits before it is checked again. */
const RECHECK_REFUSED_MS = 5 * 60_000;
/** Statuses in which the plan may change. */
const PLAN_CHANGE_STATUSES: readonly TenantStatus[] = ['active', 'suspended'];
const UPDATABLE_STATUSES = TENANT_STATUSES.filter((s) => s !== 'deleted');

type ListRequest = RpcPayload<typeof TenantRpc.list>;
type UpdateRequest = RpcPayload<typeof TenantRpc.update>;
type ChangePlanRequest = RpcPayload<typeof TenantRpc.changePlan>;

/** How `transition` moves a tenant (see TenantService.transition). */
export interface TransitionOptions {
  /** The statuses the tenant may be in; any other is refused with TENANT_STATUS_CONFLICT. */
  from: readonly TenantStatus[];
  /** The new status reason (why it failed or is suspended); null or left out clears it. */
  reason?: string | null;
  /** The run doing this (recorded as the tenant's latest run); left out keeps the current one. */
  runId?: string;
  /** When the scheduled deletion runs; null clears it; left out keeps it. */
  deleteAfter?: Date | null;
}

/** The request as the registry stores it: region defaulted and checked, settings merged and checked. */
export interface CheckedCreateRequest {
  region: string;
  settings: TenantSettings;
}

/**
 * The tenant registry: tenants, their plan, limits and settings, their status; what the
 * participants (identity, policy, audit) are told about them (`profile`, `configure`); their
 * access state in the TENANT_ACCESS bucket. The provisioning pipeline creates tenants
 * (`insertProvisioning`) and moves them through their life (`transition`).
 */
@Injectable()
export class TenantService {
  private readonly logger = new Logger('TenantService');

  constructor(
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(PlanService) private readonly plans: PlanService,
    @Inject(TenantParticipants) private readonly participants: TenantParticipants,
    @Inject(TenantAccessPublisher) private readonly access: TenantAccessPublisher,
    @Inject(TenantDataRemovers) private readonly removers: TenantDataRemovers,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectTenantRegistrySettings() private readonly settings: TenantRegistrySettings,
  ) {}

  /**
   * Checks what the contract's schema cannot: the region is one this installation serves
   * (default: the first of TENANTRY_REGIONS), the isolation is `rls` (the only one this
   * installation offers), every network of the IP allow-list parses. Returns the region and
   * the full settings (defaults merged with the request's).
   */
  checkCreateRequest(request: CreateTenantRequest): CheckedCreateRequest {
    const regions = this.settings.regions;
    const region = request.region ?? regions[0]!;
    if (!regions.includes(region)) throw TenantErrors.regionUnknown(region, regions);
    if (request.isolation && request.isolation !== 'rls')
      throw TenantErrors.isolationUnavailable(request.isolation);
    const problems = settingsProblems(request.settings ?? {});
    if (problems.length) throw TenantErrors.settingsInvalid(problems);
    return { region, settings: mergeSettings(undefined, request.settings) };
  }

  /**
   * Inserts a new tenant in status `provisioning` (its run `runId`) in the caller's
   * transaction, with the audit fact `tenant.created` and the event `TenantEvents.created`
   * through the outbox. Refuses an unknown plan or region, an isolation other than `rls`, a
   * bad network (VALIDATION_FAILED naming the field) and a slug taken by a tenant that is
   * not deleted (CONFLICT, TENANT_SLUG_TAKEN). The audit fact goes to the platform's log (the
   * tenant has none before its genesis). After the commit, call `afterCommit(id)`.
   */
  async insertProvisioning(
    manager: EntityManager,
    request: CreateTenantRequest,
    runId: string,
  ): Promise<Tenant> {
    const { region, settings } = this.checkCreateRequest(request);
    const plan = await this.plans.entity(request.plan ?? 'free', manager, 'plan');
    const longer = retentionProblem(
      settings,
      effectiveLimits(plan.quotas, request.limitOverrides ?? {}).auditRetentionDays,
    );
    if (longer.length) throw TenantErrors.settingsInvalid(longer);
    const now = new Date();
    const entity = Object.assign(new TenantEntity(), {
      id: uuidv7(),
      name: request.name,
      slug: request.slug,
      status: 'provisioning' as const,
      statusReason: null,
      plan: plan.key,
      region,
      isolation: request.isolation ?? 'rls',
      settings,
      limitOverrides: request.limitOverrides ?? {},
      pendingPlanChange: null,
      runId,
      trialEndsAt: request.trialEndsAt ? new Date(request.trialEndsAt) : null,
      deleteAfter: null,
      configVersion: 0,
      configuredVersion: 0,
      // Bootstrap tells the participants the profile of this plan version.
      configuredPlanVersion: plan.version,
      createdAt: now,
      updatedAt: now,
    });
    const tenant = toContract({ tenant: entity, plan: factsOf(plan) });
    const events = [
      outboxAuditFact({
        // The tenant has no log of its own yet (audit's genesis comes later, and a failed
        // provisioning leaves none behind): its creation is recorded in the platform's.
        tenantId: auditChainOf(entity),
        category: 'tenants',
        action: 'tenant.created',
        target: { type: 'tenant', id: tenant.id },
        data: { name: tenant.name, slug: tenant.slug, plan: tenant.plan, region, runId },
        service: 'tenants',
      }),
      outboxEvent(
        TenantEvents.created.schema,
        TenantEvents.created.subject,
        tenant,
        `tenant-created:${tenant.id}`,
        messageContext.current(),
      ),
    ];
    if (!(await this.tenants.insert(manager, entity, events)))
      throw TenantErrors.slugTaken(request.slug);
    return tenant;
  }

  /**
   * After the transaction that inserted (or otherwise changed) a tenant committed: sends the
   * outbox on its way and writes the tenant's access state. Never throws (the maintenance
   * loop catches up with what failed).
   */
  async afterCommit(tenantId: string): Promise<void> {
    this.outbox.kick();
    try {
      const record = await this.tenants.findById(tenantId);
      if (record) await this.publishAccess(record);
    } catch (error) {
      this.logger.warn(`after the commit of ${tenantId}: ${(error as Error).message}`);
    }
  }

  async get(id: string): Promise<Tenant> {
    return toContract(await this.record(id));
  }

  /** The tenant holding the slug (a deleted tenant's slug is free, so it is not found by it). */
  async getBySlug(slug: string): Promise<Tenant> {
    const record = await this.tenants.findBySlug(slug);
    if (!record) throw TenantErrors.slugNotFound(slug);
    return toContract(record);
  }

  /** Oldest first (ids are UUIDv7), filtered by status, plan, region and a name or slug substring. */
  async list(request: ListRequest): Promise<TenantPage> {
    const { limit, cursor, status, plan, region, q } = request;
    const after = cursor ? Cursor.decode(cursor, TenantCursor)[0] : undefined;
    const rows = await this.tenants.list({ status, plan, region, q }, limit + 1, after);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toContract),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.tenant.id]) : null,
    };
  }

  /** What the participants are told about the tenant: its plan, effective limits, features, roles, settings. */
  async profile(id: string): Promise<TenantProfile> {
    return profileOf(await this.record(id));
  }

  /**
   * Changes the name, settings (the keys given), limit overrides (the keys given; null =
   * unlimited), cleared overrides, or the trial end. Audited (`tenant.updated`) and announced
   * (`TenantEvents.updated`); then the participants are configured and the access state
   * written. A deleted tenant cannot change.
   */
  async update(request: UpdateRequest): Promise<Tenant> {
    const { id, name, settings, limitOverrides, clearOverrides, trialEndsAt } = request;
    if (limitOverrides && clearOverrides) {
      const both = clearOverrides.filter((key) => key in limitOverrides);
      if (both.length) throw TenantErrors.overrideBothWays(both);
    }
    if (settings) {
      const problems = settingsProblems(settings);
      if (problems.length) throw TenantErrors.settingsInvalid(problems);
    }
    const result = await this.tenants.mutate(id, ({ tenant: t, plan }) => {
      if (t.status === 'deleted')
        throw TenantErrors.statusConflict(t, 'a change', UPDATABLE_STATUSES);
      const overrides = { ...t.limitOverrides, ...limitOverrides };
      for (const key of clearOverrides ?? []) delete overrides[key];
      if (settings) {
        const longer = retentionProblem(
          mergeSettings(t.settings, settings),
          effectiveLimits(plan.quotas, overrides).auditRetentionDays,
        );
        if (longer.length) throw TenantErrors.settingsInvalid(longer);
      }
      const next = Object.assign(new TenantEntity(), t, {
        name: name ?? t.name,
        settings: settings ? mergeSettings(t.settings, settings) : t.settings,
        limitOverrides: overrides,
        trialEndsAt:
          trialEndsAt === undefined ? t.trialEndsAt : trialEndsAt && new Date(trialEndsAt),
      });
      const changed = UPDATE_FIELDS.filter(
        (f) => JSON.stringify(t[f] ?? null) !== JSON.stringify(next[f] ?? null),
      );
      if (!changed.length) return null;
      const participantsCare = changed.some((f) => f !== 'trialEndsAt');
      next.configVersion = t.configVersion + (participantsCare ? 1 : 0);
      next.updatedAt = new Date();
      return {
        tenant: next,
        announce: (after) => [
          auditFact(after, 'tenant.updated', {
            changed,
            before: Object.fromEntries(changed.map((f) => [f, t[f] ?? null])),
            after: Object.fromEntries(changed.map((f) => [f, next[f] ?? null])),
          }),
          tenantEvent('updated', after),
        ],
      };
    });
    if (!result) throw TenantErrors.notFound(id);
    if (result.changed) await this.afterChange(result.record);
    return toContract(result.record);
  }

  /**
   * Moves the tenant to another plan. `now`: every participant counts what the tenant uses,
   * and a limit of the new plan (with the tenant's overrides) below it refuses the change
   * (CONFLICT, TENANT_PLAN_DOWNGRADE_REFUSED, naming each limit, the usage and the new limit);
   * a participant that does not answer makes it SERVICE_UNAVAILABLE. The tenant's own plan
   * `now` cancels a scheduled change. `period-end`: stored as the pending change, applied at
   * `effectiveAt` (default: the first day of next month, UTC) by the maintenance loop, with
   * the same check.
   */
  async changePlan(request: ChangePlanRequest): Promise<Tenant> {
    const current = await this.record(request.id);
    const t = current.tenant;
    if (!PLAN_CHANGE_STATUSES.includes(t.status))
      throw TenantErrors.statusConflict(t, 'a plan change', PLAN_CHANGE_STATUSES);
    const plan = await this.plans.entity(request.plan, undefined, 'plan');
    if (request.when === 'period-end') return this.schedulePlanChange(current, plan, request);
    if (plan.key === t.plan) {
      if (!t.pendingPlanChange) return toContract(current);
      return this.cancelScheduledPlanChange(current);
    }
    const violations = await this.usageViolations(current, plan);
    if (violations.length) {
      throw TenantErrors.planDowngradeRefused(
        t.slug,
        plan.key,
        violations.map((v) => describeViolation(plan.key, v)),
        violations.map((v) => `limits.${v.key}`),
      );
    }
    const changed = await this.movePlan(request.id, plan, { when: 'now' });
    return toContract(changed ?? (await this.record(request.id)));
  }

  /**
   * Moves the tenant to `to` when it is in one of `opts.from` (else CONFLICT,
   * TENANT_STATUS_CONFLICT, naming the current and expected statuses), in one transaction
   * with the audit fact (`tenant.activated`, `.reactivated`, `.deprovision-cancelled` (from
   * `deprovisioning` back to `active` or `suspended`), `.suspended`, `.failed`,
   * `.deprovisioning`, `.deleted`, `.provisioning`; those leaving the tenant without a log of
   * its own, failed, deleted or provisioning again, in the platform's) and the matching
   * TenantEvents event; then writes the access state. A tenant already in `to` is returned as
   * it is (a retried step changes nothing and announces nothing).
   */
  async transition(id: string, to: TenantStatus, opts: TransitionOptions): Promise<Tenant> {
    const result = await this.tenants.mutate(id, ({ tenant: t }) => {
      if (t.status === to) return null;
      if (!opts.from.includes(t.status))
        throw TenantErrors.statusConflict(t, `moving it to ${to}`, opts.from);
      const kind = transitionKind(t.status, to);
      const next = Object.assign(new TenantEntity(), t, {
        status: to,
        statusReason: opts.reason ?? null,
        runId: opts.runId ?? t.runId,
        deleteAfter: opts.deleteAfter === undefined ? t.deleteAfter : opts.deleteAfter,
        updatedAt: new Date(),
      });
      return {
        tenant: next,
        announce: (after) => [
          auditFact(after, `tenant.${kind.action}`, {
            from: t.status,
            to,
            ...(next.statusReason ? { reason: next.statusReason } : {}),
            ...(next.runId ? { runId: next.runId } : {}),
            ...(next.deleteAfter ? { deleteAfter: next.deleteAfter.toISOString() } : {}),
          }),
          tenantEvent(kind.event, after),
        ],
      };
    });
    if (!result) throw TenantErrors.notFound(id);
    if (result.changed) {
      this.outbox.kick();
      await this.publishAccess(result.record).catch(() => undefined);
    }
    return toContract(result.record);
  }

  /**
   * Deletes the tenant's rows in the tenants database (organizations, …) in the caller's
   * transaction, by table; the tenant row stays (status `deleted` frees its slug).
   */
  removeTenantData(manager: EntityManager, id: string): Promise<Record<string, number>> {
    return this.removers.removeAll(manager, id);
  }

  /** The tenant's rows in the tenants database besides the tenant itself (organizations, …), by table: for its export before deletion. */
  exportTenantData(id: string): Promise<Record<string, unknown[]>> {
    return this.removers.exportAll(id);
  }

  // ---- the maintenance loop's work (TenantMaintenance) ----

  /**
   * Applies the plan changes due at `now`. One the usage still refuses stays pending, its
   * reason logged and audited (`tenant.plan-change-deferred`, once per reason) and checked
   * again after a while; one whose participants do not answer is tried on the next pass.
   */
  async applyDuePlanChanges(now = new Date()): Promise<{ applied: number; deferred: number }> {
    let applied = 0;
    let deferred = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.tenants.duePlanChanges(now, PAGE, after);
      for (const record of page) {
        const outcome = await this.applyPlanChange(record, now).catch((error: unknown) => {
          this.logger.warn(
            `the plan change of tenant ${record.tenant.slug} (${record.tenant.id}) waits: ${(error as Error).message}`,
          );
          return 'waiting' as const;
        });
        if (outcome === 'applied') applied++;
        if (outcome === 'deferred') deferred++;
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.tenant.id;
    }
    return { applied, deferred };
  }

  /** Configures the participants of every tenant whose profile they hold an older version of. */
  async configureBehind(): Promise<{ configured: number; failed: number }> {
    let configured = 0;
    let failed = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.tenants.configurationBehind(PAGE, after);
      for (const record of page) {
        if (await this.configure(record)) configured++;
        else failed++;
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.tenant.id;
    }
    return { configured, failed };
  }

  /** Writes the access state of every tenant changed since `since` (every tenant when null); throws if one failed. */
  async republishAccess(since: Date | null): Promise<number> {
    let published = 0;
    const failures: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.tenants.changedSince(since, PAGE, after);
      for (const record of page) {
        try {
          if (await this.access.publish(accessOf(record))) published++;
        } catch (error) {
          failures.push(`${record.tenant.id}: ${(error as Error).message}`);
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.tenant.id;
    }
    if (failures.length) {
      throw new Error(
        `${failures.length} access state(s) not written: ${failures.slice(0, 3).join('; ')}`,
      );
    }
    return published;
  }

  // ---- internals ----

  private async record(id: string): Promise<TenantRecord> {
    const record = await this.tenants.findById(id);
    if (!record) throw TenantErrors.notFound(id);
    return record;
  }

  /** The limits of `plan` (with the tenant's overrides) that what the participants count exceeds. */
  private async usageViolations(record: TenantRecord, plan: PlanEntity): Promise<QuotaViolation[]> {
    const usage = await this.participants.usage(record.tenant.id);
    return quotaViolations(usage, effectiveLimits(plan.quotas, record.tenant.limitOverrides));
  }

  private async schedulePlanChange(
    current: TenantRecord,
    plan: PlanEntity,
    request: ChangePlanRequest,
  ): Promise<Tenant> {
    const t = current.tenant;
    if (plan.key === t.plan) throw TenantErrors.samePlanScheduled(t.slug, plan.key);
    const now = new Date();
    const at = request.effectiveAt ? new Date(request.effectiveAt) : firstOfNextMonth(now);
    if (at.getTime() <= now.getTime()) throw TenantErrors.effectiveAtPast(at.toISOString());
    const pending: StoredPlanChange = { plan: plan.key, at: at.toISOString() };
    const result = await this.tenants.mutate(t.id, ({ tenant: locked }) => {
      if (!PLAN_CHANGE_STATUSES.includes(locked.status))
        throw TenantErrors.statusConflict(locked, 'a plan change', PLAN_CHANGE_STATUSES);
      const next = Object.assign(new TenantEntity(), locked, {
        pendingPlanChange: pending,
        updatedAt: new Date(),
      });
      return {
        tenant: next,
        announce: (after) => [
          auditFact(after, 'tenant.plan-change-scheduled', {
            from: locked.plan,
            to: plan.key,
            at: pending.at,
          }),
          tenantEvent('updated', after),
        ],
      };
    });
    if (!result) throw TenantErrors.notFound(t.id);
    this.outbox.kick();
    return toContract(result.record);
  }

  private async cancelScheduledPlanChange(current: TenantRecord): Promise<Tenant> {
    const result = await this.tenants.mutate(current.tenant.id, ({ tenant: locked }) => {
      if (!locked.pendingPlanChange) return null;
      const cancelled = locked.pendingPlanChange;
      const next = Object.assign(new TenantEntity(), locked, {
        pendingPlanChange: null,
        updatedAt: new Date(),
      });
      return {
        tenant: next,
        announce: (after) => [
          auditFact(after, 'tenant.plan-change-cancelled', {
            plan: cancelled.plan,
            at: cancelled.at,
          }),
          tenantEvent('updated', after),
        ],
      };
    });
    if (!result) throw TenantErrors.notFound(current.tenant.id);
    if (result.changed) this.outbox.kick();
    return toContract(result.record);
  }

  /**
   * Puts the tenant on `plan` (clearing any pending change), audited `tenant.plan-changed`;
   * then configures the participants and writes the access state. `expect` guards the
   * applier: the pending change it checked must still be the one stored. Null when nothing
   * changed.
   */
  private async movePlan(
    id: string,
    plan: PlanEntity,
    how: { when: 'now' } | { when: 'period-end'; expect: StoredPlanChange },
  ): Promise<TenantRecord | null> {
    const result = await this.tenants.mutate(id, ({ tenant: locked }) => {
      if (how.when === 'period-end') {
        const stored = locked.pendingPlanChange;
        if (stored?.plan !== how.expect.plan || stored.at !== how.expect.at) return null;
        if (!PLAN_CHANGE_STATUSES.includes(locked.status)) return null;
      } else if (!PLAN_CHANGE_STATUSES.includes(locked.status)) {
        throw TenantErrors.statusConflict(locked, 'a plan change', PLAN_CHANGE_STATUSES);
      }
      const next = Object.assign(new TenantEntity(), locked, {
        plan: plan.key,
        pendingPlanChange: null,
        configVersion: locked.configVersion + 1,
        updatedAt: new Date(),
      });
      return {
        tenant: next,
        announce: (after) => [
          auditFact(after, 'tenant.plan-changed', {
            from: locked.plan,
            to: plan.key,
            when: how.when,
            ...(how.when === 'period-end' ? { scheduledAt: how.expect.at } : {}),
          }),
          tenantEvent('updated', after),
        ],
      };
    });
    if (!result) throw TenantErrors.notFound(id);
    if (!result.changed) return null;
    await this.afterChange(result.record);
    return result.record;
  }

  private async applyPlanChange(
    record: TenantRecord,
    now: Date,
  ): Promise<'applied' | 'deferred' | 'waiting'> {
    const t = record.tenant;
    const pending = t.pendingPlanChange!;
    if (
      pending.refusal &&
      pending.checkedAt &&
      now.getTime() - Date.parse(pending.checkedAt) < RECHECK_REFUSED_MS
    )
      return 'waiting';
    const plan = await this.plans.entity(pending.plan);
    const violations = await this.usageViolations(record, plan);
    if (violations.length) {
      const refusal = violations.map((v) => describeViolation(plan.key, v)).join('; ');
      const events: OutboxMessage[] = [];
      if (refusal !== pending.refusal) {
        this.logger.warn(
          `the plan change of tenant ${t.slug} (${t.id}) to ${plan.key} stays pending: ${refusal}`,
        );
        events.push(
          auditFact(
            record,
            'tenant.plan-change-deferred',
            { from: t.plan, to: plan.key, at: pending.at, reason: refusal },
            'failure',
          ),
        );
      }
      await this.tenants.deferPlanChange(
        t.id,
        { plan: pending.plan, at: pending.at, refusal, checkedAt: now.toISOString() },
        events,
      );
      if (events.length) this.outbox.kick();
      return 'deferred';
    }
    const moved = await this.movePlan(t.id, plan, {
      when: 'period-end',
      expect: { plan: pending.plan, at: pending.at },
    });
    return moved ? 'applied' : 'waiting';
  }

  /** After a change the participants must hear of: outbox, configure, access state. */
  private async afterChange(record: TenantRecord): Promise<void> {
    this.outbox.kick();
    if (
      record.tenant.configuredVersion < record.tenant.configVersion ||
      record.tenant.configuredPlanVersion < record.plan.version
    ) {
      await this.configure(record);
    }
    await this.publishAccess(record).catch(() => undefined);
  }

  /**
   * Tells every participant the tenant's profile and records the versions they hold. False
   * when one failed (logged; the maintenance loop tries again). Tenants still provisioning
   * are told by their bootstrap, failed and deleted ones nothing.
   */
  private async configure(record: TenantRecord): Promise<boolean> {
    if (!CONFIGURED_STATUSES.includes(record.tenant.status)) return false;
    try {
      const failures = await this.participants.configure(profileOf(record));
      if (failures.length) {
        this.logger.warn(
          `configuring tenant ${record.tenant.slug} (${record.tenant.id}) failed, will retry: ${failures
            .map((f) => `${f.service}: ${f.message}`)
            .join('; ')}`,
        );
        return false;
      }
      await this.tenants.markConfigured(
        record.tenant.id,
        record.tenant.configVersion,
        record.plan.version,
      );
      return true;
    } catch (error) {
      this.logger.warn(
        `configuring tenant ${record.tenant.id} failed, will retry: ${(error as Error).message}`,
      );
      return false;
    }
  }

  private async publishAccess(record: TenantRecord): Promise<void> {
    try {
      await this.access.publish(accessOf(record));
    } catch (error) {
      this.logger.warn(
        `writing the access state of tenant ${record.tenant.id} failed, will retry: ${(error as Error).message}`,
      );
      throw error;
    }
  }
}

const UPDATE_FIELDS = ['name', 'settings', 'limitOverrides', 'trialEndsAt'] as const;

/** The audit action and event of a status change. */
function transitionKind(
  from: TenantStatus,
  to: TenantStatus,
): { action: string; event: keyof typeof TenantEvents } {
  if (from === 'deprovisioning' && (to === 'active' || to === 'suspended')) {
    // The scheduled deletion was cancelled: back to where the tenant was.
    return {
      action: 'deprovision-cancelled',
      event: to === 'active' ? 'reactivated' : 'suspended',
    };
  }
  switch (to) {
    case 'active':
      if (from === 'provisioning') return { action: 'activated', event: 'activated' };
      return { action: 'reactivated', event: 'reactivated' };
    case 'provisioning':
      return { action: 'provisioning', event: 'updated' };
    default:
      return { action: to, event: to };
  }
}

function firstOfNextMonth(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

function factsOf(plan: PlanEntity): PlanFacts {
  return {
    quotas: plan.quotas,
    features: plan.features,
    roles: plan.roles,
    version: plan.version,
    updatedAt: plan.updatedAt,
  };
}

/**
 * Whose audit log records a fact about the tenant: its own while it has one (from its
 * genesis during provisioning to its removal), the platform's while it has none: still
 * provisioning, failed (compensation purged it) or deleted.
 */
function auditChainOf(tenant: Pick<TenantEntity, 'id' | 'status'>): string {
  return ['provisioning', 'failed', 'deleted'].includes(tenant.status)
    ? PLATFORM_TENANT_ID
    : tenant.id;
}

/** An audit fact about the tenant, in the log `auditChainOf` its status (after the change) picks. */
function auditFact(
  record: TenantRecord,
  action: string,
  data: Record<string, unknown>,
  outcome: 'success' | 'failure' = 'success',
): OutboxMessage {
  return outboxAuditFact({
    tenantId: auditChainOf(record.tenant),
    category: 'tenants',
    action,
    outcome,
    target: { type: 'tenant', id: record.tenant.id },
    data: { slug: record.tenant.slug, ...data },
    service: 'tenants',
  });
}

function tenantEvent(kind: keyof typeof TenantEvents, record: TenantRecord): OutboxMessage {
  const tenant = toContract(record);
  const event = TenantEvents[kind];
  return outboxEvent(
    event.schema,
    event.subject,
    tenant,
    `tenant-${kind}:${tenant.id}:${tenant.updatedAt}`,
    messageContext.current(),
  );
}

/** The tenant as the contracts describe it. */
export function toContract({ tenant: t, plan }: TenantRecord): Tenant {
  return {
    id: t.id,
    name: t.name,
    slug: t.slug,
    status: t.status,
    statusReason: t.statusReason,
    plan: t.plan,
    region: t.region,
    isolation: t.isolation,
    settings: mergeSettings(t.settings),
    limitOverrides: t.limitOverrides,
    limits: effectiveLimits(plan.quotas, t.limitOverrides),
    features: plan.features,
    pendingPlanChange: t.pendingPlanChange
      ? { plan: t.pendingPlanChange.plan, at: t.pendingPlanChange.at }
      : null,
    runId: t.runId,
    trialEndsAt: t.trialEndsAt?.toISOString() ?? null,
    deleteAfter: t.deleteAfter?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

/** What the participants are told (TenantProfileSchema). */
export function profileOf({ tenant: t, plan }: TenantRecord): TenantProfile {
  return {
    tenantId: t.id,
    slug: t.slug,
    name: t.name,
    plan: t.plan,
    settings: mergeSettings(t.settings),
    limits: effectiveLimits(plan.quotas, t.limitOverrides),
    features: plan.features,
    roles: plan.roles,
  };
}

/** The tenant's entry in the TENANT_ACCESS bucket; as new as its row or its plan, whichever changed last. */
export function accessOf({ tenant: t, plan }: TenantRecord): TenantAccess {
  const limits = effectiveLimits(plan.quotas, t.limitOverrides);
  const updatedAt = Math.max(t.updatedAt.getTime(), plan.updatedAt.getTime());
  return {
    tenantId: t.id,
    status: t.status,
    statusReason: t.statusReason,
    ipAllowList: mergeSettings(t.settings).ipAllowList,
    apiCallsPerMinute: limits.apiCallsPerMinute,
    apiCallsPerDay: limits.apiCallsPerDay,
    updatedAt: new Date(updatedAt).toISOString(),
  };
}
