import { EmailSchema, ScimSchemas, text, type ScimResource } from '@tenantry/contracts';
import { normalizeEmail } from '../core/email.js';
import type { User } from '@tenantry/contracts';
import { canonicalKeys, isObject, scimBoolean } from './scim-attributes.js';
import { ScimErrors } from './scim.errors.js';

/** The stored SCIM attributes of one user take at most this much JSON. */
export const MAX_STORED_ATTRIBUTES_BYTES = 64 * 1024;

/** Attributes with a column of their own (or derived from one), never stored as attributes. */
const COLUMN_ATTRIBUTES = new Set(['userName', 'displayName', 'active', 'externalId']);
/** Set by the server (RFC 7643 mutability readOnly): ignored in what a client sends. */
const READ_ONLY_ATTRIBUTES = new Set(['id', 'meta', 'groups', 'schemas']);
/**
 * Never kept: users provisioned by SCIM sign in through SSO, so a password an IdP
 * pushes (Okta's "sync password") is dropped, not stored.
 */
const DROPPED_ATTRIBUTES = new Set(['password']);

const NAME_PARTS = [
  'formatted',
  'familyName',
  'givenName',
  'middleName',
  'honorificPrefix',
  'honorificSuffix',
] as const;

const DisplayNameSchema = text({ max: 200, name: true });
const ExternalIdSchema = text({ min: 1, max: 512 });
const EmailValueSchema = text({ min: 1, max: 254 });

/** What a SCIM User document (POST, PUT, or the result of a PATCH) sets on a user. */
export interface ScimUserInput {
  /** userName, normalized: the user's email and login. */
  email: string;
  displayName: string;
  active: boolean;
  externalId: string | null;
  /** The other attributes (name, emails, enterprise extension, ...), kept as sent. */
  attributes: Record<string, unknown>;
}

/** A user as the SCIM resource shows it. */
export interface ScimUserView {
  id: string;
  email: string;
  displayName: string;
  status: User['status'];
  externalId: string | null;
  attributes: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  /** The directory's groups the user is a member of; undefined: not asked for. */
  groups?: { id: string; displayName: string }[];
}

function firstIssue(result: { success: boolean; error?: { issues: { message: string }[] } }) {
  return result.error?.issues[0]?.message ?? 'is not valid';
}

/**
 * Reads a SCIM User document: `userName` (required, an email address: it becomes the
 * user's normalized email), `displayName` (else `name.formatted`, else given and family
 * name, else userName), `active` (true unless false; Entra's "True"/"False" accepted),
 * `externalId`, and every other attribute kept as sent (`name`, `emails` with `primary`
 * as a boolean, extensions). Read-only attributes are ignored, a password is dropped.
 * A bad value is a 400 invalidValue naming the attribute.
 */
export function scimUserInput(document: Record<string, unknown>): ScimUserInput {
  const doc = canonicalKeys(document) as Record<string, unknown>;

  const userName = doc.userName;
  if (typeof userName !== 'string' || !userName.trim())
    throw ScimErrors.invalidValue(
      'userName',
      'is required: the user’s email address (it is their login)',
    );
  const emailCheck = EmailSchema.safeParse(userName.trim());
  if (!emailCheck.success)
    throw ScimErrors.invalidValue(
      'userName',
      `must be an email address (it is the user’s login), got ${JSON.stringify(userName.slice(0, 100))}: ${firstIssue(emailCheck)}`,
    );
  const email = normalizeEmail(userName);

  const name = doc.name;
  if (name !== undefined && name !== null) {
    if (!isObject(name)) throw ScimErrors.invalidValue('name', 'must be an object');
    for (const part of NAME_PARTS) {
      const value = name[part];
      if (value !== undefined && value !== null && typeof value !== 'string')
        throw ScimErrors.invalidValue(`name.${part}`, 'must be a string');
    }
  }

  const active = doc.active === undefined || doc.active === null ? true : scimBoolean(doc.active);
  if (active === undefined)
    throw ScimErrors.invalidValue(
      'active',
      `must be true or false, got ${JSON.stringify(doc.active).slice(0, 50)}`,
    );

  let externalId: string | null = null;
  if (doc.externalId !== undefined && doc.externalId !== null) {
    const check = ExternalIdSchema.safeParse(doc.externalId);
    if (!check.success) throw ScimErrors.invalidValue('externalId', firstIssue(check));
    externalId = check.data;
  }

  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    if (COLUMN_ATTRIBUTES.has(key) || READ_ONLY_ATTRIBUTES.has(key) || DROPPED_ATTRIBUTES.has(key))
      continue;
    if (value === null || value === undefined) continue;
    attributes[key] = value;
  }
  if (attributes.emails !== undefined) attributes.emails = readEmails(attributes.emails);
  if (isObject(attributes.name) && !Object.keys(attributes.name).length) delete attributes.name;
  const size = new TextEncoder().encode(JSON.stringify(attributes)).length;
  if (size > MAX_STORED_ATTRIBUTES_BYTES)
    throw ScimErrors.invalidValue(
      '(resource)',
      `the user's other attributes take ${size} bytes as JSON; at most ${MAX_STORED_ATTRIBUTES_BYTES} are kept`,
    );

  return {
    email,
    displayName: displayNameOf(doc, email),
    active,
    externalId,
    attributes,
  };
}

/** `emails`: an array of objects with a string `value`; `primary` as a boolean. */
function readEmails(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw ScimErrors.invalidValue('emails', 'must be an array');
  return value.map((item, i) => {
    if (!isObject(item)) throw ScimErrors.invalidValue(`emails[${i}]`, 'must be an object');
    const check = EmailValueSchema.safeParse(item.value);
    if (!check.success) throw ScimErrors.invalidValue(`emails[${i}].value`, firstIssue(check));
    const email: Record<string, unknown> = { ...item, value: check.data };
    if (item.primary !== undefined) {
      const primary = scimBoolean(item.primary);
      if (primary === undefined)
        throw ScimErrors.invalidValue(`emails[${i}].primary`, 'must be true or false');
      email.primary = primary;
    }
    return email;
  });
}

/**
 * The user's display name: `displayName`, else `name.formatted`, else given and family
 * name, else the userName. An explicit displayName must be a valid name of at most 200
 * characters; one made from the name parts is cut to 200.
 */
function displayNameOf(doc: Record<string, unknown>, email: string): string {
  if (doc.displayName !== undefined && doc.displayName !== null) {
    const check = DisplayNameSchema.safeParse(doc.displayName);
    if (!check.success) throw ScimErrors.invalidValue('displayName', firstIssue(check));
    return check.data;
  }
  const name = isObject(doc.name) ? doc.name : {};
  const candidates = [
    name.formatted,
    [name.givenName, name.familyName].filter((p) => typeof p === 'string' && p.trim()).join(' '),
  ];
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const check = DisplayNameSchema.safeParse(candidate.slice(0, 200));
    if (check.success && check.data) return check.data;
  }
  return email;
}

/**
 * The SCIM User resource of a user: core attributes from the user's columns (userName is
 * the email, active is "not disabled"), the stored attributes as they were sent, emails
 * defaulting to the login email as the primary work address, the groups when known, and
 * `meta` with the resource's location under `baseUrl`.
 */
export function scimUserResource(view: ScimUserView, baseUrl: string): ScimResource {
  const { name, emails, ...others } = view.attributes;
  const extensions = Object.keys(others).filter((key) => key.startsWith('urn:'));
  return {
    schemas: [ScimSchemas.user, ...extensions],
    id: view.id,
    ...(view.externalId !== null ? { externalId: view.externalId } : {}),
    userName: view.email,
    ...(name !== undefined ? { name } : {}),
    displayName: view.displayName,
    active: view.status !== 'disabled',
    emails:
      Array.isArray(emails) && emails.length
        ? emails
        : [{ value: view.email, type: 'work', primary: true }],
    ...others,
    ...(view.groups
      ? {
          groups: view.groups.map((g) => ({
            value: g.id,
            display: g.displayName,
            $ref: `${baseUrl}/Groups/${g.id}`,
            type: 'direct',
          })),
        }
      : {}),
    meta: {
      resourceType: 'User',
      created: view.createdAt.toISOString(),
      lastModified: view.updatedAt.toISOString(),
      location: `${baseUrl}/Users/${view.id}`,
    },
  };
}
