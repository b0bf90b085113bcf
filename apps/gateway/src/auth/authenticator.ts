import { hash } from 'node:crypto';
import { API_KEY_PATTERN } from '@tenantry/contracts';
import type { IncomingHttpHeaders } from 'node:http';
import type { AccessTokenVerifier, Authenticated } from './access-token.verifier.js';
import type { ApiKeyVerifier } from './api-key.verifier.js';
import { AuthErrors } from './auth.errors.js';
import type { Revocations } from './revocations.js';
import type { VerifiedTokenCache } from './token-cache.js';

/** Longer than any token identity issues: refused without verifying. */
const MAX_TOKEN_LENGTH = 4096;
const JWT_SHAPE = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

export interface AuthenticatorOptions {
  tokens: AccessTokenVerifier;
  tokenCache: VerifiedTokenCache;
  apiKeys: ApiKeyVerifier;
  revocations: Revocations;
  /** False until the recent revocations have been read: nothing is accepted before (503). */
  revocationsLoaded: () => boolean;
}

/** The token of `Authorization: Bearer <token>` (scheme in any case); undefined for other schemes. */
function bearerToken(header: string): string | undefined {
  if (header.length < 8) return undefined;
  if (!header.startsWith('Bearer ') && header.slice(0, 7).toLowerCase() !== 'bearer ')
    return undefined;
  const token = header.slice(7).trim();
  return token || undefined;
}

/**
 * Turns a request's credentials into a principal: an access token in `Authorization:
 * Bearer`, or an API key (`tnty_…`) in `Authorization: Bearer` or `X-API-Key`. A verified
 * token is served from the cache by its SHA-256 until it expires; its session is checked
 * against the revocations on every request, cached or not. Returns synchronously when no
 * I/O or signature check is needed (the common case).
 */
export class Authenticator {
  private readonly verifying = new Map<string, Promise<Authenticated>>();

  constructor(private readonly options: AuthenticatorOptions) {}

  authenticate(headers: IncomingHttpHeaders): Authenticated | Promise<Authenticated> {
    const authorization = headers.authorization;
    const apiKeyHeader = headers['x-api-key'];
    if (apiKeyHeader !== undefined) {
      if (authorization !== undefined) throw AuthErrors.credentialsAmbiguous();
      const key = typeof apiKeyHeader === 'string' ? apiKeyHeader.trim() : '';
      if (JWT_SHAPE.test(key)) throw AuthErrors.tokenInApiKeyHeader();
      return this.apiKey(key);
    }
    if (authorization === undefined || authorization === '') throw AuthErrors.credentialsMissing();
    const token = bearerToken(authorization);
    if (!token) throw AuthErrors.credentialsMissing();
    if (token.length > MAX_TOKEN_LENGTH) throw AuthErrors.tokenInvalid();
    if (token.startsWith('tnty_')) return this.apiKey(token);
    return this.accessToken(token);
  }

  private accessToken(token: string): Authenticated | Promise<Authenticated> {
    const digest = hash('sha256', token, 'base64url');
    const hit = this.options.tokenCache.get(digest);
    if (hit) return this.unlessRevoked(hit);
    if (!this.options.revocationsLoaded()) throw AuthErrors.revocationsUnavailable();
    let pending = this.verifying.get(digest);
    if (!pending) {
      pending = this.options.tokens
        .verify(token)
        .then((verified) => {
          this.options.tokenCache.set(digest, verified);
          return verified;
        })
        .finally(() => this.verifying.delete(digest));
      this.verifying.set(digest, pending);
    }
    return pending.then((verified) => this.unlessRevoked(verified));
  }

  private unlessRevoked(entry: Authenticated): Authenticated {
    const session = entry.principal.sessionId;
    if (session !== undefined && this.options.revocations.isSessionRevoked(session))
      throw AuthErrors.sessionRevoked();
    return entry;
  }

  private apiKey(key: string): Promise<Authenticated> {
    if (!API_KEY_PATTERN.test(key)) throw AuthErrors.apiKeyInvalid();
    if (!this.options.revocationsLoaded()) throw AuthErrors.revocationsUnavailable();
    return this.options.apiKeys.verify(key);
  }
}
