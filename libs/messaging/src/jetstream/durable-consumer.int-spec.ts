import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { Headers, Namespace } from '@tenantry/contracts';
import { z } from 'zod';
import type { MessagingOptions } from '../messaging.options.js';
import { NatsService } from '../nats/nats.service.js';
import { consumerMetrics } from './consumer.metrics.js';
import {
  DurableConsumer,
  PoisonMessageError,
  type ConsumedMessage,
  type DurableConsumerOptions,
} from './durable-consumer.js';
import { EventPublisher } from './event-publisher.js';
import { StreamManager } from './stream-manager.js';

const Item = z.object({
  n: z.number().int(),
  mode: z.enum(['ok', 'poison', 'always-fail', 'fail-once', 'transient']).default('ok'),
});
type ItemT = z.output<typeof Item>;

class TransientError extends Error {}

function parseOrRaw(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A consumer whose "database" is a Map, with failure modes driven by the payload. */
class TestConsumer extends DurableConsumer<typeof Item> {
  readonly stored = new Map<string, ItemT>();
  readonly batches: number[] = [];
  readonly attempts = new Map<string, number>();
  readonly redelivered = new Set<string>();

  constructor(
    nats: NatsService,
    durable: string,
    overrides: Partial<DurableConsumerOptions<typeof Item>> = {},
  ) {
    super(nats, {
      stream: 'USAGE',
      durable,
      schema: Item,
      batchSize: 100,
      maxDeliver: 3,
      ackWaitMs: 5_000,
      isTransient: (e) => e instanceof TransientError,
      ...overrides,
    });
  }

  protected override check(message: ConsumedMessage<ItemT>): void {
    if (message.data.mode === 'poison')
      throw new PoisonMessageError(`item ${message.data.n} is poison`);
  }

  protected async handleBatch(batch: ConsumedMessage<ItemT>[]): Promise<void> {
    for (const m of batch) {
      if (m.deliveryCount > 1) this.redelivered.add(m.id);
      const attempt = (this.attempts.get(m.id) ?? 0) + 1;
      this.attempts.set(m.id, attempt);
      if (m.data.mode === 'always-fail') throw new Error(`item ${m.data.n} cannot be stored`);
      if (m.data.mode === 'fail-once' && m.deliveryCount === 1)
        throw new Error(`item ${m.data.n} fails on first delivery`);
      if (m.data.mode === 'transient' && attempt <= 3)
        throw new TransientError('database is restarting');
    }
    // Commit: all or nothing, like one transaction.
    for (const m of batch) this.stored.set(m.id, m.data);
    this.batches.push(batch.length);
  }
}

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** The version of the server under test: parking depends on how it treats `+TERM`. */
const serverVersion = await (async () => {
  const nc = await connect({ servers: natsUrl.split(',') });
  try {
    return nc.info?.version ?? 'unknown';
  } finally {
    await nc.close();
  }
})();

describe('JetStream durable consumer (real server)', () => {
  const options: MessagingOptions = {
    service: 'consumer-test',
    natsUrl,
    namespace: new Namespace(`c${randomBytes(4).toString('hex')}`),
    requestTimeoutMs: 2_000,
    streams: ['USAGE', 'PARKED'],
    streamReplicas: 1,
    instanceId: 'test',
  };
  let nats: NatsService;
  let publisher: EventPublisher;
  let streams: StreamManager;

  const publish = (n: number, mode: ItemT['mode'] = 'ok', msgId = randomUUID()) =>
    publisher.publish(Item, `usage.t1.m${n % 3}`, { n, mode }, { msgId });

  const parked = async () => {
    const name = streams.streamName('PARKED');
    const info = await nats.jsm.streams.info(name);
    const out: { reason: string; data: unknown; deliveries: string }[] = [];
    for (
      let seq = info.state.first_seq;
      seq <= info.state.last_seq && info.state.messages > 0;
      seq++
    ) {
      const msg = await nats.jsm.streams.getMessage(name, { seq });
      if (!msg) continue;
      out.push({
        reason: msg.header.get(Headers.parkedReason),
        deliveries: msg.header.get(Headers.parkedDeliveries),
        data: parseOrRaw(msg.string()),
      });
    }
    return out;
  };

  const until = async (
    what: string,
    check: () => boolean | Promise<boolean>,
    timeoutMs = 20_000,
  ) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    nats = await NatsService.connect(options);
    publisher = new EventPublisher(nats);
    streams = new StreamManager(nats);
    await streams.ensure(options.streams);
    await streams.ensure(options.streams); // idempotent
  });

  beforeEach(async () => {
    for (const key of options.streams) await nats.jsm.streams.purge(streams.streamName(key));
  });

  afterAll(async () => {
    for (const key of options.streams)
      await nats.jsm.streams.delete(streams.streamName(key)).catch(() => undefined);
    await nats.drain();
  });

  it('commits in batches and delivers every message exactly once to the store', async () => {
    // 2,037: the last batch is a partial one, which must be written at once, not after a redelivery.
    await Promise.all(Array.from({ length: 2_037 }, (_, n) => publish(n)));
    const consumer = new TestConsumer(nats, `batch-${randomBytes(3).toString('hex')}`);
    await consumer.start();
    try {
      await until('2037 stored', () => consumer.stored.size === 2_037);
      expect(Math.max(...consumer.batches)).toBeGreaterThan(1);
      expect(consumer.batches.reduce((a, b) => a + b, 0)).toBe(2_037);
      expect(consumer.redelivered.size).toBe(0);
    } finally {
      await consumer.stop();
    }
  });

  it('JetStream drops a republished message id inside the de-duplication window', async () => {
    const id = randomUUID();
    const first = await publish(1, 'ok', id);
    const again = await publish(1, 'ok', id);
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect((await nats.jsm.streams.info(streams.streamName('USAGE'))).state.messages).toBe(1);
  });

  it('parks invalid and rejected messages at once with their reason, and carries on', async () => {
    await nats.js.publish(options.namespace.subject('usage.t1.raw'), 'not json', {
      msgID: randomUUID(),
    });
    await publisher.publish(z.unknown(), 'usage.t1.raw', { n: 'seven' }, { msgId: randomUUID() });
    await publish(3, 'poison');
    await publish(4);
    const consumer = new TestConsumer(nats, `poison-${randomBytes(3).toString('hex')}`);
    await consumer.start();
    try {
      await until(
        '3 parked, 1 stored',
        async () => consumer.stored.size === 1 && (await parked()).length === 3,
      );
      const reasons = (await parked()).map((p) => p.reason);
      expect(reasons).toEqual([
        'payload is not valid JSON',
        'invalid event: n: Invalid input: expected number, received string',
        'item 3 is poison',
      ]);
      expect([...consumer.stored.values()]).toEqual([{ n: 4, mode: 'ok' }]);
    } finally {
      await consumer.stop();
    }
  });

  it(`parks an invalid message exactly once: terminated, never redelivered (nats-server ${serverVersion})`, async () => {
    const ackWaitMs = 1_000;
    const durable = `once-${randomBytes(3).toString('hex')}`;
    const published = await nats.js.publish(options.namespace.subject('usage.t1.raw'), 'not json', {
      msgID: randomUUID(),
    });
    const consumer = new TestConsumer(nats, durable, { ackWaitMs });
    await consumer.start();
    try {
      await until('parked', async () => (await parked()).length === 1);
      // A message that was parked but not terminated comes back after each ack wait.
      await new Promise((r) => setTimeout(r, 4 * ackWaitMs));
      const info = await nats.jsm.consumers.info(streams.streamName('USAGE'), durable);
      const parks = (await consumerMetrics.parked.get()).values.find(
        (v) => v.labels.consumer === durable,
      );
      expect({
        parkedCopies: (await parked()).length,
        // The PARKED stream de-duplicates copies by origin, so count the parkings too.
        timesParked: parks?.value,
        deliveries: info.delivered.consumer_seq,
        lastDelivered: info.delivered.stream_seq,
        redelivered: info.num_redelivered,
        awaitingAck: info.num_ack_pending,
      }).toEqual({
        parkedCopies: 1,
        timesParked: 1,
        deliveries: 1,
        lastDelivered: published.seq,
        redelivered: 0,
        awaitingAck: 0,
      });
    } finally {
      await consumer.stop();
    }
  });

  it('retries a failing message with backoff, parks it after maxDeliver, and commits its batch mates', async () => {
    await publish(10);
    await publish(11, 'always-fail');
    await publish(12, 'fail-once');
    await publish(13);
    const consumer = new TestConsumer(nats, `failing-${randomBytes(3).toString('hex')}`);
    await consumer.start();
    try {
      await until('11 parked', async () => (await parked()).length === 1, 30_000);
      await until('3 stored', () => consumer.stored.size === 3);
      const [p] = await parked();
      expect(p).toEqual({
        reason: 'item 11 cannot be stored',
        deliveries: '3',
        data: { n: 11, mode: 'always-fail' },
      });
      expect([...consumer.stored.values()].map((v) => v.n).sort()).toEqual([10, 12, 13]);
    } finally {
      await consumer.stop();
    }
  });

  it('waits out a transient failure in place: nothing parked, nothing lost, stored once', async () => {
    await publish(20, 'transient');
    const consumer = new TestConsumer(nats, `transient-${randomBytes(3).toString('hex')}`);
    await consumer.start();
    try {
      await until('stored', () => consumer.stored.size === 1);
      expect([...consumer.attempts.values()]).toEqual([4]);
      expect(await parked()).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });

  it('redelivers what was not acked when a consumer stops before committing (nothing lost)', async () => {
    const durable = `resume-${randomBytes(3).toString('hex')}`;
    await Promise.all(Array.from({ length: 300 }, (_, n) => publish(n)));
    const first = new TestConsumer(nats, durable);
    await first.start();
    await until('some stored', () => first.stored.size > 0);
    await first.stop();
    const second = new TestConsumer(nats, durable);
    await second.start();
    try {
      await until(
        'all stored across both',
        () => new Set([...first.stored.keys(), ...second.stored.keys()]).size === 300,
      );
    } finally {
      await second.stop();
    }
  });
});
