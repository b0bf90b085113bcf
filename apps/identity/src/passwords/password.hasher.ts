import { availableParallelism } from 'node:os';
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
 * At most this many argon2 computations at once: one per CPU. Each works through 19 MiB of
 * memory; more at once than there are cores only take turns on them and evict each other's
 * memory from the caches (measured on 2 cores: 8 at once verify ~20 % slower than 2).
 */
export const ARGON2_CONCURRENCY = Math.max(1, availableParallelism());

/** Runs at most `size` tasks at once, the others in arrival order. */
export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((go) => this.waiting.push(go));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Tasks waiting for their turn. */
  get queued(): number {
    return this.waiting.length;
  }
}

/**
 * Password hashing with argon2id. @node-rs/argon2 computes on libuv's thread pool, so a
 * hash or a verification never blocks the event loop; at most ARGON2_CONCURRENCY run at once.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash?: Promise<string>;
  private readonly gate = new Gate(ARGON2_CONCURRENCY);

  onModuleInit(): void {
    void this.dummy();
  }

  /** An argon2id PHC string of `password`, with a fresh random salt. */
  hash(password: string): Promise<string> {
    return this.gate.run(() => hash(password, ARGON2_OPTIONS));
  }

  /** Whether `password` matches the PHC string; false (never a throw) for a malformed one. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    let ok = false;
    try {
      ok = await this.gate.run(() => verify(passwordHash, password));
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
    const dummy = await this.dummy();
    await this.gate.run(() => verify(dummy, password)).catch(() => false);
    verifications.inc({ outcome: 'dummy' });
    return false;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hash(randomSecret());
    return this.dummyHash;
  }
}
