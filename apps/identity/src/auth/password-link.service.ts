import { Inject, Injectable } from '@nestjs/common';
import {
  type AcceptInvitationRequestSchema,
  type LoginResult,
  type PasswordResetCompleteRequestSchema,
  type PasswordResetRequestSchema,
} from '@tenantry/contracts';
import { addToOutbox, Outbox, TenantTransactions } from '@tenantry/persistence';
import type { z } from 'zod';
import { AuthSettingsService } from '../auth-settings/auth-settings.service.js';
import { auditEvent, principalActor } from '../core/audit.js';
import { normalizeEmail } from '../core/email.js';
import { TenantDirectory } from '../core/tenant-directory.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { MailService } from '../mail/mail.service.js';
import { passwordResetMail } from '../mail/mail.templates.js';
import { accountSubject, PasswordAttempts } from '../passwords/password-attempts.js';
import { PasswordService } from '../passwords/password.service.js';
import { SessionService } from '../sessions/session.service.js';
import { UserTokenService } from '../users/user-token.service.js';
import { UserRepository } from '../users/user.repository.js';
import { LoginService } from './login.service.js';
import {
  RequestThrottle,
  RESET_MAILS_PER_ACCOUNT_PER_HOUR,
  RESET_REQUESTS_PER_IP_PER_MINUTE,
} from './request-throttle.js';
import { TenantGate } from './tenant-gate.js';

type AcceptInvitationRequest = z.output<typeof AcceptInvitationRequestSchema>;
type PasswordResetRequest = z.output<typeof PasswordResetRequestSchema>;
type PasswordResetCompleteRequest = z.output<typeof PasswordResetCompleteRequestSchema>;

/** What the emailed one-time links do: accept an invitation, reset a password. */
@Injectable()
export class PasswordLinkService {
  constructor(
    @Inject(UserTokenService) private readonly userTokens: UserTokenService,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(PasswordService) private readonly passwords: PasswordService,
    @Inject(PasswordAttempts) private readonly attempts: PasswordAttempts,
    @Inject(AuthSettingsService) private readonly authSettings: AuthSettingsService,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(LoginService) private readonly login: LoginService,
    @Inject(MailService) private readonly mail: MailService,
    @Inject(RequestThrottle) private readonly throttle: RequestThrottle,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(TenantGate) private readonly gate: TenantGate,
    @InjectIdentitySettings() private readonly settings: IdentitySettings,
  ) {}

  /**
   * Redeems an invitation once: the user becomes active with the password chosen (checked
   * against the tenant's policy; a refused password leaves the link usable) and is signed
   * in (amr ["pwd"]). Audited (invitation.accepted). When the tenant requires MFA the
   * answer is the login challenge that enrols a second factor instead (no tokens without
   * one), as a sign-in with the new password would give. While the tenant is barred
   * (suspended, being deleted, ...) the link is refused and stays usable.
   */
  async acceptInvitation(request: AcceptInvitationRequest): Promise<LoginResult> {
    const now = new Date();
    const account = await this.userTokens.redeem(
      request.token,
      'invitation',
      async (manager, user) => {
        const { tenantId } = user;
        await this.gate.assertOpen(tenantId);
        const settings = await this.authSettings.getIn(manager, tenantId);
        const passwordHash = await this.passwords.choose(manager, {
          tenantId,
          userId: user.id,
          password: request.password,
          settings,
          field: 'password',
        });
        const change = {
          status: 'active' as const,
          passwordHash,
          passwordChangedAt: now,
          ...(request.displayName ? { displayName: request.displayName } : {}),
        };
        await this.users.update(manager, tenantId, user.id, change);
        await this.passwords.remember(manager, tenantId, user.id, passwordHash);
        await addToOutbox(manager, [
          auditEvent(
            {
              tenantId,
              category: 'users',
              action: 'invitation.accepted',
              target: { type: 'user', id: user.id },
              data: { ip: request.client.ip },
            },
            principalActor(tenantId, user.id),
          ),
        ]);
        return { tenantId, user: Object.assign(user, change), settings };
      },
    );
    this.outbox.kick();
    if (account.settings.mfaRequired) return this.login.challenge(account, now);
    return this.login.signIn(account, ['pwd'], now, request.client);
  }

  /**
   * Always `{accepted: true}`, whether or not the email has an account (no enumeration).
   * Each active account of the email (in the tenant named, if one is) gets a one-time link
   * valid for an hour that replaces any earlier one; at most a few per account per hour.
   */
  async requestPasswordReset(request: PasswordResetRequest): Promise<{ accepted: true }> {
    await this.throttle.perIp(
      'password-reset',
      request.client.ip,
      RESET_REQUESTS_PER_IP_PER_MINUTE,
    );
    const email = normalizeEmail(request.email);
    const named =
      request.tenant === undefined ? undefined : await this.tenants.bySlug(request.tenant);
    let tenantIds = await this.lookup.tenantsOf('email', email);
    if (request.tenant !== undefined)
      tenantIds = named && tenantIds.includes(named.id) ? [named.id] : [];
    let queued = false;
    for (const tenantId of tenantIds) {
      queued = (await this.resetLink(tenantId, email, request)) || queued;
    }
    if (queued) {
      this.outbox.kick();
      this.mail.kick();
    }
    return { accepted: true };
  }

  /**
   * Redeems a reset link once: sets the new password (policy and history), revokes every
   * session of the user and ends any lockout. Audited (password.reset).
   */
  async completePasswordReset(request: PasswordResetCompleteRequest): Promise<{ accepted: true }> {
    const { tenantId, userId } = await this.userTokens.redeem(
      request.token,
      'password_reset',
      async (manager, user) => {
        const { tenantId } = user;
        const settings = await this.authSettings.getIn(manager, tenantId);
        const passwordHash = await this.passwords.choose(manager, {
          tenantId,
          userId: user.id,
          password: request.password,
          settings,
          field: 'password',
        });
        await this.users.update(manager, tenantId, user.id, {
          passwordHash,
          passwordChangedAt: new Date(),
        });
        await this.passwords.remember(manager, tenantId, user.id, passwordHash);
        const revoked = await this.sessions.revokeAllQuietly(
          manager,
          tenantId,
          user.id,
          'password_reset',
        );
        await addToOutbox(manager, [
          auditEvent(
            {
              tenantId,
              category: 'auth',
              action: 'password.reset',
              target: { type: 'user', id: user.id },
              data: { revokedSessions: revoked, ip: request.client.ip },
            },
            principalActor(tenantId, user.id),
          ),
        ]);
        return { tenantId, userId: user.id };
      },
    );
    this.outbox.kick();
    await this.attempts.clear(accountSubject(tenantId, userId));
    return { accepted: true };
  }

  /** A reset link for the active user with this email in the tenant, if there is one; true when mail was queued. */
  private async resetLink(
    tenantId: string,
    email: string,
    request: PasswordResetRequest,
  ): Promise<boolean> {
    const tenantName = await this.tenants
      .byId(tenantId)
      .then((tenant) => tenant.name)
      .catch(() => 'your organization');
    return this.tx.run(tenantId, async (manager) => {
      const user = await this.users.findByEmail(manager, tenantId, email);
      if (!user || user.status !== 'active') return false;
      const perAccount = await this.throttle.hit(
        'password-reset-mail',
        user.id,
        RESET_MAILS_PER_ACCOUNT_PER_HOUR,
        3600,
      );
      if (!perAccount.allowed) return false;
      const { token, expiresAt } = await this.userTokens.issue(manager, user, 'password_reset');
      await this.mail.queue(
        manager,
        passwordResetMail({
          to: user.email,
          tenantName,
          appUrl: this.settings.appUrl,
          token,
          expiresAt,
        }),
      );
      await addToOutbox(manager, [
        auditEvent(
          {
            tenantId,
            category: 'auth',
            action: 'password-reset.requested',
            target: { type: 'user', id: user.id },
            data: { ip: request.client.ip },
          },
          principalActor(tenantId, user.id),
        ),
      ]);
      return true;
    });
  }
}
