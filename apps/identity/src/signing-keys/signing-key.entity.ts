import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An Ed25519 key pair that signs access tokens (platform level: one set for the installation). */
@Entity('signing_keys')
export class SigningKeyEntity {
  /** The public JWK's RFC 7638 thumbprint. */
  @PrimaryColumn('text')
  kid!: string;

  @Column('jsonb', { name: 'public_jwk' })
  publicJwk!: Record<string, string>;

  @Column('text', { name: 'private_pkcs8' })
  privatePkcs8!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  /** When a newer key took over signing; null for the key that signs now. */
  @Column('timestamptz', { name: 'retired_at', nullable: true })
  retiredAt!: Date | null;

  /** Until when a retired key stays in the JWKS (every token it signed has expired by then). */
  @Column('timestamptz', { name: 'published_until', nullable: true })
  publishedUntil!: Date | null;
}
