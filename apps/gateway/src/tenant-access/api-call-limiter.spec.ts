import { Logger } from '@nestjs/common';
import { AppError, ERROR_HTTP_MAP } from '@tenantry/contracts';
import {
  ApiCallLimiter,
  MemoryApiCallCounter,
  type ApiCallCounter,
  type CountedWindow,
} from './api-call-limiter.js';

const T = '0193a000-0000-7000-8000-00000000000a';
const U = '0193b000-0000-7000-8000-00000000000b';
/** 2026-03-01 12:00:30 UTC: 30 s into a minute, 12.5 h into a day. */
const NOON = Date.UTC(2026, 2, 1, 12, 0, 30);

function setup(counter?: ApiCallCounter) {
  const clock = { now: NOON };
  const memory = new MemoryApiCallCounter(() => clock.now);
  const limiter = new ApiCallLimiter(counter ?? memory, { clock: () => clock.now });
  return { clock, limiter };
}

async function refusal(attempt: Promise<unknown>) {
  const error = await attempt.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw error;
  return {
    status: ERROR_HTTP_MAP[error.code].status,
    reason: error.reason,
    retryAfterSeconds: error.retryAfterSeconds,
    message: error.message,
  };
}

beforeAll(() => Logger.overrideLogger(false));

describe('ApiCallLimiter', () => {
  it('lets the calls within a minute through and refuses the next with a 429 naming the limit, until the minute ends', async () => {
    const { clock, limiter } = setup();
    const limits = { apiCallsPerMinute: 3, apiCallsPerDay: null };
    for (let i = 0; i < 3; i++) await limiter.count(T, limits);
    expect(await refusal(limiter.count(T, limits))).toEqual({
      status: 429,
      reason: 'QUOTA_EXCEEDED',
      retryAfterSeconds: 30,
      message: `tenant ${T} has made its 3 API calls of this minute (limit apiCallsPerMinute): retry in 30 s`,
    });
    // Another tenant has its own count.
    await limiter.count(U, limits);
    clock.now += 29_000;
    expect((await refusal(limiter.count(T, limits))).retryAfterSeconds).toBe(1);
    clock.now += 1_000; // the next minute
    await limiter.count(T, limits);
  });

  it('counts a day in UTC days, and names apiCallsPerDay when that runs out first', async () => {
    const { clock, limiter } = setup();
    const limits = { apiCallsPerMinute: 100, apiCallsPerDay: 2 };
    await limiter.count(T, limits);
    clock.now += 60_000;
    await limiter.count(T, limits);
    clock.now += 60_000;
    const refused = await refusal(limiter.count(T, limits));
    expect(refused).toMatchObject({ status: 429, reason: 'QUOTA_EXCEEDED' });
    expect(refused.message).toContain('limit apiCallsPerDay');
    // 12:02:30 UTC: 11 h 57 min 30 s to midnight.
    expect(refused.retryAfterSeconds).toBe(11 * 3600 + 57 * 60 + 30);
    clock.now = Date.UTC(2026, 2, 2, 0, 0, 0);
    await limiter.count(T, limits);
  });

  it('refuses every call with a limit of 0, and counts nothing without limits', async () => {
    const calls: CountedWindow[][] = [];
    const { limiter } = setup({
      hit: async (windows) => {
        calls.push([...windows]);
        return windows.map(() => 1);
      },
    });
    await limiter.count(T, { apiCallsPerMinute: null, apiCallsPerDay: null });
    expect(calls).toEqual([]);
    expect(
      (await refusal(limiter.count(T, { apiCallsPerMinute: 0, apiCallsPerDay: null }))).status,
    ).toBe(429);
    await limiter.count(T, { apiCallsPerMinute: 5, apiCallsPerDay: 10 });
    const minute = Math.floor(NOON / 60_000);
    const day = Math.floor(NOON / 86_400_000);
    expect(calls[1]).toEqual([
      { key: `api-calls:${T}:m:${minute}`, ttlSeconds: 120 },
      { key: `api-calls:${T}:d:${day}`, ttlSeconds: 86_520 },
    ]);
  });

  it('lets calls through uncounted while the counter store fails', async () => {
    const { limiter } = setup({
      hit: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      },
    });
    await expect(
      limiter.count(T, { apiCallsPerMinute: 0, apiCallsPerDay: 0 }),
    ).resolves.toBeUndefined();
  });
});
