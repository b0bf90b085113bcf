import { uuidv7 } from '@tenantry/runtime';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  Cursor,
  MAX_ORGANIZATION_DEPTH,
  type Organization,
  type OrganizationRpc,
  type RpcPayload,
} from '@tenantry/contracts';
import { Outbox, outboxAuditFact, type OutboxMessage } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { TenantDataRemovers } from '../tenants/tenant-data.js';
import { TenantErrors } from '../tenants/tenant.errors.js';
import { TenantService } from '../tenants/tenant.service.js';
import {
  cascadeSettings,
  childPath,
  moveRefusal,
  pathIds,
  resourcePathOf,
} from './organization-tree.js';
import { OrganizationEntity } from './organization.entity.js';
import { OrganizationErrors } from './organization.errors.js';
import { OrganizationRepository, type OrganizationFilter } from './organization.repository.js';

type CreateRequest = RpcPayload<typeof OrganizationRpc.create>;
type ListRequest = RpcPayload<typeof OrganizationRpc.list>;
type UpdateRequest = RpcPayload<typeof OrganizationRpc.update>;
type MoveRequest = RpcPayload<typeof OrganizationRpc.move>;
type OrganizationRef = RpcPayload<typeof OrganizationRpc.get>;

const PathCursor = z.tuple([z.string().regex(/^([0-9a-f-]{36}\/)+$/)]);

/**
 * Organizations inside a tenant: a tree (materialized paths) with cascading settings,
 * moves that refuse cycles and depths beyond MAX_ORGANIZATION_DEPTH, slugs unique among
 * siblings, and each node's resource path for role bindings scoped to its subtree.
 */
@Injectable()
export class OrganizationService implements OnModuleInit {
  constructor(
    @Inject(OrganizationRepository) private readonly organizations: OrganizationRepository,
    @Inject(TenantService) private readonly tenants: TenantService,
    @Inject(TenantDataRemovers) private readonly removers: TenantDataRemovers,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /** A tenant's export before deletion holds its organizations; deleting its data deletes them. */
  onModuleInit(): void {
    this.removers.register(
      'organizations',
      async (manager, tenantId) => ({
        organizations: await this.organizations.removeAll(manager, tenantId),
      }),
      async (tenantId) => ({
        organizations: await this.organizations.read(tenantId, async (manager) => {
          const all: OrganizationEntity[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await this.organizations.list(manager, tenantId, {}, 500, after);
            all.push(...page);
            if (page.length < 500) return all;
            after = page[page.length - 1]!.path;
          }
        }),
      }),
    );
  }

  async create(request: CreateRequest): Promise<Organization> {
    const { tenantId, parentId, slug } = request;
    await this.requireTenant(tenantId);
    const created = await this.organizations.locked(tenantId, async (m) => {
      const parent = parentId ? await this.organizations.find(m, tenantId, parentId) : null;
      if (parentId && !parent) throw OrganizationErrors.parentNotFound(parentId);
      const depth = (parent?.depth ?? 0) + 1;
      if (depth > MAX_ORGANIZATION_DEPTH)
        throw OrganizationErrors.tooDeep(depth, MAX_ORGANIZATION_DEPTH, 'parentId');
      if (await this.organizations.slugTaken(m, tenantId, parentId, slug))
        throw OrganizationErrors.slugTaken(slug, parentId);
      const now = new Date();
      const id = uuidv7();
      const organization = Object.assign(new OrganizationEntity(), {
        id,
        tenantId,
        parentId,
        slug,
        name: request.name,
        path: childPath(parent, id),
        depth,
        settings: request.settings,
        createdAt: now,
        updatedAt: now,
      });
      await this.organizations.insert(m, organization, [
        audit(organization, 'organization.created', { parentId, slug, name: request.name }),
      ]);
      return this.view(m, organization);
    });
    this.outbox.kick();
    return created;
  }

  get({ tenantId, id }: OrganizationRef): Promise<Organization> {
    return this.organizations.read(tenantId, async (m) =>
      this.view(m, await this.existing(m, tenantId, id)),
    );
  }

  /** In tree order (depth first); `parentId` (or `root`) narrows to children, `under` to a subtree. */
  list(request: ListRequest): Promise<{ items: Organization[]; nextCursor: string | null }> {
    const { tenantId, limit, cursor, parentId, under } = request;
    const afterPath = cursor ? Cursor.decode(cursor, PathCursor)[0] : undefined;
    return this.organizations.read(tenantId, async (m) => {
      const filter: OrganizationFilter = {};
      if (parentId) filter.parentId = parentId === 'root' ? null : parentId;
      if (under) filter.underPath = (await this.existing(m, tenantId, under, 'under')).path;
      const rows = await this.organizations.list(m, tenantId, filter, limit + 1, afterPath);
      const page = rows.slice(0, limit);
      return {
        items: await this.views(m, tenantId, page),
        nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.path]) : null,
      };
    });
  }

  /** Changes the name or replaces the organization's own settings. */
  async update(request: UpdateRequest): Promise<Organization> {
    const { tenantId, id } = request;
    const updated = await this.organizations.locked(tenantId, async (m) => {
      const current = await this.existing(m, tenantId, id);
      const next = Object.assign(new OrganizationEntity(), current, {
        name: request.name ?? current.name,
        settings: request.settings ?? current.settings,
        updatedAt: new Date(),
      });
      const changed = (['name', 'settings'] as const).filter(
        (f) => JSON.stringify(current[f]) !== JSON.stringify(next[f]),
      );
      if (!changed.length) return this.view(m, current);
      await this.organizations.update(m, next, [
        audit(next, 'organization.updated', {
          changed,
          before: Object.fromEntries(changed.map((f) => [f, current[f]])),
          after: Object.fromEntries(changed.map((f) => [f, next[f]])),
        }),
      ]);
      return this.view(m, next);
    });
    this.outbox.kick();
    return updated;
  }

  /**
   * Moves the organization and its subtree under `parentId` (to the top level with null).
   * Refused: under itself or its own subtree (a cycle), deeper than MAX_ORGANIZATION_DEPTH
   * anywhere in the subtree, or a slug its new siblings have.
   */
  async move(request: MoveRequest): Promise<Organization> {
    const { tenantId, id, parentId } = request;
    const moved = await this.organizations.locked(tenantId, async (m) => {
      const node = await this.existing(m, tenantId, id);
      if (node.parentId === parentId) return this.view(m, node);
      const parent = parentId ? await this.organizations.find(m, tenantId, parentId) : null;
      if (parentId && !parent) throw OrganizationErrors.parentNotFound(parentId);
      const refusal = moveRefusal(
        node,
        parent,
        await this.organizations.deepestUnder(m, tenantId, node.path),
      );
      if (refusal?.kind === 'cycle') throw OrganizationErrors.moveCycle(id, parentId!);
      if (refusal?.kind === 'too-deep')
        throw OrganizationErrors.tooDeep(refusal.deepest, refusal.max, 'parentId');
      if (await this.organizations.slugTaken(m, tenantId, parentId, node.slug, node.id))
        throw OrganizationErrors.slugTaken(node.slug, parentId);
      const newPath = childPath(parent, node.id);
      const depthDelta = (parent?.depth ?? 0) + 1 - node.depth;
      const at = new Date();
      await this.organizations.move(m, node, parentId, newPath, depthDelta, at, [
        audit(node, 'organization.moved', { from: node.parentId, to: parentId }),
      ]);
      return this.view(m, (await this.organizations.find(m, tenantId, id))!);
    });
    this.outbox.kick();
    return moved;
  }

  /** Deletes a leaf organization; one with children is refused. */
  async delete({ tenantId, id }: OrganizationRef): Promise<{ deleted: true }> {
    await this.organizations.locked(tenantId, async (m) => {
      const node = await this.existing(m, tenantId, id);
      const children = await this.organizations.childCount(m, tenantId, id);
      if (children) throw OrganizationErrors.hasChildren(id, children);
      await this.organizations.delete(m, tenantId, id, [
        audit(node, 'organization.deleted', { slug: node.slug, parentId: node.parentId }),
      ]);
    });
    this.outbox.kick();
    return { deleted: true };
  }

  /** The tenant exists (not deleted) and its plan includes organizations. */
  private async requireTenant(tenantId: string): Promise<void> {
    const tenant = await this.tenants.get(tenantId);
    if (tenant.status === 'deleted') throw TenantErrors.notFound(tenantId);
    if (!tenant.features.includes('organizations'))
      throw OrganizationErrors.featureUnavailable(tenant.slug, tenant.plan);
  }

  private async existing(
    m: EntityManager,
    tenantId: string,
    id: string,
    field?: string,
  ): Promise<OrganizationEntity> {
    const organization = await this.organizations.find(m, tenantId, id);
    if (!organization) throw OrganizationErrors.notFound(id, field);
    return organization;
  }

  private async view(m: EntityManager, organization: OrganizationEntity): Promise<Organization> {
    const [view] = await this.views(m, organization.tenantId, [organization]);
    return view!;
  }

  /** The organizations as the contract has them, their ancestors read in one query. */
  private async views(
    m: EntityManager,
    tenantId: string,
    organizations: OrganizationEntity[],
  ): Promise<Organization[]> {
    const known = new Map(organizations.map((o) => [o.id, o]));
    const missing = [
      ...new Set(organizations.flatMap((o) => pathIds(o.path)).filter((id) => !known.has(id))),
    ];
    for (const ancestor of await this.organizations.findMany(m, tenantId, missing))
      known.set(ancestor.id, ancestor);
    return organizations.map((o) => {
      const chain = pathIds(o.path).map((id) => known.get(id)!);
      return {
        id: o.id,
        tenantId: o.tenantId,
        parentId: o.parentId,
        slug: o.slug,
        name: o.name,
        depth: o.depth,
        resourcePath: resourcePathOf(chain.map((c) => c.slug)),
        settings: o.settings,
        effectiveSettings: cascadeSettings(chain.map((c) => c.settings)),
        createdAt: o.createdAt.toISOString(),
        updatedAt: o.updatedAt.toISOString(),
      };
    });
  }
}

function audit(
  organization: OrganizationEntity,
  action: string,
  data: Record<string, unknown>,
): OutboxMessage {
  return outboxAuditFact({
    tenantId: organization.tenantId,
    category: 'organizations',
    action,
    target: { type: 'organization', id: organization.id },
    data,
    service: 'tenants',
  });
}
