import { Column, Entity, PrimaryColumn } from 'typeorm';

export type UserTokenKind = 'invitation' | 'password_reset';

/** A one-time invitation or password-reset token; only the SHA-256 of its secret is kept. */
@Entity('user_tokens')
export class UserTokenEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('uuid', { name: 'user_id' })
  userId!: string;

  @Column('text')
  kind!: UserTokenKind;

  @Column('text', { name: 'secret_hash' })
  secretHash!: string;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('timestamptz', { name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}
