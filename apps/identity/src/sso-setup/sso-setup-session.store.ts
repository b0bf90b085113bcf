import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { randomSecret, sha256Hex } from '../core/secret-token.js';
import { orUnavailable } from '../passwords/password.errors.js';

/** What a setup session is: the link it was opened with, its tenant, and when it ends. */
export interface SsoSetupSessionState {
  linkId: string;
  tenantId: string;
  /**
   * When its link was opened (ISO 8601): the session is good only while the link's
   * opened_at is this one, so a session stored by an opening whose transaction then failed
   * never becomes usable.
   */
  openedAt: string;
  /** ISO 8601; Redis forgets the session then too. */
  expiresAt: string;
}

/**
 * Setup sessions in Redis, under the SHA-256 of their token (a random 256-bit secret),
 * expiring with the session; beside each, its link's pointer to it, so revoking the link
 * ends the session.
 */
@Injectable()
export class SsoSetupSessionStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Stores a session for `ttlSeconds`; returns its token (shown once). */
  async create(state: SsoSetupSessionState, ttlSeconds: number): Promise<string> {
    const token = randomSecret();
    const hash = sha256Hex(token);
    await orUnavailable(async () => {
      const results = await this.redis
        .multi()
        .set(sessionKey(hash), JSON.stringify(state), 'EX', ttlSeconds)
        .set(linkKey(state.linkId), hash, 'EX', ttlSeconds)
        .exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('the Redis transaction was aborted');
    });
    return token;
  }

  /** The session of this token, while it exists (not expired, its link not revoked). */
  async find(token: string): Promise<SsoSetupSessionState | null> {
    const value = await orUnavailable(() => this.redis.get(sessionKey(sha256Hex(token))));
    return value ? (JSON.parse(value) as SsoSetupSessionState) : null;
  }

  /** Ends the session opened with this link, if there is one; true when one was ended. */
  async endForLink(linkId: string): Promise<boolean> {
    return orUnavailable(async () => {
      const hash = await this.redis.get(linkKey(linkId));
      if (!hash) return false;
      const deleted = await this.redis.del(sessionKey(hash), linkKey(linkId));
      return deleted > 0;
    });
  }
}

const sessionKey = (hash: string) => `sso-setup:session:${hash}`;
const linkKey = (linkId: string) => `sso-setup:link:${linkId}`;
