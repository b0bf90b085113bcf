/**
 * Conditions as the compiled index evaluates them: ranges as 32-bit words, time zones through a
 * cached UTC offset per hour, sets for countries. (The reference evaluator has its own, plainer
 * implementations; the property tests hold both to the same answers.)
 */
import type { Condition, ConditionType, DeviceTrustLevel } from './document.js';
import { maskOf, parseIpInto } from './ip.js';
import type { PolicyPrincipal, RequestContext } from './decision.js';

/** Minutes an MFA may be old to satisfy a condition that asks for step-up, unless it says. */
export const DEFAULT_STEP_UP_MINUTES = 15;

/** A requirement's outcome: it holds, it asks for step-up, or it fails. */
export const PASS = 0;
export const STEP_UP = 1;
export const FAIL = 2;
export type Outcome = typeof PASS | typeof STEP_UP | typeof FAIL;

export const DEVICE_RANK: Readonly<Record<DeviceTrustLevel, number>> = {
  none: 0,
  registered: 1,
  managed: 2,
  compliant: 3,
};
export const DAY_NAMES = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
];
const DAY_INDEX: Record<string, number> = {
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};
const MINUTE = 60_000;
/** An MFA timestamp this far in the future (clock skew) still counts; beyond, it does not. */
export const MFA_FUTURE_SKEW_MS = 60_000;

export interface CompiledCondition {
  readonly spec: Condition;
  readonly type: ConditionType;
  readonly onFail: 'deny' | 'step-up';
  /** For step-up: how recent an MFA must be (an mfa-within condition: its own minutes). */
  readonly stepUpMinutes: number;
  /** true: holds; false: does not; undefined: the context lacks what it needs (or it is malformed). */
  test(
    ctx: RequestContext | undefined,
    now: number,
    principal: PolicyPrincipal,
  ): boolean | undefined;
}

/** Whether the principal did MFA at most `minutes` ago (the limit included). */
export function mfaWithin(ctx: RequestContext | undefined, now: number, minutes: number): boolean {
  const at = ctx?.mfaAt;
  return at !== undefined && now - at <= minutes * MINUTE && at - now <= MFA_FUTURE_SKEW_MS;
}

/** A condition required by a grant or a deny rule's `unless`. */
export function requirement(
  c: CompiledCondition,
  ctx: RequestContext | undefined,
  now: number,
  principal: PolicyPrincipal,
): Outcome {
  if (c.test(ctx, now, principal) === true) return PASS;
  if (c.onFail === 'deny') return FAIL;
  // step-up: a condition other than mfa-within is satisfied by a recent enough MFA instead.
  if (c.type !== 'mfa-within' && mfaWithin(ctx, now, c.stepUpMinutes)) return PASS;
  return STEP_UP;
}

export function compileCondition(spec: Condition): CompiledCondition {
  const onFail = spec.onFail ?? (spec.type === 'mfa-within' ? 'step-up' : 'deny');
  const stepUpMinutes =
    spec.type === 'mfa-within' ? spec.minutes : (spec.stepUpMinutes ?? DEFAULT_STEP_UP_MINUTES);
  const base = { spec, type: spec.type, onFail, stepUpMinutes } as const;
  switch (spec.type) {
    case 'cidr': {
      const v4: number[] = [];
      const v6: number[] = [];
      const words = new Uint32Array(4);
      for (const range of spec.ranges) {
        const slash = range.indexOf('/');
        const n = parseIpInto(slash === -1 ? range : range.slice(0, slash), words);
        const bits = slash === -1 ? n * 32 : Number(range.slice(slash + 1));
        const target = n === 1 ? v4 : v6;
        for (let w = 0; w < n; w++)
          target.push((words[w] & maskOf(bits, w)) >>> 0, maskOf(bits, w));
      }
      const nets4 = Uint32Array.from(v4);
      const nets6 = Uint32Array.from(v6);
      return {
        ...base,
        test(ctx) {
          const ip = ctx?.ip;
          if (ip === undefined) return undefined;
          const n = parseIpInto(ip, address);
          if (n === 0) return undefined;
          if (n === 1) {
            const a = address[0];
            for (let i = 0; i < nets4.length; i += 2) {
              if ((a & nets4[i + 1]) >>> 0 === nets4[i]) return true;
            }
            return false;
          }
          for (let i = 0; i < nets6.length; i += 8) {
            if (
              (address[0] & nets6[i + 1]) >>> 0 === nets6[i] &&
              (address[1] & nets6[i + 3]) >>> 0 === nets6[i + 2] &&
              (address[2] & nets6[i + 5]) >>> 0 === nets6[i + 4] &&
              (address[3] & nets6[i + 7]) >>> 0 === nets6[i + 6]
            ) {
              return true;
            }
          }
          return false;
        },
      };
    }
    case 'time-window': {
      const clock = zoneClock(spec.timeZone);
      let days = 0;
      for (const d of spec.days ?? Object.keys(DAY_INDEX)) days |= 1 << DAY_INDEX[d];
      const from = hhmm(spec.from);
      const to = hhmm(spec.to);
      const crosses = to < from;
      return {
        ...base,
        test(_ctx, now) {
          const local = now + clock.offset(now);
          const day = Math.floor(local / 86_400_000);
          const minute = Math.floor((local - day * 86_400_000) / MINUTE);
          const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
          if (!crosses) return (days & (1 << weekday)) !== 0 && minute >= from && minute < to;
          // Across midnight: the part after midnight belongs to the window that began the day before.
          if (minute >= from) return (days & (1 << weekday)) !== 0;
          if (minute < to) return (days & (1 << ((weekday + 6) % 7))) !== 0;
          return false;
        },
      };
    }
    case 'mfa-within': {
      const minutes = spec.minutes;
      return { ...base, test: (ctx, now) => mfaWithin(ctx, now, minutes) };
    }
    case 'country': {
      const allowed = new Set(spec.in);
      return {
        ...base,
        test(ctx) {
          const c = ctx?.country;
          return c === undefined ? undefined : allowed.has(c);
        },
      };
    }
    case 'device-trust': {
      const min = DEVICE_RANK[spec.atLeast];
      return {
        ...base,
        test(ctx) {
          const level = ctx?.deviceTrust;
          if (level === undefined || !Object.hasOwn(DEVICE_RANK, level)) return undefined;
          return DEVICE_RANK[level] >= min;
        },
      };
    }
    case 'attribute': {
      const { key, op, value, valueFrom } = spec;
      const list = Array.isArray(value) ? new Set<unknown>(value) : undefined;
      return {
        ...base,
        test(ctx, _now, principal) {
          const actual = attribute(key, ctx, principal);
          if (actual === undefined) return undefined;
          if (list !== undefined) return op === 'in' ? list.has(actual) : !list.has(actual);
          const expected = valueFrom === undefined ? value : attribute(valueFrom, ctx, principal);
          if (expected === undefined) return undefined;
          return compare(op, actual, expected as string | number | boolean);
        },
      };
    }
  }
}

/** An attribute of the request: `principal.id` and `principal.kind`, or one of `context.attributes`. */
export function attribute(
  key: string,
  ctx: RequestContext | undefined,
  principal: PolicyPrincipal,
): string | number | boolean | undefined {
  if (key === 'principal.id') return principal.id;
  if (key === 'principal.kind') return principal.kind;
  const attrs = ctx?.attributes;
  if (attrs === undefined || !Object.prototype.hasOwnProperty.call(attrs, key)) return undefined;
  const v = attrs[key];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

/** eq/ne on any scalars; lt..gte between two numbers or two strings (else false). */
export function compare(
  op: string,
  a: string | number | boolean,
  b: string | number | boolean,
): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
  }
  if (typeof a !== typeof b || typeof a === 'boolean') return false;
  switch (op) {
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
  }
  return false;
}

function hhmm(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

/** The request's address, parsed (decisions are synchronous: one scratch serves them all). */
const address = new Uint32Array(4);

// ---------------------------------------------------------------------------------------------
// Time zones: the UTC offset at an instant, from Intl, cached per zone and hour. An hour whose
// start and end have different offsets holds a transition (DST): it is computed exactly each time.
// ---------------------------------------------------------------------------------------------

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

interface ZoneClock {
  offset(t: number): number;
}
const clocks = new Map<string, ZoneClock>();
const HOUR = 3_600_000;

function zoneClock(zone: string): ZoneClock {
  let clock = clocks.get(zone);
  if (clock) return clock;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const exact = (t: number): number => {
    const second = Math.floor(t / 1000) * 1000;
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    let s = 0;
    for (const part of format.formatToParts(second)) {
      const v = Number(part.value);
      if (part.type === 'year') y = v;
      else if (part.type === 'month') mo = v;
      else if (part.type === 'day') d = v;
      else if (part.type === 'hour') h = v;
      else if (part.type === 'minute') mi = v;
      else if (part.type === 'second') s = v;
    }
    return Date.UTC(y, mo - 1, d, h, mi, s) - second;
  };
  const byHour = new Map<number, number>();
  clock = {
    offset(t) {
      const hour = Math.floor(t / HOUR);
      let off = byHour.get(hour);
      if (off === undefined) {
        const first = exact(hour * HOUR);
        off = first === exact(hour * HOUR + HOUR - 1000) ? first : NaN;
        if (byHour.size >= 4096) byHour.clear();
        byHour.set(hour, off);
      }
      return off === off ? off : exact(t);
    },
  };
  clocks.set(zone, clock);
  return clock;
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

const SHORT_DAYS: Record<string, string> = {
  sun: 'Sun',
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
};

/** What the condition asks, for a tenant admin: "the IP address is in 10.0.0.0/8". */
export function describeCondition(c: Condition): string {
  switch (c.type) {
    case 'cidr':
      return `the IP address is in ${c.ranges.join(' or ')}`;
    case 'time-window': {
      const days = c.days ? ` on ${c.days.map((d) => SHORT_DAYS[d]).join(', ')}` : '';
      const across = hhmm(c.to) < hhmm(c.from) ? ' (across midnight)' : '';
      return `the time is from ${c.from} to ${c.to}${across}${days} in ${c.timeZone}`;
    }
    case 'mfa-within':
      return `the last MFA was at most ${c.minutes} minutes ago`;
    case 'country':
      return `the request comes from ${c.in.join(', ')}`;
    case 'device-trust':
      return `the device is at least ${c.atLeast}`;
    case 'attribute': {
      const words: Record<string, string> = {
        eq: 'is',
        ne: 'is not',
        in: 'is one of',
        'not-in': 'is none of',
        lt: 'is less than',
        lte: 'is at most',
        gt: 'is more than',
        gte: 'is at least',
      };
      const rhs =
        c.valueFrom !== undefined
          ? `attribute ${c.valueFrom}`
          : Array.isArray(c.value)
            ? c.value.map((v) => JSON.stringify(v)).join(', ')
            : JSON.stringify(c.value);
      return `attribute ${c.key} ${words[c.op]} ${rhs}`;
    }
  }
}

/** The step-up a condition asks for, in words: "MFA at most 15 minutes old". */
export function stepUpText(minutes: number): string {
  return `an MFA at most ${minutes} minutes old`;
}
