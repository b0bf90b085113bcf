import { AuthSettingsRpc, DEFAULT_AUTH_SETTINGS, PLATFORM_TENANT_ID } from '@tenantry/contracts';
import type { RpcClient } from '@tenantry/messaging';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';

export const REFRESH_COOKIE = 'tenantry_refresh';
/** Asks for the refresh token in the cookie rather than the body (browser clients). */
export const REFRESH_COOKIE_HEADER = 'x-tenantry-refresh-cookie';
/** Needed with a cookie refresh: a page of another site cannot send it without a CORS preflight. */
export const CSRF_HEADER = 'x-tenantry-csrf';
const COOKIE_PATH = '/v1/auth';
const ATTRIBUTES = `Path=${COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict`;
/** Refresh tokens are `<id>.<secret>` in base64url: anything else is never put in a header. */
const COOKIE_SAFE = /^[A-Za-z0-9._~-]{1,512}$/;

export function wantsCookie(request: FastifyRequest): boolean {
  return request.headers[REFRESH_COOKIE_HEADER] === '1';
}

export function hasCsrfHeader(request: FastifyRequest): boolean {
  return request.headers[CSRF_HEADER] === '1';
}

/** The refresh token in the request's cookie, if any. */
export function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== REFRESH_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return COOKIE_SAFE.test(value) ? value : undefined;
  }
  return undefined;
}

export function setRefreshCookie(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  void reply.header(
    'set-cookie',
    `${REFRESH_COOKIE}=${token}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; ${ATTRIBUTES}`,
  );
}

export function clearRefreshCookie(reply: FastifyReply): void {
  void reply.header('set-cookie', `${REFRESH_COOKIE}=; Max-Age=0; ${ATTRIBUTES}`);
}

export function isCookieSafe(token: string): boolean {
  return COOKIE_SAFE.test(token);
}

/**
 * How long the cookie may live: the refresh-token lifetime of the token's tenant (the
 * platform's for an operator), or the default 30 days when it cannot be asked.
 */
export async function refreshTtlSeconds(rpc: RpcClient, accessToken: string): Promise<number> {
  try {
    const tid = decodeJwt(accessToken).tid;
    const tenantId = typeof tid === 'string' ? tid : PLATFORM_TENANT_ID;
    const settings = await rpc.request(AuthSettingsRpc.get, { tenantId }, { timeoutMs: 2_000 });
    return settings.refreshTokenTtlSeconds;
  } catch {
    return DEFAULT_AUTH_SETTINGS.refreshTokenTtlSeconds;
  }
}
