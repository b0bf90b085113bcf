// The table of cases: every rule of README.md, decided by the compiled index, the reference
// evaluator and explain alike.
import { compile } from './compile.js';
import type { PolicyPrincipal, ReasonKind, RequestContext } from './decision.js';
import { referenceDecide } from './reference.js';
import { ACME, MINUTE, MON, SAT } from './spec/acme-policy.js';

interface Expect {
  kind: ReasonKind;
  bindingId?: string;
  roleId?: string;
  ruleId?: string;
  /** The step-up obligation's minutes. */
  stepUp?: number;
}
interface Case {
  title: string;
  principal: PolicyPrincipal;
  action: string;
  resource: string;
  context?: RequestContext;
  expect: Expect;
}

const user = (id: string, extra: Partial<PolicyPrincipal> = {}): PolicyPrincipal => ({
  kind: 'user',
  id,
  ...extra,
});
const at = (iso: string, extra: RequestContext = {}): RequestContext => ({
  now: Date.parse(iso),
  ...extra,
});
const mon = (extra: RequestContext = {}): RequestContext => ({ now: MON, ...extra });
const granted = (bindingId?: string, roleId?: string): Expect => ({
  kind: 'granted',
  ...(bindingId ? { bindingId } : {}),
  ...(roleId ? { roleId } : {}),
});
const denied = (kind: ReasonKind, extra: Omit<Expect, 'kind'> = {}): Expect => ({ kind, ...extra });
const stepUp = (minutes: number, extra: Omit<Expect, 'kind' | 'stepUp'> = {}): Expect => ({
  kind: 'step-up-required',
  stepUp: minutes,
  ...extra,
});

function c(
  title: string,
  principal: PolicyPrincipal,
  action: string,
  resource: string,
  context: RequestContext | undefined,
  expect: Expect,
): Case {
  return { title, principal, action, resource, context, expect };
}

const CASES: Case[] = [
  // Roles and inheritance
  c('a direct permission', user('alice'), 'approve', 'invoices/7', mon(), granted('b1', 'senior')),
  c('inherited (2 levels)', user('alice'), 'write', 'invoices/7', mon(), granted('b1', 'clerk')),
  c('inherited (3 levels)', user('bob'), 'write', 'invoices/7', mon(), granted('b2', 'clerk')),
  c(
    'own wildcard action, chain head',
    user('bob'),
    'generate',
    'reports/q3',
    mon(),
    granted('b2', 'head'),
  ),
  c(
    'not granted anywhere in the chain',
    user('bob'),
    'delete',
    'invoices/7',
    mon(),
    denied('no-grant'),
  ),
  c(
    '5 deep: the last role of the chain',
    user('carol'),
    'purge',
    'archive/2020',
    mon(),
    granted('b3', 'r5'),
  ),
  c('5 deep: the middle', user('carol'), 'read', 'level3', mon(), granted('b3', 'r3')),
  c('5 deep: nothing further', user('carol'), 'write', 'level3', mon(), denied('no-grant')),
  c('an unknown principal', user('nobody'), 'read', 'invoices', mon(), denied('no-grant')),

  // Wildcards on both sides, resource paths
  c('res:* covers every action', user('hank'), 'delete', 'invoices/9', mon(), granted('b9')),
  c('res:* covers the type itself', user('hank'), 'list', 'invoices', mon(), granted('b9')),
  c('res:* covers deep paths', user('hank'), 'void', 'invoices/9/lines/2', mon(), granted('b9')),
  c('*:action on any resource', user('gina'), 'approve', 'expenses/3', mon(), granted('b8')),
  c('*:action, another action', user('gina'), 'read', 'expenses/3', mon(), denied('no-grant')),
  c('path:action covers the path', user('frank'), 'write', 'projects/42', mon(), granted('b7')),
  c(
    'path:action covers below',
    user('frank'),
    'write',
    'projects/42/tasks/7',
    mon(),
    granted('b7'),
  ),
  c(
    'segment boundary: projects/421',
    user('frank'),
    'write',
    'projects/421',
    mon(),
    denied('no-grant'),
  ),
  c('path:action not the parent', user('frank'), 'write', 'projects', mon(), denied('no-grant')),
  c('path/*: strictly below', user('erin'), 'read', 'orgs/emea/paris', mon(), granted('b6')),
  c('path/*: deep below', user('erin'), 'read', 'orgs/emea/paris/floors/3', mon(), granted('b6')),
  c('path/*: not the path itself', user('erin'), 'read', 'orgs/emea', mon(), denied('no-grant')),
  c(
    'path/*: segment boundary',
    user('erin'),
    'read',
    'orgs/emeax/paris',
    mon(),
    denied('no-grant'),
  ),
  c(
    '*:* (with its condition met)',
    user('mia'),
    'anything',
    'x/y/z',
    mon({ mfaAt: MON }),
    granted('b14'),
  ),

  // Templates
  c('system template viewer', user('dave'), 'list', 'projects/42/tasks', mon(), granted('b5')),
  c(
    'template with a variable',
    user('sam'),
    'read',
    'departments/finance/budgets/2026',
    mon(),
    granted('b23'),
  ),
  c(
    'template: another department',
    user('sam'),
    'read',
    'departments/hr',
    mon(),
    denied('no-grant'),
  ),
  c(
    'system template service-account',
    { kind: 'service_account', id: 's1' },
    'write',
    'audit',
    mon(),
    granted('b20'),
  ),
  c(
    'service account: nothing else',
    { kind: 'service_account', id: 's1' },
    'read',
    'users',
    mon(),
    denied('no-grant'),
  ),
  c('kinds are separate: user s1', user('s1'), 'write', 'audit', mon(), denied('no-grant')),

  // Scoped bindings and groups
  c('scope: inside', user('dave'), 'read', 'projects/42/tasks/7', mon(), granted('b5')),
  c('scope: the scope itself', user('dave'), 'read', 'projects/42', mon(), granted('b5')),
  c('scope: outside', user('dave'), 'read', 'projects/43', mon(), denied('no-grant')),
  c('scope: segment boundary', user('dave'), 'read', 'projects/421', mon(), denied('no-grant')),
  c('scope: the parent', user('dave'), 'read', 'projects', mon(), denied('no-grant')),
  c(
    'scope: permission outside the scope',
    user('tom'),
    'write',
    'invoices/1',
    mon(),
    denied('no-grant'),
  ),
  c(
    'scope: nothing below it either',
    user('tom'),
    'write',
    'projects/42/invoices/1',
    mon(),
    denied('no-grant'),
  ),
  c(
    'group binding, scoped',
    user('zoe', { groups: ['eng'] }),
    'write',
    'projects/42/tasks/1',
    mon(),
    granted('b4'),
  ),
  c(
    'group binding, outside its scope',
    user('zoe', { groups: ['eng'] }),
    'write',
    'projects/7',
    mon(),
    denied('no-grant'),
  ),
  c('without the group', user('zoe'), 'write', 'projects/42/tasks/1', mon(), denied('no-grant')),
  c(
    'another group',
    user('zoe', { groups: ['sales'] }),
    'write',
    'projects/42',
    mon(),
    denied('no-grant'),
  ),

  // Deny rules override any allow
  c(
    'deny by time window (weekend, Paris)',
    user('alice'),
    'write',
    'invoices/7',
    { now: SAT },
    denied('deny-rule', { ruleId: 'd1' }),
  ),
  c('the same on a Monday', user('alice'), 'write', 'invoices/7', mon(), granted('b1')),
  c('the deny covers only write', user('alice'), 'read', 'invoices/7', { now: SAT }, granted('b1')),
  c(
    'deny over *:* too',
    user('mia'),
    'write',
    'invoices/1',
    { now: SAT, mfaAt: SAT },
    denied('deny-rule', { ruleId: 'd1' }),
  ),
  c(
    'deny by role held',
    user('rita'),
    'delete',
    'invoices/1',
    mon(),
    denied('deny-rule', { ruleId: 'd2' }),
  ),
  c('role deny covers only delete', user('rita'), 'write', 'invoices/1', mon(), granted('b22')),
  c('deny by role, not held', user('hank'), 'delete', 'invoices/1', mon(), granted('b9')),
  c(
    'deny by user on a path',
    user('hank'),
    'write',
    'invoices/13',
    mon(),
    denied('deny-rule', { ruleId: 'd4' }),
  ),
  c(
    'deny on a path: below',
    user('hank'),
    'read',
    'invoices/13/lines/1',
    mon(),
    denied('deny-rule', { ruleId: 'd4' }),
  ),
  c(
    'deny on a path: segment boundary',
    user('hank'),
    'write',
    'invoices/130',
    mon(),
    granted('b9'),
  ),
  c(
    'deny by group, scoped',
    user('zoe', { groups: ['eng'] }),
    'read',
    'projects/42/secrets/db',
    mon(),
    denied('deny-rule', { ruleId: 'd5' }),
  ),
  c(
    'deny scoped: outside the scope',
    user('zoe', { groups: ['eng'] }),
    'read',
    'projects/42/tasks',
    mon(),
    granted('b4'),
  ),
  c(
    'deny of a group: other principals',
    user('dave'),
    'read',
    'projects/42/secrets/db',
    mon(),
    granted('b5'),
  ),
  c('a deny where nothing allows', user('gina'), 'delete', 'x', mon(), denied('no-grant')),

  // Deny rules that ask for step-up, combined with grants
  c(
    'deny unless MFA: no MFA',
    user('wade'),
    'export',
    'reports/1',
    mon(),
    stepUp(10, { ruleId: 'd3' }),
  ),
  c(
    'deny unless MFA: exactly 10 min',
    user('wade'),
    'export',
    'reports/1',
    mon({ mfaAt: MON - 10 * MINUTE }),
    granted('b27'),
  ),
  c(
    'deny unless MFA: 10 min + 1 ms',
    user('wade'),
    'export',
    'reports/1',
    mon({ mfaAt: MON - 10 * MINUTE - 1 }),
    stepUp(10, { ruleId: 'd3' }),
  ),
  c(
    'two rules ask for MFA: the stricter',
    user('wade'),
    'export',
    'reports/1',
    mon({ mfaAt: MON - 40 * MINUTE }),
    stepUp(10, { ruleId: 'd3' }),
  ),
  c(
    'one rule lifted, the other asks',
    user('wade'),
    'export',
    'reports/1',
    mon({ mfaAt: MON - 20 * MINUTE }),
    stepUp(10, { ruleId: 'd3' }),
  ),
  c('deny unless MFA: not export', user('wade'), 'read', 'reports/1', mon(), granted('b27')),
  c(
    'deny unless MFA, nothing grants',
    user('carol'),
    'export',
    'reports/1',
    mon(),
    denied('no-grant'),
  ),
  c(
    'soft deny and a grant needing MFA: the stricter',
    user('xena'),
    'export',
    'reports/1',
    mon(),
    stepUp(5, { ruleId: 'd3' }),
  ),
  c(
    'rule lifted, grant still needs MFA',
    user('xena'),
    'export',
    'reports/1',
    mon({ mfaAt: MON - 7 * MINUTE }),
    stepUp(5, { bindingId: 'b29' }),
  ),
  c(
    'both satisfied',
    user('xena'),
    'export',
    'reports/1',
    mon({ mfaAt: MON - 3 * MINUTE }),
    granted('b29'),
  ),

  // Expiry
  c(
    'expired binding',
    user('ivan'),
    'write',
    'invoices/1',
    mon(),
    denied('binding-expired', { bindingId: 'b10' }),
  ),
  c(
    '1 ms before expiry',
    user('ivan'),
    'write',
    'invoices/1',
    at('2026-05-31T23:59:59.999Z'),
    granted('b10'),
  ),
  c(
    'exactly at expiry',
    user('ivan'),
    'write',
    'invoices/1',
    at('2026-06-01T00:00:00Z'),
    denied('binding-expired'),
  ),
  c(
    'expired and not granted anyway',
    user('ivan'),
    'delete',
    'invoices/1',
    at('2026-05-01T00:00:00Z'),
    denied('no-grant'),
  ),

  // CIDR
  c(
    'IPv4: first address',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '10.0.0.0' }),
    granted('b11'),
  ),
  c(
    'IPv4: last address',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '10.255.255.255' }),
    granted('b11'),
  ),
  c(
    'IPv4: just below',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '9.255.255.255' }),
    denied('condition-failed', { bindingId: 'b11' }),
  ),
  c(
    'IPv4: just above',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '11.0.0.0' }),
    denied('condition-failed'),
  ),
  c(
    'IPv4: a bare address (/32)',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '192.168.1.7' }),
    granted('b11'),
  ),
  c(
    'IPv4: next to the bare address',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '192.168.1.8' }),
    denied('condition-failed'),
  ),
  c(
    'IPv4-mapped IPv6',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '::ffff:10.1.2.3' }),
    granted('b11'),
  ),
  c(
    'IPv4-mapped IPv6, outside',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '::ffff:11.1.2.3' }),
    denied('condition-failed'),
  ),
  c('IPv6: inside', user('judy'), 'read', 'invoices', mon({ ip: '2001:db8::1' }), granted('b11')),
  c(
    'IPv6: last of the /32',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff' }),
    granted('b11'),
  ),
  c(
    'IPv6: just below',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff' }),
    denied('condition-failed'),
  ),
  c(
    'IPv6: just above',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '2001:db9::' }),
    denied('condition-failed'),
  ),
  c(
    'IPv6: long form, upper case',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '2001:0DB8:0000:0000:0000:0000:0000:0001' }),
    granted('b11'),
  ),
  c(
    'IPv6: with a zone',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '2001:db8::5%eth0' }),
    granted('b11'),
  ),
  c(
    'IPv6: link-local, outside',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: 'fe80::1' }),
    denied('condition-failed'),
  ),
  c(
    'IPv6 /80: inside',
    user('abe'),
    'read',
    'invoices',
    mon({ ip: 'fd00:1:2:3:4:0:ffff:1' }),
    granted('b31'),
  ),
  c(
    'IPv6 /80: word 3 differs',
    user('abe'),
    'read',
    'invoices',
    mon({ ip: 'fd00:1:2:3:5::1' }),
    denied('condition-failed'),
  ),
  c('IPv6 /128: ::1', user('abe'), 'read', 'invoices', mon({ ip: '::1' }), granted('b31')),
  c(
    'IPv6 /128: ::2',
    user('abe'),
    'read',
    'invoices',
    mon({ ip: '::2' }),
    denied('condition-failed'),
  ),
  c(
    'IPv6 /128: IPv4 0.0.0.1 is not ::1',
    user('abe'),
    'read',
    'invoices',
    mon({ ip: '0.0.0.1' }),
    denied('condition-failed'),
  ),
  c('no IP: fails', user('judy'), 'read', 'invoices', mon(), denied('condition-failed')),
  c(
    'not an IP: fails',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: 'not-an-ip' }),
    denied('condition-failed'),
  ),
  c(
    'leading zeros: not an IP',
    user('judy'),
    'read',
    'invoices',
    mon({ ip: '010.1.2.3' }),
    denied('condition-failed'),
  ),

  // Time windows: Europe/Paris, Mon-Fri 09:00-18:00 (CET in November, CEST after 29 March)
  c(
    'window: 09:00 sharp',
    user('ken'),
    'edit',
    'docs/1',
    at('2026-11-30T08:00:00Z'),
    granted('b12'),
  ),
  c(
    'window: 08:59:59',
    user('ken'),
    'edit',
    'docs/1',
    at('2026-11-30T07:59:59Z'),
    denied('condition-failed', { bindingId: 'b12' }),
  ),
  c('window: 17:59:59', user('ken'), 'edit', 'docs/1', at('2026-11-30T16:59:59Z'), granted('b12')),
  c(
    'window: 18:00 is out',
    user('ken'),
    'edit',
    'docs/1',
    at('2026-11-30T17:00:00Z'),
    denied('condition-failed'),
  ),
  c('window: Saturday', user('ken'), 'edit', 'docs/1', { now: SAT }, denied('condition-failed')),
  c(
    'window: the Monday after DST, 09:00 CEST',
    user('ken'),
    'edit',
    'docs/1',
    at('2026-03-30T07:00:00Z'),
    granted('b12'),
  ),
  c(
    'window: the Monday after DST, 08:59 CEST',
    user('ken'),
    'edit',
    'docs/1',
    at('2026-03-30T06:59:00Z'),
    denied('condition-failed'),
  ),
  // Across midnight: America/New_York, Friday 22:00 to Saturday 06:00 (EST)
  c(
    'midnight window: Fri 22:00',
    user('leo'),
    'edit',
    'docs/1',
    at('2026-11-28T03:00:00Z'),
    granted('b13'),
  ),
  c(
    'midnight window: Fri 21:59',
    user('leo'),
    'edit',
    'docs/1',
    at('2026-11-28T02:59:00Z'),
    denied('condition-failed'),
  ),
  c(
    'midnight window: Sat 05:59',
    user('leo'),
    'edit',
    'docs/1',
    at('2026-11-28T10:59:00Z'),
    granted('b13'),
  ),
  c(
    'midnight window: Sat 06:00',
    user('leo'),
    'edit',
    'docs/1',
    at('2026-11-28T11:00:00Z'),
    denied('condition-failed'),
  ),
  c(
    'midnight window: Sat 23:00 (starts Fridays only)',
    user('leo'),
    'edit',
    'docs/1',
    at('2026-11-29T04:00:00Z'),
    denied('condition-failed'),
  ),
  c(
    'midnight window: Sun 01:00',
    user('leo'),
    'edit',
    'docs/1',
    at('2026-11-29T06:00:00Z'),
    denied('condition-failed'),
  ),
  c(
    'midnight window: Thu 23:00',
    user('leo'),
    'edit',
    'docs/1',
    at('2026-11-27T04:00:00Z'),
    denied('condition-failed'),
  ),
  // Across midnight on the DST night: Europe/Paris, Saturday 22:00 to Sunday 06:00, 28-29 March 2026
  c(
    'DST night: Sat 21:59 CET',
    user('yuri'),
    'edit',
    'docs/1',
    at('2026-03-28T20:59:00Z'),
    denied('condition-failed'),
  ),
  c(
    'DST night: Sat 22:00 CET',
    user('yuri'),
    'edit',
    'docs/1',
    at('2026-03-28T21:00:00Z'),
    granted('b30'),
  ),
  c(
    'DST night: Sun 01:30 CET',
    user('yuri'),
    'edit',
    'docs/1',
    at('2026-03-29T00:30:00Z'),
    granted('b30'),
  ),
  c(
    'DST night: Sun 03:30 CEST',
    user('yuri'),
    'edit',
    'docs/1',
    at('2026-03-29T01:30:00Z'),
    granted('b30'),
  ),
  c(
    'DST night: Sun 05:59 CEST',
    user('yuri'),
    'edit',
    'docs/1',
    at('2026-03-29T03:59:00Z'),
    granted('b30'),
  ),
  c(
    'DST night: Sun 06:00 CEST (05:00 CET)',
    user('yuri'),
    'edit',
    'docs/1',
    at('2026-03-29T04:00:00Z'),
    denied('condition-failed'),
  ),
  // A window inside the hour DST skips or repeats: Europe/Paris, every day 02:00-03:00
  c(
    '02:30 CET the day before',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-03-28T01:30:00Z'),
    granted('b25'),
  ),
  c(
    'spring forward: 01:59:59 CET',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-03-29T00:59:59Z'),
    denied('condition-failed'),
  ),
  c(
    'spring forward: 03:00 CEST (02:00 never comes)',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-03-29T01:00:00Z'),
    denied('condition-failed'),
  ),
  c(
    'fall back: 01:59:59 CEST',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-10-24T23:59:59Z'),
    denied('condition-failed'),
  ),
  c(
    'fall back: 02:00 CEST',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-10-25T00:00:00Z'),
    granted('b25'),
  ),
  c(
    'fall back: 02:30 CEST',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-10-25T00:30:00Z'),
    granted('b25'),
  ),
  c(
    'fall back: 02:00 CET, the repeated hour',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-10-25T01:00:00Z'),
    granted('b25'),
  ),
  c(
    'fall back: 02:59:59 CET',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-10-25T01:59:59Z'),
    granted('b25'),
  ),
  c(
    'fall back: 03:00 CET',
    user('uma'),
    'edit',
    'docs/1',
    at('2026-10-25T02:00:00Z'),
    denied('condition-failed'),
  ),

  // MFA within N minutes (a role condition: break glass, MFA within 5 minutes, step-up)
  c(
    'MFA exactly at the limit',
    user('mia'),
    'delete',
    'users/1',
    mon({ mfaAt: MON - 5 * MINUTE }),
    granted('b14'),
  ),
  c(
    'MFA 1 ms past the limit',
    user('mia'),
    'delete',
    'users/1',
    mon({ mfaAt: MON - 5 * MINUTE - 1 }),
    stepUp(5, { bindingId: 'b14' }),
  ),
  c('no MFA: step-up', user('mia'), 'delete', 'users/1', mon(), stepUp(5)),
  c(
    'MFA 60 s in the future (skew)',
    user('mia'),
    'delete',
    'users/1',
    mon({ mfaAt: MON + 60_000 }),
    granted('b14'),
  ),
  c(
    'MFA 61 s in the future',
    user('mia'),
    'delete',
    'users/1',
    mon({ mfaAt: MON + 61_000 }),
    stepUp(5),
  ),
  c('an unconditional grant needs no MFA', user('mia'), 'read', 'users/1', mon(), granted('b28')),
  // Step-up instead of a flat deny on another condition (CIDR, or MFA within 30 minutes)
  c(
    'step-up CIDR: inside',
    user('ned'),
    'read',
    'invoices',
    mon({ ip: '10.1.1.1' }),
    granted('b15'),
  ),
  c(
    'step-up CIDR: outside, no MFA',
    user('ned'),
    'read',
    'invoices',
    mon({ ip: '11.1.1.1' }),
    stepUp(30, { bindingId: 'b15' }),
  ),
  c(
    'step-up CIDR: outside, MFA 20 min ago',
    user('ned'),
    'read',
    'invoices',
    mon({ ip: '11.1.1.1', mfaAt: MON - 20 * MINUTE }),
    granted('b15'),
  ),
  c(
    'step-up CIDR: outside, MFA 31 min ago',
    user('ned'),
    'read',
    'invoices',
    mon({ ip: '11.1.1.1', mfaAt: MON - 31 * MINUTE }),
    stepUp(30),
  ),
  c('step-up CIDR: no IP', user('ned'), 'read', 'invoices', mon(), stepUp(30)),

  // Country, device trust, attributes
  c('country: listed', user('olga'), 'read', 'invoices', mon({ country: 'DE' }), granted('b16')),
  c(
    'country: not listed',
    user('olga'),
    'read',
    'invoices',
    mon({ country: 'US' }),
    denied('condition-failed'),
  ),
  c('country: unknown', user('olga'), 'read', 'invoices', mon(), denied('condition-failed')),
  c(
    'device: managed',
    user('pat'),
    'read',
    'invoices',
    mon({ deviceTrust: 'managed' }),
    granted('b17'),
  ),
  c(
    'device: compliant',
    user('pat'),
    'read',
    'invoices',
    mon({ deviceTrust: 'compliant' }),
    granted('b17'),
  ),
  c(
    'device: registered',
    user('pat'),
    'read',
    'invoices',
    mon({ deviceTrust: 'registered' }),
    denied('condition-failed'),
  ),
  c('device: unknown', user('pat'), 'read', 'invoices', mon(), denied('condition-failed')),
  c(
    'attribute: own document',
    user('quinn'),
    'edit',
    'docs/9',
    mon({ attributes: { 'resource.owner': 'quinn' } }),
    granted('b18'),
  ),
  c(
    "attribute: someone else's",
    user('quinn'),
    'edit',
    'docs/9',
    mon({ attributes: { 'resource.owner': 'x' } }),
    denied('condition-failed'),
  ),
  c('attribute: missing', user('quinn'), 'edit', 'docs/9', mon(), denied('condition-failed')),
  c(
    'attribute: amount at the limit',
    user('vic'),
    'write',
    'invoices/1',
    mon({ attributes: { amount: 1000 } }),
    granted('b26'),
  ),
  c(
    'attribute: amount over',
    user('vic'),
    'write',
    'invoices/1',
    mon({ attributes: { amount: 1000.5 } }),
    denied('condition-failed'),
  ),
  c(
    'attribute: a string is not a number',
    user('vic'),
    'write',
    'invoices/1',
    mon({ attributes: { amount: '1000' } }),
    denied('condition-failed'),
  ),

  // API keys: scopes intersected with the key's bindings
  c(
    'key: scope and binding',
    { kind: 'api_key', id: 'k1', apiKeyScopes: ['invoices:read'] },
    'read',
    'invoices/1',
    mon(),
    granted('b19'),
  ),
  c(
    'key: binding but not scope',
    { kind: 'api_key', id: 'k1', apiKeyScopes: ['invoices:read'] },
    'write',
    'invoices/1',
    mon(),
    denied('outside-api-key-scopes'),
  ),
  c(
    'key: scope but not binding',
    { kind: 'api_key', id: 'k1', apiKeyScopes: ['*:*'] },
    'read',
    'users/1',
    mon(),
    denied('no-grant'),
  ),
  c(
    'key: no scopes at all',
    { kind: 'api_key', id: 'k1', apiKeyScopes: [] },
    'read',
    'invoices/1',
    mon(),
    denied('outside-api-key-scopes'),
  ),
  c(
    'key: scopes not given',
    { kind: 'api_key', id: 'k1' },
    'write',
    'invoices/1',
    mon(),
    granted('b19'),
  ),
  c(
    'key: a path scope',
    { kind: 'api_key', id: 'k1', apiKeyScopes: ['invoices/7:*'] },
    'write',
    'invoices/7/lines/1',
    mon(),
    granted('b19'),
  ),
  c(
    'key: outside a path scope',
    { kind: 'api_key', id: 'k1', apiKeyScopes: ['invoices/7:*'] },
    'write',
    'invoices/8',
    mon(),
    denied('outside-api-key-scopes'),
  ),
  c(
    'key: a malformed scope covers nothing',
    { kind: 'api_key', id: 'k1', apiKeyScopes: ['invoices'] },
    'read',
    'invoices',
    mon(),
    denied('outside-api-key-scopes'),
  ),

  // Tenants, malformed requests
  c(
    'cross-tenant principal',
    user('alice', { tenantId: 'globex' }),
    'approve',
    'invoices/7',
    mon(),
    denied('cross-tenant'),
  ),
  c(
    'same-tenant principal',
    user('alice', { tenantId: 'acme' }),
    'approve',
    'invoices/7',
    mon(),
    granted('b1'),
  ),
  c('empty resource', user('hank'), 'read', '', mon(), denied('invalid-request')),
  c('* as a resource', user('mia'), 'read', '*', mon({ mfaAt: MON }), denied('invalid-request')),
  c('* in a resource', user('hank'), 'read', 'invoices/*', mon(), denied('invalid-request')),
  c('* as an action', user('hank'), '*', 'invoices', mon(), denied('invalid-request')),
  c('empty action', user('hank'), '', 'invoices', mon(), denied('invalid-request')),
  c('leading /', user('hank'), 'read', '/invoices', mon(), denied('invalid-request')),
  c('trailing /', user('hank'), 'read', 'invoices/', mon(), denied('invalid-request')),
  c('empty segment', user('hank'), 'read', 'invoices//7', mon(), denied('invalid-request')),
];

describe('decide: the table', () => {
  const policy = compile(ACME);

  it.each(CASES.map((x) => [x.title, x]))('%s', (_title, x) => {
    const { principal, action, resource, context, expect: e } = x as Case;
    const d = policy.decide(principal, action, resource, context);
    const got = {
      allowed: d.allowed,
      kind: d.reason.kind,
      ...(e.bindingId ? { bindingId: d.reason.bindingId } : {}),
      ...(e.roleId ? { roleId: d.reason.roleId } : {}),
      ...(e.ruleId ? { ruleId: d.reason.ruleId } : {}),
      obligations: d.obligations,
    };
    expect(got).toEqual({
      allowed: e.kind === 'granted',
      kind: e.kind,
      ...(e.bindingId ? { bindingId: e.bindingId } : {}),
      ...(e.roleId ? { roleId: e.roleId } : {}),
      ...(e.ruleId ? { ruleId: e.ruleId } : {}),
      obligations: e.stepUp === undefined ? [] : [{ type: 'step-up', mfaWithinMinutes: e.stepUp }],
    });
    expect(d.policyVersion).toBe(7);
    expect(d.reason.message.length).toBeGreaterThan(10);

    // The reference evaluator and explain agree.
    const ref = referenceDecide(policy.policy, principal, action, resource, context);
    expect([ref.allowed, ref.reason.kind, ref.obligations]).toEqual([
      d.allowed,
      d.reason.kind,
      d.obligations,
    ]);
    const explained = policy.explain(principal, action, resource, context).decision;
    expect([explained.allowed, explained.reason.kind]).toEqual([d.allowed, d.reason.kind]);
  });

  it('decides a batch in order, as one by one', () => {
    const checks = CASES.filter((x) => x.principal.id === 'hank').map((x) => ({
      action: x.action,
      resource: x.resource,
    }));
    const batch = policy.decideBatch(user('hank'), checks, mon());
    expect(batch.map((d) => d.reason.kind)).toEqual(
      checks.map((k) => policy.decide(user('hank'), k.action, k.resource, mon()).reason.kind),
    );
    expect(batch).toHaveLength(checks.length);
  });

  it('returns frozen decisions, shared for unconditional allows', () => {
    const a = policy.decide(user('alice'), 'approve', 'invoices/1', mon());
    const b = policy.decide(user('alice'), 'approve', 'invoices/2', mon());
    expect(Object.isFrozen(a) && Object.isFrozen(a.reason) && Object.isFrozen(a.obligations)).toBe(
      true,
    );
    expect(a).toBe(b);
    expect(a.reason.message).toBe(
      'role Senior Clerk (bound to user alice by binding b1) grants invoices:approve',
    );
  });

  it('names the inheritance path and the failed condition in its sentences', () => {
    expect(policy.decide(user('bob'), 'write', 'invoices/7', mon()).reason.message).toBe(
      'role Head of Finance (bound to user bob by binding b2) inherits role Senior Clerk, which inherits role Invoice Clerk, which grants invoices:write',
    );
    expect(policy.decide(user('judy'), 'read', 'invoices', mon({ ip: '11.0.0.1' })).reason).toEqual(
      {
        kind: 'condition-failed',
        message:
          'role Invoice Clerk (bound to user judy by binding b11) grants invoices:read only if the IP address is in 10.0.0.0/8 or 2001:db8::/32 or 192.168.1.7, which does not hold',
        bindingId: 'b11',
        roleId: 'clerk',
        permission: 'invoices:read',
        condition: 'cidr',
      },
    );
    expect(policy.decide(user('alice'), 'write', 'invoices/7', { now: SAT }).reason.message).toBe(
      "deny rule 'no weekend invoice writes' (d1) applies to invoices:write",
    );
  });

  it('takes the time from Date.now() when the context has none', () => {
    const d = policy.decide(user('ivan'), 'write', 'invoices/1');
    expect(d.reason.kind).toBe(
      Date.now() >= Date.parse('2026-06-01T00:00:00Z') ? 'binding-expired' : 'granted',
    );
  });

  it('refuses requests that are not strings without throwing', () => {
    const d = policy.decide(user('hank'), undefined as unknown as string, 'invoices');
    expect(d.reason.kind).toBe('invalid-request');
  });
});
