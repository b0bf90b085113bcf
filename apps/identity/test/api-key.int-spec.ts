import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import {
  ErrorCode,
  IdentityEvents,
  PLATFORM_TENANT_ID,
  type AuditEvent,
  type CreatedApiKey,
} from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import {
  bootstrapDatabase,
  Outbox,
  runMigrations,
  Sql,
  TenantTransactions,
  withTenant,
} from '@tenantry/persistence';
import { double, scratchDatabase } from '@tenantry/testing';
import { DataSource } from 'typeorm';
import { CredentialLookupRepository } from '../src/credential-lookup/credential-lookup.repository.js';
import { ApiKeyEntity } from '../src/api-keys/api-key.entity.js';
import { ApiKeyRepository } from '../src/api-keys/api-key.repository.js';
import { ApiKeyService, generateApiKey, hashApiKey } from '../src/api-keys/api-key.service.js';
import { migrations } from '../src/database/migrations/index.js';

const scratch = scratchDatabase('apikeys');
const { options } = scratch;

const INVALID = {
  code: ErrorCode.Unauthenticated,
  reason: 'INVALID_API_KEY',
  message: 'the API key is not valid',
};

/** Only Date is faked (pg and TypeORM keep their real timers): expiry without waiting. */
function fakeDate(): void {
  jest.useFakeTimers({
    now: Date.now(),
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}
const advance = (seconds: number) => jest.setSystemTime(Date.now() + seconds * 1000);

interface OutboxRow {
  msg_id: string;
  subject: string;
  payload: unknown;
}

describe('API keys (real PostgreSQL, app role under RLS)', () => {
  let dataSource: DataSource;
  let lookup: CredentialLookupRepository;
  let repository: ApiKeyRepository;
  let service: ApiKeyService;

  const newService = () =>
    new ApiKeyService(repository, lookup, double(Outbox, { kick: () => undefined }));
  const create = (tenantId: string, overrides: { expiresAt?: string; name?: string } = {}) =>
    service.create({ tenantId, name: 'integration', scopes: ['audit:read'], ...overrides });
  const outbox = async (): Promise<OutboxRow[]> =>
    dataSource.query(`SELECT msg_id, subject, payload FROM outbox ORDER BY seq`);
  const audits = async (keyId: string, action: string) =>
    (await outbox())
      .map((m) => m.payload as AuditEvent)
      .filter((e) => e.action === action && e.target?.id === keyId);
  const stored = (tenantId: string, id: string) =>
    withTenant(dataSource, tenantId, (m) =>
      m.getRepository(ApiKeyEntity).findOneByOrFail({ id, tenantId }),
    );

  beforeAll(async () => {
    await bootstrapDatabase(options);
    await runMigrations(options, migrations);
    dataSource = await new DataSource({
      type: 'postgres',
      host: options.host,
      port: options.port,
      database: options.database,
      username: options.appUser,
      entities: [ApiKeyEntity],
      installExtensions: false,
    }).initialize();
    lookup = new CredentialLookupRepository(new Sql(dataSource));
    repository = new ApiKeyRepository(new TenantTransactions(dataSource), lookup);
    service = newService();
  });

  afterEach(() => jest.useRealTimers());

  afterAll(async () => {
    await dataSource?.destroy();
    await scratch.drop();
  });

  it('creates, verifies, revokes (announced through the outbox), then refuses the key', async () => {
    const tenant = randomUUID();
    const created = await messageContext.run(newContext({ actor: 'user:admin-1' }), () =>
      create(tenant),
    );
    expect(created).toMatchObject({ tenantId: tenant, createdBy: 'user:admin-1' });
    expect(
      await dataSource.query(
        `SELECT kind, public_id, tenant_id FROM credential_lookup WHERE public_id = $1`,
        [created.prefix],
      ),
    ).toEqual([{ kind: 'api_key', public_id: created.prefix, tenant_id: tenant }]);
    const row = await stored(tenant, created.id);
    expect(row.secretHash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(await outbox())).not.toContain(created.key);

    await expect(service.verify(created.key)).resolves.toEqual({
      kind: 'api_key',
      id: created.id,
      tenantId: tenant,
      roles: [],
      scopes: ['audit:read'],
      expiresAt: null,
    });

    const revoked = await service.revoke({ tenantId: tenant, keyId: created.id });
    expect(revoked.revokedAt).not.toBeNull();
    await expect(service.verify(created.key)).rejects.toMatchObject(INVALID);
    expect(await service.revoke({ tenantId: tenant, keyId: created.id })).toEqual(revoked);

    const announcements = (await outbox()).filter(
      (m) => m.msg_id === `api-key-revoked:${created.id}`,
    );
    expect(announcements).toEqual([
      {
        msg_id: `api-key-revoked:${created.id}`,
        subject: IdentityEvents.apiKeyRevoked.subject,
        payload: { keyId: created.id, tenantId: tenant, prefix: created.prefix },
      },
    ]);
    expect(await audits(created.id, 'api_key.created')).toEqual([
      expect.objectContaining({
        tenantId: tenant,
        category: 'api_keys',
        actor: { type: 'user', id: 'admin-1' },
        data: { name: 'integration', prefix: created.prefix, scopes: ['audit:read'] },
      }),
    ]);
    expect(await audits(created.id, 'api_key.revoked')).toHaveLength(1);
  });

  it('refuses a key from the moment it expires', async () => {
    fakeDate();
    const tenant = randomUUID();
    const created = await create(tenant, {
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await expect(service.verify(created.key)).resolves.toMatchObject({ id: created.id });
    advance(60);
    await expect(service.verify(created.key)).rejects.toMatchObject(INVALID);
  });

  it('rotates: the old key works until the overlap ends, then only the new one', async () => {
    fakeDate();
    const tenant = randomUUID();
    const old = await create(tenant);
    const rotatedAt = Date.now();
    const fresh = await service.rotate({ tenantId: tenant, keyId: old.id, overlapSeconds: 300 });
    expect(fresh).toMatchObject({ rotatedFrom: old.id, name: old.name, scopes: old.scopes });
    expect((await stored(tenant, old.id)).expiresAt).toEqual(new Date(rotatedAt + 300_000));
    expect((await stored(tenant, fresh.id)).rotatedFrom).toBe(old.id);

    advance(299);
    await expect(service.verify(old.key)).resolves.toMatchObject({ id: old.id });
    await expect(service.verify(fresh.key)).resolves.toMatchObject({ id: fresh.id });
    advance(1);
    await expect(service.verify(old.key)).rejects.toMatchObject(INVALID);
    await expect(service.verify(fresh.key)).resolves.toMatchObject({ id: fresh.id });
    await expect(
      service.rotate({ tenantId: tenant, keyId: old.id, overlapSeconds: 0 }),
    ).rejects.toMatchObject({ code: ErrorCode.Conflict });
    expect(await audits(old.id, 'api_key.rotated')).toHaveLength(1);
  });

  it("never verifies tenant A's key under tenant B's rows, nor shows it to B", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const created = await create(a);
    await create(b);

    expect(await repository.findByPrefix(b, created.prefix)).toBeNull();
    await expect(service.get({ tenantId: b, keyId: created.id })).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'API_KEY_NOT_FOUND',
    });
    await expect(service.revoke({ tenantId: b, keyId: created.id })).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
    expect((await service.list({ tenantId: b, limit: 50 })).items.map((k) => k.id)).not.toContain(
      created.id,
    );
    // Without a tenant, api_keys looks empty.
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM api_keys`)).toEqual([{ n: 0 }]);

    // A lookup row pointing the prefix at tenant B: the read under B's RLS finds nothing.
    await dataSource.query(`UPDATE credential_lookup SET tenant_id = $1 WHERE public_id = $2`, [
      b,
      created.prefix,
    ]);
    await expect(service.verify(created.key)).rejects.toMatchObject(INVALID);
    await dataSource.query(`UPDATE credential_lookup SET tenant_id = $1 WHERE public_id = $2`, [
      a,
      created.prefix,
    ]);
    await expect(service.verify(created.key)).resolves.toMatchObject({ tenantId: a });
  });

  it('refuses a prefix that is taken, in any tenant, writing nothing', async () => {
    const tenant = randomUUID();
    const created = await create(tenant);
    const other = randomUUID();
    const clash = Object.assign(new ApiKeyEntity(), {
      ...(await stored(tenant, created.id)),
      id: randomUUID(),
      tenantId: other,
      secretHash: hashApiKey(generateApiKey().key),
    });
    expect(await repository.insert(clash, [])).toBe(false);
    expect(await repository.findById(other, clash.id)).toBeNull();
  });

  it('writes last_used_at in a batch, and audits each first use once across instances', async () => {
    fakeDate();
    const [a, b] = [randomUUID(), randomUUID()];
    const keyA = await create(a);
    const keyB = await create(b);
    const firstUse = new Date();
    await service.verify(keyA.key);
    advance(2);
    const lastUse = new Date();
    await service.verify(keyA.key);
    await service.verify(keyB.key);
    // A second instance verifies the same key in the same window.
    const replica = newService();
    await replica.verify(keyA.key);

    expect((await stored(a, keyA.id)).lastUsedAt).toBeNull();
    await Promise.all([service.flushUses(), replica.flushUses()]);
    expect((await stored(a, keyA.id)).lastUsedAt).toEqual(lastUse);
    expect((await stored(b, keyB.id)).lastUsedAt).toEqual(lastUse);
    expect(firstUse.getTime()).toBeLessThan(lastUse.getTime());

    advance(10);
    await service.verify(keyA.key);
    await service.flushUses();
    expect((await stored(a, keyA.id)).lastUsedAt).toEqual(new Date(lastUse.getTime() + 10_000));

    for (const key of [keyA, keyB]) {
      expect(await audits(key.id, 'api_key.first_used')).toEqual([
        expect.objectContaining({ actor: { type: 'api_key', id: key.id } }),
      ]);
    }
    expect((await service.get({ tenantId: a, keyId: keyA.id })).lastUsedAt).toBe(
      new Date(lastUse.getTime() + 10_000).toISOString(),
    );
  });

  it('verifies a platform key with tenantId null, and lists it under the platform', async () => {
    const created: CreatedApiKey = await create(PLATFORM_TENANT_ID);
    expect(created.tenantId).toBeNull();
    await expect(service.verify(created.key)).resolves.toMatchObject({
      kind: 'api_key',
      id: created.id,
      tenantId: null,
    });
    const page = await service.list({ tenantId: PLATFORM_TENANT_ID, limit: 50 });
    expect(page.items.map((k) => k.id)).toContain(created.id);
  });

  it('lists newest first across pages', async () => {
    const tenant = randomUUID();
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) ids.push((await create(tenant, { name })).id);
    const first = await service.list({ tenantId: tenant, limit: 2 });
    const second = await service.list({ tenantId: tenant, limit: 2, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((k) => k.id)).toEqual([...ids].reverse());
    expect(second.nextCursor).toBeNull();
  });
});
