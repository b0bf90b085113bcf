/**
 * Organizations inside tenants against real PostgreSQL (row-level security) and NATS: the
 * tree, cascading settings, resource paths, moves that refuse cycles and excess depth, and
 * another tenant that sees none of it.
 */
import {
  ErrorCode,
  MAX_ORGANIZATION_DEPTH,
  OrganizationRpc,
  PlanRpc,
  type Organization,
  type Tenant,
} from '@tenantry/contracts';
import { TenantTransactions } from '@tenantry/persistence';
import { TenantsHarness } from './tenants-core.harness.js';

describe('organizations (PostgreSQL + NATS)', () => {
  let h: TenantsHarness;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    h = await TenantsHarness.start();
    a = await h.createTenant({ slug: 'org-a', plan: 'professional' });
    b = await h.createTenant({ slug: 'org-b', plan: 'professional' });
  });

  afterAll(async () => {
    await h?.close();
  });

  const create = (
    tenant: Tenant,
    slug: string,
    parentId: string | null = null,
    settings: Record<string, unknown> = {},
  ) =>
    h.call(OrganizationRpc.create, {
      tenantId: tenant.id,
      name: slug.toUpperCase(),
      slug,
      parentId,
      settings,
    });

  it('builds a tree with resource paths and settings cascading from the root down', async () => {
    const emea = await create(a, 'emea', null, {
      locale: 'en',
      security: { mfa: false, sessionMinutes: 60 },
    });
    const sales = await create(a, 'sales', emea.id, { security: { mfa: true } });
    const berlin = await create(a, 'berlin', sales.id, { locale: 'de' });
    expect(berlin).toMatchObject({
      tenantId: a.id,
      parentId: sales.id,
      depth: 3,
      resourcePath: 'orgs/emea/sales/berlin',
      settings: { locale: 'de' },
      effectiveSettings: { locale: 'de', security: { mfa: true, sessionMinutes: 60 } },
    });
    expect(await h.call(OrganizationRpc.get, { tenantId: a.id, id: berlin.id })).toEqual(berlin);

    // Slugs are unique among siblings only.
    expect(
      await h.failure(OrganizationRpc.create, {
        tenantId: a.id,
        name: 'Sales again',
        slug: 'sales',
        parentId: emea.id,
      }),
    ).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'ORGANIZATION_SLUG_TAKEN',
      errors: [{ field: 'slug' }],
    });
    expect(
      await h.failure(OrganizationRpc.create, {
        tenantId: a.id,
        name: 'EMEA again',
        slug: 'emea',
      }),
    ).toMatchObject({ reason: 'ORGANIZATION_SLUG_TAKEN' });
    const otherSales = await create(a, 'sales', null);
    expect(otherSales.resourcePath).toBe('orgs/sales');
    expect(
      await h.failure(OrganizationRpc.create, {
        tenantId: a.id,
        name: 'Orphan',
        slug: 'orphan',
        parentId: '0193a0f0-0000-7000-8000-000000000000',
      }),
    ).toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'ORGANIZATION_PARENT_NOT_FOUND',
      errors: [{ field: 'parentId' }],
    });

    // A settings change cascades.
    await h.call(OrganizationRpc.update, {
      tenantId: a.id,
      id: emea.id,
      settings: { locale: 'en', security: { mfa: false, sessionMinutes: 30 } },
    });
    expect(
      (await h.call(OrganizationRpc.get, { tenantId: a.id, id: berlin.id })).effectiveSettings,
    ).toEqual({ locale: 'de', security: { mfa: true, sessionMinutes: 30 } });

    // Lists: tree order, the roots, the children of one, a subtree, page by page.
    const all = await h.call(OrganizationRpc.list, { tenantId: a.id });
    const slugs = (items: Organization[]) => items.map((o) => o.resourcePath);
    expect(slugs(all.items)).toEqual([
      'orgs/emea',
      'orgs/emea/sales',
      'orgs/emea/sales/berlin',
      'orgs/sales',
    ]);
    expect(
      slugs((await h.call(OrganizationRpc.list, { tenantId: a.id, parentId: 'root' })).items),
    ).toEqual(['orgs/emea', 'orgs/sales']);
    expect(
      slugs((await h.call(OrganizationRpc.list, { tenantId: a.id, parentId: emea.id })).items),
    ).toEqual(['orgs/emea/sales']);
    expect(
      slugs((await h.call(OrganizationRpc.list, { tenantId: a.id, under: emea.id })).items),
    ).toEqual(['orgs/emea/sales', 'orgs/emea/sales/berlin']);
    const first = await h.call(OrganizationRpc.list, { tenantId: a.id, limit: 3 });
    const rest = await h.call(OrganizationRpc.list, {
      tenantId: a.id,
      limit: 3,
      cursor: first.nextCursor!,
    });
    expect([...slugs(first.items), ...slugs(rest.items)]).toEqual(slugs(all.items));
    expect(rest.nextCursor).toBeNull();
  });

  it('moves a subtree, refusing a cycle, an excess depth and a slug its new siblings have', async () => {
    const root = await create(a, 'moves');
    const x = await create(a, 'x', root.id);
    const y = await create(a, 'y', x.id);
    const z = await create(a, 'z', y.id);

    for (const parentId of [x.id, y.id, z.id]) {
      const refused = await h.failure(OrganizationRpc.move, { tenantId: a.id, id: x.id, parentId });
      expect(refused).toMatchObject({
        code: ErrorCode.Conflict,
        reason: 'ORGANIZATION_MOVE_CYCLE',
        errors: [{ field: 'parentId' }],
      });
    }

    const other = await create(a, 'other');
    const moved = await h.call(OrganizationRpc.move, {
      tenantId: a.id,
      id: y.id,
      parentId: other.id,
    });
    expect(moved).toMatchObject({ parentId: other.id, depth: 2, resourcePath: 'orgs/other/y' });
    expect(await h.call(OrganizationRpc.get, { tenantId: a.id, id: z.id })).toMatchObject({
      depth: 3,
      resourcePath: 'orgs/other/y/z',
    });
    const top = await h.call(OrganizationRpc.move, { tenantId: a.id, id: y.id, parentId: null });
    expect(top).toMatchObject({ parentId: null, depth: 1, resourcePath: 'orgs/y' });
    await h.auditEvents((e) => e.action === 'organization.moved' && e.tenantId === a.id, 2);

    // A chain MAX deep: nothing more below it, and no subtree moved under it.
    let parent = await create(a, 'deep-1');
    for (let level = 2; level <= MAX_ORGANIZATION_DEPTH; level++) {
      parent = await create(a, `deep-${level}`, parent.id);
    }
    expect(parent.depth).toBe(MAX_ORGANIZATION_DEPTH);
    expect(
      await h.failure(OrganizationRpc.create, {
        tenantId: a.id,
        name: 'too deep',
        slug: 'too-deep',
        parentId: parent.id,
      }),
    ).toMatchObject({ reason: 'ORGANIZATION_TOO_DEEP' });
    expect(
      await h.failure(OrganizationRpc.move, { tenantId: a.id, id: y.id, parentId: parent.id }),
    ).toMatchObject({
      reason: 'ORGANIZATION_TOO_DEEP',
      message: `organizations are at most ${MAX_ORGANIZATION_DEPTH} levels deep; this would put one at level ${MAX_ORGANIZATION_DEPTH + 2}`,
    });

    // y goes back under the root, where a sibling is called y meanwhile.
    await create(a, 'y', root.id);
    expect(
      await h.failure(OrganizationRpc.move, { tenantId: a.id, id: y.id, parentId: root.id }),
    ).toMatchObject({ reason: 'ORGANIZATION_SLUG_TAKEN' });
  });

  it('deletes only leaves', async () => {
    const parent = await create(a, 'to-delete');
    const child = await create(a, 'leaf', parent.id);
    expect(
      await h.failure(OrganizationRpc.delete, { tenantId: a.id, id: parent.id }),
    ).toMatchObject({
      code: ErrorCode.Conflict,
      reason: 'ORGANIZATION_HAS_CHILDREN',
      message: `organization ${parent.id} has 1 child organization(s): delete or move them first`,
    });
    expect(await h.call(OrganizationRpc.delete, { tenantId: a.id, id: child.id })).toEqual({
      deleted: true,
    });
    expect(await h.call(OrganizationRpc.delete, { tenantId: a.id, id: parent.id })).toEqual({
      deleted: true,
    });
    expect(await h.failure(OrganizationRpc.get, { tenantId: a.id, id: parent.id })).toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'ORGANIZATION_NOT_FOUND',
    });
  });

  it('keeps each tenant’s organizations to itself (row-level security)', async () => {
    const mine = await create(a, 'private');
    const theirs = await create(b, 'private');
    expect(theirs.resourcePath).toBe('orgs/private');
    expect(await h.failure(OrganizationRpc.get, { tenantId: b.id, id: mine.id })).toMatchObject({
      code: ErrorCode.NotFound,
    });
    expect(
      await h.failure(OrganizationRpc.create, {
        tenantId: b.id,
        name: 'Under another tenant',
        slug: 'sneaky',
        parentId: mine.id,
      }),
    ).toMatchObject({ reason: 'ORGANIZATION_PARENT_NOT_FOUND' });
    expect(
      await h.failure(OrganizationRpc.move, { tenantId: b.id, id: theirs.id, parentId: mine.id }),
    ).toMatchObject({ reason: 'ORGANIZATION_PARENT_NOT_FOUND' });
    expect((await h.call(OrganizationRpc.list, { tenantId: b.id })).items.map((o) => o.id)).toEqual(
      [theirs.id],
    );

    // Row-level security itself, below the repository's own filters: B's transaction sees B's rows only.
    const tx = h.get(TenantTransactions);
    const count = (tenantId: string) =>
      tx.run(tenantId, async (m) => {
        const [row] = (await m.query(`SELECT count(*)::int AS n FROM organizations`)) as {
          n: number;
        }[];
        return row!.n;
      });
    const total = await h.sql<{ n: number }>(`SELECT count(*)::int AS n FROM organizations`);
    expect(await count(b.id)).toBe(1);
    expect(await count(a.id)).toBe(total[0]!.n - 1);
    expect(
      await tx.runGlobal(
        async (m) => (await m.query(`SELECT count(*)::int AS n FROM organizations`)) as unknown,
      ),
    ).toEqual([{ n: 0 }]);
    const sneaked = await tx
      .run(b.id, (m) =>
        m.query(`UPDATE organizations SET name = 'hacked' WHERE id = $1`, [mine.id]),
      )
      .then((r) => (r as [unknown, number])[1]);
    expect(sneaked).toBe(0);
  });

  it('refuses organizations to a tenant whose plan lacks the feature', async () => {
    await h.call(PlanRpc.update, {
      key: 'custom',
      features: ['sso', 'mfa', 'api-keys'],
    });
    const c = await h.createTenant({ slug: 'no-orgs', plan: 'custom' });
    expect(
      await h.failure(OrganizationRpc.create, { tenantId: c.id, name: 'X', slug: 'x' }),
    ).toMatchObject({
      code: ErrorCode.Forbidden,
      reason: 'ORGANIZATION_FEATURE_UNAVAILABLE',
    });
  });

  it('removes every organization of a tenant with its data', async () => {
    const gone = await h.createTenant({ slug: 'org-gone', plan: 'starter' });
    const top = await create(gone, 'top');
    await create(gone, 'child', top.id);
    const removed = await h
      .get(TenantTransactions)
      .runGlobal((manager) => h.tenants.removeTenantData(manager, gone.id));
    expect(removed).toEqual({
      organizations: 2,
      bulk_operations: 0,
      bulk_operation_items_scrubbed: 0,
      provisioning_runs_scrubbed: 0,
    });
    expect(await h.sql(`SELECT id FROM organizations WHERE tenant_id = $1`, [gone.id])).toEqual([]);
    // Other tenants keep theirs.
    expect((await h.call(OrganizationRpc.list, { tenantId: b.id })).items).toHaveLength(1);
  });
});
