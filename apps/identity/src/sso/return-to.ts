/**
 * Where a browser may be sent back to after an SSO sign-in: only to the tenant's allowed
 * origins (`redirectOrigins` of its auth settings) or the platform's own app URL. Compared
 * as parsed origins, so `https://app.example.com.evil.test`, `https://app.example.com@evil.test`,
 * `//evil.test`, `javascript:` and other schemes never pass.
 */
export function allowedReturnTo(
  returnTo: string,
  redirectOrigins: readonly string[],
  appUrl: string,
): URL | null {
  if (!URL.canParse(returnTo)) return null;
  const url = new URL(returnTo);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  const allowed = new Set([...redirectOrigins, new URL(appUrl).origin]);
  return allowed.has(url.origin) ? url : null;
}

/** `returnTo` (or the app URL) with the one-time sign-in code added to its query. */
export function withCode(target: URL, code: string): string {
  const url = new URL(target);
  url.searchParams.set('code', code);
  return url.toString();
}
