import type { Quotas } from '@tenantry/contracts';
import {
  describeViolation,
  effectiveLimits,
  mergeUsage,
  quotaViolations,
} from './tenant-limits.js';
import {
  cidrProblem,
  mergeSettings,
  retentionProblem,
  settingsProblems,
} from './tenant-settings.js';

const STARTER: Quotas = {
  users: 25,
  apiCallsPerMinute: 300,
  apiCallsPerDay: 100_000,
  storageMb: 1_024,
  customRoles: 0,
  ssoConnections: 1,
  meteredUnitsPerMonth: 10_000,
  auditRetentionDays: 90,
};

describe('effective limits', () => {
  it("are the plan's quotas with the tenant's overrides, null meaning unlimited", () => {
    expect(effectiveLimits(STARTER, {})).toEqual(STARTER);
    expect(effectiveLimits(STARTER, { users: 40, ssoConnections: null })).toEqual({
      ...STARTER,
      users: 40,
      ssoConnections: null,
    });
  });

  it('name every limit the usage exceeds, and nothing unlimited or uncounted', () => {
    const limits = effectiveLimits(STARTER, { customRoles: null });
    const usage = mergeUsage([{ users: 30 }, { customRoles: 50 }, { ssoConnections: 1, other: 9 }]);
    const violations = quotaViolations(usage, limits);
    expect(violations).toEqual([{ key: 'users', limit: 25, usage: 30 }]);
    expect(describeViolation('starter', violations[0]!)).toBe(
      'the plan starter allows 25 users (limit users); the tenant has 30',
    );
    expect(quotaViolations({ users: 25 }, limits)).toEqual([]);
  });

  it('adds up what several services count of the same thing', () => {
    expect(mergeUsage([{ users: 2 }, { users: 3, customRoles: 1 }])).toEqual({
      users: 5,
      customRoles: 1,
    });
  });
});

describe('tenant settings', () => {
  it('merge a patch over the defaults', () => {
    expect(mergeSettings(undefined, { mfaRequired: true })).toMatchObject({
      mfaRequired: true,
      ssoRequired: false,
      sessionTimeoutMinutes: 10_080,
    });
  });

  it('accept real IPv4 and IPv6 networks', () => {
    for (const ok of [
      '10.0.0.0/8',
      '203.0.113.7',
      '2001:db8::/32',
      '::1',
      '::ffff:10.0.0.0/104',
      '0.0.0.0/0',
    ]) {
      expect(cidrProblem(ok)).toBeUndefined();
    }
  });

  it('name what is wrong with a network', () => {
    expect(cidrProblem('10.0.0.300/8')).toMatch(/is not an IP network in CIDR notation/);
    expect(cidrProblem('10.0.0.0/33')).toMatch(/prefix \/33 is longer than the 32 bits/);
    expect(cidrProblem('10.1.0.0/8')).toBe('"10.1.0.0/8" has bits set after the /8 prefix');
    expect(cidrProblem('2001:db8::1/32')).toMatch(/bits set after the \/32 prefix/);
    expect(settingsProblems({ ipAllowList: ['10.0.0.0/8', '999.1.1.1'] })).toEqual([
      { field: 'settings.ipAllowList.1', message: expect.stringContaining('"999.1.1.1"') },
    ]);
  });

  it("refuse an audit retention longer than the plan's, naming the limit", () => {
    const settings = mergeSettings(undefined, { auditRetentionDays: 400 });
    expect(retentionProblem(settings, 365)).toEqual([
      {
        field: 'settings.auditRetentionDays',
        message: expect.stringContaining('must be at most 365 days'),
      },
    ]);
    expect(retentionProblem(settings, 400)).toEqual([]);
    expect(retentionProblem(settings, null)).toEqual([]);
    expect(retentionProblem(mergeSettings(), 30)).toEqual([]);
  });
});
