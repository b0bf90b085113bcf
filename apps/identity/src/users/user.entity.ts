import { uuidv7 } from '@tenantry/runtime';
import type { User } from '@tenantry/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A user of one tenant, or a platform operator (a user of PLATFORM_TENANT_ID). */
@Entity('users')
export class UserEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  /** Normalized (normalizeEmail): unique within the tenant. */
  @Column('text')
  email!: string;

  @Column('text', { name: 'display_name' })
  displayName!: string;

  @Column('text')
  status!: User['status'];

  @Column('text', { array: true })
  roles!: string[];

  /** argon2id PHC string; null until the invitation is accepted. */
  @Column('text', { name: 'password_hash', nullable: true })
  passwordHash!: string | null;

  @Column('timestamptz', { name: 'password_changed_at', nullable: true })
  passwordChangedAt!: Date | null;

  @Column('boolean', { name: 'mfa_enabled' })
  mfaEnabled!: boolean;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'last_login_at', nullable: true })
  lastLoginAt!: Date | null;
}

/** A new user without a password or MFA yet: invited, or provisioned by SSO or SCIM. */
export function newUser(
  fields: Pick<UserEntity, 'tenantId' | 'email' | 'displayName' | 'status' | 'roles'>,
): UserEntity {
  const now = new Date();
  return Object.assign(new UserEntity(), {
    id: uuidv7(),
    ...fields,
    passwordHash: null,
    passwordChangedAt: null,
    mfaEnabled: false,
    createdAt: now,
    updatedAt: now,
    lastLoginAt: null,
  });
}
