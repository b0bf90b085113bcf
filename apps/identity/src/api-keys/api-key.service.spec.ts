import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import {
  API_KEY_PATTERN,
  ErrorCode,
  IdentityEvents,
  PLATFORM_TENANT_ID,
  type AuditEvent,
} from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { ApiKeyRepository, type ApiKeyUse } from './api-key.repository.js';
import { ApiKeyService, generateApiKey, hashApiKey, overlapEnd } from './api-key.service.js';

const TENANT = '0193a0f0-0000-7000-8000-00000000000a';
const OTHER_TENANT = '0193a0f0-0000-7000-8000-00000000000b';
const T0 = new Date('2026-12-01T12:00:00.000Z');

/**
 * An ApiKeyService over an in-memory api_keys table and credential lookup, kept the way
 * the repository keeps them. `takenPrefixes`: that many inserts hit a taken prefix;
 * `failingFlushes`: that many batches of uses fail.
 */
function setup({ takenPrefixes = 0, failingFlushes = 0 } = {}) {
  const rows: ApiKeyEntity[] = [];
  const lookup = new Map<string, string>();
  const committed: OutboxMessage[] = [];
  const kick = jest.fn<() => void>();
  const batches: ApiKeyUse[][] = [];
  let prefixCollisions = takenPrefixes;
  const copy = (row: ApiKeyEntity) => Object.assign(new ApiKeyEntity(), row);
  const find = (tenantId: string, id: string) =>
    rows.find((r) => r.tenantId === tenantId && r.id === id);
  const insertRow = (key: ApiKeyEntity) => {
    rows.push(copy(key));
    lookup.set(key.prefix, key.tenantId);
  };
  const tenantsOf = jest.fn<CredentialLookupRepository['tenantsOf']>(async (kind, publicId) => {
    expect(kind).toBe('api_key');
    return lookup.has(publicId) ? [lookup.get(publicId)!] : [];
  });
  const findByPrefix = jest.fn(async (tenantId: string, prefix: string) => {
    const row = rows.find((r) => r.tenantId === tenantId && r.prefix === prefix);
    return row ? copy(row) : null;
  });
  const repository = double(ApiKeyRepository, {
    insert: async (key, events) => {
      if (prefixCollisions-- > 0) return false;
      insertRow(key);
      committed.push(...events);
      return true;
    },
    findById: async (tenantId, id) => {
      const row = find(tenantId, id);
      return row ? copy(row) : null;
    },
    findByPrefix,
    list: async (tenantId, limit, before) =>
      rows
        .filter((r) => r.tenantId === tenantId && (!before || r.id < before))
        .sort((a, b) => (a.id < b.id ? 1 : -1))
        .slice(0, limit)
        .map(copy),
    rotate: async (tenantId, id, plan) => {
      const row = find(tenantId, id);
      const successor = rows.find((r) => r.tenantId === tenantId && r.rotatedFrom === id);
      const rotation = plan(row ? copy(row) : null, successor?.id ?? null);
      if (prefixCollisions-- > 0) return null;
      row!.expiresAt = rotation.previousExpiresAt;
      insertRow(rotation.replacement);
      committed.push(...rotation.events);
      return rotation;
    },
    revoke: async (tenantId, id, at, announce) => {
      const row = find(tenantId, id);
      if (!row) return null;
      if (row.revokedAt) return { key: copy(row), revokedNow: false };
      row.revokedAt = at;
      committed.push(...announce(copy(row)));
      return { key: copy(row), revokedNow: true };
    },
    recordUses: async (uses, announceFirstUse) => {
      batches.push(uses);
      if (failingFlushes-- > 0) throw new Error('database down');
      for (const use of uses) {
        const row = find(use.tenantId, use.id)!;
        if (!row.lastUsedAt) committed.push(...announceFirstUse(copy(row)));
        if (!row.lastUsedAt || row.lastUsedAt < use.at) row.lastUsedAt = use.at;
      }
    },
  });
  const service = new ApiKeyService(
    repository,
    double(CredentialLookupRepository, { tenantsOf }),
    double(Outbox, { kick }),
  );
  const audits = (action?: string) =>
    committed
      .filter((m) => m.subject.startsWith('audit.'))
      .map((m) => m.payload as AuditEvent)
      .filter((e) => !action || e.action === action);
  return {
    service,
    rows,
    committed,
    kick,
    batches,
    audits,
    tenantsOf,
    findByPrefix,
    row: (id: string) => rows.find((r) => r.id === id)!,
  };
}

const create = (
  service: ApiKeyService,
  overrides: Partial<Parameters<ApiKeyService['create']>[0]> = {},
) => service.create({ tenantId: TENANT, name: 'CI', scopes: ['audit:read'], ...overrides });

/** Only Date is faked: promises and the doubles run as usual. */
function freezeTime(at = T0) {
  jest.useFakeTimers({ now: at, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
}
const advance = (seconds: number) => jest.setSystemTime(Date.now() + seconds * 1000);

afterEach(() => jest.useRealTimers());

describe('API key format and hashing', () => {
  it('draws tnty_<12 alphanumerics>_<43 base64url chars>, matching API_KEY_PATTERN, different every time', () => {
    const drawn = Array.from({ length: 200 }, () => generateApiKey());
    for (const { prefix, key } of drawn) {
      expect(key).toMatch(API_KEY_PATTERN);
      expect(prefix).toMatch(/^[A-Za-z0-9]{12}$/);
      expect(key.startsWith(`tnty_${prefix}_`)).toBe(true);
      expect(key.slice(18)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(new Set(drawn.map((d) => d.key)).size).toBe(drawn.length);
    expect(new Set(drawn.map((d) => d.prefix)).size).toBe(drawn.length);
  });

  it('hashes the whole key with SHA-256 (hex)', () => {
    const { key } = generateApiKey();
    expect(hashApiKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('ApiKeyService.create', () => {
  it('shows the key once and stores only its prefix and hash, with the lookup, audited', async () => {
    const { service, rows, audits, kick } = setup();
    const created = await messageContext.run(newContext({ actor: 'user:u-1' }), () =>
      create(service, { scopes: ['audit:read', 'tenants:*', 'audit:read'] }),
    );
    expect(created.key).toMatch(API_KEY_PATTERN);
    expect(created).toMatchObject({
      tenantId: TENANT,
      name: 'CI',
      prefix: created.key.slice(5, 17),
      scopes: ['audit:read', 'tenants:*'],
      createdBy: 'user:u-1',
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      rotatedFrom: null,
    });
    expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    const [row] = rows;
    expect(row!.secretHash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key.slice(18));
    const [audit] = audits('api_key.created');
    expect(audit).toMatchObject({
      tenantId: TENANT,
      category: 'api_keys',
      actor: { type: 'user', id: 'u-1' },
      target: { type: 'api_key', id: created.id },
      data: { name: 'CI', prefix: created.prefix, scopes: ['audit:read', 'tenants:*'] },
    });
    expect(JSON.stringify(audit)).not.toContain(created.key.slice(18));
    expect(kick).toHaveBeenCalled();
  });

  it("marks an operator's change to a tenant's key as cross-tenant, not a platform key's", async () => {
    const { service, audits } = setup();
    const operator = newContext({ actor: 'operator:op-1' });
    const tenantKey = await messageContext.run(operator, () => create(service));
    const platformKey = await messageContext.run(operator, () =>
      create(service, { tenantId: PLATFORM_TENANT_ID }),
    );
    const [forTenant, forPlatform] = audits('api_key.created');
    expect(forTenant).toMatchObject({
      target: { id: tenantKey.id },
      actor: { type: 'operator', id: 'op-1' },
      data: { crossTenant: true },
    });
    expect(forPlatform!.target!.id).toBe(platformKey.id);
    expect(forPlatform!.data).not.toHaveProperty('crossTenant');
  });

  it('makes a platform key under PLATFORM_TENANT_ID, shown with tenantId null', async () => {
    const { service, rows } = setup();
    const created = await create(service, { tenantId: PLATFORM_TENANT_ID });
    expect(created.tenantId).toBeNull();
    expect(rows[0]!.tenantId).toBe(PLATFORM_TENANT_ID);
    expect(created.createdBy).toBe('service:identity');
  });

  it('refuses an expiry in the past, naming expiresAt, and stores nothing', async () => {
    freezeTime();
    const { service, rows } = setup();
    await expect(
      create(service, { expiresAt: new Date(T0.getTime() - 1000).toISOString() }),
    ).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      reason: 'API_KEY_EXPIRY_IN_PAST',
      errors: [{ field: 'expiresAt' }],
    });
    await expect(create(service, { expiresAt: T0.toISOString() })).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
    });
    expect(rows).toHaveLength(0);
    const later = await create(service, { expiresAt: '2026-12-02T00:00:00+02:00' });
    expect(later.expiresAt).toBe('2026-12-01T22:00:00.000Z');
  });

  it('draws another prefix when the first is taken', async () => {
    const { service, rows } = setup({ takenPrefixes: 2 });
    const created = await create(service);
    expect(rows.map((r) => r.id)).toEqual([created.id]);
  });
});

describe('ApiKeyService.verify', () => {
  it('answers a good key with its principal, after one lookup and one read', async () => {
    const { service, tenantsOf, findByPrefix } = setup();
    const created = await create(service, { scopes: ['audit:read', 'tenants:*'] });
    await expect(service.verify(created.key)).resolves.toEqual({
      kind: 'api_key',
      id: created.id,
      tenantId: TENANT,
      roles: [],
      scopes: ['audit:read', 'tenants:*'],
      expiresAt: null,
    });
    expect(tenantsOf).toHaveBeenCalledTimes(1);
    expect(tenantsOf).toHaveBeenCalledWith('api_key', created.prefix);
    expect(findByPrefix).toHaveBeenCalledWith(TENANT, created.prefix);
  });

  it('gives a platform key a principal with tenantId null', async () => {
    const { service } = setup();
    const created = await create(service, { tenantId: PLATFORM_TENANT_ID });
    await expect(service.verify(created.key)).resolves.toMatchObject({
      id: created.id,
      tenantId: null,
    });
  });

  describe('refuses every bad key with the same UNAUTHENTICATED INVALID_API_KEY', () => {
    const INVALID = {
      code: ErrorCode.Unauthenticated,
      reason: 'INVALID_API_KEY',
      message: 'the API key is not valid',
    };

    it.each([
      ['a JWT', 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
      ['garbage', 'hello'],
      ['a key with a short prefix', `tnty_abc_${'a'.repeat(43)}`],
      ['a key with a short secret', `tnty_${'a'.repeat(12)}_${'a'.repeat(42)}`],
      ['a key with the wrong scheme', `tntx_${'a'.repeat(12)}_${'a'.repeat(43)}`],
      ['a key with trailing text', `tnty_${'a'.repeat(12)}_${'a'.repeat(43)} `],
    ])('%s, without touching the database', async (_, key) => {
      const { service, tenantsOf } = setup();
      await expect(service.verify(key)).rejects.toMatchObject(INVALID);
      expect(tenantsOf).not.toHaveBeenCalled();
    });

    it('an unknown prefix', async () => {
      const { service, findByPrefix } = setup();
      await expect(service.verify(generateApiKey().key)).rejects.toMatchObject(INVALID);
      expect(findByPrefix).not.toHaveBeenCalled();
    });

    it('the right prefix with a wrong secret', async () => {
      const { service } = setup();
      const created = await create(service);
      const forged = `tnty_${created.prefix}_${generateApiKey().key.slice(18)}`;
      await expect(service.verify(forged)).rejects.toMatchObject(INVALID);
    });

    it('a key whose prefix names a tenant that does not hold it', async () => {
      const { service, tenantsOf } = setup();
      const created = await create(service);
      tenantsOf.mockResolvedValueOnce([OTHER_TENANT]);
      await expect(service.verify(created.key)).rejects.toMatchObject(INVALID);
    });

    it('a prefix the lookup gives more than one tenant for (fails closed)', async () => {
      const { service, tenantsOf, findByPrefix } = setup();
      const created = await create(service);
      tenantsOf.mockResolvedValueOnce([TENANT, OTHER_TENANT]);
      await expect(service.verify(created.key)).rejects.toMatchObject(INVALID);
      expect(findByPrefix).not.toHaveBeenCalled();
    });

    it('a revoked key', async () => {
      const { service } = setup();
      const created = await create(service);
      await service.revoke({ tenantId: TENANT, keyId: created.id });
      await expect(service.verify(created.key)).rejects.toMatchObject(INVALID);
    });

    it('an expired key, from the moment it expires', async () => {
      freezeTime();
      const { service } = setup();
      const created = await create(service, {
        expiresAt: new Date(T0.getTime() + 60_000).toISOString(),
      });
      advance(59);
      await expect(service.verify(created.key)).resolves.toMatchObject({ id: created.id });
      advance(1);
      await expect(service.verify(created.key)).rejects.toMatchObject(INVALID);
    });
  });
});

describe('ApiKeyService.rotate', () => {
  it('ends the overlap after overlapSeconds, never later than the old key would have expired', () => {
    expect(overlapEnd(null, T0, 3600)).toEqual(new Date('2026-12-01T13:00:00.000Z'));
    expect(overlapEnd(null, T0, 0)).toEqual(T0);
    const soon = new Date('2026-12-01T12:10:00.000Z');
    expect(overlapEnd(soon, T0, 3600)).toEqual(soon);
    const late = new Date('2027-01-01T00:00:00.000Z');
    expect(overlapEnd(late, T0, 3600)).toEqual(new Date('2026-12-01T13:00:00.000Z'));
  });

  it('gives a new key with the same name, scopes and expiry; the old one works until the overlap ends', async () => {
    freezeTime();
    const { service, row, audits } = setup();
    const old = await create(service, {
      scopes: ['audit:read'],
      expiresAt: '2027-06-01T00:00:00.000Z',
    });
    advance(10);
    const fresh = await service.rotate({ tenantId: TENANT, keyId: old.id, overlapSeconds: 600 });
    expect(fresh.key).toMatch(API_KEY_PATTERN);
    expect(fresh.key).not.toBe(old.key);
    expect(fresh).toMatchObject({
      tenantId: TENANT,
      name: old.name,
      scopes: old.scopes,
      expiresAt: '2027-06-01T00:00:00.000Z',
      rotatedFrom: old.id,
    });
    expect(row(old.id).expiresAt).toEqual(new Date(T0.getTime() + 610_000));
    expect(row(fresh.id).secretHash).toBe(hashApiKey(fresh.key));

    advance(599);
    await expect(service.verify(old.key)).resolves.toMatchObject({ id: old.id });
    await expect(service.verify(fresh.key)).resolves.toMatchObject({ id: fresh.id });
    advance(1);
    await expect(service.verify(old.key)).rejects.toMatchObject({ reason: 'INVALID_API_KEY' });
    await expect(service.verify(fresh.key)).resolves.toMatchObject({ id: fresh.id });

    expect(audits('api_key.rotated')).toEqual([
      expect.objectContaining({
        target: { type: 'api_key', id: old.id },
        data: expect.objectContaining({ name: 'CI', prefix: old.prefix, replacedBy: fresh.id }),
      }),
    ]);
    expect(audits('api_key.created').map((a) => a.target?.id)).toEqual([old.id, fresh.id]);
  });

  it('keeps an old key that expires within the overlap at its own expiry', async () => {
    freezeTime();
    const { service, row } = setup();
    const expiresAt = new Date(T0.getTime() + 120_000);
    const old = await create(service, { expiresAt: expiresAt.toISOString() });
    await service.rotate({ tenantId: TENANT, keyId: old.id, overlapSeconds: 3600 });
    expect(row(old.id).expiresAt).toEqual(expiresAt);
  });

  it('ends the old key at once with overlapSeconds 0', async () => {
    freezeTime();
    const { service } = setup();
    const old = await create(service);
    const fresh = await service.rotate({ tenantId: TENANT, keyId: old.id, overlapSeconds: 0 });
    await expect(service.verify(old.key)).rejects.toMatchObject({ reason: 'INVALID_API_KEY' });
    await expect(service.verify(fresh.key)).resolves.toMatchObject({ id: fresh.id });
  });

  it('refuses an unknown, revoked, expired or already rotated key, and writes nothing', async () => {
    freezeTime();
    const { service, rows } = setup();
    const rotate = (keyId: string) =>
      service.rotate({ tenantId: TENANT, keyId, overlapSeconds: 60 });
    await expect(rotate('0193a0f0-0000-7000-8000-0000000000ff')).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'API_KEY_NOT_FOUND',
    });
    const revoked = await create(service);
    await service.revoke({ tenantId: TENANT, keyId: revoked.id });
    await expect(rotate(revoked.id)).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'API_KEY_NOT_ACTIVE',
    });
    const expiring = await create(service, {
      expiresAt: new Date(T0.getTime() + 1000).toISOString(),
    });
    advance(1);
    await expect(rotate(expiring.id)).rejects.toMatchObject({ reason: 'API_KEY_NOT_ACTIVE' });
    const rotated = await create(service);
    const successor = await rotate(rotated.id);
    await expect(rotate(rotated.id)).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'API_KEY_ALREADY_ROTATED',
      message: expect.stringContaining(successor.id),
    });
    expect(rows).toHaveLength(4);
  });

  it("refuses another tenant's key as unknown", async () => {
    const { service } = setup();
    const created = await create(service);
    await expect(
      service.rotate({ tenantId: OTHER_TENANT, keyId: created.id, overlapSeconds: 60 }),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});

describe('ApiKeyService.revoke', () => {
  it('revokes, announces it to the gateways and audits it; revoking again returns the key and announces nothing', async () => {
    const { service, committed, audits, kick } = setup();
    const created = await create(service);
    kick.mockClear();
    const revoked = await service.revoke({ tenantId: TENANT, keyId: created.id });
    expect(revoked.revokedAt).not.toBeNull();
    expect(committed.filter((m) => m.subject === IdentityEvents.apiKeyRevoked.subject)).toEqual([
      expect.objectContaining({
        payload: { keyId: created.id, tenantId: TENANT, prefix: created.prefix },
        msgId: `api-key-revoked:${created.id}`,
      }),
    ]);
    expect(audits('api_key.revoked')).toHaveLength(1);
    expect(kick).toHaveBeenCalledTimes(1);

    const again = await service.revoke({ tenantId: TENANT, keyId: created.id });
    expect(again).toEqual(revoked);
    expect(audits('api_key.revoked')).toHaveLength(1);
    expect(kick).toHaveBeenCalledTimes(1);
  });

  it('announces a platform key under PLATFORM_TENANT_ID', async () => {
    const { service, committed } = setup();
    const created = await create(service, { tenantId: PLATFORM_TENANT_ID });
    await service.revoke({ tenantId: PLATFORM_TENANT_ID, keyId: created.id });
    expect(
      committed.find((m) => m.subject === IdentityEvents.apiKeyRevoked.subject)?.payload,
    ).toMatchObject({ tenantId: PLATFORM_TENANT_ID });
  });

  it("says NOT_FOUND for an unknown key and for another tenant's", async () => {
    const { service } = setup();
    const created = await create(service);
    await expect(
      service.revoke({ tenantId: OTHER_TENANT, keyId: created.id }),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound, reason: 'API_KEY_NOT_FOUND' });
    await expect(service.get({ tenantId: OTHER_TENANT, keyId: created.id })).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
  });
});

describe('ApiKeyService: last use', () => {
  it('remembers uses and writes each key once per flush, with its latest use', async () => {
    freezeTime();
    const { service, batches, row } = setup();
    const a = await create(service);
    const b = await create(service, { tenantId: OTHER_TENANT });
    await service.verify(a.key);
    advance(2);
    await service.verify(a.key);
    await service.verify(b.key);
    expect(batches).toHaveLength(0);
    expect(row(a.id).lastUsedAt).toBeNull();

    await service.flushUses();
    expect(batches).toHaveLength(1);
    expect(batches[0]).toEqual([
      { tenantId: TENANT, id: a.id, at: new Date(T0.getTime() + 2000) },
      { tenantId: OTHER_TENANT, id: b.id, at: new Date(T0.getTime() + 2000) },
    ]);
    await service.flushUses();
    expect(batches).toHaveLength(1);
  });

  it("audits a key's first use once, as the key itself, in the request that used it", async () => {
    const { service, audits, kick } = setup();
    const created = await create(service);
    const context = newContext();
    await messageContext.run(context, () => service.verify(created.key));
    await service.verify(created.key);
    kick.mockClear();
    await service.flushUses();
    await service.verify(created.key);
    await service.flushUses();
    expect(audits('api_key.first_used')).toEqual([
      expect.objectContaining({
        tenantId: TENANT,
        category: 'api_keys',
        actor: { type: 'api_key', id: created.id },
        target: { type: 'api_key', id: created.id },
        requestId: context.requestId,
        data: { name: 'CI', prefix: created.prefix, scopes: ['audit:read'] },
      }),
    ]);
    expect(kick).toHaveBeenCalledTimes(1);
  });

  it('keeps the uses for the next flush when writing fails', async () => {
    const { service, batches, row } = setup({ failingFlushes: 1 });
    const created = await create(service);
    await service.verify(created.key);
    await expect(service.flushUses()).rejects.toThrow('database down');
    expect(row(created.id).lastUsedAt).toBeNull();
    await service.flushUses();
    expect(batches.map((b) => b.map((u) => u.id))).toEqual([[created.id], [created.id]]);
    expect(row(created.id).lastUsedAt).not.toBeNull();
  });

  it('flushes every 5 seconds once started, and a last time at shutdown', async () => {
    jest.useFakeTimers({ now: T0 });
    const { service, batches } = setup();
    const created = await create(service);
    service.onApplicationBootstrap();
    await service.verify(created.key);
    await jest.advanceTimersByTimeAsync(4_999);
    expect(batches).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(batches).toHaveLength(1);
    await service.verify(created.key);
    await service.beforeApplicationShutdown();
    expect(batches).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(batches).toHaveLength(2);
  });
});

describe('ApiKeyService.list', () => {
  it('pages newest first within the tenant, and rejects a forged cursor', async () => {
    const { service } = setup();
    const made = [];
    for (const name of ['a', 'b', 'c']) made.push(await create(service, { name }));
    await create(service, { tenantId: OTHER_TENANT, name: 'elsewhere' });
    const first = await service.list({ tenantId: TENANT, limit: 2 });
    expect(first.items.map((k) => k.name)).toEqual(['c', 'b']);
    const second = await service.list({ tenantId: TENANT, limit: 2, cursor: first.nextCursor! });
    expect(second).toMatchObject({ items: [{ name: 'a' }], nextCursor: null });
    expect(JSON.stringify(first)).not.toContain(made[0]!.key);
    await expect(
      service.list({ tenantId: TENANT, limit: 2, cursor: 'not-a-cursor' }),
    ).rejects.toMatchObject({ code: ErrorCode.ValidationFailed });
  });
});
