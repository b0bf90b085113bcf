import { Inject, Injectable } from '@nestjs/common';
import type { TokenSet } from '@tenantry/contracts';
import { Outbox, TenantTransactions } from '@tenantry/persistence';
import { AuthSettingsService } from '../auth-settings/auth-settings.service.js';
import { parseSecretToken } from '../core/secret-token.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { SessionService } from '../sessions/session.service.js';
import { UserRepository } from '../users/user.repository.js';
import { AuthErrors } from './auth.errors.js';
import { TenantGate } from './tenant-gate.js';

/** Refresh-token exchange and logout. */
@Injectable()
export class RefreshService {
  constructor(
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(AuthSettingsService) private readonly authSettings: AuthSettingsService,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(TenantGate) private readonly gate: TenantGate,
  ) {}

  /**
   * A new token set for a refresh token, which is spent. A token spent within the last
   * few seconds (a concurrent refresh, a lost response) gets a new set too; one spent
   * earlier is reuse: the session is revoked (and announced) and the answer is
   * REFRESH_TOKEN_REUSED. The access token carries the user's roles as they are now. A
   * session idle for longer than the tenant's `sessionIdleTimeoutSeconds` ends; a barred
   * tenant's (suspended, being deleted, ...) refreshes are refused with 403.
   */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const parsed = parseSecretToken(refreshToken);
    if (!parsed) throw AuthErrors.refreshTokenInvalid();
    const [tenantId, ...others] = await this.lookup.tenantsOf('refresh_token', parsed.id);
    if (!tenantId || others.length) throw AuthErrors.refreshTokenInvalid();
    await this.gate.assertOpen(tenantId);
    const result = await this.tx.run(tenantId, async (manager) => {
      const settings = await this.authSettings.getIn(manager, tenantId);
      const outcome = await this.sessions.rotate(
        manager,
        tenantId,
        parsed.id,
        parsed.secret,
        settings.sessionIdleTimeoutSeconds,
      );
      if (outcome.kind !== 'rotated') return { outcome };
      const { session } = outcome;
      const user = await this.users.findById(manager, tenantId, session.userId);
      if (user?.status !== 'active') {
        // Disabling revokes sessions; this only catches a session that slipped through.
        await this.sessions.revokeIn(
          manager,
          tenantId,
          { userId: session.userId, sessionId: session.id },
          'user_not_active',
        );
        return { outcome: { kind: 'invalid' as const } };
      }
      return { outcome, user, settings };
    });
    const { outcome } = result;
    if (outcome.kind === 'reused') {
      this.outbox.kick();
      throw AuthErrors.refreshTokenReused();
    }
    if (outcome.kind !== 'rotated' || !result.user || !result.settings) {
      this.outbox.kick();
      throw AuthErrors.refreshTokenInvalid();
    }
    return this.sessions.tokens(outcome, result.user.roles, result.settings.accessTokenTtlSeconds);
  }

  /** Ends the session (its refresh tokens stop working, gateways refuse its access tokens). */
  async logout(tenantId: string, sessionId: string): Promise<{ accepted: true }> {
    await this.sessions.logout(tenantId, sessionId);
    return { accepted: true };
  }
}
