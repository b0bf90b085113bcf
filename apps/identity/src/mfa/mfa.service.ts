import { Inject, Injectable } from '@nestjs/common';
import { addToOutbox, Outbox, TenantTransactions } from '@tenantry/persistence';
import QRCode from 'qrcode';
import type { EntityManager } from 'typeorm';
import { AuthSettingsService } from '../auth-settings/auth-settings.service.js';
import { auditEvent } from '../core/audit.js';
import { randomSecret, sha256Hex } from '../core/secret-token.js';
import { accountSubject, PasswordAttempts } from '../passwords/password-attempts.js';
import { UserErrors } from '../users/user.errors.js';
import { UserRepository } from '../users/user.repository.js';
import { MfaErrors } from './mfa.errors.js';
import { MfaRepository } from './mfa.repository.js';
import { PasskeyRepository } from './passkey.repository.js';
import { acceptedStep, isTotpCode, newTotpSecret, totpUri } from './totp.js';

/** How many recovery codes a user gets (each works once). */
export const RECOVERY_CODE_COUNT = 10;

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrDataUrl: string;
}

/** The second factor a code or a passkey proved, as it goes into `amr` (a passkey: `pop`, RFC 8176's proof of possession of a key). */
export type SecondFactor = 'otp' | 'recovery_code' | 'pop';

/**
 * TOTP authenticators (otplib) and recovery codes: enrolment (pending until a first code
 * confirms it), verification with every time step and every recovery code usable once,
 * and removal.
 */
@Injectable()
export class MfaService {
  constructor(
    @Inject(MfaRepository) private readonly mfa: MfaRepository,
    @Inject(PasskeyRepository) private readonly passkeys: PasskeyRepository,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(AuthSettingsService) private readonly authSettings: AuthSettingsService,
    @Inject(PasswordAttempts) private readonly attempts: PasswordAttempts,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /**
   * A new pending TOTP secret for the user (replacing a pending one), as base32, otpauth
   * URI and QR code; MFA_ALREADY_ENABLED when a confirmed one exists.
   */
  async enrol(tenantId: string, userId: string): Promise<TotpEnrolment> {
    const secret = newTotpSecret();
    const email = await this.tx.run(tenantId, async (manager) => {
      const user = await this.users.findById(manager, tenantId, userId);
      if (!user) throw UserErrors.notFound(userId);
      if (!(await this.mfa.savePendingTotp(manager, tenantId, userId, secret)))
        throw MfaErrors.alreadyEnabled();
      return user.email;
    });
    const otpauthUri = totpUri(secret, email);
    return { secret, otpauthUri, qrDataUrl: await QRCode.toDataURL(otpauthUri) };
  }

  /** Confirms the pending secret with a first code; returns the recovery codes (shown once). Audited (mfa.enrolled). */
  async confirm(tenantId: string, userId: string, code: string): Promise<string[]> {
    const codes = await this.tx.run(tenantId, async (manager) => {
      const codes = await this.confirmIn(manager, tenantId, userId, code);
      if (!codes) throw MfaErrors.codeInvalid();
      return codes;
    });
    this.outbox.kick();
    return codes;
  }

  /**
   * In the caller's transaction: confirms the user's pending secret if `code` is valid for
   * it, enables MFA on the user and makes new recovery codes (returned); null when the
   * code is wrong. MFA_NOT_ENROLLED without a pending secret, MFA_ALREADY_ENABLED when
   * it is confirmed already.
   */
  async confirmIn(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    code: string,
  ): Promise<string[] | null> {
    const totp = await this.mfa.findTotp(manager, tenantId, userId);
    if (!totp) throw MfaErrors.notEnrolled();
    if (totp.confirmed) throw MfaErrors.alreadyEnabled();
    const step = await acceptedStep(totp.secret, code, null);
    if (step === null) return null;
    await this.mfa.confirmTotp(manager, tenantId, userId, step);
    const codes = await this.turnOnIn(manager, tenantId, userId);
    await addToOutbox(manager, [
      auditEvent({
        tenantId,
        category: 'auth',
        action: 'mfa.enrolled',
        target: { type: 'user', id: userId },
        data: { method: 'totp', recoveryCodes: codes.length },
      }),
    ]);
    return codes;
  }

  /**
   * Removes the user's TOTP authenticator, given a valid code (TOTP or recovery); wrong
   * codes count toward the lockout. Without a passkey left, MFA goes off and the recovery
   * codes go too. Audited (mfa.disabled).
   */
  async disable(tenantId: string, userId: string, code: string): Promise<void> {
    const settings = await this.authSettings.get(tenantId);
    const subject = accountSubject(tenantId, userId);
    const attempt = await this.attempts.begin(subject, settings);
    const factor = await this.tx.run(tenantId, async (manager) => {
      const user = await this.users.findById(manager, tenantId, userId, true);
      if (!user) throw UserErrors.notFound(userId);
      if (!user.mfaEnabled) throw MfaErrors.notEnrolled();
      if (!(await this.mfa.findTotp(manager, tenantId, userId))?.confirmed)
        throw MfaErrors.notEnrolled();
      const factor = await this.verifyIn(manager, tenantId, userId, code);
      if (!factor) return null;
      await this.mfa.deleteTotp(manager, tenantId, userId);
      const mfaEnabled = await this.afterFactorRemovedIn(manager, tenantId, userId);
      await addToOutbox(manager, [
        auditEvent({
          tenantId,
          category: 'auth',
          action: 'mfa.disabled',
          target: { type: 'user', id: userId },
          data: { method: 'totp', provedWith: factor, mfaEnabled },
        }),
      ]);
      return factor;
    });
    if (!factor) {
      await this.attempts.failed(subject, attempt, settings);
      throw MfaErrors.codeInvalid();
    }
    await this.attempts.uncount(subject);
    this.outbox.kick();
  }

  /**
   * In the caller's transaction: which second factor `code` proves for the user (a TOTP
   * code of a step not used before, or an unused recovery code), spending it; null when
   * it proves nothing.
   */
  async verifyIn(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    code: string,
  ): Promise<SecondFactor | null> {
    const totp = await this.mfa.findTotp(manager, tenantId, userId);
    if (isTotpCode(code)) {
      if (!totp?.confirmed) return null;
      const step = await acceptedStep(totp.secret, code, totp.lastUsedStep);
      return step !== null && (await this.mfa.spendStep(manager, tenantId, userId, step))
        ? 'otp'
        : null;
    }
    return (await this.mfa.spendRecoveryCode(manager, tenantId, userId, sha256Hex(code)))
      ? 'recovery_code'
      : null;
  }

  /**
   * With a second factor set up, in the caller's transaction: MFA on, and new recovery
   * codes (returned, to show once; they replace any the user had).
   */
  async turnOnIn(manager: EntityManager, tenantId: string, userId: string): Promise<string[]> {
    await this.users.update(manager, tenantId, userId, { mfaEnabled: true });
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => randomSecret());
    await this.mfa.replaceRecoveryCodes(manager, tenantId, userId, codes.map(sha256Hex));
    return codes;
  }

  /**
   * After a second factor was removed, in the caller's transaction: without any left (no
   * confirmed authenticator, no passkey) MFA goes off and the recovery codes go. Returns
   * whether MFA is still on.
   */
  async afterFactorRemovedIn(
    manager: EntityManager,
    tenantId: string,
    userId: string,
  ): Promise<boolean> {
    if (await this.enabledIn(manager, tenantId, userId)) return true;
    await this.mfa.deleteAll(manager, tenantId, userId);
    await this.users.update(manager, tenantId, userId, { mfaEnabled: false });
    return false;
  }

  /** Whether the user has a second factor: a confirmed authenticator or a passkey (in the caller's transaction). */
  async enabledIn(manager: EntityManager, tenantId: string, userId: string): Promise<boolean> {
    return (await this.methodsIn(manager, tenantId, userId)).some((m) => m !== 'recovery_code');
  }

  /** The ways the user can answer an MFA challenge (in the caller's transaction). */
  async methodsIn(
    manager: EntityManager,
    tenantId: string,
    userId: string,
  ): Promise<('totp' | 'recovery_code' | 'webauthn')[]> {
    const totp = (await this.mfa.findTotp(manager, tenantId, userId))?.confirmed ?? false;
    const passkeys = (await this.passkeys.listByUser(manager, tenantId, userId)).length > 0;
    return [
      ...(totp ? (['totp'] as const) : []),
      'recovery_code',
      ...(passkeys ? (['webauthn'] as const) : []),
    ];
  }
}
