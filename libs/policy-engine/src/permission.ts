/**
 * Permissions, resource paths and their matching (see README.md, "Permissions").
 *
 *   permission   = resource ":" action
 *   action       = "*" | name
 *   resource     = "*" | path | path "/*"
 *   path         = name *( "/" segment )
 *   name         = [a-z][a-z0-9-]*            (a resource type, an action; as API key scopes)
 *   segment      = [A-Za-z0-9._~@-]+          (ids and names below a type)
 *
 * `invoices:read` covers `invoices` and everything below it (`invoices/7`, `invoices/7/lines/2`);
 * `orgs/emea/*:read` covers everything strictly below `orgs/emea` but not `orgs/emea` itself;
 * `*:read` covers every resource. `*` stands for a whole side or a whole last segment only.
 */

/** A parsed permission (or API key scope, or deny rule permission). */
export interface Pattern {
  /** `*` (every resource) or a path without the trailing `/*`. */
  readonly resource: string;
  /** True for `path/*`: strictly below `resource`, not `resource` itself. */
  readonly below: boolean;
  /** An action name, or `*`. */
  readonly action: string;
  /** The canonical text, e.g. `projects/42:write`. */
  readonly text: string;
}

export const NAME = /^[a-z][a-z0-9-]*$/;
const SEGMENT = /^[A-Za-z0-9._~@-]+$/;
export const MAX_PERMISSION_LENGTH = 512;
const MAX_NAME = 64;
const MAX_SEGMENT = 128;
const MAX_DEPTH = 16;

/** Why `path` is not a resource path, or undefined when it is one. */
export function pathError(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  const segments = path.split('/');
  if (segments.length > MAX_DEPTH) return `has more than ${MAX_DEPTH} segments`;
  const [type, ...rest] = segments;
  if (!NAME.test(type) || type.length > MAX_NAME) {
    return `must start with a resource type (lowercase letters, digits and -, starting with a letter, at most ${MAX_NAME}), not "${type}"`;
  }
  for (const segment of rest) {
    if (segment === '') return 'has an empty segment (a leading, trailing or double /)';
    if (segment === '*') return 'may use * only as its whole last segment (path/*)';
    if (!SEGMENT.test(segment) || segment.length > MAX_SEGMENT) {
      return `has a segment "${segment}" with characters other than A-Z a-z 0-9 . _ ~ @ - (or longer than ${MAX_SEGMENT})`;
    }
  }
  return undefined;
}

/** Parses a permission; a string with the reason when it is not one. */
export function parsePattern(text: string): Pattern | string {
  if (typeof text !== 'string') return 'must be a string';
  if (text.length > MAX_PERMISSION_LENGTH)
    return `is longer than ${MAX_PERMISSION_LENGTH} characters`;
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    return 'must be `resource:action`, e.g. `invoices:read`, `projects/42:write`, `*:read`';
  }
  const resourceText = text.slice(0, colon);
  const action = text.slice(colon + 1);
  if (action !== '*' && (!NAME.test(action) || action.length > MAX_NAME)) {
    return `has an action "${action}" that is neither * nor a name (lowercase letters, digits and -, starting with a letter)`;
  }
  if (resourceText === '*') return { resource: '*', below: false, action, text };
  const below = resourceText.endsWith('/*');
  const resource = below ? resourceText.slice(0, -2) : resourceText;
  const error = pathError(resource);
  if (error) return `has a resource "${resourceText}" that ${error}`;
  return { resource, below, action, text };
}

/** Parses a permission known to be valid (validated documents, built-in templates). */
export function pattern(text: string): Pattern {
  const parsed = parsePattern(text);
  if (typeof parsed === 'string') throw new Error(`invalid permission "${text}": ${parsed}`);
  return parsed;
}

/** Whether `resource` is `path` or below it (segment-wise: `projects/4` is not below `projects/42`). */
export function isAtOrBelow(resource: string, path: string): boolean {
  return (
    resource === path ||
    (resource.length > path.length &&
      resource.charCodeAt(path.length) === 47 /* / */ &&
      resource.startsWith(path))
  );
}

/** Whether the pattern covers `action` on `resource` (a request: no `*`). */
export function covers(p: Pattern, resource: string, action: string): boolean {
  if (p.action !== '*' && p.action !== action) return false;
  if (p.resource === '*') return true;
  return p.below
    ? resource.length > p.resource.length + 1 && isAtOrBelow(resource, p.resource)
    : isAtOrBelow(resource, p.resource);
}

/**
 * The part of `p` inside the subtree `scope` (a binding's or deny rule's scope), as a pattern, or
 * null when they do not meet. `*:read` within `projects/42` is `projects/42:read`; `projects:*`
 * within `projects/42` is `projects/42:*`; `invoices:write` within `projects/42` is nothing.
 */
export function narrow(p: Pattern, scope: string): Pattern | null {
  if (p.resource === '*' || (p.resource !== scope && isAtOrBelow(scope, p.resource))) {
    // The scope lies inside what p covers: p restricted to the scope is the whole scope.
    return { resource: scope, below: false, action: p.action, text: `${scope}:${p.action}` };
  }
  if (isAtOrBelow(p.resource, scope)) return p; // p lies inside the scope (or is it)
  return null;
}

/**
 * Whether a request's action and resource are well-formed: non-empty strings, no `*`, no empty
 * path segment. Anything else is refused (fail closed) before any rule is looked at.
 */
export function isValidRequest(action: unknown, resource: unknown): boolean {
  if (typeof resource !== 'string' || typeof action !== 'string') return false;
  const n = resource.length;
  const m = action.length;
  if (n === 0 || n > 2048 || m === 0 || m > 256) return false;
  let previous = 47; // a leading / is an empty first segment
  for (let i = 0; i < n; i++) {
    const c = resource.charCodeAt(i);
    if (c === 42 /* * */ || (c === 47 /* / */ && previous === 47)) return false;
    previous = c;
  }
  if (previous === 47) return false; // a trailing /
  for (let i = 0; i < m; i++) if (action.charCodeAt(i) === 42) return false;
  return true;
}

const scopeCache = new Map<string, Pattern | null>();

/** Whether one of `scopes` (API key scopes, permission syntax) covers the request. */
export function scopesCover(scopes: readonly string[], resource: string, action: string): boolean {
  for (let i = 0; i < scopes.length; i++) {
    const text = scopes[i];
    let p = scopeCache.get(text);
    if (p === undefined) {
      const parsed = parsePattern(text);
      p = typeof parsed === 'string' ? null : parsed;
      if (scopeCache.size >= 10_000) scopeCache.clear();
      scopeCache.set(text, p);
    }
    if (p !== null && covers(p, resource, action)) return true;
  }
  return false;
}
