import { Kvm, type KV } from '@nats-io/kv';
import { Namespace } from '@tenantry/contracts';
import {
  connectTestNats,
  startNatsServer,
  testNamespace,
  waitFor,
  type ServerProcess,
} from '@tenantry/testing';
import type { NatsService } from '../nats/nats.service.js';
import { KvFollower, type KvFollowerOptions } from './kv-follower.js';

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const decoder = new TextDecoder();

/** A follower whose callbacks record what it was handed, as the state a holder keeps. */
function recording(nats: NatsService, bucket: string, extra: Partial<KvFollowerOptions> = {}) {
  const state = new Map<string, string>();
  const log: string[] = [];
  const follower = new KvFollower(nats, {
    bucket,
    name: 'test',
    retryMs: 50,
    maxRetryMs: 200,
    onPut: ({ key, value }) => {
      state.set(key, decoder.decode(value));
      log.push(`put ${key}=${decoder.decode(value)}`);
    },
    onDelete: (key) => {
      state.delete(key);
      log.push(`delete ${key}`);
    },
    ...extra,
  });
  return { follower, state, log };
}

const until = (what: string, probe: () => boolean, timeoutMs = 5_000) =>
  waitFor(what, async () => probe() || undefined, { timeoutMs, intervalMs: 10 });

describe('KvFollower (real NATS)', () => {
  const namespace = new Namespace(testNamespace('kv'));
  let nats: NatsService;
  let kvm: Kvm;
  const buckets: string[] = [];
  const bucketName = (base: string) => {
    const name = namespace.bucket(base);
    buckets.push(name);
    return name;
  };

  beforeAll(async () => {
    nats = await connectTestNats(natsUrl, namespace);
    kvm = new Kvm(nats.js);
  });

  afterAll(async () => {
    for (const name of buckets) await nats.jsm.streams.delete(`KV_${name}`).catch(() => undefined);
    await nats.drain();
  });

  it('waits for a bucket that does not exist yet, then hands over its values and follows puts and deletes within 1 s', async () => {
    const bucket = bucketName('FOLLOW');
    const { follower, state, log } = recording(nats, bucket);
    follower.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(follower.live).toBe(false);
      expect(follower.lastLiveAt).toBeUndefined();

      const kv: KV = await kvm.create(bucket, { history: 1 });
      await kv.put('a', '1');
      await kv.put('b', '1');
      await follower.whenLive();
      await until('a and b', () => state.size === 2);
      expect(Object.fromEntries(state)).toEqual({ a: '1', b: '1' });
      expect(follower.live).toBe(true);
      expect(follower.lastLiveAt).toBeGreaterThan(Date.now() - 1_000);

      const started = Date.now();
      await kv.put('a', '2');
      await until('a=2', () => state.get('a') === '2', 1_000);
      await kv.delete('b');
      await until('b deleted', () => !state.has('b'), 1_000);
      await kv.put('c', '1');
      await kv.purge('c');
      await until('c purged', () => log.includes('delete c'), 1_000);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(log).toEqual(['put a=1', 'put b=1', 'put a=2', 'delete b', 'put c=1', 'delete c']);
      expect(follower.watchCount).toBe(1);
    } finally {
      await follower.stop();
    }
    expect(follower.live).toBe(false);
  });

  it('starts live at once on an empty bucket', async () => {
    const bucket = bucketName('EMPTY');
    await kvm.create(bucket, { history: 1 });
    const { follower, state } = recording(nats, bucket);
    follower.start();
    try {
      await follower.whenLive();
      expect(state.size).toBe(0);
    } finally {
      await follower.stop();
    }
  });

  it('watches again when its consumer is deleted, without handing over unchanged values again', async () => {
    const bucket = bucketName('REWATCH');
    const kv = await kvm.create(bucket, { history: 1 });
    await kv.put('x', '1');
    await kv.put('y', '1');
    const { follower, log, state } = recording(nats, bucket);
    follower.start();
    try {
      await follower.whenLive();
      for await (const consumer of nats.jsm.consumers.list(follower.streamName))
        await nats.jsm.consumers.delete(follower.streamName, consumer.name);
      await until('a second watch', () => follower.watchCount >= 2 && follower.live, 10_000);
      await kv.put('y', '2');
      await until('y=2', () => state.get('y') === '2');
      expect(log).toEqual(['put x=1', 'put y=1', 'put y=2']);
    } finally {
      await follower.stop();
    }
  });

  it('catches up on a bucket deleted and made again: keys gone are deleted, changed ones put', async () => {
    const bucket = bucketName('REMADE');
    let kv = await kvm.create(bucket, { history: 1 });
    await kv.put('keep', '1');
    await kv.put('gone', '1');
    const changes: boolean[] = [];
    const { follower, state, log } = recording(nats, bucket, {
      onLiveChange: (live) => changes.push(live),
    });
    follower.start();
    try {
      await follower.whenLive();
      await kv.destroy();
      await until('not live', () => !follower.live);
      // Still holds what it had: the holder decides how long that may be used.
      expect(Object.fromEntries(state)).toEqual({ keep: '1', gone: '1' });
      kv = await kvm.create(bucket, { history: 1 });
      await kv.put('keep', '1'); // same revision number as before, in another bucket
      await kv.put('new', '1');
      await until('live again', () => follower.live, 10_000);
      await until('caught up', () => state.has('new') && !state.has('gone'));
      expect(Object.fromEntries(state)).toEqual({ keep: '1', new: '1' });
      expect(log.slice(2).sort()).toEqual(['delete gone', 'put keep=1', 'put new=1']);
      expect(changes.slice(0, 3)).toEqual([true, false, true]);
    } finally {
      await follower.stop();
    }
  });

  describe('across a NATS restart (its own nats-server)', () => {
    let server: ServerProcess;
    let own: NatsService;

    beforeAll(async () => {
      server = await startNatsServer();
      own = await connectTestNats(server.url, namespace);
    });

    afterAll(async () => {
      await own?.nc.close();
      await server?.stop();
    });

    it('is not live while NATS is down, remembers when it last was, and follows again after', async () => {
      const bucket = namespace.bucket('RESTART');
      const kv = await new Kvm(own.js).create(bucket, { history: 1 });
      await kv.put('t1', 'v1');
      const { follower, state } = recording(own, bucket);
      follower.start();
      try {
        await follower.whenLive();
        await server.kill();
        await until('not live', () => !follower.live);
        const lastLive = follower.lastLiveAt!;
        expect(lastLive).toBeLessThanOrEqual(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(follower.lastLiveAt).toBe(lastLive);

        await server.restart();
        await until('live again', () => follower.live, 15_000);
        expect(state.get('t1')).toBe('v1');
        const after = await new Kvm(own.js).open(bucket);
        await after.put('t1', 'v2');
        await after.put('t2', 'v1');
        await until(
          'followed after the restart',
          () => state.get('t1') === 'v2' && state.has('t2'),
        );
      } finally {
        await follower.stop();
      }
    }, 60_000);
  });
});
