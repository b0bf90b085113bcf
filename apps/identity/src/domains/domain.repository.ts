import { Inject, Injectable } from '@nestjs/common';
import {
  addToOutbox,
  Sql,
  TenantTransactions,
  type OutboxMessage,
  type PreparedStatement,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { DomainEntity } from './domain.entity.js';

const UNIQUE_VIOLATION = '23505';
const TENANT_DOMAIN_UNIQUE = 'domains_tenant_domain_unique';

const COLUMNS = 'id, tenant_id, domain, verification_token, created_at, verified_at';

interface DomainRow {
  id: string;
  tenant_id: string;
  domain: string;
  verification_token: string;
  created_at: Date;
  verified_at: Date | null;
}

const VERIFIED_TENANT_OF: PreparedStatement = {
  name: 'domains.verified-tenant-of',
  text: 'SELECT tenant_id FROM verified_domains WHERE domain = $1',
};

/** How a verification ended: verified (now or before), held by another tenant, or no such domain. */
export type VerifyOutcome =
  | { outcome: 'verified'; domain: DomainEntity; verifiedNow: boolean }
  | { outcome: 'elsewhere' }
  | null;

/**
 * The only code that touches domains and verified_domains. domains is read and written
 * under the tenant's row-level security (and still filtered by tenant_id); verified_domains
 * is platform level, read with prepared statements and written in the tenant's
 * transaction that verifies the domain.
 */
@Injectable()
export class DomainRepository {
  constructor(
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Sql) private readonly sql: Sql,
  ) {}

  /** Inserts a claim with its announcements; false when the tenant already claimed that domain. */
  async insert(domain: DomainEntity, events: OutboxMessage[]): Promise<boolean> {
    try {
      return await this.tx.run(domain.tenantId, async (manager) => {
        await manager.insert(DomainEntity, domain);
        await addToOutbox(manager, events);
        return true;
      });
    } catch (error) {
      const e = error as { driverError?: { code?: string; constraint?: string } };
      if (
        e.driverError?.code === UNIQUE_VIOLATION &&
        e.driverError.constraint === TENANT_DOMAIN_UNIQUE
      )
        return false;
      throw error;
    }
  }

  findById(tenantId: string, id: string): Promise<DomainEntity | null> {
    return this.tx.run(tenantId, (manager) => selectOne(manager, 'id', tenantId, id));
  }

  findByName(tenantId: string, domain: string): Promise<DomainEntity | null> {
    return this.tx.run(tenantId, (manager) => selectOne(manager, 'domain', tenantId, domain));
  }

  /** Newest first (ids are UUIDv7); `before` is the last id of the previous page. */
  list(tenantId: string, limit: number, before?: string): Promise<DomainEntity[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows: DomainRow[] = before
        ? await manager.query(
            `SELECT ${COLUMNS} FROM domains WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
            [tenantId, before, limit],
          )
        : await manager.query(
            `SELECT ${COLUMNS} FROM domains WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`,
            [tenantId, limit],
          );
      return rows.map(toEntity);
    });
  }

  /**
   * Marks a domain verified, in one transaction: locks it, takes the domain in
   * verified_domains (refused when another tenant holds it), sets verified_at and writes
   * the announcements. A domain verified already is returned as it is, with nothing written.
   */
  verify(
    tenantId: string,
    id: string,
    at: Date,
    announce: (verified: DomainEntity) => OutboxMessage[],
  ): Promise<VerifyOutcome> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT ${COLUMNS} FROM domains WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, id],
      )) as DomainRow[];
      if (!row) return null;
      if (row.verified_at)
        return { outcome: 'verified', domain: toEntity(row), verifiedNow: false };
      const taken = (await manager.query(
        `INSERT INTO verified_domains (domain, tenant_id, domain_id) VALUES ($1, $2, $3)
         ON CONFLICT (domain) DO NOTHING RETURNING domain`,
        [row.domain, tenantId, id],
      )) as unknown[];
      if (!taken.length) return { outcome: 'elsewhere' };
      const [updated] = (await manager.query(
        `UPDATE domains SET verified_at = $3 WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [tenantId, id, at],
      )) as [DomainRow[], number];
      const domain = toEntity(updated[0]!);
      await addToOutbox(manager, announce(domain));
      return { outcome: 'verified', domain, verifiedNow: true };
    });
  }

  /**
   * Deletes a claim with its announcements, in one transaction; a verified domain leaves
   * verified_domains with it (ON DELETE CASCADE), free for another tenant. Null when it
   * does not exist.
   */
  delete(
    tenantId: string,
    id: string,
    announce: (deleted: DomainEntity) => OutboxMessage[],
  ): Promise<DomainEntity | null> {
    return this.tx.run(tenantId, async (manager) => {
      const [rows] = (await manager.query(
        `DELETE FROM domains WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [tenantId, id],
      )) as [DomainRow[], number];
      if (!rows[0]) return null;
      const domain = toEntity(rows[0]);
      await addToOutbox(manager, announce(domain));
      return domain;
    });
  }

  /** The tenant holding `domain` verified, or null; one prepared read of verified_domains. */
  async verifiedTenantOf(domain: string): Promise<string | null> {
    const [row] = await this.sql.rows<{ tenant_id: string }>(VERIFIED_TENANT_OF, [domain]);
    return row?.tenant_id ?? null;
  }
}

async function selectOne(
  manager: EntityManager,
  column: 'id' | 'domain',
  tenantId: string,
  value: string,
): Promise<DomainEntity | null> {
  const [row] = (await manager.query(
    `SELECT ${COLUMNS} FROM domains WHERE tenant_id = $1 AND ${column} = $2`,
    [tenantId, value],
  )) as DomainRow[];
  return row ? toEntity(row) : null;
}

function toEntity(row: DomainRow): DomainEntity {
  return Object.assign(new DomainEntity(), {
    id: row.id,
    tenantId: row.tenant_id,
    domain: row.domain,
    verificationToken: row.verification_token,
    createdAt: row.created_at,
    verifiedAt: row.verified_at,
  });
}
