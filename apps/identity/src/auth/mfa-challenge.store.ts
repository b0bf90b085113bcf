import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { randomSecret, sha256Hex } from '../core/secret-token.js';
import { orUnavailable } from '../passwords/password.errors.js';

/** A sign-in that passed its password and waits for the second factor, for 5 minutes. */
export const MFA_CHALLENGE_TTL_SECONDS = 300;

export interface MfaChallengeState {
  tenantId: string;
  userId: string;
  /** The tenant requires MFA and the user had none: they enrol, and the first code confirms it. */
  enrolmentRequired: boolean;
  /** When the password was checked (the session's auth_time). */
  authTime: string;
}

/**
 * Pending MFA challenges in Redis, under the SHA-256 of their token (a random 256-bit
 * secret), expiring after MFA_CHALLENGE_TTL_SECONDS; each can be consumed once.
 */
@Injectable()
export class MfaChallengeStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Stores a challenge; returns its token (shown once). */
  async create(state: MfaChallengeState): Promise<string> {
    const token = randomSecret();
    await orUnavailable(() =>
      this.redis.set(key(token), JSON.stringify(state), 'EX', MFA_CHALLENGE_TTL_SECONDS),
    );
    return token;
  }

  /** The challenge, while it exists (not expired, not consumed). */
  async find(token: string): Promise<MfaChallengeState | null> {
    const value = await orUnavailable(() => this.redis.get(key(token)));
    return value ? (JSON.parse(value) as MfaChallengeState) : null;
  }

  /** Ends the challenge; true for exactly one caller (whoever completes the sign-in). */
  async consume(token: string): Promise<boolean> {
    return (await orUnavailable(() => this.redis.del(key(token)))) === 1;
  }
}

const key = (token: string) => `auth:mfa-challenge:${sha256Hex(token)}`;
