/**
 * API key scopes are `resource:action`, with `*` allowed on either side. A granted scope
 * covers a required one when each side is `*` or the same word (`users:*` covers
 * `users:read`, `*:read` covers `audit:read`, `*:*` covers everything); a required `*`
 * is covered only by a granted `*`.
 */
export function scopeCovers(granted: string, required: string): boolean {
  if (granted === required || granted === '*:*') return true;
  const g = granted.indexOf(':');
  const r = required.indexOf(':');
  if (g < 0 || r < 0) return false;
  const gResource = granted.slice(0, g);
  const gAction = granted.slice(g + 1);
  return (
    (gResource === '*' || gResource === required.slice(0, r)) &&
    (gAction === '*' || gAction === required.slice(r + 1))
  );
}

/** Every required scope is covered by one of the granted ones. */
export function scopesCover(granted: readonly string[], required: readonly string[]): boolean {
  return required.every((scope) => granted.some((g) => scopeCovers(g, scope)));
}

/** The required scopes no granted scope covers. */
export function uncoveredScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !granted.some((g) => scopeCovers(g, scope)));
}
