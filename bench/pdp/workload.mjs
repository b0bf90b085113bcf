// The PDP workload of ../shared/anchors/pdp/bench.mjs, reproduced exactly (same PRNG, seed,
// counts and order of draws: `fingerprint` is the same as the anchor's), and its extension with
// conditions and deny rules for this engine (drawn from a second PRNG, so that the anchor's part
// stays identical).
import { createHash } from 'node:crypto';

/** xorshift32, as the anchor. */
function prng(initial) {
  let seed = initial;
  const rnd = () => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 0x100000000;
  };
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  return { rnd, pick };
}

export const FOCUS = 't0';
export const TENANTS = Array.from({ length: 100 }, (_, i) => `t${i}`);
export const RESOURCES = Array.from({ length: 40 }, (_, i) => `res${i}`);
export const ACTIONS = ['read', 'write', 'create', 'delete', 'list', 'approve', 'export', 'share'];
export const CHAIN = 5; // inheritance depth
export const FOCUS_ROLES = 1000; // 200 chains of 5
export const OTHER_ROLES = 20; // per other tenant: 4 chains of 5
export const PERMS_PER_ROLE = 3;
export const WILDCARD_P = 0.1; // share of direct permissions that are "res:*"
export const POOL = 20_000;

/** The anchor's workload, draw for draw. */
export function anchorWorkload() {
  const { rnd, pick } = prng(0x2545f491);
  const roles = {}; // tenant -> [roleName]
  const roleParent = {}; // `${t}/${r}` -> `${t}/${r'}` (r inherits r')
  const rolePerms = {}; // `${t}/${r}` -> [perm pattern]
  for (const t of TENANTS) {
    const n = t === FOCUS ? FOCUS_ROLES : OTHER_ROLES;
    roles[t] = [];
    for (let i = 0; i < n; i++) {
      const r = `r${i}`;
      roles[t].push(r);
      if (i % CHAIN !== CHAIN - 1) roleParent[`${t}/${r}`] = `${t}/r${i + 1}`;
      const perms = new Set();
      while (perms.size < PERMS_PER_ROLE) {
        const res = pick(RESOURCES);
        perms.add(rnd() < WILDCARD_P ? `${res}:*` : `${res}:${pick(ACTIONS)}`);
      }
      rolePerms[`${t}/${r}`] = [...perms];
    }
  }
  // 10,000 user->role bindings:
  //  6,000: focus users u0..u2999, 2 roles each in t0
  //  2,000: focus users u0..u1999 also hold 1 role in another tenant
  //  2,000: users u3000..u4999 hold 1 role in another tenant only
  const bindings = []; // [user, role, tenant]
  for (let u = 0; u < 3000; u++) {
    const a = pick(roles[FOCUS]);
    let b = pick(roles[FOCUS]);
    while (b === a) b = pick(roles[FOCUS]);
    bindings.push([`u${u}`, a, FOCUS], [`u${u}`, b, FOCUS]);
  }
  for (let u = 0; u < 2000; u++) {
    const t = TENANTS[1 + Math.floor(rnd() * 99)];
    bindings.push([`u${u}`, pick(roles[t]), t]);
  }
  for (let u = 3000; u < 5000; u++) {
    const t = TENANTS[1 + Math.floor(rnd() * 99)];
    bindings.push([`u${u}`, pick(roles[t]), t]);
  }

  const userRoles = new Map(); // user -> [`${t}/${r}`]
  for (const [u, r, t] of bindings) {
    if (!userRoles.has(u)) userRoles.set(u, []);
    userRoles.get(u).push(`${t}/${r}`);
  }
  const closure = (qr) => {
    const out = [];
    for (let x = qr; x; x = roleParent[x]) out.push(x);
    return out;
  };
  // reference evaluator (ground truth)
  const effectivePatterns = (u, dom) => {
    const pats = new Set();
    for (const qr of userRoles.get(u) ?? []) {
      if (!qr.startsWith(`${dom}/`)) continue;
      for (const x of closure(qr)) for (const p of rolePerms[x]) pats.add(p);
    }
    return pats;
  };
  const refAllows = (u, dom, perm) => {
    const pats = effectivePatterns(u, dom);
    return pats.has(perm) || pats.has(`${perm.split(':')[0]}:*`);
  };

  // request pool: 80% allow / 20% deny, all in the focus tenant
  const requests = [];
  while (requests.length < POOL) {
    const wantAllow = rnd() < 0.8;
    if (wantAllow) {
      const u = `u${Math.floor(rnd() * 3000)}`;
      const pats = [...effectivePatterns(u, FOCUS)];
      const p = pick(pats);
      const [res, act] = p.split(':');
      requests.push({
        u,
        dom: FOCUS,
        perm: `${res}:${act === '*' ? pick(ACTIONS) : act}`,
        expect: true,
      });
    } else {
      // 3/4: focus user, ungranted permission; 1/4: user whose only roles are in other tenants
      const u =
        rnd() < 0.75 ? `u${Math.floor(rnd() * 3000)}` : `u${3000 + Math.floor(rnd() * 2000)}`;
      let perm;
      do {
        perm = `${pick(RESOURCES)}:${pick(ACTIONS)}`;
      } while (refAllows(u, FOCUS, perm));
      requests.push({ u, dom: FOCUS, perm, expect: false });
    }
  }
  const allowShare = requests.filter((r) => r.expect).length / POOL;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([rolePerms, roleParent, bindings, requests]))
    .digest('hex')
    .slice(0, 16);
  return {
    roles,
    roleParent,
    rolePerms,
    bindings,
    userRoles,
    closure,
    requests,
    allowShare,
    fingerprint,
  };
}

// ---------------------------------------------------------------------------------------------
// This engine's policy documents: the same roles, inheritance and bindings; one document per
// tenant. `withConditions` adds what the anchor's engines do not model.
// ---------------------------------------------------------------------------------------------

export const CONDITION_SHARE = 0.1;
const CORPORATE = { type: 'cidr', ranges: ['10.0.0.0/8', '2001:db8::/32'] };
const OFFICE_HOURS = {
  type: 'time-window',
  timeZone: 'Europe/Paris',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  from: '07:00',
  to: '21:00',
};
const NIGHT_SHIFT = {
  type: 'time-window',
  timeZone: 'America/New_York',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  from: '18:00',
  to: '08:00',
};
const OUTSIDE_OFFICE_NEEDS_MFA = {
  type: 'cidr',
  ranges: ['10.0.0.0/8', '2001:db8::/32'],
  onFail: 'step-up',
  stepUpMinutes: 15,
};

/** The deny rules of the focus tenant with conditions ("a few"). */
export const DENY_RULES = [
  {
    id: 'd1',
    name: 'no deletes at weekends',
    permissions: ['*:delete'],
    conditions: [
      {
        type: 'time-window',
        timeZone: 'Europe/Paris',
        days: ['sat', 'sun'],
        from: '00:00',
        to: '24:00',
      },
    ],
  },
  {
    id: 'd2',
    name: 'exports need recent MFA',
    permissions: ['*:export'],
    unless: [{ type: 'mfa-within', minutes: 10 }],
  },
  { id: 'd3', name: 'res7 is frozen', permissions: ['res7:write', 'res7:delete'] },
  {
    id: 'd4',
    name: 'chain ends never share',
    permissions: ['*:share'],
    subjects: [{ type: 'role', id: 'r4' }],
  },
  { id: 'd5', name: 'res13 from the office only', permissions: ['res13:*'], unless: [CORPORATE] },
];

/**
 * The policy documents, one per tenant. With `conditions`: CONDITION_SHARE of all bindings carry
 * a condition (CIDR, office hours in Paris, a night shift across midnight in New York, or
 * "outside the office network, MFA"), and the focus tenant has DENY_RULES.
 */
export function documents(w, { conditions = false } = {}) {
  const { rnd, pick } = prng(0x9e3779b9);
  const byTenant = new Map(TENANTS.map((t) => [t, { roles: [], bindings: [] }]));
  for (const t of TENANTS) {
    for (const r of w.roles[t]) {
      const parent = w.roleParent[`${t}/${r}`];
      byTenant.get(t).roles.push({
        id: r,
        name: `Role ${r}`,
        permissions: w.rolePerms[`${t}/${r}`],
        ...(parent ? { inherits: [parent.split('/')[1]] } : {}),
      });
    }
  }
  let conditional = 0;
  w.bindings.forEach(([u, r, t], k) => {
    const binding = { id: `b${k}`, roleId: r, subject: { type: 'user', id: u } };
    if (conditions && rnd() < CONDITION_SHARE) {
      binding.conditions = [pick([CORPORATE, OFFICE_HOURS, NIGHT_SHIFT, OUTSIDE_OFFICE_NEEDS_MFA])];
      conditional++;
    }
    byTenant.get(t).bindings.push(binding);
  });
  const docs = TENANTS.map((t) => ({
    schemaVersion: 1,
    tenantId: t,
    version: 1,
    roles: byTenant.get(t).roles,
    bindings: byTenant.get(t).bindings,
    ...(conditions && t === FOCUS ? { denyRules: DENY_RULES } : {}),
  }));
  return { docs, conditionalBindings: conditional };
}

/**
 * 64 request contexts: working hours, nights and weekends (Paris and New York), inside and outside
 * the office network (IPv4, IPv6, IPv4-mapped), fresh, old or no MFA.
 */
export function contexts() {
  const { pick } = prng(0x85ebca6b);
  const instants = [
    '2026-11-30T10:00:00Z', // Monday 11:00 Paris, 05:00 New York
    '2026-12-01T19:30:00Z', // Tuesday 20:30 Paris, 14:30 New York
    '2026-12-02T23:30:00Z', // Thursday 00:30 Paris, Wednesday 18:30 New York
    '2026-12-04T12:00:00Z', // Friday
    '2026-12-05T09:12:00Z', // Saturday
    '2026-12-06T22:00:00Z', // Sunday 23:00 Paris
    '2026-03-29T01:30:00Z', // DST day in Paris
    '2026-11-02T12:30:00Z', // the Monday after DST in New York
  ].map(Date.parse);
  const ips = [
    '10.1.2.3',
    '10.200.7.9',
    '203.0.113.50',
    '2001:db8::42',
    '2001:db9::1',
    '::ffff:10.9.8.7',
  ];
  const mfaAges = [undefined, 2 * 60_000, 9 * 60_000, 45 * 60_000];
  return Array.from({ length: 64 }, () => {
    const now = pick(instants);
    const mfaAge = pick(mfaAges);
    return {
      now,
      ip: pick(ips),
      ...(mfaAge === undefined ? {} : { mfaAt: now - mfaAge }),
      country: 'FR',
      deviceTrust: 'managed',
    };
  });
}

/** Batches of 100 checks: one user of the focus tenant each, 100 (resource, action) pairs. */
export function batches(w, count, size = 100) {
  const { rnd, pick } = prng(0x27d4eb2f);
  return Array.from({ length: count }, (_, k) => ({
    user: w.requests[Math.floor(rnd() * POOL)].u,
    context: k,
    checks: Array.from({ length: size }, () => ({
      action: pick(ACTIONS),
      resource: pick(RESOURCES),
    })),
  }));
}
