import { Inject, Injectable } from '@nestjs/common';
import {
  addToOutbox,
  setTenant,
  TenantTransactions,
  type OutboxMessage,
} from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { ApiKeyEntity } from './api-key.entity.js';

const UNIQUE_VIOLATION = '23505';
/** The UNIQUE on api_keys.prefix (PostgreSQL's name for a column constraint). */
const PREFIX_UNIQUE = 'api_keys_prefix_key';

const COLUMN_NAMES = [
  'id',
  'tenant_id',
  'name',
  'prefix',
  'secret_hash',
  'scopes',
  'created_by',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_used_at',
  'rotated_from',
];
const COLUMNS = COLUMN_NAMES.join(', ');

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: string[];
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  rotated_from: string | null;
}

/**
 * One tenant's batch of uses: keys used for the first time (last_used_at still NULL)
 * are stamped and returned, so their first use is audited exactly once even when
 * several instances flush the same key (the second one's `last_used_at IS NULL` is
 * re-checked on the committed row and fails); every other key moves forward only.
 */
const RECORD_USES = `
  WITH uses AS (
    SELECT * FROM unnest($2::uuid[], $3::timestamptz[]) AS u (id, at)
  ), first_uses AS (
    UPDATE api_keys k SET last_used_at = u.at FROM uses u
    WHERE k.tenant_id = $1 AND k.id = u.id AND k.last_used_at IS NULL
    RETURNING ${COLUMN_NAMES.map((c) => `k.${c}`).join(', ')}
  ), later_uses AS (
    UPDATE api_keys k SET last_used_at = u.at FROM uses u
    WHERE k.tenant_id = $1 AND k.id = u.id AND k.last_used_at < u.at
  )
  SELECT * FROM first_uses`;

/** One key's latest use in a batch. */
export interface ApiKeyUse {
  tenantId: string;
  id: string;
  at: Date;
}

/** What a rotation writes: the old key's new expiry, its replacement, and their announcements. */
export interface ApiKeyRotation {
  previousExpiresAt: Date;
  replacement: ApiKeyEntity;
  events: OutboxMessage[];
}

/**
 * The only code that touches api_keys. Every query runs under the key's tenant (row-level
 * security) and still filters by tenant_id. A key's prefix goes into credential_lookup
 * (through its repository) in the transaction that creates the key.
 */
@Injectable()
export class ApiKeyRepository {
  constructor(
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
  ) {}

  /**
   * Inserts a key, its credential_lookup row and its announcements in one transaction.
   * Returns false when its prefix is taken (the caller draws another).
   */
  insert(key: ApiKeyEntity, events: OutboxMessage[]): Promise<boolean> {
    return unlessPrefixTaken(
      this.tx.run(key.tenantId, async (manager) => {
        await this.insertKey(manager, key);
        await addToOutbox(manager, events);
        return true;
      }),
      false,
    );
  }

  findById(tenantId: string, id: string): Promise<ApiKeyEntity | null> {
    return this.tx.run(tenantId, (manager) => selectOne(manager, 'id', tenantId, id));
  }

  /** verify's read: the key under its tenant's row-level security (the unique prefix index). */
  findByPrefix(tenantId: string, prefix: string): Promise<ApiKeyEntity | null> {
    return this.tx.run(tenantId, (manager) => selectOne(manager, 'prefix', tenantId, prefix));
  }

  /** Newest first (ids are UUIDv7); `before` is the last id of the previous page. */
  list(tenantId: string, limit: number, before?: string): Promise<ApiKeyEntity[]> {
    return this.tx.run(tenantId, async (manager) => {
      const rows: ApiKeyRow[] = before
        ? await manager.query(
            `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
            [tenantId, before, limit],
          )
        : await manager.query(
            `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`,
            [tenantId, limit],
          );
      return rows.map(toEntity);
    });
  }

  /**
   * Rotates a key in one transaction: locks it, hands it (null when it does not exist)
   * and the id of a key that already replaced it to `plan`, which decides or throws,
   * then shortens its expiry and inserts the replacement with the announcements. Returns
   * the rotation, or null when the replacement's prefix is taken (nothing was written).
   */
  rotate(
    tenantId: string,
    id: string,
    plan: (current: ApiKeyEntity | null, successorId: string | null) => ApiKeyRotation,
  ): Promise<ApiKeyRotation | null> {
    return unlessPrefixTaken(
      this.tx.run(tenantId, async (manager) => {
        const [row] = (await manager.query(
          `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
          [tenantId, id],
        )) as ApiKeyRow[];
        const [successor] = row
          ? ((await manager.query(
              `SELECT id FROM api_keys WHERE tenant_id = $1 AND rotated_from = $2 ORDER BY id LIMIT 1`,
              [tenantId, id],
            )) as { id: string }[])
          : [];
        const rotation = plan(row ? toEntity(row) : null, successor?.id ?? null);
        await manager.query(
          `UPDATE api_keys SET expires_at = $3 WHERE tenant_id = $1 AND id = $2`,
          [tenantId, id, rotation.previousExpiresAt],
        );
        await this.insertKey(manager, rotation.replacement);
        await addToOutbox(manager, rotation.events);
        return rotation;
      }),
      null,
    );
  }

  /**
   * Revokes a key with its announcements, in one transaction. A key already revoked is
   * returned as it is, and nothing is announced again; null when it does not exist.
   */
  revoke(
    tenantId: string,
    id: string,
    at: Date,
    announce: (revoked: ApiKeyEntity) => OutboxMessage[],
  ): Promise<{ key: ApiKeyEntity; revokedNow: boolean } | null> {
    return this.tx.run(tenantId, async (manager) => {
      const [row] = (await manager.query(
        `WITH revoked AS (
           UPDATE api_keys SET revoked_at = $3
           WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL
           RETURNING ${COLUMNS}
         ) SELECT * FROM revoked`,
        [tenantId, id, at],
      )) as ApiKeyRow[];
      if (row) {
        const key = toEntity(row);
        await addToOutbox(manager, announce(key));
        return { key, revokedNow: true };
      }
      const key = await selectOne(manager, 'id', tenantId, id);
      return key && { key, revokedNow: false };
    });
  }

  /**
   * Writes a batch of uses: one transaction, one UPDATE statement per tenant (row-level
   * security takes one tenant at a time). Keys used for the first time are handed to
   * `announceFirstUse`, whose messages are committed with the batch.
   */
  async recordUses(
    uses: ApiKeyUse[],
    announceFirstUse: (key: ApiKeyEntity) => OutboxMessage[],
  ): Promise<void> {
    const byTenant = new Map<string, ApiKeyUse[]>();
    for (const use of uses) {
      const list = byTenant.get(use.tenantId) ?? [];
      list.push(use);
      byTenant.set(use.tenantId, list);
    }
    if (!byTenant.size) return;
    await this.tx.runGlobal(async (manager) => {
      for (const [tenantId, tenantUses] of byTenant) {
        await setTenant(manager, tenantId);
        const firsts = (await manager.query(RECORD_USES, [
          tenantId,
          tenantUses.map((u) => u.id),
          tenantUses.map((u) => u.at.toISOString()),
        ])) as ApiKeyRow[];
        await addToOutbox(
          manager,
          firsts.flatMap((row) => announceFirstUse(toEntity(row))),
        );
      }
    });
  }

  private async insertKey(manager: EntityManager, key: ApiKeyEntity): Promise<void> {
    await manager.insert(ApiKeyEntity, key);
    await this.lookup.add(manager, 'api_key', key.prefix, key.tenantId);
  }
}

async function selectOne(
  manager: EntityManager,
  column: 'id' | 'prefix',
  tenantId: string,
  value: string,
): Promise<ApiKeyEntity | null> {
  const [row] = (await manager.query(
    `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND ${column} = $2`,
    [tenantId, value],
  )) as ApiKeyRow[];
  return row ? toEntity(row) : null;
}

/** The work's result, or `fallback` when it failed only because a key's prefix was taken. */
async function unlessPrefixTaken<T, F>(work: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await work;
  } catch (error) {
    const e = error as { driverError?: { code?: string; constraint?: string } };
    if (e.driverError?.code === UNIQUE_VIOLATION && e.driverError.constraint === PREFIX_UNIQUE)
      return fallback;
    throw error;
  }
}

function toEntity(row: ApiKeyRow): ApiKeyEntity {
  return Object.assign(new ApiKeyEntity(), {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    secretHash: row.secret_hash,
    scopes: row.scopes,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    rotatedFrom: row.rotated_from,
  });
}
