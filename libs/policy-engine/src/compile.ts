/**
 * `compile(document)`: one tenant's policy as an in-memory index, and its `decide`.
 *
 * Every resource path and action that a permission names is interned as a small integer; a
 * permission is then one number, `((pathId * 2 + below) * 65536 + actionId)` (`*` is id 0 on
 * either side). Per subject (user, group, API key, service account), with role inheritance
 * flattened and each binding's scope folded into its permissions (`*:read` bound within
 * `projects/42` is `projects/42:read`):
 *  - unconditional, non-expiring grants: a sorted range of such numbers in one Float64Array for
 *    the tenant, each with a ready-made allow decision;
 *  - grants with conditions or an expiry: number -> grants, looked at only when the first does
 *    not allow;
 *  - the roles the subject holds (deny rules may name a role), with their expiry.
 * Deny rules: number -> rules, for the tenant.
 *
 * A request is turned into the numbers that could cover it (its path's prefixes up to the deepest
 * path in the policy, `path/*` forms, `*`; its action and `*`) and each is looked up: a decision
 * touches a handful of cache lines and allocates nothing when an unconditional grant allows.
 */
import {
  compileCondition,
  describeCondition,
  FAIL,
  PASS,
  requirement,
  STEP_UP,
  stepUpText,
  type CompiledCondition,
  type Outcome,
} from './conditions.js';
import {
  decision,
  principalText,
  subjectText,
  type Check,
  type Decision,
  type PolicyPrincipal,
  type RequestContext,
} from './decision.js';
import {
  normalizePolicy,
  type Condition,
  type NormalizedBinding,
  type NormalizedDenyRule,
  type NormalizedPolicy,
  type NormalizedRole,
  type PolicyDocument,
} from './document.js';
import { explainDecision, type Explanation } from './reference.js';
import { isValidRequest, narrow, scopesCover, type Pattern } from './permission.js';

/** Compiles a policy document (validated: throws ContractValidationError naming the fields). */
export function compile(document: PolicyDocument | unknown): CompiledPolicy {
  return new CompiledPolicy(normalizePolicy(document));
}

/** Distinct actions one tenant's policy may name (action ids share a number with path ids). */
export const MAX_ACTIONS = 65_535;
const ACTION_SPAN = 65_536;

/** A grant with conditions or an expiry. */
interface Grant {
  readonly binding: NormalizedBinding;
  readonly role: NormalizedRole;
  readonly via: readonly NormalizedRole[];
  readonly permission: Pattern;
  readonly conditions: readonly CompiledCondition[];
  allow?: Decision;
  /** grantText(binding, via, permission), made when first needed. */
  text?: string;
  /** Its outcome for the decision (or batch) numbered `epoch`: it depends on the principal and context only. */
  epoch: number;
  outcome: number;
  minutes: number;
  condition: CompiledCondition | undefined;
}

/** What a subject has besides its unconditional grants. */
interface SubjectExtra {
  /** Permission number -> grants with conditions or an expiry. */
  slow: Map<number, Grant[]> | undefined;
  /** Role id (of the roles deny rules name) -> the latest expiry of a binding through which the subject holds it. */
  readonly roles: Map<string, number>;
}

interface CompiledDenyRule {
  readonly rule: NormalizedDenyRule;
  /** Its outcome for the decision (or batch) numbered `epoch` (NOT_APPLIED, HARD or SOFT). */
  epoch: number;
  outcome: number;
  minutes: number;
  condition: CompiledCondition | undefined;
  readonly everyone: boolean;
  readonly users?: ReadonlySet<string>;
  readonly groups?: ReadonlySet<string>;
  readonly apiKeys?: ReadonlySet<string>;
  readonly serviceAccounts?: ReadonlySet<string>;
  readonly roles?: readonly string[];
  readonly conditions: readonly CompiledCondition[];
  readonly unless: readonly CompiledCondition[];
}

interface DenyEntry {
  readonly rule: CompiledDenyRule;
  readonly permission: Pattern;
  deny?: Decision;
}

interface Effective {
  readonly permission: Pattern;
  /** Conditions of the roles on the way, from the bound role to the one holding the permission. */
  readonly conditions: readonly Condition[];
  readonly via: readonly NormalizedRole[];
}

const NONE = new Map<string, number>();

export class CompiledPolicy {
  readonly tenantId: string;
  readonly version: number;
  /** The validated document, templates instantiated: what `explain` walks. */
  readonly policy: NormalizedPolicy;
  /** Counts, for logs and benchmarks. */
  readonly stats = {
    subjects: 0,
    paths: 0,
    actions: 0,
    fastGrants: 0,
    conditionalGrants: 0,
    denyRules: 0,
  };

  private readonly pathIds = new Map<string, number>();
  private readonly actionIds = new Map<string, number>();
  /** Segments of the deepest interned path: a request's longer prefixes cannot match. */
  private maxDepth = 0;
  private starGrants = false;
  private starDenies = false;
  private readonly users = new Map<string, number>();
  private readonly groups = new Map<string, number>();
  private readonly apiKeys = new Map<string, number>();
  private readonly serviceAccounts = new Map<string, number>();
  /**
   * Subject s's unconditional grants: keys[offsets[s] .. offsets[s + 1]), sorted; for each, the
   * binding (its index in policy.bindings) and the role path that grant it, and its allow
   * decision, made when first returned (ready-made decisions for every grant would cost ~0.5 KB
   * each, mostly the sentence).
   */
  private readonly offsets: Int32Array;
  private readonly keys: Float64Array;
  private readonly grantBinding: Int32Array;
  private readonly grantPath: Effective[];
  private readonly allows: (Decision | undefined)[];
  private readonly extras: (SubjectExtra | undefined)[] = [];
  private readonly denies: Map<number, DenyEntry[]> | undefined;
  private readonly conditionCache = new Map<string, CompiledCondition>();
  /** Scratch for a decision's candidate path codes (decisions are synchronous). */
  private readonly scratch: number[] = [];
  private readonly denyLists: DenyEntry[][] = [];
  private readonly grantLists: Grant[][] = [];
  private readonly groupScratch: number[] = [];
  private busy = false;
  /** Numbers each decision (each batch): outcomes memoized under another number are stale. */
  private epoch = 0;

  constructor(policy: NormalizedPolicy) {
    this.policy = policy;
    this.tenantId = policy.tenantId;
    this.version = policy.version;
    const effective = this.effectiveGrants(policy);
    const fast: Map<number, { binding: number; path: Effective }>[] = [];
    const subjectOf = (type: string, id: string): number => {
      const map = this.subjectMap(type);
      let s = map.get(id);
      if (s === undefined) {
        s = fast.length;
        map.set(id, s);
        fast.push(new Map());
        this.extras.push(undefined);
      }
      return s;
    };
    const namedRoles = new Set(
      policy.denyRules.flatMap(
        (r) => r.subjects?.filter((x) => x.type === 'role').map((x) => x.id) ?? [],
      ),
    );
    const extraOf = (s: number): SubjectExtra =>
      (this.extras[s] ??= { slow: undefined, roles: new Map() });

    policy.bindings.forEach((b, bindingIndex) => {
      const s = subjectOf(b.subject.type, b.subject.id);
      const bindingConditions = b.conditions.map((c) => this.condition(c));
      for (const e of effective(b.roleId)) {
        const p = b.scope === undefined ? e.permission : narrow(e.permission, b.scope);
        if (p === null) continue;
        const key = this.intern(p, 'grant');
        const role = e.via[e.via.length - 1];
        if (
          bindingConditions.length === 0 &&
          e.conditions.length === 0 &&
          b.expiresAt === Infinity
        ) {
          if (!fast[s].has(key)) fast[s].set(key, { binding: bindingIndex, path: e });
        } else {
          this.stats.conditionalGrants++;
          const extra = extraOf(s);
          const list = (extra.slow ??= new Map()).get(key);
          const grant: Grant = {
            binding: b,
            role,
            via: e.via,
            permission: e.permission,
            conditions: [...bindingConditions, ...e.conditions.map((c) => this.condition(c))],
            epoch: -1,
            outcome: PASS,
            minutes: Infinity,
            condition: undefined,
          };
          if (list) list.push(grant);
          else extra.slow.set(key, [grant]);
        }
      }
      // The roles deny rules name, that the subject holds through this binding.
      if (namedRoles.size > 0) {
        for (const r of roleClosure(policy, b.roleId)) {
          if (!namedRoles.has(r)) continue;
          const roles = extraOf(s).roles;
          const held = roles.get(r);
          if (held === undefined || held < b.expiresAt) roles.set(r, b.expiresAt);
        }
      }
    });

    // Unconditional grants, flat: one sorted range of numbers per subject.
    this.offsets = new Int32Array(fast.length + 1);
    let total = 0;
    for (const m of fast) total += m.size;
    this.keys = new Float64Array(total);
    this.grantBinding = new Int32Array(total);
    this.grantPath = new Array<Effective>(total);
    this.allows = new Array<Decision | undefined>(total).fill(undefined);
    let at = 0;
    fast.forEach((m, s) => {
      this.offsets[s] = at;
      for (const k of [...m.keys()].sort((x, y) => x - y)) {
        const g = m.get(k)!;
        this.keys[at] = k;
        this.grantBinding[at] = g.binding;
        this.grantPath[at] = g.path;
        at++;
      }
    });
    this.offsets[fast.length] = at;
    this.stats.fastGrants = total;
    this.stats.subjects = fast.length;

    if (policy.denyRules.length > 0) {
      const denies = new Map<number, DenyEntry[]>();
      for (const rule of policy.denyRules) {
        const compiled = this.compileDeny(rule);
        for (const permission of rule.permissions) {
          const p = rule.scope === undefined ? permission : narrow(permission, rule.scope);
          if (p === null) continue;
          const key = this.intern(p, 'deny');
          const list = denies.get(key);
          if (list) list.push({ rule: compiled, permission });
          else denies.set(key, [{ rule: compiled, permission }]);
        }
      }
      this.denies = denies;
      this.stats.denyRules = policy.denyRules.length;
    }
    this.stats.paths = this.pathIds.size;
    this.stats.actions = this.actionIds.size;
  }

  /**
   * Allow or deny `action` on `resource` for `principal`, with the reason and obligations.
   * Never throws for a malformed request (it is a deny); fails closed.
   */
  decide(
    principal: PolicyPrincipal,
    action: string,
    resource: string,
    context?: RequestContext,
  ): Decision {
    const tenantId = principal.tenantId;
    if (tenantId !== undefined && tenantId !== this.tenantId) return this.crossTenant(principal);
    const groups = this.busy ? [] : this.groupScratch;
    const gn = this.groupSubjects(principal, groups);
    return this.decideOne(
      principal,
      this.own(principal),
      groups,
      gn,
      action,
      resource,
      context,
      ++this.epoch,
    );
  }

  /**
   * Many checks for one principal and context (what a page needs), in order. The principal is
   * looked up once, and each condition and deny rule is evaluated at most once for the batch.
   */
  decideBatch(
    principal: PolicyPrincipal,
    checks: readonly Check[],
    context?: RequestContext,
  ): Decision[] {
    const out = new Array<Decision>(checks.length);
    const tenantId = principal.tenantId;
    if (tenantId !== undefined && tenantId !== this.tenantId) {
      return out.fill(this.crossTenant(principal));
    }
    const groups: number[] = [];
    const gn = this.groupSubjects(principal, groups);
    const own = this.own(principal);
    // One clock for the whole batch, so that every check sees the same instant.
    const ctx = context?.now === undefined ? { ...context, now: Date.now() } : context;
    const epoch = ++this.epoch;
    for (let i = 0; i < checks.length; i++) {
      out[i] = this.decideOne(
        principal,
        own,
        groups,
        gn,
        checks[i].action,
        checks[i].resource,
        ctx,
        epoch,
      );
    }
    return out;
  }

  /** The decision and every step that led to it, in words. */
  explain(
    principal: PolicyPrincipal,
    action: string,
    resource: string,
    context?: RequestContext,
  ): Explanation {
    return explainDecision(this.policy, principal, action, resource, context);
  }

  // -------------------------------------------------------------------------------------------

  /** The principal's own subject number. A principal is never a group (fail closed). */
  private own(principal: PolicyPrincipal): number | undefined {
    const kind: string = principal.kind;
    return (kind === 'group' ? NONE : this.subjectMap(kind)).get(principal.id);
  }

  /** The subject numbers of the principal's groups that have bindings, into `out`; their count. */
  private groupSubjects(principal: PolicyPrincipal, out: number[]): number {
    const groups = principal.groups;
    if (groups === undefined || this.groups.size === 0) return 0;
    let n = 0;
    for (let i = 0; i < groups.length; i++) {
      const g = this.groups.get(groups[i]);
      if (g !== undefined) out[n++] = g;
    }
    return n;
  }

  private decideOne(
    principal: PolicyPrincipal,
    own: number | undefined,
    groups: number[],
    gn: number,
    action: string,
    resource: string,
    context: RequestContext | undefined,
    epoch: number,
  ): Decision {
    if (!isValidRequest(action, resource)) return this.invalid(action, resource);
    const scopes = principal.apiKeyScopes;
    if (scopes !== undefined && !scopesCover(scopes, resource, action)) {
      return this.outsideScopes(principal, action, resource);
    }
    const codes = this.busy ? [] : this.scratch;
    const n = this.candidates(resource, codes);
    const act = this.actionIds.get(action) ?? -1;
    let allow = own === undefined ? undefined : this.fast(own, codes, n, act);
    for (let i = 0; i < gn && allow === undefined; i++) allow = this.fast(groups[i], codes, n, act);
    // The common case: an unconditional grant, and no deny rule names anything like the request.
    if (allow !== undefined && (this.denies === undefined || !this.denyMayApply(codes, n, act))) {
      return allow;
    }
    return this.evaluate(
      principal,
      own,
      groups,
      gn,
      allow,
      codes,
      n,
      act,
      action,
      resource,
      context,
      epoch,
    );
  }

  /** The path codes (`pathId * 2 + below`) that could cover `resource`, into `out`; their count. `*` is left out. */
  private candidates(resource: string, out: number[]): number {
    if (this.maxDepth === 0) return 0;
    let end = resource.indexOf('/');
    if (end === -1) {
      const id = this.pathIds.get(resource);
      if (id === undefined) return 0;
      out[0] = id * 2;
      return 1;
    }
    let n = 0;
    for (let depth = 1; ; depth++) {
      const id = this.pathIds.get(end === -1 ? resource : resource.slice(0, end));
      if (id !== undefined) {
        out[n++] = id * 2;
        if (end !== -1) out[n++] = id * 2 + 1;
      }
      if (end === -1 || depth >= this.maxDepth) return n;
      end = resource.indexOf('/', end + 1);
    }
  }

  /** The first unconditional grant of subject `s` covering the request. */
  private fast(s: number, codes: number[], n: number, act: number): Decision | undefined {
    const lo = this.offsets[s];
    const hi = this.offsets[s + 1];
    if (lo === hi) return undefined;
    let j: number;
    if (this.starGrants) {
      if (act > 0 && (j = search(this.keys, lo, hi, act)) >= 0) return this.allowAt(j);
      if ((j = search(this.keys, lo, hi, 0)) >= 0) return this.allowAt(j);
    }
    for (let i = 0; i < n; i++) {
      const base = codes[i] * ACTION_SPAN;
      if (act > 0 && (j = search(this.keys, lo, hi, base + act)) >= 0) return this.allowAt(j);
      if ((j = search(this.keys, lo, hi, base)) >= 0) return this.allowAt(j);
    }
    return undefined;
  }

  /** The allow decision of unconditional grant j (made once, then shared). */
  private allowAt(j: number): Decision {
    const made = this.allows[j];
    if (made !== undefined) return made;
    const b = this.policy.bindings[this.grantBinding[j]];
    const e = this.grantPath[j];
    return (this.allows[j] = decision(
      true,
      {
        kind: 'granted',
        message: grantText(b, e.via, e.permission),
        bindingId: b.id,
        roleId: e.via[e.via.length - 1].id,
        permission: e.permission.text,
      },
      this.version,
      undefined,
      true,
    ));
  }

  /** Whether some deny rule's permission covers the request (whatever its subjects and conditions). */
  private denyMayApply(codes: number[], n: number, act: number): boolean {
    const d = this.denies!;
    if (this.starDenies && ((act > 0 && d.has(act)) || d.has(0))) return true;
    for (let i = 0; i < n; i++) {
      const base = codes[i] * ACTION_SPAN;
      if ((act > 0 && d.has(base + act)) || d.has(base)) return true;
    }
    return false;
  }

  /** Every list in `map` whose permission number covers the request, into `out` from `at`; the new count. */
  private collect<T>(
    map: Map<number, T>,
    star: boolean,
    codes: number[],
    n: number,
    act: number,
    out: T[],
    at: number,
  ): number {
    let v: T | undefined;
    if (star) {
      if (act > 0 && (v = map.get(act)) !== undefined) out[at++] = v;
      if ((v = map.get(0)) !== undefined) out[at++] = v;
    }
    for (let i = 0; i < n; i++) {
      const base = codes[i] * ACTION_SPAN;
      if (act > 0 && (v = map.get(base + act)) !== undefined) out[at++] = v;
      if ((v = map.get(base)) !== undefined) out[at++] = v;
    }
    return at;
  }

  private evaluate(
    principal: PolicyPrincipal,
    own: number | undefined,
    groups: number[],
    gn: number,
    fastAllow: Decision | undefined,
    codes: number[],
    n: number,
    act: number,
    action: string,
    resource: string,
    context: RequestContext | undefined,
    epoch: number,
  ): Decision {
    const now = context?.now ?? Date.now();
    const reentrant = this.busy;
    this.busy = true;
    try {
      // 1. Deny rules: a rule that applies outright decides; one that MFA would lift is kept.
      let soft: DenyEntry | undefined;
      let softMinutes = Infinity;
      let softCondition: CompiledCondition | undefined;
      if (this.denies !== undefined) {
        const lists: DenyEntry[][] = reentrant ? [] : this.denyLists;
        const count = this.collect(this.denies, this.starDenies, codes, n, act, lists, 0);
        for (let i = 0; i < count; i++) {
          const entries = lists[i];
          for (let k = 0; k < entries.length; k++) {
            const entry = entries[k];
            const rule = entry.rule;
            if (rule.epoch !== epoch)
              this.ruleOutcome(rule, principal, own, groups, gn, context, now, epoch);
            if (rule.outcome === NOT_APPLIED) continue;
            if (rule.outcome === SOFT) {
              if (rule.minutes < softMinutes) {
                soft = entry;
                softMinutes = rule.minutes;
                softCondition = rule.condition;
              }
              continue;
            }
            return (entry.deny ??= decision(
              false,
              {
                kind: 'deny-rule',
                message: `deny rule ${ruleName(rule.rule)} applies to ${entry.permission.text}${
                  rule.rule.scope ? ` within ${rule.rule.scope}` : ''
                }${unlessText(rule.unless)}`,
                ruleId: rule.rule.id,
                permission: entry.permission.text,
              },
              this.version,
              undefined,
              true,
            ));
          }
        }
      }

      // 2. Grants: the unconditional one found, else those with conditions or an expiry.
      let allow = fastAllow;
      let stepUp: Grant | undefined;
      let stepUpMinutes = -Infinity;
      let stepUpCondition: CompiledCondition | undefined;
      let failed: Grant | undefined;
      let failedCondition: CompiledCondition | undefined;
      let expired: Grant | undefined;
      if (allow === undefined) {
        const lists: Grant[][] = reentrant ? [] : this.grantLists;
        let count = 0;
        let slow = own === undefined ? undefined : this.extras[own]?.slow;
        if (slow !== undefined)
          count = this.collect(slow, this.starGrants, codes, n, act, lists, count);
        for (let i = 0; i < gn; i++) {
          slow = this.extras[groups[i]]?.slow;
          if (slow !== undefined)
            count = this.collect(slow, this.starGrants, codes, n, act, lists, count);
        }
        search: for (let i = 0; i < count; i++) {
          const grants = lists[i];
          for (let k = 0; k < grants.length; k++) {
            const g = grants[k];
            if (g.epoch !== epoch) {
              g.epoch = epoch;
              if (now >= g.binding.expiresAt) g.outcome = EXPIRED;
              else {
                g.outcome = conjunction(g.conditions, context, now, principal);
                g.minutes = conj.minutes;
                g.condition = conj.condition;
              }
            }
            const outcome = g.outcome;
            if (outcome === EXPIRED) {
              expired ??= g;
            } else if (outcome === PASS) {
              allow = g.allow ??= this.conditionalAllow(g);
              break search;
            } else if (outcome === STEP_UP) {
              if (g.minutes > stepUpMinutes) {
                stepUp = g;
                stepUpMinutes = g.minutes;
                stepUpCondition = g.condition;
              }
            } else if (failed === undefined) {
              failed = g;
              failedCondition = g.condition;
            }
          }
        }
      }

      // 3. Together.
      if (soft !== undefined && (allow !== undefined || stepUp !== undefined)) {
        const minutes = allow !== undefined ? softMinutes : Math.min(softMinutes, stepUpMinutes);
        return decision(
          false,
          {
            kind: 'step-up-required',
            message: `MFA required: deny rule ${ruleName(soft.rule.rule)} applies to ${
              soft.permission.text
            } unless ${describeCondition(softCondition!.spec)}`,
            ruleId: soft.rule.rule.id,
            permission: soft.permission.text,
            condition: softCondition!.type,
          },
          this.version,
          minutes,
        );
      }
      if (allow !== undefined) return allow;
      if (stepUp !== undefined) {
        return decision(
          false,
          {
            kind: 'step-up-required',
            message: `MFA required: ${(stepUp.text ??= grantText(stepUp.binding, stepUp.via, stepUp.permission))} if ${
              stepUpCondition!.type === 'mfa-within'
                ? describeCondition(stepUpCondition!.spec)
                : `${describeCondition(stepUpCondition!.spec)} or with ${stepUpText(stepUpCondition!.stepUpMinutes)}`
            }`,
            bindingId: stepUp.binding.id,
            roleId: stepUp.role.id,
            permission: stepUp.permission.text,
            condition: stepUpCondition!.type,
          },
          this.version,
          stepUpMinutes,
        );
      }
      if (failed !== undefined) {
        return decision(
          false,
          {
            kind: 'condition-failed',
            message: `${(failed.text ??= grantText(failed.binding, failed.via, failed.permission))} only if ${describeCondition(
              failedCondition!.spec,
            )}, which does not hold`,
            bindingId: failed.binding.id,
            roleId: failed.role.id,
            permission: failed.permission.text,
            condition: failedCondition!.type,
          },
          this.version,
        );
      }
      if (expired !== undefined) {
        return decision(
          false,
          {
            kind: 'binding-expired',
            message: `binding ${expired.binding.id} (role ${expired.via[0].name} for ${subjectText(
              expired.binding.subject.type,
              expired.binding.subject.id,
            )}) expired at ${expired.binding.expiresAtText}`,
            bindingId: expired.binding.id,
            roleId: expired.role.id,
            permission: expired.permission.text,
          },
          this.version,
        );
      }
      return decision(
        false,
        {
          kind: 'no-grant',
          message: `no role bound to ${principalText(principal)}${
            principal.groups?.length ? ' or its groups' : ''
          } grants ${action} on ${resource}`,
        },
        this.version,
      );
    } finally {
      this.busy = reentrant;
    }
  }

  private conditionalAllow(g: Grant): Decision {
    const conditions = g.conditions.map((c) => describeCondition(c.spec));
    const expiry = g.binding.expiresAtText ? `, until ${g.binding.expiresAtText}` : '';
    return decision(
      true,
      {
        kind: 'granted',
        message: `${grantText(g.binding, g.via, g.permission)}${expiry}${
          conditions.length ? `, as ${conditions.join(' and ')}` : ''
        }`,
        bindingId: g.binding.id,
        roleId: g.role.id,
        permission: g.permission.text,
      },
      this.version,
      undefined,
      true,
    );
  }

  /** A deny rule's outcome for this principal and context, memoized under `epoch`. */
  private ruleOutcome(
    rule: CompiledDenyRule,
    principal: PolicyPrincipal,
    own: number | undefined,
    groups: number[],
    gn: number,
    context: RequestContext | undefined,
    now: number,
    epoch: number,
  ): void {
    rule.epoch = epoch;
    rule.outcome = NOT_APPLIED;
    if (!this.targets(rule, principal, own, groups, gn, now)) return;
    if (!whenHolds(rule.conditions, context, now, principal)) return;
    const outcome = conjunction(rule.unless, context, now, principal);
    if (outcome === PASS && rule.unless.length > 0) return; // the exception holds
    rule.outcome = outcome === STEP_UP ? SOFT : HARD;
    rule.minutes = conj.minutes;
    rule.condition = conj.condition;
  }

  /** Whether a deny rule targets the principal (by id, group or a role it holds). */
  private targets(
    rule: CompiledDenyRule,
    principal: PolicyPrincipal,
    own: number | undefined,
    groups: number[],
    gn: number,
    now: number,
  ): boolean {
    if (rule.everyone) return true;
    const id = principal.id;
    if (
      principal.kind === 'user'
        ? rule.users?.has(id)
        : principal.kind === 'api_key'
          ? rule.apiKeys?.has(id)
          : rule.serviceAccounts?.has(id)
    ) {
      return true;
    }
    const names = principal.groups;
    if (rule.groups !== undefined && names !== undefined) {
      for (let i = 0; i < names.length; i++) if (rule.groups.has(names[i])) return true;
    }
    if (rule.roles !== undefined) {
      for (const role of rule.roles) {
        if (this.holds(own, role, now)) return true;
        for (let i = 0; i < gn; i++) if (this.holds(groups[i], role, now)) return true;
      }
    }
    return false;
  }

  /** Whether subject `s` holds `role` (directly or by inheritance) through an unexpired binding. */
  private holds(s: number | undefined, role: string, now: number): boolean {
    return s !== undefined && (this.extras[s]?.roles.get(role) ?? -Infinity) > now;
  }

  /** Interns a permission's path and action; its number. */
  private intern(p: Pattern, use: 'grant' | 'deny'): number {
    let pathId = 0;
    if (p.resource === '*') {
      if (use === 'grant') this.starGrants = true;
      else this.starDenies = true;
    } else {
      pathId = this.pathIds.get(p.resource) ?? 0;
      if (pathId === 0) {
        pathId = this.pathIds.size + 1;
        this.pathIds.set(p.resource, pathId);
        const depth = p.resource.split('/').length;
        if (depth > this.maxDepth) this.maxDepth = depth;
      }
    }
    let actionId = 0;
    if (p.action !== '*') {
      actionId = this.actionIds.get(p.action) ?? 0;
      if (actionId === 0) {
        if (this.actionIds.size >= MAX_ACTIONS) {
          throw new Error(`a policy may name at most ${MAX_ACTIONS} distinct actions`);
        }
        actionId = this.actionIds.size + 1;
        this.actionIds.set(p.action, actionId);
      }
    }
    return (pathId * 2 + (p.below ? 1 : 0)) * ACTION_SPAN + actionId;
  }

  private subjectMap(kind: string): Map<string, number> {
    return kind === 'user'
      ? this.users
      : kind === 'group'
        ? this.groups
        : kind === 'api_key'
          ? this.apiKeys
          : kind === 'service_account'
            ? this.serviceAccounts
            : NONE;
  }

  private compileDeny(rule: NormalizedDenyRule): CompiledDenyRule {
    const of = (type: string) => {
      const ids = rule.subjects?.filter((s) => s.type === type).map((s) => s.id) ?? [];
      return ids.length ? new Set(ids) : undefined;
    };
    const roles = rule.subjects?.filter((s) => s.type === 'role').map((s) => s.id) ?? [];
    return {
      rule,
      everyone: rule.subjects === undefined,
      users: of('user'),
      groups: of('group'),
      apiKeys: of('api_key'),
      serviceAccounts: of('service_account'),
      ...(roles.length ? { roles } : {}),
      conditions: rule.conditions.map((c) => this.condition(c)),
      unless: rule.unless.map((c) => this.condition(c)),
      epoch: -1,
      outcome: NOT_APPLIED,
      minutes: Infinity,
      condition: undefined,
    };
  }

  private condition(spec: Condition): CompiledCondition {
    const key = JSON.stringify(spec);
    let c = this.conditionCache.get(key);
    if (!c) {
      c = compileCondition(spec);
      this.conditionCache.set(key, c);
    }
    return c;
  }

  /** Role id -> its permissions, inherited ones included, with the role conditions on the way. */
  private effectiveGrants(policy: NormalizedPolicy): (roleId: string) => readonly Effective[] {
    const memo = new Map<string, readonly Effective[]>();
    const keyOf = (list: readonly Condition[]) =>
      list.length === 0
        ? ''
        : list
            .map((c) => JSON.stringify(c))
            .sort()
            .join('\u0000');
    const effective = (roleId: string): readonly Effective[] => {
      const cached = memo.get(roleId);
      if (cached) return cached;
      const role = policy.roles.get(roleId)!;
      const out: Effective[] = [];
      const seen = new Set<string>();
      const add = (e: Effective) => {
        const key = `${e.permission.text}\u0001${keyOf(e.conditions)}`;
        if (!seen.has(key)) {
          seen.add(key);
          out.push(e);
        }
      };
      for (const permission of role.permissions) {
        add({ permission, conditions: role.conditions, via: [role] });
      }
      for (const parent of role.inherits) {
        for (const e of effective(parent)) {
          add({
            permission: e.permission,
            conditions: role.conditions.length
              ? [...role.conditions, ...e.conditions]
              : e.conditions,
            via: [role, ...e.via],
          });
        }
      }
      memo.set(roleId, out);
      return out;
    };
    return effective;
  }

  private crossTenant(principal: PolicyPrincipal): Decision {
    return decision(
      false,
      {
        kind: 'cross-tenant',
        message: `${principalText(principal)} belongs to tenant ${principal.tenantId}, not to tenant ${this.tenantId}`,
      },
      this.version,
    );
  }

  private invalid(action: unknown, resource: unknown): Decision {
    return decision(
      false,
      {
        kind: 'invalid-request',
        message: `the request is malformed: action ${JSON.stringify(action)}, resource ${JSON.stringify(
          resource,
        )} (non-empty, no *, no empty path segment)`,
      },
      this.version,
    );
  }

  private outsideScopes(principal: PolicyPrincipal, action: string, resource: string): Decision {
    return decision(
      false,
      {
        kind: 'outside-api-key-scopes',
        message: `the scopes of ${principalText(principal)} (${
          principal.apiKeyScopes!.join(', ') || 'none'
        }) do not cover ${action} on ${resource}`,
      },
      this.version,
    );
  }
}

/** A deny rule's outcome for a principal and context. */
const NOT_APPLIED = 0;
const HARD = 1;
const SOFT = 2;
/** A grant's outcome when its binding has expired (besides PASS, STEP_UP, FAIL). */
const EXPIRED = 3;

/** Index of `key` in the sorted `keys[lo, hi)`, or -1. */
function search(keys: Float64Array, lo: number, hi: number, key: number): number {
  let a = lo;
  let b = hi - 1;
  while (a <= b) {
    const m = (a + b) >>> 1;
    const k = keys[m];
    if (k < key) a = m + 1;
    else if (k > key) b = m - 1;
    else return m;
  }
  return -1;
}

/** The outcome of the last `conjunction`: the minutes a step-up needs, the deciding condition. */
const conj: { minutes: number; condition: CompiledCondition | undefined } = {
  minutes: Infinity,
  condition: undefined,
};

/**
 * All of `conditions` as requirements: FAIL if one fails (conj.condition: the first), else
 * STEP_UP if one asks for it (conj.minutes: the strictest), else PASS.
 */
function conjunction(
  conditions: readonly CompiledCondition[],
  ctx: RequestContext | undefined,
  now: number,
  principal: PolicyPrincipal,
): Outcome {
  let result: Outcome = PASS;
  let minutes = Infinity;
  let condition: CompiledCondition | undefined;
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i];
    const o = requirement(c, ctx, now, principal);
    if (o === FAIL) {
      conj.condition = c;
      conj.minutes = Infinity;
      return FAIL;
    }
    if (o === STEP_UP) {
      result = STEP_UP;
      if (c.stepUpMinutes < minutes) {
        minutes = c.stepUpMinutes;
        condition = c;
      }
    }
  }
  conj.minutes = minutes;
  conj.condition = condition;
  return result;
}

/** A deny rule's `conditions`: all hold, missing context counting as holding (fail closed). */
function whenHolds(
  conditions: readonly CompiledCondition[],
  ctx: RequestContext | undefined,
  now: number,
  principal: PolicyPrincipal,
): boolean {
  for (let i = 0; i < conditions.length; i++) {
    if (conditions[i].test(ctx, now, principal) === false) return false;
  }
  return true;
}

function roleClosure(policy: NormalizedPolicy, roleId: string): Set<string> {
  const out = new Set<string>();
  const walk = (id: string) => {
    if (out.has(id)) return;
    out.add(id);
    for (const parent of policy.roles.get(id)?.inherits ?? []) walk(parent);
  };
  walk(roleId);
  return out;
}

export function ruleName(rule: NormalizedDenyRule): string {
  return rule.name === rule.id ? `'${rule.id}'` : `'${rule.name}' (${rule.id})`;
}

function unlessText(unless: readonly CompiledCondition[]): string {
  return unless.length
    ? `, and its exception (${unless.map((c) => describeCondition(c.spec)).join(' and ')}) does not hold`
    : '';
}

/** "role Senior Clerk (bound to user 42 by binding b7, on projects/42) inherits role Clerk, which grants invoices:write" */
export function grantText(
  binding: NormalizedBinding,
  via: readonly NormalizedRole[],
  permission: Pattern,
): string {
  const bound = `role ${via[0].name} (bound to ${subjectText(binding.subject.type, binding.subject.id)} by binding ${binding.id}${
    binding.scope ? `, within ${binding.scope}` : ''
  })`;
  if (via.length === 1) return `${bound} grants ${permission.text}`;
  const chain = via
    .slice(1)
    .map((r) => `role ${r.name}`)
    .join(', which inherits ');
  return `${bound} inherits ${chain}, which grants ${permission.text}`;
}
