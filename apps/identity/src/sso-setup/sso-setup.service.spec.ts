import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import {
  AppError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  SSO_SETUP_ALLOWED,
  SsoSetupErrorReason,
  type AuditEvent,
  type CreatedScimDirectory,
  type CreatedSsoSetupLink,
  type SsoConnection,
} from '@tenantry/contracts';
import { messageContext, newContext } from '@tenantry/messaging';
import { Outbox, type OutboxMessage } from '@tenantry/persistence';
import { double } from '@tenantry/testing';
import { AuditWriter } from '../core/audit-writer.js';
import { TenantDirectory } from '../core/tenant-directory.js';
import { CredentialLookupRepository } from '../credential-lookup/credential-lookup.repository.js';
import { ScimDirectoryService } from '../scim/scim-directory.service.js';
import { SsoConnectionService } from '../sso-connections/sso-connection.service.js';
import { SsoSetupLinkEntity } from './sso-setup-link.entity.js';
import { SsoSetupLinkRepository } from './sso-setup-link.repository.js';
import { SsoSetupSessionStore, type SsoSetupSessionState } from './sso-setup-session.store.js';
import { linkStatus, ssoSetupLinkActor, SsoSetupService } from './sso-setup.service.js';

const TENANT = '0193a0f0-0000-7000-8000-00000000000a';
const OTHER_TENANT = '0193a0f0-0000-7000-8000-00000000000b';
const ADMIN = 'user:0193a0f0-0000-7000-8000-0000000000ad';
const APP_URL = 'https://app.tenantry.test';
const CLIENT = { ip: '203.0.113.9', userAgent: 'it-department' };
const HOUR = 3600_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Runs `work` as a request of `actor` would run (the gateway's actor in the message context). */
const as = <T>(actor: string | undefined, work: () => Promise<T>) =>
  messageContext.run(newContext(actor ? { actor } : {}), work);

/** The AppError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

/**
 * An SsoSetupService over an in-memory sso_setup_links table, credential lookup and
 * session store, kept as the repository and store keep them; the connection and SCIM
 * services record what they were asked and as whom.
 */
function setup() {
  const rows: SsoSetupLinkEntity[] = [];
  const lookup = new Map<string, string>();
  const committed: OutboxMessage[] = [];
  const refusals: OutboxMessage[] = [];
  const sessions = new Map<string, { state: SsoSetupSessionState; ttl: number }>();
  const kick = jest.fn<() => void>();
  /** Set: the next opening's transaction fails at its commit (after the session was stored). */
  const commitFails = { next: false };
  const copy = (row: SsoSetupLinkEntity) => Object.assign(new SsoSetupLinkEntity(), { ...row });
  const find = (tenantId: string, id: string) =>
    rows.find((r) => r.tenantId === tenantId && r.id === id);
  const links = double(SsoSetupLinkRepository, {
    insert: async (link, events) => {
      rows.push(copy(link));
      lookup.set(link.id, link.tenantId);
      committed.push(...events);
    },
    findById: async (tenantId, id) => {
      const row = find(tenantId, id);
      return row ? copy(row) : null;
    },
    list: async (tenantId, limit, before) =>
      rows
        .filter((r) => r.tenantId === tenantId && (!before || r.id < before))
        .sort((a, b) => (a.id < b.id ? 1 : -1))
        .slice(0, limit)
        .map(copy),
    open: async (tenantId, id, at, plan) => {
      const row = find(tenantId, id);
      const events = await plan(row ? copy(row) : null);
      if (commitFails.next) {
        commitFails.next = false;
        throw new Error('the commit failed');
      }
      row!.openedAt = at;
      committed.push(...events);
      return copy(row!);
    },
    revoke: async (tenantId, id, at, announce) => {
      const row = find(tenantId, id);
      if (!row) return null;
      if (row.revokedAt) return { link: copy(row), revokedNow: false };
      row.revokedAt = at;
      committed.push(...announce(copy(row)));
      return { link: copy(row), revokedNow: true };
    },
  });
  const store = double(SsoSetupSessionStore, {
    create: async (state, ttl) => {
      const token = `session-${sessions.size + 1}`;
      sessions.set(token, { state, ttl });
      return token;
    },
    find: async (token) => sessions.get(token)?.state ?? null,
    endForLink: async (linkId) => {
      for (const [token, { state }] of sessions)
        if (state.linkId === linkId) return sessions.delete(token);
      return false;
    },
  });
  const tenantsOf = jest.fn<CredentialLookupRepository['tenantsOf']>(async (kind, publicId) => {
    expect(kind).toBe('setup_link');
    return lookup.has(publicId) ? [lookup.get(publicId)!] : [];
  });
  /** What the connection and SCIM services were asked, with the actor and tenant of the context. */
  const calls: { method: string; request: unknown; actor?: string; tenantId?: string }[] = [];
  const record = (method: string, request: unknown) =>
    calls.push({
      method,
      request,
      actor: messageContext.current()?.actor,
      tenantId: messageContext.current()?.tenantId,
    });
  const connection = { id: 'c-1', name: 'Okta' } as unknown as SsoConnection;
  const connections = double(SsoConnectionService, {
    create: async (request) => (record('connections.create', request), connection),
    list: async (request) => (record('connections.list', request), { items: [], nextCursor: null }),
    get: async (request) => (record('connections.get', request), connection),
    update: async (request) => (record('connections.update', request), connection),
    delete: async (request) => (record('connections.delete', request), { deleted: true as const }),
  });
  const directory = { id: 'd-1', token: 'scim-token' } as unknown as CreatedScimDirectory;
  const directories = double(ScimDirectoryService, {
    create: async (request) => (record('scim.create', request), directory),
    list: async (request) => (record('scim.list', request), { items: [], nextCursor: null }),
    rotateToken: async (request) => (record('scim.rotateToken', request), directory),
  });
  const tenants = double(TenantDirectory, {
    byId: async (id) => ({
      id,
      slug: id === TENANT ? 'acme' : 'other',
      name: `Tenant ${id}`,
      status: 'active',
      statusReason: null,
    }),
  });
  const service = new SsoSetupService(
    links,
    store,
    double(CredentialLookupRepository, { tenantsOf }),
    tenants,
    connections,
    directories,
    double(AuditWriter, { record: async (events) => void refusals.push(...events) }),
    double(Outbox, { kick }),
    { appUrl: APP_URL },
  );
  const audits = (messages: OutboxMessage[], action?: string) =>
    messages
      .filter((m) => m.subject.startsWith('audit.'))
      .map((m) => m.payload as AuditEvent)
      .filter((e) => !action || e.action === action);
  return {
    service,
    rows,
    lookup,
    committed,
    refusals,
    sessions,
    calls,
    kick,
    audits,
    tenantsOf,
    commitFails,
  };
}

type Setup = ReturnType<typeof setup>;

/** A link of TENANT made by ADMIN, opened: its session token. */
async function openedLink(s: Setup, expiresInHours?: number) {
  const link = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT, expiresInHours }));
  const session = await s.service.openSession({ token: link.token, client: CLIENT });
  return { link, session };
}

describe('SsoSetupService', () => {
  describe('links', () => {
    it('makes a link valid for 72 hours by default: a one-time token (stored hashed) in the URL fragment, audited', async () => {
      const s = setup();
      const before = Date.now();
      const link = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT }));
      const [id, secret] = link.token.split('.');
      expect(id).toBe(link.id);
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(link.url).toBe(`${APP_URL}/sso-setup#token=${link.token}`);
      expect(link).toMatchObject({ tenantId: TENANT, status: 'pending', createdBy: ADMIN });
      const lifetime = Date.parse(link.expiresAt) - Date.parse(link.createdAt);
      expect(lifetime).toBe(72 * HOUR);
      expect(Date.parse(link.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      // Only the hash of the secret is kept; the id routes the token to its tenant.
      expect(s.rows[0]!.secretHash).toBe(sha256(secret!));
      expect(JSON.stringify(s.rows)).not.toContain(secret);
      expect(s.lookup.get(link.id)).toBe(TENANT);
      const [created] = s.audits(s.committed, 'sso_setup_link.created');
      expect(created).toMatchObject({
        tenantId: TENANT,
        category: 'auth',
        actor: { type: 'user', id: ADMIN.slice('user:'.length) },
        target: { type: 'sso_setup_link', id: link.id },
        data: { expiresAt: link.expiresAt },
      });
      expect(JSON.stringify(s.committed)).not.toContain(secret);
      expect(s.kick).toHaveBeenCalled();
    });

    it('takes expiresInHours, and refuses the platform tenant as no tenant', async () => {
      const s = setup();
      const link = await as(ADMIN, () =>
        s.service.createLink({ tenantId: TENANT, expiresInHours: 1 }),
      );
      expect(Date.parse(link.expiresAt) - Date.parse(link.createdAt)).toBe(HOUR);
      const refused = await failure(s.service.createLink({ tenantId: PLATFORM_TENANT_ID }));
      expect(refused.code).toBe(ErrorCode.NotFound);
    });

    it('lists newest first with their status, page by page, only the tenant’s, never a token', async () => {
      const s = setup();
      const made: CreatedSsoSetupLink[] = [];
      for (let i = 0; i < 3; i++)
        made.push(await as(ADMIN, () => s.service.createLink({ tenantId: TENANT })));
      await as(ADMIN, () => s.service.createLink({ tenantId: OTHER_TENANT }));
      await s.service.openSession({ token: made[1]!.token, client: CLIENT });
      await s.service.revokeLink({ tenantId: TENANT, linkId: made[2]!.id });
      s.rows.find((r) => r.id === made[0]!.id)!.expiresAt = new Date(Date.now() - 1000);

      const first = await s.service.listLinks({ tenantId: TENANT, limit: 2 });
      expect(first.items.map((l) => [l.id, l.status])).toEqual([
        [made[2]!.id, 'revoked'],
        [made[1]!.id, 'opened'],
      ]);
      const second = await s.service.listLinks({
        tenantId: TENANT,
        limit: 2,
        cursor: first.nextCursor!,
      });
      expect(second).toMatchObject({
        items: [{ id: made[0]!.id, status: 'expired' }],
        nextCursor: null,
      });
      expect(JSON.stringify([first, second])).not.toMatch(/token|secret/i);
      const forged = await failure(
        s.service.listLinks({ tenantId: TENANT, limit: 2, cursor: 'not-a-cursor' }),
      );
      expect(forged.code).toBe(ErrorCode.ValidationFailed);
    });

    it('reads a link of the tenant; another tenant’s is not found', async () => {
      const s = setup();
      const link = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT }));
      expect(await s.service.getLink({ tenantId: TENANT, linkId: link.id })).toMatchObject({
        id: link.id,
        status: 'pending',
        openedAt: null,
      });
      const hidden = await failure(s.service.getLink({ tenantId: OTHER_TENANT, linkId: link.id }));
      expect(hidden.reason).toBe(SsoSetupErrorReason.NotFound);
    });

    it('computes the status: revoked before opened before expired', () => {
      const now = new Date();
      const link = Object.assign(new SsoSetupLinkEntity(), {
        expiresAt: new Date(now.getTime() - 1),
        openedAt: null,
        revokedAt: null,
      });
      expect(linkStatus(link, now)).toBe('expired');
      expect(linkStatus({ ...link, expiresAt: new Date(now.getTime() + 1) }, now)).toBe('pending');
      expect(linkStatus({ ...link, openedAt: now }, now)).toBe('opened');
      expect(linkStatus({ ...link, openedAt: now, revokedAt: now }, now)).toBe('revoked');
    });
  });

  describe('opening', () => {
    it('exchanges a link for a session of an hour, with the tenant and what it may do; audited as the link', async () => {
      const s = setup();
      const { link, session } = await openedLink(s);
      expect(session).toMatchObject({
        expiresIn: 3600,
        linkId: link.id,
        tenant: { id: TENANT, slug: 'acme', name: `Tenant ${TENANT}` },
        allowed: [...SSO_SETUP_ALLOWED],
      });
      expect(s.sessions.get(session.sessionToken)).toEqual({
        state: {
          linkId: link.id,
          tenantId: TENANT,
          openedAt: s.rows[0]!.openedAt!.toISOString(),
          expiresAt: session.expiresAt,
        },
        ttl: 3600,
      });
      expect(s.rows[0]!.openedAt).toBeInstanceOf(Date);
      const [opened] = s.audits(s.committed, 'sso_setup_link.opened');
      expect(opened).toMatchObject({
        tenantId: TENANT,
        actor: { type: 'service', id: `sso-setup-link/${link.id}` },
        target: { type: 'sso_setup_link', id: link.id },
        data: { client: CLIENT, sessionExpiresAt: session.expiresAt },
      });
      expect(JSON.stringify(s.committed)).not.toContain(session.sessionToken);
    });

    it('ends the session with the link when the link expires within the hour', async () => {
      const s = setup();
      const link = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT }));
      const expiresAt = new Date(Date.now() + 10 * 60_000);
      s.rows[0]!.expiresAt = expiresAt;
      const session = await s.service.openSession({ token: link.token, client: CLIENT });
      expect(session.expiresIn).toBeGreaterThan(590);
      expect(session.expiresIn).toBeLessThanOrEqual(600);
      expect(session.expiresAt).toBe(expiresAt.toISOString());
    });

    it('opens a link once: the second opening is refused, saying so, and audited as refused', async () => {
      const s = setup();
      const { link } = await openedLink(s);
      const again = await failure(s.service.openSession({ token: link.token, client: CLIENT }));
      expect(again).toMatchObject({
        code: ErrorCode.Unauthenticated,
        reason: SsoSetupErrorReason.LinkUsed,
      });
      expect(again.message).toMatch(/already opened.*only once/);
      expect(s.sessions.size).toBe(1);
      expect(s.audits(s.refusals, 'sso_setup_link.open_refused')).toEqual([
        expect.objectContaining({
          outcome: 'failure',
          actor: { type: 'service', id: `sso-setup-link/${link.id}` },
          data: { reason: 'already_opened', client: CLIENT },
        }),
      ]);
    });

    it('refuses expired and revoked links, saying which', async () => {
      const s = setup();
      const expired = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT }));
      const revoked = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT }));
      s.rows.find((r) => r.id === expired.id)!.expiresAt = new Date(Date.now() - 1000);
      await s.service.revokeLink({ tenantId: TENANT, linkId: revoked.id });

      const tooLate = await failure(
        s.service.openSession({ token: expired.token, client: CLIENT }),
      );
      expect(tooLate).toMatchObject({
        code: ErrorCode.Unauthenticated,
        reason: SsoSetupErrorReason.LinkExpired,
      });
      expect(tooLate.message).toMatch(/expired at/);
      const gone = await failure(s.service.openSession({ token: revoked.token, client: CLIENT }));
      expect(gone).toMatchObject({
        code: ErrorCode.Unauthenticated,
        reason: SsoSetupErrorReason.LinkRevoked,
      });
      expect(s.sessions.size).toBe(0);
      expect(s.rows.every((r) => r.openedAt === null)).toBe(true);
      expect(
        s.audits(s.refusals, 'sso_setup_link.open_refused').map((e) => e.data?.reason),
      ).toEqual(['expired', 'revoked']);
    });

    it('gives one answer to a malformed, unknown or wrong token, and never opens the link', async () => {
      const s = setup();
      const link = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT }));
      const wrongSecret = `${link.id}.${'A'.repeat(43)}`;
      const unknown = `0193a0f0-0000-7000-8000-0000000000ff.${'A'.repeat(43)}`;
      for (const token of ['nonsense', link.id, wrongSecret, unknown, `${link.token}x`]) {
        const refused = await failure(s.service.openSession({ token, client: CLIENT }));
        expect(refused).toMatchObject({
          code: ErrorCode.Unauthenticated,
          reason: SsoSetupErrorReason.LinkInvalid,
        });
      }
      expect(s.rows[0]!.openedAt).toBeNull();
      expect(s.sessions.size).toBe(0);
      // The malformed ones never reach the lookup; the wrong secret of a real link is audited.
      expect(s.tenantsOf).toHaveBeenCalledTimes(2);
      expect(
        s.audits(s.refusals, 'sso_setup_link.open_refused').map((e) => e.data?.reason),
      ).toEqual(['secret_mismatch']);
      // The link still opens with its real token.
      await s.service.openSession({ token: link.token, client: CLIENT });
    });
  });

  describe('a setup session', () => {
    it('manages the tenant’s SSO connections as the link: tenant from the session, actor service:sso-setup-link/<id>', async () => {
      const s = setup();
      const { link, session } = await openedLink(s);
      const sessionToken = session.sessionToken;
      const body = {
        name: 'Okta',
        protocol: 'saml' as const,
        saml: { idp: { metadataUrl: 'https://idp.test/metadata' } },
      };
      const connectionId = '0193a0f0-0000-7000-8000-0000000000c1';
      await as(undefined, async () => {
        await s.service.createConnection({ sessionToken, ...body });
        await s.service.listConnections({ sessionToken, limit: 10 });
        await s.service.getConnection({ sessionToken, connectionId });
        await s.service.updateConnection({ sessionToken, connectionId, enabled: false });
        await s.service.deleteConnection({ sessionToken, connectionId });
      });
      const actor = ssoSetupLinkActor(link.id);
      expect(actor).toBe(`service:sso-setup-link/${link.id}`);
      expect(s.calls).toEqual([
        {
          method: 'connections.create',
          request: { ...body, tenantId: TENANT },
          actor,
          tenantId: TENANT,
        },
        {
          method: 'connections.list',
          request: { tenantId: TENANT, limit: 10 },
          actor,
          tenantId: TENANT,
        },
        {
          method: 'connections.get',
          request: { tenantId: TENANT, connectionId },
          actor,
          tenantId: TENANT,
        },
        {
          method: 'connections.update',
          request: { tenantId: TENANT, connectionId, enabled: false },
          actor,
          tenantId: TENANT,
        },
        {
          method: 'connections.delete',
          request: { tenantId: TENANT, connectionId },
          actor,
          tenantId: TENANT,
        },
      ]);
    });

    it('manages the tenant’s SCIM directories as the link', async () => {
      const s = setup();
      const { link, session } = await openedLink(s);
      const sessionToken = session.sessionToken;
      const directoryId = '0193a0f0-0000-7000-8000-0000000000d1';
      const created = await s.service.createScimDirectory({ sessionToken, name: 'Okta users' });
      expect(created.token).toBe('scim-token');
      await s.service.listScimDirectories({ sessionToken, limit: 5, cursor: 'c' });
      await s.service.rotateScimToken({ sessionToken, directoryId });
      const actor = ssoSetupLinkActor(link.id);
      expect(s.calls).toEqual([
        {
          method: 'scim.create',
          request: { tenantId: TENANT, name: 'Okta users' },
          actor,
          tenantId: TENANT,
        },
        {
          method: 'scim.list',
          request: { tenantId: TENANT, limit: 5, cursor: 'c' },
          actor,
          tenantId: TENANT,
        },
        {
          method: 'scim.rotateToken',
          request: { tenantId: TENANT, directoryId },
          actor,
          tenantId: TENANT,
        },
      ]);
    });

    it('refuses an unknown token, and a session whose link was revoked (revoking ends it), before doing anything', async () => {
      const s = setup();
      const { link, session } = await openedLink(s);
      for (const sessionToken of ['session-unknown', 'eyJhbGciOiJFUzI1NiJ9.e30.sig']) {
        const refused = await failure(s.service.listConnections({ sessionToken, limit: 10 }));
        expect(refused).toMatchObject({
          code: ErrorCode.Unauthenticated,
          reason: SsoSetupErrorReason.SessionInvalid,
        });
      }
      const revoked = await as(ADMIN, () =>
        s.service.revokeLink({ tenantId: TENANT, linkId: link.id }),
      );
      expect(revoked.status).toBe('revoked');
      expect(s.sessions.size).toBe(0);
      const [audit] = s.audits(s.committed, 'sso_setup_link.revoked');
      expect(audit).toMatchObject({ data: { wasOpened: true }, target: { id: link.id } });
      const ended = await failure(
        s.service.createScimDirectory({ sessionToken: session.sessionToken, name: 'x' }),
      );
      expect(ended.reason).toBe(SsoSetupErrorReason.SessionInvalid);
      expect(s.calls).toEqual([]);
    });

    it('refuses a session still in Redis when its link is revoked in the database', async () => {
      const s = setup();
      const { session } = await openedLink(s);
      s.rows[0]!.revokedAt = new Date();
      const refused = await failure(
        s.service.listScimDirectories({ sessionToken: session.sessionToken, limit: 1 }),
      );
      expect(refused.reason).toBe(SsoSetupErrorReason.SessionInvalid);
      expect(s.calls).toEqual([]);
    });

    it('never accepts a session stored by an opening whose transaction failed, even once the link is opened', async () => {
      const s = setup();
      const link = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT }));
      s.commitFails.next = true;
      await expect(s.service.openSession({ token: link.token, client: CLIENT })).rejects.toThrow(
        'the commit failed',
      );
      expect(s.rows[0]!.openedAt).toBeNull();
      const [orphan] = [...s.sessions.keys()];
      await new Promise((resolve) => setTimeout(resolve, 2));
      const session = await s.service.openSession({ token: link.token, client: CLIENT });
      const refused = await failure(s.service.listConnections({ sessionToken: orphan!, limit: 1 }));
      expect(refused.reason).toBe(SsoSetupErrorReason.SessionInvalid);
      await s.service.listConnections({ sessionToken: session.sessionToken, limit: 1 });
      expect(s.calls).toHaveLength(1);
    });

    it('revoking twice changes nothing more; an unknown link is not found', async () => {
      const s = setup();
      const link = await as(ADMIN, () => s.service.createLink({ tenantId: TENANT }));
      const first = await s.service.revokeLink({ tenantId: TENANT, linkId: link.id });
      const second = await s.service.revokeLink({ tenantId: TENANT, linkId: link.id });
      expect(second).toEqual(first);
      expect(s.audits(s.committed, 'sso_setup_link.revoked')).toHaveLength(1);
      const missing = await failure(
        s.service.revokeLink({ tenantId: OTHER_TENANT, linkId: link.id }),
      );
      expect(missing.reason).toBe(SsoSetupErrorReason.NotFound);
    });
  });
});
