/**
 * SCIM attribute names are case-insensitive (RFC 7643 §2.1): `UserName` is `userName`.
 * The names this server knows, by lowercase, as it stores and returns them.
 */
const CANONICAL = new Map(
  [
    'schemas',
    'id',
    'externalId',
    'meta',
    'userName',
    'name',
    'formatted',
    'familyName',
    'givenName',
    'middleName',
    'honorificPrefix',
    'honorificSuffix',
    'displayName',
    'nickName',
    'profileUrl',
    'title',
    'userType',
    'preferredLanguage',
    'locale',
    'timezone',
    'active',
    'password',
    'emails',
    'phoneNumbers',
    'addresses',
    'groups',
    'roles',
    'members',
    'value',
    'display',
    'type',
    'primary',
    '$ref',
    'employeeNumber',
    'costCenter',
    'organization',
    'division',
    'department',
    'manager',
  ].map((name) => [name.toLowerCase(), name]),
);

/** The attribute's name as this server writes it (unknown names as they came). */
export function canonicalName(name: string): string {
  return CANONICAL.get(name.toLowerCase()) ?? name;
}

/** A plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The object with its known attribute names in canonical case, recursively into objects
 * and arrays of objects (`Emails[0].Value` becomes `emails[0].value`). Keys that are
 * schema URNs (extensions) keep their case; their attributes are canonicalized too.
 */
export function canonicalKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalKeys);
  if (!isObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    result[key.startsWith('urn:') ? key : canonicalName(key)] = canonicalKeys(inner);
  }
  return result;
}

/**
 * A SCIM boolean: true or false, or the strings "True"/"False" (any case) that Entra ID
 * sends in PATCH values. Undefined for anything else.
 */
export function scimBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return undefined;
}

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) applied to a resource, at the
 * level of its top attributes: `name.givenName` keeps or drops `name` whole; `id` and
 * `schemas` are always returned. Names compare ignoring case.
 */
export function selectAttributes(
  resource: Record<string, unknown>,
  attributes: string | undefined,
  excluded: string | undefined,
): Record<string, unknown> {
  const top = (list: string) =>
    new Set(
      list
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean)
        .map((name) => {
          // An extension's attribute (`urn:...:User:department`) selects the extension.
          const colon = name.lastIndexOf(':');
          if (colon > 0 && name.toLowerCase().startsWith('urn:')) {
            const urn = name.slice(0, colon);
            return urn.toLowerCase().includes(':core:2.0:')
              ? name
                  .slice(colon + 1)
                  .split('.')[0]!
                  .toLowerCase()
              : urn.toLowerCase();
          }
          return name.split('.')[0]!.toLowerCase();
        }),
    );
  const always = new Set(['id', 'schemas']);
  if (attributes?.trim()) {
    const keep = top(attributes);
    return Object.fromEntries(
      Object.entries(resource).filter(([key]) => always.has(key) || keep.has(key.toLowerCase())),
    );
  }
  if (excluded?.trim()) {
    const drop = top(excluded);
    return Object.fromEntries(
      Object.entries(resource).filter(([key]) => always.has(key) || !drop.has(key.toLowerCase())),
    );
  }
  return resource;
}

/** Whether a selection (as `selectAttributes` applies it) would return `attribute`. */
export function isSelected(
  attribute: string,
  attributes: string | undefined,
  excluded: string | undefined,
): boolean {
  return attribute in selectAttributes({ [attribute]: true }, attributes, excluded);
}

/** Whether two JSON values are equal, object keys in any order (jsonb does not keep it). */
export function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson(value[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}
