import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AppError,
  Cursor,
  parseActor,
  PLATFORM_TENANT_ID,
  SSO_SETUP_ALLOWED,
  SSO_SETUP_LINK_DEFAULT_HOURS,
  SSO_SETUP_SESSION_MAX_SECONDS,
  SsoSetupErrorReason,
  tenantNotFound,
  UuidSchema,
  type CreatedScimDirectory,
  type CreatedSsoSetupLink,
  type CreateSsoConnectionBody,
  type RpcPayload,
  type RpcResponse,
  type ScimDirectoryRpc,
  type SsoConnection,
  type SsoConnectionRpc,
  type SsoSetupLink,
  type SsoSetupLinkRpc,
  type SsoSetupLinkStatus,
  type SsoSetupRpc,
  type SsoSetupSession,
} from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { z } from 'zod';
import { auditEvent } from '../core/audit.js';
import { AuditWriter } from '../core/audit-writer.js';
import { issueSecretToken, parseSecretToken, secretMatches } from '../core/secret-token.js';
import { TenantDirectory } from '../core/tenant-directory.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { InjectIdentitySettings, type IdentitySettings } from '../identity.settings.js';
import { ScimDirectoryService } from '../scim/scim-directory.service.js';
import { SsoConnectionService } from '../sso-connections/sso-connection.service.js';
import { SsoSetupLinkEntity } from './sso-setup-link.entity.js';
import { SsoSetupLinkRepository } from './sso-setup-link.repository.js';
import { SsoSetupSessionStore, type SsoSetupSessionState } from './sso-setup-session.store.js';
import { SsoSetupErrors } from './sso-setup.errors.js';

type LinkRequest<K extends keyof typeof SsoSetupLinkRpc> = RpcPayload<(typeof SsoSetupLinkRpc)[K]>;
type SetupRequest<K extends keyof typeof SsoSetupRpc> = RpcPayload<(typeof SsoSetupRpc)[K]>;

const LinkCursor = z.tuple([UuidSchema]);

/** Why an opening was refused, in its audit entry. */
const REFUSALS: Partial<Record<string, string>> = {
  [SsoSetupErrorReason.LinkInvalid]: 'secret_mismatch',
  [SsoSetupErrorReason.LinkUsed]: 'already_opened',
  [SsoSetupErrorReason.LinkExpired]: 'expired',
  [SsoSetupErrorReason.LinkRevoked]: 'revoked',
};

/**
 * The actor of everything done through a setup session (and of its opening), in audit
 * events and `createdBy`: the link names who let it happen.
 */
export function ssoSetupLinkActor(linkId: string): string {
  return `service:sso-setup-link/${linkId}`;
}

/** A link's status at `now`: revoked, else opened, else expired or pending. */
export function linkStatus(link: SsoSetupLinkEntity, now: Date): SsoSetupLinkStatus {
  if (link.revokedAt) return 'revoked';
  if (link.openedAt) return 'opened';
  return link.expiresAt.getTime() <= now.getTime() ? 'expired' : 'pending';
}

/** The actor of the request being handled (`<kind>:<id>`), or identity itself when nobody called. */
function currentActor(): string {
  const actor = parseActor(messageContext.current()?.actor);
  return actor ? `${actor.type}:${actor.id}` : 'service:identity';
}

/**
 * Self-service SSO setup. A tenant's admin makes one-time, expiring setup links (and lists
 * and revokes them); the holder of a link exchanges it, once, for a setup session (in
 * Redis, at most an hour) that can manage the tenant's SSO connections and SCIM
 * directories through SsoConnectionService and ScimDirectoryService, and nothing else.
 * Every action of a session runs as the actor `service:sso-setup-link/<link id>`, so the
 * audit events of those services name the link.
 */
@Injectable()
export class SsoSetupService {
  private readonly logger = new Logger('SsoSetupService');

  constructor(
    @Inject(SsoSetupLinkRepository) private readonly links: SsoSetupLinkRepository,
    @Inject(SsoSetupSessionStore) private readonly sessions: SsoSetupSessionStore,
    @Inject(CredentialLookupRepository) private readonly lookup: CredentialLookupRepository,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(SsoConnectionService) private readonly connections: SsoConnectionService,
    @Inject(ScimDirectoryService) private readonly directories: ScimDirectoryService,
    @Inject(AuditWriter) private readonly auditWriter: AuditWriter,
    @Inject(Outbox) private readonly outbox: Outbox,
    @InjectIdentitySettings() private readonly settings: Pick<IdentitySettings, 'appUrl'>,
  ) {}

  // -------------------------------------------------------------------------------------
  // Links (the tenant's admin)
  // -------------------------------------------------------------------------------------

  /**
   * Makes a link valid for `expiresInHours` (default 72); its token, and the URL carrying
   * it in the fragment, are returned here only. Audited (sso_setup_link.created).
   */
  async createLink({
    tenantId,
    expiresInHours,
  }: LinkRequest<'create'>): Promise<CreatedSsoSetupLink> {
    if (tenantId === PLATFORM_TENANT_ID) throw tenantNotFound(tenantId);
    const tenant = await this.tenants.byId(tenantId);
    const now = new Date();
    const hours = expiresInHours ?? SSO_SETUP_LINK_DEFAULT_HOURS;
    const token = issueSecretToken();
    const link = Object.assign(new SsoSetupLinkEntity(), {
      id: token.id,
      tenantId: tenant.id,
      secretHash: token.hash,
      createdBy: currentActor(),
      createdAt: now,
      expiresAt: new Date(now.getTime() + hours * 3600_000),
      openedAt: null,
      revokedAt: null,
    });
    await this.links.insert(link, [
      this.audit('sso_setup_link.created', link, { expiresAt: link.expiresAt.toISOString() }),
    ]);
    this.outbox.kick();
    return {
      ...toContract(link, now),
      token: token.token,
      url: `${this.settings.appUrl}/sso-setup#token=${encodeURIComponent(token.token)}`,
    };
  }

  async getLink({ tenantId, linkId }: LinkRequest<'get'>): Promise<SsoSetupLink> {
    const link = await this.links.findById(tenantId, linkId);
    if (!link) throw SsoSetupErrors.notFound(linkId);
    return toContract(link, new Date());
  }

  /** Newest first (ids are UUIDv7); the cursor is the last id of the previous page. */
  async listLinks({
    tenantId,
    limit,
    cursor,
  }: LinkRequest<'list'>): Promise<RpcResponse<typeof SsoSetupLinkRpc.list>> {
    const before = cursor ? Cursor.decode(cursor, LinkCursor)[0] : undefined;
    const rows = await this.links.list(tenantId, limit + 1, before);
    const page = rows.slice(0, limit);
    const now = new Date();
    return {
      items: page.map((link) => toContract(link, now)),
      nextCursor: rows.length > limit ? Cursor.encode([page[page.length - 1]!.id]) : null,
    };
  }

  /**
   * Revokes a link: it cannot be opened any more, and the session opened with it ends at
   * once (every session request also checks its link in the database, so it ends even if
   * Redis could not be told). Revoking a revoked link returns it unchanged. Audited
   * (sso_setup_link.revoked).
   */
  async revokeLink({ tenantId, linkId }: LinkRequest<'revoke'>): Promise<SsoSetupLink> {
    const now = new Date();
    const result = await this.links.revoke(tenantId, linkId, now, (link) => [
      this.audit('sso_setup_link.revoked', link, { wasOpened: link.openedAt !== null }),
    ]);
    if (!result) throw SsoSetupErrors.notFound(linkId);
    if (result.revokedNow) this.outbox.kick();
    await this.sessions
      .endForLink(linkId)
      .catch((error: unknown) =>
        this.logger.warn(
          `could not delete the setup session of revoked link ${linkId} from Redis (refused anyway: its link is revoked): ${(error as Error).message}`,
        ),
      );
    return toContract(result.link, now);
  }

  // -------------------------------------------------------------------------------------
  // The setup session (the link's holder)
  // -------------------------------------------------------------------------------------

  /**
   * Exchanges a link's token for a setup session, once: the link's row is locked, checked
   * (secret, not revoked, not opened, not expired), the session stored, and opened_at set
   * in one transaction, so of two concurrent openings exactly one wins. The session lasts
   * an hour, or until the link expires when that comes first. Audited
   * (sso_setup_link.opened, or .open_refused for a known link).
   */
  async openSession({ token, client }: SetupRequest<'openSession'>): Promise<SsoSetupSession> {
    const parsed = parseSecretToken(token);
    if (!parsed) throw SsoSetupErrors.linkInvalid();
    const tenants = await this.lookup.tenantsOf('setup_link', parsed.id);
    if (tenants.length !== 1) throw SsoSetupErrors.linkInvalid();
    const tenant = await this.tenants.byId(tenants[0]!);
    const linkId = parsed.id;
    const actor = ssoSetupLinkActor(linkId);
    const now = new Date();
    let session: { token: string; state: SsoSetupSessionState; expiresIn: number } | undefined;
    try {
      await this.links.open(tenant.id, linkId, now, async (link) => {
        if (!link) throw SsoSetupErrors.linkInvalid();
        if (!secretMatches(parsed.secret, link.secretHash)) throw SsoSetupErrors.linkInvalid();
        if (link.revokedAt) throw SsoSetupErrors.linkRevoked();
        if (link.openedAt) throw SsoSetupErrors.linkUsed();
        if (link.expiresAt.getTime() <= now.getTime())
          throw SsoSetupErrors.linkExpired(link.expiresAt);
        const end = Math.min(
          now.getTime() + SSO_SETUP_SESSION_MAX_SECONDS * 1000,
          link.expiresAt.getTime(),
        );
        const expiresIn = Math.max(1, Math.floor((end - now.getTime()) / 1000));
        const state = {
          linkId,
          tenantId: tenant.id,
          openedAt: now.toISOString(),
          expiresAt: new Date(end).toISOString(),
        };
        session = { token: await this.sessions.create(state, expiresIn), state, expiresIn };
        return [
          this.audit(
            'sso_setup_link.opened',
            link,
            { client, sessionExpiresAt: state.expiresAt },
            actor,
          ),
        ];
      });
    } catch (error) {
      const refusal = error instanceof AppError ? REFUSALS[error.reason ?? ''] : undefined;
      if (refusal) await this.recordRefusal(tenant.id, linkId, refusal, client);
      throw error;
    }
    this.outbox.kick();
    return {
      sessionToken: session!.token,
      expiresIn: session!.expiresIn,
      expiresAt: session!.state.expiresAt,
      linkId,
      tenant: { id: tenant.id, name: tenant.name, slug: tenant.slug },
      allowed: [...SSO_SETUP_ALLOWED],
    };
  }

  /**
   * The session of a setup request's token, checked on every request: it must exist in
   * Redis, not have ended, and its link must not be revoked and have been opened by this
   * session's opening, in the database. Anything else is the one 401.
   */
  async authenticate(sessionToken: string): Promise<SsoSetupSessionState> {
    const state = await this.sessions.find(sessionToken);
    if (!state || Date.parse(state.expiresAt) <= Date.now()) throw SsoSetupErrors.sessionInvalid();
    const link = await this.links.findById(state.tenantId, state.linkId);
    if (
      !link ||
      link.revokedAt ||
      !link.openedAt ||
      link.openedAt.getTime() !== Date.parse(state.openedAt)
    )
      throw SsoSetupErrors.sessionInvalid();
    return state;
  }

  async listConnections({
    sessionToken,
    limit,
    cursor,
  }: SetupRequest<'listConnections'>): Promise<RpcResponse<typeof SsoConnectionRpc.list>> {
    return this.asLink(sessionToken, (tenantId) =>
      this.connections.list({ tenantId, limit, ...(cursor ? { cursor } : {}) }),
    );
  }

  async createConnection(request: SetupRequest<'createConnection'>): Promise<SsoConnection> {
    const { sessionToken, ...body } = request;
    return this.asLink(sessionToken, (tenantId) =>
      this.connections.create({ ...(body as CreateSsoConnectionBody), tenantId }),
    );
  }

  async getConnection({
    sessionToken,
    connectionId,
  }: SetupRequest<'getConnection'>): Promise<SsoConnection> {
    return this.asLink(sessionToken, (tenantId) =>
      this.connections.get({ tenantId, connectionId }),
    );
  }

  async updateConnection(request: SetupRequest<'updateConnection'>): Promise<SsoConnection> {
    const { sessionToken, ...change } = request;
    return this.asLink(sessionToken, (tenantId) =>
      this.connections.update({ ...change, tenantId }),
    );
  }

  async deleteConnection({
    sessionToken,
    connectionId,
  }: SetupRequest<'deleteConnection'>): Promise<RpcResponse<typeof SsoConnectionRpc.delete>> {
    return this.asLink(sessionToken, (tenantId) =>
      this.connections.delete({ tenantId, connectionId }),
    );
  }

  async listScimDirectories({
    sessionToken,
    limit,
    cursor,
  }: SetupRequest<'listScimDirectories'>): Promise<RpcResponse<typeof ScimDirectoryRpc.list>> {
    return this.asLink(sessionToken, (tenantId) =>
      this.directories.list({ tenantId, limit, ...(cursor ? { cursor } : {}) }),
    );
  }

  async createScimDirectory(
    request: SetupRequest<'createScimDirectory'>,
  ): Promise<CreatedScimDirectory> {
    const { sessionToken, ...body } = request;
    return this.asLink(sessionToken, (tenantId) => this.directories.create({ ...body, tenantId }));
  }

  async rotateScimToken({
    sessionToken,
    directoryId,
  }: SetupRequest<'rotateScimToken'>): Promise<CreatedScimDirectory> {
    return this.asLink(sessionToken, (tenantId) =>
      this.directories.rotateToken({ tenantId, directoryId }),
    );
  }

  /**
   * Checks the session, then does `work` in its tenant as the link's actor (the message
   * context's actor and tenant), so what the work audits and records names the link.
   */
  private async asLink<T>(sessionToken: string, work: (tenantId: string) => Promise<T>) {
    const { linkId, tenantId } = await this.authenticate(sessionToken);
    const context = {
      ...(messageContext.current() ?? newContext()),
      tenantId,
      actor: ssoSetupLinkActor(linkId),
    };
    return messageContext.run(context, () => work(tenantId));
  }

  /** Audits a refused opening of a known link, in a transaction of its own. */
  private async recordRefusal(
    tenantId: string,
    linkId: string,
    refusal: string,
    client: SetupRequest<'openSession'>['client'],
  ): Promise<void> {
    await this.auditWriter
      .record([
        auditEvent(
          {
            tenantId,
            category: 'auth',
            action: 'sso_setup_link.open_refused',
            outcome: 'failure',
            target: { type: 'sso_setup_link', id: linkId },
            data: { reason: refusal, client },
          },
          ssoSetupLinkActor(linkId),
        ),
      ])
      .catch((error: unknown) =>
        this.logger.warn(
          `could not audit a refused opening of SSO setup link ${linkId}: ${(error as Error).message}`,
        ),
      );
  }

  /** An audit entry about a link (category auth); the actor is the request's unless given. */
  private audit(
    action: string,
    link: SsoSetupLinkEntity,
    data: Record<string, unknown>,
    actor?: string,
  ): OutboxMessage {
    return auditEvent(
      {
        tenantId: link.tenantId,
        category: 'auth',
        action,
        target: { type: 'sso_setup_link', id: link.id },
        data,
      },
      actor,
    );
  }
}

function toContract(link: SsoSetupLinkEntity, now: Date): SsoSetupLink {
  return {
    id: link.id,
    tenantId: link.tenantId,
    status: linkStatus(link, now),
    createdBy: link.createdBy,
    createdAt: link.createdAt.toISOString(),
    expiresAt: link.expiresAt.toISOString(),
    openedAt: link.openedAt?.toISOString() ?? null,
    revokedAt: link.revokedAt?.toISOString() ?? null,
  };
}
