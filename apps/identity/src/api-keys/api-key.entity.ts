import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An API key: `tnty_<prefix>_<secret>`. Only the prefix (which names the key) and a
 * SHA-256 of the whole key are stored; the secret is shown once, at creation or rotation.
 * Platform keys have tenant_id = PLATFORM_TENANT_ID.
 */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('text')
  name!: string;

  @Column('text')
  prefix!: string;

  /** SHA-256 of the whole key, hex. */
  @Column('text', { name: 'secret_hash' })
  secretHash!: string;

  @Column('text', { array: true })
  scopes!: string[];

  /** The actor who created it (`<kind>:<id>`, as in the Tenantry-Actor header). */
  @Column('text', { name: 'created_by' })
  createdBy!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  /** Written in batches (ApiKeyService.flushUses), so it may lag behind by a few seconds. */
  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column('uuid', { name: 'rotated_from', nullable: true })
  rotatedFrom!: string | null;
}
