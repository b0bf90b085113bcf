import { isIP } from 'node:net';
import {
  DEFAULT_TENANT_SETTINGS,
  type TenantSettings,
  type TenantSettingsPatch,
} from '@tenantry/contracts';

/** The settings with `patch` applied over them (a key in the patch replaces the old value). */
export function mergeSettings(
  base: TenantSettings = DEFAULT_TENANT_SETTINGS,
  patch: TenantSettingsPatch = {},
): TenantSettings {
  const merged = { ...DEFAULT_TENANT_SETTINGS, ...base } as TenantSettings;
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** The 16-bit groups of an IPv6 address that `isIP` accepted (an embedded IPv4 tail becomes two). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':');
    const [a, b, c, d] = text
      .slice(colon + 1)
      .split('.')
      .map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, colon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const gap = text.indexOf('::');
  if (gap === -1) return [...parse(text), ...tail];
  const before = parse(text.slice(0, gap));
  const after = parse(text.slice(gap + 2));
  const missing = 8 - tail.length - before.length - after.length;
  return [...before, ...Array<number>(missing).fill(0), ...after, ...tail];
}

/**
 * Why `text` is not an IP network in CIDR notation (IPv4 `a.b.c.d/n` or IPv6 `x::/n`; a bare
 * address is a /32 or /128), or undefined when it is one. Host bits after the prefix must
 * be zero: 10.1.0.0/8 is a mistake for 10.0.0.0/8 or 10.1.0.0/16.
 */
export function cidrProblem(text: string): string | undefined {
  const bad = `"${text}" is not an IP network in CIDR notation, e.g. 203.0.113.0/24 or 2001:db8::/32`;
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0 || address.includes('%')) return bad;
  const max = version === 4 ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const prefix = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(prefix)) return bad;
    bits = Number(prefix);
    if (bits > max)
      return `"${text}": the prefix /${bits} is longer than the ${max} bits of the address`;
  }
  let value: bigint;
  if (version === 4) {
    value = address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  } else {
    value = ipv6Groups(address).reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
  }
  const hostBits = BigInt(max - bits);
  if (hostBits > 0n && (value & ((1n << hostBits) - 1n)) !== 0n) {
    return `"${text}" has bits set after the /${bits} prefix`;
  }
  return undefined;
}

/** The field errors of settings the contract's schema accepted but the service refuses (bad networks). */
export function settingsProblems(
  settings: TenantSettingsPatch,
  root = 'settings',
): { field: string; message: string }[] {
  return (settings.ipAllowList ?? []).flatMap((cidr, i) => {
    const problem = cidrProblem(cidr);
    return problem ? [{ field: `${root}.ipAllowList.${i}`, message: problem }] : [];
  });
}

/**
 * The field error when the tenant's own audit retention is longer than its plan allows
 * (limit `auditRetentionDays`; null: unlimited): a plan's retention is a quota like the others.
 */
export function retentionProblem(
  settings: TenantSettings,
  limit: number | null,
  root = 'settings',
): { field: string; message: string }[] {
  const days = settings.auditRetentionDays;
  if (days === null || limit === null || days <= limit) return [];
  return [
    {
      field: `${root}.auditRetentionDays`,
      message: `must be at most ${limit} days: the tenant's plan keeps audit entries ${limit} days (limit auditRetentionDays)`,
    },
  ];
}
