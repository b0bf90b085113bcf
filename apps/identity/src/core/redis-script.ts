import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script that Redis runs by its SHA-1 (EVALSHA): each call sends the digest, not the
 * whole script. When Redis does not have the script (its first use, or after a restart or
 * SCRIPT FLUSH), the call is repeated once as EVAL, which sends the text and loads it. The
 * script runs atomically either way, with the client's key prefix on its KEYS.
 */
export class RedisScript {
  readonly sha1: string;

  constructor(readonly lua: string) {
    this.sha1 = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script with `keys` (KEYS) and `args` (ARGV) and returns its reply. */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[] = [],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

/** Redis's answer to EVALSHA for a script it does not have. */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
