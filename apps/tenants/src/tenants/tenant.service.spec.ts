import { jest } from '@jest/globals';
import { ErrorCode } from '@tenantry/contracts';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import { TenantEntity } from './tenant.entity.js';
import { TenantRepository } from './tenant.repository.js';
import { TenantService } from './tenant.service.js';

/** A TenantService over an in-memory table; `slugFree: false` makes every insert hit a taken slug. */
function setup({ slugFree = true } = {}) {
  const rows: TenantEntity[] = [];
  const committed: OutboxMessage[] = [];
  const kick = jest.fn<() => void>();
  const repository = double(TenantRepository, {
    insert: async (tenant, events) => {
      if (!slugFree) return false;
      rows.push(tenant);
      committed.push(...events);
      return true;
    },
    findById: async (id) => rows.find((r) => r.id === id) ?? null,
    list: async (limit, after) => rows.filter((r) => !after || r.id > after).slice(0, limit),
  });
  const service = new TenantService(repository, double(Outbox, { kick }));
  return { service, committed, kick };
}

describe('TenantService', () => {
  it('creates an active tenant with a UUIDv7 id, committing its audit and domain events with it', async () => {
    const { service, committed, kick } = setup();
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
    expect(kick).toHaveBeenCalled();
  });

  it('refuses a taken slug with CONFLICT naming the field, and announces nothing', async () => {
    const { service, kick } = setup({ slugFree: false });
    await expect(service.create({ name: 'Acme', slug: 'acme' })).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'TENANT_SLUG_TAKEN',
      errors: [{ field: 'slug', message: 'slug "acme" is already taken; choose another' }],
    });
    expect(kick).not.toHaveBeenCalled();
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
