import { Inject, Injectable } from '@nestjs/common';
import {
  IdentityEvents,
  PLATFORM_TENANT_ID,
  type ClientInfo,
  type Session,
  type TokenSet,
} from '@tenantry/contracts';
import { messageContext } from '@tenantry/messaging';
import {
  addToOutbox,
  Outbox,
  outboxEvent,
  TenantTransactions,
  type OutboxMessage,
  type Statement,
} from '@tenantry/persistence';
import { uuidv7 } from '@tenantry/runtime';
import type { EntityManager } from 'typeorm';
import { auditEvent } from '../core/audit.js';
import { issueSecretToken, secretMatches } from '../core/secret-token.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import {
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  SigningKeyService,
} from '../signing-keys/signing-key.service.js';
import { RefreshTokenEntity } from './refresh-token.entity.js';
import { RefreshTokenRepository } from './refresh-token.repository.js';
import { idleExpired, refreshDecision } from './refresh-rotation.js';
import { SessionEntity } from './session.entity.js';
import { SessionErrors } from './session.errors.js';
import { SessionRepository, type RevokeWhich } from './session.repository.js';

export interface OpenSession {
  tenantId: string;
  userId: string;
  amr: string[];
  authTime: Date;
  client: ClientInfo;
  /** The session (and its refresh tokens) ends this long after it opened. */
  lifetimeSeconds: number;
}

/** A session with the refresh token just issued for it (shown once). */
export interface IssuedRefresh {
  session: SessionEntity;
  refreshToken: string;
}

/** A session just opened with its first refresh token, and the statements that store them. */
export interface OpenedSession extends IssuedRefresh {
  /** The session, its refresh token and the token's lookup: statements of the caller's batch. */
  statements: Statement[];
}

/** What presenting a refresh token came to; `reused` revoked the session (commit, then refuse). */
export type RotationOutcome =
  | ({ kind: 'rotated' } & IssuedRefresh)
  | { kind: 'reused'; session: SessionEntity }
  | { kind: 'invalid' };

/**
 * Sessions and their refresh-token families: opened at sign-in, rotated on every refresh
 * (with reuse detection), revoked one by one or all at once. Every revocation publishes
 * IdentityEvents.sessionRevoked through the outbox, in the transaction that revokes.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(SessionRepository) private readonly sessions: SessionRepository,
    @Inject(RefreshTokenRepository) private readonly refreshTokens: RefreshTokenRepository,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(SigningKeyService) private readonly keys: SigningKeyService,
    @Inject(TenantTransactions) private readonly tx: TenantTransactions,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /**
   * Opens a session with its first refresh token: the caller runs the statements in its
   * tenant's batch (TenantTransactions.batch), with whatever else commits with them.
   */
  open(request: OpenSession): OpenedSession {
    const now = new Date();
    const session = Object.assign(new SessionEntity(), {
      id: uuidv7(),
      tenantId: request.tenantId,
      userId: request.userId,
      amr: request.amr,
      authTime: request.authTime,
      ip: request.client.ip,
      userAgent: request.client.userAgent ?? null,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + request.lifetimeSeconds * 1000),
      revokedAt: null,
      revokedReason: null,
    });
    const refresh = newRefreshToken(session, null, now);
    return {
      session,
      refreshToken: refresh.token,
      statements: [
        this.sessions.insertStatement(session),
        this.refreshTokens.insertStatement(refresh.row),
        this.lookup.addStatement('refresh_token', refresh.row.id, session.tenantId),
      ],
    };
  }

  /** The token set of a session: a new access token (roles as given) and the refresh token. */
  async tokens(
    issued: IssuedRefresh,
    roles: string[],
    accessTokenTtlSeconds: number,
  ): Promise<TokenSet> {
    const { session } = issued;
    const ttlSeconds = Math.min(accessTokenTtlSeconds, MAX_ACCESS_TOKEN_TTL_SECONDS);
    const accessToken = await this.keys.signAccessToken({
      sub: session.userId,
      tid: session.tenantId === PLATFORM_TENANT_ID ? null : session.tenantId,
      sid: session.id,
      roles,
      amr: session.amr,
      authTime: session.authTime,
      ttlSeconds,
    });
    return {
      accessToken,
      refreshToken: issued.refreshToken,
      expiresIn: ttlSeconds,
      tokenType: 'Bearer',
    };
  }

  /**
   * Presents refresh token `id`/`secret` of `tenantId` in the caller's transaction, locking
   * it so concurrent presentations take turns: a current token is spent and replaced; one
   * spent within the grace gets another replacement; one spent earlier revokes the session
   * (event and audit added; the caller commits, then refuses). A session unused for longer
   * than `idleTimeoutSeconds` (the tenant's idle timeout; null: none) is revoked as
   * `idle_timeout` and the token is invalid.
   */
  async rotate(
    manager: EntityManager,
    tenantId: string,
    id: string,
    secret: string,
    idleTimeoutSeconds: number | null = null,
  ): Promise<RotationOutcome> {
    const token = await this.refreshTokens.findForUpdate(manager, tenantId, id);
    if (!token || !secretMatches(secret, token.secretHash)) return { kind: 'invalid' };
    const session = await this.sessions.findById(manager, tenantId, token.sessionId);
    if (!session) return { kind: 'invalid' };
    const now = new Date();
    const decision = refreshDecision(token, session, now);
    if (decision === 'invalid') return { kind: 'invalid' };
    if (decision === 'reuse') {
      const [revoked] = await this.sessions.revoke(
        manager,
        tenantId,
        { userId: session.userId, sessionId: session.id },
        'refresh_token_reuse',
      );
      await addToOutbox(manager, [
        ...this.revocationEvents([revoked ?? session]),
        auditEvent({
          tenantId,
          category: 'auth',
          action: 'refresh-token.reused',
          outcome: 'failure',
          target: { type: 'session', id: session.id },
          data: { sessionId: session.id, userId: session.userId, refreshTokenId: id },
        }),
      ]);
      return { kind: 'reused', session };
    }
    if (idleExpired(session, now, idleTimeoutSeconds)) {
      await this.revokeIn(
        manager,
        tenantId,
        { userId: session.userId, sessionId: session.id },
        'idle_timeout',
      );
      return { kind: 'invalid' };
    }
    if (decision === 'rotate') await this.refreshTokens.markUsed(manager, tenantId, id, now);
    await this.sessions.touch(manager, tenantId, session.id, now);
    return {
      kind: 'rotated',
      session,
      refreshToken: await this.issueRefresh(manager, session, id, now),
    };
  }

  /** The user's active sessions, newest first. */
  async list(tenantId: string, userId: string): Promise<{ items: Session[] }> {
    const sessions = await this.sessions.listActive(tenantId, userId);
    return { items: sessions.map(toContract) };
  }

  /** Revokes one of the user's sessions (audited; announced to the gateways); an already revoked one is returned as it is. */
  async revoke(tenantId: string, userId: string, sessionId: string): Promise<Session> {
    const session = await this.tx.run(tenantId, async (manager) => {
      const found = await this.sessions.findById(manager, tenantId, sessionId);
      if (!found || found.userId !== userId) throw SessionErrors.notFound(sessionId);
      const [revoked] = await this.revokeIn(manager, tenantId, { userId, sessionId }, 'revoked');
      return revoked ?? found;
    });
    this.outbox.kick();
    return toContract(session);
  }

  /** Revokes every session of the user, or all but `exceptSessionId` ("sign out everywhere else"); audited. */
  async revokeAll(
    tenantId: string,
    userId: string,
    exceptSessionId?: string,
  ): Promise<{ revoked: number }> {
    const revoked = await this.tx.run(tenantId, async (manager) => {
      const sessions = await this.sessions.revoke(
        manager,
        tenantId,
        { userId, exceptSessionId },
        'revoked_all',
      );
      await addToOutbox(manager, [
        ...this.revocationEvents(sessions),
        auditEvent({
          tenantId,
          category: 'auth',
          action: 'sessions.revoked',
          target: { type: 'user', id: userId },
          data: { count: sessions.length, exceptSessionId: exceptSessionId ?? null },
        }),
      ]);
      return sessions.length;
    });
    this.outbox.kick();
    return { revoked };
  }

  /** Ends a session at its user's request (logout); audited. A session already gone is fine. */
  async logout(tenantId: string, sessionId: string): Promise<void> {
    const revoked = await this.tx.run(tenantId, async (manager) => {
      const session = await this.sessions.findById(manager, tenantId, sessionId);
      if (!session) return 0;
      return (
        await this.revokeIn(manager, tenantId, { userId: session.userId, sessionId }, 'logout')
      ).length;
    });
    if (revoked) this.outbox.kick();
  }

  /**
   * Revokes the matching sessions in the caller's transaction with their events and one
   * `session.revoked` audit each; returns those it revoked.
   */
  async revokeIn(
    manager: EntityManager,
    tenantId: string,
    which: RevokeWhich,
    reason: string,
  ): Promise<SessionEntity[]> {
    const sessions = await this.sessions.revoke(manager, tenantId, which, reason);
    await addToOutbox(manager, [
      ...this.revocationEvents(sessions),
      ...sessions.map((s) =>
        auditEvent({
          tenantId,
          category: 'auth',
          action: 'session.revoked',
          target: { type: 'session', id: s.id },
          data: { userId: s.userId, reason },
        }),
      ),
    ]);
    return sessions;
  }

  /** Revokes all the user's sessions with their events but no audit of their own (the caller's audit says why). */
  async revokeAllQuietly(
    manager: EntityManager,
    tenantId: string,
    userId: string,
    reason: string,
  ): Promise<number> {
    const sessions = await this.sessions.revoke(manager, tenantId, { userId }, reason);
    await addToOutbox(manager, this.revocationEvents(sessions));
    return sessions.length;
  }

  /**
   * Revokes every live session of every user of the tenant (a suspended tenant), with one
   * revocation event each for the gateways but no audit of their own (the caller's audit
   * says why); returns how many.
   */
  async revokeTenantQuietly(
    manager: EntityManager,
    tenantId: string,
    reason: string,
  ): Promise<number> {
    const sessions = await this.sessions.revokeAllOfTenant(manager, tenantId, reason);
    await addToOutbox(manager, this.revocationEvents(sessions));
    return sessions.length;
  }

  /** The ids of all the user's refresh tokens (whose lookups go when the user does). */
  refreshTokenIdsOf(manager: EntityManager, tenantId: string, userId: string): Promise<string[]> {
    return this.refreshTokens.idsOfUser(manager, tenantId, userId);
  }

  /** One sessionRevoked event per session: every gateway refuses its access tokens from now on. */
  private revocationEvents(sessions: SessionEntity[]): OutboxMessage[] {
    const until = new Date(Date.now() + MAX_ACCESS_TOKEN_TTL_SECONDS * 1000).toISOString();
    return sessions.map((s) =>
      outboxEvent(
        IdentityEvents.sessionRevoked.schema,
        IdentityEvents.sessionRevoked.subject,
        { sessionId: s.id, tenantId: s.tenantId, userId: s.userId, until },
        `session-revoked:${s.id}`,
        messageContext.current(),
      ),
    );
  }

  private async issueRefresh(
    manager: EntityManager,
    session: SessionEntity,
    parentId: string | null,
    now: Date,
  ): Promise<string> {
    const { token, row } = newRefreshToken(session, parentId, now);
    await this.refreshTokens.insert(manager, row);
    await this.lookup.add(manager, 'refresh_token', row.id, session.tenantId);
    return token;
  }
}

/** A new refresh token of the session's family: the token (shown once) and its row (the secret only hashed). */
function newRefreshToken(
  session: SessionEntity,
  parentId: string | null,
  now: Date,
): { token: string; row: RefreshTokenEntity } {
  const issued = issueSecretToken();
  return {
    token: issued.token,
    row: Object.assign(new RefreshTokenEntity(), {
      id: issued.id,
      tenantId: session.tenantId,
      sessionId: session.id,
      secretHash: issued.hash,
      parentId,
      createdAt: now,
      expiresAt: session.expiresAt,
      usedAt: null,
    }),
  };
}

function toContract(session: SessionEntity): Session {
  return {
    id: session.id,
    tenantId: session.tenantId,
    userId: session.userId,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    revokedAt: session.revokedAt?.toISOString() ?? null,
    amr: session.amr,
    ip: session.ip,
    userAgent: session.userAgent,
  };
}
