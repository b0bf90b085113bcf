import { Inject, Injectable } from '@nestjs/common';
import { addToOutbox, TenantTransactions, type OutboxMessage } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { SsoSetupLinkEntity } from './sso-setup-link.entity.js';

const COLUMNS =
  'id, tenant_id, secret_hash, created_by, created_at, expires_at, opened_at, revoked_at';

interface SsoSetupLinkRow {
  id: string;
  tenant_id: string;
  secret_hash: string;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  opened_at: Date | null;
  revoked_at: Date | null;
}

/**
 * The only code that touches sso_setup_links. Every query runs under the link's tenant
 * (row-level security) and still filters by tenant_id. A link's id goes into
 * credential_lookup (kind 'setup_link') in the transaction that creates it.
 */
@Injectable()
export class SsoSetupLinkRepository {
  constructor(
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
  ) {}

  /** Inserts a link, its credential_lookup row and its announcements in one transaction. */
  async insert(link: SsoSetupLinkEntity, events: OutboxMessage[]): Promise<void> {
    await this.tx.run(link.tenantId, async (manager) => {
      await manager.insert(SsoSetupLinkEntity, link);
      await this.lookup.add(manager, 'setup_link', link.id, link.tenantId);
      await addToOutbox(manager, events);
    });
  }

  findById(tenantId: string, id: string): Promise<SsoSetupLinkEntity | null> {
    return this.tx.run(tenantId, (manager) => selectOne(manager, tenantId, id));
  }

  /** Newest first (ids are UUIDv7); `before` is the last id of the previous page. */
  list(tenantId: string, limit: number, before?: string): Promise<SsoSetupLinkEntity[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows: SsoSetupLinkRow[] = before
        ? await manager.query(
            `SELECT ${COLUMNS} FROM sso_setup_links WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
            [tenantId, before, limit],
          )
        : await manager.query(
            `SELECT ${COLUMNS} FROM sso_setup_links WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`,
            [tenantId, limit],
          );
      return rows.map(toEntity);
    });
  }

  /**
   * Opens a link, once, in one transaction: locks its row (a concurrent opening waits, then
   * sees opened_at), hands it (null when it does not exist) to `plan`, which throws to
   * refuse or returns the announcements (and may do work that must succeed for the link
   * to count as opened: the session is stored there), then sets opened_at.
   */
  open(
    tenantId: string,
    id: string,
    at: Date,
    plan: (current: SsoSetupLinkEntity | null) => Promise<OutboxMessage[]>,
  ): Promise<SsoSetupLinkEntity> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `SELECT ${COLUMNS} FROM sso_setup_links WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, id],
      )) as SsoSetupLinkRow[];
      const events = await plan(row ? toEntity(row) : null);
      const [opened] = (await manager.query(
        `WITH opened AS (
           UPDATE sso_setup_links SET opened_at = $3
           WHERE tenant_id = $1 AND id = $2 AND opened_at IS NULL
           RETURNING ${COLUMNS}
         ) SELECT * FROM opened`,
        [tenantId, id, at],
      )) as SsoSetupLinkRow[];
      // Unreachable while the row is locked and plan refused an opened link; never open twice.
      if (!opened) throw new Error(`SSO setup link ${id} was opened concurrently`);
      await addToOutbox(manager, events);
      return toEntity(opened);
    });
  }

  /**
   * Revokes a link with its announcements, in one transaction. A link already revoked is
   * returned as it is, and nothing is announced again; null when it does not exist.
   */
  revoke(
    tenantId: string,
    id: string,
    at: Date,
    announce: (revoked: SsoSetupLinkEntity) => OutboxMessage[],
  ): Promise<{ link: SsoSetupLinkEntity; revokedNow: boolean } | null> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `WITH revoked AS (
           UPDATE sso_setup_links SET revoked_at = $3
           WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL
           RETURNING ${COLUMNS}
         ) SELECT * FROM revoked`,
        [tenantId, id, at],
      )) as SsoSetupLinkRow[];
      if (row) {
        const link = toEntity(row);
        await addToOutbox(manager, announce(link));
        return { link, revokedNow: true };
      }
      const link = await selectOne(manager, tenantId, id);
      return link && { link, revokedNow: false };
    });
  }
}

async function selectOne(
  manager: EntityManager,
  tenantId: string,
  id: string,
): Promise<SsoSetupLinkEntity | null> {
  const [row] = (await manager.query(
    `SELECT ${COLUMNS} FROM sso_setup_links WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  )) as SsoSetupLinkRow[];
  return row ? toEntity(row) : null;
}

function toEntity(row: SsoSetupLinkRow): SsoSetupLinkEntity {
  return Object.assign(new SsoSetupLinkEntity(), {
    id: row.id,
    tenantId: row.tenant_id,
    secretHash: row.secret_hash,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    openedAt: row.opened_at,
    revokedAt: row.revoked_at,
  });
}
