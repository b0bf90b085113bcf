import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An organization inside a tenant: a node of its tree (tenant data, row-level security). */
@Entity('organizations')
export class OrganizationEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('uuid', { name: 'parent_id', nullable: true })
  parentId!: string | null;

  @Column('text')
  slug!: string;

  @Column('text')
  name!: string;

  /** Ids from the root down to this organization, each followed by `/`. */
  @Column('text')
  path!: string;

  /** 1 for a root. */
  @Column('integer')
  depth!: number;

  /** Its own settings; the effective ones merge its ancestors' down to these. */
  @Column('jsonb')
  settings!: Record<string, unknown>;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
