import { Inject, Injectable } from '@nestjs/common';
import type { AuditKey } from '@tenantry/audit-ledger';
import { Sql, type PreparedStatement } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';

/** A checkpoint signing key as stored (platform level: one set of keys for every tenant). */
export interface StoredSigningKey extends AuditKey {
  /** PKCS#8 PEM; never leaves this database. */
  privatePkcs8: string;
}

interface SigningKeyRow {
  key_id: string;
  public_key: string;
  private_pkcs8: string;
  not_before: Date;
  not_after: Date | null;
}

const COLUMNS = 'key_id, public_key, private_pkcs8, not_before, not_after';
const CURRENT: PreparedStatement = {
  name: 'audit-signing-keys.current',
  text: `SELECT ${COLUMNS} FROM audit_signing_keys WHERE not_after IS NULL
          ORDER BY not_before DESC, key_id LIMIT 1`,
};
const ALL: PreparedStatement = {
  name: 'audit-signing-keys.all',
  text: `SELECT ${COLUMNS} FROM audit_signing_keys ORDER BY not_before DESC, key_id`,
};

function toKey(row: SigningKeyRow): StoredSigningKey {
  return {
    keyId: row.key_id,
    publicKey: row.public_key,
    privatePkcs8: row.private_pkcs8,
    notBefore: row.not_before.toISOString(),
    notAfter: row.not_after ? row.not_after.toISOString() : null,
  };
}

/** The only code that touches `audit_signing_keys` (platform level, no row-level security). */
@Injectable()
export class AuditSigningKeyRepository {
  constructor(@Inject(Sql) private readonly sql: Sql) {}

  /** The key that signs now (the newest without not_after); null before the first. */
  async current(): Promise<StoredSigningKey | null> {
    const [row] = await this.sql.rows<SigningKeyRow>(CURRENT, []);
    return row ? toKey(row) : null;
  }

  /** Every key ever used, newest first: none is ever removed, old checkpoints stay verifiable. */
  async all(): Promise<StoredSigningKey[]> {
    return (await this.sql.rows<SigningKeyRow>(ALL, [])).map(toKey);
  }

  /** Serializes key changes across instances until the caller's transaction ends. */
  async lock(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('tenantry.audit.signing-keys'))`);
  }

  /** `current`, in the caller's (locked) transaction. */
  async currentIn(manager: EntityManager): Promise<StoredSigningKey | null> {
    const [row] = (await manager.query(CURRENT.text)) as SigningKeyRow[];
    return row ? toKey(row) : null;
  }

  /** Ends every current key's signing at `notAfter`, and stores `key` as the new current one. */
  async replaceCurrent(
    manager: EntityManager,
    key: StoredSigningKey,
    notAfter: Date,
  ): Promise<void> {
    await manager.query(
      `UPDATE audit_signing_keys SET not_after = $1 WHERE not_after IS NULL AND key_id <> $2`,
      [notAfter.toISOString(), key.keyId],
    );
    await manager.query(
      `INSERT INTO audit_signing_keys (key_id, public_key, private_pkcs8, not_before, not_after)
       VALUES ($1, $2, $3, $4, NULL)`,
      [key.keyId, key.publicKey, key.privatePkcs8, key.notBefore],
    );
  }
}
