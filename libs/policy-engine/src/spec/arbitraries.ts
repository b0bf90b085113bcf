// fast-check generators: random policies (every feature) and random requests against them.
import fc from 'fast-check';
import type { PolicyPrincipal, RequestContext } from '../decision.js';
import type { Binding, Condition, DenyRule, PolicyDocument, Role } from '../document.js';

const MINUTE = 60_000;
const TYPES = ['invoices', 'projects', 'docs'];
const IDS = ['1', '42', 'x'];
const ACTIONS = ['read', 'write', 'delete'];
const ROLE_IDS = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'];
const SUBJECTS = [
  { type: 'user', id: 'u1' },
  { type: 'user', id: 'u2' },
  { type: 'user', id: 'u3' },
  { type: 'group', id: 'g1' },
  { type: 'group', id: 'g2' },
  { type: 'api_key', id: 'k1' },
  { type: 'service_account', id: 's1' },
] as const;

/** Conditions of every type, with deny and step-up failures. */
export const CONDITIONS: readonly Condition[] = [
  { type: 'cidr', ranges: ['10.0.0.0/8', '2001:db8::/32', 'fd00:1:2:3:4::/80'] },
  { type: 'cidr', ranges: ['192.168.0.0/16', '10.9.0.0/16'], onFail: 'step-up', stepUpMinutes: 30 },
  {
    type: 'time-window',
    timeZone: 'Europe/Paris',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    from: '09:00',
    to: '18:00',
  },
  {
    type: 'time-window',
    timeZone: 'America/New_York',
    days: ['fri', 'sat'],
    from: '22:00',
    to: '06:00',
  },
  { type: 'time-window', timeZone: 'Europe/Paris', from: '02:00', to: '03:00', onFail: 'step-up' },
  { type: 'time-window', timeZone: 'Asia/Kathmandu', days: ['sun'], from: '23:15', to: '24:00' },
  { type: 'mfa-within', minutes: 10 },
  { type: 'mfa-within', minutes: 5, onFail: 'deny' },
  { type: 'country', in: ['FR', 'DE'] },
  { type: 'device-trust', atLeast: 'managed', onFail: 'step-up', stepUpMinutes: 20 },
  { type: 'attribute', key: 'tier', op: 'eq', value: 'gold' },
  { type: 'attribute', key: 'owner', op: 'eq', valueFrom: 'principal.id' },
  { type: 'attribute', key: 'amount', op: 'lte', value: 100 },
  { type: 'attribute', key: 'tier', op: 'not-in', value: ['bronze'] },
];
/** The same without onFail/stepUpMinutes: a deny rule's `conditions`. */
const WHEN_CONDITIONS: readonly Condition[] = CONDITIONS.map((c) => {
  const copy = { ...c } as Record<string, unknown>;
  delete copy.onFail;
  delete copy.stepUpMinutes;
  return copy as Condition;
});

/** Instants around the windows above: DST days in Paris and New York, midnight, random days. */
const INSTANTS = [
  '2026-11-30T10:00:00Z',
  '2026-11-28T09:12:00Z',
  '2026-11-28T03:30:00Z',
  '2026-11-28T10:59:59Z',
  '2026-11-28T11:00:00Z',
  '2026-03-29T00:59:59Z',
  '2026-03-29T01:00:00Z',
  '2026-03-28T01:30:00Z',
  '2026-10-25T00:30:00Z',
  '2026-10-25T01:30:00Z',
  '2026-10-25T02:00:00Z',
  '2026-03-08T06:59:59Z',
  '2026-03-08T07:00:00Z',
  '2026-11-01T05:30:00Z',
  '2026-11-01T06:30:00Z',
  '2026-11-29T17:30:00Z',
  '2026-11-29T18:15:00Z',
].map(Date.parse);
const EXPIRIES = [
  '2026-03-29T01:00:00Z',
  '2026-10-25T01:30:00Z',
  '2026-11-28T11:00:00Z',
  '2027-01-01T00:00:00Z',
];

const path = fc
  .tuple(fc.constantFrom(...TYPES), fc.array(fc.constantFrom(...IDS), { maxLength: 2 }))
  .map(([t, rest]) => [t, ...rest].join('/'));
const requestPath = fc
  .tuple(
    fc.constantFrom(...TYPES),
    fc.array(fc.constantFrom(...IDS, 'tasks', '7'), { maxLength: 4 }),
  )
  .map(([t, rest]) => [t, ...rest].join('/'));
export const permission = fc
  .tuple(
    fc.oneof(
      { weight: 1, arbitrary: fc.constant('*') },
      { weight: 4, arbitrary: path },
      { weight: 2, arbitrary: path.map((p) => `${p}/*`) },
    ),
    fc.oneof(
      { weight: 1, arbitrary: fc.constant('*') },
      { weight: 4, arbitrary: fc.constantFrom(...ACTIONS) },
    ),
  )
  .map(([r, a]) => `${r}:${a}`);
const conditions = (max: number, pool = CONDITIONS) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as Condition[]) },
    { weight: 2, arbitrary: fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: max }) },
  );
const maybe = <T>(arb: fc.Arbitrary<T>, weight = 1) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight, arbitrary: arb });

const role = (index: number) =>
  fc
    .record({
      permissions: fc.array(permission, { maxLength: 3 }),
      inherits: fc.array(fc.nat(), { maxLength: index === 0 ? 0 : 2 }),
      conditions: fc.oneof(
        { weight: 5, arbitrary: fc.constant([] as Condition[]) },
        {
          weight: 1,
          arbitrary: fc.array(fc.constantFrom(...CONDITIONS), { minLength: 1, maxLength: 1 }),
        },
      ),
    })
    .map(({ permissions, inherits, conditions: c }): Role => ({
      id: ROLE_IDS[index],
      name: `Role ${index}`,
      permissions,
      // only roles defined before: no cycles
      inherits: [...new Set(inherits.map((n) => ROLE_IDS[n % index]))],
      ...(c.length ? { conditions: c } : {}),
    }));

const binding = (roles: number) =>
  fc
    .record({
      role: fc.nat({ max: roles - 1 }),
      subject: fc.constantFrom(...SUBJECTS),
      scope: maybe(path),
      expiresAt: maybe(fc.constantFrom(...EXPIRIES)),
      conditions: conditions(2),
    })
    .map((b): Omit<Binding, 'id'> => ({
      roleId: ROLE_IDS[b.role],
      subject: { ...b.subject },
      ...(b.scope ? { scope: b.scope } : {}),
      ...(b.expiresAt ? { expiresAt: b.expiresAt } : {}),
      ...(b.conditions.length ? { conditions: b.conditions } : {}),
    }));

export const denyRule = (roles: number, id: string) =>
  fc
    .record({
      permissions: fc.array(permission, { minLength: 1, maxLength: 2 }),
      subjects: maybe(
        fc.array(
          fc.oneof(
            fc.constantFrom(...SUBJECTS).map((s) => ({ ...s })),
            fc.nat({ max: roles - 1 }).map((r) => ({ type: 'role' as const, id: ROLE_IDS[r] })),
          ),
          { minLength: 1, maxLength: 2 },
        ),
        2,
      ),
      scope: maybe(path),
      conditions: conditions(1, WHEN_CONDITIONS),
      unless: conditions(1),
    })
    .map((r): DenyRule => ({
      id,
      permissions: r.permissions,
      ...(r.subjects ? { subjects: r.subjects } : {}),
      ...(r.scope ? { scope: r.scope } : {}),
      ...(r.conditions.length ? { conditions: r.conditions } : {}),
      ...(r.unless.length ? { unless: r.unless } : {}),
    }));

/** A random valid policy document of one tenant. */
export const policy = (tenantId = 'acme'): fc.Arbitrary<PolicyDocument> =>
  fc.integer({ min: 1, max: ROLE_IDS.length }).chain((n) =>
    fc
      .record({
        roles: fc.tuple(...Array.from({ length: n }, (_, i) => role(i))),
        bindings: fc.array(binding(n), { maxLength: 14 }),
        denyRules: fc
          .array(fc.nat(), { maxLength: 3 })
          .chain((ids) => fc.tuple(...ids.map((_, i) => denyRule(n, `d${i}`)))),
        version: fc.integer({ min: 1, max: 1000 }),
      })
      .map(({ roles, bindings, denyRules, version }) => ({
        schemaVersion: 1 as const,
        tenantId,
        version,
        roles,
        bindings: bindings.map((b, i) => ({ id: `b${i}`, ...b })),
        denyRules,
      })),
  );

export interface Request {
  principal: PolicyPrincipal;
  action: string;
  resource: string;
  context: RequestContext;
}

const principal: fc.Arbitrary<PolicyPrincipal> = fc
  .record({
    who: fc.constantFrom(
      { kind: 'user', id: 'u1' },
      { kind: 'user', id: 'u2' },
      { kind: 'user', id: 'u3' },
      { kind: 'user', id: 'g1' },
      { kind: 'api_key', id: 'k1' },
      { kind: 'service_account', id: 's1' },
    ),
    groups: maybe(fc.subarray(['g1', 'g2', 'g3']), 3),
    scopes: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.array(permission, { maxLength: 2 }) },
      { weight: 1, arbitrary: fc.constant(['*:*']) },
    ),
    tenantId: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('acme', 'other') },
    ),
  })
  .map(({ who, groups, scopes, tenantId }): PolicyPrincipal => ({
    kind: who.kind as PolicyPrincipal['kind'],
    id: who.id,
    ...(groups ? { groups } : {}),
    ...(scopes ? { apiKeyScopes: scopes } : {}),
    ...(tenantId ? { tenantId } : {}),
  }));

const context: fc.Arbitrary<RequestContext> = fc
  .record({
    now: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...INSTANTS) },
      {
        weight: 1,
        arbitrary: fc.integer({ min: Date.parse('2026-01-01'), max: Date.parse('2027-01-01') }),
      },
    ),
    ip: maybe(
      fc.constantFrom(
        '10.1.2.3',
        '11.0.0.1',
        '2001:db8::7',
        '2001:db9::1',
        '::ffff:10.9.9.9',
        '192.168.4.4',
        '10.9.0.1',
        'fd00:1:2:3:4::9',
        'fd00:1:2:3:5::9',
        'junk',
      ),
      3,
    ),
    mfaAge: maybe(
      fc.constantFrom(
        0,
        5 * MINUTE,
        5 * MINUTE + 1,
        10 * MINUTE,
        10 * MINUTE + 1,
        20 * MINUTE,
        30 * MINUTE + 1,
        -30_000,
        -61_000,
      ),
      3,
    ),
    country: maybe(fc.constantFrom('FR', 'US')),
    deviceTrust: maybe(
      fc.constantFrom('none', 'managed', 'compliant') as fc.Arbitrary<
        'none' | 'managed' | 'compliant'
      >,
    ),
    attributes: maybe(
      fc.record(
        {
          tier: fc.constantFrom('gold', 'silver', 'bronze'),
          owner: fc.constantFrom('u1', 'u2'),
          amount: fc.constantFrom(50, 100, 150, '100'),
        },
        { requiredKeys: [] },
      ),
    ),
  })
  .map(({ now, ip, mfaAge, country, deviceTrust, attributes }) => ({
    now,
    ...(ip ? { ip } : {}),
    ...(mfaAge !== undefined ? { mfaAt: now - mfaAge } : {}),
    ...(country ? { country } : {}),
    ...(deviceTrust ? { deviceTrust } : {}),
    ...(attributes ? { attributes } : {}),
  }));

export const request: fc.Arbitrary<Request> = fc.record({
  principal,
  action: fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(...ACTIONS) },
    { weight: 1, arbitrary: fc.constantFrom('*', '') },
  ),
  resource: fc.oneof(
    { weight: 40, arbitrary: requestPath },
    { weight: 1, arbitrary: fc.constantFrom('a//b', '*', '', '/docs', 'docs/') },
  ),
  context,
});

/** A request that one of the policy's permissions covers (half the time), or any request. */
export const requestFor = (doc: PolicyDocument): fc.Arbitrary<Request> => {
  const texts = [
    ...doc.roles.flatMap((r) => r.permissions ?? []),
    ...(doc.denyRules ?? []).flatMap((r) => r.permissions),
  ];
  if (texts.length === 0) return request;
  const covered = fc
    .tuple(
      fc.constantFrom(...texts),
      requestPath,
      fc.constantFrom('', '/7', '/1/tasks'),
      fc.constantFrom(...ACTIONS),
    )
    .map(([text, any, below, anyAction]) => {
      const colon = text.lastIndexOf(':');
      const r = text.slice(0, colon);
      const a = text.slice(colon + 1);
      const resource =
        r === '*' ? any : r.endsWith('/*') ? `${r.slice(0, -2)}${below || '/7'}` : `${r}${below}`;
      return { resource, action: a === '*' ? anyAction : a };
    });
  // The subject of one of the bindings, as a principal (a group: a user in it).
  const bound: fc.Arbitrary<Partial<Request>> =
    doc.bindings.length === 0
      ? fc.constant({})
      : fc.constantFrom(...doc.bindings).map(({ subject }) => ({
          principal:
            subject.type === 'group'
              ? { kind: 'user' as const, id: 'u3', groups: [subject.id] }
              : { kind: subject.type, id: subject.id },
        }));
  return fc
    .tuple(request, fc.nat({ max: 3 }), covered, bound)
    .map(([r, mix, c, b]) => (mix === 0 ? r : mix === 1 ? { ...r, ...c } : { ...r, ...c, ...b }));
};

/** A policy and requests against it. */
export const policyAndRequests = (tenantId = 'acme', max = 12) =>
  policy(tenantId).chain((doc) =>
    fc.tuple(fc.constant(doc), fc.array(requestFor(doc), { minLength: 1, maxLength: max })),
  );

/** A binding of a new role (no deny rule can name it): an allow and nothing else. */
export const extraAllow = fc
  .record({
    permissions: fc.array(permission, { minLength: 1, maxLength: 3 }),
    roleConditions: conditions(1),
    binding: binding(1),
  })
  .map(({ permissions, roleConditions, binding: b }) => ({
    role: {
      id: 'extra-role',
      permissions,
      ...(roleConditions.length ? { conditions: roleConditions } : {}),
    } satisfies Role,
    binding: { ...b, id: 'extra-binding', roleId: 'extra-role' } satisfies Binding,
  }));
