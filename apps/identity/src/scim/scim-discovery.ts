import { ScimSchemas, type ScimResource } from '@tenantry/contracts';
import { ScimErrors } from './scim.errors.js';

/** A list returns at most this many resources (`count` above it is cut to it). */
export const SCIM_MAX_RESULTS = 200;

/** `startIndex` and `count` as RFC 7644 §3.4.2.4 has them: 1-based, at most SCIM_MAX_RESULTS. */
export function page(startIndex?: number, count?: number): { offset: number; limit: number } {
  const start = startIndex === undefined || startIndex < 1 ? 1 : startIndex;
  const limit =
    count === undefined ? SCIM_MAX_RESULTS : Math.max(0, Math.min(count, SCIM_MAX_RESULTS));
  return { offset: start - 1, limit };
}

type AttributeType = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';

interface AttributeOptions {
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  subAttributes?: Record<string, unknown>[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

/** An attribute definition (RFC 7643 §7) with the RFC's defaults. */
function attribute(
  name: string,
  type: AttributeType,
  description: string,
  options: AttributeOptions = {},
): Record<string, unknown> {
  return {
    name,
    type,
    multiValued: options.multiValued ?? false,
    description,
    required: options.required ?? false,
    ...(type === 'string' || type === 'reference' ? { caseExact: options.caseExact ?? false } : {}),
    ...(options.canonicalValues ? { canonicalValues: options.canonicalValues } : {}),
    ...(options.referenceTypes ? { referenceTypes: options.referenceTypes } : {}),
    ...(options.subAttributes ? { subAttributes: options.subAttributes } : {}),
    mutability: options.mutability ?? 'readWrite',
    returned: options.returned ?? 'default',
    ...(type === 'string' || type === 'reference'
      ? { uniqueness: options.uniqueness ?? 'none' }
      : {}),
  };
}

const multiValuedSubAttributes = (valueDescription: string, types: string[]) => [
  attribute('value', 'string', valueDescription),
  attribute('display', 'string', 'A human-readable name, primarily used for display purposes.'),
  attribute('type', 'string', 'A label indicating the attribute’s function.', {
    canonicalValues: types,
  }),
  attribute('primary', 'boolean', 'Whether this is the primary value.'),
];

const USER_ATTRIBUTES = [
  attribute(
    'userName',
    'string',
    'The user’s email address, their login: unique in the tenant (compared ignoring case), normalized to lower case.',
    { required: true, uniqueness: 'server' },
  ),
  attribute('name', 'complex', 'The components of the user’s name.', {
    subAttributes: [
      attribute('formatted', 'string', 'The full name, formatted for display.'),
      attribute('familyName', 'string', 'The family name.'),
      attribute('givenName', 'string', 'The given name.'),
      attribute('middleName', 'string', 'The middle name(s).'),
      attribute('honorificPrefix', 'string', 'The honorific prefix(es).'),
      attribute('honorificSuffix', 'string', 'The honorific suffix(es).'),
    ],
  }),
  attribute(
    'displayName',
    'string',
    'The name shown for the user (at most 200 characters); when absent: name.formatted, else givenName familyName, else userName.',
  ),
  attribute('nickName', 'string', 'The casual name of the user.'),
  attribute('title', 'string', 'The user’s title.'),
  attribute('userType', 'string', 'The relationship between the organization and the user.'),
  attribute('preferredLanguage', 'string', 'The user’s preferred written or spoken language.'),
  attribute('locale', 'string', 'The user’s default location.'),
  attribute('timezone', 'string', 'The user’s time zone (IANA).'),
  attribute(
    'active',
    'boolean',
    'Whether the user may sign in. false disables the user and revokes all their sessions; true enables them again.',
  ),
  attribute('emails', 'complex', 'Email addresses of the user.', {
    multiValued: true,
    subAttributes: multiValuedSubAttributes('An email address.', ['work', 'home', 'other']),
  }),
  attribute('phoneNumbers', 'complex', 'Phone numbers of the user.', {
    multiValued: true,
    subAttributes: multiValuedSubAttributes('A phone number.', [
      'work',
      'home',
      'mobile',
      'fax',
      'pager',
      'other',
    ]),
  }),
  attribute('groups', 'complex', 'The groups of this directory the user belongs to.', {
    multiValued: true,
    mutability: 'readOnly',
    subAttributes: [
      attribute('value', 'string', 'The group’s id.', { mutability: 'readOnly' }),
      attribute('$ref', 'reference', 'The group’s URI.', {
        mutability: 'readOnly',
        referenceTypes: ['Group'],
      }),
      attribute('display', 'string', 'The group’s displayName.', { mutability: 'readOnly' }),
      attribute('type', 'string', 'direct (groups do not nest).', {
        mutability: 'readOnly',
        canonicalValues: ['direct'],
      }),
    ],
  }),
];

const GROUP_ATTRIBUTES = [
  attribute(
    'displayName',
    'string',
    'The group’s name (at most 256 characters): unique in the directory, compared ignoring case. Directory role mappings name groups by it.',
    { required: true, uniqueness: 'server' },
  ),
  attribute('members', 'complex', 'The users of this directory that belong to the group.', {
    multiValued: true,
    subAttributes: [
      attribute('value', 'string', 'The user’s id.', { mutability: 'immutable' }),
      attribute('$ref', 'reference', 'The user’s URI.', {
        mutability: 'immutable',
        referenceTypes: ['User'],
      }),
      attribute('display', 'string', 'The user’s displayName.', { mutability: 'readOnly' }),
      attribute('type', 'string', 'User (groups do not nest).', {
        mutability: 'immutable',
        canonicalValues: ['User'],
      }),
    ],
  }),
];

const ENTERPRISE_USER_ATTRIBUTES = [
  attribute('employeeNumber', 'string', 'The user’s number in the organization.'),
  attribute('costCenter', 'string', 'A cost center.'),
  attribute('organization', 'string', 'An organization.'),
  attribute('division', 'string', 'A division.'),
  attribute('department', 'string', 'A department.'),
  attribute('manager', 'complex', 'The user’s manager.', {
    subAttributes: [
      attribute('value', 'string', 'The manager’s id.'),
      attribute('$ref', 'reference', 'The manager’s URI.', { referenceTypes: ['User'] }),
      attribute('displayName', 'string', 'The manager’s displayName.', {
        mutability: 'readOnly',
      }),
    ],
  }),
];

const SCHEMAS: { id: string; name: string; description: string; attributes: unknown[] }[] = [
  {
    id: ScimSchemas.user,
    name: 'User',
    description:
      'A user of the tenant. Attributes other than userName, displayName, active and externalId are kept as sent and returned.',
    attributes: USER_ATTRIBUTES,
  },
  {
    id: ScimSchemas.group,
    name: 'Group',
    description: 'A group of users; directory role mappings give its members roles.',
    attributes: GROUP_ATTRIBUTES,
  },
  {
    id: ScimSchemas.enterpriseUser,
    name: 'EnterpriseUser',
    description: 'Enterprise attributes of a user, kept as sent and returned.',
    attributes: ENTERPRISE_USER_ATTRIBUTES,
  },
];

const RESOURCE_TYPES = [
  {
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'Users of the tenant',
    schema: ScimSchemas.user,
    schemaExtensions: [{ schema: ScimSchemas.enterpriseUser, required: false }],
  },
  {
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Groups of users',
    schema: ScimSchemas.group,
    schemaExtensions: [],
  },
];

function listResponse(resources: ScimResource[]): ScimResource {
  return {
    schemas: [ScimSchemas.listResponse],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/**
 * What this SCIM server supports (RFC 7643 §5): PATCH yes; filters yes, at most
 * SCIM_MAX_RESULTS results a page; bulk, sorting, ETags and password changes no;
 * authentication by bearer token.
 */
export function serviceProviderConfig(baseUrl: string): ScimResource {
  return {
    schemas: [ScimSchemas.serviceProviderConfig],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description:
          'The SCIM directory’s token, as `Authorization: Bearer <token>` (shown once when the directory is made or its token rotated).',
        primary: true,
      },
    ],
    meta: {
      resourceType: 'ServiceProviderConfig',
      location: `${baseUrl}/ServiceProviderConfig`,
    },
  };
}

/** The schemas (RFC 7643 §7): all as a ListResponse, or one by its URN (404 for another). */
export function schemas(baseUrl: string, id?: string): ScimResource {
  const documents = SCHEMAS.map((schema) => ({
    schemas: [ScimSchemas.schema],
    ...schema,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  }));
  if (id === undefined) return listResponse(documents);
  const found = documents.find((d) => d.id.toLowerCase() === id.toLowerCase());
  if (!found) throw ScimErrors.discoveryNotFound('Schema', id);
  return found;
}

/** The resource types (RFC 7643 §6): all as a ListResponse, or one (`User`, `Group`). */
export function resourceTypes(baseUrl: string, id?: string): ScimResource {
  const documents = RESOURCE_TYPES.map((type) => ({
    schemas: [ScimSchemas.resourceType],
    ...type,
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${type.id}` },
  }));
  if (id === undefined) return listResponse(documents);
  const found = documents.find((d) => d.id.toLowerCase() === id.toLowerCase());
  if (!found) throw ScimErrors.discoveryNotFound('ResourceType', id);
  return found;
}
