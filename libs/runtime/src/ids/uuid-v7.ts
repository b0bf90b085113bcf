import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** Random bytes for this many ids are drawn at once (as Node's randomUUID pools its entropy). */
const IDS_PER_DRAW = 128;
const pool = new Uint8Array(16 * IDS_PER_DRAW);
let next = pool.length;

/** The last id's millisecond and counter: ids of one process increase, as uuid's own v7 makes them. */
const state = { msecs: -Infinity, seq: 0 };

/**
 * A UUIDv7 (RFC 9562) exactly as `v7()` of the uuid package makes it: the time in
 * milliseconds, a 32-bit counter seeded randomly each millisecond and incremented within
 * one (so the ids of a process increase), and random bits. The random bits come from a
 * pool that node:crypto's CSPRNG fills for 128 ids at a time, rather than from one
 * `crypto.getRandomValues` call per id, which costs several times more than the rest.
 */
export function uuidv7(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const random = pool.subarray(next, next + 16);
  next += 16;
  const now = Date.now();
  if (now > state.msecs) {
    state.msecs = now;
    state.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    state.seq = (state.seq + 1) | 0;
    if (state.seq === 0) state.msecs++;
  }
  return v7({ random, msecs: state.msecs, seq: state.seq });
}
