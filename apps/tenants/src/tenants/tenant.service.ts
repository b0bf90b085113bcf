import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  TenantEvents,
  type CreateTenantRequest,
  type Tenant,
  type TenantPage,
} from '@tenantry/contracts';
import { EventPublisher, messageContext } from '@tenantry/messaging';
import { v7 as uuidv7 } from 'uuid';
import { TenantEntity } from './tenant.entity.js';
import { TenantError } from './tenant.exception.js';
import { TenantRepository } from './tenant.repository.js';

@Injectable()
export class TenantService {
  private readonly logger = new Logger(TenantService.name);

  constructor(
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(EventPublisher) private readonly events: EventPublisher,
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
    if (!(await this.tenants.insert(entity))) throw TenantError.slugTaken(request.slug);
    const tenant = toContract(entity);
    await this.announce(tenant);
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

  /** The audit entry and the domain event for a new tenant. */
  private async announce(tenant: Tenant): Promise<void> {
    const context = messageContext.current();
    await Promise.all([
      this.events.publishAudit({
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
      }),
      this.events.publish(TenantEvents.created.schema, TenantEvents.created.subject, tenant, {
        msgId: `tenant-created:${tenant.id}`,
      }),
    ]).catch((error: Error) => {
      this.logger.error(
        `tenant ${tenant.id} created, but its events were not published: ${error.message}`,
      );
      throw error;
    });
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
