/** Two refreshes of one token within this time of each other both succeed (a lost response). */
export const REFRESH_GRACE_MS = 5_000;

/**
 * What presenting a refresh token does:
 * - `rotate`: it is current: it is spent and a new one issued;
 * - `grace`: it was spent less than REFRESH_GRACE_MS ago (a concurrent or retried refresh):
 *   another new token of the same session is issued;
 * - `reuse`: it was spent earlier: someone replays it, and the whole session is revoked;
 * - `invalid`: its session is revoked or over, or the token expired.
 */
export type RefreshDecision = 'rotate' | 'grace' | 'reuse' | 'invalid';

export function refreshDecision(
  token: { usedAt: Date | null; expiresAt: Date },
  session: { revokedAt: Date | null; expiresAt: Date },
  now: Date,
  graceMs: number = REFRESH_GRACE_MS,
): RefreshDecision {
  if (session.revokedAt || session.expiresAt <= now || token.expiresAt <= now) return 'invalid';
  if (!token.usedAt) return 'rotate';
  return now.getTime() - token.usedAt.getTime() <= graceMs ? 'grace' : 'reuse';
}

/**
 * Whether a session sat unused for longer than the tenant's idle timeout (its last sign-in
 * or refresh is `lastUsedAt`); never with no timeout (null).
 */
export function idleExpired(
  session: { lastUsedAt: Date },
  now: Date,
  idleTimeoutSeconds: number | null,
): boolean {
  return (
    idleTimeoutSeconds !== null &&
    now.getTime() - session.lastUsedAt.getTime() > idleTimeoutSeconds * 1000
  );
}
