import { Inject, Injectable } from '@nestjs/common';
import { Sql, type PreparedStatement } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { SigningKeyEntity } from './signing-key.entity.js';

interface SigningKeyRow {
  kid: string;
  public_jwk: Record<string, string>;
  private_pkcs8: string;
  created_at: Date;
  retired_at: Date | null;
  published_until: Date | null;
}

const COLUMNS = 'kid, public_jwk, private_pkcs8, created_at, retired_at, published_until';
const NEWEST: PreparedStatement = {
  name: 'signing-keys.newest',
  text: `SELECT ${COLUMNS} FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1`,
};
const PUBLISHED: PreparedStatement = {
  name: 'signing-keys.published',
  text: `SELECT ${COLUMNS} FROM signing_keys WHERE retired_at IS NULL OR published_until > now() ORDER BY created_at DESC`,
};

function toEntity(row: SigningKeyRow): SigningKeyEntity {
  return Object.assign(new SigningKeyEntity(), {
    kid: row.kid,
    publicJwk: row.public_jwk,
    privatePkcs8: row.private_pkcs8,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
    publishedUntil: row.published_until,
  });
}

/** The only code that touches signing_keys (platform level, no row-level security). */
@Injectable()
export class SigningKeyRepository {
  constructor(@Inject(Sql) private readonly sql: Sql) {}

  /** The key that signs now (the newest not retired); null before the first one exists. */
  async newest(): Promise<SigningKeyEntity | null> {
    const [row] = await this.sql.rows<SigningKeyRow>(NEWEST, []);
    return row ? toEntity(row) : null;
  }

  /** Every key in the JWKS: the signing one and the retired ones still published. */
  async published(): Promise<SigningKeyEntity[]> {
    return (await this.sql.rows<SigningKeyRow>(PUBLISHED, [])).map(toEntity);
  }

  /** Serializes key changes across replicas until the caller's transaction ends. */
  async lock(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('tenantry.identity.signing-keys'))`);
  }

  /** `newest`, in the caller's (locked) transaction. */
  async newestIn(manager: EntityManager): Promise<SigningKeyEntity | null> {
    const [row]: SigningKeyRow[] = await manager.query(NEWEST.text);
    return row ? toEntity(row) : null;
  }

  /** Stores a new key pair in the caller's (locked) transaction. */
  async insert(manager: EntityManager, key: SigningKeyEntity): Promise<void> {
    await manager.insert(SigningKeyEntity, key);
  }

  /** Retires every key but `kid`, publishing each for `publishedForMs` after its retirement. */
  async retireAllBut(manager: EntityManager, kid: string, publishedForMs: number): Promise<void> {
    await manager.query(
      `UPDATE signing_keys SET retired_at = now(), published_until = now() + make_interval(secs => $2)
       WHERE kid <> $1 AND retired_at IS NULL`,
      [kid, publishedForMs / 1000],
    );
  }

  /** Deletes keys that left the JWKS more than a day ago. */
  async deleteUnpublished(manager: EntityManager): Promise<void> {
    await manager.query(
      `DELETE FROM signing_keys WHERE published_until < now() - interval '1 day'`,
    );
  }
}
