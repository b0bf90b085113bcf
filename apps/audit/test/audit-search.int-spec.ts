import { randomUUID } from 'node:crypto';
import {
  AppError,
  AuditEventRpc,
  ErrorCode,
  ListAuditEventsQuerySchema,
  parseContract,
  type AuditEvent,
  type StoredAuditEvent,
} from '@tenantry/contracts';
import { waitFor } from '@tenantry/testing';
import { AuditHarness } from './audit-search.harness.js';

const DAY = '2025-03-01';
/** The seeded events' window: reads recorded now (audit.read) fall outside it. */
const WINDOW = { from: `${DAY}T00:00:00Z`, to: '2025-03-02T00:00:00Z' };

interface Seed {
  category: string;
  action: string;
  actor: AuditEvent['actor'];
  at: string;
  target?: { type: string; id: string };
  outcome?: 'success' | 'failure';
  severity?: AuditEvent['severity'];
  data?: Record<string, unknown>;
  reason?: string;
}

function event(tenantId: string, seed: Seed): AuditEvent {
  return {
    schemaVersion: 1,
    id: randomUUID(),
    tenantId,
    occurredAt: seed.at,
    category: seed.category,
    action: seed.action,
    outcome: seed.outcome ?? 'success',
    actor: seed.actor,
    ...(seed.target ? { target: seed.target } : {}),
    ...(seed.severity ? { severity: seed.severity } : {}),
    ...(seed.data ? { data: seed.data } : {}),
    ...(seed.reason ? { reason: seed.reason } : {}),
  };
}

const ada = { type: 'user' as const, id: 'u-ada', name: 'Ada' };
const bob = { type: 'user' as const, id: 'u-bob' };
const op = { type: 'operator' as const, id: 'op-1' };

/** Every occurredAt has six fractional digits, so that string order is time order. */
const at = (time: string) => `${DAY}T${time}Z`;

const SEEDS: Seed[] = [
  {
    category: 'users',
    action: 'user.created',
    actor: ada,
    at: at('10:00:00.000001'),
    target: { type: 'user', id: 't1' },
    data: { email: 'ada@example.com' },
  },
  {
    category: 'users',
    action: 'user.updated',
    actor: ada,
    at: at('10:00:00.000002'),
    target: { type: 'user', id: 't1' },
    severity: 'notice',
    data: { note: 'I am 100% sure' },
  },
  {
    category: 'users',
    action: 'user.deleted',
    actor: op,
    at: at('10:05:00.000000'),
    target: { type: 'user', id: 't2' },
    severity: 'warning',
    data: { note: 'I am 100x sure' },
  },
  {
    category: 'users',
    action: 'user_admin.granted',
    actor: op,
    at: at('10:06:00.000000'),
    target: { type: 'user', id: 't2' },
    // "ras" would match q "r_s" if _ were a wildcard.
    data: { note: 'brass' },
  },
  {
    category: 'users',
    action: 'userx.granted',
    actor: op,
    at: at('10:07:00.000000'),
    target: { type: 'group', id: 't2' },
  },
  {
    category: 'sessions',
    action: 'session.created',
    actor: bob,
    at: at('10:10:00.000000'),
    target: { type: 'session', id: 's1' },
  },
  {
    category: 'sessions',
    action: 'session.failed',
    actor: bob,
    at: at('10:15:00.000000'),
    outcome: 'failure',
    severity: 'warning',
    reason: 'wrong password',
    data: { why: 'Bad PASSWORD' },
  },
  {
    category: 'api-keys',
    action: 'api_key.created',
    actor: { type: 'api_key', id: 'k-1' },
    at: at('10:20:00.000000'),
    target: { type: 'api_key', id: 'k-2' },
  },
  {
    category: 'policy',
    action: 'policy.updated',
    actor: { type: 'service', id: 'policy' },
    at: at('10:25:00.000000'),
    target: { type: 'policy', id: 'p1' },
    severity: 'critical',
    data: { snake: 'under_score' },
  },
  // Five at the same instant: the cursor must go through ties by id.
  ...Array.from({ length: 5 }, (_, i) => ({
    category: 'bulk',
    action: 'bulk.item',
    actor: { type: 'system' as const, id: 'sys' },
    at: at('11:00:00.000000'),
    data: { i },
  })),
];

type Filters = Partial<{
  from: string;
  to: string;
  category: string;
  action: string;
  actorType: AuditEvent['actor']['type'];
  actorId: string;
  targetType: string;
  targetId: string;
  outcome: 'success' | 'failure';
  severity: NonNullable<AuditEvent['severity']>;
  q: string;
}>;

/** The search's meaning, written out: the oracle the service's answers are checked against. */
function expected(events: AuditEvent[], f: Filters): string[] {
  const q = f.q?.toLowerCase();
  return events
    .filter(
      (e) =>
        (!f.from || e.occurredAt >= f.from) &&
        (!f.to || e.occurredAt < f.to) &&
        (!f.category || e.category === f.category) &&
        (!f.action || e.action.startsWith(f.action)) &&
        (!f.actorType || e.actor.type === f.actorType) &&
        (!f.actorId || e.actor.id === f.actorId) &&
        (!f.targetType || e.target?.type === f.targetType) &&
        (!f.targetId || e.target?.id === f.targetId) &&
        (!f.outcome || e.outcome === f.outcome) &&
        (!f.severity || (e.severity ?? 'info') === f.severity) &&
        (!q ||
          e.action.toLowerCase().includes(q) ||
          (e.data !== undefined && JSON.stringify(e.data).toLowerCase().includes(q))),
    )
    .sort((a, b) =>
      a.occurredAt === b.occurredAt
        ? b.id.localeCompare(a.id)
        : b.occurredAt.localeCompare(a.occurredAt),
    )
    .map((e) => e.id);
}

describe('audit search (the audit service on real PostgreSQL and NATS)', () => {
  let h: AuditHarness;
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  let seededA: AuditEvent[];
  let seededB: AuditEvent[];

  /** Every page of a search, followed through its cursors. */
  async function all(tenantId: string, filters: Filters, limit = 50): Promise<StoredAuditEvent[]> {
    const items: StoredAuditEvent[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await h.call(AuditEventRpc.list, { tenantId, limit, cursor, ...filters });
      items.push(...result.items);
      if (!result.nextCursor) return items;
      cursor = result.nextCursor;
    }
    throw new Error('more than 100 pages');
  }

  beforeAll(async () => {
    h = await AuditHarness.start();
    seededA = SEEDS.map((seed) => event(tenantA, seed));
    // Tenant B: the same shapes (so every filter would match something of B's too).
    seededB = SEEDS.slice(0, 4).map((seed) => event(tenantB, seed));
    await h.publish([...seededA, ...seededB]);
    await h.waitStored(tenantA, seededA.length);
    await h.waitStored(tenantB, seededB.length);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const cases: [string, Filters][] = [
    ['the time window alone', {}],
    ['from (inclusive, to the microsecond)', { from: at('10:00:00.000002') }],
    ['to (exclusive)', { to: at('10:05:00.000000') }],
    ['category', { category: 'sessions' }],
    ['action as a whole action', { action: 'user.updated' }],
    ['action as a prefix', { action: 'user.' }],
    ['action prefix without the dot', { action: 'user' }],
    ['action prefix with a literal _ (not a wildcard)', { action: 'user_' }],
    ['actorType', { actorType: 'operator' }],
    ['actorId', { actorId: 'u-bob' }],
    ['targetType', { targetType: 'user' }],
    ['targetId', { targetId: 't2' }],
    ['outcome', { outcome: 'failure' }],
    ['severity (stored default info)', { severity: 'info' }],
    ['severity', { severity: 'warning' }],
    ['q in the action', { q: 'DELETED' }],
    ['q in the data, ignoring case', { q: 'bad password' }],
    ['q with a literal %', { q: '100%' }],
    ['q with a literal _', { q: 'r_s' }],
  ];

  it.each(cases)('filters by %s', async (_name, filters) => {
    const f = { ...WINDOW, ...filters };
    const want = expected(seededA, f);
    const got = await all(tenantA, f);
    expect(got.map((e) => e.id)).toEqual(want);
    expect(want.length).toBeGreaterThan(0);
  });

  it('combines filters with AND', async () => {
    const combos: Filters[] = [
      { category: 'users', actorId: 'op-1' },
      { category: 'users', actorId: 'op-1', targetType: 'user' },
      { action: 'session.', outcome: 'failure', severity: 'warning' },
      { actorType: 'user', from: at('10:00:00.000002'), to: at('10:15:00.000000') },
      { category: 'users', q: 'sure', severity: 'notice' },
      { category: 'sessions', actorId: 'u-ada' }, // nothing
    ];
    for (const filters of combos) {
      const f = { ...WINDOW, ...filters };
      expect((await all(tenantA, f)).map((e) => e.id)).toEqual(expected(seededA, f));
    }
    expect(expected(seededA, { ...WINDOW, category: 'sessions', actorId: 'u-ada' })).toEqual([]);
  });

  it('pages newest first with a cursor, through ties, without losing or repeating an event', async () => {
    const want = expected(seededA, WINDOW);
    for (const limit of [1, 2, 3, 7]) {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await h.call(AuditEventRpc.list, {
          tenantId: tenantA,
          limit,
          cursor,
          ...WINDOW,
        });
        pages.push(page.items.map((e) => e.id));
        expect(page.items.length).toBeLessThanOrEqual(limit);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(pages.flat()).toEqual(want);
      expect(pages.length).toBe(Math.ceil(want.length / limit));
    }
  });

  it('returns each event with its place in the chain and the fields as published', async () => {
    const items = await all(tenantA, WINDOW);
    const bySeq = [...items].sort((a, b) => a.seq - b.seq);
    expect(bySeq.map((e) => e.seq)).toEqual(bySeq.map((_, i) => i + 1));
    for (const item of bySeq) {
      expect(item.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(item.prevHash).toBe(item.seq === 1 ? '0'.repeat(64) : bySeq[item.seq - 2]!.hash);
    }
    const failed = items.find((e) => e.action === 'session.failed')!;
    const published = seededA.find((e) => e.id === failed.id)!;
    expect(failed).toMatchObject({
      tenantId: tenantA,
      occurredAt: published.occurredAt,
      category: 'sessions',
      outcome: 'failure',
      severity: 'warning',
      reason: 'wrong password',
      actor: bob,
      data: { why: 'Bad PASSWORD' },
    });
    expect(items.find((e) => e.action === 'user.created')!.severity).toBe('info');
  });

  it("shows a tenant only its own events (another tenant's never match)", async () => {
    const got = await all(tenantB, WINDOW);
    expect(got.map((e) => e.id)).toEqual(expected(seededB, WINDOW));
    expect(got.every((e) => e.tenantId === tenantB)).toBe(true);
    // Filters that match only tenant A's events find nothing for B.
    expect(await all(tenantB, { ...WINDOW, category: 'policy' })).toEqual([]);
    expect(await all(tenantB, { ...WINDOW, q: 'bad password' })).toEqual([]);
    // A tenant without events has none.
    expect(await all(randomUUID(), {})).toEqual([]);
  });

  it('refuses bad input with an error naming each field and what it expects', () => {
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ from: 'yesterday' }, 'from', /ISO 8601/],
      [{ to: '2025-13-01T00:00:00Z' }, 'to', /ISO 8601/],
      [{ from: at('10:00:00.000000'), to: at('09:00:00.000000') }, 'to', /not be before from/],
      [{ category: 'Users' }, 'category', /lowercase/],
      [{ action: 'User.' }, 'action', /action or its beginning/],
      [{ action: 'user%' }, 'action', /action or its beginning/],
      [{ actorType: 'robot' }, 'actorType', /one of user, operator/],
      [{ actorId: '' }, 'actorId', /1 to 200 characters/],
      [{ targetType: 'x'.repeat(101) }, 'targetType', /1 to 100 characters/],
      [{ targetId: 'a\u0000b' }, 'targetId', /control characters/],
      [{ outcome: 'maybe' }, 'outcome', /success or failure/],
      [{ severity: 'loud' }, 'severity', /info, notice, warning, critical/],
      [{ q: 'x' }, 'q', /2 to 200 characters/],
      [{ q: 'x'.repeat(201) }, 'q', /2 to 200 characters/],
      [{ limit: '0' }, 'limit', /integer from 1 to 500/],
      [{ cursor: 'not a cursor!' }, 'cursor', /cursor/],
      [{ color: 'red' }, '(root)', /unknown field\(s\): color/],
    ];
    for (const [query, field, message] of bad) {
      let error: unknown;
      try {
        parseContract(ListAuditEventsQuerySchema, query, 'query parameters');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AppError);
      const errors = (error as AppError).errors ?? [];
      expect(errors).toEqual(
        expect.arrayContaining([{ field, message: expect.stringMatching(message) }]),
      );
    }
  });

  it('refuses the same in the service itself, and a forged cursor, naming the field', async () => {
    const reply = await h.raw(AuditEventRpc.list.subject, {
      tenantId: tenantA,
      severity: 'loud',
      outcome: 'maybe',
    });
    expect(reply.ok).toBe(false);
    expect(reply.error!.code).toBe(ErrorCode.ValidationFailed);
    expect(reply.error!.errors!.map((e) => e.field).sort()).toEqual(['outcome', 'severity']);
    // Well-formed base64url, but not a cursor of this list.
    const forged = Buffer.from(JSON.stringify(['not a time', 'x'])).toString('base64url');
    const error = await h.failure(AuditEventRpc.list, { tenantId: tenantA, cursor: forged });
    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.errors).toEqual([{ field: 'cursor', message: expect.stringMatching(/cursor/) }]);
  });

  it("records every search in the tenant's own chain, once, as audit.read with the actor and filters", async () => {
    const reader = { ip: '203.0.113.9', userAgent: 'search-spec', sessionId: randomUUID() };
    const actorId = randomUUID();
    const filters = { ...WINDOW, category: 'users', q: 'sure' };
    const page = await h.call(
      AuditEventRpc.list,
      { tenantId: tenantA, limit: 5, reader, ...filters },
      `user:${actorId}`,
    );
    const reads = await waitFor(
      'the audit.read event of the search',
      async () => {
        const found = (
          await all(tenantA, { category: 'audit', action: 'audit.read', actorId })
        ).filter((e) => e.actor.id === actorId);
        return found.length > 0 && found;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // Looking for it was a read too, by nobody in particular (no actor): only one is this one.
    expect(reads).toHaveLength(1);
    const read = reads[0]!;
    expect(read).toMatchObject({
      tenantId: tenantA,
      category: 'audit',
      action: 'audit.read',
      outcome: 'success',
      severity: 'info',
      actor: { type: 'user', id: actorId, ...reader },
      data: { filters, limit: 5, returned: page.items.length },
    });
    expect(read.seq).toBeGreaterThan(seededA.length);
    // Tenant B's chain got nothing of it.
    expect(await all(tenantB, { category: 'audit', actorId })).toEqual([]);
  });
});
