/**
 * Smart batching over a stream of messages: a pump moves arriving messages into a
 * buffer while the consumer handles the previous batch; each batch takes everything
 * buffered, up to `maxBatch`. A lone message goes at once (no timer to wait for);
 * under load, batches grow by themselves. The pump pauses when `2 × maxBatch` are
 * buffered, so the messages in hand (un-acked) stay bounded.
 */
export async function* batches<T>(source: AsyncIterable<T>, maxBatch: number): AsyncGenerator<T[]> {
  const buffer: T[] = [];
  let done = false;
  let failure: unknown;
  let arrived: (() => void) | undefined;
  let roomMade: (() => void) | undefined;
  const pump = (async () => {
    try {
      for await (const item of source) {
        buffer.push(item);
        arrived?.();
        if (buffer.length >= maxBatch * 2)
          await new Promise<void>((resolve) => (roomMade = resolve));
      }
    } catch (error) {
      failure = error;
    } finally {
      done = true;
      arrived?.();
    }
  })();
  try {
    for (;;) {
      if (!buffer.length) {
        if (done) break;
        await new Promise<void>((resolve) => (arrived = resolve));
        arrived = undefined;
        continue;
      }
      // One turn of the event loop lets messages that arrived together join this batch.
      await new Promise((resolve) => setImmediate(resolve));
      const batch = buffer.splice(0, maxBatch);
      roomMade?.();
      roomMade = undefined;
      yield batch;
    }
  } finally {
    roomMade?.();
  }
  await pump;
  if (failure) throw failure;
}

/** What to do with a message whose write failed on its own (outside a transient outage). */
export type FailureDecision =
  { action: 'park'; kind: 'rejected' | 'failing' } | { action: 'retry'; delayMs: number };

export const RETRY_BACKOFF_MS = [100, 250, 500, 1_000, 2_000, 5_000] as const;

/**
 * A poison message (the handler says it will never succeed) is parked at once; any
 * other failure is retried with backoff until its `maxDeliver`-th delivery, then parked.
 */
export function decideFailure(
  poison: boolean,
  deliveryCount: number,
  maxDeliver: number,
): FailureDecision {
  if (poison) return { action: 'park', kind: 'rejected' };
  if (deliveryCount >= maxDeliver) return { action: 'park', kind: 'failing' };
  return {
    action: 'retry',
    delayMs: RETRY_BACKOFF_MS[Math.min(deliveryCount, RETRY_BACKOFF_MS.length - 1)]!,
  };
}
