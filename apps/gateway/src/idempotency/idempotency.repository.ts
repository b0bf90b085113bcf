import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@tenantry/runtime';
import type { Redis } from 'ioredis';
import type { IdempotencyRecord, IdempotencyStore } from './idempotency.js';

/** Idempotency records in Redis (keys under the namespace prefix). The only code here that touches Redis. */
@Injectable()
export class IdempotencyRepository implements IdempotencyStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async claim(key: string, fingerprint: string, pendingTtlMs: number): Promise<boolean> {
    const record: IdempotencyRecord = { state: 'pending', fingerprint };
    return (
      (await this.redis.set(this.key(key), JSON.stringify(record), 'PX', pendingTtlMs, 'NX')) ===
      'OK'
    );
  }

  async get(key: string): Promise<IdempotencyRecord | null> {
    const raw = await this.redis.get(this.key(key));
    return raw ? (JSON.parse(raw) as IdempotencyRecord) : null;
  }

  async complete(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(key), JSON.stringify(record), 'PX', ttlMs);
  }

  async release(key: string): Promise<void> {
    await this.redis.del(this.key(key));
  }

  private key(key: string): string {
    return `idempotency:${key}`;
  }
}
