import { Inject, Injectable } from '@nestjs/common';
import {
  ErrorCode,
  PLATFORM_TENANT_ID,
  TenantRpc,
  tenantNotFound,
  type Tenant,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { LRUCache } from 'lru-cache';

/** What identity needs to know of a tenant: its id, slug and name. */
export interface TenantRef {
  id: string;
  slug: string;
  name: string;
}

/** The platform "tenant" of operators; the tenants service has no row for it. */
export const PLATFORM_TENANT: TenantRef = {
  id: PLATFORM_TENANT_ID,
  slug: 'platform',
  name: 'the Tenantry platform',
};

/**
 * The tenants service, asked over NATS (TenantRpc), with a one-minute cache of the
 * tenants found: a login with a slug costs no hop while the slug is cached (slugs never
 * change). Unknown tenants are not cached.
 */
@Injectable()
export class TenantDirectory {
  private readonly cache = new LRUCache<string, TenantRef>({ max: 10_000, ttl: 60_000 });

  constructor(@Inject(RpcClient) private readonly rpc: RpcClient) {}

  /** The tenant with this slug, or null when there is none; other failures (tenants down) throw. */
  async bySlug(slug: string): Promise<TenantRef | null> {
    const cached = this.cache.get(`slug:${slug}`);
    if (cached) return cached;
    return this.remember(await this.orNull(this.rpc.request(TenantRpc.getBySlug, { slug })));
  }

  /** The tenant with this id (the platform tenant included); NOT_FOUND (tenantNotFound) when there is none. */
  async byId(id: string): Promise<TenantRef> {
    if (id === PLATFORM_TENANT_ID) return PLATFORM_TENANT;
    const cached = this.cache.get(`id:${id}`);
    if (cached) return cached;
    const tenant = this.remember(await this.orNull(this.rpc.request(TenantRpc.get, { id })));
    if (!tenant) throw tenantNotFound(id);
    return tenant;
  }

  private async orNull(request: Promise<Tenant>): Promise<Tenant | null> {
    try {
      return await request;
    } catch (error) {
      if ((error as { code?: string }).code === ErrorCode.NotFound) return null;
      throw error;
    }
  }

  private remember(tenant: Tenant | null): TenantRef | null {
    if (!tenant) return null;
    const ref = { id: tenant.id, slug: tenant.slug, name: tenant.name };
    this.cache.set(`slug:${ref.slug}`, ref);
    this.cache.set(`id:${ref.id}`, ref);
    return ref;
  }
}
