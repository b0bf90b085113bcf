import {
  CreateTenantRequestSchema,
  TimestampSchema,
  toFieldErrors,
  type CreateTenantRequest,
  type FieldError,
} from '@tenantry/contracts';

/** A value a template variable takes. */
export type VariableValue = string | number | boolean;

/** A template variable as stored (TemplateVariableSchema's output). */
export interface TemplateVariable {
  name: string;
  type: 'string' | 'number' | 'boolean' | 'timestamp';
  required: boolean;
  default?: VariableValue;
  description?: string;
}

/** What a template is made of, for rendering and checking. */
export interface TemplateSource {
  key: string;
  variables: TemplateVariable[];
  body: Record<string, unknown>;
}

/** A render's outcome: the request, or the problems, each naming where (`variables.x`, `settings.y`). */
export type RenderResult =
  | { ok: true; request: CreateTenantRequest }
  | { ok: false; stage: 'variables' | 'overrides' | 'request'; problems: FieldError[] };

const ANY_PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9_]*)\s*\}\}/g;
const ONE_PLACEHOLDER = /^\{\{\s*([a-zA-Z][a-zA-Z0-9_]*)\s*\}\}$/;

const TYPE_WORDS: Readonly<Record<TemplateVariable['type'], string>> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  timestamp: 'a timestamp (ISO 8601 with a time zone, e.g. 2027-01-31T00:00:00Z)',
};

/** Why `value` does not fit the variable's type, or undefined when it does. */
export function variableTypeProblem(
  variable: Pick<TemplateVariable, 'type'>,
  value: unknown,
): string | undefined {
  const fits =
    variable.type === 'string'
      ? typeof value === 'string'
      : variable.type === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : variable.type === 'boolean'
          ? typeof value === 'boolean'
          : typeof value === 'string' && TimestampSchema.safeParse(value).success;
  return fits ? undefined : `must be ${TYPE_WORDS[variable.type]}`;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const joinPath = (path: (string | number)[]) => path.map(String).join('.');

/**
 * The values of the template's variables: given, else the default, else absent (an optional
 * variable). Problems name each unknown variable, each required one missing, each of the
 * wrong type.
 */
export function resolveVariables(
  template: TemplateSource,
  given: Record<string, VariableValue>,
): { values: Map<string, VariableValue>; problems: FieldError[] } {
  const problems: FieldError[] = [];
  const values = new Map<string, VariableValue>();
  const declared = new Map(template.variables.map((v) => [v.name, v]));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) {
      const names = template.variables.map((v) => v.name).join(', ') || 'none';
      problems.push({
        field: `variables.${name}`,
        message: `is not a variable of the template ${template.key} (its variables: ${names})`,
      });
    }
  }
  for (const variable of template.variables) {
    const value = given[variable.name] ?? variable.default;
    if (value === undefined) {
      if (variable.required) {
        problems.push({
          field: `variables.${variable.name}`,
          message: `is required: ${TYPE_WORDS[variable.type]}${variable.description ? ` (${variable.description})` : ''}`,
        });
      }
      continue;
    }
    const problem = variableTypeProblem(variable, value);
    if (problem) problems.push({ field: `variables.${variable.name}`, message: problem });
    else values.set(variable.name, value);
  }
  return { values, problems };
}

/**
 * The body with its placeholders replaced: a string that is exactly one placeholder takes
 * the variable's typed value (and disappears when the variable is absent); placeholders
 * inside a longer string are replaced by the value's text (nothing when absent). A
 * placeholder naming no variable is a problem naming its path.
 */
export function substitute(
  body: Record<string, unknown>,
  template: Pick<TemplateSource, 'variables'>,
  values: ReadonlyMap<string, VariableValue>,
): { rendered: Record<string, unknown>; problems: FieldError[] } {
  const declared = new Set(template.variables.map((v) => v.name));
  const problems: FieldError[] = [];
  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') {
      const names = [...value.matchAll(ANY_PLACEHOLDER)].map((m) => m[1]!);
      const unknown = names.filter((n) => !declared.has(n));
      if (unknown.length) {
        problems.push({
          field: `body.${joinPath(path)}`,
          message: `uses {{${unknown[0]}}}, which is not a variable of the template`,
        });
        return value;
      }
      const whole = ONE_PLACEHOLDER.exec(value);
      if (whole) return values.get(whole[1]!);
      return value.replace(ANY_PLACEHOLDER, (_, name: string) => String(values.get(name) ?? ''));
    }
    if (Array.isArray(value)) {
      return value.map((item, i) => walk(item, [...path, i])).filter((v) => v !== undefined);
    }
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) {
        const rendered = walk(inner, [...path, key]);
        if (rendered !== undefined) out[key] = rendered;
      }
      return out;
    }
    return value;
  };
  return { rendered: walk(body, []) as Record<string, unknown>, problems };
}

/**
 * Sets each dotted path (`settings.mfaRequired`) to its value, making the objects on the way;
 * a path through something that is not an object is a problem naming it.
 */
export function applyOverrides(
  target: Record<string, unknown>,
  overrides: Record<string, unknown>,
): FieldError[] {
  const problems: FieldError[] = [];
  for (const [path, value] of Object.entries(overrides)) {
    const keys = path.split('.');
    let node = target;
    let blocked: string | undefined;
    for (const [i, key] of keys.slice(0, -1).entries()) {
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (!isPlainObject(next)) {
        blocked = keys.slice(0, i + 1).join('.');
        break;
      }
      node = node[key] as Record<string, unknown>;
    }
    if (blocked) {
      problems.push({
        field: `overrides.${path}`,
        message: `cannot be set: ${blocked} is not an object in the rendered request`,
      });
      continue;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return problems;
}

/**
 * Renders a template: the variables (given, defaults) checked and substituted, the overrides
 * applied by dotted path, the result validated as a CreateTenantRequest. Problems name
 * their path: `variables.seats`, `overrides.settings.x`, or the path in the rendered request
 * (`settings.sessionTimeoutMinutes`).
 */
export function renderTemplate(
  template: TemplateSource,
  input: { variables: Record<string, VariableValue>; overrides: Record<string, unknown> },
): RenderResult {
  const { values, problems } = resolveVariables(template, input.variables);
  if (problems.length) return { ok: false, stage: 'variables', problems };
  const { rendered, problems: bodyProblems } = substitute(template.body, template, values);
  if (bodyProblems.length) return { ok: false, stage: 'request', problems: bodyProblems };
  const overrideProblems = applyOverrides(rendered, input.overrides);
  if (overrideProblems.length) return { ok: false, stage: 'overrides', problems: overrideProblems };
  const parsed = CreateTenantRequestSchema.safeParse(rendered);
  if (!parsed.success) {
    return { ok: false, stage: 'request', problems: toFieldErrors(parsed.error).errors };
  }
  return { ok: true, request: parsed.data };
}

/** Marks a leaf that holds a placeholder while a template's body is checked. */
const PLACEHOLDER_MARK = Symbol('placeholder');

/**
 * What is wrong with a template as written, naming paths (`variables.1.name`,
 * `body.settings.sessionTimeoutMinutes`): variables declared twice, defaults of the wrong
 * type, placeholders naming no variable, and values of the body a tenant request refuses.
 * Placeholders and fields the body leaves out (the variables and overrides give them when it
 * is rendered) are not checked here.
 */
export function templateProblems(template: TemplateSource): FieldError[] {
  const problems: FieldError[] = [];
  const seen = new Set<string>();
  template.variables.forEach((variable, i) => {
    if (seen.has(variable.name)) {
      problems.push({
        field: `variables.${i}.name`,
        message: `declares ${variable.name} a second time`,
      });
    }
    seen.add(variable.name);
    if (variable.default !== undefined) {
      const problem = variableTypeProblem(variable, variable.default);
      if (problem)
        problems.push({
          field: `variables.${i}.default`,
          message: `${problem} (the variable's type)`,
        });
    }
  });
  const declared = new Set(template.variables.map((v) => v.name));
  const marked = new Set<string>();
  const probe = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') {
      const names = [...value.matchAll(ANY_PLACEHOLDER)].map((m) => m[1]!);
      if (!names.length) return value;
      for (const name of names.filter((n) => !declared.has(n))) {
        problems.push({
          field: `body.${joinPath(path)}`,
          message: `uses {{${name}}}, which is not a declared variable`,
        });
      }
      marked.add(joinPath(path));
      return PLACEHOLDER_MARK;
    }
    if (Array.isArray(value)) return value.map((item, i) => probe(item, [...path, i]));
    if (isPlainObject(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) => [key, probe(inner, [...path, key])]),
      );
    }
    return value;
  };
  const body = probe(template.body, []) as Record<string, unknown>;
  const parsed = CreateTenantRequestSchema.safeParse(body);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as (string | number)[];
      if (marked.has(joinPath(path)) || valueAt(body, path) === undefined) continue;
      problems.push({ field: `body.${joinPath(path)}`.replace(/\.$/, ''), message: issue.message });
    }
  }
  return problems;
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}
