import { jest } from '@jest/globals';
import { AppError, ERROR_HTTP_MAP, ErrorCode } from '@tenantry/contracts';
import {
  IDEMPOTENCY_TTL,
  idempotencyKey,
  IdempotentRequests,
  requestFingerprint,
  type IdempotencyRecord,
  type IdempotencyStore,
} from './idempotency.js';

type StoreOperation = keyof IdempotencyStore;

/** The Redis store in memory. Operations in `failing` throw, as they do while Redis is down. */
class MemoryStore implements IdempotencyStore {
  readonly records = new Map<string, { record: IdempotencyRecord; ttlMs: number }>();
  readonly failing = new Set<StoreOperation>();
  /** Runs when a claim finds the key taken, before the caller reads the record. */
  onRefusedClaim?: (key: string) => void;

  async claim(key: string, fingerprint: string, ttlMs: number): Promise<boolean> {
    this.failIfDown('claim');
    if (this.records.has(key)) {
      this.onRefusedClaim?.(key);
      return false;
    }
    this.records.set(key, { record: { state: 'pending', fingerprint }, ttlMs });
    return true;
  }

  async get(key: string): Promise<IdempotencyRecord | null> {
    this.failIfDown('get');
    return this.records.get(key)?.record ?? null;
  }

  async complete(key: string, record: IdempotencyRecord, ttlMs: number): Promise<void> {
    this.failIfDown('complete');
    this.records.set(key, { record, ttlMs });
  }

  async release(key: string): Promise<void> {
    this.failIfDown('release');
    this.records.delete(key);
  }

  private failIfDown(operation: StoreOperation): void {
    if (this.failing.has(operation)) throw new Error(`connect ECONNREFUSED 127.0.0.1:6379`);
  }
}

const KEY = 'POST:/v1/tenants:create-acme-1';
const ACME = requestFingerprint('POST', '/v1/tenants', { name: 'Acme', slug: 'acme' });
const OTHER = requestFingerprint('POST', '/v1/tenants', { name: 'Other', slug: 'other' });

/** What POST /v1/tenants answers (202 TenantAccepted), trimmed: the n-th tenant created and its run. */
const accepted = (n: number) => ({
  tenant: { id: `tenant-${n}`, status: 'provisioning' },
  runId: `run-${n}`,
});

function setup() {
  const store = new MemoryStore();
  const storeErrors: string[] = [];
  const requests = new IdempotentRequests(store, IDEMPOTENCY_TTL, (what, error) =>
    storeErrors.push(`${what}: ${error.message}`),
  );
  let runs = 0;
  /** The request's real work (a tenant creation): counts its runs and returns a new body each time. */
  const work = jest.fn(async () => accepted(++runs));
  return { store, storeErrors, requests, work };
}

/** What the client gets for a refused request: HTTP status, reason, field and Retry-After. */
function asRefusal(error: unknown) {
  if (!(error instanceof AppError)) throw error;
  return {
    status: ERROR_HTTP_MAP[error.code].status,
    reason: error.reason,
    field: error.errors?.[0]?.field,
    retryAfterSeconds: error.retryAfterSeconds,
  };
}

async function refusal(attempt: Promise<unknown>) {
  return asRefusal(
    await attempt.then(
      () => new Error('expected the request to be refused'),
      (error: unknown) => error,
    ),
  );
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('IdempotentRequests', () => {
  it('runs the first request and keeps its response for a day', async () => {
    const { store, requests, work } = setup();
    await expect(requests.run(KEY, ACME, work)).resolves.toEqual({
      replayed: false,
      body: accepted(1),
    });
    expect(work).toHaveBeenCalledTimes(1);
    expect(store.records.get(KEY)).toEqual({
      record: { state: 'done', fingerprint: ACME, body: accepted(1) },
      ttlMs: 24 * 60 * 60 * 1000,
    });
  });

  it('replays the first response to a retry of the same request without running it again', async () => {
    const { requests, work } = setup();
    const first = await requests.run(KEY, ACME, work);
    const retry = await requests.run(KEY, ACME, work);
    expect(retry).toEqual({ replayed: true, body: first.body });
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('refuses the same key with a different request as 409 IDEMPOTENCY_KEY_REUSED', async () => {
    const { requests, work } = setup();
    await requests.run(KEY, ACME, work);
    expect(await refusal(requests.run(KEY, OTHER, work))).toEqual({
      status: 409,
      reason: 'IDEMPOTENCY_KEY_REUSED',
      field: undefined,
      retryAfterSeconds: undefined,
    });
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('refuses the same key with a different request also while the first still runs', async () => {
    const { requests } = setup();
    const gate = deferred<string>();
    const first = requests.run(KEY, ACME, () => gate.promise);
    expect((await refusal(requests.run(KEY, OTHER, async () => 'other'))).reason).toBe(
      'IDEMPOTENCY_KEY_REUSED',
    );
    gate.resolve('done');
    await first;
  });

  it('tells a retry that arrives while the first request runs to come back shortly, then replays', async () => {
    const { requests } = setup();
    const gate = deferred<{ id: string }>();
    const first = requests.run(KEY, ACME, () => gate.promise);
    const second = jest.fn(async () => ({ id: 'second' }));
    expect(await refusal(requests.run(KEY, ACME, second))).toEqual({
      status: 409,
      reason: 'IDEMPOTENCY_REQUEST_IN_PROGRESS',
      field: undefined,
      retryAfterSeconds: 1,
    });
    gate.resolve({ id: 'first' });
    await expect(first).resolves.toEqual({ replayed: false, body: { id: 'first' } });
    await expect(requests.run(KEY, ACME, second)).resolves.toEqual({
      replayed: true,
      body: { id: 'first' },
    });
    expect(second).not.toHaveBeenCalled();
  });

  it('holds a pending key for at most a minute, so a crashed gateway does not block it forever', async () => {
    const { store, requests } = setup();
    const gate = deferred<string>();
    const first = requests.run(KEY, ACME, () => gate.promise);
    expect(store.records.get(KEY)).toEqual({
      record: { state: 'pending', fingerprint: ACME },
      ttlMs: 60_000,
    });
    gate.resolve('done');
    await first;
  });

  it('frees the key when the request fails, so the client can retry it', async () => {
    const { store, requests, work } = setup();
    const failure = new AppError(ErrorCode.Conflict, 'slug "acme" is already taken');
    await expect(requests.run(KEY, ACME, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(store.records.has(KEY)).toBe(false);
    await expect(requests.run(KEY, ACME, work)).resolves.toEqual({
      replayed: false,
      body: accepted(1),
    });
  });

  it('passes the failure on, and says so, when the key cannot be freed (it then expires)', async () => {
    const { store, storeErrors, requests } = setup();
    const failure = new Error('tenants service timed out');
    store.failing.add('release');
    await expect(requests.run(KEY, ACME, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(storeErrors).toEqual(['release the key: connect ECONNREFUSED 127.0.0.1:6379']);
  });

  it('refuses with 503 IDEMPOTENCY_STORE_UNAVAILABLE, without running, when the store is down', async () => {
    const { store, storeErrors, requests, work } = setup();
    store.failing.add('claim');
    expect(await refusal(requests.run(KEY, ACME, work))).toEqual({
      status: 503,
      reason: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      field: undefined,
      retryAfterSeconds: 1,
    });
    expect(work).not.toHaveBeenCalled();
    expect(storeErrors).toEqual(['claim: connect ECONNREFUSED 127.0.0.1:6379']);
  });

  it('refuses a retry with 503 when the store fails while reading the first request', async () => {
    const { store, requests, work } = setup();
    await requests.run(KEY, ACME, work);
    store.failing.add('get');
    expect((await refusal(requests.run(KEY, ACME, work))).status).toBe(503);
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('still returns the response when it cannot be stored, and says so', async () => {
    const { store, storeErrors, requests, work } = setup();
    store.failing.add('complete');
    await expect(requests.run(KEY, ACME, work)).resolves.toEqual({
      replayed: false,
      body: accepted(1),
    });
    expect(storeErrors).toEqual(['store the result: connect ECONNREFUSED 127.0.0.1:6379']);
  });

  it('tells the client to retry shortly when the record vanishes between claim and read', async () => {
    const { store, requests, work } = setup();
    await requests.run(KEY, ACME, work);
    store.onRefusedClaim = (key) => store.records.delete(key); // expired just then
    expect(await refusal(requests.run(KEY, ACME, work))).toEqual({
      status: 409,
      reason: 'IDEMPOTENCY_REQUEST_IN_PROGRESS',
      field: undefined,
      retryAfterSeconds: 1,
    });
    store.onRefusedClaim = undefined;
    await expect(requests.run(KEY, ACME, work)).resolves.toEqual({
      replayed: false,
      body: accepted(2),
    });
  });
});

describe('idempotencyKey', () => {
  it('scopes a key to the method and route', () => {
    expect(idempotencyKey('POST', '/v1/tenants', 'create-acme-1')).toBe(
      'POST:/v1/tenants:create-acme-1',
    );
    expect(idempotencyKey('POST', '/v1/tenants', 'x'.repeat(255))).toHaveLength(
      'POST:/v1/tenants:'.length + 255,
    );
  });

  it('scopes a key to the caller: the same key of another caller is another request', () => {
    const mine = idempotencyKey('POST', '/v1/tenants', 'create-acme-1', 'operator:a');
    expect(mine).toBe('POST:/v1/tenants:operator:a:create-acme-1');
    expect(idempotencyKey('POST', '/v1/tenants', 'create-acme-1', 'operator:b')).not.toBe(mine);
  });

  it.each([
    ['that is empty', ''],
    ['longer than 255 characters', 'x'.repeat(256)],
    ['with non-ASCII characters', 'schlüssel-1'],
    ['with a space', 'create acme'],
    ['with a newline', 'create\nacme'],
    ['with a tab', 'create\tacme'],
    ['with DEL', 'create\x7facme'],
    ['sent twice (an array)', ['a', 'b']],
  ])('refuses a key %s with 400 IDEMPOTENCY_KEY_INVALID naming the header', (_, header) => {
    let error: unknown = new Error('expected the key to be refused');
    try {
      idempotencyKey('POST', '/v1/tenants', header);
    } catch (e) {
      error = e;
    }
    expect(asRefusal(error)).toEqual({
      status: 400,
      reason: 'IDEMPOTENCY_KEY_INVALID',
      field: 'Idempotency-Key',
      retryAfterSeconds: undefined,
    });
  });
});

describe('requestFingerprint', () => {
  const base = requestFingerprint('POST', '/v1/tenants', { name: 'Acme', slug: 'acme' });

  it('is the same for the same request', () => {
    expect(requestFingerprint('POST', '/v1/tenants', { name: 'Acme', slug: 'acme' })).toBe(base);
  });

  it('differs when the body, the URL or the method differs', () => {
    expect(requestFingerprint('POST', '/v1/tenants', { name: 'Acme', slug: 'acme2' })).not.toBe(
      base,
    );
    expect(requestFingerprint('POST', '/v1/tenants?x=1', { name: 'Acme', slug: 'acme' })).not.toBe(
      base,
    );
    expect(requestFingerprint('PUT', '/v1/tenants', { name: 'Acme', slug: 'acme' })).not.toBe(base);
  });
});
