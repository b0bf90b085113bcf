import { ScimSchemas } from '@tenantry/contracts';
import { parse, type Filter } from 'scim2-parse-filter';
import { normalizeEmail } from '../core/email.js';
import { ScimErrors } from './scim.errors.js';

/** A filter may have at most this many comparisons and logical operators. */
export const MAX_FILTER_NODES = 50;

/** A SQL condition and its parameters, numbered from the `firstParam` it was compiled with. */
export interface SqlCondition {
  text: string;
  params: unknown[];
}

export type ScimResourceType = 'User' | 'Group';

/** How a filterable attribute is stored. */
type Column =
  | { kind: 'string'; sql: string; caseExact: boolean; email?: boolean }
  | { kind: 'boolean'; sql: string }
  | { kind: 'timestamp'; sql: string }
  /** A multi-valued complex attribute held as a JSON array (`e.v` is one element). */
  | { kind: 'json-array'; sql: string; sub: Record<string, Column> }
  /** Group members: rows of scim_group_members. */
  | { kind: 'members' };

/**
 * The emails a user shows: those the IdP sent, or else their login email as the one
 * primary work address (as the SCIM resource shows them; scim-user.mapping.ts).
 */
export const USER_EMAILS_SQL = `(CASE WHEN jsonb_typeof(u.scim_attributes->'emails') = 'array'
  AND jsonb_array_length(u.scim_attributes->'emails') > 0 THEN u.scim_attributes->'emails'
  ELSE jsonb_build_array(jsonb_build_object('value', u.email, 'type', 'work', 'primary', true)) END)`;

const EMAIL_ELEMENT: Record<string, Column> = {
  value: { kind: 'string', sql: `(e.v->>'value')`, caseExact: false },
  type: { kind: 'string', sql: `(e.v->>'type')`, caseExact: false },
  display: { kind: 'string', sql: `(e.v->>'display')`, caseExact: false },
  primary: { kind: 'boolean', sql: `COALESCE((e.v->'primary') = 'true'::jsonb, false)` },
};

const enterprise = (name: string): Column => ({
  kind: 'string',
  sql: `(u.scim_attributes->'${ScimSchemas.enterpriseUser}'->>'${name}')`,
  caseExact: false,
});

/** Filterable attributes of Users (table users, alias u), by lowercase path. */
const USER_ATTRIBUTES: Record<string, Column> = {
  id: { kind: 'string', sql: 'u.id::text', caseExact: true },
  username: { kind: 'string', sql: 'u.email', caseExact: false, email: true },
  externalid: { kind: 'string', sql: 'u.scim_external_id', caseExact: true },
  displayname: { kind: 'string', sql: 'u.display_name', caseExact: false },
  active: { kind: 'boolean', sql: `(u.status <> 'disabled')` },
  'name.givenname': {
    kind: 'string',
    sql: `(u.scim_attributes->'name'->>'givenName')`,
    caseExact: false,
  },
  'name.familyname': {
    kind: 'string',
    sql: `(u.scim_attributes->'name'->>'familyName')`,
    caseExact: false,
  },
  'name.formatted': {
    kind: 'string',
    sql: `(u.scim_attributes->'name'->>'formatted')`,
    caseExact: false,
  },
  emails: { kind: 'json-array', sql: USER_EMAILS_SQL, sub: EMAIL_ELEMENT },
  'meta.created': { kind: 'timestamp', sql: 'u.created_at' },
  'meta.lastmodified': { kind: 'timestamp', sql: 'u.updated_at' },
  [`${ScimSchemas.enterpriseUser.toLowerCase()}:employeenumber`]: enterprise('employeeNumber'),
  [`${ScimSchemas.enterpriseUser.toLowerCase()}:department`]: enterprise('department'),
  [`${ScimSchemas.enterpriseUser.toLowerCase()}:costcenter`]: enterprise('costCenter'),
  [`${ScimSchemas.enterpriseUser.toLowerCase()}:organization`]: enterprise('organization'),
  [`${ScimSchemas.enterpriseUser.toLowerCase()}:division`]: enterprise('division'),
};

/** Filterable attributes of Groups (table scim_groups, alias g), by lowercase path. */
const GROUP_ATTRIBUTES: Record<string, Column> = {
  id: { kind: 'string', sql: 'g.id::text', caseExact: true },
  displayname: { kind: 'string', sql: 'g.display_name', caseExact: false },
  externalid: { kind: 'string', sql: 'g.external_id', caseExact: true },
  members: { kind: 'members' },
  'meta.created': { kind: 'timestamp', sql: 'g.created_at' },
  'meta.lastmodified': { kind: 'timestamp', sql: 'g.updated_at' },
};

const ATTRIBUTES: Record<ScimResourceType, Record<string, Column>> = {
  User: USER_ATTRIBUTES,
  Group: GROUP_ATTRIBUTES,
};
const CORE_SCHEMA: Record<ScimResourceType, string> = {
  User: ScimSchemas.user,
  Group: ScimSchemas.group,
};

/**
 * Parses a SCIM filter (RFC 7644 §3.4.2.2) with scim2-parse-filter: 400 invalidFilter
 * for anything it cannot parse, or a filter of more than MAX_FILTER_NODES parts.
 */
export function parseScimFilter(text: string): Filter {
  let filter: Filter;
  try {
    filter = parse(text);
  } catch (error) {
    throw ScimErrors.invalidFilter(
      `is not a SCIM filter (${String((error as Error).message).slice(0, 200)}); e.g. userName eq "ana@example.com"`,
    );
  }
  if (countNodes(filter) > MAX_FILTER_NODES)
    throw ScimErrors.invalidFilter(
      `has more than ${MAX_FILTER_NODES} comparisons and operators; split it into simpler queries`,
    );
  return filter;
}

function countNodes(filter: Filter): number {
  switch (filter.op) {
    case 'and':
    case 'or':
      return 1 + filter.filters.reduce((sum, f) => sum + countNodes(f), 0);
    case 'not':
      return 1 + countNodes(filter.filter);
    case '[]':
      return 1 + countNodes(filter.valFilter);
    default:
      return 1;
  }
}

/** `%`, `_` and `\` in a LIKE pattern stand for themselves. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Compiles a parsed filter into a SQL condition over the resource's table (users `u`,
 * scim_groups `g`), its parameters numbered from `firstParam`. Attribute names are
 * case-insensitive and may carry the core schema's URN; string comparisons follow each
 * attribute's caseExact (userName, displayName, emails and name parts ignore case;
 * id and externalId do not). An attribute or operator this server cannot filter on is a
 * 400 invalidFilter naming it.
 */
export function compileScimFilter(
  resource: ScimResourceType,
  filter: Filter,
  firstParam: number,
): SqlCondition {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${firstParam + params.length - 1}`;
  };
  const attributes = ATTRIBUTES[resource];

  const resolve = (path: string): Column => {
    const column = lookup(resource, path);
    if (!column)
      throw ScimErrors.invalidFilter(
        `cannot filter ${resource}s on "${path.slice(0, 200)}"; filterable: ${Object.keys(
          attributes,
        )
          .filter((k) => !k.includes(':'))
          .join(', ')}`,
      );
    return column;
  };
  const exists = (array: Column & { kind: 'json-array' }, condition: string) =>
    `EXISTS (SELECT 1 FROM jsonb_array_elements(${array.sql}) AS e(v) WHERE ${condition})`;

  const compare = (column: Column, op: string, value: unknown, path: string): string => {
    const fail = (why: string) => ScimErrors.invalidFilter(`"${path.slice(0, 200)} ${op}": ${why}`);
    switch (column.kind) {
      case 'string': {
        if (op === 'pr') return `(${column.sql} IS NOT NULL AND ${column.sql} <> '')`;
        if (value === null) {
          if (op === 'eq') return `${column.sql} IS NULL`;
          if (op === 'ne') return `${column.sql} IS NOT NULL`;
          throw fail('only eq and ne compare with null');
        }
        if (typeof value !== 'string') throw fail('compare it with a string in double quotes');
        const folded = column.email && (op === 'eq' || op === 'ne') ? normalizeEmail(value) : value;
        const left = column.caseExact ? column.sql : `lower(${column.sql})`;
        const right = (v: string) => (column.caseExact ? param(v) : `lower(${param(v)})`);
        switch (op) {
          case 'eq':
            return `${left} = ${right(folded)}`;
          case 'ne':
            return `${left} IS DISTINCT FROM ${right(folded)}`;
          case 'co':
            return `${left} LIKE ${right(`%${escapeLike(value)}%`)} ESCAPE '\\'`;
          case 'sw':
            return `${left} LIKE ${right(`${escapeLike(value)}%`)} ESCAPE '\\'`;
          case 'ew':
            return `${left} LIKE ${right(`%${escapeLike(value)}`)} ESCAPE '\\'`;
          case 'gt':
            return `${left} > ${right(value)}`;
          case 'ge':
            return `${left} >= ${right(value)}`;
          case 'lt':
            return `${left} < ${right(value)}`;
          case 'le':
            return `${left} <= ${right(value)}`;
          default:
            throw fail('unknown operator');
        }
      }
      case 'boolean': {
        if (op === 'pr') return 'TRUE';
        if (typeof value !== 'boolean') throw fail('compare it with true or false');
        if (op === 'eq') return `${column.sql} = ${param(value)}::boolean`;
        if (op === 'ne') return `${column.sql} <> ${param(value)}::boolean`;
        throw fail('a boolean takes eq, ne or pr');
      }
      case 'timestamp': {
        if (op === 'pr') return 'TRUE';
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
          throw fail('compare it with a date-time in double quotes, e.g. "2025-01-31T12:00:00Z"');
        const sql = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[op];
        if (!sql) throw fail('a date-time takes eq, ne, gt, ge, lt, le or pr');
        return `${column.sql} ${sql} ${param(new Date(value).toISOString())}::timestamptz`;
      }
      case 'json-array':
        // `emails eq "x"` means its value (RFC 7644 §3.4.2.2, multi-valued attributes).
        return exists(column, compare(column.sub.value!, op, value, path));
      case 'members': {
        if (op === 'pr')
          return `EXISTS (SELECT 1 FROM scim_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id)`;
        if (op !== 'eq' || typeof value !== 'string')
          throw fail('members can only be filtered with eq and a user id in double quotes');
        return `EXISTS (SELECT 1 FROM scim_group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.user_id::text = ${param(value.toLowerCase())})`;
      }
    }
  };

  /** `emails[type eq "work" and value co "@x"]`: each condition on the same element. */
  const inElement = (scope: Record<string, Column>, filter: Filter, parent: string): string => {
    switch (filter.op) {
      case 'and':
      case 'or':
        return `(${filter.filters.map((f) => inElement(scope, f, parent)).join(` ${filter.op.toUpperCase()} `)})`;
      case 'not':
        return `NOT (${inElement(scope, filter.filter, parent)})`;
      case '[]':
        throw ScimErrors.invalidFilter(`"${parent}[...]": filters do not nest`);
      default: {
        const sub = scope[filter.attrPath.toLowerCase()];
        if (!sub)
          throw ScimErrors.invalidFilter(
            `cannot filter on "${parent}.${filter.attrPath.slice(0, 100)}"; ${parent} has ${Object.keys(scope).join(', ')}`,
          );
        return compare(
          sub,
          filter.op,
          'compValue' in filter ? filter.compValue : undefined,
          `${parent}.${filter.attrPath}`,
        );
      }
    }
  };

  const compile = (filter: Filter): string => {
    switch (filter.op) {
      case 'and':
      case 'or':
        return `(${filter.filters.map(compile).join(` ${filter.op.toUpperCase()} `)})`;
      case 'not':
        return `NOT (${compile(filter.filter)})`;
      case '[]': {
        const column = resolve(filter.attrPath);
        if (column.kind === 'json-array')
          return exists(column, inElement(column.sub, filter.valFilter, filter.attrPath));
        if (column.kind === 'members')
          return compileMembers(filter.valFilter, filter.attrPath, compare, column);
        throw ScimErrors.invalidFilter(
          `"${filter.attrPath.slice(0, 100)}[...]": only multi-valued attributes take a [filter]`,
        );
      }
      default: {
        const value = 'compValue' in filter ? filter.compValue : undefined;
        const dot = filter.attrPath.lastIndexOf('.');
        // `emails.value`, `emails.type`, `members.value`: a sub-attribute of a multi-valued one.
        if (dot > 0 && !lookup(resource, filter.attrPath)) {
          const parentPath = filter.attrPath.slice(0, dot);
          const parent = lookup(resource, parentPath);
          const sub = filter.attrPath.slice(dot + 1);
          if (parent?.kind === 'json-array')
            return exists(
              parent,
              inElement(parent.sub, { ...filter, attrPath: sub } as Filter, parentPath),
            );
          if (parent?.kind === 'members' && sub.toLowerCase() === 'value')
            return compare(parent, filter.op, value, filter.attrPath);
        }
        return compare(resolve(filter.attrPath), filter.op, value, filter.attrPath);
      }
    }
  };

  return { text: compile(filter), params };
}

/** The column of an attribute path (case-insensitive, with or without the core schema URN). */
function lookup(resource: ScimResourceType, path: string): Column | undefined {
  let name = path.toLowerCase();
  const core = `${CORE_SCHEMA[resource].toLowerCase()}:`;
  if (name.startsWith(core)) name = name.slice(core.length);
  return ATTRIBUTES[resource][name];
}

/** `members[value eq "id"]`: only `value`, with eq (or pr). */
function compileMembers(
  filter: Filter,
  parent: string,
  compare: (column: Column, op: string, value: unknown, path: string) => string,
  column: Column,
): string {
  switch (filter.op) {
    case 'and':
    case 'or':
      return `(${filter.filters
        .map((f) => compileMembers(f, parent, compare, column))
        .join(` ${filter.op.toUpperCase()} `)})`;
    case 'not':
      return `NOT (${compileMembers(filter.filter, parent, compare, column)})`;
    case '[]':
      throw ScimErrors.invalidFilter(`"${parent}[...]": filters do not nest`);
    default:
      if (filter.attrPath.toLowerCase() !== 'value')
        throw ScimErrors.invalidFilter(`"${parent}[...]": only members' value can be filtered on`);
      return compare(
        column,
        filter.op,
        'compValue' in filter ? filter.compValue : undefined,
        `${parent}.value`,
      );
  }
}
