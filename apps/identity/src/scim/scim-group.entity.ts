import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A group a SCIM directory pushed; its members are rows of scim_group_members. */
@Entity('scim_groups')
export class ScimGroupEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('uuid', { name: 'directory_id' })
  directoryId!: string;

  /** Unique in the directory, ignoring case (scim_groups_display_name_unique). */
  @Column('text', { name: 'display_name' })
  displayName!: string;

  @Column('text', { name: 'external_id', nullable: true })
  externalId!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
