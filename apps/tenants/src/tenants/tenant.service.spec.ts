import { jest } from '@jest/globals';
import { ErrorCode } from '@tenantry/contracts';
import type { Outbox, OutboxMessage } from '@tenantry/persistence';
import { TenantEntity } from './tenant.entity.js';
import type { TenantRepository } from './tenant.repository.js';
import { TenantService } from './tenant.service.js';

function setup(insertResult = true) {
  const rows: TenantEntity[] = [];
  const committed: OutboxMessage[] = [];
  const repository = {
    insert: jest.fn(async (t: TenantEntity, events: OutboxMessage[]) => {
      if (insertResult) {
        rows.push(t);
        committed.push(...events);
      }
      return insertResult;
    }),
    findById: jest.fn(async (id: string) => rows.find((r) => r.id === id) ?? null),
    list: jest.fn(async (limit: number, after?: string) =>
      rows.filter((r) => !after || r.id > after).slice(0, limit),
    ),
  };
  const outbox = { kick: jest.fn() };
  const service = new TenantService(
    repository as unknown as TenantRepository,
    outbox as unknown as Outbox,
  );
  return { service, repository, outbox, committed, rows };
}

describe('TenantService', () => {
  it('creates an active tenant with a UUIDv7 id, committing its audit and domain events with it', async () => {
    const { service, committed, outbox } = setup();
    const tenant = await service.create({ name: 'Acme', slug: 'acme' });
    expect(tenant).toMatchObject({ name: 'Acme', slug: 'acme', status: 'active' });
    expect(tenant.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(committed).toHaveLength(2);
    const [audit, domain] = committed;
    expect(audit!.subject).toBe(`audit.${tenant.id}.tenants`);
    expect(audit!.payload).toMatchObject({
      tenantId: tenant.id,
      action: 'tenant.created',
      category: 'tenants',
    });
    expect(audit!.msgId).toBe((audit!.payload as { id: string }).id);
    expect(domain).toMatchObject({
      subject: 'evt.tenants.tenant.created',
      payload: tenant,
      msgId: `tenant-created:${tenant.id}`,
    });
    expect(outbox.kick).toHaveBeenCalled();
  });

  it('refuses a taken slug with CONFLICT naming the field, and announces nothing', async () => {
    const { service, outbox } = setup(false);
    await expect(service.create({ name: 'Acme', slug: 'acme' })).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_SLUG_TAKEN',
      errors: [{ field: 'slug', message: 'slug "acme" is already taken; choose another' }],
    });
    expect(outbox.kick).not.toHaveBeenCalled();
  });

  it('says NOT_FOUND for an unknown id', async () => {
    const { service } = setup();
    await expect(service.get('0193a0f0-0000-7000-8000-000000000000')).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
  });

  it('pages with an opaque cursor and rejects a forged one', async () => {
    const { service } = setup();
    for (const slug of ['a', 'b', 'c']) await service.create({ name: slug, slug });
    const first = await service.list({ limit: 2 });
    expect(first.items.map((t) => t.slug)).toEqual(['a', 'b']);
    const second = await service.list({ limit: 2, cursor: first.nextCursor! });
    expect(second).toMatchObject({ items: [{ slug: 'c' }], nextCursor: null });
    await expect(service.list({ limit: 2, cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
    });
  });
});
