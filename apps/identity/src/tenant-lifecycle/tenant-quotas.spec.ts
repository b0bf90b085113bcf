import {
  AppError,
  DEFAULT_TENANT_SETTINGS,
  ErrorCode,
  QUOTA_KEYS,
  type Quotas,
} from '@tenantry/contracts';
import { TenantTransactions } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import type { EntityManager } from 'typeorm';
import { authSettingsOf, changedAuthSettings } from './tenant-lifecycle.service.js';
import { TenantProfileRepository, type StoredTenantProfile } from './tenant-profile.repository.js';
import { TenantQuotas } from './tenant-quotas.js';

const TENANT = '0193a0f0-0000-7000-8000-00000000000b';
const manager = {} as EntityManager;

function profile(limits: Partial<Quotas>, features: string[] = ['sso']): StoredTenantProfile {
  const now = new Date();
  return {
    tenantId: TENANT,
    slug: 'acme',
    name: 'Acme',
    plan: 'free',
    limits: { ...(Object.fromEntries(QUOTA_KEYS.map((k) => [k, null])) as Quotas), ...limits },
    features: features as StoredTenantProfile['features'],
    roles: ['tenant-admin'],
    settings: DEFAULT_TENANT_SETTINGS,
    adminUserId: null,
    bootstrapRunId: null,
    createdAt: now,
    updatedAt: now,
  };
}

function quotas(stored: StoredTenantProfile | null, users = 0, ssoConnections = 0) {
  const locked: boolean[] = [];
  const repository = double(TenantProfileRepository, {
    find: async (_manager, tenantId, lock) => {
      expect(tenantId).toBe(TENANT);
      locked.push(lock ?? false);
      return stored;
    },
    countUsers: async () => users,
    countSsoConnections: async () => ssoConnections,
  });
  return { quotas: new TenantQuotas(repository, double(TenantTransactions)), locked };
}

async function refusal(work: Promise<unknown>): Promise<AppError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('tenant quotas', () => {
  it('lets anything through for a tenant without a profile (older tenants, the platform)', async () => {
    const { quotas: q } = quotas(null, 1_000, 1_000);
    await expect(q.checkUsers(manager, TENANT)).resolves.toBeUndefined();
    await expect(q.checkSsoConnections(manager, TENANT)).resolves.toBeUndefined();
  });

  it('refuses a user past the limit, naming the plan, the limit and the count, under the profile lock', async () => {
    const { quotas: q, locked } = quotas(profile({ users: 10 }), 10);
    const error = await refusal(q.checkUsers(manager, TENANT));
    expect(error).toMatchObject({ code: ErrorCode.Conflict, reason: 'QUOTA_EXCEEDED' });
    expect(error.message).toBe(
      "the tenant's plan (free) allows 10 users (limit users) and the tenant has 10: remove some first, or move the tenant to a plan (or a limit override) that allows more",
    );
    expect(locked).toEqual([true]);
    await expect(
      quotas(profile({ users: 10 }), 9).quotas.checkUsers(manager, TENANT),
    ).resolves.toBeUndefined();
    expect(
      (await refusal(quotas(profile({ users: 10 }), 8).quotas.checkUsers(manager, TENANT, 3)))
        .message,
    ).toContain('the tenant has 8; this would add 3');
    await expect(
      quotas(profile({ users: null }), 1e6).quotas.checkUsers(manager, TENANT),
    ).resolves.toBeUndefined();
  });

  it('refuses SSO connections without the sso feature, and past the limit', async () => {
    const featureless = await refusal(
      quotas(profile({}, [])).quotas.checkSsoConnections(manager, TENANT),
    );
    expect(featureless).toMatchObject({ code: ErrorCode.Forbidden, reason: 'FEATURE_NOT_IN_PLAN' });
    expect(featureless.message).toContain('single sign-on (feature sso)');
    const full = await refusal(
      quotas(profile({ ssoConnections: 1 }), 0, 1).quotas.checkSsoConnections(manager, TENANT),
    );
    expect(full.message).toContain(
      'allows 1 SSO connection (limit ssoConnections) and the tenant has 1',
    );
    await expect(
      quotas(profile({ ssoConnections: 2 }), 0, 1).quotas.checkSsoConnections(manager, TENANT),
    ).resolves.toBeUndefined();
  });

  it('turns the tenant settings into auth settings: SSO and MFA required, the idle timeout in seconds', () => {
    expect(
      authSettingsOf({
        ...DEFAULT_TENANT_SETTINGS,
        ssoRequired: true,
        mfaRequired: true,
        sessionTimeoutMinutes: 30,
      }),
    ).toEqual({ ssoRequired: true, mfaRequired: true, sessionIdleTimeoutSeconds: 1800 });
  });

  it("applies only the auth settings a change of the tenant's settings changed (an admin's own stay)", () => {
    const before = { ...DEFAULT_TENANT_SETTINGS, sessionTimeoutMinutes: 30 };
    expect(changedAuthSettings(null, before)).toEqual({
      ssoRequired: false,
      mfaRequired: false,
      sessionIdleTimeoutSeconds: 1800,
    });
    expect(changedAuthSettings(before, { ...before, ipAllowList: ['10.0.0.0/8'] })).toEqual({});
    expect(changedAuthSettings(before, { ...before, mfaRequired: true })).toEqual({
      mfaRequired: true,
    });
  });
});
