import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An email domain a tenant claims. Pending until its TXT record
 * (`_tenantry-verification.<domain>` = `tenantry-domain-verification=<token>`) is found;
 * then verified, and listed in verified_domains (one tenant per domain).
 */
@Entity('domains')
export class DomainEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  /** Lowercase, internationalized names in punycode. */
  @Column('text')
  domain!: string;

  /** Random, base64url; published by the tenant in DNS, so not a secret. */
  @Column('text', { name: 'verification_token' })
  verificationToken!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'verified_at', nullable: true })
  verifiedAt!: Date | null;
}
