import { Inject, Injectable } from '@nestjs/common';
import {
  TenantEvents,
  type CreateTenantRequest,
  type Tenant,
  type TenantPage,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { Outbox, outboxAudit, outboxEvent, type OutboxMessage } from '@tenantry/persistence';
import { v7 as uuidv7 } from 'uuid';
import { TenantEntity } from './tenant.entity.js';
import { TenantError } from './tenant.exception.js';
import { TenantRepository } from './tenant.repository.js';

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
      throw TenantError.slugTaken(request.slug);
    this.outbox.kick();
    return tenant;
  }

  async get(id: string): Promise<Tenant> {
    const entity = await this.tenants.findById(id);
    if (!entity) throw TenantError.notFound(id);
    return toContract(entity);
  }

  async list(limit: number, cursor?: string): Promise<TenantPage> {
    const after = cursor ? decodeCursor(cursor) : undefined;
    const rows = await this.tenants.list(limit + 1, after);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toContract),
      nextCursor:
        rows.length > limit ? Buffer.from(page[page.length - 1]!.id).toString('base64url') : null,
    };
  }

  /** The audit entry and the domain event for a new tenant, committed with it through the outbox. */
  private announcements(tenant: Tenant): OutboxMessage[] {
    const context = messageContext.current();
    return [
      outboxAudit(
        {
          schemaVersion: 1,
          id: uuidv7(),
          tenantId: tenant.id,
          occurredAt: tenant.createdAt,
          category: 'tenants',
          action: 'tenant.created',
          outcome: 'success',
          actor: { type: context?.actor ? 'user' : 'system', id: context?.actor ?? 'tenants' },
          target: { type: 'tenant', id: tenant.id },
          requestId: context?.requestId,
          data: { name: tenant.name, slug: tenant.slug },
        },
        context && { ...context, tenantId: tenant.id },
      ),
      outboxEvent(
        TenantEvents.created.schema,
        TenantEvents.created.subject,
        tenant,
        `tenant-created:${tenant.id}`,
        context,
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

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
    throw TenantError.invalidCursor();
  return id;
}
