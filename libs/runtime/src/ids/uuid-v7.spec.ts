import { validate, version } from 'uuid';
import { uuidv7 } from './uuid-v7.js';

describe('uuidv7()', () => {
  it('makes version-7 UUIDs (RFC 9562 variant) whose first 48 bits are the time in ms', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(7);
    expect(id[19]).toMatch(/[89ab]/);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('makes ids that increase and never repeat, across many refills of its random pool', () => {
    const ids = Array.from({ length: 5_000 }, () => uuidv7());
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it('differs in its random bits from one id to the next', () => {
    const tails = new Set(Array.from({ length: 1_000 }, () => uuidv7().slice(-12)));
    expect(tails.size).toBe(1_000);
  });
});
