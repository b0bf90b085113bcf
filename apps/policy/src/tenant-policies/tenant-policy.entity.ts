import type { PolicyDocument } from '@tenantry/policy-engine';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant's policy document (row-level security: one tenant's row per transaction). */
@Entity('tenant_policies')
export class TenantPolicyEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' })
  tenantId!: string;

  /** The document as holders compile it; its `version` equals the column's. */
  @Column('jsonb')
  document!: PolicyDocument;

  @Column('int')
  version!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}

/** Which version of a tenant's policy the snapshot bucket has (platform level, no content). */
@Entity('policy_publications')
export class PolicyPublicationEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('int')
  version!: number;

  @Column('int', { name: 'published_version' })
  publishedVersion!: number;

  /** The bucket entry's revision when it was published (bigint, as text). */
  @Column('bigint', { name: 'published_revision', nullable: true })
  publishedRevision!: string | null;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
