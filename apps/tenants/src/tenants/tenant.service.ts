import { Inject, Injectable } from '@nestjs/common';
import {
  Cursor,
  TenantEvents,
  UuidSchema,
  type CreateTenantRequest,
  type PageQuery,
  type Tenant,
  type TenantPage,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { Outbox, outboxAuditFact, outboxEvent, type OutboxMessage } from '@tenantry/persistence';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { TenantEntity } from './tenant.entity.js';
import { TenantErrors } from './tenant.errors.js';
import { TenantRepository } from './tenant.repository.js';

const TenantCursor = z.tuple([UuidSchema]);

@Injectable()
export class TenantService {
  constructor(
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async create(request: CreateTenantRequest): Promise<Tenant> {
    const now = new Date();
    const entity = Object.assign(new TenantEntity(), {
      id: uuidv7(),
      name: request.name,
      slug: request.slug,
      status: 'active' as const,
      createdAt: now,
      updatedAt: now,
    });
    const tenant = toContract(entity);
    if (!(await this.tenants.insert(entity, this.announcements(tenant))))
      throw TenantErrors.slugTaken(request.slug);
    this.outbox.kick();
    return tenant;
  }

  async get(id: string): Promise<Tenant> {
    const entity = await this.tenants.findById(id);
    if (!entity) throw TenantErrors.notFound(id);
    return toContract(entity);
  }

  async getBySlug(slug: string): Promise<Tenant> {
    const entity = await this.tenants.findBySlug(slug);
    if (!entity) throw TenantErrors.slugNotFound(slug);
    return toContract(entity);
  }

  /** Oldest first (ids are UUIDv7); the cursor is the last id of the previous page. */
  async list({ limit, cursor }: PageQuery): Promise<TenantPage> {
    const after = cursor ? Cursor.decode(cursor, TenantCursor)[0] : undefined;
    const rows = await this.tenants.list(limit + 1, after);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toContract),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
    };
  }

  /** The audit entry and the domain event for a new tenant, committed with it through the outbox. */
  private announcements(tenant: Tenant): OutboxMessage[] {
    return [
      outboxAuditFact({
        tenantId: tenant.id,
        category: 'tenants',
        action: 'tenant.created',
        target: { type: 'tenant', id: tenant.id },
        data: { name: tenant.name, slug: tenant.slug },
        service: 'tenants',
      }),
      outboxEvent(
        TenantEvents.created.schema,
        TenantEvents.created.subject,
        tenant,
        `tenant-created:${tenant.id}`,
        messageContext.current(),
      ),
    ];
  }
}

function toContract(entity: TenantEntity): Tenant {
  return {
    id: entity.id,
    name: entity.name,
    slug: entity.slug,
    status: entity.status,
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
  };
}
