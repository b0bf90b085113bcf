/**
 * The policy document: one tenant's roles, bindings and deny rules, versioned, as JSON. It is the
 * source of a snapshot: the policy service stores and publishes it, every holder compiles it
 * (`compile`) into the in-memory index. `normalizePolicy` validates it (errors name the field,
 * an inheritance cycle is named), instantiates role templates and parses every permission.
 */
import { ContractValidationError, TimestampSchema, type FieldError } from '@tenantry/contracts';
import { z } from 'zod';
import { isTimeZone } from './conditions.js';
import { cidrError } from './ip.js';
import { parsePattern, pathError, type Pattern } from './permission.js';
import { SYSTEM_ROLE_TEMPLATES } from './templates.js';

export const POLICY_SCHEMA_VERSION = 1;

export const SUBJECT_TYPES = ['user', 'group', 'api_key', 'service_account'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];
export const DEVICE_TRUST_LEVELS = ['none', 'registered', 'managed', 'compliant'] as const;
export type DeviceTrustLevel = (typeof DEVICE_TRUST_LEVELS)[number];
export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Day = (typeof DAYS)[number];
export const ATTRIBUTE_OPS = ['eq', 'ne', 'in', 'not-in', 'lt', 'lte', 'gt', 'gte'] as const;
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

const CONTROL = /[\u0000-\u001F\u007F-\u009F]/u;
const printable = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL.test(s) && s.isWellFormed(), 'must not contain control characters');
/** Ids of roles, bindings, rules and templates. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const IdSchema = z
  .string({ error: 'must be a string' })
  .regex(
    ID,
    'must be an id: letters, digits and . _ : @ - (at most 128, starting with a letter or digit)',
  );
/** Ids of users, groups (SSO/SCIM group names), API keys and service accounts. */
const SubjectIdSchema = printable(256);
const NameSchema = printable(200);
const DescriptionSchema = z.string().max(2000, 'must be at most 2000 characters');

function permissionCheck(value: string, ctx: z.RefinementCtx): void {
  const parsed = parsePattern(value);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `permission ${parsed}` });
}
const PermissionSchema = z.string({ error: 'must be a string' }).superRefine(permissionCheck);
/** Template permissions may hold `{variable}` placeholders; they are checked once instantiated. */
const TemplatePermissionSchema = printable(512);
const ResourcePathSchema = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  const error = pathError(value);
  if (error) ctx.addIssue({ code: 'custom', message: `resource path ${error}` });
});

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const onFail = {
  /**
   * What a failed condition does to the grant: `deny` (it does not apply) or `step-up` (it applies
   * once the principal has done MFA within `stepUpMinutes`; meanwhile the decision asks for it).
   */
  onFail: z.enum(['deny', 'step-up']).optional(),
  stepUpMinutes: z.int().min(1).max(1440).optional(),
};
const Scalar = z.union([z.string().max(1000), z.number(), z.boolean()]);

export const CidrConditionSchema = z.strictObject({
  type: z.literal('cidr'),
  /** IPv4 and IPv6 ranges (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a /32 or /128. */
  ranges: z.array(z.string().max(64)).min(1).max(1000),
  ...onFail,
});
export const TimeWindowConditionSchema = z.strictObject({
  type: z.literal('time-window'),
  /** IANA time zone, e.g. `Europe/Paris`. */
  timeZone: z.string().max(64),
  /** Days the window starts on; every day when absent. */
  days: z.array(z.enum(DAYS)).min(1).max(7).optional(),
  /** `HH:MM` local time, inclusive. */
  from: z.string().regex(HHMM, 'must be HH:MM (00:00 to 23:59)'),
  /** `HH:MM` local time, exclusive; `24:00` for the end of the day; before `from`: the window crosses midnight. */
  to: z.string().regex(/^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/, 'must be HH:MM (00:00 to 24:00)'),
  ...onFail,
});
export const MfaWithinConditionSchema = z.strictObject({
  type: z.literal('mfa-within'),
  /** The last MFA at most this many minutes ago (the limit itself included). */
  minutes: z.int().min(1).max(10_080),
  /** Default `step-up`: the decision asks for MFA. `deny` refuses flatly (e.g. for API keys). */
  onFail: z.enum(['deny', 'step-up']).optional(),
});
export const CountryConditionSchema = z.strictObject({
  type: z.literal('country'),
  /** ISO 3166-1 alpha-2 codes, upper case. */
  in: z
    .array(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code, e.g. FR'))
    .min(1)
    .max(300),
  ...onFail,
});
export const DeviceTrustConditionSchema = z.strictObject({
  type: z.literal('device-trust'),
  /** The device at least this trusted: none < registered < managed < compliant. */
  atLeast: z.enum(DEVICE_TRUST_LEVELS),
  ...onFail,
});
export const AttributeConditionSchema = z.strictObject({
  type: z.literal('attribute'),
  /** A key of the request's `context.attributes` (or `principal.id`, `principal.kind`). */
  key: z.string().min(1).max(200),
  op: z.enum(ATTRIBUTE_OPS),
  /** A literal (an array for `in` and `not-in`)... */
  value: z.union([Scalar, z.array(Scalar).max(1000)]).optional(),
  /** ...or the name of another attribute to compare with (`principal.id` for "own" resources). */
  valueFrom: z.string().min(1).max(200).optional(),
  ...onFail,
});

export const ConditionSchema = z.discriminatedUnion(
  'type',
  [
    CidrConditionSchema,
    TimeWindowConditionSchema,
    MfaWithinConditionSchema,
    CountryConditionSchema,
    DeviceTrustConditionSchema,
    AttributeConditionSchema,
  ],
  {
    error:
      'must be a condition: type cidr, time-window, mfa-within, country, device-trust or attribute',
  },
);
export type Condition = z.infer<typeof ConditionSchema>;
export type ConditionType = Condition['type'];
export type CidrCondition = z.infer<typeof CidrConditionSchema>;
export type TimeWindowCondition = z.infer<typeof TimeWindowConditionSchema>;
export type AttributeCondition = z.infer<typeof AttributeConditionSchema>;
const Conditions = z.array(ConditionSchema).max(20);

// ---------------------------------------------------------------------------------------------
// Roles, templates, bindings, deny rules, the document
// ---------------------------------------------------------------------------------------------

const VARIABLE = /^[a-z][a-zA-Z0-9_]{0,31}$/;

export const RoleTemplateSchema = z.strictObject({
  id: IdSchema,
  /** May use the variables: `Reader of {department}`. */
  name: NameSchema,
  description: DescriptionSchema.optional(),
  /** Variable names, used as `{name}` in the name, description, permissions and inherits. */
  variables: z
    .array(z.string().regex(VARIABLE, 'must be a variable name (letters, digits, _)'))
    .max(10)
    .optional(),
  permissions: z.array(TemplatePermissionSchema).max(1000),
  inherits: z.array(printable(160)).max(100).optional(),
  conditions: Conditions.optional(),
});
export type RoleTemplate = z.infer<typeof RoleTemplateSchema>;

export const RoleSchema = z.strictObject({
  id: IdSchema,
  /** Shown in explanations; from the template when the role instantiates one. */
  name: NameSchema.optional(),
  description: DescriptionSchema.optional(),
  /** A template to instantiate (the document's own `templates`, or a system template). */
  template: IdSchema.optional(),
  /** Values of the template's variables: path segments (`finance`, `emea/paris`), no `*` or `:`. */
  variables: z.record(z.string().max(64), z.string().max(256)).optional(),
  /** The role's own permissions (added to the template's). */
  permissions: z.array(PermissionSchema).max(1000).optional(),
  /** Roles whose permissions this one also grants. */
  inherits: z.array(IdSchema).max(100).optional(),
  /** Guard everything the role grants, its own and inherited permissions, in every binding. */
  conditions: Conditions.optional(),
});
export type Role = z.infer<typeof RoleSchema>;

export const SubjectSchema = z.strictObject({
  type: z.enum(SUBJECT_TYPES),
  id: SubjectIdSchema,
});
export type Subject = z.infer<typeof SubjectSchema>;

export const BindingSchema = z.strictObject({
  id: IdSchema,
  roleId: IdSchema,
  subject: SubjectSchema,
  /** A resource path: the role's permissions apply only to it and what is below it. */
  scope: ResourcePathSchema.optional(),
  /** ISO 8601 date-time; the binding applies strictly before it. */
  expiresAt: TimestampSchema.optional(),
  conditions: Conditions.optional(),
});
export type Binding = z.infer<typeof BindingSchema>;

export const DenySubjectSchema = z.strictObject({
  type: z.enum([...SUBJECT_TYPES, 'role']),
  id: SubjectIdSchema,
});
export type DenySubject = z.infer<typeof DenySubjectSchema>;

export const DenyRuleSchema = z.strictObject({
  id: IdSchema,
  name: NameSchema.optional(),
  description: DescriptionSchema.optional(),
  permissions: z.array(PermissionSchema).min(1).max(1000),
  /** Whom it applies to; everyone in the tenant when absent. A role: whoever holds it. */
  subjects: z.array(DenySubjectSchema).min(1).max(1000).optional(),
  /** A resource path: the rule applies only to it and what is below it. */
  scope: ResourcePathSchema.optional(),
  /** The rule applies when all of these hold (always when absent). Missing context counts as holding. */
  conditions: Conditions.optional(),
  /** ...unless all of these hold: exceptions (`onFail: 'step-up'`: MFA lifts the rule). */
  unless: Conditions.optional(),
});
export type DenyRule = z.infer<typeof DenyRuleSchema>;

/** The share of allowed decisions audited when a document does not say. */
export const DEFAULT_AUDIT_ALLOW_SAMPLE_RATE = 0.01;

export const PolicyDocumentSchema = z.strictObject({
  schemaVersion: z.literal(POLICY_SCHEMA_VERSION, { error: 'must be 1' }),
  tenantId: printable(128),
  /** Grows with every change; a holder never replaces a snapshot with an older one. */
  version: z.int().min(1),
  templates: z.array(RoleTemplateSchema).max(1000).optional(),
  roles: z.array(RoleSchema).max(100_000),
  bindings: z.array(BindingSchema).max(2_000_000),
  denyRules: z.array(DenyRuleSchema).max(10_000).optional(),
  /**
   * The share of allowed decisions a holder sends to the audit log (0 to 1; 0.01 when absent).
   * Denied decisions always go there.
   */
  auditAllowSampleRate: z
    .number({ error: 'must be a number from 0 to 1' })
    .min(0)
    .max(1)
    .optional(),
});
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;

// ---------------------------------------------------------------------------------------------
// The normalized policy: what both evaluators (the compiled index and the reference) read
// ---------------------------------------------------------------------------------------------

export interface NormalizedRole {
  readonly id: string;
  readonly name: string;
  readonly template?: string;
  readonly permissions: readonly Pattern[];
  readonly inherits: readonly string[];
  readonly conditions: readonly Condition[];
}

export interface NormalizedBinding {
  readonly id: string;
  readonly roleId: string;
  readonly subject: Subject;
  readonly scope?: string;
  /** Epoch milliseconds; Infinity when the binding does not expire. */
  readonly expiresAt: number;
  readonly expiresAtText?: string;
  readonly conditions: readonly Condition[];
}

export interface NormalizedDenyRule {
  readonly id: string;
  readonly name: string;
  readonly permissions: readonly Pattern[];
  readonly subjects?: readonly DenySubject[];
  readonly scope?: string;
  readonly conditions: readonly Condition[];
  readonly unless: readonly Condition[];
}

export interface NormalizedPolicy {
  readonly tenantId: string;
  readonly version: number;
  /** The share of allowed decisions to audit (denies always are). */
  readonly auditAllowSampleRate: number;
  readonly roles: ReadonlyMap<string, NormalizedRole>;
  readonly bindings: readonly NormalizedBinding[];
  readonly denyRules: readonly NormalizedDenyRule[];
}

/** Validates a policy document; throws ContractValidationError naming every bad field. */
export function normalizePolicy(input: unknown): NormalizedPolicy {
  const parsed = PolicyDocumentSchema.safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(root)',
      message: issue.message,
    }));
    throw new ContractValidationError(errors.slice(0, 20), 'policy document', errors.length);
  }
  const doc = parsed.data;
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });

  // Conditions: what the schema cannot say.
  const checkConditions = (
    list: readonly Condition[] | undefined,
    field: string,
    when: 'requirement' | 'deny-when',
  ) =>
    list?.forEach((c, i) => {
      const f = `${field}.${i}`;
      const stepUpMinutes = 'stepUpMinutes' in c ? c.stepUpMinutes : undefined;
      if (when === 'deny-when' && (c.onFail !== undefined || stepUpMinutes !== undefined)) {
        fail(
          f,
          'a deny rule applies when its conditions hold: onFail and stepUpMinutes belong in `unless`',
        );
      } else if (stepUpMinutes !== undefined && c.onFail !== 'step-up') {
        fail(`${f}.stepUpMinutes`, "only with onFail: 'step-up'");
      }
      if (c.type === 'cidr') {
        c.ranges.forEach((r, k) => {
          const error = cidrError(r);
          if (error) fail(`${f}.ranges.${k}`, error);
        });
      } else if (c.type === 'time-window') {
        if (!isTimeZone(c.timeZone))
          fail(`${f}.timeZone`, `unknown IANA time zone "${c.timeZone}"`);
        if (c.from === c.to) {
          fail(`${f}.to`, 'must differ from `from` (for a whole day: from 00:00 to 24:00)');
        }
      } else if (c.type === 'attribute') {
        if ((c.value === undefined) === (c.valueFrom === undefined)) {
          fail(f, 'needs exactly one of `value` and `valueFrom`');
        }
        const list = c.op === 'in' || c.op === 'not-in';
        if (c.value !== undefined && Array.isArray(c.value) !== list) {
          fail(
            `${f}.value`,
            list ? `must be an array for ${c.op}` : `must not be an array for ${c.op}`,
          );
        }
        if (list && c.valueFrom !== undefined)
          fail(`${f}.valueFrom`, `${c.op} compares with a list: use value`);
      }
    });

  // Templates: the document's own, then the system ones; ids must not clash.
  const templates = new Map<string, RoleTemplate>();
  for (const t of SYSTEM_ROLE_TEMPLATES) templates.set(t.id, t);
  const systemIds = new Set(templates.keys());
  doc.templates?.forEach((t, i) => {
    if (systemIds.has(t.id)) fail(`templates.${i}.id`, `"${t.id}" is a system template's id`);
    else if (templates.has(t.id)) fail(`templates.${i}.id`, `duplicate template id "${t.id}"`);
    templates.set(t.id, t);
    const declared = new Set(t.variables ?? []);
    const sample = Object.fromEntries([...declared].map((v) => [v, 'x']));
    const check = (text: string, field: string) => {
      for (const m of text.matchAll(/\{([^{}]*)\}/g)) {
        if (!declared.has(m[1])) fail(field, `uses {${m[1]}}, which is not among the variables`);
      }
    };
    check(t.name, `templates.${i}.name`);
    t.permissions.forEach((p, k) => {
      check(p, `templates.${i}.permissions.${k}`);
      const parsedP = parsePattern(substitute(p, sample));
      if (typeof parsedP === 'string')
        fail(`templates.${i}.permissions.${k}`, `permission ${parsedP}`);
    });
    t.inherits?.forEach((r, k) => check(r, `templates.${i}.inherits.${k}`));
    checkConditions(t.conditions, `templates.${i}.conditions`, 'requirement');
  });

  // Roles.
  const roles = new Map<string, NormalizedRole>();
  const roleIndex = new Map<string, number>();
  doc.roles.forEach((role, i) => {
    const field = `roles.${i}`;
    if (roleIndex.has(role.id)) {
      fail(`${field}.id`, `duplicate role id "${role.id}" (also roles.${roleIndex.get(role.id)})`);
      return;
    }
    roleIndex.set(role.id, i);
    checkConditions(role.conditions, `${field}.conditions`, 'requirement');
    let name = role.name;
    const permissions: Pattern[] = [];
    const inherits: string[] = [];
    const conditions: Condition[] = [];
    if (role.template !== undefined) {
      const t = templates.get(role.template);
      if (!t) {
        fail(`${field}.template`, `unknown template "${role.template}"`);
        return;
      }
      const vars = role.variables ?? {};
      const declared = t.variables ?? [];
      let ok = true;
      for (const v of declared) {
        if (!Object.hasOwn(vars, v)) {
          fail(`${field}.variables`, `template "${t.id}" needs the variable "${v}"`);
          ok = false;
        } else if (!isVariableValue(vars[v])) {
          fail(
            `${field}.variables.${v}`,
            'must be a resource path segment or path (A-Z a-z 0-9 . _ ~ @ -, segments joined by /), no * or :',
          );
          ok = false;
        }
      }
      for (const v of Object.keys(vars)) {
        if (!declared.includes(v)) {
          fail(`${field}.variables.${v}`, `template "${t.id}" has no variable "${v}"`);
          ok = false;
        }
      }
      if (!ok) return;
      name ??= substitute(t.name, vars);
      t.permissions.forEach((p) => {
        const text = substitute(p, vars);
        const parsedP = parsePattern(text);
        if (typeof parsedP === 'string') {
          fail(
            `${field}.variables`,
            `template "${t.id}" gives the permission "${text}", which ${parsedP}`,
          );
        } else permissions.push(parsedP);
      });
      for (const r of t.inherits ?? []) inherits.push(substitute(r, vars));
      conditions.push(...(t.conditions ?? []));
    } else if (role.variables !== undefined) {
      fail(`${field}.variables`, 'only with a template');
    }
    for (const p of role.permissions ?? []) permissions.push(parsePatternOrThrow(p));
    inherits.push(...(role.inherits ?? []));
    conditions.push(...(role.conditions ?? []));
    roles.set(role.id, {
      id: role.id,
      name: name ?? role.id,
      ...(role.template !== undefined ? { template: role.template } : {}),
      permissions: dedupePatterns(permissions),
      inherits: [...new Set(inherits)],
      conditions,
    });
  });
  for (const [id, role] of roles) {
    role.inherits.forEach((parent, k) => {
      if (!roleIndex.has(parent)) {
        fail(`roles.${roleIndex.get(id)}.inherits.${k}`, `unknown role "${parent}"`);
      }
    });
  }
  // Inheritance cycles, named: depth-first, white/grey/black.
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (id: string): void => {
    state.set(id, 1);
    stack.push(id);
    for (const parent of roles.get(id)?.inherits ?? []) {
      if (!roles.has(parent)) continue;
      const s = state.get(parent);
      if (s === 1) {
        const cycle = [...stack.slice(stack.indexOf(parent)), parent];
        const key = [...cycle].slice(0, -1).sort().join('\u0000');
        if (!reported.has(key)) {
          reported.add(key);
          fail(`roles.${roleIndex.get(id)}.inherits`, `inheritance cycle: ${cycle.join(' → ')}`);
        }
      } else if (s === undefined) visit(parent);
    }
    stack.pop();
    state.set(id, 2);
  };
  for (const id of roles.keys()) if (!state.has(id)) visit(id);

  // Bindings.
  const bindingIds = new Map<string, number>();
  const bindings: NormalizedBinding[] = [];
  doc.bindings.forEach((b, i) => {
    const field = `bindings.${i}`;
    if (bindingIds.has(b.id)) {
      fail(`${field}.id`, `duplicate binding id "${b.id}" (also bindings.${bindingIds.get(b.id)})`);
    }
    bindingIds.set(b.id, i);
    if (!roleIndex.has(b.roleId)) {
      fail(`${field}.roleId`, `unknown role "${b.roleId}"`);
    }
    checkConditions(b.conditions, `${field}.conditions`, 'requirement');
    bindings.push({
      id: b.id,
      roleId: b.roleId,
      subject: b.subject,
      ...(b.scope !== undefined ? { scope: b.scope } : {}),
      expiresAt: b.expiresAt === undefined ? Infinity : Date.parse(b.expiresAt),
      ...(b.expiresAt !== undefined ? { expiresAtText: b.expiresAt } : {}),
      conditions: b.conditions ?? [],
    });
  });

  // Deny rules.
  const ruleIds = new Map<string, number>();
  const denyRules: NormalizedDenyRule[] = [];
  doc.denyRules?.forEach((r, i) => {
    const field = `denyRules.${i}`;
    if (ruleIds.has(r.id)) {
      fail(`${field}.id`, `duplicate deny rule id "${r.id}" (also denyRules.${ruleIds.get(r.id)})`);
    }
    ruleIds.set(r.id, i);
    r.subjects?.forEach((s, k) => {
      if (s.type === 'role' && !roleIndex.has(s.id)) {
        fail(`${field}.subjects.${k}.id`, `unknown role "${s.id}"`);
      }
    });
    checkConditions(r.conditions, `${field}.conditions`, 'deny-when');
    checkConditions(r.unless, `${field}.unless`, 'requirement');
    denyRules.push({
      id: r.id,
      name: r.name ?? r.id,
      permissions: dedupePatterns(r.permissions.map(parsePatternOrThrow)),
      ...(r.subjects !== undefined ? { subjects: r.subjects } : {}),
      ...(r.scope !== undefined ? { scope: r.scope } : {}),
      conditions: r.conditions ?? [],
      unless: r.unless ?? [],
    });
  });

  if (errors.length) {
    throw new ContractValidationError(errors.slice(0, 20), 'policy document', errors.length);
  }
  return {
    tenantId: doc.tenantId,
    version: doc.version,
    auditAllowSampleRate: doc.auditAllowSampleRate ?? DEFAULT_AUDIT_ALLOW_SAMPLE_RATE,
    roles,
    bindings,
    denyRules,
  };
}

function parsePatternOrThrow(text: string): Pattern {
  const p = parsePattern(text);
  if (typeof p === 'string') throw new Error(`unvalidated permission "${text}"`);
  return p;
}

function dedupePatterns(list: readonly Pattern[]): Pattern[] {
  const seen = new Set<string>();
  return list.filter((p) => !seen.has(p.text) && !!seen.add(p.text));
}

function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\{([^{}]*)\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? vars[name] : whole,
  );
}

function isVariableValue(value: string): boolean {
  return pathError(`x/${value}`) === undefined;
}
