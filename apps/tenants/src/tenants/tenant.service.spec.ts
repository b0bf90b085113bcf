import { jest } from '@jest/globals';
import { ErrorCode, type TenantProfile } from '@tenantry/contracts';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import { TenantAccessPublisher } from '../access/tenant-access.publisher.js';
import { PlanEntity } from '../plans/plan.entity.js';
import { PlanService } from '../plans/plan.service.js';
import { TenantDataRemovers } from './tenant-data.js';
import { TenantParticipants } from './tenant-participants.js';
import { TenantEntity } from './tenant.entity.js';
import { TenantErrors } from './tenant.errors.js';
import { TenantRepository, type TenantRecord } from './tenant.repository.js';
import { TenantService } from './tenant.service.js';

const QUOTAS = {
  free: {
    users: 5,
    apiCallsPerMinute: 60,
    apiCallsPerDay: 10_000,
    storageMb: 100,
    customRoles: 0,
    ssoConnections: 0,
    meteredUnitsPerMonth: 1_000,
    auditRetentionDays: 30,
  },
  professional: {
    users: 250,
    apiCallsPerMinute: 1_200,
    apiCallsPerDay: 1_000_000,
    storageMb: 10_240,
    customRoles: 20,
    ssoConnections: 3,
    meteredUnitsPerMonth: 100_000,
    auditRetentionDays: 365,
  },
};

function plan(key: 'free' | 'professional'): PlanEntity {
  return Object.assign(new PlanEntity(), {
    key,
    position: 0,
    name: key,
    description: '',
    quotas: QUOTAS[key],
    features: ['mfa'],
    roles: ['tenant-admin'],
    version: 1,
    updatedAt: new Date('2026-01-01T00:00:00Z'),
  });
}

function tenant(overrides: Partial<TenantEntity> = {}): TenantEntity {
  const at = new Date('2026-01-01T00:00:00Z');
  return Object.assign(new TenantEntity(), {
    id: '0193a0f0-0000-7000-8000-000000000001',
    name: 'Acme',
    slug: 'acme',
    status: 'active',
    statusReason: null,
    plan: 'professional',
    region: 'local',
    isolation: 'rls',
    settings: {},
    limitOverrides: {},
    pendingPlanChange: null,
    runId: null,
    trialEndsAt: null,
    deleteAfter: null,
    configVersion: 1,
    configuredVersion: 1,
    configuredPlanVersion: 1,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  });
}

/** A TenantService over one tenant held in memory, with participants that count `usage`. */
function setup(
  options: { row?: TenantEntity; usage?: Record<string, number>; identityDown?: boolean } = {},
) {
  let row = options.row ?? tenant();
  const committed: OutboxMessage[] = [];
  const configured: TenantProfile[] = [];
  const plans = { free: plan('free'), professional: plan('professional') };
  const record = (): TenantRecord => ({
    tenant: row,
    plan: { ...plans[row.plan as 'free' | 'professional'] },
  });
  const repository = double(TenantRepository, {
    findById: async (id) => (id === row.id ? record() : null),
    mutate: async (id, change) => {
      if (id !== row.id) return null;
      const mutation = change(record());
      if (!mutation) return { record: record(), changed: false };
      row = mutation.tenant;
      committed.push(...mutation.announce(record()));
      return { record: record(), changed: true };
    },
    markConfigured: async () => undefined,
  });
  const participants = double(TenantParticipants, {
    usage: async () => {
      if (options.identityDown)
        throw TenantErrors.participantsUnavailable([
          { service: 'identity', message: 'the identity service is not available' },
        ]);
      return options.usage ?? {};
    },
    configure: async (profile) => {
      configured.push(profile);
      return [];
    },
  });
  const service = new TenantService(
    repository,
    double(PlanService, {
      entity: async (key) => plans[key as 'free' | 'professional'],
    }),
    participants,
    double(TenantAccessPublisher, { publish: async () => true }),
    new TenantDataRemovers(),
    double(Outbox, { kick: jest.fn<() => void>() }),
    { regions: ['local', 'eu-central'], maintenanceIntervalMs: 10_000 },
  );
  return { service, committed, configured, current: () => row };
}

describe('TenantService', () => {
  it('refuses a downgrade below current usage, naming the limit, the usage and the new limit', async () => {
    const { service, committed } = setup({ usage: { users: 7, ssoConnections: 2 } });
    const error = await service
      .changePlan({ id: tenant().id, plan: 'free', when: 'now' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_PLAN_DOWNGRADE_REFUSED',
      errors: [
        {
          field: 'limits.users',
          message: 'the plan free allows 5 users (limit users); the tenant has 7',
        },
        {
          field: 'limits.ssoConnections',
          message:
            'the plan free allows 0 SSO connections (limit ssoConnections); the tenant has 2',
        },
      ],
    });
    expect((error as Error).message).toContain('schedule the change with when: period-end');
    expect(committed).toHaveLength(0);
  });

  it('changes the plan when the usage fits, audits it, and configures the participants', async () => {
    const { service, committed, configured } = setup({ usage: { users: 3 } });
    const changed = await service.changePlan({ id: tenant().id, plan: 'free', when: 'now' });
    expect(changed).toMatchObject({ plan: 'free', limits: { users: 5 }, pendingPlanChange: null });
    expect(committed.map((m) => m.subject)).toEqual([
      `audit.${tenant().id}.tenants`,
      'evt.tenants.tenant.updated',
    ]);
    expect(committed[0]!.payload).toMatchObject({
      action: 'tenant.plan-changed',
      data: { from: 'professional', to: 'free', when: 'now' },
    });
    expect(configured).toEqual([expect.objectContaining({ plan: 'free', limits: QUOTAS.free })]);
  });

  it('says SERVICE_UNAVAILABLE, naming the participant, when one does not answer the usage check', async () => {
    const { service } = setup({ identityDown: true });
    await expect(
      service.changePlan({ id: tenant().id, plan: 'free', when: 'now' }),
    ).rejects.toMatchObject({
      code: ErrorCode.ServiceUnavailable,
      reason: 'TENANT_PARTICIPANT_UNAVAILABLE',
      message: expect.stringContaining('identity did not answer'),
    });
  });

  it('schedules a change for the period end without asking the participants', async () => {
    const { service, current } = setup({ identityDown: true });
    const scheduled = await service.changePlan({
      id: tenant().id,
      plan: 'free',
      when: 'period-end',
    });
    const at = new Date(scheduled.pendingPlanChange!.at);
    expect(scheduled).toMatchObject({ plan: 'professional', pendingPlanChange: { plan: 'free' } });
    expect(at.getUTCDate()).toBe(1);
    expect(at.getTime()).toBeGreaterThan(Date.now());
    expect(current().pendingPlanChange).toEqual({ plan: 'free', at: at.toISOString() });
    await expect(
      service.changePlan({
        id: tenant().id,
        plan: 'free',
        when: 'period-end',
        effectiveAt: '2020-01-01T00:00:00Z',
      }),
    ).rejects.toMatchObject({
      reason: 'TENANT_PLAN_CHANGE_INVALID',
      errors: [{ field: 'effectiveAt' }],
    });
  });

  it('guards a transition, naming the current and the expected statuses', async () => {
    const { service } = setup({ row: tenant({ status: 'suspended' }) });
    await expect(
      service.transition(tenant().id, 'active', { from: ['provisioning'] }),
    ).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_STATUS_CONFLICT',
      message: `tenant acme (${tenant().id}) is suspended: moving it to active needs it to be provisioning`,
    });
  });

  it('moves a tenant through its life with the matching audit action and event; a retry changes nothing', async () => {
    const { service, committed } = setup({ row: tenant({ status: 'provisioning' }) });
    const active = await service.transition(tenant().id, 'active', { from: ['provisioning'] });
    expect(active.status).toBe('active');
    const suspended = await service.transition(tenant().id, 'suspended', {
      from: ['active'],
      reason: 'unpaid invoices',
    });
    expect(suspended).toMatchObject({ status: 'suspended', statusReason: 'unpaid invoices' });
    await service.transition(tenant().id, 'suspended', { from: ['active'] });
    const deleteAfter = new Date('2030-01-01T00:00:00Z');
    await service.transition(tenant().id, 'deprovisioning', {
      from: ['suspended'],
      deleteAfter,
    });
    const deleted = await service.transition(tenant().id, 'deleted', { from: ['deprovisioning'] });
    expect(deleted.deleteAfter).toBe(deleteAfter.toISOString());
    const audits = committed.filter((m) => m.subject.startsWith('audit.'));
    expect(audits.map((m) => (m.payload as { action: string }).action)).toEqual([
      'tenant.activated',
      'tenant.suspended',
      'tenant.deprovisioning',
      'tenant.deleted',
    ]);
    // The deleted tenant's own chain is purged: its deletion is recorded in the platform's.
    expect(audits[3]!.subject).toBe('audit.00000000-0000-0000-0000-000000000000.tenants');
    expect(committed.filter((m) => m.subject.startsWith('evt.')).map((m) => m.subject)).toEqual([
      'evt.tenants.tenant.activated',
      'evt.tenants.tenant.suspended',
      'evt.tenants.tenant.deprovisioning',
      'evt.tenants.tenant.deleted',
    ]);
  });

  it('records a failure in the platform log (the tenant has none left) and a cancelled deletion as such', async () => {
    const failing = setup({ row: tenant({ status: 'provisioning' }) });
    await failing.service.transition(tenant().id, 'failed', {
      from: ['provisioning'],
      reason: 'identity-bootstrap: the identity service is not available',
    });
    expect(failing.committed[0]).toMatchObject({
      subject: 'audit.00000000-0000-0000-0000-000000000000.tenants',
      payload: { action: 'tenant.failed', target: { id: tenant().id } },
    });

    const cancelled = setup({ row: tenant({ status: 'deprovisioning' }) });
    await cancelled.service.transition(tenant().id, 'suspended', {
      from: ['deprovisioning'],
      deleteAfter: null,
    });
    expect(cancelled.committed.map((m) => m.subject)).toEqual([
      `audit.${tenant().id}.tenants`,
      'evt.tenants.tenant.suspended',
    ]);
    expect(cancelled.committed[0]!.payload).toMatchObject({
      action: 'tenant.deprovision-cancelled',
    });
  });

  it('checks a new tenant: region served, rls isolation only, networks that parse', () => {
    const { service } = setup();
    const base = { name: 'Acme', slug: 'acme', plan: 'free' as const, isolation: 'rls' as const };
    expect(service.checkCreateRequest(base)).toMatchObject({
      region: 'local',
      settings: { ssoRequired: false },
    });
    expect(() => service.checkCreateRequest({ ...base, region: 'mars' })).toThrow(
      'region "mars" is not served by this installation; it serves local, eu-central',
    );
    expect(() => service.checkCreateRequest({ ...base, isolation: 'schema' })).toThrow(
      /keeps every tenant in shared tables under row-level security/,
    );
    expect(() =>
      service.checkCreateRequest({ ...base, settings: { ipAllowList: ['10.0.0.1/8'] } }),
    ).toThrow(
      'invalid settings: settings.ipAllowList.0: "10.0.0.1/8" has bits set after the /8 prefix',
    );
  });
});
