import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import { sha256Hex } from '../core/secret-token.js';
import { orUnavailable } from '../passwords/password.errors.js';

/** How long a passkey ceremony's options stay good for (the browser's timeout is the same). */
export const PASSKEY_CEREMONY_SECONDS = 300;

/**
 * The WebAuthn challenges handed out and not answered yet, in Redis: a registration's per
 * user (a newer one replaces it), a second factor's per MFA challenge, a passkey sign-in's
 * by the challenge itself. Each is taken once: the answer that takes it is the only one
 * checked against it.
 */
@Injectable()
export class PasskeyChallenges {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async putRegistration(tenantId: string, userId: string, challenge: string): Promise<void> {
    await this.put(registrationKey(tenantId, userId), challenge);
  }

  takeRegistration(tenantId: string, userId: string): Promise<string | null> {
    return this.take(registrationKey(tenantId, userId));
  }

  async putSignIn(mfaChallengeToken: string, challenge: string): Promise<void> {
    await this.put(signInKey(mfaChallengeToken), challenge);
  }

  takeSignIn(mfaChallengeToken: string): Promise<string | null> {
    return this.take(signInKey(mfaChallengeToken));
  }

  /** A passkey sign-in's challenge (no user known yet): found again by the challenge itself. */
  async putLogin(challenge: string): Promise<void> {
    await this.put(loginKey(challenge), challenge);
  }

  /** True once for a challenge handed out for a passkey sign-in and not answered yet. */
  async takeLogin(challenge: string): Promise<boolean> {
    return (await this.take(loginKey(challenge))) === challenge;
  }

  private async put(key: string, challenge: string): Promise<void> {
    await orUnavailable(() => this.redis.set(key, challenge, 'EX', PASSKEY_CEREMONY_SECONDS));
  }

  private take(key: string): Promise<string | null> {
    return orUnavailable(() => this.redis.getdel(key));
  }
}

const registrationKey = (tenantId: string, userId: string) =>
  `auth:passkey-registration:${tenantId}:${userId}`;
const signInKey = (token: string) => `auth:passkey-sign-in:${sha256Hex(token)}`;
const loginKey = (challenge: string) => `auth:passkey-login:${sha256Hex(challenge)}`;
