import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ErrorCode,
  PLATFORM_TENANT_ID,
  TenantRpc,
  tenantNotFound,
  type Tenant,
  type TenantStatus,
} from '@tenantry/contracts';
import { RpcClient } from '@tenantry/messaging';
import { LRUCache } from 'lru-cache';

/** What identity needs to know of a tenant: its id, slug and name, and whether it may sign in (status). */
export interface TenantRef {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  /** Why it is suspended or failed, when the tenants service says. */
  statusReason: string | null;
}

/** The platform "tenant" of operators; the tenants service has no row for it. */
export const PLATFORM_TENANT: TenantRef = {
  id: PLATFORM_TENANT_ID,
  slug: 'platform',
  name: 'the Tenantry platform',
  status: 'active',
  statusReason: null,
};

/**
 * The tenants service, asked over NATS (TenantRpc), with a one-minute cache of the
 * tenants found: a login with a slug costs no hop while the slug is cached. Unknown tenants
 * are not cached. A tenant's entry is dropped as soon as the tenants service announces a
 * change of it (TenantEventsFollower), so a suspension reaches sign-in within moments.
 * While the tenants service cannot be reached, `byId` answers the tenant as last seen
 * (fetched, or announced in its latest event), so sign-in does not stop with it.
 */
@Injectable()
export class TenantDirectory {
  private readonly logger = new Logger('TenantDirectory');
  private readonly cache = new LRUCache<string, TenantRef>({ max: 10_000, ttl: 60_000 });
  /** Every tenant as last seen, without expiry: the answer while the tenants service is unreachable. */
  private readonly lastSeen = new LRUCache<string, TenantRef>({ max: 10_000 });

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
    let found: Tenant | null;
    try {
      found = await this.orNull(this.rpc.request(TenantRpc.get, { id }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      const seen = this.lastSeen.get(id);
      if (!seen || (code !== ErrorCode.ServiceUnavailable && code !== ErrorCode.Timeout))
        throw error;
      this.logger.warn(
        `the tenants service did not answer for tenant ${id} (${(error as Error).message}): using it as last seen (${seen.status})`,
      );
      return seen;
    }
    const tenant = this.remember(found);
    if (!tenant) throw tenantNotFound(id);
    return tenant;
  }

  /**
   * Drops what is cached of the tenant (its status or settings changed): the next lookup
   * asks again. `latest`, the tenant as an event announced it, is what an outage of the
   * tenants service falls back to.
   */
  forget(id: string, latest?: Tenant): void {
    const cached = this.cache.get(`id:${id}`);
    this.cache.delete(`id:${id}`);
    if (cached) this.cache.delete(`slug:${cached.slug}`);
    if (latest) this.lastSeen.set(id, refOf(latest));
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
    const ref = refOf(tenant);
    this.cache.set(`slug:${ref.slug}`, ref);
    this.cache.set(`id:${ref.id}`, ref);
    this.lastSeen.set(ref.id, ref);
    return ref;
  }
}

function refOf(tenant: Tenant): TenantRef {
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    status: tenant.status,
    statusReason: tenant.statusReason,
  };
}
