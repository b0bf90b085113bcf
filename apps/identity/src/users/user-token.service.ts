import { Inject, Injectable } from '@nestjs/common';
import { TenantTransactions } from '@tenantry/persistence';
import type { EntityManager } from 'typeorm';
import { issueSecretToken, parseSecretToken, secretMatches } from '../core/secret-token.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { UserTokenEntity, type UserTokenKind } from './user-token.entity.js';
import { UserTokenRepository } from './user-token.repository.js';
import type { UserEntity } from './user.entity.js';
import { UserErrors } from './user.errors.js';
import { UserRepository } from './user.repository.js';

/** Invitations work for 7 days, password-reset links for an hour. */
export const USER_TOKEN_LIFETIME_MS: Record<UserTokenKind, number> = {
  invitation: 7 * 24 * 60 * 60 * 1000,
  password_reset: 60 * 60 * 1000,
};

/** The user a token may be redeemed for: an invitation for an invited user, a reset for an active one. */
const REDEEMABLE_STATUS: Record<UserTokenKind, UserEntity['status']> = {
  invitation: 'invited',
  password_reset: 'active',
};

/** One-time link tokens (`<id>.<secret>`, stored hashed): invitations and password resets. */
@Injectable()
export class UserTokenService {
  constructor(
    @Inject(UserTokenRepository) private readonly tokens: UserTokenRepository,
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
  ) {}

  /**
   * A new token of `kind` for the user, in the caller's transaction; the user's earlier
   * unused tokens of that kind stop working. The token is returned once, never stored.
   */
  async issue(
    manager: EntityManager,
    user: UserEntity,
    kind: UserTokenKind,
  ): Promise<{ token: string; expiresAt: Date }> {
    const replaced = await this.tokens.deleteUnused(manager, user.tenantId, user.id, kind);
    await this.lookup.remove(manager, 'user_token', replaced, user.tenantId);
    const issued = issueSecretToken();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + USER_TOKEN_LIFETIME_MS[kind]);
    await this.tokens.insert(
      manager,
      Object.assign(new UserTokenEntity(), {
        id: issued.id,
        tenantId: user.tenantId,
        userId: user.id,
        kind,
        secretHash: issued.hash,
        expiresAt,
        usedAt: null,
        createdAt: now,
      }),
    );
    await this.lookup.add(manager, 'user_token', issued.id, user.tenantId);
    return { token: issued.token, expiresAt };
  }

  /**
   * Redeems a token of `kind` once: in one transaction of its tenant, with the token and
   * its user locked, runs `work` and marks the token used. A malformed, unknown, expired,
   * used or replaced token, or a user not in the right status, is USER_TOKEN_INVALID; if
   * `work` throws, nothing is written and the token still works.
   */
  async redeem<T>(
    token: string,
    kind: UserTokenKind,
    work: (manager: EntityManager, user: UserEntity) => Promise<T>,
  ): Promise<T> {
    const parsed = parseSecretToken(token);
    if (!parsed) throw UserErrors.tokenInvalid();
    const [tenantId, ...others] = await this.lookup.tenantsOf('user_token', parsed.id);
    if (!tenantId || others.length) throw UserErrors.tokenInvalid();
    return this.tx.run(tenantId, async (manager) => {
      const row = await this.tokens.findForUpdate(manager, tenantId, parsed.id);
      const now = new Date();
      if (
        !row ||
        row.kind !== kind ||
        row.usedAt !== null ||
        row.expiresAt <= now ||
        !secretMatches(parsed.secret, row.secretHash)
      )
        throw UserErrors.tokenInvalid();
      const user = await this.users.findById(manager, tenantId, row.userId, true);
      if (!user || user.status !== REDEEMABLE_STATUS[kind]) throw UserErrors.tokenInvalid();
      const result = await work(manager, user);
      await this.tokens.markUsed(manager, tenantId, row.id, now);
      return result;
    });
  }

  /** The ids of all the user's tokens, for forgetting their lookups when the user goes. */
  idsOfUser(manager: EntityManager, tenantId: string, userId: string): Promise<string[]> {
    return this.tokens.idsOfUser(manager, tenantId, userId);
  }
}
