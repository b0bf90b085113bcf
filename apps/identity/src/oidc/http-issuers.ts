import { commaListSetting } from '@tenantry/runtime';

const HTTP_ISSUERS_EXPECTED =
  'must be a comma-separated list of http:// origins (scheme, host and port only, such as ' +
  'http://127.0.0.1:4455), or unset; for development and tests only';

/**
 * An entry of SSO_ALLOW_HTTP_ISSUERS as its origin (`http://127.0.0.1:4455`), or null when
 * it is not an http:// URL made of scheme, host and port (a trailing `/` is tolerated).
 */
export function parseHttpOrigin(entry: string): string | null {
  const value = entry.trim();
  if (!URL.canParse(value) || /[?#]$/.test(value)) return null;
  const url = new URL(value);
  const originOnly =
    url.protocol === 'http:' &&
    !url.username &&
    !url.password &&
    url.pathname === '/' &&
    !url.search &&
    !url.hash;
  return originOnly ? url.origin : null;
}

/**
 * `SSO_ALLOW_HTTP_ISSUERS`: the origins of OIDC issuers allowed to use plain http, as a list
 * (empty: none; https is then required of every issuer). For development and tests only.
 */
export const HttpIssuerOriginsSchema = commaListSetting(
  (entry) => parseHttpOrigin(entry) !== null,
  HTTP_ISSUERS_EXPECTED,
).transform((entries) => entries.flatMap((entry) => parseHttpOrigin(entry) ?? []));
