import type { ConfigurationChange, ReportEvent } from '@tenantry/contracts';
import type { ReportEventRow } from './report.repository.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, readable rendering of a JSON value for a sentence (arrays as `[a, b]`). */
function brief(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(brief).join(', ')}]`;
  if (isObject(value)) return JSON.stringify(value);
  return String(value);
}

function who(type: string | null | undefined, id: string | null | undefined): string {
  return type && id ? `${type} ${id}` : 'someone';
}

/**
 * The state before and after a change: the event's `changes` when it has them, else the
 * `before`/`after` its data carries (the policy service's, SSO connections'), else what
 * `data.changed` says was set (identity's updates); null for an event that is no change.
 */
export function changesOf(row: ReportEventRow): ReportEvent['changes'] {
  if (row.changes && ('before' in row.changes || 'after' in row.changes))
    return { before: row.changes.before ?? null, after: row.changes.after ?? null };
  const data = row.data;
  if (!data) return null;
  if ('before' in data || 'after' in data)
    return { before: data.before ?? null, after: data.after ?? null };
  if (isObject(data.changed)) return { before: null, after: data.changed };
  return null;
}

/** The roles a role-changing user event set (null when it says none). */
function rolesSet(row: ReportEventRow): unknown {
  const data = row.data ?? {};
  const changed = isObject(data.changed) ? data.changed : {};
  const after = isObject(row.changes?.after) ? row.changes.after : {};
  if (after.roles !== undefined) return after.roles;
  if (changed.roles !== undefined) return changed.roles;
  if (data.roles !== undefined) return data.roles;
  if (row.action === 'user.roles-changed') return data.after;
  return null;
}

/** What happened, in a sentence, from the action and what its data says. */
export function summarize(row: ReportEventRow): string {
  const data = row.data ?? {};
  const target = who(row.targetType, row.targetId);
  const failed = row.outcome === 'failure';
  const why = row.reason ?? data.failure ?? data.reason;
  switch (row.action) {
    case 'login.succeeded':
      return `signed in${Array.isArray(data.amr) ? ` (${data.amr.join(', ')})` : ''}`;
    case 'login.failed':
    case 'login.refused':
    case 'mfa.failed':
    case 'sso.login.failed':
      return `${row.action === 'mfa.failed' ? 'MFA' : 'sign-in'} ${row.action.endsWith('refused') ? 'refused' : 'failed'}${why ? `: ${brief(why)}` : ''}`;
    case 'user.invited':
    case 'user.provisioned':
    case 'user.created':
      return `${target} ${row.action.slice(5)}${data.roles !== undefined ? ` with roles ${brief(data.roles)}` : ''}`;
    case 'user.updated': {
      const roles = rolesSet(row);
      return roles !== null ? `roles of ${target} set to ${brief(roles)}` : `${target} updated`;
    }
    case 'user.roles-changed':
      return `roles of ${target} changed from ${brief(data.before)} to ${brief(data.after)}`;
    case 'role-binding.created':
    case 'role-binding.deleted': {
      const binding = changesOf(row)?.[row.action.endsWith('created') ? 'after' : 'before'];
      if (isObject(binding) && isObject(binding.subject))
        return `role ${brief(binding.roleId)} ${row.action.endsWith('created') ? 'bound to' : 'unbound from'} ${who(String(binding.subject.type), String(binding.subject.id))}${binding.scope ? ` on ${brief(binding.scope)}` : ''}`;
      return `${row.action.replace('.', ' ')} ${row.targetId ?? ''}`.trim();
    }
    case 'api_key.created':
    case 'api_key.rotated':
    case 'api_key.revoked':
      return `API key ${data.name !== undefined ? `"${brief(data.name)}" ` : ''}${row.targetId ?? ''} ${row.action.slice(8)}${row.action === 'api_key.created' && data.scopes !== undefined ? ` with scopes ${brief(data.scopes)}` : ''}`;
    case 'authz.denied':
      return `refused ${brief(data.permission ?? row.targetId)}${isObject(data.reason) && data.reason.message ? `: ${brief(data.reason.message)}` : ''}`;
    default: {
      const changed = Array.isArray(data.changed) ? ` (${data.changed.map(brief).join(', ')})` : '';
      return `${row.action}${row.targetType ? ` on ${target}` : ''}${changed}${failed ? ` failed${why ? `: ${brief(why)}` : ''}` : ''}`;
    }
  }
}

/** A ledger row as reports list it. */
export function toReportEvent(row: ReportEventRow): ReportEvent {
  return {
    seq: row.seq,
    hash: row.hash,
    id: row.id,
    occurredAt: row.occurredAt.toISOString(),
    category: row.category,
    action: row.action,
    outcome: row.outcome,
    severity: row.severity,
    actor: { type: row.actorType, id: row.actorId, name: row.actorName },
    onBehalfOf:
      row.onBehalfOfType && row.onBehalfOfId
        ? { type: row.onBehalfOfType, id: row.onBehalfOfId }
        : null,
    target: row.targetType && row.targetId ? { type: row.targetType, id: row.targetId } : null,
    reason: row.reason,
    summary: summarize(row),
    changes: changesOf(row),
    data: row.data,
  };
}

/**
 * What a configuration change is: an action starting with one of these prefixes, in the
 * area named beside it (the first prefix that matches).
 */
export const CONFIGURATION_AREAS: readonly (readonly [string, string])[] = [
  ['auth-settings.', 'Authentication settings'],
  ['sso_connection.', 'SSO connections'],
  ['sso_setup_link.', 'SSO setup links'],
  ['domain.', 'Domains'],
  ['scim-directory.', 'SCIM directories'],
  ['role-binding.', 'Role bindings'],
  ['role-template.', 'Role templates'],
  ['role.', 'Roles'],
  ['tenant-policy.', 'Policy'],
  ['policy.', 'Policy rules'],
  ['api_key.', 'API keys'],
  ['signing-key.', 'Signing keys'],
  ['audit_sink.', 'Audit sinks'],
];

/** The configuration area an action belongs to. */
export function areaOf(action: string): string {
  return CONFIGURATION_AREAS.find(([prefix]) => action.startsWith(prefix))?.[1] ?? 'Other';
}

/** The same, in SQL over `e.action`, for counting per area in the database. */
export const AREA_SQL = `CASE ${CONFIGURATION_AREAS.map(
  ([prefix, area]) => `WHEN starts_with(e.action, '${prefix}') THEN '${area}'`,
).join(' ')} ELSE 'Other' END`;

export function toConfigurationChange(row: ReportEventRow): ConfigurationChange {
  return { ...toReportEvent(row), area: areaOf(row.action) };
}
