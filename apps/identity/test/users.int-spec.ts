import {
  AuthRpc,
  ErrorCode,
  PLATFORM_TENANT_ID,
  UserRpc,
  type AuditEvent,
} from '@tenantry/contracts';
import { client, IdentityHarness, tokenOf } from './identity.harness.js';

const OPERATOR = 'operator:01a00000-0000-7000-8000-0000000000aa';

/** Users, invitations and password resets against real PostgreSQL, Redis, NATS and SMTP. */
describe('users, invitations and password resets', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await IdentityHarness.start();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('creates, gets, updates, disables, enables and deletes a user, each audited with the real actor', async () => {
    const tenant = h.addTenant('crud');
    const user = await h.call(
      UserRpc.create,
      { tenantId: tenant.id, email: 'Ana.Lima@Example.COM', displayName: 'Ana Lima' },
      OPERATOR,
    );
    expect(user).toMatchObject({
      tenantId: tenant.id,
      email: 'ana.lima@example.com',
      displayName: 'Ana Lima',
      status: 'invited',
      roles: ['member'],
      mfaEnabled: false,
      lastLoginAt: null,
    });
    await expect(h.call(UserRpc.get, { tenantId: tenant.id, userId: user.id })).resolves.toEqual(
      user,
    );
    const updated = await h.call(
      UserRpc.update,
      { tenantId: tenant.id, userId: user.id, displayName: 'Ana L.', roles: ['tenant-admin'] },
      OPERATOR,
    );
    expect(updated).toMatchObject({ displayName: 'Ana L.', roles: ['tenant-admin'] });
    expect(
      await h.call(UserRpc.disable, { tenantId: tenant.id, userId: user.id }, OPERATOR),
    ).toMatchObject({ status: 'disabled' });
    expect(
      await h.call(UserRpc.enable, { tenantId: tenant.id, userId: user.id }, OPERATOR),
    ).toMatchObject({ status: 'invited' });
    await expect(
      h.call(UserRpc.delete, { tenantId: tenant.id, userId: user.id }, OPERATOR),
    ).resolves.toEqual({ deleted: true });
    expect(await h.failure(UserRpc.get, { tenantId: tenant.id, userId: user.id })).toMatchObject({
      code: ErrorCode.NotFound,
      reason: 'USER_NOT_FOUND',
    });
    // The email is free again, and its lookup was removed with the user.
    const [{ n }] = await h.db.query(
      `SELECT count(*)::int AS n FROM credential_lookup WHERE kind = 'email' AND public_id = $1`,
      ['ana.lima@example.com'],
    );
    expect(n).toBe(0);

    const events = await h.auditEvents(
      (e) => e.category === 'users' && e.target?.id === user.id,
      5,
    );
    expect(events.map((e) => e.action)).toEqual([
      'user.invited',
      'user.updated',
      'user.disabled',
      'user.enabled',
      'user.deleted',
    ]);
    for (const event of events) {
      expect(event.actor).toEqual({ type: 'operator', id: OPERATOR.split(':')[1] });
      expect(event.tenantId).toBe(tenant.id);
      expect(event.data).toMatchObject({ crossTenant: true });
    }
  });

  it('keeps emails unique per tenant ignoring case and Unicode form, but not across tenants', async () => {
    const a = h.addTenant('unique-a');
    const b = h.addTenant('unique-b');
    await h.call(UserRpc.create, { tenantId: a.id, email: 'Zoë@Example.com', displayName: 'Zoë' });
    for (const email of ['zoë@example.com', 'ZOË@EXAMPLE.COM', 'zoe\u0308@example.com']) {
      expect(
        await h.failure(UserRpc.create, { tenantId: a.id, email, displayName: 'Again' }),
      ).toMatchObject({
        code: ErrorCode.Conflict,
        reason: 'USER_EMAIL_TAKEN',
        errors: [{ field: 'email' }],
      });
    }
    await expect(
      h.call(UserRpc.create, { tenantId: b.id, email: 'ZOË@example.com', displayName: 'Zoë B' }),
    ).resolves.toMatchObject({ tenantId: b.id, email: 'zoë@example.com' });
  });

  it('lists a tenant’s users only, by status and case-insensitive email prefix, page by page', async () => {
    const tenant = h.addTenant('listing');
    const other = h.addTenant('listing-other');
    const emails = [
      'a1@list.test',
      'a2@list.test',
      'b1@list.test',
      'a3@list.test',
      'a_%@list.test',
    ];
    const ids: string[] = [];
    for (const email of emails) {
      ids.push(
        (await h.call(UserRpc.create, { tenantId: tenant.id, email, displayName: email })).id,
      );
    }
    await h.call(UserRpc.create, { tenantId: other.id, email: 'a9@list.test', displayName: 'x' });
    await h.call(UserRpc.disable, { tenantId: tenant.id, userId: ids[1]! });

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.call(UserRpc.list, { tenantId: tenant.id, limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((u) => u.email));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(emails);

    const prefixed = await h.call(UserRpc.list, { tenantId: tenant.id, email: 'A', limit: 50 });
    expect(prefixed.items.map((u) => u.email)).toEqual([
      'a1@list.test',
      'a2@list.test',
      'a3@list.test',
      'a_%@list.test',
    ]);
    // LIKE's wildcards stand for themselves.
    const literal = await h.call(UserRpc.list, { tenantId: tenant.id, email: 'a_%', limit: 50 });
    expect(literal.items.map((u) => u.email)).toEqual(['a_%@list.test']);
    const disabled = await h.call(UserRpc.list, {
      tenantId: tenant.id,
      status: 'disabled',
      limit: 50,
    });
    expect(disabled.items.map((u) => u.email)).toEqual(['a2@list.test']);
    expect(
      await h.failure(UserRpc.list, { tenantId: tenant.id, limit: 2, cursor: 'forged' }),
    ).toMatchObject({ code: ErrorCode.ValidationFailed, errors: [{ field: 'cursor' }] });
  });

  it('refuses an unknown tenant, and platform-operator roles outside the platform tenant', async () => {
    const tenant = h.addTenant('roles');
    expect(
      await h.failure(UserRpc.create, {
        tenantId: '01a00000-0000-7000-8000-00000000dead',
        email: 'x@roles.test',
        displayName: 'X',
      }),
    ).toMatchObject({ code: ErrorCode.NotFound, reason: 'TENANT_NOT_FOUND' });
    expect(
      await h.failure(UserRpc.create, {
        tenantId: tenant.id,
        email: 'x@roles.test',
        displayName: 'X',
        roles: ['platform-operator'],
      }),
    ).toMatchObject({ code: ErrorCode.ValidationFailed, errors: [{ field: 'roles' }] });
    expect(
      await h.failure(UserRpc.create, {
        tenantId: PLATFORM_TENANT_ID,
        email: 'op@roles.test',
        displayName: 'Op',
      }),
    ).toMatchObject({ code: ErrorCode.ValidationFailed, reason: 'USER_ROLES_NOT_ALLOWED' });
    await expect(
      h.call(UserRpc.create, {
        tenantId: PLATFORM_TENANT_ID,
        email: 'op@roles.test',
        displayName: 'Op',
        roles: ['platform-operator'],
      }),
    ).resolves.toMatchObject({ tenantId: PLATFORM_TENANT_ID, roles: ['platform-operator'] });
  });

  it('mails an invitation over SMTP whose link works once, and not after it expired or was replaced', async () => {
    const tenant = h.addTenant('invite', 'Invite Corp');
    const user = await h.call(
      UserRpc.create,
      { tenantId: tenant.id, email: 'new.hire@invite.test', displayName: 'New Hire' },
      OPERATOR,
    );
    const mail = await h.nextMail('new.hire@invite.test', 0);
    const token = tokenOf(mail);
    expect(mail.subject).toBe('You are invited to Invite Corp on Tenantry');
    expect(mail.text).toContain(
      `https://app.tenantry.test/accept-invitation?token=${encodeURIComponent(token)}`,
    );
    expect(mail.text).toContain('POST /v1/auth/invitations/accept');
    // Only a hash is stored; the mail's copy is dropped once sent.
    const [stored] = await h.db.query(`SELECT secret_hash FROM user_tokens WHERE id = $1`, [
      token.split('.')[0],
    ]);
    expect(stored.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await h.db.query(`SELECT * FROM user_tokens`))).not.toContain(
      token.split('.')[1],
    );
    const [queued] = await h.db.query(
      `SELECT body, sent_at FROM outgoing_mail WHERE recipient = $1`,
      ['new.hire@invite.test'],
    );
    expect(queued).toMatchObject({ body: '', sent_at: expect.any(Date) });

    // A password against the policy leaves the link usable.
    expect(
      await h.failure(AuthRpc.acceptInvitation, { token, password: 'short', client: client() }),
    ).toMatchObject({ code: ErrorCode.ValidationFailed, reason: 'PASSWORD_TOO_SHORT' });
    const tokens = await h.call(AuthRpc.acceptInvitation, {
      token,
      password: 'a long and lovely passphrase',
      displayName: 'New H.',
      client: client(),
    });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 600 });
    expect(await h.call(UserRpc.get, { tenantId: tenant.id, userId: user.id })).toMatchObject({
      status: 'active',
      displayName: 'New H.',
      lastLoginAt: expect.any(String),
    });
    expect(
      await h.failure(AuthRpc.acceptInvitation, {
        token,
        password: 'another long passphrase',
        client: client(),
      }),
    ).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'USER_TOKEN_INVALID' });

    // Expired: a fresh invitation whose expiry has passed.
    const late = await h.call(UserRpc.create, {
      tenantId: tenant.id,
      email: 'late@invite.test',
      displayName: 'Late',
    });
    const lateToken = tokenOf(await h.nextMail('late@invite.test', 0));
    await h.db.query(
      `UPDATE user_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [lateToken.split('.')[0]],
    );
    expect(
      await h.failure(AuthRpc.acceptInvitation, {
        token: lateToken,
        password: 'a long and lovely passphrase',
        client: client(),
      }),
    ).toMatchObject({ reason: 'USER_TOKEN_INVALID' });

    // Replaced: resending makes the earlier link stop working.
    await h.call(UserRpc.resendInvitation, { tenantId: tenant.id, userId: late.id });
    const resent = tokenOf(await h.nextMail('late@invite.test', 1));
    expect(
      await h.failure(AuthRpc.acceptInvitation, {
        token: lateToken,
        password: 'a long and lovely passphrase',
        client: client(),
      }),
    ).toMatchObject({ reason: 'USER_TOKEN_INVALID' });
    await expect(
      h.call(AuthRpc.acceptInvitation, {
        token: resent,
        password: 'a long and lovely passphrase',
        client: client(),
      }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });

    const [accepted] = await h.auditEvents(
      (e) => e.action === 'invitation.accepted' && e.target?.id === user.id,
    );
    expect(accepted!.actor).toEqual({ type: 'user', id: user.id });
  });

  it('resets a password by mail: once, only for active accounts, never saying whether one exists', async () => {
    const tenant = h.addTenant('reset', 'Reset Inc');
    const password = 'the first long password';
    const { userId, tokens } = await h.activeUser(tenant.id, 'forgetful@reset.test', password);
    const before = h.mails.length;
    for (const email of ['forgetful@reset.test', 'nobody@reset.test']) {
      await expect(
        h.call(AuthRpc.requestPasswordReset, { email, client: client() }),
      ).resolves.toEqual({ accepted: true });
    }
    const mail = await h.nextMail('forgetful@reset.test', 1);
    expect(mail.subject).toBe('Reset your Tenantry password');
    expect(mail.text).toContain('https://app.tenantry.test/reset-password?token=');
    expect(mail.text).toContain('POST /v1/auth/password-reset/complete');
    const token = tokenOf(mail);

    expect(
      await h.failure(AuthRpc.completePasswordReset, { token, password, client: client() }),
    ).toMatchObject({ reason: 'PASSWORD_REUSED', errors: [{ field: 'password' }] });
    await expect(
      h.call(AuthRpc.completePasswordReset, {
        token,
        password: 'a completely new password',
        client: client(),
      }),
    ).resolves.toEqual({ accepted: true });
    expect(
      await h.failure(AuthRpc.completePasswordReset, {
        token,
        password: 'yet another new password',
        client: client(),
      }),
    ).toMatchObject({ reason: 'USER_TOKEN_INVALID' });
    // Every session ended: the refresh token of the first sign-in is refused.
    expect(
      await h.failure(AuthRpc.refresh, { refreshToken: tokens.refreshToken, client: client() }),
    ).toMatchObject({ code: ErrorCode.Unauthenticated, reason: 'REFRESH_TOKEN_INVALID' });
    await expect(
      h.call(AuthRpc.login, {
        email: 'forgetful@reset.test',
        password: 'a completely new password',
        client: client(),
      }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });

    // An hour later the link would be dead.
    await h.call(AuthRpc.requestPasswordReset, { email: 'forgetful@reset.test', client: client() });
    const expired = tokenOf(await h.nextMail('forgetful@reset.test', 2));
    await h.db.query(
      `UPDATE user_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [expired.split('.')[0]],
    );
    expect(
      await h.failure(AuthRpc.completePasswordReset, {
        token: expired,
        password: 'a password from the future',
        client: client(),
      }),
    ).toMatchObject({ reason: 'USER_TOKEN_INVALID' });

    // Nothing went to the unknown address, nor to a disabled user.
    await h.call(UserRpc.disable, { tenantId: tenant.id, userId });
    await h.call(AuthRpc.requestPasswordReset, { email: 'forgetful@reset.test', client: client() });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sent = h.mails.slice(before).map((m) => m.to);
    expect(sent).toEqual(['forgetful@reset.test', 'forgetful@reset.test']);

    const events = await h.auditEvents(
      (e: AuditEvent) =>
        e.category === 'auth' && e.target?.id === userId && e.action.startsWith('password'),
      3,
    );
    expect(events.map((e) => e.action)).toEqual([
      'password-reset.requested',
      'password.reset',
      'password-reset.requested',
    ]);
    expect(events.every((e) => e.actor.type === 'user' && e.actor.id === userId)).toBe(true);
  });

  it('changes a password given the current one, against the history', async () => {
    const tenant = h.addTenant('change');
    const { userId } = await h.activeUser(tenant.id, 'changer@change.test', 'my current password');
    const actor = `user:${userId}`;
    expect(
      await h.failure(
        UserRpc.changePassword,
        {
          tenantId: tenant.id,
          userId,
          currentPassword: 'wrong',
          newPassword: 'a new good password',
        },
        actor,
      ),
    ).toMatchObject({
      reason: 'USER_CURRENT_PASSWORD_WRONG',
      errors: [{ field: 'currentPassword' }],
    });
    expect(
      await h.failure(
        UserRpc.changePassword,
        {
          tenantId: tenant.id,
          userId,
          currentPassword: 'my current password',
          newPassword: 'my current password',
        },
        actor,
      ),
    ).toMatchObject({ reason: 'PASSWORD_REUSED', errors: [{ field: 'newPassword' }] });
    await expect(
      h.call(
        UserRpc.changePassword,
        {
          tenantId: tenant.id,
          userId,
          currentPassword: 'my current password',
          newPassword: 'a new good password',
        },
        actor,
      ),
    ).resolves.toEqual({ changed: true });
    const [changed] = await h.auditEvents(
      (e) => e.action === 'password.changed' && e.target?.id === userId,
    );
    expect(changed!.actor).toEqual({ type: 'user', id: userId });
    expect(changed!.data).toBeUndefined();
  });
});
