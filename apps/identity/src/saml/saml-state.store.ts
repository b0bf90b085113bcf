import { Inject, Injectable } from '@nestjs/common';
import type { CacheItem, CacheProvider } from '@node-saml/passport-saml';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { sha256Hex } from '../core/secret-token.js';
import { orUnavailable } from '../passwords/password.errors.js';

/** How long an AuthnRequest may wait for its answer (and its RelayState for the browser). */
export const SAML_REQUEST_TTL_SECONDS = 600;

/** What an SP-initiated sign-in left behind for its answer, under its RelayState. */
export interface SamlRelayEntry {
  /** The AuthnRequest's ID: the answer's InResponseTo must be it. */
  requestId: string;
  returnTo: string | null;
}

/**
 * The SAML flows' state in Redis (keys under the client's namespace prefix): pending
 * AuthnRequest IDs (node-saml's `cacheProvider`, for InResponseTo), RelayStates, and the IDs
 * of accepted assertions until they expire (replay). Each is per connection; IDs chosen by
 * others (request IDs echoed back, assertion IDs) are stored as their SHA-256.
 */
@Injectable()
export class SamlStateStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** node-saml's cache of the connection's pending request IDs (saved at start, read at the ACS). */
  requestCache(connectionId: string): CacheProvider {
    const redis = this.redis;
    const key = (id: string) => requestKey(connectionId, id);
    return {
      async saveAsync(id: string, value: string): Promise<CacheItem | null> {
        await orUnavailable(() => redis.set(key(id), value, 'EX', SAML_REQUEST_TTL_SECONDS));
        return { value, createdAt: Date.now() };
      },
      getAsync: (id: string) => orUnavailable(() => redis.get(key(id))),
      async removeAsync(id: string | null): Promise<string | null> {
        if (id) await orUnavailable(() => redis.del(key(id)));
        return id;
      },
    };
  }

  /** Whether the connection has this request pending. */
  async hasRequest(connectionId: string, requestId: string): Promise<boolean> {
    return (
      (await orUnavailable(() => this.redis.exists(requestKey(connectionId, requestId)))) === 1
    );
  }

  async forgetRequest(connectionId: string, requestId: string): Promise<void> {
    await orUnavailable(() => this.redis.del(requestKey(connectionId, requestId)));
  }

  async saveRelay(connectionId: string, relayState: string, entry: SamlRelayEntry): Promise<void> {
    await orUnavailable(() =>
      this.redis.set(
        relayKey(connectionId, relayState),
        JSON.stringify(entry),
        'EX',
        SAML_REQUEST_TTL_SECONDS,
      ),
    );
  }

  /** The RelayState's entry, removed: true for exactly one caller. */
  async takeRelay(connectionId: string, relayState: string): Promise<SamlRelayEntry | null> {
    const value = await orUnavailable(() => this.redis.getdel(relayKey(connectionId, relayState)));
    return value ? (JSON.parse(value) as SamlRelayEntry) : null;
  }

  /**
   * Records an accepted assertion ID until `until` (epoch ms); false when it was already
   * recorded (a replay). `SET NX`: two copies arriving at once cannot both win.
   */
  async claimAssertion(connectionId: string, assertionId: string, until: number): Promise<boolean> {
    const ttlMs = Math.max(1_000, Math.ceil(until - Date.now()));
    const result = await orUnavailable(() =>
      this.redis.set(assertionKey(connectionId, assertionId), '1', 'PX', ttlMs, 'NX'),
    );
    return result === 'OK';
  }
}

const requestKey = (connectionId: string, id: string) =>
  `saml:request:${connectionId}:${sha256Hex(id)}`;
const relayKey = (connectionId: string, relayState: string) =>
  `saml:relay:${connectionId}:${sha256Hex(relayState)}`;
const assertionKey = (connectionId: string, id: string) =>
  `saml:assertion:${connectionId}:${sha256Hex(id)}`;
