import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type {
  Consumer,
  ConsumerAPI,
  ConsumerInfo,
  ConsumerMessages,
  Consumers,
  DeliveryInfo,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  PubAck,
} from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Headers, Namespace } from '@tenantry/contracts';
import { double } from '@tenantry/testing';
import { z } from 'zod';
import type { MessagingOptions } from '../messaging.options.js';
import { NatsService } from '../nats/nats.service.js';
import { RETRY_BACKOFF_MS } from './batching.js';
import { consumerMetrics } from './consumer.metrics.js';
import {
  DurableConsumer,
  PoisonMessageError,
  type ConsumedMessage,
  type DurableConsumerOptions,
} from './durable-consumer.js';

const Item = z.object({
  n: z.number().int(),
  mode: z.enum(['ok', 'poison', 'reject', 'fail']).default('ok'),
});
type ItemT = z.output<typeof Item>;

class TransientError extends Error {}

/**
 * A consumer whose "database" is an array of committed batches. `poison` fails its
 * check (invalid), `reject` makes the write throw PoisonMessageError, `fail` makes the
 * write throw a plain error; `outage` writes fail as transient (database down).
 */
class TestConsumer extends DurableConsumer<typeof Item> {
  readonly commits: number[][] = [];
  outage = 0;
  onWrite?: (ns: number[]) => void;

  constructor(nats: NatsService, options: Partial<DurableConsumerOptions<typeof Item>> = {}) {
    super(nats, {
      stream: 'USAGE',
      durable: 'meter',
      schema: Item,
      maxDeliver: 3,
      isTransient: (error) => error instanceof TransientError,
      ...options,
    });
  }

  /** The protected batch handler, as the pull loop calls it. */
  handle(msgs: JsMsg[]): Promise<void> {
    return this.process(msgs);
  }

  protected override check(message: ConsumedMessage<ItemT>): void {
    if (message.data.mode === 'poison')
      throw new PoisonMessageError(`item ${message.data.n} is poison`);
  }

  protected async handleBatch(batch: ConsumedMessage<ItemT>[]): Promise<void> {
    const ns = batch.map((m) => m.data.n);
    this.onWrite?.(ns);
    if (this.outage > 0) {
      this.outage--;
      throw new TransientError('database is restarting');
    }
    for (const { data } of batch) {
      if (data.mode === 'reject') throw new PoisonMessageError(`item ${data.n} is rejected`);
      if (data.mode === 'fail') throw new Error(`item ${data.n} cannot be stored`);
    }
    this.commits.push(ns);
  }
}

const namespace = new Namespace('ns');

/** A delivered JetStream message; `settled` records what the consumer told the server about it. */
function delivery(
  seq: number,
  payload: unknown,
  { deliveryCount = 1, subject = 'ns.usage.t1.m1', msgId = `event-${seq}` } = {},
) {
  const h = natsHeaders();
  if (msgId) h.set(Headers.msgId, msgId);
  h.set(Headers.requestId, `req-${seq}`);
  const settled: string[] = [];
  const workingAt: number[] = [];
  const msg = double<JsMsg>('JsMsg', {
    seq,
    subject,
    headers: h,
    data: new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    info: double<DeliveryInfo>('DeliveryInfo', { deliveryCount, streamSequence: seq }),
    ack: () => settled.push('ack'),
    nak: (delayMs) => settled.push(delayMs === undefined ? 'nak' : `nak ${delayMs} ms`),
    term: (...reason: unknown[]) =>
      settled.push(reason.length ? `term(${String(reason)})` : 'term'),
    working: () => workingAt.push(Date.now()),
  });
  return { msg, settled, workingAt };
}

interface Published {
  subject: string;
  data: string;
  headers: Record<string, string[]>;
  msgID?: string;
}

/** A NatsService that only publishes (what parking uses), into `published`. */
function fakeNats(publish?: () => Promise<void>) {
  const published: Published[] = [];
  const nats = double(NatsService, {
    options: double<MessagingOptions>('MessagingOptions', { namespace }),
    js: double<JetStreamClient>('JetStreamClient', {
      publish: async (subject, payload, options) => {
        await publish?.();
        const headers: Record<string, string[]> = {};
        for (const [key, values] of options?.headers ?? []) headers[key] = values;
        published.push({
          subject,
          data: typeof payload === 'string' ? payload : new TextDecoder().decode(payload),
          headers,
          msgID: options?.msgID,
        });
        return double<PubAck>('PubAck', { stream: 'NS_PARKED', seq: published.length });
      },
    }),
  });
  return { nats, published };
}

async function parkedTotal(reason: string): Promise<number> {
  const { values } = await consumerMetrics.parked.get();
  return (
    values.find(
      (v) =>
        v.labels.stream === 'USAGE' && v.labels.consumer === 'meter' && v.labels.reason === reason,
    )?.value ?? 0
  );
}

/** Polls a condition of the pull loop (real time; the loop waits 1 s before it starts over). */
async function until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(() => Logger.overrideLogger(false));

describe('DurableConsumer batch handling', () => {
  it('parks a message that is not JSON: one copy with the reason headers, terminated once without a reason, never acked', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats);
    const before = await parkedTotal('invalid');
    const bad = delivery(7, '{"n": 1', { deliveryCount: 1 });

    await consumer.handle([bad.msg]);

    expect(published).toEqual([
      {
        subject: 'ns.parked.usage.meter',
        data: '{"n": 1',
        headers: {
          [Headers.requestId]: ['req-7'],
          [Headers.parkedReason]: ['payload is not valid JSON'],
          [Headers.parkedSubject]: ['ns.usage.t1.m1'],
          [Headers.parkedStream]: ['NS_USAGE'],
          [Headers.parkedConsumer]: ['meter'],
          [Headers.parkedDeliveries]: ['1'],
        },
        // The copy is de-duplicated by origin, so parking twice still leaves one copy.
        msgID: 'NS_USAGE:7',
      },
    ]);
    expect(bad.settled).toEqual(['term']);
    expect(consumer.commits).toEqual([]);
    expect((await parkedTotal('invalid')) - before).toBe(1);
  });

  it('parks a message that fails the schema, naming the field, and commits its batch mates', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats);
    const bad = delivery(1, { n: 'seven' });
    const good = delivery(2, { n: 2 });

    await consumer.handle([bad.msg, good.msg]);

    expect(published.map((p) => p.headers[Headers.parkedReason])).toEqual([
      ['invalid event: n: Invalid input: expected number, received string'],
    ]);
    expect(bad.settled).toEqual(['term']);
    expect(good.settled).toEqual(['ack']);
    expect(consumer.commits).toEqual([[2]]);
  });

  it('parks a message its own check refuses (e.g. subject and payload disagree)', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats);
    const bad = delivery(1, { n: 1, mode: 'poison' });

    await consumer.handle([bad.msg]);

    expect(published.map((p) => p.headers[Headers.parkedReason])).toEqual([['item 1 is poison']]);
    expect(bad.settled).toEqual(['term']);
  });

  it('commits a batch in one write and acks every message of it', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats);
    const batch = [1, 2, 3].map((n) => delivery(n, { n }));

    await consumer.handle(batch.map((d) => d.msg));

    expect(consumer.commits).toEqual([[1, 2, 3]]);
    expect(batch.map((d) => d.settled)).toEqual([['ack'], ['ack'], ['ack']]);
    expect(published).toEqual([]);
  });

  it('finds the message that breaks a batch by writing one at a time: a rejected one is parked at once', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats);
    const before = await parkedTotal('rejected');
    const [first, bad, last] = [
      delivery(1, { n: 1 }),
      delivery(2, { n: 2, mode: 'reject' }),
      delivery(3, { n: 3 }),
    ];

    await consumer.handle([first.msg, bad.msg, last.msg]);

    expect(consumer.commits).toEqual([[1], [3]]);
    expect([first.settled, bad.settled, last.settled]).toEqual([['ack'], ['term'], ['ack']]);
    expect(published.map((p) => p.headers[Headers.parkedReason])).toEqual([['item 2 is rejected']]);
    expect((await parkedTotal('rejected')) - before).toBe(1);
  });

  it('redelivers a message that fails on its own with growing delays, and parks it as failing on delivery maxDeliver', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats); // maxDeliver 3
    const before = await parkedTotal('failing');
    const outcomes: string[][] = [];
    for (const deliveryCount of [1, 2, 3]) {
      const mate = delivery(10 + deliveryCount, { n: 10 + deliveryCount });
      const bad = delivery(1, { n: 1, mode: 'fail' }, { deliveryCount });
      await consumer.handle([bad.msg, mate.msg]);
      expect(mate.settled).toEqual(['ack']);
      outcomes.push(bad.settled);
    }

    expect(outcomes).toEqual([
      [`nak ${RETRY_BACKOFF_MS[0]} ms`],
      [`nak ${RETRY_BACKOFF_MS[1]} ms`],
      ['term'],
    ]);
    expect(published).toHaveLength(1);
    expect(published[0]!.headers).toMatchObject({
      [Headers.parkedReason]: ['item 1 cannot be stored'],
      [Headers.parkedDeliveries]: ['3'],
    });
    expect((await parkedTotal('failing')) - before).toBe(1);
  });
});

describe('DurableConsumer during a database outage', () => {
  beforeEach(() =>
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }),
  );
  afterEach(() => jest.useRealTimers());

  it('waits out a transient failure in place: no redelivery, nothing parked, committed once', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats);
    consumer.outage = 8; // 100 + 250 + 500 + 1000 + 2000 + 5000 + 5000 + 5000 ms of retries
    const batch = [1, 2].map((n) => delivery(n, { n }));

    const handled = consumer.handle(batch.map((d) => d.msg));
    await jest.advanceTimersByTimeAsync(30_000);
    await handled;

    expect(consumer.commits).toEqual([[1, 2]]);
    expect(batch.map((d) => d.settled)).toEqual([['ack'], ['ack']]);
    expect(published).toEqual([]);
  });

  it('keeps the messages it waits on in progress, so the server does not redeliver them meanwhile', async () => {
    const { nats } = fakeNats();
    const consumer = new TestConsumer(nats, { ackWaitMs: 1_000 });
    consumer.outage = 8; // ~19 s, far beyond the ack wait
    const one = delivery(1, { n: 1 });
    const start = Date.now();

    const handled = consumer.handle([one.msg]);
    await jest.advanceTimersByTimeAsync(30_000);
    await handled;

    const marks = [start, ...one.workingAt];
    const gaps = marks.slice(1).map((t, i) => t - marks[i]!);
    expect(one.workingAt.length).toBeGreaterThan(30);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(500);
    expect(one.settled).toEqual(['ack']);
  });

  it('hands the batch back (nak, no delay) when the consumer stops during an outage', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats);
    consumer.outage = Infinity;
    const batch = [1, 2].map((n) => delivery(n, { n }));

    const handled = consumer.handle(batch.map((d) => d.msg));
    await jest.advanceTimersByTimeAsync(3_000);
    const stopped = consumer.stop();
    await jest.advanceTimersByTimeAsync(10_000);
    await Promise.all([handled, stopped]);

    expect(batch.map((d) => d.settled)).toEqual([['nak'], ['nak']]);
    expect(published).toEqual([]);
  });

  it('hands back the rest of a batch it was writing one at a time when it stops during an outage', async () => {
    const { nats, published } = fakeNats();
    const consumer = new TestConsumer(nats);
    // Message 1 breaks the batch; while writing message 2 alone, the database goes down.
    consumer.onWrite = (ns) => {
      if (ns.length === 1 && ns[0] === 2) consumer.outage = Infinity;
    };
    const [bad, second, third] = [
      delivery(1, { n: 1, mode: 'fail' }),
      delivery(2, { n: 2 }),
      delivery(3, { n: 3 }),
    ];

    const handled = consumer.handle([bad.msg, second.msg, third.msg]);
    await jest.advanceTimersByTimeAsync(3_000);
    const stopped = consumer.stop();
    await jest.advanceTimersByTimeAsync(10_000);
    await Promise.all([handled, stopped]);

    expect([bad.settled, second.settled, third.settled]).toEqual([
      [`nak ${RETRY_BACKOFF_MS[0]} ms`],
      ['nak'],
      ['nak'],
    ]);
    expect(published).toEqual([]);
  });
});

describe('DurableConsumer pull loop', () => {
  /** A consume() result the test feeds; `stop()` ends its iteration like the real one. */
  function fakeConsume(name: string, events: string[]) {
    const queue: JsMsg[] = [];
    let stopped = false;
    let wake: (() => void) | undefined;
    async function* iterate(): AsyncGenerator<JsMsg> {
      while (!stopped) {
        const next = queue.shift();
        if (next) yield next;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    }
    const messages = double<ConsumerMessages>('ConsumerMessages', {
      [Symbol.asyncIterator]: iterate,
      stop: () => {
        if (!stopped) events.push(`stop ${name}`);
        stopped = true;
        wake?.();
      },
    });
    return {
      name,
      messages,
      push: (msg: JsMsg) => {
        queue.push(msg);
        wake?.();
      },
    };
  }

  it('stops a consume whose batch failed before pulling with a new one', async () => {
    const events: string[] = [];
    const consumes = [fakeConsume('first', events), fakeConsume('second', events)];
    let consumed = 0;
    let publishes = 0;
    const { nats: base, published } = fakeNats(async () => {
      if (++publishes === 1) throw new Error('PARKED: no responders');
    });
    const info = double<ConsumerInfo>('ConsumerInfo', {});
    const nats = double(NatsService, {
      options: base.options,
      jsm: double<JetStreamManager>('JetStreamManager', {
        consumers: double<ConsumerAPI>('ConsumerAPI', {
          info: async () => info,
          update: async () => info,
        }),
      }),
      js: double<JetStreamClient>('JetStreamClient', {
        publish: base.js.publish,
        consumers: double<Consumers>('Consumers', {
          get: async () =>
            double<Consumer>('Consumer', {
              consume: async () => {
                const next = consumes[consumed++]!;
                events.push(`consume ${next.name}`);
                return next.messages;
              },
            }),
        }),
      }),
    });
    const consumer = new TestConsumer(nats);
    await consumer.start();
    try {
      // Parking fails (NATS trouble): the batch fails, and the loop starts over after 1 s.
      consumes[0]!.push(delivery(1, 'not json').msg);
      const again = delivery(1, 'not json', { deliveryCount: 2 });
      await until(() => events.includes('consume second'));
      consumes[1]!.push(again.msg);
      await until(() => again.settled.length > 0);

      expect(events).toEqual(['consume first', 'stop first', 'consume second']);
      expect(again.settled).toEqual(['term']);
      expect(published).toHaveLength(1);
    } finally {
      await consumer.stop();
    }
  });
});
