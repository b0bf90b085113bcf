import { ScimSchemas } from '@tenantry/contracts';
import {
  InvalidScimPatchRequest,
  NoPathInScimPatchOp,
  NoTarget,
  scimPatch,
  type ScimPatchOperation,
  type ScimResource as PatchableResource,
} from 'scim-patch';
import { filter as matcher, parse, stringify, type Filter } from 'scim2-parse-filter';
import { canonicalKeys, canonicalName, isObject } from './scim-attributes.js';
import { ScimErrors } from './scim.errors.js';

/** A PATCH request may carry at most this many operations. */
export const MAX_PATCH_OPERATIONS = 1000;

/**
 * A PATCH path (RFC 7644 §3.5.2, `PATH = attrPath / valuePath [subAttr]`), its attribute
 * names in canonical case: `name.givenName`, `emails[type eq "work"].value`,
 * `members[value eq "…"]`, `urn:…:enterprise:2.0:User:department`.
 */
export interface PatchPath {
  /** An extension's schema URN; undefined for the core schema (whose URN may be written). */
  urn?: string;
  attribute: string;
  /** `name.givenName`: givenName. */
  subAttribute?: string;
  /** `emails[type eq "work"]`: the value filter. */
  filter?: Filter;
  /** `emails[type eq "work"].value`: value. */
  filterSubAttribute?: string;
  /** The path as written back for scim-patch. */
  text: string;
}

export type PatchOp = 'add' | 'remove' | 'replace';

/** One operation of a PatchOp request, checked and with its op in lower case. */
export interface PatchOperation {
  op: PatchOp;
  path?: PatchPath;
  value?: unknown;
  /** `Operations[i]`, for error messages. */
  field: string;
}

const ATTRIBUTE = /^\$?[A-Za-z][A-Za-z0-9_-]*$/;
const CORE_URNS = new Set([ScimSchemas.user.toLowerCase(), ScimSchemas.group.toLowerCase()]);

/** Attribute names inside a filter, canonical (`Type eq "work"` is `type eq "work"`). */
function canonicalFilter(filter: Filter): Filter {
  switch (filter.op) {
    case 'and':
    case 'or':
      return { ...filter, filters: filter.filters.map(canonicalFilter) };
    case 'not':
      return { ...filter, filter: canonicalFilter(filter.filter) };
    case '[]':
      return {
        ...filter,
        attrPath: canonicalName(filter.attrPath),
        valFilter: canonicalFilter(filter.valFilter),
      };
    default:
      return { ...filter, attrPath: filter.attrPath.split('.').map(canonicalName).join('.') };
  }
}

/** Parses a PATCH path; 400 invalidPath naming `field` for anything else. */
export function parsePatchPath(path: string, field: string): PatchPath {
  const bad = (why: string) =>
    ScimErrors.invalidPath(`${field}.path`, `${JSON.stringify(path.slice(0, 200))} ${why}`);
  const bracket = path.indexOf('[');
  const head = (bracket < 0 ? path : path.slice(0, bracket)).trim();
  let urn: string | undefined;
  let names = head;
  const colon = head.lastIndexOf(':');
  if (colon >= 0) {
    urn = head.slice(0, colon);
    names = head.slice(colon + 1);
    if (!urn.toLowerCase().startsWith('urn:'))
      throw bad('is not an attribute path (a schema prefix must be a urn:)');
    if (CORE_URNS.has(urn.toLowerCase())) urn = undefined;
  }
  const parts = names.split('.');
  if (!parts.every((p) => ATTRIBUTE.test(p)) || parts.length > 2)
    throw bad('is not an attribute path (attribute or attribute.subAttribute)');
  const [attribute, subAttribute] = parts.map(canonicalName) as [string, string | undefined];

  let filter: Filter | undefined;
  let filterSubAttribute: string | undefined;
  if (bracket >= 0) {
    const close = path.lastIndexOf(']');
    if (close < bracket || subAttribute !== undefined)
      throw bad('is not a value path (attribute[filter] or attribute[filter].subAttribute)');
    const after = path.slice(close + 1);
    if (after) {
      if (!after.startsWith('.') || !ATTRIBUTE.test(after.slice(1)))
        throw bad('has something after its [filter] that is not .subAttribute');
      filterSubAttribute = canonicalName(after.slice(1));
    }
    try {
      filter = canonicalFilter(parse(path.slice(bracket + 1, close)));
    } catch (error) {
      throw bad(
        `has a filter that does not parse (${String((error as Error).message).slice(0, 100)})`,
      );
    }
  }

  const text =
    (urn ? `${urn}:` : '') +
    attribute +
    (subAttribute ? `.${subAttribute}` : '') +
    (filter ? `[${stringify(filter)}]` : '') +
    (filterSubAttribute ? `.${filterSubAttribute}` : '');
  return { urn, attribute, subAttribute, filter, filterSubAttribute, text };
}

/**
 * Reads a PatchOp request (RFC 7644 §3.5.2) as Okta and Entra ID send it: `schemas` must
 * name the PatchOp message; `op` is add, remove or replace in any case (Entra writes
 * `Add`, `Replace`); `remove` needs a path (400 noTarget); add and replace need a value.
 * Paths are parsed (400 invalidPath). A malformed request is a 400 invalidSyntax.
 */
export function readPatchRequest(body: Record<string, unknown>): PatchOperation[] {
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(ScimSchemas.patchOp))
    throw ScimErrors.invalidSyntax(
      'schemas',
      `must be ["${ScimSchemas.patchOp}"]: a PATCH body is a PatchOp message`,
    );
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0)
    throw ScimErrors.invalidSyntax('Operations', 'must be a non-empty array of operations');
  if (operations.length > MAX_PATCH_OPERATIONS)
    throw ScimErrors.invalidSyntax(
      'Operations',
      `must have at most ${MAX_PATCH_OPERATIONS} operations; send several requests`,
    );
  return operations.map((operation: unknown, i) => {
    const field = `Operations[${i}]`;
    if (!isObject(operation)) throw ScimErrors.invalidSyntax(field, 'must be an object');
    const raw = Object.fromEntries(Object.entries(operation).map(([k, v]) => [k.toLowerCase(), v]));
    const op = typeof raw.op === 'string' ? raw.op.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw ScimErrors.invalidSyntax(
        `${field}.op`,
        `must be add, remove or replace, got ${JSON.stringify(raw.op ?? null).slice(0, 50)}`,
      );
    if (raw.path !== undefined && raw.path !== null && typeof raw.path !== 'string')
      throw ScimErrors.invalidPath(`${field}.path`, 'must be a string');
    const path =
      typeof raw.path === 'string' && raw.path.trim()
        ? parsePatchPath(raw.path.trim(), field)
        : undefined;
    if (op === 'remove' && !path)
      throw ScimErrors.noTarget(`${field}.path`, 'a remove operation needs a path');
    if (op !== 'remove' && !('value' in raw))
      throw ScimErrors.invalidSyntax(`${field}.value`, `an ${op} operation needs a value`);
    if (!path && op !== 'remove' && !isObject(raw.value))
      throw ScimErrors.invalidValue(
        `${field}.value`,
        `an ${op} operation without a path takes an object of attributes`,
      );
    return { op, path, value: raw.value, field };
  });
}

/** An attribute key of a no-path value (`name.givenName`, `urn:…:User:department`), canonical. */
function canonicalKey(key: string): string {
  const colon = key.lastIndexOf(':');
  if (colon >= 0) {
    const urn = key.slice(0, colon);
    const rest = key
      .slice(colon + 1)
      .split('.')
      .map(canonicalName)
      .join('.');
    return CORE_URNS.has(urn.toLowerCase()) ? rest : `${urn}:${rest}`;
  }
  return key.split('.').map(canonicalName).join('.');
}

/**
 * Applies operations to a resource document with scim-patch, as RFC 7644 §3.5.2 has it
 * (a replace whose filter matches nothing adds, as Entra ID expects of
 * `emails[type eq "work"].value`). A path that targets a read-only attribute is a 400
 * mutability; in a no-path value, read-only attributes are ignored (Okta sends the
 * group's `id` with a rename). Returns a new document with the read-only attributes as
 * they were.
 */
export function applyPatch(
  document: Record<string, unknown>,
  operations: PatchOperation[],
  readOnly: readonly string[],
): Record<string, unknown> {
  const locked = new Set(readOnly);
  const patches: ScimPatchOperation[] = [];
  for (const operation of operations) {
    if (operation.path && locked.has(operation.path.attribute) && !operation.path.urn)
      throw ScimErrors.mutability(operation.path.text);
    if (operation.path) {
      patches.push({
        op: operation.op,
        path: operation.path.text,
        value: canonicalKeys(operation.value),
      } as ScimPatchOperation);
      continue;
    }
    const value: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(operation.value as Record<string, unknown>)) {
      const canonical = canonicalKey(key);
      if (!locked.has(canonical)) value[canonical] = canonicalKeys(inner);
    }
    if (Object.keys(value).length) patches.push({ op: operation.op, value } as ScimPatchOperation);
  }
  const copy = structuredClone(document) as Record<string, unknown> & PatchableResource;
  let patched: Record<string, unknown>;
  try {
    patched = scimPatch(copy, patches, { mutateDocument: true, treatMissingAsAdd: true });
  } catch (error) {
    const at = operations.map((o) => o.field).join(', ');
    const message = String((error as Error).message ?? error)
      .replace(/^Invalid SCIM Patch: /, '')
      .slice(0, 300);
    if (error instanceof NoTarget || error instanceof NoPathInScimPatchOp)
      throw ScimErrors.noTarget(at, message);
    if (error instanceof InvalidScimPatchRequest) throw ScimErrors.invalidSyntax(at, message);
    throw ScimErrors.invalidValue(at, message);
  }
  for (const key of locked) {
    if (key in document) patched[key] = document[key];
    else delete patched[key];
  }
  return patched;
}

/** A change to a group's members, in the order the operations gave them. */
export type MemberChange =
  | { kind: 'add'; ids: string[] }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'set'; ids: string[] }
  | { kind: 'clear' }
  | { kind: 'remove-matching'; filter: Filter };

/** The user ids of a `members` value: an array of (or one) `{ "value": "<id>" }`. */
export function memberIds(value: unknown, field: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    const at = Array.isArray(value) ? `${field}[${i}]` : field;
    if (!isObject(item)) throw ScimErrors.invalidValue(at, 'must be an object with a "value"');
    const id = Object.entries(item).find(([k]) => k.toLowerCase() === 'value')?.[1];
    if (typeof id !== 'string' || !id.trim())
      throw ScimErrors.invalidValue(`${at}.value`, 'must be the id of a user of this directory');
    return id.trim().toLowerCase();
  });
}

/**
 * Splits a group's PATCH into member changes and the rest. Members as Okta and Entra ID
 * change them: `add`/`remove` with path `members` and an array of `{value}`; `remove`
 * with path `members[value eq "<id>"]`; `remove` of `members` without a value (all);
 * `replace` of `members` (the whole list); a no-path value with a `members` key (add or
 * replace). Anything else under members is a 400 invalidPath.
 */
export function splitGroupOperations(operations: PatchOperation[]): {
  members: MemberChange[];
  others: PatchOperation[];
} {
  const members: MemberChange[] = [];
  const others: PatchOperation[] = [];
  for (const operation of operations) {
    const { op, path, value, field } = operation;
    if (!path) {
      const rest: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        if (canonicalKey(key) !== 'members') {
          rest[key] = inner;
          continue;
        }
        const ids = memberIds(inner, `${field}.value.members`);
        members.push(op === 'add' ? { kind: 'add', ids } : { kind: 'set', ids });
      }
      if (Object.keys(rest).length) others.push({ ...operation, value: rest });
      continue;
    }
    if (path.attribute !== 'members' || path.urn) {
      others.push(operation);
      continue;
    }
    if (path.subAttribute || path.filterSubAttribute)
      throw ScimErrors.invalidPath(
        `${field}.path`,
        `${JSON.stringify(path.text)}: members are changed whole (add, remove or replace members)`,
      );
    if (path.filter) {
      if (op !== 'remove')
        throw ScimErrors.invalidPath(
          `${field}.path`,
          `${JSON.stringify(path.text)}: a members[filter] path only takes remove`,
        );
      members.push({ kind: 'remove-matching', filter: path.filter });
      continue;
    }
    if (op === 'remove' && (value === undefined || value === null)) {
      members.push({ kind: 'clear' });
      continue;
    }
    const ids = memberIds(value, `${field}.value`);
    members.push(
      op === 'add'
        ? { kind: 'add', ids }
        : op === 'remove'
          ? { kind: 'remove', ids }
          : { kind: 'set', ids },
    );
  }
  return { members, others };
}

/**
 * The members after the changes, applied in order to `current` (user id → display
 * name, for `members[display eq "…"]` filters). Ids are lowercase.
 */
export function applyMemberChanges(
  current: Map<string, string>,
  changes: MemberChange[],
): Set<string> {
  const result = new Set(current.keys());
  for (const change of changes) {
    switch (change.kind) {
      case 'add':
        change.ids.forEach((id) => result.add(id));
        break;
      case 'remove':
        change.ids.forEach((id) => result.delete(id));
        break;
      case 'set':
        result.clear();
        change.ids.forEach((id) => result.add(id));
        break;
      case 'clear':
        result.clear();
        break;
      case 'remove-matching': {
        const matches = matcher(change.filter);
        for (const id of [...result]) {
          if (matches({ value: id, display: current.get(id) ?? null, type: 'User' }))
            result.delete(id);
        }
        break;
      }
    }
  }
  return result;
}
