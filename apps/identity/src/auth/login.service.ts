import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import {
  AppError,
  AuthRpc,
  DEFAULT_AUTH_SETTINGS,
  PLATFORM_TENANT_ID,
  type AuthSettings,
  type ClientInfo,
  type LoginRequestSchema,
  type LoginResult,
  type MfaVerifyRequestSchema,
  type TokenSet,
} from '@tenantry/contracts';
import { Outbox, outboxStatements, TenantTransactions } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import { AuthSettingsService, effectiveSettings } from '../auth-settings/auth-settings.service.js';
import { auditEvent, principalActor, SYSTEM_ACTOR } from '../core/audit.js';
import { AuditWriter } from '../core/audit-writer.js';
import { normalizeEmail } from '../core/email.js';
import { sha256Hex } from '../core/secret-token.js';
import { TenantDirectory } from '../core/tenant-directory.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { MfaErrors } from '../mfa/mfa.errors.js';
import { MfaService, type SecondFactor, type TotpEnrolment } from '../mfa/mfa.service.js';
import { PasskeyService } from '../mfa/passkey.service.js';
import {
  accountSubject,
  PasswordAttempts,
  unknownEmailSubject,
  type AttemptSubject,
  type PerIpLimit,
} from '../passwords/password-attempts.js';
import type { LockoutRules } from '../passwords/lockout.js';
import { AttemptErrorReason } from '../passwords/password.errors.js';
import { PasswordHasher } from '../passwords/password.hasher.js';
import { passwordExpired } from '../passwords/password.policy.js';
import { SessionService } from '../sessions/session.service.js';
import type { UserEntity } from '../users/user.entity.js';
import { UserRepository } from '../users/user.repository.js';
import { AuthErrorReason, AuthErrors } from './auth.errors.js';
import { MFA_CHALLENGE_TTL_SECONDS, MfaChallengeStore } from './mfa-challenge.store.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { RequestThrottle } from './request-throttle.js';
import { TenantGate } from './tenant-gate.js';

type LoginRequest = z.output<typeof LoginRequestSchema>;
type MfaVerifyRequest = z.output<typeof MfaVerifyRequestSchema>;

/**
 * The per-IP bucket of passkey options (as many a minute as logins): apart from the logins'
 * own, so that asking for options does not spend an IP's sign-in attempts.
 */
const PASSKEY_OPTIONS = 'passkey-options';

/** The token set of a sign-in; with the recovery codes when it completed a required enrolment. */
export type SignedIn = TokenSet & { recoveryCodes?: string[] };

/** An account the email could mean, with its tenant's rules. */
export interface Account {
  tenantId: string;
  user: UserEntity;
  settings: AuthSettings;
}

/**
 * Sign-in with email and password, and its second step (MFA). Unknown emails, wrong
 * passwords and invited or disabled users get one answer, after the same work (an argon2
 * verification, a dummy one when there is no hash); every attempt is counted toward the
 * account's lockout before its password is checked, and per IP; every outcome is audited.
 */
@Injectable()
export class LoginService {
  constructor(
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(AuthSettingsService) private readonly authSettings: AuthSettingsService,
    @Inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @Inject(PasswordAttempts) private readonly attempts: PasswordAttempts,
    @Inject(RequestThrottle) private readonly throttle: RequestThrottle,
    @Inject(MfaService) private readonly mfa: MfaService,
    @Inject(PasskeyService) private readonly passkeys: PasskeyService,
    @Inject(MfaChallengeStore) private readonly challenges: MfaChallengeStore,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(AuditWriter) private readonly audit: AuditWriter,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(TenantGate) private readonly gate: TenantGate,
    @InjectIdentitySettings() private readonly identitySettings: IdentitySettings,
  ) {}

  /**
   * Tokens, or an MFA challenge when the user has MFA or the tenant requires it. Without
   * `tenant`, an email with accounts in several tenants is TENANT_REQUIRED, but only once
   * the password was right for one of them (else INVALID_CREDENTIALS, like any wrong
   * password). An unknown slug is like an unknown email.
   */
  async login(request: LoginRequest): Promise<LoginResult> {
    const email = normalizeEmail(request.email);
    const tenant =
      request.tenant === undefined ? undefined : await this.tenants.bySlug(request.tenant);
    const found =
      tenant === null
        ? { accounts: [], rules: DEFAULT_AUTH_SETTINGS }
        : await this.accounts(email, tenant?.id);
    const { accounts } = found;
    if (accounts.length === 1) return this.passwordStep(accounts[0]!, request);
    if (accounts.length > 1) {
      await this.throttle.perIp('login', request.client.ip, this.loginsPerIp);
      return this.ambiguous(accounts, request);
    }
    return this.unknown(email, tenant?.id ?? PLATFORM_TENANT_ID, found.rules, request);
  }

  /**
   * Completes a challenged sign-in with a TOTP code (one not used before), a recovery code
   * (once each) or a passkey's answer to the challenge's passkey options (once each); a
   * challenge that requires enrolment takes the first code of the authenticator enrolled
   * with it, and returns the recovery codes. Wrong answers count toward the lockout; the
   * challenge is consumed by the sign-in it completes.
   */
  async verifyMfa(request: MfaVerifyRequest): Promise<SignedIn> {
    await this.throttle.perIp('login', request.client.ip, this.loginsPerIp);
    const challenge = await this.challenges.find(request.challengeToken);
    if (!challenge) throw AuthErrors.mfaChallengeInvalid();
    const { tenantId, userId } = challenge;
    const account = await this.tx.run(tenantId, (manager) =>
      this.account(manager, tenantId, userId),
    );
    if (!account || account.user.status !== 'active') {
      await this.challenges.consume(request.challengeToken);
      throw AuthErrors.mfaChallengeInvalid();
    }
    const subject = accountSubject(tenantId, userId);
    const attempt = await this.attempts.begin(subject, account.settings);
    const proof = await this.tx.run(tenantId, async (manager) => {
      const proof = request.passkey
        ? (await this.passkeys.verifyIn(
            manager,
            tenantId,
            userId,
            request.challengeToken,
            request.passkey as AuthenticationResponseJSON,
          ))
          ? { factor: 'pop' as const }
          : null
        : await this.secondFactor(manager, account, challenge.enrolmentRequired, request.code!);
      // Consumed in the transaction that spends the code: a lost race spends nothing.
      if (proof && !(await this.challenges.consume(request.challengeToken)))
        throw AuthErrors.mfaChallengeInvalid();
      return proof;
    });
    if (!proof) {
      await this.attempts.failed(subject, attempt, account.settings);
      await this.audit.record([
        this.loginAudit(account, 'mfa.failed', request.client, {
          failure: request.passkey ? 'wrong_passkey' : 'wrong_code',
        }),
      ]);
      throw AuthErrors.mfaCodeInvalid();
    }
    await this.attempts.succeeded(subject);
    const tokens = await this.signIn(
      account,
      ['pwd', proof.factor],
      new Date(challenge.authTime),
      request.client,
      'mfa.verified',
    );
    return proof.recoveryCodes ? { ...tokens, recoveryCodes: proof.recoveryCodes } : tokens;
  }

  /** During a challenge of a user with passkeys: the options to answer it with one (verifyMfa). */
  async passkeyOptions(challengeToken: string, client: ClientInfo) {
    await this.throttle.perIp(PASSKEY_OPTIONS, client.ip, this.loginsPerIp);
    const challenge = await this.challenges.find(challengeToken);
    if (!challenge) throw AuthErrors.mfaChallengeInvalid();
    if (challenge.enrolmentRequired) throw MfaErrors.noPasskeys();
    return this.passkeys.signInOptions(challenge.tenantId, challenge.userId, challengeToken);
  }

  /** During a challenge that requires enrolment: a new authenticator to set up (confirmed by verifyMfa). */
  async enrolWithChallenge(challengeToken: string): Promise<TotpEnrolment> {
    const challenge = await this.enrolmentChallenge(challengeToken);
    return this.mfa.enrol(challenge.tenantId, challenge.userId);
  }

  /** During a challenge that requires enrolment: options to register a passkey (enrolPasskey). */
  async passkeyEnrolOptions(challengeToken: string, client: ClientInfo) {
    await this.throttle.perIp(PASSKEY_OPTIONS, client.ip, this.loginsPerIp);
    const challenge = await this.enrolmentChallenge(challengeToken);
    return this.passkeys.registrationOptions(challenge.tenantId, challenge.userId);
  }

  /**
   * Completes a challenge that requires enrolment with a new passkey (the answer to
   * `passkeyEnrolOptions`): MFA on, recovery codes (returned, once), tokens with `amr` pwd
   * and pop. Audited (mfa.enrolled, mfa.verified with login.succeeded).
   */
  async enrolPasskey(request: z.output<typeof AuthRpc.enrolPasskey.request>): Promise<SignedIn> {
    await this.throttle.perIp('login', request.client.ip, this.loginsPerIp);
    const challenge = await this.enrolmentChallenge(request.challengeToken);
    const { tenantId, userId } = challenge;
    const account = await this.tx.run(tenantId, (manager) =>
      this.account(manager, tenantId, userId),
    );
    if (!account || account.user.status !== 'active') {
      await this.challenges.consume(request.challengeToken);
      throw AuthErrors.mfaChallengeInvalid();
    }
    if (account.user.mfaEnabled) throw MfaErrors.alreadyEnabled(); // enrolled meanwhile
    const added = await this.passkeys.add(
      tenantId,
      userId,
      request.name,
      request.credential as RegistrationResponseJSON,
    );
    if (!(await this.challenges.consume(request.challengeToken)))
      throw AuthErrors.mfaChallengeInvalid();
    const tokens = await this.signIn(
      account,
      ['pwd', 'pop'],
      new Date(challenge.authTime),
      request.client,
      'mfa.verified',
    );
    return added.recoveryCodes ? { ...tokens, recoveryCodes: added.recoveryCodes } : tokens;
  }

  /** The challenge, if it requires enrolment: MFA_CHALLENGE_INVALID without it, MFA_ALREADY_ENABLED when it does not. */
  private async enrolmentChallenge(challengeToken: string) {
    const challenge = await this.challenges.find(challengeToken);
    if (!challenge) throw AuthErrors.mfaChallengeInvalid();
    if (!challenge.enrolmentRequired) throw MfaErrors.alreadyEnabled();
    return challenge;
  }

  /**
   * Opens a session and returns its tokens, with last_login_at and the login.succeeded
   * audit (plus `extraAction`, e.g. mfa.verified) in the same transaction. Refused (403
   * TENANT_SUSPENDED / TENANT_UNAVAILABLE) while the user's tenant is barred.
   */
  async signIn(
    account: Account,
    amr: string[],
    authTime: Date,
    client: ClientInfo,
    extraAction?: string,
  ): Promise<TokenSet> {
    const { tenantId, user, settings } = account;
    await this.gate.assertOpen(tenantId);
    const opened = this.sessions.open({
      tenantId,
      userId: user.id,
      amr,
      authTime,
      client,
      lifetimeSeconds: settings.refreshTokenTtlSeconds,
    });
    const data = { sessionId: opened.session.id, amr };
    await this.tx.batch(tenantId, [
      ...opened.statements,
      this.users.recordLoginStatement(tenantId, user.id, new Date()),
      ...outboxStatements([
        ...(extraAction ? [this.loginAudit(account, extraAction, client, data)] : []),
        this.loginAudit(account, 'login.succeeded', client, data),
      ]),
    ]);
    // Only audit events went to the outbox: they may wait a little to go with others.
    this.outbox.kick({ deferrable: true });
    return this.sessions.tokens(opened, user.roles, settings.accessTokenTtlSeconds);
  }

  /** An MFA challenge for an account whose password was right (the attempt is taken back). */
  async challenge(account: Account, authTime: Date): Promise<LoginResult> {
    const enrolmentRequired = !account.user.mfaEnabled;
    const methods = enrolmentRequired
      ? (['totp', 'webauthn'] as const)
      : await this.tx.run(account.tenantId, (manager) =>
          this.mfa.methodsIn(manager, account.tenantId, account.user.id),
        );
    const challengeToken = await this.challenges.create({
      tenantId: account.tenantId,
      userId: account.user.id,
      enrolmentRequired,
      authTime: authTime.toISOString(),
    });
    return {
      mfaRequired: true,
      challengeToken,
      methods: [...methods],
      enrolmentRequired,
      expiresIn: MFA_CHALLENGE_TTL_SECONDS,
    };
  }

  /** The user and their tenant's rules, in the caller's transaction. */
  async account(manager: EntityManager, tenantId: string, userId: string): Promise<Account | null> {
    const user = await this.users.findById(manager, tenantId, userId);
    return user && { tenantId, user, settings: await this.authSettings.getIn(manager, tenantId) };
  }

  /**
   * The accounts the email could mean, with their tenants' rules: in the tenants its
   * credential lookup names (only the one given, if one is). One round trip runs as that
   * tenant (the given one, or the first the lookup names) and reads the lookup, the user
   * and the settings under its row-level security; an email with accounts in several
   * tenants and no tenant given takes one more per further tenant. `rules` are the given
   * tenant's (the platform's defaults without one), for an email with no account.
   */
  private async accounts(
    email: string,
    tenantId?: string,
  ): Promise<{ accounts: Account[]; rules: LockoutRules }> {
    const [tenantIds, user, stored] = await this.tx.batch(
      tenantId ?? this.lookup.tenantOf('email', email),
      [
        this.lookup.tenantsOfStatement('email', email),
        this.users.findByEmailStatement(email),
        this.authSettings.storedStatement(),
      ],
    );
    const found: Account[] =
      user && tenantIds.includes(user.tenantId)
        ? [{ tenantId: user.tenantId, user, settings: effectiveSettings(user.tenantId, stored) }]
        : [];
    if (tenantId !== undefined)
      return { accounts: found, rules: effectiveSettings(tenantId, stored) };
    const others = await Promise.all(
      tenantIds.slice(1).map(async (other) => (await this.accounts(email, other)).accounts),
    );
    return { accounts: [...found, ...others.flat()], rules: DEFAULT_AUTH_SETTINGS };
  }

  /** One account: lockout, password, status, expiry, then tokens or a challenge. */
  private async passwordStep(account: Account, request: LoginRequest): Promise<LoginResult> {
    const { tenantId, user, settings } = account;
    const subject = accountSubject(tenantId, user.id);
    const attempt = await this.beginAttempt(account, subject, request.client);
    const authTime = new Date();
    const right = await this.check(user, request.password);
    if (!right || user.status !== 'active') {
      await this.attempts.failed(subject, attempt, settings);
      const failure = !right ? 'wrong_password' : `user_${user.status}`;
      await this.audit.record([
        this.loginAudit(account, 'login.failed', request.client, { failure }),
      ]);
      throw AuthErrors.invalidCredentials();
    }
    // After the password check, so a wrong password still gets the one usual answer.
    await this.refuseBarred(account, subject, request.client);
    if (passwordExpired(user.passwordChangedAt, settings.passwordMaxAgeDays)) {
      await this.attempts.uncount(subject);
      await this.audit.record([
        this.loginAudit(account, 'login.failed', request.client, { failure: 'password_expired' }),
      ]);
      throw AuthErrors.passwordExpired();
    }
    if (user.mfaEnabled || settings.mfaRequired) {
      await this.attempts.uncount(subject);
      return this.challenge(account, authTime);
    }
    await this.attempts.succeeded(subject);
    return this.signIn(account, ['pwd'], authTime, request.client);
  }

  /**
   * Counts the attempt toward the account's lockout and the client's IP (PasswordAttempts.begin);
   * a locked account's attempt is audited as login.failed (with `extra`) and refused.
   */
  private async beginAttempt(
    account: Account,
    subject: AttemptSubject,
    client: ClientInfo,
    extra: Record<string, unknown> = {},
  ): Promise<number> {
    try {
      return await this.attempts.begin(subject, account.settings, this.perIp({ client }));
    } catch (error) {
      if (isLocked(error))
        await this.audit.record([
          this.loginAudit(account, 'login.failed', client, { failure: 'account_locked', ...extra }),
        ]);
      throw error;
    }
  }

  /** A passkey sign-in that finds no passkey (or a spent challenge): counted per IP, audited, refused. */
  private async refuseNoPasskey(client: ClientInfo, failure: string): Promise<never> {
    await this.throttle.perIp('login', client.ip, this.loginsPerIp);
    await this.recordNoAccount(PLATFORM_TENANT_ID, client, { failure, method: 'passkey' });
    throw AuthErrors.invalidCredentials();
  }

  /** A failed sign-in that names no account (an unknown email or passkey): audited with the system as actor. */
  private async recordNoAccount(
    tenantId: string,
    client: ClientInfo,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record([
      auditEvent(
        {
          tenantId,
          category: 'auth',
          action: 'login.failed',
          outcome: 'failure',
          data: { ...data, ...clientData(client) },
        },
        SYSTEM_ACTOR,
      ),
    ]);
  }

  /**
   * After a right first factor: refused (the attempt taken back, audited as login.refused)
   * while the tenant is barred (suspended, being deleted) or requires SSO.
   */
  private async refuseBarred(
    account: Account,
    subject: AttemptSubject,
    client: ClientInfo,
  ): Promise<void> {
    const barred = await this.gate.refusal(account.tenantId);
    const refusal = barred
      ? {
          error: barred,
          reason:
            barred.reason === AuthErrorReason.TenantSuspended
              ? 'tenant_suspended'
              : 'tenant_unavailable',
        }
      : account.settings.ssoRequired
        ? { error: AuthErrors.ssoRequired(), reason: 'sso_required' }
        : null;
    if (!refusal) return;
    await this.attempts.uncount(subject);
    await this.audit.record([
      this.loginAudit(account, 'login.refused', client, { reason: refusal.reason }),
    ]);
    throw refusal.error;
  }

  /** Options to sign in with a passkey alone (PasskeyService.loginOptions); throttled per IP. */
  async passkeyLoginOptions(client: ClientInfo) {
    await this.throttle.perIp(PASSKEY_OPTIONS, client.ip, this.loginsPerIp);
    return this.passkeys.loginOptions();
  }

  /**
   * Signs in with a passkey alone: an answer to `passkeyLoginOptions` from a passkey that
   * verified its user (PIN, biometrics), which is two factors on its own (`amr` pop and mfa).
   * An unknown passkey, a wrong answer and a user not active get the one INVALID_CREDENTIALS;
   * attempts count toward the account's lockout and per IP like passwords; barred tenants
   * and tenants that require SSO refuse; every outcome is audited.
   */
  async passkeyLogin(assertion: AuthenticationResponseJSON, client: ClientInfo): Promise<TokenSet> {
    const found = await this.passkeys.findForLogin(assertion);
    if ('refused' in found) return this.refuseNoPasskey(client, found.refused);
    const { tenantId, challenge } = found;
    // The passkey and its user's account, in one transaction.
    const known = await this.tx.run(tenantId, async (manager) => {
      const passkey = await this.passkeys.findIn(manager, tenantId, assertion.id);
      const account = passkey && (await this.account(manager, tenantId, passkey.userId));
      return passkey && account && { passkey, account };
    });
    if (!known) return this.refuseNoPasskey(client, 'unknown_passkey');
    const { passkey, account } = known;
    const subject = accountSubject(tenantId, account.user.id);
    const attempt = await this.beginAttempt(account, subject, client, { method: 'passkey' });
    const right = await this.passkeys.verifyLogin(tenantId, passkey, challenge, assertion);
    if (!right || account.user.status !== 'active') {
      await this.attempts.failed(subject, attempt, account.settings);
      await this.audit.record([
        this.loginAudit(account, 'login.failed', client, {
          failure: !right ? 'wrong_passkey' : `user_${account.user.status}`,
          method: 'passkey',
        }),
      ]);
      throw AuthErrors.invalidCredentials();
    }
    await this.refuseBarred(account, subject, client);
    await this.attempts.succeeded(subject);
    return this.signIn(account, ['pop', 'mfa'], new Date(), client);
  }

  /** Several accounts, no tenant: TENANT_REQUIRED only if the password is right for one of them. */
  private async ambiguous(accounts: Account[], request: LoginRequest): Promise<never> {
    const outcomes = await Promise.all(
      accounts.map(async (account) => {
        const subject = accountSubject(account.tenantId, account.user.id);
        let attempt: number;
        try {
          attempt = await this.attempts.begin(subject, account.settings);
        } catch (error) {
          if (isLocked(error)) return 'locked' as const;
          throw error;
        }
        const right = await this.check(account.user, request.password);
        if (right && account.user.status === 'active') {
          await this.attempts.uncount(subject);
          return 'right' as const;
        }
        await this.attempts.failed(subject, attempt, account.settings);
        return 'wrong' as const;
      }),
    );
    if (outcomes.includes('right')) throw AuthErrors.tenantRequired();
    await this.audit.record(
      accounts.map((account, i) =>
        this.loginAudit(account, 'login.failed', request.client, {
          failure: outcomes[i] === 'locked' ? 'account_locked' : 'wrong_password',
          tenantGiven: false,
        }),
      ),
    );
    throw AuthErrors.invalidCredentials();
  }

  /** No account: the same work as a wrong password (dummy verification, counted attempt, audit). */
  private async unknown(
    email: string,
    tenantId: string,
    rules: LockoutRules,
    request: LoginRequest,
  ): Promise<never> {
    const subject = unknownEmailSubject(email);
    const attempt = await this.attempts.begin(subject, rules, this.perIp(request));
    await this.hasher.verifyNothing(request.password);
    await this.attempts.failed(subject, attempt, rules);
    await this.recordNoAccount(tenantId, request.client, {
      failure: 'unknown_account',
      emailSha256: sha256Hex(email),
      ...(request.tenant ? { tenant: request.tenant } : {}),
    });
    throw AuthErrors.invalidCredentials();
  }

  /** Whether the password is the user's; a user without one costs a dummy verification. */
  private check(user: UserEntity, password: string): Promise<boolean> {
    return user.passwordHash
      ? this.hasher.verify(user.passwordHash, password)
      : this.hasher.verifyNothing(password);
  }

  private async secondFactor(
    manager: EntityManager,
    account: Account,
    enrolmentRequired: boolean,
    code: string,
  ): Promise<{ factor: SecondFactor; recoveryCodes?: string[] } | null> {
    const { tenantId, user } = account;
    if (enrolmentRequired && !(await this.mfa.enabledIn(manager, tenantId, user.id))) {
      const recoveryCodes = await this.mfa.confirmIn(manager, tenantId, user.id, code);
      return recoveryCodes ? { factor: 'otp', recoveryCodes } : null;
    }
    const factor = await this.mfa.verifyIn(manager, tenantId, user.id, code);
    return factor ? { factor } : null;
  }

  private get loginsPerIp(): number {
    return this.identitySettings.loginAttemptsPerIpPerMinute;
  }

  /** The request's count against its IP's login limit, taken with the account's attempt (one round trip). */
  private perIp(request: { client: ClientInfo }): PerIpLimit {
    return this.throttle.perIpLimit('login', request.client.ip, this.loginsPerIp);
  }

  private loginAudit(
    account: Account,
    action: string,
    client: ClientInfo,
    data: Record<string, unknown>,
  ) {
    const failed = action.endsWith('.failed') || action.endsWith('.refused');
    return auditEvent(
      {
        tenantId: account.tenantId,
        category: 'auth',
        action,
        outcome: failed ? 'failure' : 'success',
        target: { type: 'user', id: account.user.id },
        data: { ...data, ...clientData(client) },
      },
      principalActor(account.tenantId, account.user.id),
    );
  }
}

function clientData(client: ClientInfo): Record<string, string> {
  return { ip: client.ip, ...(client.userAgent ? { userAgent: client.userAgent } : {}) };
}

function isLocked(error: unknown): boolean {
  return error instanceof AppError && error.reason === AttemptErrorReason.AccountLocked;
}
