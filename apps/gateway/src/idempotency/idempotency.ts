import { createHash } from 'node:crypto';
import { IdempotencyErrors } from './idempotency.errors.js';

export type IdempotencyRecord =
  { state: 'pending'; fingerprint: string } | { state: 'done'; fingerprint: string; body: unknown };

/** Where records live (Redis in production): the only I/O of the idempotency logic. */
export interface IdempotencyStore {
  /** Stores a pending record unless one exists; false when one does. */
  claim(key: string, fingerprint: string, ttlMs: number): Promise<boolean>;
  get(key: string): Promise<IdempotencyRecord | null>;
  complete(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void>;
  release(key: string): Promise<void>;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export const IDEMPOTENCY_TTL = {
  /** How long a request may run before its key is free again (a crashed gateway never holds it forever). */
  pendingMs: 60_000,
  /** How long a finished request's response is replayed. */
  resultMs: 24 * 60 * 60 * 1000,
};

/**
 * The record key for a header value on a route, of one caller (the actor: another caller's
 * same key is another request, never a replay of theirs); refuses a malformed header.
 */
export function idempotencyKey(
  method: string,
  route: string,
  header: unknown,
  caller?: string,
): string {
  if (typeof header !== 'string' || !KEY_PATTERN.test(header)) throw IdempotencyErrors.invalidKey();
  return caller ? `${method}:${route}:${caller}:${header}` : `${method}:${route}:${header}`;
}

/** What makes two requests "the same": method, URL and body. */
export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${url}\n${JSON.stringify(body ?? null)}`)
    .digest('base64url');
}

/**
 * The `Idempotency-Key` state machine. The first request claims the key (pending) and
 * runs; when it succeeds its response is stored (done) and replayed to every retry
 * with the same key and fingerprint. A retry while it runs is refused as in progress
 * (with Retry-After); the same key with another request as reused. A failed request
 * releases its key, so the client may retry it. If the store is down, a request with
 * a key is refused (503) rather than risk running twice.
 */
export class IdempotentRequests {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly ttl = IDEMPOTENCY_TTL,
    private readonly onStoreError: (what: string, error: Error) => void = () => undefined,
  ) {}

  async run<T>(
    key: string,
    fingerprint: string,
    work: () => Promise<T>,
  ): Promise<{ replayed: boolean; body: T }> {
    let claimed: boolean;
    try {
      claimed = await this.store.claim(key, fingerprint, this.ttl.pendingMs);
    } catch (error) {
      this.onStoreError('claim', error as Error);
      throw IdempotencyErrors.storeUnavailable();
    }
    if (!claimed) {
      let existing: IdempotencyRecord | null;
      try {
        existing = await this.store.get(key);
      } catch (error) {
        // Not "in progress": nobody knows whether the first request ran, so say the store is down.
        this.onStoreError('read the record', error as Error);
        throw IdempotencyErrors.storeUnavailable();
      }
      // Gone between claim and get (expired or released): the first request is over; a retry is safe.
      if (!existing) throw IdempotencyErrors.inProgress();
      if (existing.fingerprint !== fingerprint) throw IdempotencyErrors.reused();
      if (existing.state === 'pending') throw IdempotencyErrors.inProgress();
      return { replayed: true, body: existing.body as T };
    }
    let body: T;
    try {
      body = await work();
    } catch (error) {
      // If this fails too, the key stays pending until its TTL: retries are told "in progress" until then.
      await this.store
        .release(key)
        .catch((storeError: Error) => this.onStoreError('release the key', storeError));
      throw error;
    }
    await this.store
      .complete(key, { state: 'done', fingerprint, body }, this.ttl.resultMs)
      .catch((error: Error) => this.onStoreError('store the result', error));
    return { replayed: false, body };
  }
}
