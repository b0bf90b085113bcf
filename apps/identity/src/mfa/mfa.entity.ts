import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A user's TOTP authenticator: pending until a first code confirms it. */
@Entity('mfa_totp')
export class TotpEntity {
  @PrimaryColumn('uuid', { name: 'user_id' })
  userId!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  /** Base32; needed in clear to compute codes (encrypting it with a KMS key is left for later). */
  @Column('text')
  secret!: string;

  @Column('timestamptz', { name: 'confirmed_at', nullable: true })
  confirmedAt!: Date | null;

  /** The time step of the last code accepted: a code is accepted once per step. */
  @Column('bigint', { name: 'last_used_step', nullable: true })
  lastUsedStep!: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;
}

/** A single-use recovery code; only its SHA-256 is kept. */
@Entity('recovery_codes')
export class RecoveryCodeEntity {
  @PrimaryColumn('uuid', { name: 'user_id' })
  userId!: string;

  @PrimaryColumn('text', { name: 'code_hash' })
  codeHash!: string;

  @Column('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @Column('timestamptz', { name: 'used_at', nullable: true })
  usedAt!: Date | null;
}
