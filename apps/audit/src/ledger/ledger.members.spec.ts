import { randomUUID } from 'node:crypto';
import { rendezvousOwner } from './ledger.members.js';

describe('rendezvousOwner (which audit instance writes a tenant’s chain)', () => {
  const tenants = Array.from({ length: 3_000 }, () => randomUUID());
  const members = [randomUUID(), randomUUID(), randomUUID()];

  it('is the same whatever order the members are known in', () => {
    const reversed = [...members].reverse();
    for (const t of tenants.slice(0, 200))
      expect(rendezvousOwner(reversed, t)).toBe(rendezvousOwner(members, t));
  });

  it('spreads tenants evenly over the members', () => {
    const counts = new Map<string, number>();
    for (const t of tenants) {
      const owner = rendezvousOwner(members, t);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...members].sort());
    // 1,000 expected each; 5 standard deviations is ~±130
    for (const n of counts.values()) expect(Math.abs(n - 1_000)).toBeLessThan(150);
  });

  it('moves only the tenants of a member that leaves, and only tenants to a member that joins', () => {
    const before = new Map(tenants.map((t) => [t, rendezvousOwner(members, t)]));
    const fewer = members.slice(0, 2);
    for (const t of tenants) {
      const owner = rendezvousOwner(fewer, t);
      if (before.get(t) !== members[2]) expect(owner).toBe(before.get(t));
      else expect(fewer).toContain(owner);
    }
    const joined = [...members, randomUUID()];
    let moved = 0;
    for (const t of tenants) {
      const owner = rendezvousOwner(joined, t);
      if (owner !== before.get(t)) {
        expect(owner).toBe(joined[3]);
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(500); // about a quarter
    expect(moved).toBeLessThan(1_000);
  });

  it('gives every tenant to the only member there is', () => {
    expect(rendezvousOwner([members[0]!], tenants[0]!)).toBe(members[0]);
  });
});
