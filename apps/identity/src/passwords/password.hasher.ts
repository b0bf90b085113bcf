import { Injectable, type OnModuleInit } from '@nestjs/common';
import { hash, verify, type Options } from '@node-rs/argon2';
import { Counter, register } from 'prom-client';
import { randomSecret } from '../core/secret-token.js';

/** argon2id with OWASP's first recommended setting: 19 MiB, 2 passes, 1 lane. */
export const ARGON2_OPTIONS = {
  algorithm: 2, // Argon2id (a const enum in @node-rs/argon2's types)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} satisfies Options;

const VERIFICATIONS = 'tenantry_identity_password_verifications_total';
const verifications =
  (register.getSingleMetric(VERIFICATIONS) as Counter<string> | undefined) ??
  new Counter({
    name: VERIFICATIONS,
    help: 'argon2 password verifications (real accounts and the dummy of unknown ones)',
    labelNames: ['outcome'],
  });

/**
 * Password hashing with argon2id. @node-rs/argon2 computes on libuv's thread pool, so a
 * hash or a verification never blocks the event loop.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash?: Promise<string>;

  onModuleInit(): void {
    void this.dummy();
  }

  /** An argon2id PHC string of `password`, with a fresh random salt. */
  hash(password: string): Promise<string> {
    return hash(password, ARGON2_OPTIONS);
  }

  /** Whether `password` matches the PHC string; false (never a throw) for a malformed one. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    let ok = false;
    try {
      ok = await verify(passwordHash, password);
    } catch {
      ok = false;
    }
    verifications.inc({ outcome: ok ? 'match' : 'mismatch' });
    return ok;
  }

  /**
   * Spends the time of one verification against a hash no password matches, so that an
   * unknown account answers as slowly as a wrong password. Always false.
   */
  async verifyNothing(password: string): Promise<false> {
    await verify(await this.dummy(), password).catch(() => false);
    verifications.inc({ outcome: 'dummy' });
    return false;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hash(randomSecret());
    return this.dummyHash;
  }
}
