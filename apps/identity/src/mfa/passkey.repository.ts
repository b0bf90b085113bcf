import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A user's passkey as the MFA service needs it. */
export interface StoredPasskey {
  id: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface PasskeyRow {
  id: string;
  credential_id: string;
  public_key: Buffer;
  counter: string;
  transports: string[];
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

const COLUMNS =
  'id, credential_id, public_key, counter, transports, name, created_at, last_used_at';

const fromRow = (row: PasskeyRow): StoredPasskey => ({
  id: row.id,
  credentialId: row.credential_id,
  publicKey: new Uint8Array(row.public_key),
  counter: Number(row.counter),
  transports: row.transports,
  name: row.name,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
});

/**
 * The only code that touches `passkeys`; every method runs in the caller's tenant
 * transaction (row-level security).
 */
@Injectable()
export class PasskeyRepository {
  /** The user's passkeys, oldest first. */
  async listByUser(
    manager: EntityManager,
    tenantId: string,
    userId: string,
  ): Promise<StoredPasskey[]> {
    const rows: PasskeyRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM passkeys WHERE tenant_id = $1 AND user_id = $2
       ORDER BY created_at, id`,
      [tenantId, userId],
    );
    return rows.map(fromRow);
  }

  /** Stores a new passkey; null when the tenant has this credential already. */
  async add(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    passkey: Pick<
      StoredPasskey,
      'credentialId' | 'publicKey' | 'counter' | 'transports' | 'name'
    > & {
      backedUp: boolean;
    },
  ): Promise<StoredPasskey | null> {
    const rows: PasskeyRow[] = await manager.query(
      `INSERT INTO passkeys
         (id, tenant_id, user_id, credential_id, public_key, counter, transports, backed_up, name)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (tenant_id, credential_id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        tenantId,
        userId,
        passkey.credentialId,
        Buffer.from(passkey.publicKey),
        passkey.counter,
        passkey.transports,
        passkey.backedUp,
        passkey.name,
      ],
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * Records a use: the new signature counter and the time, only if the counter is still
   * the one the signature was checked against (two uses at once: one wins).
   */
  async recordUse(
    manager: EntityManager,
    tenantId: string,
    passkeyId: string,
    counterBefore: number,
    counterNow: number,
  ): Promise<boolean> {
    const [, count]: [unknown[], number] = await manager.query(
      `UPDATE passkeys SET counter = $4, last_used_at = now()
       WHERE tenant_id = $1 AND id = $2 AND counter = $3`,
      [tenantId, passkeyId, counterBefore, counterNow],
    );
    return count === 1;
  }

  /** The passkey with this credential id in the tenant, with its user; null when there is none. */
  async findByCredential(
    manager: EntityManager,
    tenantId: string,
    credentialId: string,
  ): Promise<(StoredPasskey & { userId: string }) | null> {
    const rows: (PasskeyRow & { user_id: string })[] = await manager.query(
      `SELECT ${COLUMNS}, user_id FROM passkeys WHERE tenant_id = $1 AND credential_id = $2`,
      [tenantId, credentialId],
    );
    return rows[0] ? { ...fromRow(rows[0]), userId: rows[0].user_id } : null;
  }

  /** Removes one of the user's passkeys; its credential id, or null when there is no such passkey. */
  async remove(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    passkeyId: string,
  ): Promise<string | null> {
    const [rows]: [{ credential_id: string }[], number] = await manager.query(
      `DELETE FROM passkeys WHERE tenant_id = $1 AND user_id = $2 AND id = $3
       RETURNING credential_id`,
      [tenantId, userId, passkeyId],
    );
    return rows[0]?.credential_id ?? null;
  }
}
