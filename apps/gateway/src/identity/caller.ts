import { PLATFORM_TENANT_ID, type Principal } from '@tenantry/contracts';

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
