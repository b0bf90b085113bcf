/**
 * The reference evaluator: the semantics of README.md written as plainly as possible, with no
 * index. It walks every binding of the principal's subjects, every role along the inheritance
 * chains and every deny rule, and evaluates conditions with its own plain code (BigInt for IP
 * ranges, Intl on every call for time zones). It is slow on purpose.
 *
 * `referenceDecide` is what the property tests and the benchmark hold the compiled index to;
 * `explainDecision` is the same walk with a trace in words, behind `explain`.
 */
import {
  DEFAULT_STEP_UP_MINUTES,
  DEVICE_RANK,
  describeCondition,
  MFA_FUTURE_SKEW_MS,
} from './conditions.js';
import {
  decision,
  principalText,
  subjectText,
  type Decision,
  type PolicyPrincipal,
  type Reason,
  type RequestContext,
} from './decision.js';
import type {
  Condition,
  NormalizedBinding,
  NormalizedDenyRule,
  NormalizedPolicy,
  NormalizedRole,
} from './document.js';
import { isValidRequest, parsePattern, type Pattern } from './permission.js';

export interface Explanation {
  readonly decision: Decision;
  /** What was looked at, in order, in words a tenant admin understands. */
  readonly steps: readonly string[];
}

/** The decision of the reference evaluator (for tests and benchmarks: it is slow). */
export function referenceDecide(
  policy: NormalizedPolicy,
  principal: PolicyPrincipal,
  action: string,
  resource: string,
  context?: RequestContext,
): Decision {
  return evaluate(policy, principal, action, resource, context, undefined);
}

/** The decision with the full trace. */
export function explainDecision(
  policy: NormalizedPolicy,
  principal: PolicyPrincipal,
  action: string,
  resource: string,
  context?: RequestContext,
): Explanation {
  const steps: string[] = [];
  const d = evaluate(policy, principal, action, resource, context, steps);
  steps.push(`Decision: ${d.allowed ? 'allow' : 'deny'}: ${d.reason.message}.`);
  return { decision: d, steps };
}

// ---------------------------------------------------------------------------------------------

const PASS = 'pass';
const STEP_UP = 'step-up';
const FAIL = 'fail';
type Outcome = typeof PASS | typeof STEP_UP | typeof FAIL;

interface Evaluated {
  outcome: Outcome;
  /** For step-up: the MFA age it needs; for fail: the first failing condition. */
  minutes: number;
  condition?: Condition;
  words: string[];
}

function evaluate(
  policy: NormalizedPolicy,
  principal: PolicyPrincipal,
  action: string,
  resource: string,
  ctx: RequestContext | undefined,
  trace: string[] | undefined,
): Decision {
  const say = (line: string) => trace?.push(line);
  const v = policy.version;
  const deny = (reason: Reason, minutes?: number) => decision(false, reason, v, minutes);
  const who = principalText(principal);
  const groups = principal.groups ?? [];
  say(`Policy of tenant ${policy.tenantId}, version ${v}.`);
  say(
    `Question: may ${who}${groups.length ? ` (in groups ${groups.join(', ')})` : ''} ${action} ${resource}?`,
  );

  if (principal.tenantId !== undefined && principal.tenantId !== policy.tenantId) {
    say(
      `${who} belongs to tenant ${principal.tenantId}: nothing of tenant ${policy.tenantId} applies to it.`,
    );
    return deny({
      kind: 'cross-tenant',
      message: `${who} belongs to tenant ${principal.tenantId}, not to tenant ${policy.tenantId}`,
    });
  }
  if (!isValidRequest(action, resource)) {
    say('The action or the resource is malformed.');
    return deny({
      kind: 'invalid-request',
      message: `the request is malformed: action ${JSON.stringify(action)}, resource ${JSON.stringify(resource)}`,
    });
  }
  if (principal.apiKeyScopes !== undefined) {
    const scopes = principal.apiKeyScopes;
    const covering = scopes.find((s) => {
      const p = parsePattern(s);
      return typeof p !== 'string' && patternCovers(p, resource, action);
    });
    if (covering === undefined) {
      say(
        `The scopes of ${who} (${scopes.join(', ') || 'none'}) do not cover ${action} on ${resource}.`,
      );
      return deny({
        kind: 'outside-api-key-scopes',
        message: `the scopes of ${who} (${scopes.join(', ') || 'none'}) do not cover ${action} on ${resource}`,
      });
    }
    say(`The scope ${covering} of ${who} covers ${action} on ${resource}.`);
  }

  const now = ctx?.now ?? Date.now();
  const mine = (b: NormalizedBinding) =>
    (b.subject.type === principal.kind && b.subject.id === principal.id) ||
    (b.subject.type === 'group' && groups.includes(b.subject.id));
  const bindings = policy.bindings.filter(mine);

  // 1. Deny rules. (With a trace, the grants are walked even after a rule applies, to show them.)
  let hard: Decision | undefined;
  let soft:
    | { rule: NormalizedDenyRule; permission: Pattern; minutes: number; condition?: Condition }
    | undefined;
  let notCovering = 0;
  for (const rule of policy.denyRules) {
    const permission = rule.permissions.find(
      (p) =>
        patternCovers(p, resource, action) &&
        (rule.scope === undefined || atOrBelow(resource, rule.scope)),
    );
    if (!permission) {
      notCovering++;
      continue;
    }
    const name = ruleWords(rule);
    const target = appliesTo(policy, rule, principal, bindings, now);
    if (!target) {
      say(`Deny rule ${name} covers ${action} on ${resource} (${permission.text}) but not ${who}.`);
      continue;
    }
    const whenWords: string[] = [];
    let when = true;
    for (const c of rule.conditions) {
      const r = check(c, ctx, now, principal);
      whenWords.push(`${describeCondition(c)}: ${r.fact}`);
      if (r.holds === false) when = false;
    }
    if (!when) {
      say(
        `Deny rule ${name} covers the request but its conditions do not all hold (${whenWords.join('; ')}).`,
      );
      continue;
    }
    const ex = conjunction(rule.unless, ctx, now, principal);
    const prefix = `Deny rule ${name} covers ${action} on ${resource} (${permission.text}), ${target}${
      whenWords.length ? `, and its conditions hold (${whenWords.join('; ')})` : ''
    }`;
    if (rule.unless.length > 0 && ex.outcome === PASS) {
      say(`${prefix}, but its exception holds (${ex.words.join('; ')}): it does not apply.`);
      continue;
    }
    if (ex.outcome === STEP_UP) {
      say(
        `${prefix}; its exception would hold with an MFA at most ${ex.minutes} minutes old (${ex.words.join('; ')}).`,
      );
      if (soft === undefined || ex.minutes < soft.minutes) {
        soft = { rule, permission, minutes: ex.minutes, condition: ex.condition };
      }
      continue;
    }
    say(
      `${prefix}${rule.unless.length ? `, and its exception does not hold (${ex.words.join('; ')})` : ''}: it applies.`,
    );
    hard = deny({
      kind: 'deny-rule',
      message: `deny rule ${name} applies to ${permission.text}${rule.scope ? ` within ${rule.scope}` : ''}`,
      ruleId: rule.id,
      permission: permission.text,
    });
    if (!trace) return hard;
    break;
  }
  if (policy.denyRules.length === 0) say('The tenant has no deny rules.');
  else if (notCovering > 0 && !hard) {
    say(
      `${notCovering} deny rule${notCovering === 1 ? ' does' : 's do'} not cover ${action} on ${resource}.`,
    );
  }

  // 2. Grants.
  if (hard) say(`The deny rule overrides any allow; for information, the grants:`);
  if (bindings.length === 0) {
    say(`No role is bound to ${who}${groups.length ? ' or to its groups' : ''}.`);
  }
  let allow: Reason | undefined;
  let stepUp: { reason: Reason; minutes: number } | undefined;
  let failed: Reason | undefined;
  let expired: Reason | undefined;
  for (const b of bindings) {
    const roleWords = `role ${policy.roles.get(b.roleId)!.name}`;
    const bound = `${roleWords} (bound to ${subjectText(b.subject.type, b.subject.id)} by binding ${b.id}${
      b.scope ? `, within ${b.scope}` : ''
    })`;
    const matches = grantsOf(policy, b.roleId).filter((g) =>
      patternCovers(g.permission, resource, action),
    );
    if (matches.length === 0) {
      say(`${bound} grants nothing that covers ${action} on ${resource}.`);
      continue;
    }
    if (b.scope !== undefined && !atOrBelow(resource, b.scope)) {
      say(
        `${bound} would grant ${matches[0].permission.text}, but ${resource} is not within ${b.scope}.`,
      );
      continue;
    }
    for (const g of matches) {
      const path =
        g.via.length === 1
          ? `${bound} grants ${g.permission.text}`
          : `${bound} inherits ${g.via
              .slice(1)
              .map((r) => `role ${r.name}`)
              .join(', which inherits ')}, which grants ${g.permission.text}`;
      const base = {
        bindingId: b.id,
        roleId: g.via[g.via.length - 1].id,
        permission: g.permission.text,
      };
      if (now >= b.expiresAt) {
        say(`${path}, but the binding expired at ${b.expiresAtText}.`);
        expired ??= {
          kind: 'binding-expired',
          message: `binding ${b.id} (${roleWords} for ${subjectText(b.subject.type, b.subject.id)}) expired at ${b.expiresAtText}`,
          ...base,
        };
        continue;
      }
      const conditions = [...b.conditions, ...g.conditions];
      const r = conjunction(conditions, ctx, now, principal);
      const facts = r.words.length ? ` (${r.words.join('; ')})` : '';
      if (r.outcome === PASS) {
        say(
          `${path}${conditions.length ? `, and its conditions hold${facts}` : ''}: ${
            hard ? 'it would allow, were it not for the deny rule' : 'allowed'
          }.`,
        );
        allow ??= { kind: 'granted', message: path, ...base };
      } else if (r.outcome === STEP_UP) {
        say(`${path}, once the principal has done MFA within ${r.minutes} minutes${facts}.`);
        if (stepUp === undefined || r.minutes > stepUp.minutes) {
          stepUp = {
            minutes: r.minutes,
            reason: {
              kind: 'step-up-required',
              message: `MFA required: ${path} with an MFA at most ${r.minutes} minutes old`,
              ...base,
              condition: r.condition!.type,
            },
          };
        }
      } else {
        say(`${path}, but a condition fails${facts}.`);
        failed ??= {
          kind: 'condition-failed',
          message: `${path} only if ${describeCondition(r.condition!)}, which does not hold`,
          ...base,
          condition: r.condition!.type,
        };
      }
    }
  }

  // 3. Together.
  if (hard) return hard;
  if (soft !== undefined && (allow !== undefined || stepUp !== undefined)) {
    const minutes = allow !== undefined ? soft.minutes : Math.min(soft.minutes, stepUp!.minutes);
    return deny(
      {
        kind: 'step-up-required',
        message: `MFA required: deny rule ${ruleWords(soft.rule)} applies to ${soft.permission.text} unless ${describeCondition(
          soft.condition!,
        )}`,
        ruleId: soft.rule.id,
        permission: soft.permission.text,
        condition: soft.condition!.type,
      },
      minutes,
    );
  }
  if (allow !== undefined) return decision(true, allow, v);
  if (stepUp !== undefined) return deny(stepUp.reason, stepUp.minutes);
  if (failed !== undefined) return deny(failed);
  if (expired !== undefined) return deny(expired);
  return deny({
    kind: 'no-grant',
    message: `no role bound to ${who}${groups.length ? ' or its groups' : ''} grants ${action} on ${resource}`,
  });
}

function ruleWords(rule: NormalizedDenyRule): string {
  return rule.name === rule.id ? `'${rule.id}'` : `'${rule.name}' (${rule.id})`;
}

/** Whom a deny rule targets, in words, when it targets the principal; undefined when not. */
function appliesTo(
  policy: NormalizedPolicy,
  rule: NormalizedDenyRule,
  principal: PolicyPrincipal,
  bindings: readonly NormalizedBinding[],
  now: number,
): string | undefined {
  if (rule.subjects === undefined) return 'which applies to everyone';
  for (const s of rule.subjects) {
    if (s.type === principal.kind && s.id === principal.id)
      return `which names ${subjectText(s.type, s.id)}`;
    if (s.type === 'group' && (principal.groups ?? []).includes(s.id))
      return `which names group ${s.id}`;
    if (s.type === 'role') {
      const through = bindings.find((b) => now < b.expiresAt && inherits(policy, b.roleId, s.id));
      if (through)
        return `which names role ${policy.roles.get(s.id)?.name ?? s.id}, held through binding ${through.id}`;
    }
  }
  return undefined;
}

function inherits(
  policy: NormalizedPolicy,
  roleId: string,
  target: string,
  seen = new Set<string>(),
): boolean {
  if (roleId === target) return true;
  if (seen.has(roleId)) return false;
  seen.add(roleId);
  return (policy.roles.get(roleId)?.inherits ?? []).some((p) => inherits(policy, p, target, seen));
}

interface RoleGrant {
  permission: Pattern;
  via: NormalizedRole[];
  conditions: Condition[];
}

/** Every permission a role grants, along every inheritance path, with the roles' conditions on it. */
function grantsOf(policy: NormalizedPolicy, roleId: string): RoleGrant[] {
  const out: RoleGrant[] = [];
  const visit = (id: string, via: NormalizedRole[], conditions: Condition[]) => {
    const role = policy.roles.get(id)!;
    const path = [...via, role];
    const conds = [...conditions, ...role.conditions];
    for (const permission of role.permissions)
      out.push({ permission, via: path, conditions: conds });
    for (const parent of role.inherits) visit(parent, path, conds);
  };
  visit(roleId, [], []);
  return out;
}

function atOrBelow(resource: string, path: string): boolean {
  return resource === path || resource.startsWith(`${path}/`);
}

function patternCovers(p: Pattern, resource: string, action: string): boolean {
  if (p.action !== '*' && p.action !== action) return false;
  if (p.resource === '*') return true;
  if (p.below) return resource.startsWith(`${p.resource}/`);
  return atOrBelow(resource, p.resource);
}

// ---------------------------------------------------------------------------------------------
// Conditions, plainly
// ---------------------------------------------------------------------------------------------

function conjunction(
  conditions: readonly Condition[],
  ctx: RequestContext | undefined,
  now: number,
  principal: PolicyPrincipal,
): Evaluated {
  const words: string[] = [];
  let outcome: Outcome = PASS;
  let minutes = Infinity;
  let condition: Condition | undefined;
  let failed: Condition | undefined;
  for (const c of conditions) {
    const r = check(c, ctx, now, principal);
    const need = c.type === 'mfa-within' ? c.minutes : (c.stepUpMinutes ?? DEFAULT_STEP_UP_MINUTES);
    const onFail = c.onFail ?? (c.type === 'mfa-within' ? 'step-up' : 'deny');
    let o: Outcome;
    if (r.holds === true) o = PASS;
    else if (onFail === 'deny') o = FAIL;
    else if (c.type !== 'mfa-within' && mfaAge(ctx, now, need)) o = PASS;
    else o = STEP_UP;
    words.push(
      `${describeCondition(c)}: ${r.fact}${
        r.holds !== true && o === PASS ? `, made up for by an MFA at most ${need} minutes old` : ''
      }`,
    );
    if (o === FAIL) {
      failed ??= c;
    } else if (o === STEP_UP) {
      if (outcome === PASS) outcome = STEP_UP;
      if (need < minutes) {
        minutes = need;
        condition = c;
      }
    }
  }
  if (failed) return { outcome: FAIL, minutes: Infinity, condition: failed, words };
  return { outcome, minutes, condition, words };
}

function mfaAge(ctx: RequestContext | undefined, now: number, minutes: number): boolean {
  if (ctx?.mfaAt === undefined) return false;
  const age = now - ctx.mfaAt;
  return age <= minutes * 60_000 && -age <= MFA_FUTURE_SKEW_MS;
}

/** Whether a condition holds (undefined: the context lacks what it needs), and the fact, in words. */
function check(
  c: Condition,
  ctx: RequestContext | undefined,
  now: number,
  principal: PolicyPrincipal,
): { holds: boolean | undefined; fact: string } {
  switch (c.type) {
    case 'cidr': {
      if (ctx?.ip === undefined) return { holds: undefined, fact: 'no IP address is known' };
      const ip = ipToBigInt(ctx.ip);
      if (ip === undefined) return { holds: undefined, fact: `"${ctx.ip}" is not an IP address` };
      const holds = c.ranges.some((range) => {
        const [addr, bitsText] = range.split('/');
        const net = ipToBigInt(addr)!;
        if (net.v6 !== ip.v6) return false;
        const width = ip.v6 ? 128n : 32n;
        const bits = bitsText === undefined ? width : BigInt(bitsText);
        const shift = width - bits;
        return ip.value >> shift === net.value >> shift;
      });
      return { holds, fact: `the IP address is ${ctx.ip}` };
    }
    case 'time-window': {
      const { weekday, minute } = localTime(c.timeZone, now);
      const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][weekday];
      const prev = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(weekday + 6) % 7];
      const days: readonly string[] = c.days ?? ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
      const from = toMinutes(c.from);
      const to = toMinutes(c.to);
      let holds: boolean;
      if (from < to) holds = days.includes(day) && minute >= from && minute < to;
      else holds = (minute >= from && days.includes(day)) || (minute < to && days.includes(prev));
      const hh = String(Math.floor(minute / 60)).padStart(2, '0');
      const mm = String(minute % 60).padStart(2, '0');
      const names = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
      return { holds, fact: `it is ${names[weekday]} ${hh}:${mm} in ${c.timeZone}` };
    }
    case 'mfa-within': {
      if (ctx?.mfaAt === undefined) return { holds: false, fact: 'no MFA is known' };
      const age = now - ctx.mfaAt;
      return {
        holds: mfaAge(ctx, now, c.minutes),
        fact:
          age < 0
            ? `the MFA is dated ${Math.round(-age / 1000)} s in the future`
            : `the last MFA was ${Math.floor(age / 60_000)} min ${Math.floor((age % 60_000) / 1000)} s ago`,
      };
    }
    case 'country':
      return ctx?.country === undefined
        ? { holds: undefined, fact: 'no country is known' }
        : { holds: c.in.includes(ctx.country), fact: `the request comes from ${ctx.country}` };
    case 'device-trust': {
      const level = ctx?.deviceTrust;
      if (level === undefined || !Object.hasOwn(DEVICE_RANK, level)) {
        return { holds: undefined, fact: 'the device trust is not known' };
      }
      return {
        holds: DEVICE_RANK[level] >= DEVICE_RANK[c.atLeast],
        fact: `the device is ${level}`,
      };
    }
    case 'attribute': {
      const get = (key: string) =>
        key === 'principal.id'
          ? principal.id
          : key === 'principal.kind'
            ? principal.kind
            : ctx?.attributes && Object.hasOwn(ctx.attributes, key)
              ? ctx.attributes[key]
              : undefined;
      const scalar = (x: unknown) =>
        typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? x : undefined;
      const a = scalar(get(c.key));
      if (a === undefined) return { holds: undefined, fact: `attribute ${c.key} is not given` };
      const fact = `attribute ${c.key} is ${JSON.stringify(a)}`;
      if (Array.isArray(c.value)) {
        const inList = c.value.includes(a);
        return { holds: c.op === 'in' ? inList : !inList, fact };
      }
      const b = c.valueFrom === undefined ? c.value : scalar(get(c.valueFrom));
      if (b === undefined)
        return { holds: undefined, fact: `attribute ${c.valueFrom} is not given` };
      let holds: boolean;
      if (c.op === 'eq') holds = a === b;
      else if (c.op === 'ne') holds = a !== b;
      else if (typeof a !== typeof b || typeof a === 'boolean') holds = false;
      else if (c.op === 'lt') holds = a < b;
      else if (c.op === 'lte') holds = a <= b;
      else if (c.op === 'gt') holds = a > b;
      else holds = a >= b;
      return {
        holds,
        fact:
          c.valueFrom === undefined ? fact : `${fact} and ${c.valueFrom} is ${JSON.stringify(b)}`,
      };
    }
  }
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

const weekdayFormats = new Map<string, Intl.DateTimeFormat>();
function localTime(zone: string, t: number): { weekday: number; minute: number } {
  let f = weekdayFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    weekdayFormats.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(t).map((p) => [p.type, p.value]));
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday);
  return { weekday, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** An address as a BigInt (IPv4-mapped IPv6 as IPv4), or undefined. */
function ipToBigInt(text: string): { v6: boolean; value: bigint } | undefined {
  const s = text.split('%')[0];
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const octets = v4.slice(1).map((x) => (x.length > 1 && x.startsWith('0') ? 256 : Number(x)));
    if (octets.some((o) => o > 255)) return undefined;
    return { v6: false, value: octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n) };
  }
  if (!s.includes(':')) return undefined;
  let hex = s;
  const embedded = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (embedded) {
    const inner = ipToBigInt(embedded[2]);
    if (!inner || inner.v6) return undefined;
    hex = `${embedded[1]}${(inner.value >> 16n).toString(16)}:${(inner.value & 0xffffn).toString(16)}`;
  }
  const halves = hex.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < (halves.length === 2 ? 1 : 0)) return undefined;
  const all = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const value = all.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
  if (value >> 32n === 0xffffn) return { v6: false, value: value & 0xffffffffn };
  return { v6: true, value };
}
