import { uuidv7 } from '@tenantry/runtime';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  Cursor,
  DOMAIN_VERIFICATION_LABEL,
  DOMAIN_VERIFICATION_VALUE_PREFIX,
  parseActor,
  PLATFORM_TENANT_ID,
  UuidSchema,
  type Domain,
  type DomainRpc,
  type RpcPayload,
  type RpcResponse,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import { Outbox, outboxAuditFact, type OutboxMessage } from '@tenantry/persistence';
import { z } from 'zod';
import { DnsResolver } from './dns-resolver.js';
import { domainOrNull, isFreeMailDomain, normalizeDomain } from './domain-name.js';
import { DomainEntity } from './domain.entity.js';
import { DomainErrors } from './domain.errors.js';
import { DomainRepository } from './domain.repository.js';

const DomainCursor = z.tuple([UuidSchema]);
/** 24 random bytes: 32 base64url characters in the TXT value. */
const TOKEN_BYTES = 24;

type Request<K extends keyof typeof DomainRpc> = RpcPayload<(typeof DomainRpc)[K]>;

/** Where the verification record of `domain` lives. */
export function verificationName(domain: string): string {
  return `${DOMAIN_VERIFICATION_LABEL}.${domain}`;
}

/** The value the verification record must have. */
export function verificationValue(token: string): string {
  return `${DOMAIN_VERIFICATION_VALUE_PREFIX}${token}`;
}

/**
 * Email domains a tenant claims and proves with a DNS TXT record. Several tenants may
 * claim a domain; one at a time holds it verified (verified_domains). For the sign-in
 * flows: `verifiedTenantOf` (which tenant an email's domain belongs to) and `isVerified`.
 */
@Injectable()
export class DomainService {
  constructor(
    @Inject(DomainRepository) private readonly domains: DomainRepository,
    @Inject(DnsResolver) private readonly dns: DnsResolver,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /**
   * A pending claim with a fresh token. The name is normalized (lowercase, punycode);
   * public email providers are refused (DOMAIN_FREE_MAIL), as is a domain the tenant
   * claimed already (DOMAIN_ALREADY_CLAIMED).
   */
  async create({ tenantId, domain: input }: Request<'create'>): Promise<Domain> {
    const domain = normalizeDomain(input);
    if (isFreeMailDomain(domain)) throw DomainErrors.freeMail(domain);
    const entity = Object.assign(new DomainEntity(), {
      id: uuidv7(),
      tenantId,
      domain,
      verificationToken: randomBytes(TOKEN_BYTES).toString('base64url'),
      createdAt: new Date(),
      verifiedAt: null,
    });
    if (!(await this.domains.insert(entity, [this.audit('domain.created', entity)]))) {
      const existing = await this.domains.findByName(tenantId, domain);
      throw DomainErrors.alreadyClaimed(domain, existing?.id ?? 'unknown');
    }
    this.outbox.kick();
    return toContract(entity);
  }

  async get({ tenantId, domainId }: Request<'get'>): Promise<Domain> {
    const entity = await this.domains.findById(tenantId, domainId);
    if (!entity) throw DomainErrors.notFound(domainId);
    return toContract(entity);
  }

  /** Newest first (ids are UUIDv7); the cursor is the last id of the previous page. */
  async list({
    tenantId,
    limit,
    cursor,
  }: Request<'list'>): Promise<RpcResponse<typeof DomainRpc.list>> {
    const before = cursor ? Cursor.decode(cursor, DomainCursor)[0] : undefined;
    const rows = await this.domains.list(tenantId, limit + 1, before);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toContract),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
    };
  }

  /**
   * Looks the domain's TXT record up now. Verified: the domain, audited (domain.verified).
   * Otherwise DOMAIN_VERIFICATION_FAILED naming the record expected and what DNS answered,
   * DOMAIN_DNS_UNAVAILABLE when DNS could not be asked, DOMAIN_VERIFIED_ELSEWHERE when
   * another tenant holds it. A domain verified already is returned without a lookup.
   */
  async verify({ tenantId, domainId }: Request<'verify'>): Promise<Domain> {
    const claim = await this.domains.findById(tenantId, domainId);
    if (!claim) throw DomainErrors.notFound(domainId);
    if (claim.verifiedAt) return toContract(claim);
    const holder = await this.domains.verifiedTenantOf(claim.domain);
    if (holder !== null && holder !== tenantId) throw DomainErrors.verifiedElsewhere(claim.domain);
    const name = verificationName(claim.domain);
    const expected = verificationValue(claim.verificationToken);
    const found = await this.dns.txt(name);
    if (!found.some((value) => value.trim() === expected))
      throw DomainErrors.verificationFailed(name, expected, found);
    const result = await this.domains.verify(tenantId, domainId, new Date(), (verified) => [
      this.audit('domain.verified', verified, { record: name }),
    ]);
    if (!result) throw DomainErrors.notFound(domainId);
    if (result.outcome === 'elsewhere') throw DomainErrors.verifiedElsewhere(claim.domain);
    if (result.verifiedNow) this.outbox.kick();
    return toContract(result.domain);
  }

  /** Deletes a claim, audited (domain.deleted); a verified domain becomes free for other tenants. */
  async delete({ tenantId, domainId }: Request<'delete'>): Promise<{ deleted: true }> {
    const deleted = await this.domains.delete(tenantId, domainId, (domain) => [
      this.audit('domain.deleted', domain, { wasVerified: domain.verifiedAt !== null }),
    ]);
    if (!deleted) throw DomainErrors.notFound(domainId);
    this.outbox.kick();
    return { deleted: true };
  }

  /**
   * The tenant holding `domain` verified (any spelling: it is normalized first), or null
   * when none does or it is not a valid domain. Exact match: a subdomain is a domain of its own.
   */
  async verifiedTenantOf(domain: string): Promise<string | null> {
    const normalized = domainOrNull(domain);
    return normalized === null ? null : this.domains.verifiedTenantOf(normalized);
  }

  /** Whether `tenantId` holds `domain` verified. */
  async isVerified(tenantId: string, domain: string): Promise<boolean> {
    return (await this.verifiedTenantOf(domain)) === tenantId;
  }

  /**
   * An audit entry about a domain (category domains); the actor comes from the request
   * context. An operator acting on a real tenant's domain is marked `crossTenant: true`.
   */
  private audit(
    action: string,
    domain: DomainEntity,
    extra: Record<string, unknown> = {},
  ): OutboxMessage {
    const context = messageContext.current();
    const crossTenant =
      parseActor(context?.actor)?.type === 'operator' && domain.tenantId !== PLATFORM_TENANT_ID;
    return outboxAuditFact(
      {
        tenantId: domain.tenantId,
        category: 'domains',
        action,
        target: { type: 'domain', id: domain.id },
        data: { domain: domain.domain, ...extra, ...(crossTenant ? { crossTenant: true } : {}) },
        service: 'identity',
      },
      context,
    );
  }
}

export function toContract(entity: DomainEntity): Domain {
  return {
    id: entity.id,
    tenantId: entity.tenantId,
    domain: entity.domain,
    status: entity.verifiedAt ? 'verified' : 'pending',
    verification: {
      type: 'TXT',
      name: verificationName(entity.domain),
      value: verificationValue(entity.verificationToken),
    },
    verifiedAt: entity.verifiedAt?.toISOString() ?? null,
    createdAt: entity.createdAt.toISOString(),
  };
}
