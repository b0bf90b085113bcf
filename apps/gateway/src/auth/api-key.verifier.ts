import { hash } from 'node:crypto';
import { actorOf, AppError, ERROR_HTTP_MAP, type Principal } from '@tenantry/contracts';
import { LRUCache } from 'lru-cache';
import type { Authenticated } from './access-token.verifier.js';
import { AuthErrors } from './auth.errors.js';
import type { Revocations } from './revocations.js';

/** How long identity's answer about a key is reused (revocations evict it at once). */
export const API_KEY_CACHE_MS = 30_000;

export interface ApiKeyVerifierOptions {
  /** Asks identity (ApiKeyRpc.verify): the key's principal, or throws its error. */
  verifyRemote: (key: string) => Promise<Principal>;
  revocations: Revocations;
  ttlMs?: number;
  max?: number;
  now?: () => number;
}

/**
 * API keys, checked by identity once and then cached by the SHA-256 of the key for 30 s.
 * A revocation evicts it at once (and refuses it while an answer about it is in flight);
 * identity refusing the key is a 401, identity not answering a 503.
 */
export class ApiKeyVerifier {
  private readonly cache: LRUCache<string, Authenticated>;
  private readonly inFlight = new Map<string, Promise<Authenticated>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ApiKeyVerifierOptions) {
    this.ttlMs = options.ttlMs ?? API_KEY_CACHE_MS;
    this.now = options.now ?? Date.now;
    this.cache = new LRUCache({ max: options.max ?? 10_000 });
  }

  async verify(key: string): Promise<Authenticated> {
    const digest = hash('sha256', key, 'base64url');
    const cached = this.cache.get(digest);
    if (cached && cached.expiresAt > this.now()) return this.unlessRevoked(cached);
    let pending = this.inFlight.get(digest);
    if (!pending) {
      pending = this.ask(key, digest).finally(() => this.inFlight.delete(digest));
      this.inFlight.set(digest, pending);
    }
    return this.unlessRevoked(await pending);
  }

  /** Forgets every cached answer about the key (its revocation event). */
  evict(keyId: string): void {
    for (const [digest, entry] of this.cache.entries()) {
      if (entry.principal.id === keyId) this.cache.delete(digest);
    }
  }

  private unlessRevoked(entry: Authenticated): Authenticated {
    if (this.options.revocations.isApiKeyRevoked(entry.principal.id))
      throw AuthErrors.apiKeyInvalid();
    return entry;
  }

  private async ask(key: string, digest: string): Promise<Authenticated> {
    let principal: Principal;
    try {
      principal = await this.options.verifyRemote(key);
    } catch (error) {
      // Identity refused the key (UNAUTHENTICATED, or any other answer about the request):
      // 401. It was down, slow or failed: 503, so a client retries rather than drops its key.
      if (error instanceof AppError && ERROR_HTTP_MAP[error.code].status < 500)
        throw AuthErrors.apiKeyInvalid();
      throw AuthErrors.apiKeysUnavailable();
    }
    if (principal.kind !== 'api_key') throw AuthErrors.apiKeyInvalid();
    // Never reused past the key's own end (its expiry, or a rotation's overlap).
    const keyEnds = principal.expiresAt ? Date.parse(principal.expiresAt) : Infinity;
    const ttl = Math.min(this.ttlMs, keyEnds - this.now());
    const entry: Authenticated = {
      principal,
      actor: actorOf(principal),
      expiresAt: this.now() + Math.max(ttl, 0),
    };
    if (ttl > 0 && !this.options.revocations.isApiKeyRevoked(principal.id))
      this.cache.set(digest, entry, { ttl });
    return entry;
  }
}
