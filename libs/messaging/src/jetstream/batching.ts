/**
 * Smart batching over a stream of messages: a pump moves arriving messages into a
 * buffer while the consumer handles the previous batch; each batch takes everything
 * buffered, up to `maxBatch`. A lone message goes at once (no timer to wait for);
 * under load, batches grow by themselves. The pump pauses when `2 × maxBatch` are
 * buffered, so the messages in hand (un-acked) stay bounded: the batch being handled
 * plus at most `2 × maxBatch` waiting. When the consumer stops iterating, the pump
 * stops pulling from the source; an error of the source is thrown after the batches
 * buffered before it.
 */
export async function* batches<T>(source: AsyncIterable<T>, maxBatch: number): AsyncGenerator<T[]> {
  const buffer: T[] = [];
  let done = false;
  /** Set when the consumer leaves (`break`, an error, or the end): the pump stops pulling. */
  let closed = false;
  let failure: { error: unknown } | undefined;
  let arrived: (() => void) | undefined;
  let roomMade: (() => void) | undefined;
  const pump = (async () => {
    try {
      for await (const item of source) {
        // Leaving the loop ends the source's iteration (a NATS consume unsubscribes).
        if (closed) break;
        buffer.push(item);
        arrived?.();
        if (buffer.length >= maxBatch * 2) {
          await new Promise<void>((resolve) => (roomMade = resolve));
          if (closed) break;
        }
      }
    } catch (error) {
      failure = { error };
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
    closed = true;
    roomMade?.();
  }
  await pump;
  if (failure) throw failure.error;
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
  // The first failure waits RETRY_BACKOFF_MS[0], the second [1], and so on.
  return { action: 'retry', delayMs: backoffMs(deliveryCount - 1) };
}

/** The wait before retry number `attempt` (from 0); the table's last entry from then on. */
export function backoffMs(attempt: number): number {
  return RETRY_BACKOFF_MS[Math.max(0, Math.min(attempt, RETRY_BACKOFF_MS.length - 1))]!;
}
