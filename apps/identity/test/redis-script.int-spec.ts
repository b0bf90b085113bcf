import { randomBytes } from 'node:crypto';
import { Namespace } from '@tenantry/contracts';
import { cleanupNamespace, testNamespace } from '@tenantry/testing';
import { Redis } from 'ioredis';
import { RedisScript } from '../src/core/redis-script.js';

/** Lua scripts by SHA-1 (EVALSHA), with EVAL when Redis does not have them, against the real Redis. */
describe('RedisScript', () => {
  const ns = testNamespace('luascript');
  const prefix = new Namespace(ns).redisPrefix();
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, keyPrefix: prefix });
  });

  afterAll(async () => {
    redis?.disconnect();
    await cleanupNamespace(ns);
  });

  /** A script no Redis has seen (a random comment in it), so its first run cannot find it. */
  const fresh = () =>
    new RedisScript(`-- ${randomBytes(8).toString('hex')}
redis.call('SET', KEYS[1], ARGV[1])
return {redis.call('INCR', KEYS[2]), ARGV[2]}`);

  it('loads an unknown script with EVAL, then runs it by its SHA-1, with the key prefix on KEYS', async () => {
    const script = fresh();
    expect(await redis.script('EXISTS', script.sha1)).toEqual([0]);
    const sent: string[] = [];
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (command, ...rest) => {
      sent.push(command.name);
      return send(command, ...rest);
    };
    try {
      expect(await script.run(redis, ['a', 'n'], ['x', 'y'])).toEqual([1, 'y']);
      expect(await script.run(redis, ['a', 'n'], ['z', 'y'])).toEqual([2, 'y']);
    } finally {
      redis.sendCommand = send;
    }
    expect(sent).toEqual(['evalsha', 'eval', 'evalsha']);
    expect(await redis.script('EXISTS', script.sha1)).toEqual([1]);
    expect(await redis.get('a')).toBe('z');
    const raw = new Redis({ host: '127.0.0.1', port: 6379 });
    try {
      expect(await raw.get(`${prefix}a`)).toBe('z');
    } finally {
      raw.disconnect();
    }
  });

  it("passes the script's own errors through (no second try)", async () => {
    const failing = new RedisScript(`-- ${randomBytes(8).toString('hex')}
return redis.error_reply('NOPE broken')`);
    await expect(failing.run(redis, [])).rejects.toThrow('NOPE broken');
    await expect(failing.run(redis, [])).rejects.toThrow('NOPE broken');
  });
});
