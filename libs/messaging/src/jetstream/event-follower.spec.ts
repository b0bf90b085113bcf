import { Logger } from '@nestjs/common';
import type {
  Consumer,
  ConsumerInfo,
  ConsumerMessages,
  ConsumerNotification,
  Consumers,
  DeliveryInfo,
  JetStreamClient,
  JsMsg,
  OrderedConsumerOptions,
} from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection, type Status } from '@nats-io/transport-node';
import { Headers, Namespace } from '@tenantry/contracts';
import { double } from '@tenantry/testing';
import type { MessagingOptions } from '../messaging.options.js';
import { NatsService } from '../nats/nats.service.js';
import { EventFollower, type FollowedEvent } from './event-follower.js';

/** An async iterable the test pushes into and closes. */
class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((result: IteratorResult<T>) => void)[] = [];
  closed = false;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.items.push(item);
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
    };
  }
}

/** One ordered consumer as the follower sees it: its options, its messages, its notifications. */
interface FakeConsumer {
  options: Partial<OrderedConsumerOptions>;
  messages: Channel<JsMsg>;
  status: Channel<ConsumerNotification>;
  deleted: boolean;
}

const namespace = new Namespace('ns');

function event(seq: number, subject: string, payload: unknown, pending: number): JsMsg {
  const h = natsHeaders();
  h.set(Headers.requestId, `req-${seq}`);
  return double<JsMsg>('JsMsg', {
    seq,
    subject: namespace.subject(subject),
    headers: h,
    time: new Date(1_000 * seq),
    data: new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    info: double<DeliveryInfo>('DeliveryInfo', { pending, streamSequence: seq }),
  });
}

function fakeNats({ pendingAtStart = 0, failFirst = 0 } = {}) {
  const consumers: FakeConsumer[] = [];
  const connection = new Channel<Status>();
  let failures = failFirst;
  const nats = double(NatsService, {
    options: double<MessagingOptions>('MessagingOptions', { namespace }),
    nc: double<NatsConnection>('NatsConnection', { status: () => connection }),
    js: double<JetStreamClient>('JetStreamClient', {
      consumers: double<Consumers>('Consumers', {
        get: async (_stream, options) => {
          if (failures-- > 0) throw new Error('stream not found');
          const fake: FakeConsumer = {
            options: options as Partial<OrderedConsumerOptions>,
            messages: new Channel<JsMsg>(),
            status: new Channel<ConsumerNotification>(),
            deleted: false,
          };
          consumers.push(fake);
          const stop = () => {
            fake.messages.close();
            fake.status.close();
          };
          return double<Consumer>('Consumer', {
            info: async () =>
              double<ConsumerInfo>('ConsumerInfo', {
                num_pending: consumers.length === 1 ? pendingAtStart : 0,
              }),
            consume: async () =>
              double<ConsumerMessages>('ConsumerMessages', {
                [Symbol.asyncIterator]: () => fake.messages[Symbol.asyncIterator](),
                status: () => fake.status,
                stop,
              }),
            delete: async () => {
              fake.deleted = true;
              return true;
            },
          });
        },
      }),
    }),
  });
  return { nats, consumers, connection };
}

async function until(done: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeAll(() => Logger.overrideLogger(false));

describe('EventFollower', () => {
  const followers: EventFollower[] = [];
  afterEach(async () => {
    await Promise.all(followers.splice(0).map((f) => f.stop()));
  });

  function follow(nats: NatsService, onEvent: (event: FollowedEvent) => void) {
    const follower = new EventFollower(nats, {
      stream: 'EVENTS',
      filterSubject: 'evt.identity.>',
      startBackMs: 20 * 60_000,
      onEvent,
      retryMs: 5,
    });
    followers.push(follower);
    follower.start();
    return follower;
  }

  it('starts by time, that far back, on the namespaced filter, and hands over events in order, unprefixed and parsed', async () => {
    const { nats, consumers } = fakeNats({ pendingAtStart: 2 });
    const seen: FollowedEvent[] = [];
    const before = Date.now();
    const follower = follow(nats, (e) => {
      seen.push(e);
    });
    await until(() => consumers.length === 1);

    const options = consumers[0]!.options;
    expect(options.filter_subjects).toBe('ns.evt.identity.>');
    expect(options.opt_start_seq).toBeUndefined();
    const startedAt = Date.parse(options.opt_start_time!);
    expect(startedAt).toBeGreaterThanOrEqual(before - 20 * 60_000);
    expect(startedAt).toBeLessThanOrEqual(Date.now() - 20 * 60_000);
    expect(follower.caughtUp).toBe(false);

    consumers[0]!.messages.push(event(4, 'evt.identity.session.revoked', { a: 1 }, 1));
    await until(() => seen.length === 1);
    expect(follower.caughtUp).toBe(false);
    consumers[0]!.messages.push(event(9, 'evt.identity.api-key.revoked', 'not json', 0));
    await follower.whenCaughtUp();

    expect(seen.map((e) => [e.subject, e.data, e.streamSequence])).toEqual([
      ['evt.identity.session.revoked', { a: 1 }, 4],
      ['evt.identity.api-key.revoked', undefined, 9],
    ]);
    expect(seen[0]!.context.requestId).toBe('req-4');
    expect(seen[0]!.storedAt).toEqual(new Date(4_000));
  });

  it('is caught up at once when nothing was pending when it started', async () => {
    const { nats, consumers } = fakeNats({ pendingAtStart: 0 });
    const follower = follow(nats, () => undefined);
    await until(() => consumers.length === 1);
    await follower.whenCaughtUp();
    expect(follower.caughtUp).toBe(true);
  });

  it.each(['consumer_deleted', 'heartbeats_missed', 'reset'] as const)(
    'makes a new consumer after %s, right after the last event handed over: nothing skipped or repeated',
    async (type) => {
      const { nats, consumers } = fakeNats();
      const seen: number[] = [];
      follow(nats, (e) => {
        seen.push(e.streamSequence);
      });
      await until(() => consumers.length === 1);
      consumers[0]!.messages.push(event(3, 'evt.identity.x.y', {}, 0));
      await until(() => seen.length === 1);

      consumers[0]!.status.push({ type } as ConsumerNotification);
      await until(() => consumers.length === 2);
      expect(consumers[1]!.options.opt_start_seq).toBe(4);
      expect(consumers[1]!.options.opt_start_time).toBeUndefined();
      expect(consumers[0]!.deleted).toBe(true);

      consumers[1]!.messages.push(event(4, 'evt.identity.x.y', {}, 0));
      await until(() => seen.length === 2);
      expect(seen).toEqual([3, 4]);
    },
  );

  it('ignores notifications that do not mean the consumer is lost', async () => {
    const { nats, consumers } = fakeNats();
    follow(nats, () => undefined);
    await until(() => consumers.length === 1);
    consumers[0]!.status.push({ type: 'heartbeat' } as ConsumerNotification);
    consumers[0]!.status.push({ type: 'next' } as ConsumerNotification);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumers).toHaveLength(1);
  });

  it('makes a new consumer when NATS reconnected (the server may have lost it)', async () => {
    const { nats, consumers, connection } = fakeNats();
    const seen: number[] = [];
    follow(nats, (e) => {
      seen.push(e.streamSequence);
    });
    await until(() => consumers.length === 1);
    consumers[0]!.messages.push(event(7, 'evt.identity.x.y', {}, 0));
    await until(() => seen.length === 1);

    connection.push({ type: 'reconnect', server: 'x' } as Status);
    await until(() => consumers.length === 2);
    expect(consumers[1]!.options.opt_start_seq).toBe(8);
  });

  it('goes on after a handler throws, and retries when the consumer cannot be made', async () => {
    const { nats, consumers } = fakeNats({ failFirst: 2 });
    const seen: number[] = [];
    follow(nats, (e) => {
      if (e.streamSequence === 1) throw new Error('bad event');
      seen.push(e.streamSequence);
    });
    await until(() => consumers.length === 1);
    consumers[0]!.messages.push(event(1, 'evt.identity.x.y', {}, 1));
    consumers[0]!.messages.push(event(2, 'evt.identity.x.y', {}, 0));
    await until(() => seen.length === 1);
    expect(seen).toEqual([2]);
    // The two failed attempts made no consumer; the retry by time still starts by time.
    expect(consumers[0]!.options.opt_start_time).toBeDefined();
  });

  it('stops: the loop ends and no new consumer is made', async () => {
    const { nats, consumers } = fakeNats();
    const follower = follow(nats, () => undefined);
    await until(() => consumers.length === 1);
    await follower.stop();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(consumers).toHaveLength(1);
    expect(consumers[0]!.messages.closed).toBe(true);
  });
});
