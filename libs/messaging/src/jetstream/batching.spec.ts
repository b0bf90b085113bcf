import { backoffMs, batches, decideFailure, RETRY_BACKOFF_MS } from './batching.js';

/**
 * A message source the test drives, like a NATS consume: `push` delivers, `end` and
 * `fail` finish it. `pulled` counts the messages taken from it; `closed` says whether
 * its reader stopped iterating.
 */
class Feed<T> implements AsyncIterable<T> {
  pulled = 0;
  closed = false;
  private readonly queue: T[] = [];
  private ended = false;
  private error?: Error;
  private wake?: () => void;

  push(...items: T[]): void {
    this.queue.push(...items);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(error: Error): void {
    this.error = error;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for (;;) {
        if (this.queue.length) {
          this.pulled++;
          yield this.queue.shift()!;
        } else if (this.error) {
          throw this.error;
        } else if (this.ended) {
          return;
        } else {
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
      }
    } finally {
      this.closed = true;
    }
  }
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Lets the pump run as far as it will: a few turns of the event loop. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Fails clearly instead of hanging when a batch does not come (a generous sanity bound). */
async function nextBatch<T>(reader: AsyncIterator<T[]>): Promise<T[] | 'end'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no batch within 2 s')), 2_000);
  });
  try {
    const result = await Promise.race([reader.next(), timeout]);
    return result.done ? 'end' : result.value;
  } finally {
    clearTimeout(timer);
  }
}

async function collect<T>(reader: AsyncIterator<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for (let batch = await nextBatch(reader); batch !== 'end'; batch = await nextBatch(reader))
    out.push(batch);
  return out;
}

describe('batches', () => {
  it('hands on a lone message at once, without waiting for a batch to fill', async () => {
    const feed = new Feed<number>();
    const reader = batches(feed, 100);
    feed.push(1);
    expect(await nextBatch(reader)).toEqual([1]);
  });

  it('hands on messages that arrive together as one batch', async () => {
    const feed = new Feed<number>();
    const reader = batches(feed, 100);
    feed.push(1, 2, 3, 4, 5);
    expect(await nextBatch(reader)).toEqual([1, 2, 3, 4, 5]);
  });

  it('collects what arrives while a batch is being handled into the next batch', async () => {
    const feed = new Feed<number>();
    const reader = batches(feed, 100);
    feed.push(1);
    expect(await nextBatch(reader)).toEqual([1]);
    feed.push(2, 3);
    feed.push(4);
    expect(await nextBatch(reader)).toEqual([2, 3, 4]);
  });

  it('never makes a batch larger than maxBatch, and keeps the order', async () => {
    const feed = new Feed<number>();
    const reader = batches(feed, 3);
    feed.push(...range(1, 10));
    feed.end();
    expect(await collect(reader)).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]);
  });

  it('holds at most 2 × maxBatch waiting messages while the consumer is slow', async () => {
    const feed = new Feed<number>();
    const reader = batches(feed, 3);
    feed.push(...range(1, 100));
    expect(await nextBatch(reader)).toEqual([1, 2, 3]);
    await settle();
    // The batch in hand and six waiting: nothing more is taken from the source.
    expect(feed.pulled).toBe(3 + 6);
    expect(await nextBatch(reader)).toEqual([4, 5, 6]);
    await settle();
    expect(feed.pulled).toBe(6 + 6);
  });

  it('ends after the last batch when the source ends', async () => {
    const feed = new Feed<number>();
    const reader = batches(feed, 10);
    feed.push(1, 2);
    feed.end();
    expect(await collect(reader)).toEqual([[1, 2]]);
  });

  it('hands on the batches that arrived before a source error, then throws the error', async () => {
    const feed = new Feed<number>();
    const reader = batches(feed, 2);
    const lost = new Error('heartbeats missed');
    feed.push(1, 2, 3, 4, 5);
    feed.fail(lost);
    expect(await nextBatch(reader)).toEqual([1, 2]);
    expect(await nextBatch(reader)).toEqual([3, 4]);
    expect(await nextBatch(reader)).toEqual([5]);
    await expect(nextBatch(reader)).rejects.toBe(lost);
  });

  it('stops pulling from the source when the consumer stops reading', async () => {
    const feed = new Feed<number>();
    const reader = batches(feed, 3);
    feed.push(...range(1, 100));
    expect(await nextBatch(reader)).toEqual([1, 2, 3]);
    await reader.return(undefined);
    await settle();
    expect(feed.closed).toBe(true);
    expect(feed.pulled).toBe(3 + 6);
  });
});

describe('decideFailure', () => {
  const park = (kind: 'rejected' | 'failing') => ({ action: 'park', kind });
  const retry = (delayMs: number) => ({ action: 'retry', delayMs });

  it.each([
    ['a poison message is parked as rejected at once', true, 1, park('rejected')],
    ['a poison message is parked as rejected on any delivery', true, 5, park('rejected')],
    ['a first failure is retried after 100 ms', false, 1, retry(100)],
    ['a second failure is retried after 250 ms', false, 2, retry(250)],
    ['a fourth failure is retried after 1 s', false, 4, retry(1_000)],
    ['a failure on the last delivery is parked as failing', false, 5, park('failing')],
    ['a failure past the last delivery is parked as failing', false, 9, park('failing')],
  ])('%s (maxDeliver 5)', (_, poison, delivery, decision) => {
    expect(decideFailure(poison, delivery, 5)).toEqual(decision);
  });

  it('waits longer after each failure, up to the last entry of the table', () => {
    const waits = range(1, 19).map((delivery) => decideFailure(false, delivery, 20));
    expect(waits.map((d) => (d.action === 'retry' ? d.delayMs : d.action))).toEqual([
      ...RETRY_BACKOFF_MS,
      ...Array(19 - RETRY_BACKOFF_MS.length).fill(5_000),
    ]);
  });

  it('backoffMs walks the table from the first entry and stays at the last', () => {
    expect([0, 1, 5, 6, 100, -1].map(backoffMs)).toEqual([100, 250, 5_000, 5_000, 5_000, 100]);
  });
});
