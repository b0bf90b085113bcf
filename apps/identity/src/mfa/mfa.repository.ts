import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { TotpEntity } from './mfa.entity.js';

/** A user's authenticator as the MFA service needs it. */
export interface Totp {
  secret: string;
  confirmed: boolean;
  lastUsedStep: number | null;
}

/**
 * The only code that touches mfa_totp and recovery_codes; every method runs in the
 * caller's tenant transaction (row-level security).
 */
@Injectable()
export class MfaRepository {
  /** The user's authenticator, pending or confirmed; null when there is none. */
  async findTotp(manager: EntityManager, tenantId: string, userId: string): Promise<Totp | null> {
    const row = await manager.findOneBy(TotpEntity, { tenantId, userId });
    return row
      ? {
          secret: row.secret,
          confirmed: row.confirmedAt !== null,
          lastUsedStep: row.lastUsedStep === null ? null : Number(row.lastUsedStep),
        }
      : null;
  }

  /** Stores a new pending secret, replacing a pending one; false when a confirmed one exists. */
  async savePendingTotp(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    secret: string,
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO mfa_totp (tenant_id, user_id, secret) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = now(), last_used_step = NULL
         WHERE mfa_totp.confirmed_at IS NULL
       RETURNING user_id`,
      [tenantId, userId, secret],
    );
    return rows.length === 1;
  }

  /** Confirms the pending secret, spending the step of the code that confirmed it. */
  async confirmTotp(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    step: number,
  ): Promise<void> {
    await manager.query(
      `UPDATE mfa_totp SET confirmed_at = now(), last_used_step = $3
       WHERE tenant_id = $1 AND user_id = $2`,
      [tenantId, userId, step],
    );
  }

  /**
   * Spends a time step: true only for the first caller with a step later than the last
   * one used (an atomic conditional update, so two requests cannot both use one code).
   */
  async spendStep(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    step: number,
  ): Promise<boolean> {
    const [, count]: [unknown[], number] = await manager.query(
      `UPDATE mfa_totp SET last_used_step = $3
       WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at IS NOT NULL
         AND (last_used_step IS NULL OR last_used_step < $3)`,
      [tenantId, userId, step],
    );
    return count === 1;
  }

  /** Replaces the user's recovery codes with these (hashes). */
  async replaceRecoveryCodes(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    hashes: string[],
  ): Promise<void> {
    await manager.query(`DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, [
      tenantId,
      userId,
    ]);
    await manager.query(
      `INSERT INTO recovery_codes (tenant_id, user_id, code_hash)
       SELECT $1, $2, unnest($3::text[])`,
      [tenantId, userId, hashes],
    );
  }

  /** Spends a recovery code: true only the first time this (unused) code is presented. */
  async spendRecoveryCode(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    hash: string,
  ): Promise<boolean> {
    const [, count]: [unknown[], number] = await manager.query(
      `UPDATE recovery_codes SET used_at = now()
       WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL`,
      [tenantId, userId, hash],
    );
    return count === 1;
  }

  /** Removes the TOTP authenticator only (the user keeps other factors and the recovery codes). */
  async deleteTotp(manager: EntityManager, tenantId: string, userId: string): Promise<void> {
    await manager.query(`DELETE FROM mfa_totp WHERE tenant_id = $1 AND user_id = $2`, [
      tenantId,
      userId,
    ]);
  }

  /** Removes the authenticator and the recovery codes. */
  async deleteAll(manager: EntityManager, tenantId: string, userId: string): Promise<void> {
    await manager.query(`DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2`, [
      tenantId,
      userId,
    ]);
    await manager.query(`DELETE FROM mfa_totp WHERE tenant_id = $1 AND user_id = $2`, [
      tenantId,
      userId,
    ]);
  }
}
