import { PLATFORM_TENANT_ID, type Principal } from '@tenantry/contracts';
import type { PermissionOptions } from '../auth/access.decorators.js';

/**
 * Routes about the caller's own account (profile, password, MFA, sessions, sign-out): users and
 * operators, with `profile:read` / `profile:write` (the default `member` role grants `profile:*`);
 * not API keys, which have no user, session or password.
 */
export const OWN_ACCOUNT = {
  principals: ['user', 'operator'],
} as const satisfies PermissionOptions;

/**
 * Platform administration (tenants, signing keys, the platform's settings and API keys): decided
 * by the platform tenant's policy, where the default binds `platform-operator` (`*:*`) to
 * operators; for operators only, as before the policy service (a platform API key could otherwise
 * be given these by its scopes).
 */
export const PLATFORM_ADMINISTRATION = {
  platform: true,
  principals: ['operator'],
} as const satisfies PermissionOptions;

/** The tenant the caller's own records live under: operators' under the platform's id. */
export function homeTenant(principal: Principal): string {
  return principal.tenantId ?? PLATFORM_TENANT_ID;
}

/** Users and operators always have a session (their access token's `sid`). */
export function sessionOf(principal: Principal): string {
  if (!principal.sessionId) throw new Error(`${principal.kind} ${principal.id} has no session`);
  return principal.sessionId;
}

/** Access tokens live at most 15 minutes (plus 5 s leeway): a session revoked here is refused that long. */
export const MAX_ACCESS_TOKEN_MS = 15 * 60_000 + 60_000;
