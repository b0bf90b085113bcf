import { ScimSchemas, text, type ScimResource } from '@tenantry/contracts';
import { canonicalKeys } from './scim-attributes.js';
import { memberIds } from './scim-patch-request.js';
import { ScimErrors } from './scim.errors.js';

const GroupNameSchema = text({ max: 256, name: true });
const ExternalIdSchema = text({ min: 1, max: 512 });

/** What a SCIM Group document (POST, PUT, or a PATCH's result) sets on a group. */
export interface ScimGroupInput {
  displayName: string;
  externalId: string | null;
  /** Member user ids (lowercase); undefined when the document has no `members`. */
  members?: string[];
}

/** A group as the SCIM resource shows it. */
export interface ScimGroupView {
  id: string;
  displayName: string;
  externalId: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Undefined: not asked for (excludedAttributes=members). */
  members?: { id: string; displayName: string }[];
}

/**
 * Reads a SCIM Group document: `displayName` (required, at most 256 characters),
 * `externalId`, `members` (`[{ "value": "<user id>" }]`, users only: nested groups are
 * not supported). Other attributes are ignored. A bad value is a 400 invalidValue.
 */
export function scimGroupInput(document: Record<string, unknown>): ScimGroupInput {
  const doc = canonicalKeys(document) as Record<string, unknown>;
  const name = GroupNameSchema.safeParse(doc.displayName);
  if (!name.success)
    throw ScimErrors.invalidValue(
      'displayName',
      doc.displayName === undefined
        ? 'is required: the group’s name'
        : (name.error.issues[0]?.message ?? 'is not valid'),
    );
  let externalId: string | null = null;
  if (doc.externalId !== undefined && doc.externalId !== null) {
    const check = ExternalIdSchema.safeParse(doc.externalId);
    if (!check.success)
      throw ScimErrors.invalidValue('externalId', check.error.issues[0]?.message ?? 'is not valid');
    externalId = check.data;
  }
  const members =
    doc.members === undefined || doc.members === null
      ? undefined
      : [...new Set(memberIds(doc.members, 'members'))];
  if (members && !Array.isArray(doc.members))
    throw ScimErrors.invalidValue('members', 'must be an array of { "value": "<user id>" }');
  return { displayName: name.data, externalId, members };
}

/** The SCIM Group resource of a group, its members (when known) with links to them. */
export function scimGroupResource(view: ScimGroupView, baseUrl: string): ScimResource {
  return {
    schemas: [ScimSchemas.group],
    id: view.id,
    ...(view.externalId !== null ? { externalId: view.externalId } : {}),
    displayName: view.displayName,
    ...(view.members
      ? {
          members: view.members.map((m) => ({
            value: m.id,
            display: m.displayName,
            $ref: `${baseUrl}/Users/${m.id}`,
            type: 'User',
          })),
        }
      : {}),
    meta: {
      resourceType: 'Group',
      created: view.createdAt.toISOString(),
      lastModified: view.updatedAt.toISOString(),
      location: `${baseUrl}/Groups/${view.id}`,
    },
  };
}
