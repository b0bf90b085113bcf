import { idleExpired, REFRESH_GRACE_MS, refreshDecision } from './refresh-rotation.js';

const now = new Date('2026-12-01T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const live = { revokedAt: null, expiresAt: later(3_600_000) };
const token = (usedAt: Date | null) => ({ usedAt, expiresAt: later(3_600_000) });

describe('refresh rotation decision', () => {
  it('rotates a token never used', () => {
    expect(refreshDecision(token(null), live, now)).toBe('rotate');
  });

  it('answers a token spent within the grace window with another new token (concurrent refreshes)', () => {
    expect(refreshDecision(token(later(-1)), live, now)).toBe('grace');
    expect(refreshDecision(token(later(-REFRESH_GRACE_MS)), live, now)).toBe('grace');
    expect(REFRESH_GRACE_MS).toBe(5_000);
  });

  it('treats a token spent before the grace window as reuse', () => {
    expect(refreshDecision(token(later(-REFRESH_GRACE_MS - 1)), live, now)).toBe('reuse');
    expect(refreshDecision(token(later(-86_400_000)), live, now)).toBe('reuse');
  });

  it('refuses anything of a revoked or ended session, and an expired token, without calling it reuse', () => {
    const revoked = { ...live, revokedAt: later(-10) };
    const ended = { ...live, expiresAt: now };
    expect(refreshDecision(token(null), revoked, now)).toBe('invalid');
    expect(refreshDecision(token(later(-86_400_000)), revoked, now)).toBe('invalid');
    expect(refreshDecision(token(null), ended, now)).toBe('invalid');
    expect(refreshDecision({ usedAt: null, expiresAt: now }, live, now)).toBe('invalid');
  });

  it('ends a session unused for longer than the idle timeout, and never without one', () => {
    const used = (ms: number) => ({ lastUsedAt: later(-ms) });
    expect(idleExpired(used(300_000), now, 300)).toBe(false);
    expect(idleExpired(used(300_001), now, 300)).toBe(true);
    expect(idleExpired(used(86_400_000 * 365), now, null)).toBe(false);
  });
});
