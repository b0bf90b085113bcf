interface Queued {
  publish: () => void;
  onError?: (error: unknown) => void;
}

/**
 * Defers NATS publishes to the end of the current event-loop turn and sends them together.
 * The NATS client flushes its outbound buffer once per microtask checkpoint, which under
 * load means one socket write per message (Node runs microtasks after every I/O callback).
 * Publishes queued here during one turn (every HTTP request or reply handled in that turn)
 * leave in one write instead, at the cost of at most one turn of latency.
 */
export class PublishBatcher {
  private queue: Queued[] = [];
  private scheduled = false;

  /** `onError` hears of a publish that throws (a closed connection); otherwise it is dropped. */
  add(publish: () => void, onError?: (error: unknown) => void): void {
    this.queue.push({ publish, onError });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends what is queued now (also called at shutdown, so nothing is left behind). */
  readonly flush = (): void => {
    const queue = this.queue;
    this.queue = [];
    this.scheduled = false;
    for (const { publish, onError } of queue) {
      try {
        publish();
      } catch (error) {
        onError?.(error);
      }
    }
  };
}
