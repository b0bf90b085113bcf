import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { sha256Hex } from '../core/secret-token.js';
import { OidcErrors } from './oidc.errors.js';

/** A browser has this long to come back from the provider. */
export const OIDC_STATE_TTL_SECONDS = 600;

/** What a started sign-in keeps until the provider redirects back with its `state`. */
export interface OidcPendingLogin {
  connectionId: string;
  /** The PKCE code verifier (its S256 challenge went to the provider). */
  codeVerifier: string;
  /** The `nonce` the id_token must carry. */
  nonce: string;
  returnTo: string | undefined;
}

/**
 * Pending OIDC sign-ins in Redis, under the SHA-256 of their `state` (a random 256-bit
 * value), expiring after OIDC_STATE_TTL_SECONDS; each is taken once.
 */
@Injectable()
export class OidcStateStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Keeps a pending sign-in under its `state`. */
  async save(state: string, pending: OidcPendingLogin): Promise<void> {
    await orUnavailable(() =>
      this.redis.set(key(state), JSON.stringify(pending), 'EX', OIDC_STATE_TTL_SECONDS),
    );
  }

  /** The pending sign-in of `state`, removed at once: null if unknown, expired or taken before. */
  async take(state: string): Promise<OidcPendingLogin | null> {
    const value = await orUnavailable(() => this.redis.getdel(key(state)));
    return value ? (JSON.parse(value) as OidcPendingLogin) : null;
  }
}

const key = (state: string) => `sso:oidc-state:${sha256Hex(state)}`;

async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch {
    throw OidcErrors.stateStoreUnavailable();
  }
}
