import type { NatsService } from '@tenantry/messaging';
import type { Redis } from 'ioredis';

/** One dependency the service needs to do its work; `probe` throws when it is not usable. */
export interface ReadinessCheck {
  name: string;
  probe: () => Promise<unknown>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** Under this token a database module offers its ReadinessCheck (persistence provides it; runtime never loads TypeORM). */
export const DATABASE_READINESS = Symbol('DATABASE_READINESS');

export function natsCheck(nats: NatsService): ReadinessCheck {
  return { name: 'nats', probe: () => nats.ping(1_000) };
}

export function redisCheck(redis: Redis): ReadinessCheck {
  return {
    name: 'redis',
    probe: async () => {
      if (redis.status !== 'ready') throw new Error(`redis connection is ${redis.status}`);
      await redis.ping();
    },
  };
}

export async function runCheck(
  check: ReadinessCheck,
  timeoutMs = 1_500,
): Promise<{ status: 'up' | 'down'; message?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', message: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
