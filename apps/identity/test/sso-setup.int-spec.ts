import {
  ErrorCode,
  ScimDirectoryRpc,
  SsoConnectionRpc,
  SsoSetupErrorReason,
  SsoSetupLinkRpc,
  SsoSetupRpc,
  type AuditEvent,
  type CreatedSsoSetupLink,
  type SsoSetupSession,
  type Tenant,
} from '@tenantry/contracts';
import { TestSamlIdp } from '@tenantry/testing';
import { ScimDirectoryService } from '../src/scim/scim-directory.service.js';
import { SsoSetupSessionStore } from '../src/sso-setup/sso-setup-session.store.js';
import { client, IdentityHarness } from './identity.harness.js';

const ADMIN = 'user:01a00000-0000-7000-8000-0000000000ad';
const OTHER_ADMIN = 'user:01a00000-0000-7000-8000-0000000000bd';
const APP_URL = 'https://app.tenantry.test';

/**
 * Self-service SSO setup against the real identity module: PostgreSQL (under RLS), Redis
 * for the sessions, NATS, and a real SAML IdP's metadata (TestSamlIdp).
 */
describe('SSO setup links', () => {
  let h: IdentityHarness;
  let idp: TestSamlIdp;
  let acme: Tenant;
  let other: Tenant;

  const createLink = (tenantId: string, expiresInHours?: number, actor = ADMIN) =>
    h.call(SsoSetupLinkRpc.create, { tenantId, expiresInHours }, actor);
  const open = (token: string) =>
    h.call(SsoSetupRpc.openSession, { token, client: { ip: '198.51.100.7', userAgent: 'it' } });
  const openFailure = (token: string) =>
    h.failure(SsoSetupRpc.openSession, { token, client: client() });
  const samlConnection = (sessionToken: string, name: string) =>
    h.call(SsoSetupRpc.createConnection, {
      sessionToken,
      name,
      protocol: 'saml',
      saml: { idp: { metadataXml: idp.metadataXml() } },
    });
  const linkActor = (link: { id: string }) => ({
    type: 'service',
    id: `sso-setup-link/${link.id}`,
  });

  beforeAll(async () => {
    h = await IdentityHarness.start();
    idp = await TestSamlIdp.start();
    acme = h.addTenant('acme', 'Acme Corp');
    other = h.addTenant('other', 'Other Inc');
  });

  afterAll(async () => {
    await idp?.close();
    await h?.close();
  });

  describe('a link opened by the IT department', () => {
    let link: CreatedSsoSetupLink;
    let session: SsoSetupSession;
    let connectionId: string;

    beforeAll(async () => {
      link = await createLink(acme.id);
      session = await open(link.token);
    });

    it('was made for 72 hours, with its token once, in the app URL’s fragment; only a hash is stored', async () => {
      expect(link).toMatchObject({ tenantId: acme.id, status: 'pending', createdBy: ADMIN });
      expect(link.url).toBe(`${APP_URL}/sso-setup#token=${link.token}`);
      expect(Date.parse(link.expiresAt) - Date.parse(link.createdAt)).toBe(72 * 3600_000);
      const [row] = await h.db.query(
        `SELECT secret_hash, opened_at FROM sso_setup_links WHERE id = $1`,
        [link.id],
      );
      expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(link.token).not.toContain(row.secret_hash);
      expect(JSON.stringify(row)).not.toContain(link.token.split('.')[1]);
      const [lookup] = await h.db.query(
        `SELECT tenant_id FROM credential_lookup WHERE kind = 'setup_link' AND public_id = $1`,
        [link.id],
      );
      expect(lookup.tenant_id).toBe(acme.id);
    });

    it('opened into a session of an hour, in its tenant, allowed SSO connections and SCIM directories only', async () => {
      expect(session).toMatchObject({
        expiresIn: 3600,
        linkId: link.id,
        tenant: { id: acme.id, name: 'Acme Corp', slug: 'acme' },
        allowed: [
          'sso-connections:read',
          'sso-connections:write',
          'scim-directories:read',
          'scim-directories:write',
        ],
      });
      const shown = await h.call(
        SsoSetupLinkRpc.get,
        { tenantId: acme.id, linkId: link.id },
        ADMIN,
      );
      expect(shown.status).toBe('opened');
      expect(shown.openedAt).not.toBeNull();
    });

    it('cannot be opened a second time', async () => {
      const again = await openFailure(link.token);
      expect(again).toMatchObject({
        code: ErrorCode.Unauthenticated,
        reason: SsoSetupErrorReason.LinkUsed,
      });
      expect(again.message).toContain('already opened');
    });

    it('makes a SAML connection from a real IdP’s metadata, which the tenant’s admin then sees', async () => {
      const made = await samlConnection(session.sessionToken, 'Acme IdP');
      connectionId = made.id;
      expect(made).toMatchObject({
        tenantId: acme.id,
        name: 'Acme IdP',
        protocol: 'saml',
        saml: { idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl } },
      });
      expect(made.saml!.sp.acsUrl).toBe(`https://tenantry.test/v1/auth/sso/saml/${made.id}/acs`);

      const listed = await h.call(SsoSetupRpc.listConnections, {
        sessionToken: session.sessionToken,
        limit: 50,
      });
      expect(listed.items.map((c) => c.id)).toEqual([made.id]);
      const adminView = await h.call(
        SsoConnectionRpc.get,
        { tenantId: acme.id, connectionId: made.id },
        ADMIN,
      );
      expect(adminView.name).toBe('Acme IdP');

      const renamed = await h.call(SsoSetupRpc.updateConnection, {
        sessionToken: session.sessionToken,
        connectionId: made.id,
        name: 'Acme Okta',
        jit: true,
      });
      expect(renamed).toMatchObject({ name: 'Acme Okta', jit: true });
      expect(
        await h.call(SsoSetupRpc.getConnection, {
          sessionToken: session.sessionToken,
          connectionId: made.id,
        }),
      ).toMatchObject({ name: 'Acme Okta' });
    });

    it('makes a SCIM directory whose token is shown once and works; rotating replaces it', async () => {
      const made = await h.call(SsoSetupRpc.createScimDirectory, {
        sessionToken: session.sessionToken,
        name: 'Acme Okta users',
      });
      expect(made).toMatchObject({
        tenantId: acme.id,
        name: 'Acme Okta users',
        createdBy: `service:sso-setup-link/${link.id}`,
      });
      const scim = h.get(ScimDirectoryService);
      expect((await scim.authenticate(made.token)).id).toBe(made.id);

      const listed = await h.call(SsoSetupRpc.listScimDirectories, {
        sessionToken: session.sessionToken,
        limit: 50,
      });
      expect(listed.items.map((d) => d.id)).toEqual([made.id]);
      expect(JSON.stringify(listed)).not.toContain(made.token);

      const rotated = await h.call(SsoSetupRpc.rotateScimToken, {
        sessionToken: session.sessionToken,
        directoryId: made.id,
      });
      expect(rotated.token).not.toBe(made.token);
      expect((await scim.authenticate(rotated.token)).id).toBe(made.id);
      await expect(scim.authenticate(made.token)).rejects.toMatchObject({
        code: ErrorCode.Unauthenticated,
      });
    });

    it('cannot reach another tenant’s connections or directories', async () => {
      const theirs = await h.call(
        SsoConnectionRpc.create,
        {
          tenantId: other.id,
          name: 'Their IdP',
          protocol: 'saml',
          saml: { idp: { metadataXml: idp.metadataXml() } },
        },
        OTHER_ADMIN,
      );
      const theirDirectory = await h.call(
        ScimDirectoryRpc.create,
        { tenantId: other.id, name: 'Their users' },
        OTHER_ADMIN,
      );
      const sessionToken = session.sessionToken;
      const refusals = [
        await h.failure(SsoSetupRpc.getConnection, { sessionToken, connectionId: theirs.id }),
        await h.failure(SsoSetupRpc.updateConnection, {
          sessionToken,
          connectionId: theirs.id,
          enabled: false,
        }),
        await h.failure(SsoSetupRpc.deleteConnection, { sessionToken, connectionId: theirs.id }),
        await h.failure(SsoSetupRpc.rotateScimToken, {
          sessionToken,
          directoryId: theirDirectory.id,
        }),
      ];
      expect(refusals.map((e) => e.code)).toEqual(Array(4).fill(ErrorCode.NotFound));
      const listed = await h.call(SsoSetupRpc.listConnections, { sessionToken, limit: 50 });
      expect(listed.items.map((c) => c.tenantId)).toEqual([acme.id]);
      // Theirs is untouched.
      const still = await h.call(
        SsoConnectionRpc.get,
        { tenantId: other.id, connectionId: theirs.id },
        OTHER_ADMIN,
      );
      expect(still.enabled).toBe(true);
    });

    it('is refused with an access token or a made-up token in place of the session token', async () => {
      const { tokens } = await h.activeUser(acme.id, 'admin@acme.test', 'a long enough password', {
        roles: ['tenant-admin'],
      });
      for (const sessionToken of [tokens.accessToken, 'a'.repeat(43), link.token]) {
        const refused = await h.failure(SsoSetupRpc.listConnections, { sessionToken, limit: 10 });
        expect(refused).toMatchObject({
          code: ErrorCode.Unauthenticated,
          reason: SsoSetupErrorReason.SessionInvalid,
        });
      }
    });

    it('deletes a connection', async () => {
      expect(
        await h.call(SsoSetupRpc.deleteConnection, {
          sessionToken: session.sessionToken,
          connectionId,
        }),
      ).toEqual({ deleted: true });
      const gone = await h.failure(
        SsoConnectionRpc.get,
        { tenantId: acme.id, connectionId },
        ADMIN,
      );
      expect(gone.code).toBe(ErrorCode.NotFound);
    });

    it('audits everything done through it as the link, and the link’s life as its admin', async () => {
      const byLink = (e: AuditEvent) =>
        e.tenantId === acme.id &&
        e.actor.type === 'service' &&
        e.actor.id === `sso-setup-link/${link.id}`;
      const expected = [
        'sso_setup_link.opened',
        'sso_connection.created',
        'sso_connection.updated',
        'scim-directory.created',
        'scim-directory.token-rotated',
        'sso_connection.deleted',
        'sso_setup_link.open_refused',
      ];
      const events = await h.auditEvents(byLink, expected.length);
      expect(events.map((e) => e.action).sort()).toEqual([...expected].sort());
      expect(events.find((e) => e.action === 'sso_setup_link.opened')).toMatchObject({
        target: { type: 'sso_setup_link', id: link.id },
        data: { client: { ip: '198.51.100.7', userAgent: 'it' } },
      });
      expect(events.find((e) => e.action === 'sso_setup_link.open_refused')).toMatchObject({
        outcome: 'failure',
        data: { reason: 'already_opened' },
      });
      const [created] = await h.auditEvents(
        (e) => e.action === 'sso_setup_link.created' && e.target?.id === link.id,
      );
      expect(created).toMatchObject({
        tenantId: acme.id,
        category: 'auth',
        actor: { type: 'user', id: ADMIN.slice('user:'.length) },
      });
      const [opened] = events.filter((e) => e.action === 'sso_setup_link.opened');
      expect(opened!.actor).toEqual(linkActor(link));
      expect(JSON.stringify(events)).not.toContain(session.sessionToken);
      expect(JSON.stringify(events)).not.toContain(link.token);
    });
  });

  it('refuses an expired link, and lists it as expired', async () => {
    const link = await createLink(acme.id, 1);
    await h.db.query(
      `UPDATE sso_setup_links SET expires_at = now() - interval '1 minute' WHERE id = $1`,
      [link.id],
    );
    const refused = await openFailure(link.token);
    expect(refused).toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: SsoSetupErrorReason.LinkExpired,
    });
    expect(refused.message).toContain('expired at');
    const page = await h.call(SsoSetupLinkRpc.list, { tenantId: acme.id, limit: 500 }, ADMIN);
    expect(page.items.find((l) => l.id === link.id)?.status).toBe('expired');
  });

  it('ends the session when the link expires within the hour', async () => {
    const link = await createLink(acme.id);
    await h.db.query(
      `UPDATE sso_setup_links SET expires_at = now() + interval '5 minutes' WHERE id = $1`,
      [link.id],
    );
    const session = await open(link.token);
    expect(session.expiresIn).toBeGreaterThan(200);
    expect(session.expiresIn).toBeLessThanOrEqual(300);
  });

  it('revoking the link ends its session at once, and it cannot be opened any more', async () => {
    const link = await createLink(acme.id);
    const session = await open(link.token);
    const sessionToken = session.sessionToken;
    expect(await h.get(SsoSetupSessionStore).find(sessionToken)).toMatchObject({ linkId: link.id });
    expect(await h.call(SsoSetupRpc.listConnections, { sessionToken, limit: 1 })).toMatchObject({
      items: expect.any(Array),
    });
    const revoked = await h.call(
      SsoSetupLinkRpc.revoke,
      { tenantId: acme.id, linkId: link.id },
      ADMIN,
    );
    expect(revoked.status).toBe('revoked');
    // Gone from Redis (and refused by the database check besides).
    expect(await h.get(SsoSetupSessionStore).find(sessionToken)).toBeNull();
    const ended = await h.failure(SsoSetupRpc.createScimDirectory, { sessionToken, name: 'late' });
    expect(ended).toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: SsoSetupErrorReason.SessionInvalid,
    });
    const pending = await createLink(acme.id);
    await h.call(SsoSetupLinkRpc.revoke, { tenantId: acme.id, linkId: pending.id }, ADMIN);
    expect(await openFailure(pending.token)).toMatchObject({
      reason: SsoSetupErrorReason.LinkRevoked,
    });
    const [audit] = await h.auditEvents(
      (e) => e.action === 'sso_setup_link.revoked' && e.target?.id === link.id,
    );
    expect(audit).toMatchObject({ data: { wasOpened: true }, actor: { type: 'user' } });
  });

  it('opens once even when opened twice at the same moment', async () => {
    const link = await createLink(acme.id);
    const results = await Promise.allSettled([
      open(link.token),
      open(link.token),
      open(link.token),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected'))
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        reason: SsoSetupErrorReason.LinkUsed,
      });
  });

  it('keeps links to their tenant: another tenant’s admin neither sees nor revokes them; a wrong secret does not open one', async () => {
    const link = await createLink(acme.id);
    const hidden = await h.failure(
      SsoSetupLinkRpc.get,
      { tenantId: other.id, linkId: link.id },
      OTHER_ADMIN,
    );
    expect(hidden.code).toBe(ErrorCode.NotFound);
    const notRevoked = await h.failure(
      SsoSetupLinkRpc.revoke,
      { tenantId: other.id, linkId: link.id },
      OTHER_ADMIN,
    );
    expect(notRevoked.code).toBe(ErrorCode.NotFound);
    const theirs = await h.call(
      SsoSetupLinkRpc.list,
      { tenantId: other.id, limit: 500 },
      OTHER_ADMIN,
    );
    expect(theirs.items.map((l) => l.id)).not.toContain(link.id);
    const forged = `${link.id}.${'x'.repeat(43)}`;
    expect(await openFailure(forged)).toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: SsoSetupErrorReason.LinkInvalid,
    });
    expect((await open(link.token)).tenant.id).toBe(acme.id);
  });

  it('refuses a validity outside 1 to 168 hours, naming the field', async () => {
    for (const hours of [0, 169]) {
      const refused = await h.failure(
        SsoSetupLinkRpc.create,
        { tenantId: acme.id, expiresInHours: hours },
        ADMIN,
      );
      expect(refused.code).toBe(ErrorCode.ValidationFailed);
      expect(refused.errors?.[0]).toMatchObject({
        field: 'expiresInHours',
        message: 'must be an integer from 1 to 168',
      });
    }
  });
});
