import type { GroupRole } from '@tenantry/contracts';

/** A SCIM group as the role rule sees it. */
export interface GroupRef {
  id: string;
  displayName: string;
  externalId: string | null;
}

/** Whether a `groupRoles` entry's `group` names this group: its displayName (ignoring case), externalId or id. */
export function mappingNames(group: GroupRef, mapped: string): boolean {
  return (
    mapped.toLowerCase() === group.displayName.toLowerCase() ||
    mapped === group.externalId ||
    mapped.toLowerCase() === group.id
  );
}

/**
 * The roles of a user of a SCIM directory (the one rule, applied whenever a membership,
 * a group's name or the directory's mapping changes): the directory's `defaultRole`
 * (when set), plus the roles of every `groupRoles` entry naming a group the user is a
 * member of. Default role first, then in the mapping's order, each once. The directory
 * owns these users' roles: roles given by other means are replaced at the next change.
 */
export function directoryRoles(
  directory: { defaultRole: string | null; groupRoles: GroupRole[] },
  groups: GroupRef[],
): string[] {
  const roles = new Set<string>();
  if (directory.defaultRole) roles.add(directory.defaultRole);
  for (const mapping of directory.groupRoles) {
    if (groups.some((group) => mappingNames(group, mapping.group)))
      mapping.roles.forEach((role) => roles.add(role));
  }
  return [...roles];
}

/** The same roles, in any order. */
export function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((role) => set.has(role));
}
