import { InjectRepository } from '@nestjs/typeorm';
import { Inject, Injectable } from '@nestjs/common';
import {
  addToOutbox,
  Sql,
  type OutboxMessage,
  type PreparedStatement,
} from '@tenantry/persistence';
import type { Repository } from 'typeorm';
import { TenantEntity } from './tenant.entity.js';

const UNIQUE_VIOLATION = '23505';

interface TenantRow {
  id: string;
  name: string;
  slug: string;
  status: TenantEntity['status'];
  created_at: Date;
  updated_at: Date;
}

const TENANT_BY_ID: PreparedStatement = {
  name: 'tenants.by-id',
  text: 'SELECT id, name, slug, status, created_at, updated_at FROM tenants WHERE id = $1',
};
const TENANT_BY_SLUG: PreparedStatement = {
  name: 'tenants.by-slug',
  text: 'SELECT id, name, slug, status, created_at, updated_at FROM tenants WHERE slug = $1',
};

/** The only code that touches the tenants table. */
@Injectable()
export class TenantRepository {
  constructor(
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    @Inject(Sql) private readonly sql: Sql,
  ) {}

  /**
   * Inserts a tenant and its outgoing events in one transaction, so the events
   * exist exactly when the tenant does. Returns false when the slug is taken.
   */
  async insert(tenant: TenantEntity, events: OutboxMessage[]): Promise<boolean> {
    try {
      await this.tenants.manager.transaction(async (manager) => {
        await manager.insert(TenantEntity, tenant);
        await addToOutbox(manager, events);
      });
      return true;
    } catch (error) {
      const e = error as { driverError?: { code?: string; constraint?: string } };
      if (
        e.driverError?.code === UNIQUE_VIOLATION &&
        e.driverError.constraint === 'tenants_slug_unique'
      )
        return false;
      throw error;
    }
  }

  /** The hot path behind GET /v1/tenants/:id: one named prepared primary-key read. */
  async findById(id: string): Promise<TenantEntity | null> {
    return this.one(TENANT_BY_ID, id);
  }

  findBySlug(slug: string): Promise<TenantEntity | null> {
    return this.one(TENANT_BY_SLUG, slug);
  }

  private async one(statement: PreparedStatement, key: string): Promise<TenantEntity | null> {
    const [row] = await this.sql.rows<TenantRow>(statement, [key]);
    if (!row) return null;
    return Object.assign(new TenantEntity(), {
      id: row.id,
      name: row.name,
      slug: row.slug,
      status: row.status,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }

  /** Oldest first by id (UUIDv7, so creation order); `after` is the last id of the previous page. */
  list(limit: number, after?: string): Promise<TenantEntity[]> {
    const query = this.tenants.createQueryBuilder('t').orderBy('t.id', 'ASC').limit(limit);
    if (after) query.where('t.id > :after', { after });
    return query.getMany();
  }
}
