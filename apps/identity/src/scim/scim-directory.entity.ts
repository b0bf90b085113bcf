import type { GroupRole } from '@tenantry/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A SCIM directory of a tenant. Its bearer token is `<tokenId>.<secret>`: only the SHA-256
 * of the secret is stored, and the token id is in credential_lookup (kind 'scim_token').
 */
@Entity('scim_directories')
export class ScimDirectoryEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('text')
  name!: string;

  @Column('text', { name: 'default_role', nullable: true })
  defaultRole!: string | null;

  @Column('jsonb', { name: 'group_roles' })
  groupRoles!: GroupRole[];

  @Column('uuid', { name: 'token_id' })
  tokenId!: string;

  /** SHA-256 of the token's secret, hex. */
  @Column('text', { name: 'token_hash' })
  tokenHash!: string;

  @Column('timestamptz', { name: 'token_created_at' })
  tokenCreatedAt!: Date;

  /** The actor who made it (`<kind>:<id>`, as in the Tenantry-Actor header). */
  @Column('text', { name: 'created_by' })
  createdBy!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
