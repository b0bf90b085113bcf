import { Inject, Injectable } from '@nestjs/common';
import type { TokenSet } from '@tenantry/contracts';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { randomSecret, sha256Hex } from '../core/secret-token.js';
import { orUnavailable } from '../passwords/password.errors.js';

/** How long the browser has to bring the one-time code back. */
export const SSO_CODE_TTL_SECONDS = 60;

/**
 * The tokens of a completed SSO sign-in, waiting for the frontend to collect them with the
 * one-time code the browser was sent back with (so tokens never travel in a URL). Stored
 * in Redis under the SHA-256 of the code, for SSO_CODE_TTL_SECONDS, collected once.
 */
@Injectable()
export class SsoCodeStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async issue(tokens: TokenSet): Promise<string> {
    const code = randomSecret();
    await orUnavailable(() =>
      this.redis.set(key(code), JSON.stringify(tokens), 'EX', SSO_CODE_TTL_SECONDS),
    );
    return code;
  }

  /** The tokens, for exactly one caller; null when unknown, expired or already collected. */
  async collect(code: string): Promise<TokenSet | null> {
    const value = await orUnavailable(() => this.redis.getdel(key(code)));
    return value ? (JSON.parse(value) as TokenSet) : null;
  }
}

const key = (code: string) => `auth:sso-code:${sha256Hex(code)}`;
