import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An SSO setup link: `<id>.<secret>`, of which only the SHA-256 of the secret is stored.
 * It can be opened once (opened_at), before expires_at, unless revoked.
 */
@Entity('sso_setup_links')
export class SsoSetupLinkEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  /** SHA-256 of the token's secret, hex. */
  @Column('text', { name: 'secret_hash' })
  secretHash!: string;

  /** The actor who made it (`<kind>:<id>`, as in the Tenantry-Actor header). */
  @Column('text', { name: 'created_by' })
  createdBy!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  /** When it was exchanged for its setup session (null: never). */
  @Column('timestamptz', { name: 'opened_at', nullable: true })
  openedAt!: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
