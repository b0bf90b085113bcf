import { QUOTA_KEYS, type QuotaKey, type QuotaOverrides, type Quotas } from '@tenantry/contracts';

/** How a limit reads in a sentence: "the plan allows 10 users (limit users)". */
export const QUOTA_LABELS: Readonly<Record<QuotaKey, string>> = {
  users: 'users',
  apiCallsPerMinute: 'API calls per minute',
  apiCallsPerDay: 'API calls per day',
  storageMb: 'MB of storage',
  customRoles: 'custom roles',
  ssoConnections: 'SSO connections',
  meteredUnitsPerMonth: 'metered units per month',
  auditRetentionDays: 'days of audit retention',
};

/** The limits enforced for a tenant: its plan's quotas, each replaced by the tenant's override when it has one. */
export function effectiveLimits(quotas: Quotas, overrides: QuotaOverrides): Quotas {
  const limits = {} as Quotas;
  for (const key of QUOTA_KEYS) {
    limits[key] = key in overrides ? (overrides[key] ?? null) : (quotas[key] ?? null);
  }
  return limits;
}

/** A limit the tenant's current usage exceeds. */
export interface QuotaViolation {
  key: QuotaKey;
  limit: number;
  usage: number;
}

/**
 * The limits `usage` (what the participants counted: `users`, `ssoConnections`,
 * `customRoles`, …) exceeds; unlimited (null) limits and counts of things without a limit
 * are never exceeded.
 */
export function quotaViolations(usage: Record<string, number>, limits: Quotas): QuotaViolation[] {
  const violations: QuotaViolation[] = [];
  for (const key of QUOTA_KEYS) {
    const limit = limits[key];
    const used = usage[key];
    if (limit !== null && used !== undefined && used > limit) {
      violations.push({ key, limit, usage: used });
    }
  }
  return violations;
}

/** "the plan starter allows 25 users (limit users); the tenant has 30" */
export function describeViolation(plan: string, v: QuotaViolation): string {
  return `the plan ${plan} allows ${v.limit} ${QUOTA_LABELS[v.key]} (limit ${v.key}); the tenant has ${v.usage}`;
}

/** Adds up what the participants counted (a key two services count is summed). */
export function mergeUsage(parts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) {
    for (const [key, count] of Object.entries(part)) total[key] = (total[key] ?? 0) + count;
  }
  return total;
}
